"""Table of final task losses (mean ± std over seeds) for experiments/memory/run.sh.

    python3 summarize.py RUNS_DIR SETTING...   > results.md

RUNS_DIR/<setting>/<method>/seed<k>/summary.json; methods in the order of RUNS_DIR/methods.txt.
MMoE settings: held-out loss per task (summary "eval"."loss"); the toy: final f1, f2. The std is
the sample standard deviation (n - 1). Standard library only.
"""
import json
import os
import statistics
import sys

PARETO_X2 = -8.3552  # the toy's Pareto set: x2 = -8.3552, x1 in [-7, 7]

DESCRIPTION = {
    "mmoe_systematic": "MMoE (linear tasks, m = 0), 3 tasks, relatedness p = -0.45, noise_std 0.1, batch 32; hps_mlp "
                       "with a trunk of width 2 (a bottleneck for 3 task directions); sgd lr 0.03, 1500 steps "
                       "(systematic conflict); held-out loss per task",
    "mmoe_noise": "MMoE (linear tasks, m = 0), 3 tasks, relatedness p = +0.5, noise_std 1.5, batch 8; hps_mlp "
                  "with a trunk of width 32; sgd lr 0.03, 1500 steps (conflict from noise only); held-out loss "
                  "per task (noise floor 2.25)",
    "toy": "CAGrad's 2-D toy, sgd lr 0.003, 10000 steps; 'seeds' are the 5 starting points of CAGrad; "
           "final f1, f2; Pareto = runs ending within 1 of the Pareto set's x2 = -8.3552 (in its valley)",
}


def fmt(values):
    if len(values) < 2:
        return "%.4f" % values[0]
    return "%.4f ± %.4f" % (statistics.mean(values), statistics.stdev(values))


def main():
    root, settings = sys.argv[1], sys.argv[2:]
    methods = [m.strip() for m in open(os.path.join(root, "methods.txt")) if m.strip()]
    print("# Surgery with a memory: final task losses\n")
    print("Produced by `experiments/memory/run.sh` (mean ± std over 5 seeds). See docs/memory_experiment.md.\n")
    for setting in settings:
        rows, names = [], None
        for m in methods:
            d = os.path.join(root, setting, m)
            if not os.path.isdir(d):  # a method run.sh leaves out of this setting (NOTOY)
                continue
            seeds = sorted(s for s in os.listdir(d) if s.startswith("seed"))
            sums = [json.load(open(os.path.join(d, s, "summary.json"))) for s in seeds]
            names = sums[0]["task_names"]
            losses = [s["eval"]["loss"] if "eval" in s else s["final_losses"] for s in sums]
            agree = [json.load(open(os.path.join(d, s, "agreement.json"))) for s in seeds]
            T = len(names)
            cos = [statistics.mean(a["mean_cos"][i][j] for i in range(T) for j in range(i + 1, T)) for a in agree]
            rate = [statistics.mean(a["conflict_rate"][i][j] for i in range(T) for j in range(i + 1, T)) for a in agree]
            row = {"method": m, "n": len(sums), "tasks": [[l[t] for l in losses] for t in range(T)],
                   "mean": [statistics.mean(l) for l in losses], "cos": cos, "rate": rate}
            if setting == "toy":
                params = [json.load(open(os.path.join(d, s, "final_params.json"))) for s in seeds]
                row["pareto"] = sum(abs(p["x"]["data"][1] - PARETO_X2) < 1.0 for p in params)
            rows.append(row)
        best = min(statistics.mean(r["mean"]) for r in rows)
        print("## %s\n\n%s.\n" % (setting, DESCRIPTION.get(setting, setting)))
        head = ["method"] + names + ["mean over tasks", "mean cos", "conflict rate"]
        if setting == "toy":
            head.append("Pareto")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            mean = fmt(r["mean"])
            if statistics.mean(r["mean"]) == best:
                mean = "**" + mean + "**"
            cells = [r["method"]] + [fmt(v) for v in r["tasks"]] + [mean, "%.3f" % statistics.mean(r["cos"]),
                                                                     "%.3f" % statistics.mean(r["rate"])]
            if setting == "toy":
                cells.append("%d/%d" % (r["pareto"], r["n"]))
            print("| " + " | ".join(cells) + " |")
        print()
    print("mean cos and conflict rate: over the task pairs and the seeds, of the original task gradients "
          "along each run (the \"agreement\" observer).")


if __name__ == "__main__":
    main()
