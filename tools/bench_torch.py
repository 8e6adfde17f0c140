#!/usr/bin/python3
"""The multi-task steps of bench/mtlgrad_bench in PyTorch, run in alternation with our bench.

Usage (from the source tree; needs /usr/bin/python3 with torch 1.13):

    /usr/bin/python3 tools/bench_torch.py --bench build/bench/mtlgrad_bench \
        --bench-float build-float/bench/mtlgrad_bench --threads 1 --rounds 3

For every round and every case it runs our program (a subprocess), then PyTorch's efficient step
(one forward, one torch.autograd.grad per task with retain_graph, PCGrad on the Gramian J Jᵀ, Adam)
and the blog post's step (a full forward and backward per task, PCGrad on the flattened vectors of
every parameter, Adam), and prints the medians over the rounds and our time / PyTorch's time, in
double and (with --bench-float) in float32. The toy is 100 000 steps of pcgrad + adam: our whole
process, timed from outside, against PyTorch's per-step time times 100 000.

The cases: MLP 2-32-32 (relu) with T = 2 heads of one output, B = 64, mse; MLP 784-256-256 (relu)
with T heads of 10 classes, B = 256, cross-entropy; the CAGrad toy (include/mtlgrad/models/toy2d.hpp);
and ("lenet", not in the default list) the LeNet of include/mtlgrad/models/lenet.hpp on 36×36
inputs, T = 2 heads of 10 classes, B = 256, cross-entropy:

    /usr/bin/python3 tools/bench_torch.py --bench build/bench/mtlgrad_bench \
        --bench-float build-float/bench/mtlgrad_bench --threads 1 --cpu-clock --cases lenet --no-blog
"""
import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time

import torch


def mlp_case(name):
    if name == "lenet":
        return dict(name="lenet36-T2", lenet=True, side=36, T=2, classes=10, B=256, hidden=50)
    if name == "tiny":
        return dict(name="mlp2-32-32-T2", d_in=2, width=32, T=2, classes=0, B=64)
    T = int(name[3:])
    return dict(name="mlp784-256-256-T%d" % T, d_in=784, width=256, T=T, classes=10, B=256)


class LeNet(torch.nn.Module):
    """Sener & Koltun 2018 / Lin et al. 2019, as include/mtlgrad/models/lenet.hpp."""

    def __init__(self, c):
        super().__init__()
        nn = torch.nn
        h = c["hidden"]
        self.trunk = nn.Sequential(nn.Conv2d(1, 10, 9), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(10, 20, 5),
                                   nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(500, h), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(h, c["classes"]) for _ in range(c["T"])])


class Model(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c["width"]
        self.trunk = torch.nn.Sequential(torch.nn.Linear(c["d_in"], w), torch.nn.ReLU(), torch.nn.Linear(w, w),
                                         torch.nn.ReLU())
        self.heads = torch.nn.ModuleList([torch.nn.Linear(w, c["classes"] or 1) for _ in range(c["T"])])


def make(c, dtype):
    torch.manual_seed(0)
    if c.get("lenet"):
        m = LeNet(c).to(dtype)
        x = torch.rand(c["B"], 1, c["side"], c["side"], dtype=dtype)
    else:
        m = Model(c).to(dtype)
        x = torch.rand(c["B"], c["d_in"], dtype=dtype)
    if c["classes"]:
        ys = [torch.randint(0, c["classes"], (c["B"],)) for _ in range(c["T"])]
        loss = torch.nn.functional.cross_entropy
    else:
        ys = [torch.randn(c["B"], 1, dtype=dtype) for _ in range(c["T"])]
        loss = torch.nn.functional.mse_loss
    return m, x, ys, loss


def pcgrad_weights(G, rng):
    """PCGrad (Yu et al. 2020) on the Gramian: g_i' = Σ_k c_ik g_k, projections in a random order."""
    T = len(G)
    w = [0.0] * T
    for i in range(T):
        c = [0.0] * T
        c[i] = 1.0
        order = list(range(T))
        rng.shuffle(order)
        for j in order:
            if j == i:
                continue
            dot = sum(c[k] * G[k][j] for k in range(T))
            if dot < 0 and G[j][j] > 0:
                c[j] -= dot / G[j][j]
        for k in range(T):
            w[k] += c[k]
    return w


def efficient_step(m, x, ys, loss, opt, rng):
    shared = list(m.trunk.parameters())
    z = m.trunk(x)
    losses = [loss(h(z), y) for h, y in zip(m.heads, ys)]
    rows = []
    for i, L in enumerate(losses):
        own = list(m.heads[i].parameters())
        gs = torch.autograd.grad(L, shared + own, retain_graph=i + 1 < len(losses))
        rows.append(torch.cat([g.reshape(-1) for g in gs[:len(shared)]]))
        for p, g in zip(own, gs[len(shared):]):
            p.grad = g
    J = torch.stack(rows)
    w = pcgrad_weights((J @ J.T).tolist(), rng)
    d = torch.mv(J.T, torch.tensor(w, dtype=J.dtype))
    off = 0
    for p in shared:
        p.grad = d[off:off + p.numel()].view_as(p)
        off += p.numel()
    opt.step()


def blog_step(m, x, ys, loss, opt, rng):
    params = list(m.parameters())
    grads = []
    for h, y in zip(m.heads, ys):
        opt.zero_grad(set_to_none=False)
        loss(h(m.trunk(x)), y).backward()
        grads.append(torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).clone() for p in params]))
    projected = [g.clone() for g in grads]
    for g_i in projected:
        order = list(range(len(grads)))
        rng.shuffle(order)
        for j in order:
            dot = torch.dot(g_i, grads[j])
            if dot < 0:
                g_i -= dot * grads[j] / grads[j].norm() ** 2
    merged = torch.stack(projected).sum(dim=0)
    off = 0
    for p in params:
        p.grad = merged[off:off + p.numel()].view_as(p).clone()
        off += p.numel()
    opt.step()


CLOCK = time.perf_counter  # --cpu-clock: time.process_time (this process's CPU time)


def time_steps(step, min_seconds, min_reps, warmup=3):
    for _ in range(warmup):
        step()
    t, start = [], CLOCK()
    while len(t) < min_reps or CLOCK() - start < min_seconds:
        t0 = CLOCK()
        step()
        t.append(1e3 * (CLOCK() - t0))
    return statistics.median(t)


def torch_mlp(c, dtype, variant, a):
    m, x, ys, loss = make(c, dtype)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    rng = random.Random(0)
    f = efficient_step if variant == "efficient" else blog_step
    return time_steps(lambda: f(m, x, ys, loss, opt, rng), a.min_seconds, a.min_reps)


def toy_losses(x):
    """CAGrad's toy, as include/mtlgrad/models/toy2d.hpp."""
    x1, x2 = x[0], x[1]
    th = torch.tanh(-x2)
    f1_log = torch.log(torch.clamp(torch.abs(0.5 * (-x1 - 7) - th), min=5e-6)) + 6
    f2_log = torch.log(torch.clamp(torch.abs(0.5 * (-x1 + 3) + th + 2), min=5e-6)) + 6
    c1 = torch.clamp(torch.tanh(0.5 * x2), min=0)
    c2 = torch.clamp(torch.tanh(-0.5 * x2), min=0)
    sq2 = 0.1 * (-x2 - 8) ** 2
    f1_sq = ((-x1 + 7) ** 2 + sq2) / 10 - 20
    f2_sq = ((-x1 - 7) ** 2 + sq2) / 10 - 20
    return [c1 * f1_log + c2 * f1_sq, c1 * f2_log + c2 * f2_sq]


def torch_toy_ms(dtype, steps):
    x = torch.tensor([-8.5, 7.5], dtype=dtype, requires_grad=True)
    opt = torch.optim.Adam([x], lr=1e-3)
    rng = random.Random(0)

    def step():
        ls = toy_losses(x)
        J = torch.stack([torch.autograd.grad(L, [x], retain_graph=i == 0)[0] for i, L in enumerate(ls)])
        w = pcgrad_weights((J @ J.T).tolist(), rng)
        x.grad = torch.mv(J.T, torch.tensor(w, dtype=dtype))
        opt.step()

    for _ in range(20):
        step()
    t0 = CLOCK()
    for _ in range(steps):
        step()
    return 1e3 * (CLOCK() - t0) / steps


def ours(bench, case, a):
    args = [bench, "--threads", str(a.threads), "--min-seconds", str(a.min_seconds), "--min-reps", str(a.min_reps)]
    if a.cpu_clock:
        args.append("--cpu-clock")
    if case == "toy":  # the whole process: wall time, or the child's CPU time
        t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(args + ["--case", "toy"], check=True, capture_output=True, text=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        return 1e3 * (cpu if a.cpu_clock else time.perf_counter() - t0), json.loads(out.stdout)["toy"]
    extra = ["--case", case] if case in ("tiny", "lenet") else ["--case", "mlp", "--tasks", case[3:]]
    out = subprocess.run(args + extra, check=True, capture_output=True, text=True)
    j = json.loads(out.stdout)
    r = j["steps"][0]
    r["gemm_gflops"] = j["gemm_gflops"]
    return r["ms"], r


def peak_rss_kb():
    """This process's own peak RSS: VmHWM (getrusage's ru_maxrss survives exec, so a child reports
    at least its parent's peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_child(T, dtype):
    """Issue #19: build the 784-256-256 step for T tasks, run it a few times, print the peak RSS (kB)."""
    c = mlp_case("mlp%d" % T)
    m, x, ys, loss = make(c, dtype)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    rng = random.Random(0)
    for _ in range(5):
        efficient_step(m, x, ys, loss, opt, rng)
    print(peak_rss_kb())


def rss_table(a):
    """Peak RSS of one process per (T, side): ours (mtlgrad_bench --case rss) and PyTorch's efficient step."""
    print("| T | dtype | mtlgrad peak RSS MB | PyTorch peak RSS MB | PyTorch import only MB | mtlgrad / PyTorch |")
    print("|---|---|---|---|---|---|")
    base = subprocess.run([sys.executable, "-c", "import torch\nfor l in open('/proc/self/status'):\n"
                           "    if l.startswith('VmHWM:'): print(l.split()[1])"],
                          check=True, capture_output=True, text=True)
    base_mb = int(base.stdout.split()[-1]) / 1024
    builds = [("double", a.bench)] + ([("float", a.bench_float)] if a.bench_float else [])
    for T in a.rss:
        for dname, bench in builds:
            out = subprocess.run([bench, "--case", "rss", "--tasks", str(T), "--threads", str(a.threads)],
                                 check=True, capture_output=True, text=True)
            ours_mb = json.loads(out.stdout)["rss"]["max_rss_kb"] / 1024
            t = subprocess.run([sys.executable, __file__, "--rss-child", str(T), dname, "--threads", str(a.threads),
                                "--bench", bench], check=True, capture_output=True, text=True)
            torch_mb = int(t.stdout.split()[-1]) / 1024
            print("| %d | %s | %.1f | %.1f | %.1f | %.2f |" % (T, dname, ours_mb, torch_mb, base_mb, ours_mb / torch_mb))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", required=True, help="mtlgrad_bench of the double build")
    p.add_argument("--bench-float", help="mtlgrad_bench of the float build (MTLGRAD_REAL=float)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--min-seconds", type=float, default=1.0)
    p.add_argument("--min-reps", type=int, default=10)
    p.add_argument("--cases", nargs="+", default=["tiny", "mlp2", "mlp4", "mlp8", "toy"])
    p.add_argument("--no-blog", action="store_true", help="skip the blog post's variant")
    p.add_argument("--toy-torch-steps", type=int, default=2000)
    p.add_argument("--json", help="also write every measurement here")
    p.add_argument("--cpu-clock", action="store_true",
                   help="time by CPU time on both sides (a loaded machine; meaningful with --threads 1 only)")
    p.add_argument("--rss", type=int, nargs="+", metavar="T",
                   help="instead of timing: the peak RSS of the T-task 784-256-256 step, ours and PyTorch's, "
                        "each in its own process")
    p.add_argument("--rss-child", nargs=2, metavar=("T", "DTYPE"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.rss_child:
        torch.set_num_threads(a.threads)
        rss_child(int(a.rss_child[0]), torch.float64 if a.rss_child[1] == "double" else torch.float32)
        return
    if a.rss:
        torch.set_num_threads(a.threads)
        rss_table(a)
        return
    global CLOCK
    if a.cpu_clock:
        CLOCK = time.process_time
    torch.set_num_threads(a.threads)
    builds = [("double", torch.float64, a.bench)] + ([("float", torch.float32, a.bench_float)] if a.bench_float else [])
    res = {}
    for r in range(a.rounds):
        for dname, dtype, bench in builds:
            for case in a.cases:
                e = res.setdefault((dname, case), {"ours": [], "eff": [], "blog": [], "info": None})
                ms, info = ours(bench, case, a)
                e["ours"].append(ms)
                e["info"] = info
                e.setdefault("gemm", []).append(info.get("gemm_gflops", 0))
                if case == "toy":
                    e["eff"].append(1e5 * torch_toy_ms(dtype, a.toy_torch_steps))
                    continue
                c = mlp_case(case)
                e["eff"].append(torch_mlp(c, dtype, "efficient", a))
                if not a.no_blog:
                    e["blog"].append(torch_mlp(c, dtype, "blog", a))
                print("round %d %s %s: ours %.4f ms, torch %.4f ms" % (r + 1, dname, case, ms, e["eff"][-1]),
                      file=sys.stderr)
    print("| case | dtype | mtlgrad ms | PyTorch ms | mtlgrad / PyTorch | blog-post PyTorch ms | mtlgrad / blog |"
          " mtlgrad GF/s | % of same-run gemm |")
    print("|---|---|---|---|---|---|---|---|---|")
    out = []
    for (dname, case), e in res.items():
        o, t = statistics.median(e["ours"]), statistics.median(e["eff"])
        b = statistics.median(e["blog"]) if e["blog"] else float("nan")
        name = "toy, 100 000 steps (whole process; PyTorch per step × 1e5)" if case == "toy" else e["info"]["name"]
        # The rate of the median step against the median same-run GEMM rate.
        rate = 0 if case == "toy" else e["info"]["gflop"] / (o * 1e-3)
        gf = "—" if case == "toy" else "%.1f" % rate
        pct = "—" if case == "toy" else "%.0f%%" % (100 * rate / statistics.median(e["gemm"]))
        blog = "—" if case == "toy" or not e["blog"] else "%.3f | %.3f" % (b, o / b)
        if blog == "—":
            blog = "— | —"
        print("| %s | %s | %.4f | %.4f | %.3f (%.1f× faster) | %s | %s | %s |" % (name, dname, o, t, o / t, t / o, blog, gf, pct))
        out.append(dict(case=case, dtype=dname, ours_ms=e["ours"], torch_ms=e["eff"], blog_ms=e["blog"],
                        gemm_gflops=e["gemm"], info=e["info"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(threads=a.threads, rounds=a.rounds, results=out), f, indent=1)


if __name__ == "__main__":
    main()
