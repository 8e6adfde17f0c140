#!/usr/bin/python3
"""NaN and infinity through every op: PyTorch float64's values and vector-Jacobian products
(tests/fixtures/autograd_torch_nan.json).

Regenerate (PyTorch + numpy for Debian's interpreter: scripts/deps torch):

    /usr/bin/python3 tools/gen_autograd_nan_fixtures.py

The entries have the layout of tools/gen_autograd_fixtures.py's "cases" (name, expr, inputs,
consts, labels, value, seed, grads), and the same "expr" names: tests/autograd/test_torch_fixture.cpp
rebuilds them with the same builders. JSON has no NaN or infinity, so every number that is not
finite is written as a string: "nan", "inf", "-inf". The test requires NaN exactly where torch has
NaN, the same infinity where torch has one, and the finite values to the usual tolerance.

What torch does, and so what mtlgrad must do: NaN in, NaN out for every op's value (relu(NaN) and
clamp(NaN) are NaN, not 0 or a bound); backward, relu passes g where its output is NaN and gives 0
where the output is <= 0 even for a NaN g (threshold_backward); abs's derivative at NaN is
sgn(NaN) = 0; clamp's is 0 at NaN (NaN is not within the bounds); pow(x, 0) has derivative 0
everywhere, NaN included; a NaN seed reaches every input that the output depends on, except
through those zero derivatives.
"""
import json
import math
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261203)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "autograd_torch_nan.json")
NAN, INF = float("nan"), float("inf")
F = torch.nn.functional


def encode(v):
    """Nested lists with the non-finite numbers as strings."""
    if isinstance(v, list):
        return [encode(x) for x in v]
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


cases = []


def case(name, expr, f, inputs, consts=(), labels=None, seed=None):
    xs = [torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in inputs]
    cs = [torch.tensor(np.asarray(c, dtype=np.float64)) for c in consts]
    y = f(xs, cs, labels)
    assert y.dim() == 2, name
    if seed is None:
        seed = torch.ones(1, 1) if y.shape == (1, 1) else torch.tensor(rng.normal(size=tuple(y.shape)))
    else:
        seed = torch.tensor(np.asarray(seed, dtype=np.float64))
    grads = torch.autograd.grad(y, xs, grad_outputs=seed, allow_unused=True)
    entry = {
        "name": name,
        "expr": expr,
        "inputs": [encode(np.asarray(x, dtype=np.float64).tolist()) for x in inputs],
        "value": encode(y.detach().tolist()),
        "seed": encode(seed.tolist()),
        "grads": [encode((g if g is not None else torch.zeros_like(x)).tolist()) for g, x in zip(grads, xs)],
    }
    if consts:
        entry["consts"] = [encode(np.asarray(c, dtype=np.float64).tolist()) for c in consts]
    if labels is not None:
        entry["labels"] = list(labels)
    assert all(c["name"] != name for c in cases), f"duplicate case name {name}"
    cases.append(entry)


U = lambda g: (lambda x, c, l: g(x[0]))
# One row through each unary op: NaN, both signs, the kink at 0, and both infinities where torch's
# value and derivative are the plain formula's (not pow, whose pow(-inf, 0.5) torch computes as sqrt).
SPECIAL = [[NAN, 0.75, -0.5, 0.0, INF, -INF]]
NAN_ROW = [[NAN, 0.75, -0.5, 0.0, 1.5, -2.0]]
POSITIVE = [[NAN, 0.75, 0.5, 2.0, 1.5, 3.0]]
# A seed with NaN at the kinks and beyond them (positions 1..3 of NAN_ROW and a positive one).
NAN_SEED = [[1.0, NAN, NAN, NAN, 0.5, -1.0]]
UNARY = {
    "neg": lambda x: -x,
    "scale": lambda x: -2.5 * x,
    "plus_const": lambda x: x + 1.75,
    "exp": torch.exp,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,
    "leaky_relu_0.2": lambda x: F.leaky_relu(x, 0.2),
    "abs": torch.abs,
    "clamp_min": lambda x: torch.clamp(x, min=-0.5),
    "clamp_max": lambda x: torch.clamp(x, max=0.5),
    "clamp_both": lambda x: torch.clamp(x, min=-0.5, max=0.75),
    "softplus": F.softplus,
}
for expr, g in UNARY.items():
    case(f"{expr} with NaN and infinities", expr, U(g), [SPECIAL])
    case(f"{expr} with a NaN seed", expr, U(g), [NAN_ROW], seed=NAN_SEED)
for expr, g in {"log": torch.log, "sqrt": torch.sqrt}.items():
    case(f"{expr} with NaN", expr, U(g), [POSITIVE])
    case(f"{expr} with a NaN seed", expr, U(g), [POSITIVE[:1]], seed=NAN_SEED)
for tag, p in [("0", 0.0), ("1", 1.0), ("2", 2.0), ("3", 3.0), ("-1", -1.0)]:
    case(f"pow_{tag} with NaN", f"pow_{tag}", U(lambda x, p=p: torch.pow(x, p)), [NAN_ROW])
    case(f"pow_{tag} with a NaN seed", f"pow_{tag}", U(lambda x, p=p: torch.pow(x, p)), [NAN_ROW], seed=NAN_SEED)
for tag, p in [("0.5", 0.5), ("-2.5", -2.5)]:
    case(f"pow_{tag} with NaN", f"pow_{tag}", U(lambda x, p=p: torch.pow(x, p)), [POSITIVE])

# Binary ops: NaN in one operand, broadcast or not.
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b}
for op, f in BINARY.items():
    a = rng.normal(size=(3, 4))
    a[1, 2] = NAN
    b = rng.uniform(0.5, 2.0, size=(3, 4))
    case(f"{op}_eq with NaN in a", f"{op}_eq", lambda x, c, l, f=f: f(x[0], x[1]), [a, b])
    b1 = rng.uniform(0.5, 2.0, size=(1, 4))
    b1[0, 3] = NAN
    case(f"{op}_row with NaN in the broadcast b", f"{op}_row", lambda x, c, l, f=f: f(x[0], x[1]),
         [rng.normal(size=(3, 4)), b1])

# Linear algebra, reductions, losses: NaN in one entry.
A = rng.normal(size=(3, 4))
A[0, 1] = NAN
case("matmul with NaN in a", "matmul", lambda x, c, l: x[0] @ x[1], [A, rng.normal(size=(4, 2))])
W = rng.normal(size=(3, 4))
W[2, 0] = NAN
case("affine with NaN in the weight", "affine", lambda x, c, l: x[0] @ x[1] + x[2],
     [rng.normal(size=(5, 3)), W, rng.normal(size=(1, 4))])
for expr, f in {"sum": lambda x: x.sum().reshape(1, 1), "sum_rows": lambda x: x.sum(0, keepdim=True),
                "sum_cols": lambda x: x.sum(1, keepdim=True), "mean": lambda x: x.mean().reshape(1, 1)}.items():
    case(f"{expr} with NaN", expr, U(f), [A])
L = rng.normal(size=(3, 4)) * 2
L[1, 2] = NAN
case("log_softmax with NaN in one row", "log_softmax", U(lambda x: torch.log_softmax(x, 1)), [L])
case("log_softmax with a NaN seed", "log_softmax", U(lambda x: torch.log_softmax(x, 1)), [rng.normal(size=(2, 3))],
     seed=[[1.0, NAN, 0.5], [0.25, -1.0, 2.0]])
case("cross_entropy with NaN in one row", "cross_entropy",
     lambda x, c, l: F.cross_entropy(x[0], torch.tensor(l)).reshape(1, 1), [L], labels=[0, 3, 1])
M = rng.normal(size=(4, 3))
M[2, 1] = NAN
case("mse with NaN in the prediction", "mse", lambda x, c, l: F.mse_loss(x[0], x[1]).reshape(1, 1),
     [M, rng.normal(size=(4, 3))])
case("bce_with_logits with NaN in a logit", "bce_with_logits",
     lambda x, c, l: F.binary_cross_entropy_with_logits(x[0], c[0]).reshape(1, 1),
     [[[NAN, -0.5, 0.0, 0.7], [2.0, 40.0, -40.0, 1.5]]], consts=[[[0.0, 1.0, 0.3, 1.0], [0.0, 0.5, 0.0, 1.0]]])
# A composition: NaN through a layer, a relu and a reduction.
X = rng.normal(size=(3, 4))
X[1, 0] = NAN
case("tanh_layer with NaN in x", "tanh_layer", lambda x, c, l: torch.tanh(x[0] @ x[1] + x[2]).sum(1, keepdim=True),
     [X, rng.normal(size=(4, 5)), rng.normal(size=(1, 5))])
case("sigmoid_gate with NaN", "sigmoid_gate",
     lambda x, c, l: torch.sigmoid(x[0]) * torch.tanh(x[1]) + torch.relu(x[0] - x[1]), [X, rng.normal(size=(3, 4))])

with open(OUT, "w") as fh:
    json.dump({"generator": "tools/gen_autograd_nan_fixtures.py", "torch": torch.__version__, "cases": cases}, fh,
              indent=1, allow_nan=False)
    fh.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")
