#!/usr/bin/python3
"""Golden values and gradients for the autograd and nn layers (tests/fixtures/autograd_torch.json).

Regenerate (PyTorch 1.13 + numpy are installed only for Debian's interpreter):

    /usr/bin/python3 tools/gen_autograd_fixtures.py      # writes tests/fixtures/autograd_torch.json

Everything runs in torch float64. Two kinds of entries:

"cases": one expression each. Its differentiable inputs ("inputs", each a 2-D list), optional
constants ("consts") and integer labels ("labels"), the output value ("value"), a seed of the
output's shape ("seed": a fixed random tensor, or [[1]] for 1x1 outputs) and the vector-Jacobian
product seed^T dy/dx for every input ("grads"; zeros where the output does not depend on it).
"expr" names the expression; tests/autograd/test_torch_fixture.cpp rebuilds each one with mtlgrad's
ops from a table keyed by that name, so the two tables must agree (the test fails on any name it
does not know). The cases cover every op, every broadcasting pattern of add/sub/mul/div, the kinks
(abs, relu, leaky_relu at 0; clamp at both bounds; pow(x, 0)), softplus around and beyond its
threshold, several compositions, and the CAGrad toy objective of docs/algorithms.md at the
starts of the paper, at Nash-MTL's extra starts and at kinks. "floor" (optional) is the magnitude
below which the test compares absolutely instead of relatively (default 1); tail cases set a tiny
floor so that tiny gradients must be right to their own relative precision.

"mlp": a 3-8-8-2 network Linear-Tanh-Linear-ReLU-Linear with given weights, on a batch of 5, with
two losses of the same forward pass: cross-entropy (labels) and mse (targets). mtlgrad's Linear
weight is [in, out], torch's is [out, in]: weights and their gradients are stored in mtlgrad's
layout (transposed here).
"""
import json
import math
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261126)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "autograd_torch.json")

LOWER = 5e-6


def normal(r, c):
    return rng.normal(size=(r, c))


def uniform(r, c, lo, hi):
    return rng.uniform(lo, hi, size=(r, c))


def away_from_zero(r, c, lo=0.2, hi=1.5):
    return uniform(r, c, lo, hi) * rng.choice([-1.0, 1.0], size=(r, c))


cases = []


def case(expr, f, inputs, consts=(), labels=None, name=None, floor=None):
    xs = [torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in inputs]
    cs = [torch.tensor(np.asarray(c, dtype=np.float64)) for c in consts]
    y = f(xs, cs, labels)
    assert y.dim() == 2, expr
    seed = torch.ones(1, 1) if y.shape == (1, 1) else torch.tensor(rng.normal(size=tuple(y.shape)))
    grads = torch.autograd.grad(y, xs, grad_outputs=seed, allow_unused=True)
    entry = {
        "name": name or expr,
        "expr": expr,
        "inputs": [np.asarray(x, dtype=np.float64).tolist() for x in inputs],
        "value": y.detach().tolist(),
        "seed": seed.tolist(),
        "grads": [(g if g is not None else torch.zeros_like(x)).tolist() for g, x in zip(grads, xs)],
    }
    if consts:
        entry["consts"] = [np.asarray(c, dtype=np.float64).tolist() for c in consts]
    if labels is not None:
        entry["labels"] = list(labels)
    if floor is not None:
        entry["floor"] = floor
    assert all(c["name"] != entry["name"] for c in cases), f"duplicate case name {entry['name']}"
    cases.append(entry)


# ---- binary ops, every broadcasting pattern -----------------------------------------------------
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}
# name -> (shape of a, shape of b); tests/autograd/test_torch_fixture.cpp lists the same names.
PATTERNS = {
    "eq": ((3, 4), (3, 4)),
    "row": ((3, 4), (1, 4)),
    "col": ((3, 4), (3, 1)),
    "scalar": ((3, 4), (1, 1)),
    "row_rev": ((1, 4), (3, 4)),
    "col_rev": ((3, 1), (3, 4)),
    "scalar_rev": ((1, 1), (3, 4)),
    "outer": ((3, 1), (1, 4)),
}
for op, f in BINARY.items():
    for pat, (sa, sb) in PATTERNS.items():
        a = normal(*sa)
        b = away_from_zero(*sb, lo=0.5, hi=2.0) if op == "div" else normal(*sb)
        case(f"{op}_{pat}", lambda x, c, l, f=f: f(x[0], x[1]), [a, b])

# ---- unary ops ----------------------------------------------------------------------------------
U = lambda g: (lambda x, c, l: g(x[0]))
case("neg", U(lambda x: -x), [normal(3, 4)])
case("scale", U(lambda x: -2.5 * x), [normal(3, 4)])
case("plus_const", U(lambda x: x + 1.75), [normal(3, 4)])
case("const_minus", U(lambda x: 1.75 - x), [normal(3, 4)])
case("exp", U(torch.exp), [uniform(3, 4, -2, 2)])
case("log", U(torch.log), [uniform(3, 4, 0.3, 3)])
case("sqrt", U(torch.sqrt), [uniform(3, 4, 0.3, 3)])
for p, tag in [(0.0, "0"), (1.0, "1"), (2.0, "2"), (3.0, "3"), (0.5, "0.5"), (-1.0, "-1"), (-2.5, "-2.5")]:
    x = normal(3, 4) if p in (0.0, 1.0, 2.0, 3.0) else uniform(3, 4, 0.4, 2.5)
    case(f"pow_{tag}", U(lambda x, p=p: torch.pow(x, p)), [x])
case("abs", U(torch.abs), [away_from_zero(3, 4)])
case("clamp_min", U(lambda x: torch.clamp(x, min=-0.5)), [away_from_zero(3, 4)])
case("clamp_max", U(lambda x: torch.clamp(x, max=0.5)), [away_from_zero(3, 4)])
case("clamp_both", U(lambda x: torch.clamp(x, min=-0.5, max=0.75)), [away_from_zero(3, 4)])
case("tanh", U(torch.tanh), [normal(3, 4)])
case("sigmoid", U(torch.sigmoid), [normal(3, 4) * 3])
case("relu", U(torch.relu), [away_from_zero(3, 4)])
case("leaky_relu", U(torch.nn.functional.leaky_relu), [away_from_zero(3, 4)])
case("leaky_relu_0.2", U(lambda x: torch.nn.functional.leaky_relu(x, 0.2)), [away_from_zero(3, 4)])
# Softplus: both sides of the threshold (beta x > threshold returns x), beta != 1.
case("softplus", U(torch.nn.functional.softplus),
     [[[-3.0, -0.5, 0.0, 0.7], [5.0, 19.5, 20.0, 20.5], [25.0, 40.0, -25.0, 1e-3]]])
case("softplus_beta2_th5", U(lambda x: torch.nn.functional.softplus(x, beta=2.0, threshold=5.0)),
     [[[-3.0, -0.5, 0.0, 0.7], [2.0, 2.4, 2.5, 2.6], [3.0, 10.0, -8.0, 1e-3]]])
# Far tails, compared relatively down to tiny magnitudes.
case("softplus", U(torch.nn.functional.softplus), [[[-30.0, -35.0, -40.0, -18.0]]],
     name="softplus far negative tail", floor=1e-300)
case("sigmoid", U(torch.sigmoid), [[[-30.0, -35.0, -40.0, -18.0]]], name="sigmoid far negative tail", floor=1e-300)

# ---- kinks: PyTorch's one-sided choices ---------------------------------------------------------
case("abs", U(torch.abs), [[[-1.5, 0.0, 2.0]]], name="abs kink at 0")
case("relu", U(torch.relu), [[[-1.5, 0.0, 2.0]]], name="relu kink at 0")
case("leaky_relu", U(torch.nn.functional.leaky_relu), [[[-1.5, 0.0, 2.0]]], name="leaky_relu kink at 0")
case("leaky_relu_0.2", U(lambda x: torch.nn.functional.leaky_relu(x, 0.2)), [[[-1.5, 0.0, 2.0]]],
     name="leaky_relu(0.2) kink at 0")
case("clamp_both", U(lambda x: torch.clamp(x, min=-0.5, max=0.75)), [[[-1.0, -0.5, 0.25, 0.75, 2.0]]],
     name="clamp at both bounds (inclusive)")
case("clamp_min", U(lambda x: torch.clamp(x, min=-0.5)), [[[-1.0, -0.5, 0.25]]], name="clamp_min at its bound")
case("clamp_max", U(lambda x: torch.clamp(x, max=0.5)), [[[0.25, 0.5, 1.0]]], name="clamp_max at its bound")
case("pow_0", U(lambda x: torch.pow(x, 0.0)), [[[0.0, -2.0, 3.0]]], name="pow(x, 0) kink at 0")
case("pow_1", U(lambda x: torch.pow(x, 1.0)), [[[0.0, -2.0, 3.0]]], name="pow(x, 1) at 0")
case("pow_2", U(lambda x: torch.pow(x, 2.0)), [[[0.0, -2.0, 3.0]]], name="pow(x, 2) at 0")

# ---- linear algebra and shape -------------------------------------------------------------------
case("matmul", lambda x, c, l: x[0] @ x[1], [normal(3, 4), normal(4, 2)])
case("matmul_self", lambda x, c, l: x[0] @ x[0], [normal(3, 3)])
case("affine", lambda x, c, l: x[0] @ x[1] + x[2], [normal(5, 3), normal(3, 4), normal(1, 4)])
case("transpose", lambda x, c, l: x[0].t(), [normal(3, 4)])
case("slice_cols", lambda x, c, l: x[0][:, 1:3], [normal(3, 5)])
case("slice_rows", lambda x, c, l: x[0][1:4, :], [normal(5, 3)])
case("concat_cols", lambda x, c, l: torch.cat([x[0], x[1], x[2]], 1), [normal(3, 2), normal(3, 1), normal(3, 3)])
case("concat_rows", lambda x, c, l: torch.cat([x[0], x[1], x[2]], 0), [normal(2, 3), normal(1, 3), normal(3, 3)])
case("concat_cols_reuse", lambda x, c, l: torch.cat([x[0], x[1], x[0]], 1), [normal(3, 2), normal(3, 1)])

# ---- reductions ---------------------------------------------------------------------------------
case("sum", lambda x, c, l: x[0].sum().reshape(1, 1), [normal(3, 4)])
case("sum_rows", lambda x, c, l: x[0].sum(0, keepdim=True), [normal(3, 4)])
case("sum_cols", lambda x, c, l: x[0].sum(1, keepdim=True), [normal(3, 4)])
case("mean", lambda x, c, l: x[0].mean().reshape(1, 1), [normal(3, 4)])
case("mean_rows", lambda x, c, l: x[0].mean(0, keepdim=True), [normal(3, 4)])
case("mean_cols", lambda x, c, l: x[0].mean(1, keepdim=True), [normal(3, 4)])
case("log_softmax", lambda x, c, l: torch.log_softmax(x[0], 1), [normal(3, 4) * 3])
case("log_softmax", lambda x, c, l: torch.log_softmax(x[0], 1), [[[1000.0, 0.0, -1000.0], [-50.0, -50.0, -49.0]]],
     name="log_softmax with huge logits")

# ---- losses -------------------------------------------------------------------------------------
case("mse", lambda x, c, l: torch.nn.functional.mse_loss(x[0], x[1]).reshape(1, 1), [normal(4, 3), normal(4, 3)])
case("mse_const", lambda x, c, l: torch.nn.functional.mse_loss(x[0], c[0]).reshape(1, 1), [normal(4, 3)],
     consts=[normal(4, 3)])
case("cross_entropy", lambda x, c, l: torch.nn.functional.cross_entropy(x[0], torch.tensor(l)).reshape(1, 1),
     [normal(5, 4) * 2], labels=[0, 3, 1, 1, 2])
case("cross_entropy", lambda x, c, l: torch.nn.functional.cross_entropy(x[0], torch.tensor(l)).reshape(1, 1),
     [[[800.0, -800.0, 0.0], [0.0, 0.0, 0.0]]], labels=[1, 2], name="cross_entropy with huge logits")
case("bce_with_logits",
     lambda x, c, l: torch.nn.functional.binary_cross_entropy_with_logits(x[0], c[0]).reshape(1, 1),
     [[[-3.0, -0.5, 0.0, 0.7], [2.0, 40.0, -40.0, 1.5]]], consts=[[[0.0, 1.0, 0.3, 1.0], [0.0, 0.5, 0.0, 1.0]]])

# ---- compositions -------------------------------------------------------------------------------
case("reuse", lambda x, c, l: x[0] * torch.exp(x[0]) - x[0] / (1 + x[0] * x[0]), [normal(2, 3)])
case("tanh_layer", lambda x, c, l: torch.tanh(x[0] @ x[1] + x[2]).sum(1, keepdim=True),
     [normal(4, 3), normal(3, 5), normal(1, 5)])
case("logsumexp", lambda x, c, l: torch.log(torch.exp(x[0]).sum(1, keepdim=True)), [normal(3, 4)])
case("softmax_weighted", lambda x, c, l: (torch.exp(torch.log_softmax(x[0], 1)) * x[1]).sum(1, keepdim=True),
     [normal(3, 4), normal(3, 4)])
case("normalize", lambda x, c, l: x[0] / torch.sqrt((x[0] * x[0]).sum(1, keepdim=True) + 1e-3),
     [normal(3, 4)])
case("sigmoid_gate", lambda x, c, l: torch.sigmoid(x[0]) * torch.tanh(x[1]) + torch.relu(x[0] - x[1]),
     [away_from_zero(3, 4), away_from_zero(3, 4) * 3])


# ---- the CAGrad toy (docs/algorithms.md) -----------------------------------------------------------
def toy(x):
    x1, x2 = x[:, 0:1], x[:, 1:2]
    f1_log = torch.log(torch.clamp(torch.abs(0.5 * (-x1 - 7) - torch.tanh(-x2)), min=LOWER)) + 6
    f2_log = torch.log(torch.clamp(torch.abs(0.5 * (-x1 + 3) + torch.tanh(-x2) + 2), min=LOWER)) + 6
    c1 = torch.clamp(torch.tanh(0.5 * x2), min=0)
    c2 = torch.clamp(torch.tanh(-0.5 * x2), min=0)
    f1_sq = ((-x1 + 7) ** 2 + 0.1 * (-x2 - 8) ** 2) / 10 - 20
    f2_sq = ((-x1 - 7) ** 2 + 0.1 * (-x2 - 8) ** 2) / 10 - 20
    return c1 * f1_log + c2 * f1_sq, c1 * f2_log + c2 * f2_sq


# Starts of the paper and of Nash-MTL, an ordinary point, and kinks: x2 = 0 (both c clamps at their
# bound), x = (-7, 0) (f1's |.| at 0, under LOWER), x = (7, 0) (f2's |.| at 0).
TOY_POINTS = [(-8.5, 7.5), (-8.5, -5.0), (9.0, 9.0), (0.0, 0.0), (-7.5, -0.5), (9.0, -1.0), (1.3, 2.1),
              (-7.0, 0.0), (7.0, 0.0), (3.0, 0.0)]
for p in TOY_POINTS:
    for k in (0, 1):
        case(f"cagrad_f{k + 1}", lambda x, c, l, k=k: toy(x[0])[k], [[list(p)]], name=f"cagrad_f{k + 1} at {p}")

# ---- the MLP: two losses of one forward pass ----------------------------------------------------
sizes = [3, 8, 8, 2]
Ws = [normal(sizes[i], sizes[i + 1]) / math.sqrt(sizes[i]) for i in range(3)]  # mtlgrad layout [in,out]
bs = [normal(1, sizes[i + 1]) * 0.5 for i in range(3)]
X = normal(5, 3)
labels = [0, 1, 1, 0, 1]
targets = normal(5, 2)
lins = []
for W, b in zip(Ws, bs):
    lin = torch.nn.Linear(W.shape[0], W.shape[1])
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(W.T))
        lin.bias.copy_(torch.tensor(b[0]))
    lins.append(lin)
net = torch.nn.Sequential(lins[0], torch.nn.Tanh(), lins[1], torch.nn.ReLU(), lins[2])
logits = net(torch.tensor(X))
losses = {
    "cross_entropy": torch.nn.functional.cross_entropy(logits, torch.tensor(labels)),
    "mse": torch.nn.functional.mse_loss(logits, torch.tensor(targets)),
}
mlp = {"sizes": sizes, "activations": ["tanh", "relu"], "x": X.tolist(), "labels": labels,
       "targets": targets.tolist(), "logits": logits.detach().tolist(),
       "weights": [W.tolist() for W in Ws], "biases": [b.tolist() for b in bs], "losses": {}}
for name, loss in losses.items():
    net.zero_grad()
    loss.backward(retain_graph=True)
    grads = {}
    for i, lin in zip((0, 2, 4), lins):
        grads[f"{i}.weight"] = lin.weight.grad.t().tolist()
        grads[f"{i}.bias"] = lin.bias.grad.reshape(1, -1).tolist()
    mlp["losses"][name] = {"value": loss.item(), "grads": grads}

with open(OUT, "w") as fh:
    json.dump({"generator": "tools/gen_autograd_fixtures.py", "torch": torch.__version__, "cases": cases,
               "mlp": mlp}, fh, indent=1)
    fh.write("\n")
print(f"wrote {len(cases)} cases and the mlp to {os.path.normpath(OUT)}")
