#!/usr/bin/python3
"""Tests of tools/benchmark_stats.py on hand-computed examples (run by ctest: "tools: benchmark statistics")."""
import json
import math
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchmark_stats as bs  # noqa: E402


class Stats(unittest.TestCase):
    def test_t_interval(self):
        # 1..5: mean 3, s = √2.5, t(0.975, 4) = 2.776: half-width 2.776·√2.5/√5 = 1.96292...
        m, h = bs.mean_ci([1, 2, 3, 4, 5])
        self.assertEqual(m, 3)
        self.assertAlmostEqual(h, 2.776 * math.sqrt(2.5) / math.sqrt(5), places=12)
        # Two values 0, 2: s = √2, t(0.975, 1) = 12.706: half-width 12.706.
        self.assertAlmostEqual(bs.mean_ci([0, 2])[1], 12.706, places=12)
        self.assertTrue(math.isnan(bs.mean_ci([7])[1]))

    def test_exact_bootstrap(self):
        # d = (0, 2): resample means 0, 1, 2 with probabilities 1/4, 1/2, 1/4 → [0, 2].
        self.assertEqual(bs.bootstrap_ci([0, 2]), (0.0, 2.0))
        # d = (0, 0, 3): means k (k threes drawn, k ~ Bin(3, 1/3)): P = 8/27, 12/27, 6/27, 1/27;
        # cumulative 0.296, 0.741, 0.963, 1 → q(0.025) = 0, q(0.975) = 3.
        self.assertEqual(bs.bootstrap_ci([0, 0, 3]), (0.0, 3.0))
        # Five positive differences: all resamples drawing only 1 (or only 5) have probability
        # 5^-5 < 0.025, so the interval lies strictly inside (1, 5), and excludes 0: a positive
        # difference of a lower-is-better metric is "worse", of a higher-is-better one "better".
        lo, hi = bs.bootstrap_ci([1, 2, 3, 4, 5])
        self.assertGreater(lo, 1)
        self.assertLess(hi, 5)
        self.assertEqual(bs.verdict(lo, hi, higher_is_better=False), "worse")
        self.assertEqual(bs.verdict(lo, hi, higher_is_better=True), "better")
        self.assertEqual(bs.verdict(-1, 1, True), "≈")
        # Constant differences: a point interval.
        self.assertEqual(bs.bootstrap_ci([0.5] * 5), (0.5, 0.5))

    def test_round_off(self):
        self.assertEqual(bs.round_off(1e-14, 60.0), 0.0)
        self.assertEqual(bs.round_off(1e-6, 60.0), 1e-6)
        self.assertEqual(bs.round_off(-2e-10, 0.0), 0.0)

    def test_ranks(self):
        r = bs.mean_ranks({"a": 1.0, "b": 3.0, "c": 1.0, "d": math.nan})
        self.assertEqual(r, {"a": 1.5, "c": 1.5, "b": 3, "d": 4})
        self.assertEqual(bs.mean_ranks({"a": 1.0, "b": 3.0}, lower_is_better=False), {"b": 1, "a": 2})

    def test_replicate_values(self):
        # Two starts of one seed: one on the set, one diverged; volume of the one point (0.5, 0.25)
        # under (1, 1) is 0.5·0.75.
        runs = [{"status": "finished", "final_losses": [0.5, 0.25],
                 "pareto": {"distance": 0.0, "hit": True, "reference": [1, 1], "tolerance": 0.01, "weights": [0.3, 0.7]}},
                {"status": "diverged"}]
        v = bs.replicate_values(runs)
        self.assertEqual(v["distance"], math.inf)
        self.assertEqual(v["off_set"], math.inf)
        self.assertEqual(v["hit"], 0.5)
        self.assertEqual(v["hypervolume"], 0.375)
        self.assertEqual(v["failed"], 1)
        # Non-finite parameters (null distance and weights, a null loss): a miss, no volume, no crash.
        bad = {"status": "finished", "final_losses": [None, 0.5],
               "pareto": {"distance": None, "hit": False, "reference": [1, 1], "tolerance": 0.01, "weights": [None, None]}}
        v = bs.replicate_values([bad])
        self.assertEqual(v["distance"], math.inf)
        self.assertEqual(v["hypervolume"], 0.0)
        # A miss counts its distance; a hit within the tolerance counts 0 in "off_set".
        v = bs.replicate_values([runs[0], dict(runs[0], pareto=dict(runs[0]["pareto"], distance=0.5, hit=False))])
        self.assertEqual(v["distance"], 0.25)
        self.assertEqual(v["off_set"], 0.25)
        v = bs.replicate_values([runs[0], dict(runs[0], pareto=dict(runs[0]["pareto"], distance=0.004))])
        self.assertEqual(v["off_set"], 0.0)
        self.assertEqual(v["distance"], 0.002)

    def test_read_run_counts_a_failed_run(self):
        # A run that refused the problem has error.txt and no summary.json: "failed", not absent; a
        # run without either (not run yet, or interrupted) is absent.
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "sweep_run.json"), "w") as f:
                json.dump({"assignment": [["aggregator.name", "stch"], ["seed", 0]]}, f)
            self.assertIsNone(bs.read_run(d))
            with open(os.path.join(d, "error.txt"), "w") as f:
                f.write("stch: observe_losses: loss of task 1 is -19.4\n")
            self.assertEqual(bs.read_run(d)[1], {"status": "failed"})

    def test_delta_m(self):
        # Task 0 an accuracy (0.8 against the single-task 0.75: +0.05/0.75), task 1 a loss (2.0
        # against 2.5: −(2.0 − 2.5)/2.5 = +0.2): Δm = 100·(1/15 + 1/5)/2 = 13.333… %.
        run = {"eval": {"accuracy": [0.8, None], "loss": [0.6, 2.0]}}
        single = {0: {3: {"eval": {"accuracy": [0.75, 0.1], "loss": [0.7, 9.0]}}},
                  1: {3: {"eval": {"accuracy": [0.1, None], "loss": [9.0, 2.5]}}}}
        self.assertAlmostEqual(bs.delta_m(run, single, 3, 2), 100 * (0.05 / 0.75 + 0.2) / 2, places=12)
        self.assertTrue(math.isnan(bs.delta_m(run, single, 4, 2)))  # no baseline of seed 4

    def test_study_table(self):
        # sum and pcgrad on 3 seeds of one regression task pair; pcgrad's test loss is lower by
        # 0.1 on task 0 in every seed: Δm higher by 100·(0.1/1)/2 = 5 points, "better" [5, 5].
        with tempfile.TemporaryDirectory() as d:
            def put(name, assignment, baseline, losses):
                os.makedirs(os.path.join(d, "sw", name))
                with open(os.path.join(d, "sw", name, "sweep_run.json"), "w") as f:
                    json.dump({"assignment": assignment, "baseline_task": baseline}, f)
                with open(os.path.join(d, "sw", name, "summary.json"), "w") as f:
                    json.dump({"status": "finished", "seconds": 2.0, "task_names": ["a", "b"],
                               "eval": {"accuracy": [None, None], "loss": losses}}, f)
            for seed in range(3):
                put(f"sum{seed}", [["aggregator.name", "sum"], ["seed", seed]], -1, [1.0 + seed, 2.0])
                put(f"pc{seed}", [["aggregator.name", "pcgrad"], ["seed", seed]], -1, [0.9 + seed, 2.0])
                put(f"s0{seed}", [["single-task", "a"], ["seed", seed]], 0, [1.0, 5.0])
                put(f"s1{seed}", [["single-task", "b"], ["seed", seed]], 1, [5.0, 2.0])
            out = os.path.join(d, "t.md")
            bs.study(out, "T", [os.path.join(d, "sw")])
            with open(out) as f:
                text = f.read()
            # sum: Δm per seed = −100·seed/2 → 0, −50, −100: mean −50, t(0.975, 2)·50/√3 = 124.2.
            self.assertIn("| sum | 3 | 2 ± 2.5 | 2 ± 0 | -50 ± 1.2e+02 | — | 2.0 |", text)
            self.assertIn("| pcgrad | 3 | 1.9 ± 2.5 | 2 ± 0 | -45 ± 1.2e+02 | better [5, 5] | 2.0 |", text)
            self.assertIn("| single-task a | 3 |", text)
            # Seed 2 loses its baseline of task b: Δm over seeds 0, 1 only (0 and −50 for sum:
            # mean −25, t(0.975, 1)·35.36/√2 = 317.7), the comparison over those two seeds.
            os.remove(os.path.join(d, "sw", "s12", "summary.json"))
            bs.study(out, "T", [os.path.join(d, "sw")])
            with open(out) as f:
                text = f.read()
            self.assertIn("| sum | 3 | 2 ± 2.5 | 2 ± 0 | -25 ± 3.2e+02 (seeds 2) | — | 2.0 |", text)
            self.assertIn("| pcgrad | 3 | 1.9 ± 2.5 | 2 ± 0 | -20 ± 3.2e+02 (seeds 2) | better [5, 5] | 2.0 |", text)
            self.assertTrue(os.path.exists(os.path.join(d, "t.csv")))

    def test_stages_skip_required_options(self):
        listing = {"aggregators": [{"name": "sum", "schema": []},
                                   {"name": "weighted", "schema": [{"name": "weights", "required": True}]},
                                   {"name": "pcgrad", "schema": [{"name": "x", "required": False}]}]}
        self.assertEqual(bs.stages(listing), ["sum", "pcgrad"])


if __name__ == "__main__":
    unittest.main()
