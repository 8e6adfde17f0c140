#!/usr/bin/python3
"""Golden multi-step sequences for fairgrad, config, m-config, excessmtl, db-mtl, stch and gls
(tests/spatial/test_new_stages_b.cpp), written from the papers and the authors' code, independently
of the C++ stages (which work on the Gramian; most of these work on J or through autograd).

Regenerate:  /usr/bin/python3 tools/gen_new_stages_golden_b.py   (writes tests/fixtures/new_stages_b.json)

Every loss-based stage is checked through autograd: at each step the task losses are the linear
functions L_i(θ) = L_i + g_i·(θ − θ₀) of a parameter vector θ (so ∇_θ L_i = g_i, row i of J, and
L_i(θ₀) = L_i), the method's scalarised loss is built from them as its paper writes it, and
torch.autograd gives d = ∇_θ ℒ(θ₀) and ∂ℒ/∂L_i (what the task heads get: "head_scale").

  fairgrad   Ban & Ji 2024, Eq. 5: w > 0 with (Gw)_i = w_i^(−1/α), found by torch.optim.LBFGS on
             φ(w) = ½wᵀGw − Σ h(w_i) (h′(x) = x^(−1/α)) in log coordinates w = e^x, then Newton in
             the same coordinates until the relative residual is < 1e-13. (The authors' code calls
             scipy's least_squares with default tolerances instead; its fixed point is the same.)
  config     Liu, Chu & Thuerey 2025, as the conflictfree package: u_i = g_i/‖g_i‖,
             c = torch.linalg.pinv(U) @ p, d = (Σ_i g_i·ĉ) ĉ (on J itself, not the Gramian).
  m-config   the package's PseudoMomentumOperator around that ConFIG, row "all" or "cycle".
  excessmtl  He et al. 2024, the authors' ExcessMTL.py: AdaGrad sums of squares, e_i = g_iᵀH_i⁻¹g_i,
             weights λ ← λ·exp(η e/e⁰), renormalised to Σ λ = T (on J's rows, per task).
  db-mtl     Lin et al. 2023, the authors' DB_MTL.py: ĝ_i = ∇ ln(L_i + 1e-8) by autograd, buffers
             b = ĝ + β_t (b − ĝ), d = Σ_i (max_j ‖b_j‖ / (‖b_i‖ + 1e-8)) b_i.
  stch       Lin et al. 2024, the authors' STCH.py: Σ ln(L_i + 1e-20) during the warm-up and the nadir
             steps, then T μ logsumexp(ln(L/n + 1e-20)/μ), by autograd.
  gls        Chennupati et al. 2019: (Π_i L_i)^(1/T), by autograd.
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20240611)


def jacobian(T, P, common=0.6):
    base = rng.standard_normal(P)
    return (rng.standard_normal((T, P)) + common * base)


def losses_of(T):
    return rng.uniform(0.2, 2.5, T)


def autograd(J, L, scalarise):
    """d = ∇_θ ℒ(θ₀) and ∂ℒ/∂L for the linear losses L_i + g_i·(θ − θ₀)."""
    Jt = torch.tensor(J)
    theta = torch.zeros(J.shape[1], requires_grad=True)
    Lt = torch.tensor(L) + Jt @ theta
    Lt.retain_grad()
    scalarise(Lt).backward()
    return theta.grad.numpy().copy(), Lt.grad.numpy().copy()


# fairgrad -------------------------------------------------------------------------------------

def fairgrad_weights(G, alpha):
    p = 1.0 / alpha
    Gt = torch.tensor(G)
    x = torch.tensor(-0.5 * np.log(np.diag(G)), requires_grad=True)

    def phi(x):
        w = torch.exp(x)
        h = torch.log(w) if p == 1 else w ** (1 - p) / (1 - p)
        return 0.5 * w @ Gt @ w - h.sum()

    opt = torch.optim.LBFGS([x], lr=1, max_iter=1000, tolerance_grad=1e-15, tolerance_change=1e-30,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        f = phi(x)
        f.backward()
        return f

    for _ in range(20):
        opt.step(closure)
    # Newton in x: ∂φ/∂x = w ∘ (Gw − w^(−p)); Hessian diag(w) G diag(w) + diag(w ∘ Gw + (p − 1) w^(1−p)).
    xx = x.detach().numpy().copy()
    for _ in range(30):
        w = np.exp(xx)
        Gw = G @ w
        grad = w * (Gw - w ** (-p))
        H = np.outer(w, w) * G + np.diag(w * Gw + (p - 1) * w ** (1 - p))
        xx -= np.linalg.solve(H, grad)
    w = np.exp(xx)
    res = np.abs((G @ w) * w ** p - 1).max()
    assert res < 1e-12, f"fairgrad: no fixed point reached ({res})"
    return w


def fairgrad_case(alpha, steps):
    out = {"options": {"name": "fairgrad", "alpha": alpha}, "J": [], "d": [], "weights": []}
    for J in steps:
        w = fairgrad_weights(J @ J.T, alpha)
        out["J"].append(J.tolist())
        out["weights"].append(w.tolist())
        out["d"].append((w @ J).tolist())
    return out


# config / m-config ------------------------------------------------------------------------------

def config_direction(rows, p=None):
    rows = torch.tensor(rows)
    T = rows.shape[0]
    p = torch.ones(T) if p is None else torch.tensor(p)
    norms = rows.norm(dim=1, keepdim=True)
    U = torch.where(norms > 0, rows / torch.where(norms > 0, norms, torch.ones_like(norms)), torch.zeros_like(rows))
    c = torch.linalg.pinv(U) @ p
    c_hat = c / c.norm()
    return ((rows @ c_hat).sum() * c_hat).numpy()


def config_case(steps, p=None):
    out = {"options": {"name": "config"}, "J": [], "d": []}
    if p is not None:
        out["options"]["weights"] = p
    for J in steps:
        out["J"].append(J.tolist())
        out["d"].append(config_direction(J, p).tolist())
    return out


def m_config_case(steps, rows, betas=(0.9, 0.999)):
    b1, b2 = betas
    T, P = steps[0].shape
    m = np.zeros((T, P))
    n = np.zeros(T, dtype=int)
    f = np.zeros(P)
    s = np.zeros(P)
    t = 0
    out = {"options": {"name": "m-config", "rows": rows, "betas": list(betas)}, "J": [], "d": []}
    for k, J in enumerate(steps, start=1):
        used = range(T) if rows == "all" else [(k - 1) % T]
        for i in used:
            n[i] += 1
            m[i] = b1 * m[i] + (1 - b1) * J[i]
        out["J"].append(J.tolist())
        if (n == 0).any():
            out["d"].append(np.zeros(P).tolist())
            continue
        t += 1
        m_hat = m / (1 - b1 ** n)[:, None]
        g_c = config_direction(m_hat)
        f_new = g_c * (1 - b1 ** t)
        q = (f_new - b1 * f) / (1 - b1)
        f = f_new
        s = b2 * s + (1 - b2) * q * q
        s_hat = s / (1 - b2 ** t)
        out["d"].append((g_c / (np.sqrt(s_hat) + 1e-8)).tolist())
    return out


# excessmtl ----------------------------------------------------------------------------------------

def excessmtl_case(steps, eta):
    T, P = steps[0].shape
    grad_sum = np.zeros((T, P))
    weight = np.ones(T)
    initial = None
    out = {"options": {"name": "excessmtl", "robust_step_size": eta}, "J": [], "d": [], "weights": []}
    for J in steps:
        e = np.zeros(T)
        for i in range(T):
            grad_sum[i] += J[i] ** 2
            h = np.sqrt(grad_sum[i] + 1e-7)
            e[i] = (J[i] / h) @ J[i]
        if initial is None:
            initial = e
        else:
            weight = weight * np.exp(eta * e / initial)
            weight = weight / weight.sum() * T
        out["J"].append(J.tolist())
        out["weights"].append(weight.tolist())
        out["d"].append((weight @ J).tolist())
    return out


# db-mtl -------------------------------------------------------------------------------------------

def db_mtl_case(steps, losses, beta, sigma):
    T, P = steps[0].shape
    buf = np.zeros((T, P))
    out = {"options": {"name": "db-mtl", "beta": beta, "beta_sigma": sigma}, "J": [], "losses": [], "d": [],
           "head_scale": []}
    for step, (J, L) in enumerate(zip(steps, losses), start=1):
        g_hat = np.zeros((T, P))
        heads = np.zeros(T)
        for i in range(T):
            g_hat[i], dl = autograd(J, L, lambda Lt: torch.log(Lt[i] + 1e-8))
            heads[i] = dl[i]
        buf = g_hat + (beta / step ** sigma) * (buf - g_hat)
        u = np.linalg.norm(buf, axis=1)
        alpha = u.max() / (u + 1e-8)
        out["J"].append(J.tolist())
        out["losses"].append(L.tolist())
        out["d"].append((alpha @ buf).tolist())
        out["head_scale"].append(heads.tolist())
    return out


# stch ---------------------------------------------------------------------------------------------

def stch_case(steps, losses, mu, warmup, nadir_steps, nadir=None):
    T = steps[0].shape[0]
    total, count, nad = np.zeros(T), 0, None if nadir is None else torch.tensor(nadir)
    opts = {"name": "stch", "mu": mu, "warmup_steps": warmup, "nadir_steps": nadir_steps}
    if nadir is not None:
        opts["nadir"] = nadir
    out = {"options": opts, "J": [], "losses": [], "d": [], "weights": []}
    for t, (J, L) in enumerate(zip(steps, losses), start=1):
        if t <= warmup or (nadir is None and t <= warmup + nadir_steps):
            if t > warmup:
                total, count = total + L, count + 1
            scal = lambda Lt: torch.log(Lt + 1e-20).sum()
        else:
            if nad is None:
                nad = torch.tensor(total / count)
            def scal(Lt):
                ell = torch.log(Lt / nad + 1e-20)
                top = ell.detach().max()
                return mu * torch.log(torch.exp((ell - top) / mu).sum()) * T
        d, w = autograd(J, L, scal)
        out["J"].append(J.tolist())
        out["losses"].append(L.tolist())
        out["d"].append(d.tolist())
        out["weights"].append(w.tolist())
    return out


# gls ----------------------------------------------------------------------------------------------

def gls_case(steps, losses):
    out = {"options": {"name": "gls"}, "J": [], "losses": [], "d": [], "weights": []}
    for J, L in zip(steps, losses):
        T = len(L)
        d, w = autograd(J, L, lambda Lt: torch.prod(Lt) ** (1.0 / T))
        out["J"].append(J.tolist())
        out["losses"].append(L.tolist())
        out["d"].append(d.tolist())
        out["weights"].append(w.tolist())
    return out


def main():
    T, P = 3, 6
    steps = [jacobian(T, P) for _ in range(6)]
    losses = [losses_of(T) for _ in range(6)]
    # Tasks at different scales (1e-3 .. 1e2) and a T = 4 sequence.
    scaled = [J * np.array([[1e-3], [1.0], [1e2]]) for J in steps[:3]]
    steps4 = [jacobian(4, 5) for _ in range(4)]
    losses4 = [losses_of(4) for _ in range(4)]
    out = {
        "generator": "tools/gen_new_stages_golden_b.py (numpy " + np.__version__ + ", torch " + torch.__version__ + ")",
        "cases": [
            fairgrad_case(1.0, steps[:3]),
            fairgrad_case(2.0, steps[:3]),
            fairgrad_case(0.5, steps4),
            fairgrad_case(1.0, scaled),
            fairgrad_case(3.0, scaled),
            config_case(steps[:4]),
            config_case(steps4),
            config_case(steps[:3], [1.0, 2.0, 0.5]),
            config_case(scaled),
            m_config_case(steps, "all"),
            m_config_case(steps, "cycle"),
            m_config_case(steps4, "all", (0.5, 0.9)),
            excessmtl_case(steps, 1e-2),
            excessmtl_case(steps4, 0.5),
            db_mtl_case(steps, losses, 0.9, 0.0),
            db_mtl_case(steps4, losses4, 0.5, 0.5),
            stch_case(steps, losses, 1.0, 1, 2),
            stch_case(steps4, losses4, 0.5, 0, 1, [1.5, 0.8, 1.2, 2.0]),
            stch_case(steps, losses, 0.2, 2, 1),
            gls_case(steps[:4], losses[:4]),
            gls_case(steps4, [L * 1e-3 for L in losses4]),
        ],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "new_stages_b.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
