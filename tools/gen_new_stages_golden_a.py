#!/usr/bin/python3
"""Golden multi-step sequences for famo, gradnorm, sdmgrad, imtl, moco and cr-mogm
(tests/spatial/test_new_stages_a.cpp), written from the papers (and, where they fix the details,
the reference codes named in each stage's header), independently of the C++ code.

Regenerate:  /usr/bin/python3 tools/gen_new_stages_golden_a.py   (writes tests/fixtures/new_stages_a.json)

Each case is one stage spec run over several steps, with the inputs the stage needs per step
("losses", "losses_after", "extra_steps") and, per step, the expected "grad" (d) and "weights":

  famo      Liu et al. 2023, Alg. 1: w = softmax(ξ)/D normalised; ξ learns from the fall of the
            log-losses, δ = ln D(L) − ln D(L′), pushed through softmax by torch.autograd and
            stepped by torch.optim.Adam(lr, weight_decay = gamma).
  gradnorm  Chen et al. 2018, Eq. 1–2 with LibMTL's w = T·softmax(s): L_grad = Σ|w_i‖g_i‖ − C_i|,
            C_i = mean(w‖g‖)·r_i^α detached, differentiated by torch.autograd, torch.optim.SGD on s.
  sdmgrad   Xiao et al. 2023, Alg. 1 as LibMTL: A = J_a J_bᵀ/(σ² + 1e-8), n_iter steps of
            torch.optim.SGD(momentum) on ½wᵀAw + λ wᵀA1/T, each followed by the sort-based
            Euclidean projection onto the simplex; d = Jᵀ(w + λ/T)/(1 + λ).
  imtl      Liu et al. 2021: IMTL-G by the paper's closed form α_{2..T} = ĝ_1 Uᵀ (D Uᵀ)⁻¹ (D rows
            ĝ_1 − ĝ_i, U rows û_1 − û_i) on the scaled gradients ĝ_i = e^{s_i} g_i, α_1 = 1 − Σα;
            IMTL-L's e^{s}L − s differentiated by torch.autograd, torch.optim.SGD on s.
  moco      Fernando et al. 2023 as LibMTL: y ← y − β_t(y − g/‖g‖·L), λ ← softmax or Π_Δ of
            λ − γ_t (yyᵀ + ρI)λ, d = yᵀλ.
  cr-mogm   Zhou et al. 2022: λ = λ̂ at the first step, then βλ + (1 − β)λ̂, d = Jᵀλ, with λ̂ the
            inner weighting's (famo as above; imtl-g as TorchJD's pinv form on G).
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261203)


def project_simplex(v):
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    k = np.arange(1, len(v) + 1)
    rho = np.nonzero(u * k > css - 1)[0][-1]
    tau = (css[rho] - 1) / (rho + 1)
    return np.maximum(v - tau, 0)


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


# famo -------------------------------------------------------------------------------------------
class Famo:
    def __init__(self, T, lr=0.025, gamma=1e-3, min_losses=None):
        self.xi = torch.zeros(T, requires_grad=True)
        self.opt = torch.optim.Adam([self.xi], lr=lr, weight_decay=gamma)
        self.m = torch.zeros(T) if min_losses is None else torch.tensor(min_losses)
        self.prev = None

    def weights(self, L):
        L = torch.tensor(L)
        z = torch.softmax(self.xi.detach(), -1)
        D = L - self.m + 1e-8
        c = (z / D).sum()
        self.prev = L
        return (z / D / c).numpy()

    def update(self, after):
        after = torch.tensor(after)
        delta = (self.prev - self.m + 1e-8).log() - (after - self.m + 1e-8).log()
        self.opt.zero_grad()
        z = torch.softmax(self.xi, -1)
        (g,) = torch.autograd.grad(z, self.xi, grad_outputs=delta)
        self.xi.grad = g
        self.opt.step()


def famo_case(T, P, steps, update, **opts):
    Js = [rng.normal(size=(T, P)) for _ in range(steps)]
    losses = [rng.uniform(0.5, 2.0, size=T) for _ in range(steps)]
    after = [l * rng.uniform(0.7, 1.05, size=T) for l in losses]
    f = Famo(T, **opts)
    expect = []
    for s in range(steps):
        if update == "next" and s > 0:
            f.update(losses[s])
        w = f.weights(losses[s])
        expect.append({"grad": (Js[s].T @ w).tolist(), "weights": w.tolist(), "head_scale": w.tolist()})
        if update == "after":
            f.update(after[s])
    spec = {"name": "famo", "update": update, **opts}
    case = {"spec": spec, "steps": [J.tolist() for J in Js], "losses": [l.tolist() for l in losses], "expect": expect}
    if update == "after":
        case["losses_after"] = [a.tolist() for a in after]
    return case


# gradnorm ---------------------------------------------------------------------------------------
def gradnorm_case(T, P, steps, alpha, lr, warmup):
    Js = [rng.normal(size=(T, P)) * rng.uniform(0.3, 3.0, size=(T, 1)) for _ in range(steps)]
    losses = [rng.uniform(0.5, 2.0, size=T) for _ in range(steps)]
    s = torch.zeros(T, requires_grad=True)
    opt = torch.optim.SGD([s], lr=lr)
    L0 = np.zeros(T)
    expect = []
    for t in range(1, steps + 1):
        J, L = Js[t - 1], losses[t - 1]
        if t <= warmup:
            L0 += L
            if t == warmup:
                L0 /= warmup
            w = np.ones(T)
        else:
            if warmup == 0 and t == 1:
                L0 = L.copy()
            w_t = T * torch.softmax(s, -1)
            w = w_t.detach().numpy().copy()
            norms = torch.tensor(np.linalg.norm(J, axis=1))
            Gn = w_t * norms
            r = torch.tensor(L / L0)
            r = r / r.mean()
            C = (Gn.mean() * r ** alpha).detach()
            loss = (Gn - C).abs().sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        expect.append({"grad": (J.T @ w).tolist(), "weights": w.tolist()})
    return {"spec": {"name": "gradnorm", "alpha": alpha, "lr": lr, "warmup_steps": warmup},
            "steps": [J.tolist() for J in Js], "losses": [l.tolist() for l in losses], "expect": expect}


# sdmgrad ----------------------------------------------------------------------------------------
def sdmgrad_case(T, P, steps, extra, lam=0.3, lr=5.0, momentum=0.5, n_iter=20):
    base = rng.normal(size=(1, P))
    Js = [base + rng.normal(size=(T, P)) for _ in range(steps)]
    Es = [[J + 0.3 * rng.normal(size=(T, P)), J + 0.3 * rng.normal(size=(T, P))] for J in Js]
    w = np.full(T, 1.0 / T)
    expect = []
    for s in range(steps):
        J = Js[s]
        Ja, Jb = Es[s] if extra else (J, J)
        A = Ja @ Jb.T
        sigma = np.mean(np.sqrt(np.maximum(np.diag(A), 0)))
        A = torch.tensor(A / (sigma ** 2 + 1e-8))
        wt = torch.tensor(w, requires_grad=True)
        opt = torch.optim.SGD([wt], lr=lr, momentum=momentum)
        ones = torch.full((T,), 1.0 / T)
        for _ in range(n_iter):
            opt.zero_grad()
            # ∇_w (½ wᵀ A w + λ wᵀ A 1/T) with A's gradient taken as A w (LibMTL's q = A w + λ A·1/T).
            wt.grad = (A @ wt + lam * (A @ ones)).detach()
            opt.step()
            with torch.no_grad():
                wt.copy_(torch.tensor(project_simplex(wt.detach().numpy())))
        w = wt.detach().numpy().copy()
        lt = (w + lam / T) / (1 + lam)
        expect.append({"grad": (J.T @ lt).tolist(), "weights": lt.tolist()})
    case = {"spec": {"name": "sdmgrad", "lambda": lam, "lr": lr, "momentum": momentum, "n_iter": n_iter},
            "steps": [J.tolist() for J in Js], "expect": expect}
    if extra:
        case["extra_steps"] = [[E[0].tolist(), E[1].tolist()] for E in Es]
    return case


# imtl -------------------------------------------------------------------------------------------
def imtl_g_closed_form(Gh):
    """The paper's α for the rows ĝ_i (given as the matrix Ĝh, rows = scaled gradients)."""
    T = Gh.shape[0]
    if T == 1:
        return np.ones(1)
    U = Gh / np.linalg.norm(Gh, axis=1, keepdims=True)
    D = Gh[0:1] - Gh[1:]
    Ud = U[0:1] - U[1:]
    a = Gh[0:1] @ Ud.T @ np.linalg.inv(D @ Ud.T)
    return np.concatenate([[1 - a.sum()], a.ravel()])


def imtl_case(T, P, steps, lr):
    Js = [rng.normal(size=(T, P)) * rng.uniform(0.3, 3.0, size=(T, 1)) for _ in range(steps)]
    losses = [rng.uniform(0.3, 3.0, size=T) for _ in range(steps)]
    s = torch.zeros(T, requires_grad=True)
    opt = torch.optim.SGD([s], lr=lr)
    expect = []
    for t in range(steps):
        J, L = Js[t], losses[t]
        e = np.exp(s.detach().numpy())
        alpha = imtl_g_closed_form(e[:, None] * J)
        w = alpha * e
        expect.append({"grad": (J.T @ w).tolist(), "weights": w.tolist(), "head_scale": e.tolist()})
        opt.zero_grad()
        (torch.exp(s) * torch.tensor(L) - s).sum().backward()
        opt.step()
    return {"spec": {"name": "imtl", "lr": lr}, "steps": [J.tolist() for J in Js],
            "losses": [l.tolist() for l in losses], "expect": expect}


# moco -------------------------------------------------------------------------------------------
def moco_case(T, P, steps, projection, beta=0.5, beta_sigma=0.5, gamma=0.1, gamma_sigma=0.5, rho=0.0):
    Js = [rng.normal(size=(T, P)) for _ in range(steps)]
    losses = [rng.uniform(0.5, 2.0, size=T) for _ in range(steps)]
    y = np.zeros((T, P))
    lam = np.full(T, 1.0 / T)
    expect = []
    for t in range(1, steps + 1):
        J, L = Js[t - 1], losses[t - 1]
        h = J / (np.linalg.norm(J, axis=1, keepdims=True) + 1e-8) * L[:, None]
        y = y - beta / t ** beta_sigma * (y - h)
        arg = lam - gamma / t ** gamma_sigma * (y @ y.T + rho * np.eye(T)) @ lam
        lam = softmax(arg) if projection == "softmax" else project_simplex(arg)
        expect.append({"grad": (y.T @ lam).tolist()})
    spec = {"name": "moco", "beta": beta, "beta_sigma": beta_sigma, "gamma": gamma, "gamma_sigma": gamma_sigma,
            "rho": rho, "projection": projection}
    return {"spec": spec, "steps": [J.tolist() for J in Js], "losses": [l.tolist() for l in losses],
            "expect": expect}


# cr-mogm ----------------------------------------------------------------------------------------
def imtl_g_pinv(J):
    G = J @ J.T
    v = np.linalg.pinv(G) @ np.sqrt(np.diag(G))
    return v / v.sum()


def cr_mogm_case(T, P, steps, inner, beta):
    Js = [rng.normal(size=(T, P)) for _ in range(steps)]
    losses = [rng.uniform(0.5, 2.0, size=T) for _ in range(steps)]
    after = [l * rng.uniform(0.7, 1.05, size=T) for l in losses]
    f = Famo(T) if inner == "famo" else None
    lam = None
    expect = []
    for s in range(steps):
        J = Js[s]
        if f is not None:
            hat = f.weights(losses[s])
            f.update(after[s])
        else:
            hat = imtl_g_pinv(J)
        lam = hat.copy() if lam is None else beta * lam + (1 - beta) * hat
        e = {"grad": (J.T @ lam).tolist(), "weights": lam.tolist()}
        if f is not None:
            e["head_scale"] = hat.tolist()
        expect.append(e)
    case = {"spec": {"name": "cr-mogm", "inner": {"name": inner}, "beta": beta}, "steps": [J.tolist() for J in Js],
            "expect": expect}
    if f is not None:
        case["losses"] = [l.tolist() for l in losses]
        case["losses_after"] = [a.tolist() for a in after]
    return case


def main():
    out = {
        "famo": [famo_case(3, 5, 5, "after"), famo_case(2, 4, 4, "next", lr=0.5, gamma=0.01),
                 famo_case(4, 3, 4, "after", lr=0.3, min_losses=[0.1, 0.2, 0.0, 0.3])],
        "gradnorm": [gradnorm_case(3, 6, 5, 1.5, 0.1, 0), gradnorm_case(2, 4, 5, 0.5, 0.3, 2)],
        "sdmgrad": [sdmgrad_case(3, 6, 4, True), sdmgrad_case(3, 6, 4, False),
                    sdmgrad_case(4, 7, 3, True, lam=0.0, lr=2.0, momentum=0.0, n_iter=10)],
        "imtl": [imtl_case(3, 6, 5, 0.2), imtl_case(2, 3, 4, 0.5)],
        "moco": [moco_case(3, 5, 5, "softmax"), moco_case(3, 5, 5, "simplex", gamma=2.0, rho=0.1),
                 moco_case(2, 4, 4, "softmax", beta=0.9, beta_sigma=0.0, gamma=0.5, gamma_sigma=0.0)],
        "cr-mogm": [cr_mogm_case(3, 5, 5, "imtl-g", 0.8), cr_mogm_case(3, 4, 4, "famo", 0.5)],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "new_stages_a.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
