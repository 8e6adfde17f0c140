#!/usr/bin/env bash
# Runs the shards of one toy sweep at once, each in its own pid namespace (as on the nodes of a
# cluster: every shard is pid 1 of its namespace), into one shared folder, REPEATS times, and counts
# the repetitions in which a shard failed. Needs root (unshare --pid). Measures the shard race of
# issue #13: `tools/shard_race.sh build/mtlgrad 20 6`.
set -u
bin=${1:?usage: shard_race.sh MTLGRAD_BINARY [REPEATS] [SHARDS]}
repeats=${2:-20}
shards=${3:-6}
unshare --pid --fork --mount-proc true || { echo "shard_race: unshare --pid does not work here" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for ((r = 0; r < repeats; ++r)); do
  pids=()
  for ((i = 0; i < shards; ++i)); do
    (cd "$here" && exec unshare --pid --fork --mount-proc "$bin" sweep models/configs/toy2d.json \
      --set steps=20 --set log_every=10 --no-plots --jobs 1 \
      --grid aggregator.name=sum,pcgrad --grid seed=0,1,2,3,4,5 \
      --shard "$i/$shards" --out "$work/shared$r") > "$work/log$r.$i" 2>&1 &
    pids+=($!)
  done
  bad=0
  for ((i = 0; i < shards; ++i)); do wait "${pids[$i]}" || bad=$((bad + 1)); done
  if ((bad > 0)); then
    failed=$((failed + 1))
    echo "repeat $r: $bad of $shards shards failed: $(grep -h -m1 'error' "$work"/log$r.* | head -1)"
  fi
done
echo "$failed of $repeats repeats had a failed shard"
