#!/usr/bin/python3
"""Golden trajectories for the temporal stage (tests/fixtures/optim_golden.json).

Regenerate (PyTorch 1.13 + numpy are installed only for Debian's interpreter):

    /usr/bin/python3 tools/gen_optim_golden.py > /dev/null   # writes tests/fixtures/optim_golden.json

Every case runs torch.optim's single-tensor (for-loop, foreach=False) implementation in float64 on
two parameters, a 1x5 vector and a 2x3 matrix, for 25 steps of seeded random gradients. At steps 7
and 13 the matrix has no gradient (p.grad = None), so its per-parameter step counter falls behind
the vector's, as in torch. The fixture keeps the inputs (options, initial parameters, gradients)
and the parameters after every step.

torch's SGD has no default learning rate; mtlgrad's is 1e-3, so the "defaults" case of sgd passes
lr=1e-3 to torch and stores {"name": "sgd"} as its options. torch.set_default_dtype(float64)
makes NAdam's mu_product a float64 scalar (with torch's float32 default it would be a float32
tensor; mtlgrad keeps it in `real`).

nag (the classical Nesterov form of docs/algorithms.md "nag") is not in torch.optim: its golden
trajectory is computed here with numpy from the formula, on the elementwise quadratic
f(θ) = Σ ½ h θ² − c θ whose gradient h θ − c is taken at the look-ahead point θ̃ = θ − η μ v.
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

STEPS = 25
SHAPES = [(1, 5), (2, 3)]
NO_GRAD_STEPS = {7, 13}  # 1-based steps at which the 2x3 parameter has no gradient

CASES = {
    "sgd": [
        {},
        {"lr": 0.1, "momentum": 0.5},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
    ],
    "adagrad": [
        {},
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05, "initial_accumulator_value": 0.1, "eps": 1e-8},
        {"lr": 0.05, "lr_decay": 0.1},
    ],
    "adadelta": [
        {},
        {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1},
        {"rho": 0.95, "eps": 1e-5},
    ],
    "rmsprop": [
        {},
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.05, "momentum": 0.9, "centered": True},
        {"centered": True},
        {"momentum": 0.5, "lr": 0.005},
    ],
    "adam": [
        {},
        {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True},
        {"amsgrad": True},
        {"lr": 0.05, "weight_decay": 0.01},
    ],
    "adamw": [
        {},
        {"lr": 0.01, "betas": [0.85, 0.995], "eps": 1e-7, "weight_decay": 0.1, "amsgrad": True},
        {"lr": 0.02, "weight_decay": 0},
    ],
    "nadam": [
        {},
        {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1, "momentum_decay": 0.01},
        {"momentum_decay": 0},
    ],
}

NAG_CASES = [{}, {"lr": 0.05, "momentum": 0.5}, {"lr": 0.01, "momentum": 0.99}]
NAG_DEFAULTS = {"lr": 1e-3, "momentum": 0.9}


def tensor_json(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [float(x) for x in a.reshape(-1)]}


def make_torch_optimizer(name, options, params):
    kw = {k: (tuple(v) if k == "betas" else v) for k, v in options.items()}
    if name == "sgd":
        kw.setdefault("lr", 1e-3)
        return torch.optim.SGD(params, foreach=False, **kw)
    cls = {"adagrad": torch.optim.Adagrad, "adadelta": torch.optim.Adadelta,
           "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "nadam": torch.optim.NAdam}[name]
    return cls(params, foreach=False, **kw)


def torch_case(name, options, seed):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[None if (k == 1 and t in NO_GRAD_STEPS) else rng.standard_normal(s)
              for k, s in enumerate(SHAPES)] for t in range(1, STEPS + 1)]
    params = [torch.tensor(a, dtype=torch.float64) for a in init]
    opt = make_torch_optimizer(name, options, params)
    trajectory = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
        opt.step()
        trajectory.append([tensor_json(p.detach().numpy()) for p in params])
    return {
        "optimizer": dict({"name": name}, **options),
        "params0": [tensor_json(a) for a in init],
        "grads": [[None if g is None else tensor_json(g) for g in sg] for sg in grads],
        "params": trajectory,
    }


def nag_case(options, seed):
    lr = options.get("lr", NAG_DEFAULTS["lr"])
    mu = options.get("momentum", NAG_DEFAULTS["momentum"])
    rng = np.random.default_rng(seed)
    theta = [rng.standard_normal(s) for s in SHAPES]
    h = [rng.uniform(0.5, 4.0, s) for s in SHAPES]
    c = [rng.standard_normal(s) for s in SHAPES]
    case = {"optimizer": dict({"name": "nag"}, **options), "params0": [tensor_json(a) for a in theta],
            "h": [tensor_json(a) for a in h], "c": [tensor_json(a) for a in c]}
    v = [np.zeros(s) for s in SHAPES]
    trajectory = []
    for _ in range(STEPS):
        for k in range(len(SHAPES)):
            look = theta[k] - lr * mu * v[k]          # θ̃ = θ − η μ v
            d = h[k] * look - c[k]                    # the gradient at θ̃
            v[k] = mu * v[k] + d                      # v = μ v + d(θ̃)
            theta[k] = theta[k] - lr * v[k]           # θ = θ − η v
        trajectory.append([tensor_json(a) for a in theta])
    case["params"] = trajectory
    return case


def main():
    cases = []
    seed = 1000
    for name, option_sets in CASES.items():
        for options in option_sets:
            cases.append(torch_case(name, options, seed))
            seed += 1
    nag = [nag_case(o, 2000 + i) for i, o in enumerate(NAG_CASES)]
    out = {
        "about": "generated by tools/gen_optim_golden.py with torch " + torch.__version__ +
                 " (float64, foreach=False); do not edit by hand",
        "steps": STEPS,
        "cases": cases,
        "nag_cases": nag,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                        "optim_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(path), "with", len(cases), "torch cases and", len(nag), "nag cases")


if __name__ == "__main__":
    main()
