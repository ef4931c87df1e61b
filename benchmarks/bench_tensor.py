"""Tensor engine speed: one MLP training step against PyTorch CPU eager and the GEMM floor.

The step is Linear-ReLU-Linear-ReLU-Linear, softmax cross-entropy, backward and an SGD update, in
float32, at three sizes, at 1 and 2 threads (harness.THREADS, the same on both sides). Each library
runs it in two forms, written the same way for chainrule and for torch from the same weights:

* plain tensor ops, as a user writes a network by hand: ``h = h @ W + b; h = h.relu()`` with W of
  shape (in, out), ``F.cross_entropy``, ``optim.SGD`` over the six tensors;
* modules: ``Sequential(Linear, ReLU, Linear, ReLU, Linear)``, ``CrossEntropyLoss``, ``optim.SGD``.

Beside them: the same step by hand in NumPy (the gradient formulas written out, no autograd), and the
GEMM floor, only the step's 8 matrix products (3 forward, 3 weight gradients, 2 input gradients) in
bare NumPy, once in each weight layout: no NumPy-based engine can be faster on the same BLAS. The
memory check (500 steps keeping each loss) runs at the end.

``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_tensor`` prints the section.
"""
import gc
import os
from types import SimpleNamespace

import numpy as np

from benchmarks.harness import (QUICK_TIMING, THREADS, Load, Timing, interleaved, ratio, target,
                                thread_label, threads, torch_version, verdict)

SIZES = [  # name, batch, layer widths, timed steps
    ("small", 32, (64, 128, 128, 10), 200),
    ("mid", 128, (256, 512, 512, 10), 50),
    ("large", 256, (784, 1024, 1024, 10), 20),
]
# (measure, limit, thread count it applies to or None for all): the targets
TARGETS = {
    "small": [("torch", 0.5, None)],
    "mid": [("torch", 1.0, None), ("floor", 1.10, None)],
    "large": [("floor", 1.05, None), ("torch", 1.0, 2)],
}
LR = 0.01
QUICK_DIVISOR = 10  # --quick times a tenth of the steps
MEMORY_SIZE, MEMORY_STEPS, QUICK_MEMORY_STEPS = "mid", 500, 100
MEMORY_LIMIT_MB = 5.0

# key: label, the torch row it is compared with, the GEMM floor it is compared with, has targets
ROWS = [
    ("chainrule_plain", "chainrule, plain tensor ops", "torch_plain", "gemm_in_out", True),
    ("chainrule_nn", "chainrule, `nn` modules", "torch_nn", "gemm_out_in", True),
    ("torch_plain", "torch {torch} eager, plain tensor ops", "torch_plain", "gemm_in_out", False),
    ("torch_nn", "torch {torch} eager, `torch.nn` modules", "torch_nn", "gemm_out_in", False),
    ("numpy", "NumPy by hand (no autograd)", "torch_plain", "gemm_in_out", False),
    ("gemm_in_out", "GEMM floor, W (in, out)", "torch_plain", "gemm_in_out", False),
    ("gemm_out_in", "GEMM floor, W (out, in)", "torch_nn", "gemm_out_in", False),
]


# -- the two libraries, behind the same names -------------------------------------------------------
def library(name):
    """``name`` ("chainrule" or "torch") as a namespace: tensor(array, requires_grad), F, nn, optim."""
    if name == "torch":
        import torch
        return SimpleNamespace(
            tensor=lambda a, requires_grad=False: torch.tensor(a, requires_grad=requires_grad),
            F=torch.nn.functional, nn=torch.nn, optim=torch.optim)
    import autograd
    import nn
    import nn.functional
    return SimpleNamespace(
        tensor=lambda a, requires_grad=False: autograd.Tensor(np.array(a), requires_grad=requires_grad),
        F=nn.functional, nn=nn, optim=nn.optim)


def init(widths, batch, seed=0):
    """Weights as torch's nn.Linear initialises them, W of shape (out, in) then b; inputs and targets."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        bound = 1.0 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(np.float32))
    x = rng.standard_normal((batch, widths[0])).astype(np.float32)
    y = rng.integers(0, widths[-1], batch).astype(np.int64)
    return params, x, y


def in_out(params):
    """The (out, in) weights of ``params`` transposed to (in, out), contiguous; biases as they are."""
    return [np.ascontiguousarray(p.T) if p.ndim == 2 else p.copy() for p in params]


# -- the contenders: each maker returns (step, parameters) ------------------------------------------
def train_step(model, loss_fn, opt, X, Y):
    """One training step on the fixed batch ``(X, Y)``: zero_grad, forward, loss, backward, step."""
    def step():
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
        return loss
    return step


def plain_step(lib, params, x, y):
    """The step with tensor ops only: ``h = h @ W + b``, ``relu``, ``F.cross_entropy``, ``optim.SGD``."""
    ps = [lib.tensor(p, requires_grad=True) for p in in_out(params)]
    layers = list(zip(ps[::2], ps[1::2]))

    def forward(h):
        for i, (W, b) in enumerate(layers):
            h = h @ W + b
            if i < len(layers) - 1:
                h = h.relu()
        return h
    opt = lib.optim.SGD(ps, lr=LR)
    return train_step(forward, lib.F.cross_entropy, opt, lib.tensor(x), lib.tensor(y)), ps


def nn_step(lib, params, x, y):
    """The step with modules: ``Sequential`` of ``Linear``/``ReLU``, ``CrossEntropyLoss``, ``optim.SGD``."""
    layers, state = [], {}
    for W, b in zip(params[::2], params[1::2]):
        if layers:
            layers.append(lib.nn.ReLU())
        state[f"{len(layers)}.weight"], state[f"{len(layers)}.bias"] = lib.tensor(W), lib.tensor(b)
        layers.append(lib.nn.Linear(W.shape[1], W.shape[0]))
    model = lib.nn.Sequential(*layers)
    model.load_state_dict(state)
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    step = train_step(model, lib.nn.CrossEntropyLoss(), opt, lib.tensor(x), lib.tensor(y))
    return step, list(model.parameters())


def numpy_step(params, x, y):
    """The step by hand in NumPy, W (in, out): forward, the gradient formulas, SGD; no autograd."""
    W1, b1, W2, b2, W3, b3 = ps = in_out(params)
    rows, batch = np.arange(len(y)), len(y)

    def step():
        z1 = x @ W1 + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2 + b2
        h2 = np.maximum(z2, 0)
        z3 = h2 @ W3 + b3
        s = z3 - z3.max(1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(1, keepdims=True))
        loss = -logp[rows, y].mean()
        g3 = np.exp(logp)
        g3[rows, y] -= 1.0
        g3 /= batch
        g2 = (g3 @ W3.T) * (z2 > 0)
        g1 = (g2 @ W2.T) * (z1 > 0)
        grads = (x.T @ g1, g1.sum(0), h1.T @ g2, g2.sum(0), h2.T @ g3, g3.sum(0))
        for p, g in zip(ps, grads):
            p -= LR * g
        return np.float32(loss)
    return step, ps


def gemm_products(params, x, layout):
    """The step's 8 matrix products as (a, b) operand pairs, weights in ``layout`` "in_out" (``h @ W``)
    or "out_in" (``h @ W.T``, as nn.Linear), each operand in the layout (a transposed view or not)
    that form's forward or backward uses: 3 forward, 3 weight gradients, 2 input gradients (the input
    needs none). The activations and upstream gradients are random: only the shapes matter."""
    rng = np.random.default_rng(1)
    ws = params[::2] if layout == "out_in" else in_out(params)[::2]
    hs = [x] + [rng.standard_normal((len(x), W.shape[0])).astype(np.float32) for W in params[:-2:2]]
    gs = [rng.standard_normal((len(x), W.shape[0])).astype(np.float32) for W in params[::2]]
    if layout == "out_in":  # y = h @ W.T, dW = g.T @ h, dh = g @ W
        return ([(h, W.T) for h, W in zip(hs, ws)] + [(g.T, h) for g, h in zip(gs, hs)]
                + [(g, W) for g, W in zip(gs[1:], ws[1:])])
    return ([(h, W) for h, W in zip(hs, ws)] + [(h.T, g) for g, h in zip(gs, hs)]  # y = h @ W, dW = h.T @ g
            + [(g, W.T) for g, W in zip(gs[1:], ws[1:])])  # dh = g @ W.T


def gemm_step(params, x, layout):
    """Only the step's 8 matrix products (``gemm_products``) in bare NumPy."""
    products = gemm_products(params, x, layout)

    def step():
        for a, b in products:
            a @ b
    return step, None


def makers(params, x, y):
    """Every contender's maker: name -> () -> (step, parameters or None)."""
    cr, th = library("chainrule"), library("torch")
    return {
        "chainrule_plain": lambda: plain_step(cr, params, x, y),
        "chainrule_nn": lambda: nn_step(cr, params, x, y),
        "torch_plain": lambda: plain_step(th, params, x, y),
        "torch_nn": lambda: nn_step(th, params, x, y),
        "numpy": lambda: numpy_step(params, x, y),
        "gemm_in_out": lambda: gemm_step(params, x, "in_out"),
        "gemm_out_in": lambda: gemm_step(params, x, "out_in"),
    }


def check_same_step(contenders, n=2):
    """Every contender with parameters takes ``n`` steps from the same weights and must end with torch
    nn's losses and weights (a benchmark of a wrong step would be worthless); raises AssertionError."""
    results = {}
    for name, make in contenders.items():
        step, ps = make()
        if ps is None:
            continue
        losses = [float(step().item()) for _ in range(n)]
        arrays = [p if isinstance(p, np.ndarray) else p.detach().numpy() for p in ps]
        if "nn" not in name:  # plain forms keep W as (in, out)
            arrays = [a.T if a.ndim == 2 else a for a in arrays]
        results[name] = losses, arrays
    ref_losses, ref = results["torch_nn"]
    for name, (losses, arrays) in results.items():
        if not (np.allclose(losses, ref_losses, rtol=1e-5, atol=1e-6)
                and all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(arrays, ref))):
            raise AssertionError(f"bench_tensor: {name} and torch disagree on the training step "
                                 f"(losses {losses} vs {ref_losses})")


# -- memory -----------------------------------------------------------------------------------------
def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_check(batch, widths, steps=MEMORY_STEPS):
    """RSS growth (bytes) over ``steps`` plain-ops steps that keep every step's loss tensor in a list:
    backward must free each graph, or the list would keep every step's activations alive."""
    params, x, y = init(widths, batch)
    step, _ = plain_step(library("chainrule"), params, x, y)
    for _ in range(20):
        step()
    gc.collect()
    before = _rss_bytes()
    losses = [step() for _ in range(steps)]
    gc.collect()
    growth = _rss_bytes() - before
    del losses  # alive until after the measurement
    return growth


# -- run and report ---------------------------------------------------------------------------------
def run(quick=False, sizes=SIZES, thread_counts=THREADS, memory_steps=None):
    """Time every size in ``sizes`` at every thread count; return the BENCHMARKS.md section and the key
    numbers. ``--quick`` times a tenth of the steps in fewer, shorter blocks."""
    timing = QUICK_TIMING if quick else Timing()
    rows, described = {}, {}
    with Load() as load:
        for name, batch, widths, steps in sizes:
            params, x, y = init(widths, batch)
            contenders = makers(params, x, y)
            check_same_step(contenders)
            steps = max(timing.rounds, steps // QUICK_DIVISOR) if quick else steps
            rows[name] = {"steps": steps}
            for n in thread_counts:
                with threads(n) as described[n]:
                    fns = {key: make()[0] for key, make in contenders.items()}
                    rows[name][n] = interleaved(fns, steps, Timing(timing.rounds, timing.pause,
                                                                   max(timing.warmup, steps // 10)))
    memory_steps = memory_steps or (QUICK_MEMORY_STEPS if quick else MEMORY_STEPS)
    mem = next((s for s in sizes if s[0] == MEMORY_SIZE), sizes[0])
    growth = memory_check(mem[1], mem[2], memory_steps)
    return report(rows, sizes, thread_counts, described, load, growth, memory_steps, mem)


def judge(size, ms, n):
    """The issue's targets for ``size`` that apply at ``n`` threads: [("torch" or "floor", met)] for one
    row's ``ms`` = {"torch": ratio to torch, "floor": ratio to the GEMM floor}."""
    return [(what, ms[what] <= limit) for what, limit, only in TARGETS.get(size, []) if only in (None, n)]


def target_text(what, limit, only=None):
    """"<= 1.05x the GEMM floor", "<= 1x torch at 2 threads"."""
    where = f" at {thread_label(only)}" if only else ""
    return f"<= {limit:g}x {'torch' if what == 'torch' else 'the GEMM floor'}{where}"


def _target_rows(name, batch, widths, entry, thread_counts):
    """The summary rows of size ``name``: each targeted form against each of the size's targets."""
    rows = []
    for key, label, *_, targeted in ROWS:
        for what, limit, only in TARGETS.get(name, []) if targeted else []:
            results = [(thread_label(n), entry[key][n][what] <= limit, f"{entry[key][n][what]:.2f}x")
                       for n in thread_counts if only in (None, n)]
            workload = f"MLP {name} B={batch} {'-'.join(map(str, widths))}, {label.split(', ')[1]}"
            rows.append(target(workload, target_text(what, limit, only), results))
    return rows


def report(rows, sizes, thread_counts, described, load, growth, memory_steps, mem):
    """The markdown section and the key numbers."""
    labels = {"torch": torch_version()}
    result = {"threads": described, "rss_growth_mb": growth / 2**20, "memory_steps": memory_steps,
              "other_processes_cpu": load.others, "sizes": {}, "targets": []}
    lines = [
        "## Tensor engine: one MLP training step",
        "",
        "Linear-ReLU-Linear-ReLU-Linear, softmax cross-entropy, backward and SGD (lr 0.01) in float32, "
        "each library in two forms written the same way: *plain tensor ops* (`h = h @ W + b; h = "
        "h.relu()` with W (in, out), `F.cross_entropy`, `optim.SGD` over the six tensors) and *modules* "
        "(`Sequential` of `Linear`/`ReLU`, `CrossEntropyLoss`, `optim.SGD`). *NumPy by hand* is the step "
        "with the gradient formulas written out (no autograd); the *GEMM floor* is only its 8 matrix "
        "products, in each weight layout. Median ms/step of interleaved blocks, everything from the same "
        "weights in one process (two steps of each contender are checked against torch's). Each form is "
        "compared with torch's same form and with the GEMM floor of its layout.",
        "",
        *[f"Threads at {thread_label(n)}: {described[n]}." for n in thread_counts],
        "",
        *load.warning(),
    ]
    for name, batch, widths, _ in sizes:
        entry = result["sizes"][name] = {"steps": rows[name]["steps"]}
        targets = "; ".join(target_text(*t) for t in TARGETS.get(name, []))
        lines += [
            f"**{name}**: batch {batch}, layers {'-'.join(map(str, widths))}, {rows[name]['steps']} timed "
            f"steps per contender and thread count. Targets: {targets or 'none'}.",
            "",
            "| | " + " | ".join(f"{thread_label(n)}: ms | vs torch | vs GEMM floor | target"
                               for n in thread_counts) + " |",
            "|---|" + "---:|---:|---:|---|" * len(thread_counts),
        ]
        for key, label, torch_key, floor_key, targeted in ROWS:
            cells, entry[key] = [], {}
            for n in thread_counts:
                r = rows[name][n]
                ms = {"ms": r[key], "torch": r[key] / r[torch_key], "floor": r[key] / r[floor_key]}
                judged = judge(name, ms, n) if targeted else []
                entry[key][n] = {**ms, "targets": judged}
                cell = ", ".join(f"{what} {verdict(met)}" for what, met in judged)
                cells.append(f"{r[key]:.3f} | {ratio(r[key], r[torch_key])} | {ratio(r[key], r[floor_key])} "
                             f"| {cell}")
            lines.append(f"| {label.format(**labels)} | " + " | ".join(cells) + " |")
        lines.append("")
        result["targets"] += _target_rows(name, batch, widths, entry, thread_counts)
    met = growth <= MEMORY_LIMIT_MB * 2**20
    result["memory_target_met"] = met
    goal = f"< {MEMORY_LIMIT_MB:g} MB growth"
    result["targets"].append(target(f"memory: {memory_steps} steps keeping each loss", goal,
                                    [(None, met, f"{growth / 2**20:.2f} MB")]))
    lines += [f"Memory: {memory_steps} plain-ops steps at the {mem[0]} size that keep every step's loss "
              f"tensor in a list grow resident memory by {growth / 2**20:.2f} MB (target < "
              f"{MEMORY_LIMIT_MB:g} MB: {verdict(met)}; backward frees each graph).", ""]
    result["markdown"] = "\n".join(lines)
    return result


if __name__ == "__main__":
    print(run()["markdown"])
