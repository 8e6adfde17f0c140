#!/usr/bin/python3
"""The statistics of experiments/benchmark (docs/benchmark.md): tables, paired comparisons, ranking.

    benchmark_stats.py stages < `mtlgrad list --json`      the spatial stages runnable with their
                                                          defaults (no required option), one a line
    benchmark_stats.py report RUNS_DIR OUT_DIR            reads RUNS_DIR/<problem>/<run>/summary.json,
                                                          writes OUT_DIR/results.md and results.csv
    benchmark_stats.py study OUT.md TITLE SWEEP_DIR...    the Δm study of sweeps run with --baselines
                                                          (no known front: MMoE, LeNet MultiFashion),
                                                          one section per sweep directory (or per
                                                          DIR1+DIR2: their runs together), into OUT.md
                                                          (and OUT.csv)

Units. Every problem is run from 4 starts under each of 5 seeds; the 5 seeds are the replicates
(a run's replicate is seed mod 5: the random-start problems use seeds 0..19, so that every run
draws its own start, the toy uses seeds 0..4 × 4 fixed starts). Per method and replicate:
  - distance: the mean over its starts of summary.json pareto.distance (exact distance of the
    final parameters to the Pareto set);
  - hit: the fraction of its starts with distance <= pareto.tolerance;
  - hypervolume: of the set of its starts' final loss vectors against pareto.reference (exact, by
    inclusion–exclusion: at most 4 points; the C++ sweep algorithms of src/models/pareto_front.cpp
    agree with it on the sets of tools/gen_hypervolume_reference.py);
  - w_1 (and w_2 for 3 tasks): the weight of task 1 at the closest Pareto point, averaged: where on
    the front the method lands; its spread over all runs (the sample std) says whether it lands in
    one place or follows the start.
A run that failed (diverged, or refused the problem, e.g. a stage that takes the log of a loss on the
toy's negative losses: an error.txt and no summary.json), or ended with non-finite parameters (a null
distance), counts as a miss with distance +inf and adds no volume; the tables count the failed runs.

mean ± 95 % CI: over the 5 replicate values, Student's t interval, mean ± t(0.975, n − 1)·s/√n.

Distances within the hit tolerance are all "on the set": the comparison and the ranking use the
distance with every hit counted as 0 (so that 1e-16 against 3e-16 is no difference), the table
shows the distance itself.

Hypervolume differences below 1e-9 of sum's value are rounding (the same point reached by other
arithmetic) and count as 0.

Paired comparison against sum: per replicate the difference d_r = metric(method, r) − metric(sum, r)
(the same seeds, so the same starts); the exact paired bootstrap of the mean difference: all n^n
resamples with replacement of the n differences are enumerated (3125 for n = 5), so the 95 %
percentile interval [q(0.025), q(0.975)] has no Monte-Carlo noise; "better" / "worse" when the
interval excludes 0 (lower distance, higher hit rate and hypervolume are better), else "≈". With
n = 5 this is a coarse screen (five differences of one sign are always "better" or "worse").

Studies without a known front (`study`): the 5 seeds are the replicates. Per run the held-out
metric of each task from summary.json eval: the accuracy of a classification task (higher is
better), the loss of a regression task (lower is better); per seed
  Δm = 100 · (1/T) Σ_i (−1)^{l_i} (M_i − M_single,i) / |M_single,i|
(l_i = 1 for a loss, 0 for an accuracy; M_single,i the single-task baseline of task i under the same
seed), the sweep table's Δm but per seed, so positive = better than single-task training. Each
cell mean ± 95 % t-interval over the seeds; vs sum: the exact paired bootstrap above on the per-seed
differences of Δm (method − sum, same seed). A run that did not finish is counted and left out; a
seed without both baselines has no Δm (the cell says over how many seeds Δm is, when fewer).

Ranking: per problem the methods by mean distance (ties share the mean rank), then the mean rank
over the problems; the same by hypervolume.
"""
import csv
import itertools
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_hypervolume_reference import hypervolume  # noqa: E402

REPLICATES = 5
# t(0.975, df) for df = 1..30
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]


def mean_ci(values):
    """(mean, half-width of the 95 % t interval); half-width NaN for fewer than 2 finite values, inf
    when a value is infinite."""
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return math.nan, math.nan
    if not np.all(np.isfinite(v)):
        return float(np.mean(v)), math.nan
    m = float(np.mean(v))
    if len(v) < 2:
        return m, math.nan
    t = T975[len(v) - 2] if len(v) - 1 <= len(T975) else 1.960
    return m, t * float(np.std(v, ddof=1)) / math.sqrt(len(v))


def bootstrap_ci(diffs, level=0.95):
    """The exact paired bootstrap interval of the mean of `diffs`: every one of the n^n ordered
    resamples enumerated; returns (q_lo, q_hi), the smallest values whose cumulative probability
    reaches (1 − level)/2 and (1 + level)/2."""
    d = np.asarray(diffs, dtype=np.float64)
    n = len(d)
    if n == 0 or n > 8 or not np.all(np.isfinite(d)):
        return math.nan, math.nan
    means = np.zeros(n ** n)
    for k, idx in enumerate(itertools.product(range(n), repeat=n)):
        means[k] = d[list(idx)].mean()
    means.sort()
    lo_a, hi_a = (1 - level) / 2, (1 + level) / 2
    cum = np.arange(1, len(means) + 1) / len(means)
    lo = means[np.searchsorted(cum, lo_a - 1e-12)]
    hi = means[np.searchsorted(cum, hi_a - 1e-12)]
    return float(lo), float(hi)


def round_off(diff, scale):
    """A difference below 1e-9 of the compared value is rounding (the same point reached by other
    arithmetic), not a difference: 0."""
    return 0.0 if abs(diff) <= 1e-9 * max(1.0, abs(scale)) else diff


def verdict(lo, hi, higher_is_better):
    if math.isnan(lo) or math.isnan(hi):
        return "n/a"
    if lo > 0:
        return "better" if higher_is_better else "worse"
    if hi < 0:
        return "worse" if higher_is_better else "better"
    return "≈"


def mean_ranks(scores, lower_is_better=True):
    """Ranks 1..k of `scores` (a dict name -> value; NaN ranks last), ties sharing the mean rank."""
    def key(v):
        if math.isnan(v):
            return math.inf
        return v if lower_is_better else -v
    names = sorted(scores, key=lambda n: key(scores[n]))
    ranks, i = {}, 0
    while i < len(names):
        j = i
        while j + 1 < len(names) and key(scores[names[j + 1]]) == key(scores[names[i]]):
            j += 1
        for k in range(i, j + 1):
            ranks[names[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def stages(listing):
    return [a["name"] for a in listing["aggregators"] if not any(o.get("required") for o in a.get("schema", []))]


def read_run(d):
    """(sweep_run.json, summary) of a run directory; a run that failed without a summary (its
    error.txt) has the summary {"status": "failed"}; None for a run not (yet) finished."""
    sr, sm, err = (os.path.join(d, n) for n in ("sweep_run.json", "summary.json", "error.txt"))
    if not os.path.isfile(sr) or not (os.path.isfile(sm) or os.path.isfile(err)):
        return None
    with open(sr) as f:
        run = json.load(f)
    if not os.path.isfile(sm):
        return run, {"status": "failed"}
    with open(sm) as f:
        return run, json.load(f)


def load_problem(path):
    """{method: {replicate: [run dicts]}} from one sweep directory."""
    out = {}
    for name in sorted(os.listdir(path)):
        r = read_run(os.path.join(path, name))
        if r is None:
            continue
        assignment = dict((k, v) for k, v in r[0]["assignment"])
        s = r[1]
        method = assignment.get("aggregator.name", "sum")
        seed = int(assignment.get("seed", 0))
        out.setdefault(method, {}).setdefault(seed % REPLICATES, []).append(s)
    return out


def replicate_values(runs):
    """The per-replicate metrics of one method's runs of one replicate."""
    dist, off, hits, pts, ref, weights, tol = [], [], [], [], None, [], None
    for s in runs:
        p = s.get("pareto")
        # A finished run whose parameters are not finite has a null distance: a miss, like a diverged one.
        if s.get("status") != "finished" or p is None or not isinstance(p.get("distance"), (int, float)):
            dist.append(math.inf)
            off.append(math.inf)
            hits.append(0.0)
            continue
        dist.append(p["distance"])
        off.append(0.0 if p["hit"] else p["distance"])
        hits.append(1.0 if p["hit"] else 0.0)
        ref, tol = p["reference"], p["tolerance"]
        weights.append(p["weights"])
        if all(isinstance(v, (int, float)) and math.isfinite(v) for v in s["final_losses"]):
            pts.append(s["final_losses"])
    hv = hypervolume(pts, ref) if pts and ref else 0.0
    return {"distance": float(np.mean(dist)), "off_set": float(np.mean(off)), "hit": float(np.mean(hits)), "hypervolume": hv, "weights": weights,
            "runs": len(runs), "failed": sum(1 for s in runs if s.get("status") != "finished"), "tolerance": tol}


def fmt(m, h, digits=3):
    if math.isnan(m):
        return "—"
    if math.isinf(m):
        return "∞"
    return f"{m:.{digits}g}" + ("" if math.isnan(h) else f" ± {h:.2g}")


def report(runs_dir, out_dir):
    problems = [p for p in sorted(os.listdir(runs_dir)) if os.path.isdir(os.path.join(runs_dir, p))]
    md = ["# Known-front benchmark: results", "",
          "Produced by `experiments/benchmark/run` (tools/benchmark_stats.py); docs/benchmark.md explains "
          "the problems, the measures and how to read this. Per problem and spatial stage: 4 starts × 5 seeds; "
          "mean ± 95 % t-interval over the 5 seeds (each seed's value is the mean over its 4 starts, the "
          "hypervolume that of its 4 final loss vectors). vs sum: the exact paired bootstrap 95 % interval of "
          "the mean difference over seeds (better / worse when it excludes 0, else ≈; distances within the "
          "hit tolerance count as 0, hypervolume differences below 1e-9 of sum's as 0).", ""]
    rows_csv = []
    ranks_d, ranks_h = {}, {}
    for prob in problems:
        data = load_problem(os.path.join(runs_dir, prob))
        # A sweep without a known front (the LeNet study beside them) is not a problem of this table.
        if not data or not any(s.get("pareto") for reps_ in data.values() for rs in reps_.values() for s in rs):
            continue
        per = {m: {r: replicate_values(v) for r, v in reps.items()} for m, reps in data.items()}
        reps = sorted(set().union(*[set(v) for v in per.values()]))
        T = None
        md += [f"## {prob}", ""]
        header = "| stage | distance | hit rate | hypervolume | w₁ (spread) | failed | vs sum: distance | vs sum: hypervolume |"
        md += [header, "|" + "---|" * 8]
        means_d, means_h = {}, {}
        for m in sorted(per):
            vals = per[m]
            d = [vals[r]["distance"] if r in vals else math.nan for r in reps]
            h = [vals[r]["hit"] if r in vals else math.nan for r in reps]
            hv = [vals[r]["hypervolume"] if r in vals else math.nan for r in reps]
            w = [x for r in reps if r in vals for x in vals[r]["weights"]]
            T = len(w[0]) if w else T
            w1 = [x[0] for x in w]
            dm, dh = mean_ci(d)
            hm, hh = mean_ci(h)
            vm, vh = mean_ci(hv)
            means_h[m] = vm
            cmp_d = cmp_h = "—"
            means_d[m] = mean_ci([vals[r]["off_set"] if r in vals else math.nan for r in reps])[0]
            if m != "sum" and "sum" in per:
                s = per["sum"]
                dd = [vals[r]["off_set"] - s[r]["off_set"] for r in reps if r in vals and r in s]
                dv = [round_off(vals[r]["hypervolume"] - s[r]["hypervolume"], s[r]["hypervolume"])
                      for r in reps if r in vals and r in s]
                lo, hi = bootstrap_ci(dd)
                cmp_d = f"{verdict(lo, hi, False)} [{lo:.2g}, {hi:.2g}]" if not math.isnan(lo) else "n/a"
                lo, hi = bootstrap_ci(dv)
                cmp_h = f"{verdict(lo, hi, True)} [{lo:.2g}, {hi:.2g}]" if not math.isnan(lo) else "n/a"
            div = sum(vals[r]["failed"] for r in vals)
            nruns = sum(vals[r]["runs"] for r in vals)
            wcell = f"{np.mean(w1):.2f} ({np.std(w1, ddof=1) if len(w1) > 1 else 0:.2f})" if w1 else "—"
            md.append(f"| {m} | {fmt(dm, dh)} | {fmt(hm, hh, 2)} | {fmt(vm, vh, 4)} | {wcell} | {div}/{nruns} | {cmp_d} | {cmp_h} |")
            rows_csv.append({"problem": prob, "stage": m, "distance_mean": dm, "distance_ci95": dh, "hit_mean": hm,
                             "hit_ci95": hh, "hypervolume_mean": vm, "hypervolume_ci95": vh,
                             "w1_mean": float(np.mean(w1)) if w1 else math.nan,
                             "w1_std": float(np.std(w1, ddof=1)) if len(w1) > 1 else math.nan,
                             "failed": div, "runs": nruns, "vs_sum_distance": cmp_d, "vs_sum_hypervolume": cmp_h})
        tol = next((v["tolerance"] for reps_ in per.values() for v in reps_.values() if v["tolerance"]), None)
        md += ["", f"Hit: distance ≤ {tol}. Reference point of the hypervolume: "
               "(" + ", ".join(f"{v:g}" for v in next((s['pareto']['reference'] for reps_ in data.values() for rs in reps_.values()
                                                   for s in rs if s.get('pareto')), [])) + ").", ""]
        if os.path.exists(os.path.join(runs_dir, prob, "front.png")):
            md += [f"Front plot: {prob}/front.png of the runs directory (the run script copies it to "
                   f"docs/images/benchmark_{prob}.png).", ""]
        ranks_d[prob] = mean_ranks(means_d, True)
        ranks_h[prob] = mean_ranks(means_h, False)
    methods = sorted(set().union(*[set(r) for r in ranks_d.values()])) if ranks_d else []
    md += ["## Ranking", "", "Mean rank over the problems (1 = best) by mean distance to the Pareto set and by mean "
           "hypervolume; per-problem ranks in brackets, problems in the order " + ", ".join(ranks_d) + ".", "",
           "| stage | mean rank (distance) | mean rank (hypervolume) |", "|---|---|---|"]
    table = []
    for m in methods:
        rd = [ranks_d[p].get(m, math.nan) for p in ranks_d]
        rh = [ranks_h[p].get(m, math.nan) for p in ranks_h]
        table.append((float(np.mean(rd)), float(np.mean(rh)), m, rd, rh))
    for md_, mh, m, rd, rh in sorted(table):
        md.append(f"| {m} | {md_:.2f} [{', '.join(f'{x:g}' for x in rd)}] | {mh:.2f} [{', '.join(f'{x:g}' for x in rh)}] |")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.md.tmp"), "w") as f:
        f.write("\n".join(md) + "\n")
    os.replace(os.path.join(out_dir, "results.md.tmp"), os.path.join(out_dir, "results.md"))
    with open(os.path.join(out_dir, "results.csv.tmp"), "w", newline="") as f:
        if rows_csv:
            w = csv.DictWriter(f, fieldnames=list(rows_csv[0]))
            w.writeheader()
            w.writerows(rows_csv)
    os.replace(os.path.join(out_dir, "results.csv.tmp"), os.path.join(out_dir, "results.csv"))


def load_study(section):
    """({method: {seed: summary}}, {task: {seed: summary}}) of one section: a sweep directory with
    baselines, or several joined by '+' (e.g. the sum-and-baselines sweep + the other stages')."""
    methods, single = {}, {}
    runs = [os.path.join(path, name) for path in section.split("+") for name in sorted(os.listdir(path))]
    for d in runs:
        r = read_run(d)
        if r is None:
            continue
        run, summary = r
        assignment = dict((k, v) for k, v in run["assignment"])
        seed = int(assignment.get("seed", 0))
        if run.get("baseline_task", -1) >= 0:
            single.setdefault(int(run["baseline_task"]), {})[seed] = summary
        else:
            methods.setdefault(assignment.get("aggregator.name", "sum"), {})[seed] = summary
    return methods, single


def task_metric(summary, task):
    """(value, higher_is_better) of a task's held-out metric: accuracy when it has one, else the loss."""
    ev = summary.get("eval") or {}
    acc = (ev.get("accuracy") or [None] * (task + 1))[task]
    if isinstance(acc, (int, float)):
        return float(acc), True
    loss = (ev.get("loss") or [None] * (task + 1))[task]
    return (float(loss) if isinstance(loss, (int, float)) else math.nan), False


def delta_m(summary, baselines, seed, tasks):
    terms = []
    for i in range(tasks):
        if i not in baselines or seed not in baselines[i]:
            return math.nan
        m, higher = task_metric(summary, i)
        b, _ = task_metric(baselines[i][seed], i)
        terms.append((1 if higher else -1) * (m - b) / abs(b))
    return 100.0 * float(np.mean(terms))


def section_name(section):
    return "+".join(os.path.basename(os.path.normpath(p)) for p in section.split("+"))


def study(out_md, title, dirs):
    md = [f"# {title}", "",
          "Produced by tools/benchmark_stats.py study from the runs (docs/benchmark.md says how to read it). Per "
          "stage: the held-out metric of each task (accuracy of a classification task, loss of a regression task), "
          "Δm (%) against the single-task baselines of the same seed (positive = better than single-task "
          "training), mean ± 95 % t-interval over the seeds; vs sum: the exact paired bootstrap 95 % interval of "
          "the mean per-seed difference of Δm (better / worse when it excludes 0, else ≈); s/run: the mean wall "
          "time of a run as the run measured it (summary.json seconds; the machine was shared).", ""]
    rows_csv = []
    for path in dirs:
        methods, single = load_study(path)
        any_run = next((r for runs in methods.values() for r in runs.values() if r.get("status") == "finished"), None)
        if any_run is None:
            failed = sum(len(runs) for runs in list(methods.values()) + list(single.values()))
            md += [f"## {section_name(path)}", "", f"No finished run ({failed} failed).", ""]
            continue
        names = any_run.get("task_names", [])
        T = len(names)
        kinds = ["acc" if task_metric(any_run, i)[1] else "test loss" for i in range(T)]
        md += [f"## {section_name(path)}", "",
               "| stage | seeds | " + " | ".join(f"{k} {n}" for k, n in zip(kinds, names)) +
               " | Δm (%) | vs sum: Δm | s/run |", "|" + "---|" * (T + 5)]
        groups = [(m, methods[m]) for m in sorted(methods)] + [(f"single-task {names[i]}", single[i]) for i in sorted(single)]
        ok_sum = {s: r for s, r in methods.get("sum", {}).items() if r.get("status") == "finished"}
        for m, runs in groups:
            ok = {s: r for s, r in runs.items() if r.get("status") == "finished"}
            seeds = sorted(ok)
            cells = []
            row = {"section": section_name(path), "stage": m, "seeds": len(seeds),
                   "failed": len(runs) - len(ok)}
            for i in range(T):
                mm, hh = mean_ci([task_metric(ok[s], i)[0] for s in seeds])
                cells.append(fmt(mm, hh, 4))
                row[f"{kinds[i].replace(' ', '_')}_{names[i]}_mean"], row[f"{kinds[i].replace(' ', '_')}_{names[i]}_ci95"] = mm, hh
            baseline_row = m.startswith("single-task ")
            # A seed whose baselines did not finish has no Δm: left out of Δm and of the comparison.
            dms = {s: v for s in seeds for v in [delta_m(ok[s], single, s, T)] if math.isfinite(v)}
            dm, dh = (math.nan, math.nan) if baseline_row else mean_ci(list(dms.values()))
            cmp = "—"
            if not baseline_row and m != "sum" and ok_sum:
                sums = {s: delta_m(ok_sum[s], single, s, T) for s in ok_sum}
                diffs = [dms[s] - sums[s] for s in dms if s in sums and math.isfinite(sums[s])]
                lo, hi = bootstrap_ci(diffs)
                cmp = f"{verdict(lo, hi, True)} [{lo:.2g}, {hi:.2g}]" if not math.isnan(lo) else "n/a"
            secs = [r["seconds"] for r in ok.values() if isinstance(r.get("seconds"), (int, float))]
            sec = f"{np.mean(secs):.1f}" if secs else "—"
            failed = f" ({row['failed']} failed)" if row["failed"] else ""
            dcell = "—" if baseline_row else fmt(dm, dh, 3) + ("" if len(dms) == len(seeds) else f" (seeds {len(dms)})")
            md.append(f"| {m} | {len(seeds)}{failed} | " + " | ".join(cells) + f" | {dcell} | {cmp} | {sec} |")
            row.update({"delta_m_mean": dm, "delta_m_ci95": dh, "vs_sum_delta_m": cmp,
                        "seconds_mean": float(np.mean(secs)) if secs else math.nan})
            rows_csv.append(row)
        md.append("")
    base = out_md[:-3] if out_md.endswith(".md") else out_md
    with open(out_md + ".tmp", "w") as f:
        f.write("\n".join(md) + "\n")
    os.replace(out_md + ".tmp", out_md)
    with open(base + ".csv.tmp", "w", newline="") as f:
        if rows_csv:
            keys = []
            for r in rows_csv:
                keys += [k for k in r if k not in keys]
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(rows_csv)
    os.replace(base + ".csv.tmp", base + ".csv")


def main(argv):
    if len(argv) == 2 and argv[1] == "stages":
        print("\n".join(stages(json.load(sys.stdin))))
        return 0
    if len(argv) == 4 and argv[1] == "report":
        report(argv[2], argv[3])
        return 0
    if len(argv) >= 5 and argv[1] == "study":
        study(argv[2], argv[3], argv[4:])
        return 0
    sys.stderr.write("usage: benchmark_stats.py stages < listing.json | report RUNS_DIR OUT_DIR"
                     " | study OUT.md TITLE SWEEP_DIR...\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
