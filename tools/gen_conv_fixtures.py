#!/usr/bin/python3
"""Golden values and gradients of the image ops and of the LeNet (tests/fixtures/conv_torch.json).

Regenerate (PyTorch 1.13 + numpy are installed only for Debian's interpreter):

    /usr/bin/python3 tools/gen_conv_fixtures.py      # writes tests/fixtures/conv_torch.json

Everything runs in torch float64, with torch.nn.functional's conv2d and max_pool2d on NCHW
tensors. mtlgrad keeps an image batch as [B, C·H·W] rows in the same NCHW order, so inputs and
outputs are stored flattened that way; a conv weight [Cout, C, k, k] is stored as [Cout, C·k·k]
and its bias as [1, Cout]; a Linear weight as mtlgrad's [in, out] (torch's transposed).

"cases": one op or composition each ("expr": conv2d, max_pool2d, or conv_pool_relu_conv) with its
image shape [C, H, W] and settings, the inputs, the value, a seed of the output's shape and the
vector–Jacobian products seedᵀ ∂y/∂input for every input (tests/autograd/test_conv_ops.cpp).
The max-pool cases include ties (first maximum in row-major order takes the gradient) and
windows that the floor mode drops.

"lenet": the LeNet of include/mtlgrad/models/lenet.hpp at hidden width 4 (the width only sizes the
Linear; 4 keeps this file small) on a batch of 3 random 36×36 images with two tasks of 10 classes:
the parameters (PyTorch's default initialisation, seeded), the two cross-entropy losses and each
loss's gradient with respect to every parameter (zeros for the other task's head)
(tests/models/test_lenet.cpp).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261203)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "conv_torch.json")


def flat(t):
    """[B, C, H, W] → [B, C·H·W] as a nested list."""
    return t.detach().reshape(t.shape[0], -1).tolist()


cases = []


def conv_case(name, B, C, H, W, Cout, k, stride, padding):
    x = torch.tensor(rng.normal(size=(B, C, H, W)), requires_grad=True)
    w = torch.tensor(rng.normal(size=(Cout, C, k, k)), requires_grad=True)
    b = torch.tensor(rng.normal(size=(Cout,)), requires_grad=True)
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    seed = torch.tensor(rng.normal(size=tuple(y.shape)))
    gx, gw, gb = torch.autograd.grad(y, [x, w, b], grad_outputs=seed)
    cases.append({"name": name, "expr": "conv2d", "image": [C, H, W], "kernel": k, "stride": stride,
                  "padding": padding, "inputs": [flat(x), w.detach().reshape(Cout, -1).tolist(), [b.tolist()]],
                  "value": flat(y), "seed": flat(seed),
                  "grads": [flat(gx), gw.reshape(Cout, -1).tolist(), [gb.tolist()]]})


def pool_case(name, x, k, stride):
    x = torch.tensor(x, requires_grad=True)
    B, C, H, W = x.shape
    y = F.max_pool2d(x, k, stride)
    seed = torch.tensor(rng.normal(size=tuple(y.shape)))
    (gx,) = torch.autograd.grad(y, [x], grad_outputs=seed)
    cases.append({"name": name, "expr": "max_pool2d", "image": [C, H, W], "kernel": k, "stride": stride,
                  "inputs": [flat(x)], "value": flat(y), "seed": flat(seed), "grads": [flat(gx)]})


conv_case("conv2d 3x3", 2, 2, 6, 5, 3, 3, 1, 0)
conv_case("conv2d 3x3 stride 2 padding 1", 2, 2, 7, 6, 2, 3, 2, 1)
conv_case("conv2d 2x2 stride 3 padding 2 (whole padding columns)", 2, 1, 5, 4, 2, 2, 3, 2)
conv_case("conv2d 1x1", 3, 4, 3, 3, 2, 1, 1, 0)
conv_case("conv2d 5x5 over 3 channels, padding 2", 2, 3, 6, 6, 4, 5, 1, 2)
pool_case("max_pool2d 2 (odd width dropped)", rng.normal(size=(2, 3, 6, 5)), 2, 2)
pool_case("max_pool2d 3 stride 2", rng.normal(size=(2, 2, 7, 7)), 3, 2)
pool_case("max_pool2d 2 stride 1 (overlapping windows)", rng.normal(size=(1, 2, 4, 5)), 2, 1)
pool_case("max_pool2d 2 with ties", np.floor(rng.uniform(0, 3, size=(2, 2, 6, 6))), 2, 2)

# A composition: conv → pool → relu → conv, one seed on the output.
x = torch.tensor(rng.normal(size=(2, 1, 10, 10)), requires_grad=True)
w1 = torch.tensor(rng.normal(size=(3, 1, 3, 3)), requires_grad=True)
b1 = torch.tensor(rng.normal(size=(3,)), requires_grad=True)
w2 = torch.tensor(rng.normal(size=(2, 3, 2, 2)), requires_grad=True)
b2 = torch.tensor(rng.normal(size=(2,)), requires_grad=True)
y = F.conv2d(F.relu(F.max_pool2d(F.conv2d(x, w1, b1), 2)), w2, b2)
seed = torch.tensor(rng.normal(size=tuple(y.shape)))
gs = torch.autograd.grad(y, [x, w1, b1, w2, b2], grad_outputs=seed)
cases.append({"name": "conv 3x3, max-pool 2, relu, conv 2x2", "expr": "conv_pool_relu_conv", "image": [1, 10, 10],
              "inputs": [flat(x), w1.detach().reshape(3, -1).tolist(), [b1.tolist()],
                         w2.detach().reshape(2, -1).tolist(), [b2.tolist()]],
              "value": flat(y), "seed": flat(seed),
              "grads": [flat(gs[0]), gs[1].reshape(3, -1).tolist(), [gs[2].tolist()], gs[3].reshape(2, -1).tolist(),
                        [gs[4].tolist()]]})


class LeNet(torch.nn.Module):
    """Sener & Koltun 2018 / Lin et al. 2019: conv(1→10, 9) → pool 2 → relu → conv(10→20, 5) → pool 2 → relu
    → Linear(500 → hidden) → relu, and one Linear(hidden → 10) per task."""

    def __init__(self, hidden, tasks):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 10, 9)
        self.conv2 = torch.nn.Conv2d(10, 20, 5)
        self.fc = torch.nn.Linear(500, hidden)
        self.heads = torch.nn.ModuleList([torch.nn.Linear(hidden, 10) for _ in range(tasks)])

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        z = F.relu(self.fc(x.flatten(1)))
        return [h(z) for h in self.heads]


torch.manual_seed(16)
net = LeNet(4, 2)
B = 3
X = torch.tensor(rng.uniform(0, 1, size=(B, 1, 36, 36)))
labels = [rng.integers(0, 10, size=B).tolist() for _ in range(2)]


def ours(name, t):
    """A torch parameter in mtlgrad's layout, under mtlgrad's name."""
    if name.startswith("conv"):
        return t.reshape(t.shape[0], -1).tolist() if t.dim() == 4 else [t.tolist()]
    return t.t().tolist() if t.dim() == 2 else [t.tolist()]


names = {"conv1": "trunk.0", "conv2": "trunk.3", "fc": "trunk.6", "heads.0": "head0.0", "heads.1": "head1.0"}


def mtl_name(torch_name):
    module, kind = torch_name.rsplit(".", 1)
    return names[module] + "." + kind


params = dict(net.named_parameters())
outs = net(X)
losses = [F.cross_entropy(o, torch.tensor(l)) for o, l in zip(outs, labels)]
grads = []
for L in losses:
    g = torch.autograd.grad(L, list(params.values()), retain_graph=True, allow_unused=True)
    grads.append({mtl_name(n): ours(n, gi if gi is not None else torch.zeros_like(p))
                  for (n, p), gi in zip(params.items(), g)})
lenet = {"side": 36, "hidden": 4, "x": flat(X), "labels": labels,
         "params": {mtl_name(n): ours(n, p.detach()) for n, p in params.items()},
         "losses": [L.item() for L in losses], "grads": grads}

with open(OUT, "w") as fh:
    json.dump({"generator": "tools/gen_conv_fixtures.py", "torch": torch.__version__, "cases": cases,
               "lenet": lenet}, fh)
    fh.write("\n")
print(f"wrote {len(cases)} cases and the lenet to {os.path.normpath(OUT)}")
