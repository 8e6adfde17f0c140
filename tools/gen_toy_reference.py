#!/usr/bin/python3
"""PyTorch reference trajectories of the CAGrad 2-D toy (docs/algorithms.md) for tests/models.

For the aggregators sum, mean and pcgrad and the optimizers adam and sgd, from several starts, runs
STEPS steps in float64 and records x after every step. PCGrad is written from the paper's
Algorithm 1 (Yu et al. 2020); with T = 2 its result does not depend on the visiting order.

Regenerate:  /usr/bin/python3 tools/gen_toy_reference.py > tests/fixtures/toy_reference.json
"""
import json
import torch

torch.set_default_dtype(torch.float64)
LOWER = 5e-6
STEPS = 300
STARTS = [[-8.5, 7.5], [-8.5, -5.0], [9.0, 9.0], [0.0, 0.0], [-7.5, -0.5], [9.0, -1.0]]


def objectives(x):
    x1, x2 = x[0], x[1]
    f1 = torch.clamp((0.5 * (-x1 - 7) - torch.tanh(-x2)).abs(), LOWER).log() + 6
    f2 = torch.clamp((0.5 * (-x1 + 3) + torch.tanh(-x2) + 2).abs(), LOWER).log() + 6
    c1 = torch.clamp(torch.tanh(x2 * 0.5), 0)
    f1_sq = ((-x1 + 7).pow(2) + 0.1 * (-x2 - 8).pow(2)) / 10 - 20
    f2_sq = ((-x1 - 7).pow(2) + 0.1 * (-x2 - 8).pow(2)) / 10 - 20
    c2 = torch.clamp(torch.tanh(-x2 * 0.5), 0)
    return [c1 * f1 + c2 * f1_sq, c1 * f2 + c2 * f2_sq]


def aggregate(name, grads):
    if name == "sum":
        return grads[0] + grads[1]
    if name == "mean":
        return (grads[0] + grads[1]) / 2
    assert name == "pcgrad"
    out = []
    for i, gi in enumerate(grads):
        g = gi.clone()
        for j, gj in enumerate(grads):
            if j == i:
                continue
            dot = torch.dot(g, gj)
            if dot < 0:
                g = g - dot / torch.dot(gj, gj) * gj
        out.append(g)
    return out[0] + out[1]


def run(aggregator, optimizer, start):
    x = torch.tensor(start, requires_grad=True)
    if optimizer["name"] == "adam":
        opt = torch.optim.Adam([x], lr=optimizer["lr"])
    else:
        opt = torch.optim.SGD([x], lr=optimizer["lr"], momentum=optimizer.get("momentum", 0))
    traj, losses = [], []
    for _ in range(STEPS):
        f = objectives(x)
        grads = [torch.autograd.grad(fi, x, retain_graph=True)[0] for fi in f]
        losses.append([float(fi) for fi in f])
        d = aggregate(aggregator, grads)
        opt.zero_grad()
        x.grad = d.clone()
        opt.step()
        traj.append(x.detach().tolist())
    return traj, losses


cases = []
for optimizer in [{"name": "adam", "lr": 0.001}, {"name": "sgd", "lr": 0.01, "momentum": 0.9}]:
    for aggregator in ["sum", "mean", "pcgrad"]:
        for start in STARTS:
            traj, losses = run(aggregator, optimizer, start)
            cases.append({"aggregator": aggregator, "optimizer": optimizer, "start": start,
                          "trajectory": traj, "losses": losses})
print(json.dumps({"generator": "tools/gen_toy_reference.py", "torch": torch.__version__,
                  "steps": STEPS, "cases": cases}))
