#!/usr/bin/python3
"""The spatial stages' cost versus the number of tasks T: runs `mtlgrad_bench --case stage_t`
(CPU time, one BLAS thread), draws ms per aggregation against T, one line per stage, log-log
(gnuplot), and prints the markdown table of docs/performance.md.

Usage (from the source tree):

    /usr/bin/python3 tools/plot_stage_t.py --bench build/bench/mtlgrad_bench \
        --json stage_t.json --png docs/img/stage_t.png

--from-json FILE draws and prints from a saved run instead of running the bench. No argument ever
reaches a shell: the bench and gnuplot run as argument lists, and gnuplot only sees file names of
its own temporary directory (the PNG is moved to --png afterwards).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


def run_bench(bench, tasks, stages, min_seconds):
    cmd = [bench, "--cpu-clock", "--threads", "1", "--case", "stage_t", "--min-reps", "5",
           "--min-seconds", str(min_seconds), "--stage-t-tasks", *[str(t) for t in tasks]]
    if stages:
        cmd += ["--stages", *stages]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, env=env)
    return json.loads(out.stdout)


def stages_of(rows):
    names = []
    for r in rows:
        for name in r["stage_ms"]:
            if name not in names:
                names.append(name)
    return names


def table(rows):
    names = stages_of(rows)
    Ts = [r["T"] for r in rows]
    lines = ["| stage | " + " | ".join(f"T = {t}" for t in Ts) + " |",
             "|---|" + "---|" * len(Ts)]
    step = ["step (pcgrad + adam), ms"]
    for r in rows:
        step.append(f"{r['step_ms']:.1f}" if "step_ms" in r else "—")
    lines.append("| " + " | ".join(step) + " |")
    for name in names:
        cells = [name]
        for r in rows:
            ms = r["stage_ms"].get(name)
            if ms is None:
                cells.append("skipped")
                continue
            cell = f"{ms:.3g}"
            share = r.get("share_of_step", {}).get(name)
            if share is not None:
                cell += f" ({100 * share:.1f}%)"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows, png):
    names = stages_of(rows)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "stage_t.dat")
        with open(data, "w") as f:
            for name in names:
                f.write(f'# "{name}"\n')
                last_p = None
                for r in rows:
                    ms = r["stage_ms"].get(name)
                    if last_p is not None and r["P"] != last_p:
                        f.write("\n")  # another J (P): gnuplot breaks the line here
                    last_p = r["P"]
                    if ms is not None and ms > 0:
                        f.write(f"{r['T']} {ms}\n")
                f.write("\n\n")
        plots = []
        for k, name in enumerate(names):
            # Stage names come from the bench's JSON (the registry's names); quote-safe anyway.
            title = name.replace('"', "").replace("\\", "")
            plots.append(f'"stage_t.dat" index {k} using 1:2 with linespoints title "{title}"')
        script = "\n".join([
            'set terminal pngcairo size 1000,700 font ",10"',
            'set output "stage_t.png"',
            "set logscale xy",
            'set xlabel "tasks T"',
            'set ylabel "ms per aggregation (CPU time, G given)"',
            'set title "spatial stages vs T: the 784-256-256 trainer\'s J (P = 266 752) for T <= 64, N(0,1) J with P = 10 000 beyond"',
            "set key outside right",
            "set grid",
            "set xtics (2, 4, 8, 16, 32, 64, 128, 256, 500)",
            "plot " + ", \\\n  ".join(plots),
        ]) + "\n"
        with open(os.path.join(tmp, "stage_t.gp"), "w") as f:
            f.write(script)
        subprocess.run(["gnuplot", "stage_t.gp"], check=True, cwd=tmp)
        tmp_png = png + ".tmp"
        shutil.copyfile(os.path.join(tmp, "stage_t.png"), tmp_png)
        os.replace(tmp_png, png)  # never a half-written PNG at --png


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="build/bench/mtlgrad_bench")
    ap.add_argument("--from-json", help="plot a saved run instead of running the bench")
    ap.add_argument("--json", help="save the bench's JSON here")
    ap.add_argument("--png", default="docs/img/stage_t.png")
    ap.add_argument("--tasks", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64, 128, 256, 500])
    ap.add_argument("--stages", nargs="+", help="default: the bench's list")
    ap.add_argument("--min-seconds", type=float, default=0.3)
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            out = json.load(f)
    else:
        out = run_bench(a.bench, a.tasks, a.stages, a.min_seconds)
        if a.json:
            with open(a.json + ".tmp", "w") as f:
                json.dump(out, f, indent=1)
            os.replace(a.json + ".tmp", a.json)
    rows = out.get("stage_t")
    if not rows:
        sys.exit("plot_stage_t: no stage_t rows in the bench's output")
    print(table(rows))
    plot(rows, a.png)
    print(f"\nwrote {a.png}", file=sys.stderr)


if __name__ == "__main__":
    main()
