#!/usr/bin/env python3
"""PCGrad as five public implementations do it, written out in numpy, independent of mtlgrad.

Each function below follows one code line by line, on the rows g_i of J (not on the Gramian, as
mtlgrad does), with one change: where the code draws a random order (random.shuffle), the order
is an argument, so that a result can be compared exactly.

  paper           Yu et al. 2020, Algorithm 1 (and TorchJD): per task a fresh order, j = i skipped,
                  no epsilon, d = sum
  seed_blog       the PCGrad blog post's code: ONE shuffle per step for every task, j = i visited,
                  1e-12 added to ||g_j||^2, d = sum
  libmtl          LibMTL weighting/PCGrad.py: per task a fresh shuffle, j = i visited,
                  1e-8 added to ||g_j||^2, d = sum
  official_tf     tianheyu927/PCGrad PCGrad_tf.py: tf.random.shuffle(loss)'s result is discarded,
                  so the order is 0..T-1; k = i visited; inner / ||g_k||^2 with no epsilon (0/0 = NaN
                  for a zero row); tf.minimum(proj, 0) projects only when the inner product is < 0
  pytorch_pcgrad  WeiChengTseng/Pytorch-PCGrad pcgrad.py: per task random.shuffle(grads) of the
                  originals, j = i visited, no epsilon, then .mean(dim=0) whatever `reduction` says

    python3 tools/gen_pcgrad_variants.py            # writes tests/fixtures/pcgrad_variants.json
    python3 tools/gen_pcgrad_variants.py --docs     # the tables of docs/pcgrad-implementations.md
"""
import argparse
import itertools
import json
import os

import numpy as np


def paper(J, orders):
    """orders[i]: the order of task i (a permutation of 0..T-1; j = i is skipped)."""
    T = len(J)
    out = []
    for i in range(T):
        g = J[i].copy()
        for j in orders[i]:
            if j == i:
                continue
            dot = g @ J[j]
            if dot < 0:
                g = g - dot / (J[j] @ J[j]) * J[j]
        out.append(g)
    return np.sum(out, axis=0)


def seed_blog(J, order):
    """order: the step's one shuffled order, used for every task."""
    projected = [g.copy() for g in J]
    for g_i in projected:
        for j in order:
            dot = g_i @ J[j]
            if dot < 0:
                g_i -= dot * J[j] / (np.linalg.norm(J[j]) ** 2 + 1e-12)
    return np.sum(projected, axis=0)


def libmtl(J, orders):
    """orders[i]: task i's task_index after random.shuffle."""
    pc = J.copy()
    for tn_i in range(len(J)):
        for tn_j in orders[tn_i]:
            g_ij = pc[tn_i] @ J[tn_j]
            if g_ij < 0:
                pc[tn_i] -= g_ij * J[tn_j] / (np.linalg.norm(J[tn_j]) ** 2 + 1e-8)
    return pc.sum(0)


def official_tf(J):
    """No order argument: the code's shuffle does not reach the gradients."""
    def proj_grad(g):
        for k in range(len(J)):
            inner = np.sum(g * J[k])
            with np.errstate(invalid="ignore", divide="ignore"):
                proj = inner / np.sum(J[k] * J[k])
            g = g - np.minimum(proj, 0.0) * J[k]
        return g
    return np.sum([proj_grad(g) for g in J], axis=0)


def pytorch_pcgrad(J, orders):
    """orders[i]: the order of the (shuffled) originals when task i is projected."""
    pc = [g.copy() for g in J]
    for i, g_i in enumerate(pc):
        for j in orders[i]:
            g_j = J[j]
            d = g_i @ g_j
            if d < 0:
                g_i -= d * g_j / (np.linalg.norm(g_j) ** 2)
    return np.stack(pc).mean(0)


def identity(T):
    return [list(range(T)) for _ in range(T)]


def all_five(J, orders=None):
    """Every implementation with the same orders (identity by default; seed_blog takes orders[0])."""
    T = len(J)
    orders = orders or identity(T)
    return {
        "paper": paper(J, orders),
        "seed-blog": seed_blog(J, orders[0]),
        "libmtl": libmtl(J, orders),
        "official-tf": official_tf(J),
        "pytorch-pcgrad": pytorch_pcgrad(J, orders),
    }


# The option values of each implementation, as mtlgrad's pcgrad spells them (its presets).
SETTINGS = {
    "paper": {"order": "random", "reduction": "sum", "self_projection": False, "eps": 0.0},
    "seed-blog": {"order": "shared", "reduction": "sum", "self_projection": True, "eps": 1e-12},
    "libmtl": {"order": "random", "reduction": "sum", "self_projection": True, "eps": 1e-8},
    "official-tf": {"order": "fixed", "reduction": "sum", "self_projection": True, "eps": 0.0},
    "pytorch-pcgrad": {"order": "random", "reduction": "mean", "self_projection": True, "eps": 0.0},
}


def smallest_self_case():
    """The T = 3 input of smallest integers (entries in -2..2, 2 columns) on which visiting j = i
    changes d with every task's order 0,1,2."""
    best = None
    vals = range(-2, 3)
    for flat in itertools.product(vals, repeat=6):
        J = np.array(flat, dtype=float).reshape(3, 2)
        if np.any(np.all(J == 0, axis=1)):
            continue
        without = paper(J, identity(3))
        with_self = libmtl_noeps(J, identity(3))
        if not np.allclose(without, with_self, rtol=0, atol=1e-12):
            key = (int(np.abs(J).sum()), flat)
            if best is None or key < best[0]:
                best = (key, J)
    return best[1]


def libmtl_noeps(J, orders):
    pc = J.copy()
    for i in range(len(J)):
        for j in orders[i]:
            d = pc[i] @ J[j]
            if d < 0:
                pc[i] -= d * J[j] / (J[j] @ J[j])
    return pc.sum(0)


def cases():
    rng = np.random.default_rng(14)
    out = [
        # T = 2: the order does not matter and g_i'.g_i >= 0 (Cauchy-Schwarz), so only eps and
        # the reduction can differ: every preset, randomness and all, must give these values.
        {"name": "two tasks", "J": [[-4.0, 1.0, 1.0], [6.0, 1.0, 1.0]], "order_free": True},
        {"name": "two tiny tasks (eps)", "J": [[1e-4, 2e-4], [-2e-4, 1e-5]], "order_free": True},
        {"name": "smallest self-projection case", "J": smallest_self_case().tolist(), "order_free": False},
    ]
    for T, P in [(3, 4), (4, 5), (5, 3)]:
        out.append({"name": f"random T={T} P={P}", "J": rng.normal(size=(T, P)).tolist(), "order_free": False})
    for c in out:
        J = np.array(c["J"])
        # Every implementation with order 0..T-1 for every task: what mtlgrad's options give with
        # order "fixed" and the implementation's reduction, self_projection and eps.
        c["fixed_order"] = {k: v.tolist() for k, v in all_five(J).items()}
    # order "shared" (one permutation per step): every d it can give on a T = 3 case, one per permutation.
    J = np.array(out[3]["J"])
    out[3]["shared_order"] = [{"perm": list(p), "d": seed_blog(J, list(p)).tolist()}
                              for p in itertools.permutations(range(3))]
    return out


def docs():
    fmt = lambda v: "[" + ", ".join(f"{x:.6g}" for x in v) + "]"
    print("## zero row J = [[1, 0], [0, 0]] (order 0..T-1)")
    for k, v in all_five(np.array([[1.0, 0.0], [0.0, 0.0]])).items():
        print(f"  {k:15s} {fmt(v)}")
    for c in cases()[:3]:
        J = np.array(c["J"])
        print(f"## {c['name']}: J = {c['J']} (order 0..T-1)")
        base = paper(J, identity(len(J)))
        for k, v in all_five(J).items():
            print(f"  {k:15s} d = {fmt(v)}  |d - paper| = {np.linalg.norm(v - base):.3g}"
                  f"  relative {np.linalg.norm(v - base) / np.linalg.norm(base):.3g}")
    # shared vs per-task orders: same mean, different spread (exact, over every order).
    J = np.array(cases()[3]["J"])
    T = len(J)
    perms = list(itertools.permutations(range(T)))
    shared = np.array([seed_blog(J, list(p)) - 0 for p in perms])
    per_task = np.array([paper_self(J, list(ps)) for ps in itertools.product(perms, repeat=T)])
    print(f"## orders on random T=3 P=4 (self projection and eps 1e-12 in both)")
    print(f"  shared: {len(shared)} outcomes, mean {fmt(shared.mean(0))}, rms spread "
          f"{np.sqrt(((shared - shared.mean(0)) ** 2).sum(1).mean()):.4g}")
    print(f"  per task: {len(per_task)} outcomes, mean {fmt(per_task.mean(0))}, rms spread "
          f"{np.sqrt(((per_task - per_task.mean(0)) ** 2).sum(1).mean()):.4g}")


def paper_self(J, orders):
    """seed_blog's arithmetic with a per-task order (to compare the two ways of drawing orders)."""
    projected = [g.copy() for g in J]
    for i, g_i in enumerate(projected):
        for j in orders[i]:
            dot = g_i @ J[j]
            if dot < 0:
                g_i -= dot * J[j] / (np.linalg.norm(J[j]) ** 2 + 1e-12)
    return np.sum(projected, axis=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", action="store_true", help="print the docs page's numbers instead")
    a = ap.parse_args()
    if a.docs:
        docs()
        return
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "pcgrad_variants.json")
    with open(path, "w") as f:
        json.dump({"generator": "tools/gen_pcgrad_variants.py", "settings": SETTINGS, "cases": cases()}, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
