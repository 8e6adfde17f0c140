#!/usr/bin/python3
"""Golden values for the spatial stages pcgrad, ada-pcgrad, rmsprop-pcgrad, adam-pcgrad and
pcgrad-momentum (docs/algorithms.md, "PCGrad" and "Surgery with a memory"), written to tests/fixtures/spatial_memory.json.

An independent reference: the surgery runs on the gradient vectors themselves (numpy, float64),
exactly as the pseudo-code of Yu et al. 2020 (Algorithm 1) reads, with the per-pair strengths of
section 3 computed from the original gradients. Order "fixed" (j = 0..T-1), so that no random
permutation has to be reproduced.

Regenerate:  /usr/bin/python3 tools/gen_spatial_golden.py   (from the repository root)
"""
import json
import os

import numpy as np


def cos(a, b):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return 0.0 if na == 0 or nb == 0 else float(a @ b) / (na * nb)


def surgery(g, lam, reduction):
    """d = sum_i g_i', g_i' projected against the original g_j (j != i, j = 0..T-1) when in conflict."""
    T = len(g)
    d = np.zeros_like(g[0])
    for i in range(T):
        gi = g[i].copy()
        for j in range(T):
            if j == i:
                continue
            dot = gi @ g[j]
            if dot < 0:
                gi = gi - lam[i][j] * dot / (g[j] @ g[j]) * g[j]
        d += gi
    return d / T if reduction == "mean" else d


class PCGrad:
    def __init__(self, spec):
        self.reduction = spec.get("reduction", "sum")

    def step(self, J):
        T = len(J)
        return surgery(J, np.ones((T, T)), self.reduction), None


class PairMemory:
    """ada / rmsprop / adam pcgrad: a T x T strength from the memory, then the surgery."""

    def __init__(self, spec):
        self.kind = spec["name"]
        self.reduction = spec.get("reduction", "sum")
        self.power = spec.get("power", 1.0)
        self.rho = spec.get("rho", 0.9)
        self.b1, self.b2 = spec.get("betas", [0.9, 0.999])
        self.eps = spec.get("eps", 1e-8)
        self.t = 0
        self.mem = None

    def step(self, J):
        T = len(J)
        if self.mem is None:
            self.mem = [np.zeros((T, T)), np.zeros((T, T))]
        self.t += 1
        t = self.t
        lam = np.zeros((T, T))
        for i in range(T):
            for j in range(T):
                k = 1.0 if J[i] @ J[j] < 0 else 0.0
                c = cos(J[i], J[j])
                a, b = self.mem
                if self.kind == "ada-pcgrad":
                    a[i, j] += k
                    l = a[i, j] / t
                elif self.kind == "rmsprop-pcgrad":
                    a[i, j] = self.rho * a[i, j] + (1 - self.rho) * k
                    l = a[i, j] / (1 - self.rho ** t)
                else:
                    a[i, j] = self.b1 * a[i, j] + (1 - self.b1) * c
                    b[i, j] = self.b2 * b[i, j] + (1 - self.b2) * c * c
                    mhat = a[i, j] / (1 - self.b1 ** t)
                    vhat = b[i, j] / (1 - self.b2 ** t)
                    l = min(max(-mhat / (np.sqrt(vhat) + self.eps), 0.0), 1.0)
                lam[i, j] = 0.0 if i == j else l ** self.power
        return surgery(J, lam, self.reduction), lam


class Momentum:
    def __init__(self, spec):
        self.beta = spec.get("beta", 0.9)
        self.reduction = spec.get("reduction", "sum")
        self.t = 0
        self.m = None

    def step(self, J):
        T = len(J)
        if self.m is None:
            self.m = [np.zeros_like(J[0]) for _ in range(T)]
        self.t += 1
        self.m = [self.beta * m + (1 - self.beta) * g for m, g in zip(self.m, J)]
        mhat = [m / (1 - self.beta ** self.t) for m in self.m]
        return surgery(mhat, np.ones((T, T)), self.reduction), None


def make(spec):
    if spec["name"] == "pcgrad":
        return PCGrad(spec)
    if spec["name"] == "pcgrad-momentum":
        return Momentum(spec)
    return PairMemory(spec)


def main():
    rng = np.random.default_rng(20200101)
    specs = [
        {"name": "pcgrad"},
        {"name": "pcgrad", "reduction": "mean"},
        {"name": "ada-pcgrad"},
        {"name": "ada-pcgrad", "power": 2.0, "reduction": "mean"},
        {"name": "rmsprop-pcgrad"},
        {"name": "rmsprop-pcgrad", "rho": 0.5, "power": 0.5},
        {"name": "adam-pcgrad"},
        {"name": "adam-pcgrad", "betas": [0.5, 0.9], "eps": 1e-3},
        {"name": "pcgrad-momentum"},
        {"name": "pcgrad-momentum", "beta": 0.5, "reduction": "mean"},
    ]
    cases = []
    for T in (3, 4):
        # A shared component plus noise, so that pairs conflict at some steps and not at others.
        base = rng.normal(size=(T, 5))
        steps = [base + 1.5 * rng.normal(size=(T, 5)) for _ in range(8)]
        for spec in specs:
            spec = dict(spec, order="fixed")
            stage = make(spec)
            expected = []
            for J in steps:
                d, lam = stage.step([np.array(g) for g in J])
                e = {"grad": d.tolist()}
                if lam is not None:
                    e["pair_strength"] = lam.tolist()
                expected.append(e)
            cases.append({"aggregator": spec, "steps": [J.tolist() for J in steps], "expected": expected})
    out = {
        "generated_by": "tools/gen_spatial_golden.py (numpy %s, float64); regenerate with "
                        "/usr/bin/python3 tools/gen_spatial_golden.py" % np.__version__,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "spatial_memory.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(path), len(cases), "cases")


if __name__ == "__main__":
    main()
