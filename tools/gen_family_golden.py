#!/usr/bin/python3
"""Reference values for the gradient-surgery family (tests/spatial/test_family.cpp).

Regenerate:  /usr/bin/python3 tools/gen_family_golden.py   (writes tests/fixtures/family_golden.json)

Every value is computed here in float64 numpy, independently of the C++ code and by a different
method where one exists:
  mgda      exact: every support S of the simplex, the KKT system of min wᵀGw, Σw = 1 on S
            (least squares), keeping the feasible point that satisfies (Gw)_i ≥ wᵀGw for all i.
  upgrad,   exact: every support of the non-negative QP min ½xᵀQx + xᵀQu, Q = G/tr(G) + reg·I
  dualproj  (TorchJD's normalisation, reg = 1e-4), keeping the feasible KKT point of least objective.
  imtl-g    numpy.linalg.pinv(G) @ sqrt(diag G), normalised to sum 1 (TorchJD's formula).
  aligned   numpy.linalg.eigh, B = sqrt(λ_min) V Λ^{-1/2} Vᵀ, w = B·(1/T) (TorchJD's formula).
  cagrad    the official formula (Cranial-XIX/CAGrad): min_{w∈Δ} g_wᵀg_0 + c‖g_0‖‖g_w‖ by 50 000
            projected-gradient steps of fixed size, then d = (g_0 + c‖g_0‖/‖g_w‖ g_w) / rescale.
  nash-mtl  Gα = 1/α for G itself (Navon et al. 2022, Eq. 6; no normalisation, no ridge) as the
            minimiser of ½αᵀGα − Σ log α in log coordinates α = exp(b) by torch.optim.LBFGS (the C++
            solver runs Newton on the correlation matrix instead), then scaled to ‖Jᵀα‖ ≤ 1 (the max_norm
            of the official code and TorchJD).
  gradvac   the vector pseudo-code of Wang et al. 2021 / LibMTL with order j = 0..T−1, beta 0.5,
            three steps from zero targets.
"""
import itertools
import json
import os

import numpy as np
import torch


def project_simplex(v):
    s = np.sort(v)[::-1]
    css = np.cumsum(s) - 1
    k = np.arange(1, len(v) + 1)
    rho = np.nonzero(s - css / k > 0)[0][-1]
    return np.maximum(v - css[rho] / (rho + 1), 0)


def mgda(G):
    T = len(G)
    best = None
    for r in range(1, T + 1):
        for S in itertools.combinations(range(T), r):
            S = list(S)
            K = np.zeros((r + 1, r + 1))
            K[:r, :r] = 2 * G[np.ix_(S, S)]
            K[:r, r] = 1
            K[r, :r] = 1
            rhs = np.zeros(r + 1)
            rhs[r] = 1
            sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
            w = np.zeros(T)
            w[S] = sol[:r]
            if w.min() < -1e-12 or abs(w.sum() - 1) > 1e-9:
                continue
            f = w @ G @ w
            if (G @ w >= f - 1e-10 * np.trace(G)).all() and (best is None or f < best[0] - 1e-14):
                best = (f, w)
    return best[1]


def nnqp(Q, q):
    T = len(Q)
    best = None
    for r in range(0, T + 1):
        for S in itertools.combinations(range(T), r):
            S = list(S)
            x = np.zeros(T)
            if S:
                x[S] = np.linalg.solve(Q[np.ix_(S, S)], -q[S])
            if x.min() < 0:
                continue
            obj = 0.5 * x @ Q @ x + q @ x
            if best is None or obj < best[0]:
                best = (obj, x)
    return best[1]


def dual_cone_weights(G, u, reg=1e-4):
    Q = G / np.trace(G) + reg * np.eye(len(G))
    return u + nnqp(Q, Q @ u)


def upgrad(G):
    T = len(G)
    return sum(dual_cone_weights(G, np.eye(T)[i] / T) for i in range(T))


def dualproj(G):
    T = len(G)
    return dual_cone_weights(G, np.ones(T) / T)


def imtl_g(G):
    v = np.linalg.pinv(G) @ np.sqrt(np.diag(G))
    return v / v.sum()


def aligned(G):
    lam, V = np.linalg.eigh(G)
    keep = lam > lam.max() * len(G) * np.finfo(float).eps
    lam, V = lam[keep], V[:, keep]
    B = np.sqrt(lam.min()) * V @ np.diag(1 / np.sqrt(lam)) @ V.T
    return B @ (np.ones(len(G)) / len(G))


def cagrad(G, c, rescale):
    T = len(G)
    Gn = G / np.trace(G)
    b = np.ones(T) / T
    phi = c * np.sqrt(b @ Gn @ b)
    w = b.copy()
    for _ in range(50000):
        gw = np.sqrt(w @ Gn @ w)
        grad = Gn @ b + phi * (Gn @ w) / gw
        w = project_simplex(w - 0.05 * grad)
    gw = np.sqrt(w @ Gn @ w)
    s = [1, 1 + c * c, 1 + c][rescale]
    return (b + phi / gw * w) / s


def nash(G, max_norm=1.0):
    Gn = G
    # minimise ½αᵀGα − Σ log α over α = exp(b) with torch's L-BFGS (strong Wolfe), float64
    Gt = torch.tensor(Gn)
    b = torch.tensor(-0.5 * np.log(np.diag(G)), requires_grad=True)  # start at α_i = 1/‖g_i‖
    opt = torch.optim.LBFGS([b], lr=1, max_iter=1000, tolerance_grad=1e-15, tolerance_change=1e-30,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        a = torch.exp(b)
        f = 0.5 * a @ Gt @ a - b.sum()
        f.backward()
        return f

    for _ in range(20):
        opt.step(closure)
    a = torch.exp(b).detach().numpy()
    assert np.abs(a * (Gn @ a) - 1).max() < 1e-9, "nash: the fixed-point iteration did not converge"
    norm = np.sqrt(a @ G @ a)
    return a * max_norm / norm if norm > max_norm else a


def gradvac(Js, beta=0.5):
    T = Js[0].shape[0]
    phi = np.zeros((T, T))
    out = []
    for J in Js:
        d = np.zeros(J.shape[1])
        for i in range(T):
            gi = J[i].copy()
            for j in range(T):
                if j == i:
                    continue
                gj = J[j]
                ni, nj = np.linalg.norm(gi), np.linalg.norm(gj)
                cos = gi @ gj / (ni * nj)
                t = phi[i, j]
                if cos < t:
                    gi = gi + gj * ni * (t * np.sqrt(1 - cos**2) - cos * np.sqrt(1 - t**2)) / (nj * np.sqrt(1 - t**2))
                phi[i, j] = (1 - beta) * t + beta * cos
            d += gi
        out.append(d.tolist())
    return out, phi.tolist()


def main():
    rng = np.random.default_rng(2024)
    cases = []
    shapes = [(3, 5, 3), (4, 6, 4), (4, 6, 2), (5, 4, 4), (3, 7, 2)]  # (T, P, rank)
    for T, P, r in shapes:
        J = rng.standard_normal((T, r)) @ rng.standard_normal((r, P))
        G = J @ J.T
        case = {"J": J.tolist(), "rank": r, "d": {}}
        stages = {"mgda": mgda(G), "upgrad": upgrad(G), "dualproj": dualproj(G),
                  "cagrad0": cagrad(G, 0.5, 0), "cagrad1": cagrad(G, 0.5, 1), "cagrad2": cagrad(G, 0.5, 2)}
        if r == T:
            # numpy's and torch's pseudo-inverse cut-offs agree only away from rank loss, and with rank
            # loss the Nash fixed point may not exist (0 in the cone of the rows).
            stages["imtl-g"] = imtl_g(G)
            stages["aligned-mtl"] = aligned(G)
            stages["nash-mtl"] = nash(G)
        for name, w in stages.items():
            case["d"][name] = (w @ J).tolist()
        cases.append(case)
    Js = [rng.standard_normal((3, 4)) for _ in range(3)]
    dirs, phi = gradvac(Js)
    out = {"generator": "tools/gen_family_golden.py (numpy " + np.__version__ + ")", "cases": cases,
           "gradvac": {"J": [J.tolist() for J in Js], "d": dirs, "phi": phi, "beta": 0.5}}
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "family_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
