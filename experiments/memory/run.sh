#!/usr/bin/env bash
# Surgery with a memory, measured (docs/memory_experiment.md, docs/algorithms.md "Surgery with a memory").
#
#   experiments/memory/run.sh [BUILD_DIR]      (default: build/; needs BUILD_DIR/mtlgrad)
#
# Three settings (configs/): (a) mmoe_systematic: linear MMoE tasks with negative relatedness
# p = -0.45, little noise and a trunk of width 2, so the shared gradients conflict systematically;
# (b) mmoe_noise: positive relatedness p = 0.5, noise_std 1.5, batches of 8 and a wide trunk, so
# conflicts come from mini-batch noise only;
# (c) toy: CAGrad's 2-D toy. The memory stages and, for comparison, the 2023-2025 stages
# (fairgrad, config, m-config, excessmtl, db-mtl, stch, gls, famo, gradnorm, sdmgrad, imtl, moco and
# cr-mogm over mgda), 5 seeds each: for the MMoE settings the seed changes the initialisation and
# the batch order (the data are the same); the toy has no randomness for T = 2, so its "seeds" are
# CAGrad's five starting points. Runs go to runs/memory/ (or $OUT), two at a time; the table of
# final task losses (mean ± std over the 5) goes to experiments/memory/results.md. Takes about
# five minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
bin=$build/mtlgrad
out=${OUT:-$root/runs/memory}
jobs=${JOBS:-2}
[ -x "$bin" ] || { echo "run.sh: no mtlgrad binary at $bin (build it, or pass the build directory)" >&2; exit 1; }

# method name | --set overrides. Momentum methods (heavy ball, nag) get lr x (1 - 0.9) so that
# their effective step lr / (1 - momentum) equals the others'.
methods=(
  "sum|aggregator.name=sum"
  "pcgrad|aggregator.name=pcgrad"
  "ada-pcgrad|aggregator.name=ada-pcgrad"
  "rmsprop-pcgrad|aggregator.name=rmsprop-pcgrad"
  "adam-pcgrad|aggregator.name=adam-pcgrad"
  "pcgrad-momentum|aggregator.name=pcgrad-momentum"
  "pcgrad+heavy-ball|aggregator.name=pcgrad optimizer.momentum=0.9 LRx0.1"
  "pcgrad+nag|aggregator.name=pcgrad optimizer.name=nag optimizer.momentum=0.9 LRx0.1"
  "fairgrad|aggregator.name=fairgrad"
  "config|aggregator.name=config"
  "m-config|aggregator.name=m-config"
  "excessmtl|aggregator.name=excessmtl"
  "db-mtl|aggregator.name=db-mtl"
  "stch|aggregator.name=stch"
  "gls|aggregator.name=gls"
  "famo|aggregator.name=famo NOTOY"
  "gradnorm|aggregator.name=gradnorm NOTOY"
  "sdmgrad|aggregator.name=sdmgrad"
  "imtl|aggregator.name=imtl NOTOY"
  "moco|aggregator.name=moco NOTOY"
  "cr-mogm|aggregator.name=cr-mogm"
)
settings=(mmoe_systematic mmoe_noise toy)
starts=("[-8.5,7.5]" "[0,0]" "[9,9]" "[-7.5,-0.5]" "[9,-1]")

lr_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['optimizer']['lr'])" "$1"; }

mkdir -p "$out"
for m in "${methods[@]}"; do echo "${m%%|*}"; done >"$out/methods.txt"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
for setting in "${settings[@]}"; do
  cfg=$here/configs/$setting.json
  lr=$(lr_of "$cfg")
  for m in "${methods[@]}"; do
    name=${m%%|*}
    # The toy's losses go below 0; these stages take their logarithm (an error for L <= 0).
    case "$setting/$name" in toy/db-mtl | toy/stch | toy/gls) continue ;; esac
    sets=()
    # NOTOY: the stages that take ratios or logarithms of the losses need them positive; the toy's
    # go negative, so they run on the MMoE settings only.
    [[ "$setting" = toy && " ${m#*|} " = *" NOTOY "* ]] && continue
    for s in ${m#*|}; do
      [ "$s" = NOTOY ] && continue
      if [ "$s" = LRx0.1 ]; then sets+=(--set "optimizer.lr=$(python3 -c "print($lr * 0.1)")")
      else sets+=(--set "$s"); fi
    done
    for seed in 0 1 2 3 4; do
      extra=(--set "seed=$seed")
      [ "$setting" = toy ] && extra=(--set "model.start=${starts[$seed]}")
      dir=$out/$setting/$name/seed$seed
      mkdir -p "$dir"
      cmd=$(printf '%q ' "$bin" run "$cfg" "${sets[@]}" "${extra[@]}" --quiet --json --out "$dir")
      printf '%s >%q 2>%q || { echo "FAILED (see %q)" >&2; exit 255; }\0' "$cmd" "$dir/stdout.json" "$dir/stderr.log" \
        "$dir/stderr.log" >>"$list"
    done
  done
done
echo "run.sh: $(tr -cd '\0' <"$list" | wc -c) runs into $out, $jobs at a time" >&2
start=$(date +%s)
xargs -0 -P "$jobs" -n 1 bash -c <"$list"
echo "run.sh: done in $(( $(date +%s) - start )) s" >&2
python3 "$here/summarize.py" "$out" "${settings[@]}" >"$here/results.md"
echo "run.sh: wrote $here/results.md" >&2
