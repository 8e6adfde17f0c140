#!/usr/bin/python3
"""PyTorch reference for the per-task gradients of hps_mlp (include/mtlgrad/models/hps_mlp.hpp).

A trunk Linear(5,6)-Tanh-Linear(6,4)-Tanh and three heads Linear(4,k): task 0 classification with
3 classes (cross-entropy), task 1 regression with 1 output and task 2 with 2 outputs (mse). For one
batch of 7 rows, torch.autograd.grad of each w_i·L_i with respect to the trunk and its own head.
Every tensor is written in mtlgrad's layout: a Linear weight is [in, out] (torch's transposed).

Regenerate:  /usr/bin/python3 tools/gen_hps_reference.py > tests/fixtures/hps_reference.json
"""
import json
import torch

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
B, D = 7, 5
trunk = torch.nn.Sequential(torch.nn.Linear(D, 6), torch.nn.Tanh(), torch.nn.Linear(6, 4), torch.nn.Tanh())
heads = [torch.nn.Sequential(torch.nn.Linear(4, k)) for k in (3, 1, 2)]
x = torch.randn(B, D)
labels = torch.tensor([0, 2, 1, 1, 0, 2, 2])
y1 = torch.randn(B, 1)
y2 = torch.randn(B, 2)
task_weights = [1.0, 0.5, 2.0]

z = trunk(x)
losses = [torch.nn.functional.cross_entropy(heads[0](z), labels),
          torch.nn.functional.mse_loss(heads[1](z), y1),
          torch.nn.functional.mse_loss(heads[2](z), y2)]


def ours(name, t):
    """mtlgrad layout: weights transposed to [in, out], biases as 1×n rows."""
    return (t.T if name.endswith("weight") else t.reshape(1, -1)).tolist()


params = {}
for name, p in trunk.named_parameters():
    params["trunk." + name] = ours(name, p.detach())
for i, h in enumerate(heads):
    for name, p in h.named_parameters():
        params[f"head{i}." + name] = ours(name, p.detach())

grads = []
for i, L in enumerate(losses):
    named = [("trunk." + n, p) for n, p in trunk.named_parameters()] + \
            [(f"head{i}." + n, p) for n, p in heads[i].named_parameters()]
    g = torch.autograd.grad(task_weights[i] * L, [p for _, p in named], retain_graph=True)
    grads.append({n: ours(n, gi) for (n, _), gi in zip(named, g)})

print(json.dumps({
    "generator": "tools/gen_hps_reference.py", "torch": torch.__version__,
    "inputs": x.tolist(), "labels": labels.tolist(), "y1": y1.tolist(), "y2": y2.tolist(),
    "task_weights": task_weights, "params": params,
    "losses": [float(L) for L in losses], "grads": grads}))
