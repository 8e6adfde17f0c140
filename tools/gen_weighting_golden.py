#!/usr/bin/python3
"""Reference values for nash-mtl's scale and uw's two forms (tests/spatial/test_family.cpp and
tests/spatial/test_family_stateful.cpp), written from the papers, independently of the C++ code.

Regenerate:  /usr/bin/python3 tools/gen_weighting_golden.py   (writes tests/fixtures/weighting_golden.json)

  nash-mtl  Navon et al. 2022, Eq. 6: α > 0 with (Gα)_i = 1/α_i for G = J Jᵀ itself, found here by
            torch.optim.LBFGS on ½αᵀGα − Σ log α in log coordinates (strictly convex in α), polished
            by Newton steps in the same coordinates, then d = Jᵀα scaled to
            ‖d‖ ≤ max_norm (the official code's and TorchJD's clip).
  cagrad    Liu et al. 2021 where g_w* = 0: the limit of the dual objective's own smoothing,
            min_{w∈Δ} g_w·g_0 + φ√(‖g_w‖² + ε) with d = (g_0 + φ g_w/√(‖g_w‖² + ε))/s, solved by FISTA
            (projected, step 1/L) at ε = 1e-8 relative to tr(G): the C++ stage computes the limit
            from the KKT conditions instead.
  uw        Kendall et al. 2018, Eq. 7 with s = log σ²: loss Σ ½exp(−s_i) L_i + ½s_i ("libmtl", s from
            −0.5 as LibMTL) or twice that ("unit", s from 0); weights = the coefficient of L_i; s
            trained by torch.optim.SGD on that loss through autograd, one step per observation.
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def nash(J, max_norm):
    J = np.asarray(J, dtype=np.float64)
    G = torch.tensor(J @ J.T)
    b = torch.tensor(-0.5 * np.log(np.diag(J @ J.T)), requires_grad=True)
    opt = torch.optim.LBFGS([b], lr=1, max_iter=1000, tolerance_grad=1e-15, tolerance_change=1e-30,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        a = torch.exp(b)
        f = 0.5 * a @ G @ a - b.sum()
        f.backward()
        return f

    for _ in range(20):
        opt.step(closure)
    # L-BFGS stalls near 1e-8 in the residual: polish by Newton in the same log coordinates
    # (gradient α∘Gα − 1, Hessian diag(α) G diag(α) + diag(α∘Gα)).
    bb = b.detach().numpy().copy()
    Gn = G.numpy()
    for _ in range(8):
        a = np.exp(bb)
        Ga = Gn @ a
        bb -= np.linalg.solve(np.outer(a, a) * Gn + np.diag(a * Ga), a * Ga - 1)
    a = np.exp(bb)
    assert np.abs(a * (Gn @ a) - 1).max() < 1e-10, "nash: no fixed point reached"
    d = a @ J
    norm = np.linalg.norm(d)
    if max_norm > 0 and norm > max_norm:
        a, d = a * max_norm / norm, d * max_norm / norm
    return {"J": J.tolist(), "max_norm": max_norm, "weights": a.tolist(), "d": d.tolist()}


def project_simplex(v):
    s = np.sort(v)[::-1]
    css = np.cumsum(s) - 1
    k = np.arange(1, len(v) + 1)
    rho = np.nonzero(s - css / k > 0)[0][-1]
    return np.maximum(v - css[rho] / (rho + 1), 0)


def cagrad_smoothed(J, c, rescale=1, eps=1e-8, steps=200000):
    J = np.asarray(J, dtype=np.float64)
    T = len(J)
    Gn = J @ J.T / np.trace(J @ J.T)
    b = np.ones(T) / T
    phi = c * np.sqrt(b @ Gn @ b)
    w = b.copy()
    y = w.copy()
    t = 1.0
    L = np.linalg.norm(Gn, 2) * (1 + phi / np.sqrt(eps))
    for _ in range(steps):
        grad = Gn @ b + phi * (Gn @ y) / np.sqrt(y @ Gn @ y + eps)
        wn = project_simplex(y - grad / L)
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        y = wn + (t - 1) / tn * (wn - w)
        w, t = wn, tn
    s = [1, 1 + c * c, 1 + c][rescale]
    d = (b + phi * w / np.sqrt(w @ Gn @ w + eps)) / s @ J
    return {"J": J.tolist(), "c": c, "rescale": rescale, "d": d.tolist()}


def uw(form, lr, losses_seq):
    k = 1.0 if form == "unit" else 0.5
    s = torch.full((len(losses_seq[0]),), 0.0 if form == "unit" else -0.5, requires_grad=True)
    opt = torch.optim.SGD([s], lr=lr)
    weights = []
    for losses in losses_seq:
        L = torch.tensor(losses)
        weights.append((k * torch.exp(-s)).detach().tolist())
        opt.zero_grad()
        (k * (torch.exp(-s) * L + s)).sum().backward()
        opt.step()
    return {"form": form, "lr": lr, "losses": losses_seq, "weights": weights, "s": s.detach().tolist()}


def main():
    issue = [[0.1, 0.04, -0.02], [-0.05, 0.1, 0.03], [0.02, -0.03, 0.1]]
    out = {
        "generator": "tools/gen_weighting_golden.py (numpy " + np.__version__ + ", torch " + torch.__version__ + ")",
        "nash": [nash(issue, 1.0), nash(issue, 0.0), nash([[1, 0], [0, 1e-5]], 1.0),
                 nash([[3, 1, 0, 2], [0, 1e-3, 2e-3, 0], [-1, 0, 4e4, 1e4]], 0.0)],
        "cagrad_degenerate": [cagrad_smoothed([[1, 2], [-0.5, -1], [-0.8, -1.6]], 1.5),
                              cagrad_smoothed([[1, 0], [-1, 0], [0, 1]], 0.5),
                              cagrad_smoothed([[1, 2, 0], [-0.5, -1, 0.3], [-0.8, -1.6, -0.3], [0.2, 0.1, 1]], 1.5)],
        "uw": [uw(form, lr, [[2, 0.5], [1.5, 0.7], [1.2, 0.9]]) for form in ("unit", "libmtl") for lr in (0.1, 0.5)],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "weighting_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
