"""Tensor engine speed: one MLP training step against PyTorch CPU eager and the GEMM floor.

The step is Linear-ReLU-Linear-ReLU-Linear, softmax cross-entropy, backward and an SGD update, in
float32, at three sizes. Everything runs in one process with the same thread count for NumPy's BLAS
(set with threadpoolctl when it is installed) and for torch (``torch.set_num_threads``). Contenders:

* chainrule written with ``autograd`` tensors only: ``x @ W.T + b``, ``.relu()``,
  ``-(logits.log_softmax(1)[arange(B), y]).mean()``, ``p.data -= lr * p.grad.data``;
* chainrule with ``nn`` (``Sequential``/``Linear``/``CrossEntropyLoss``/``optim.SGD``), when importable;
* torch eager with ``torch.nn`` and ``torch.optim.SGD``, from the same weights;
* the same step written by hand in NumPy, no autograd (what any NumPy engine can at best approach);
* the GEMM floor: only the 8 matrix products of the step (3 forward, 3 weight gradients, 2 input
  gradients) with NumPy: no NumPy-based engine can be faster on the same BLAS.

``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_tensor`` prints the section.
"""
import gc
import os
import statistics
import time

import numpy as np

import autograd

SIZES = [  # name, batch, layer widths, timed steps
    ("small", 32, (64, 128, 128, 10), 200),
    ("mid", 128, (256, 512, 512, 10), 50),
    ("large", 256, (784, 1024, 1024, 10), 20),
]
TARGETS = {"small": 0.5, "mid": 1.0, "large": 1.0}  # chainrule / torch
FLOOR_TARGETS = {"large": 1.25}  # chainrule / GEMM floor
LR = 0.01
ROUNDS = 5  # the timed steps are split into this many interleaved blocks per contender
PAUSE = 0.3  # seconds of idle before each block (see _time)
MEMORY_STEPS = 500
MEMORY_LIMIT_MB = 5.0


# -- threads ----------------------------------------------------------------------------------------
def _set_threads(n):
    """Give NumPy's BLAS and torch ``n`` threads each. Returns what each reports and an undo function."""
    import torch
    old_torch = torch.get_num_threads()
    torch.set_num_threads(n)
    undo = [lambda: torch.set_num_threads(old_torch)]
    blas = (f"not set (threadpoolctl is not installed; OPENBLAS_NUM_THREADS="
            f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})")
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        pass
    else:
        limiter = threadpool_limits(limits=n, user_api="blas")
        undo.append(limiter.restore_original_limits)
        pools = [p for p in threadpool_info() if p["user_api"] == "blas" and "numpy" in p["filepath"]]
        if pools:
            blas = ", ".join(f"{p['internal_api']} {p['version']} with {p['num_threads']}" for p in pools)
    return {"torch": torch.get_num_threads(), "numpy_blas": blas}, undo


# -- the contenders ---------------------------------------------------------------------------------
def _init(widths, batch, seed=0):
    """Weights as torch's nn.Linear initialises them (W is (out, in)), inputs and class targets."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        bound = 1.0 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(np.float32))
    x = rng.standard_normal((batch, widths[0])).astype(np.float32)
    y = rng.integers(0, widths[-1], batch).astype(np.int64)
    return params, x, y


def _chainrule_step(params, x, y):
    """The step written with ``autograd`` tensors only (as a user would without ``nn``)."""
    W1, b1, W2, b2, W3, b3 = ps = [autograd.Tensor(p, requires_grad=True) for p in params]
    X, rows = autograd.Tensor(x), np.arange(len(y))

    def step():
        h = (X @ W1.T + b1).relu()
        h = (h @ W2.T + b2).relu()
        logits = h @ W3.T + b3
        loss = -(logits.log_softmax(1)[rows, y]).mean()
        loss.backward()
        for p in ps:
            p.data -= LR * p.grad.data
            p.grad = None
        return loss
    return step, ps


def _nn_step(params, x, y):
    """The same step with ``nn`` (Sequential, Linear, CrossEntropyLoss, optim.SGD)."""
    import nn
    sizes = [params[i].shape[::-1] for i in (0, 2, 4)]
    model = nn.Sequential(nn.Linear(*sizes[0]), nn.ReLU(), nn.Linear(*sizes[1]), nn.ReLU(),
                          nn.Linear(*sizes[2]))
    names = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    model.load_state_dict(dict(zip(names, params)))
    step = _nn_train_step(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=LR), x, y)
    return step, [p for _, p in sorted(model.named_parameters(), key=lambda kv: names.index(kv[0]))]


def _nn_train_step(model, loss_fn, opt, x, y):
    """One ``nn`` training step on the fixed batch ``(x, y)``: zero_grad, forward, backward, step."""
    X = autograd.Tensor(x)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _torch_step(params, x, y):
    import torch
    import torch.nn.functional as F
    sizes = [params[i].shape[::-1] for i in (0, 2, 4)]
    model = torch.nn.Sequential(torch.nn.Linear(*sizes[0]), torch.nn.ReLU(), torch.nn.Linear(*sizes[1]),
                                torch.nn.ReLU(), torch.nn.Linear(*sizes[2]))
    with torch.no_grad():
        for p, v in zip(model.parameters(), params):
            p.copy_(torch.from_numpy(v))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(X), Y)
        loss.backward()
        opt.step()
        return loss
    return step, list(model.parameters())


def _numpy_step(params, x, y):
    """The step by hand in NumPy: forward, the gradient formulas, SGD; no graph, no autograd."""
    W1, b1, W2, b2, W3, b3 = ps = [p.copy() for p in params]
    rows, batch = np.arange(len(y)), len(y)

    def step():
        z1 = x @ W1.T + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2.T + b2
        h2 = np.maximum(z2, 0)
        z3 = h2 @ W3.T + b3
        s = z3 - z3.max(1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(1, keepdims=True))
        loss = -logp[rows, y].mean()
        g3 = np.exp(logp)
        g3[rows, y] -= 1.0
        g3 /= batch
        g2 = (g3 @ W3) * (z2 > 0)
        g1 = (g2 @ W2) * (z1 > 0)
        grads = (g1.T @ x, g1.sum(0), g2.T @ h1, g2.sum(0), g3.T @ h2, g3.sum(0))
        for p, g in zip(ps, grads):
            p -= LR * g
        return loss
    return step, ps


def _gemm_step(params, x, y):
    """Only the 8 matrix products of the step (NumPy, same shapes and layouts, no autograd)."""
    W1, W2, W3 = params[0], params[2], params[4]
    rng = np.random.default_rng(1)
    g3, g2, g1 = (rng.standard_normal((len(x), W.shape[0])).astype(np.float32) for W in (W3, W2, W1))

    def step():
        h1 = x @ W1.T
        h2 = h1 @ W2.T
        h2 @ W3.T
        g3.T @ h2, g3 @ W3  # dW3, dh2
        g2.T @ h1, g2 @ W2  # dW2, dh1
        g1.T @ x  # dW1 (the input needs no gradient)
    return step, None


def _check_same_step(params, x, y, with_nn):
    """Two steps from the same weights must give torch's losses and weights (a benchmark of a wrong
    step would be worthless); raises AssertionError naming the contender that disagrees."""
    step_t, ps_t = _torch_step(params, x, y)
    ref_losses = [step_t().item() for _ in range(2)]
    ref = [p.detach().numpy() for p in ps_t]
    makers = {"chainrule": _chainrule_step, "numpy": _numpy_step}
    if with_nn:
        makers["chainrule (nn)"] = _nn_step
    for name, make in makers.items():
        step, ps = make(params, x, y)
        losses = [step().item() for _ in range(2)]
        arrays = [p.data if isinstance(p, autograd.Tensor) else p for p in ps]
        if not (np.allclose(losses, ref_losses, rtol=1e-5, atol=1e-6)
                and all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(arrays, ref))):
            raise AssertionError(f"bench_tensor: {name} and torch disagree on the training step")


# -- measurement --------------------------------------------------------------------------------------
def _time(contenders, steps, warmup):
    """Median ms/step of each contender.

    Blocks of steps are interleaved so drift hits all contenders alike. Before each block we pause:
    torch's OpenMP workers and OpenBLAS's workers busy-wait for a while after their last job, and on a
    machine with few cores the spinning pool of the previous contender would steal the next one's cores.
    """
    times = {name: [] for name in contenders}
    per_round = max(1, steps // ROUNDS)
    clock = time.perf_counter
    for r in range(ROUNDS):
        for name, fn in contenders.items():
            time.sleep(PAUSE)
            for _ in range(warmup if r == 0 else 2):
                fn()
            out = times[name]
            for _ in range(per_round):
                t0 = clock()
                fn()
                out.append(clock() - t0)
    return {name: 1e3 * statistics.median(ts) for name, ts in times.items()}


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_check(size="mid", steps=MEMORY_STEPS):
    """RSS growth (bytes) over ``steps`` steps that keep every step's loss tensor in a list: backward
    must free each graph, or the list would keep every step's activations alive."""
    _, batch, widths, _ = next(s for s in SIZES if s[0] == size)
    params, x, y = _init(widths, batch)
    step, _ = _chainrule_step(params, x, y)
    for _ in range(20):
        step()
    gc.collect()
    before = _rss_bytes()
    losses = [step() for _ in range(steps)]
    gc.collect()
    growth = _rss_bytes() - before
    del losses  # alive until after the measurement
    return growth


def _cpu_busy():
    """(seconds of CPU time all processes used, seconds this process used), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    t = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), t.user + t.system


def _nn_available():
    try:
        import nn
    except ImportError:
        return False
    return all(hasattr(nn, a) for a in ("Sequential", "Linear", "ReLU", "CrossEntropyLoss", "optim"))


def run(threads=None, quick=False, sizes=None):
    """Time every size (or those named in ``sizes``); return the BENCHMARKS.md section and the key
    numbers. ``threads`` defaults to $CHAINRULE_BENCH_THREADS, else torch's default (the core count)."""
    import torch
    threads = threads or int(os.environ.get("CHAINRULE_BENCH_THREADS", 0)) or torch.get_num_threads()
    used, undo = _set_threads(threads)
    try:
        with_nn = _nn_available()
        cpu0, wall0 = _cpu_busy(), time.perf_counter()
        rows = {}
        for name, batch, widths, steps in SIZES:
            if sizes and name not in sizes:
                continue
            params, x, y = _init(widths, batch)
            _check_same_step(params, x, y, with_nn)
            contenders = {
                "chainrule": _chainrule_step(params, x, y)[0],
                "torch": _torch_step(params, x, y)[0],
                "numpy": _numpy_step(params, x, y)[0],
                "gemm": _gemm_step(params, x, y)[0],
            }
            if with_nn:
                contenders["chainrule_nn"] = _nn_step(params, x, y)[0]
            if quick:
                steps = max(ROUNDS, steps // 10)
            rows[name] = _time(contenders, steps, warmup=max(3, steps // 10))
            rows[name]["steps"] = steps
        mem_steps = 100 if quick else MEMORY_STEPS
        growth = memory_check(steps=mem_steps)
        cpu1, wall = _cpu_busy(), time.perf_counter() - wall0
    finally:
        for fn in undo:
            fn()
    others = None
    if cpu0 and cpu1:
        others = max(0.0, (cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / (wall * (os.cpu_count() or 1))
    return _report(rows, used, growth, mem_steps, with_nn, others)


def _report(rows, used, growth, mem_steps, with_nn, others):
    result = {"threads": used, "rss_growth_mb": growth / 2**20, "memory_steps": mem_steps,
              "other_processes_cpu": others, "sizes": {}}
    lines = [
        "## Tensor engine: one MLP training step",
        "",
        "Linear-ReLU-Linear-ReLU-Linear, softmax cross-entropy, backward and SGD in float32; median "
        "ms/step (warm-up, then interleaved blocks of steps) in one process, all from the same weights "
        "(two steps of each are checked against torch's). *NumPy by hand* is the same step with the "
        "gradient formulas written out (no autograd); *GEMM floor* is only its 8 matrix products "
        "(3 forward, 3 weight gradients, 2 input gradients).",
        "",
        f"Threads: torch {used['torch']}, NumPy BLAS {used['numpy_blas']}.",
        "",
    ]
    if others is not None and others > 0.1:
        lines += [f"**Warning**: other processes used {100 * others:.0f}% of the machine's CPU time "
                  "during this run; the timings are perturbed (BLAS threads wait for each other on a "
                  "busy machine).", ""]
    for name, batch, widths, _ in SIZES:
        if name not in rows:
            continue
        r = rows[name]
        c, t, f = r["chainrule"], r["torch"], r["gemm"]
        entry = {"chainrule_ms": c, "torch_ms": t, "numpy_ms": r["numpy"], "gemm_floor_ms": f,
                 "vs_torch": c / t, "vs_floor": c / f, "target_vs_torch": TARGETS[name],
                 "target_vs_floor": FLOOR_TARGETS.get(name), "steps": r["steps"]}
        target = f"<= {TARGETS[name]}x torch" + (
            f" and <= {FLOOR_TARGETS[name]}x the GEMM floor" if name in FLOOR_TARGETS else "")
        rows_md = [("chainrule, `autograd` tensors", c)]
        if with_nn:
            entry["chainrule_nn_ms"] = r["chainrule_nn"]
            rows_md.append(("chainrule, `nn` + `nn.optim.SGD`", r["chainrule_nn"]))
        verdicts = []
        for key, (label, ms) in zip(("target_met", "target_met_nn"), rows_md):
            met = ms / t <= TARGETS[name] and (name not in FLOOR_TARGETS or ms / f <= FLOOR_TARGETS[name])
            entry[key] = met
            verdicts.append(f"{'met' if met else '**not met**'} by the {label.split(', ')[1]} step")
        lines += [
            f"**{name}**: batch {batch}, layers {'-'.join(map(str, widths))}, {r['steps']} timed steps. "
            f"Target {target}: {'; '.join(verdicts)}.",
            "",
            "| | ms/step | vs torch | vs GEMM floor |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| {label} | {ms:.3f} | {ms / t:.2f}x | {ms / f:.2f}x |" for label, ms in rows_md]
        lines += [
            f"| torch {_torch_version()} eager | {t:.3f} | 1.00x | {t / f:.2f}x |",
            f"| NumPy by hand (no autograd) | {r['numpy']:.3f} | {r['numpy'] / t:.2f}x | "
            f"{r['numpy'] / f:.2f}x |",
            f"| GEMM floor (NumPy) | {f:.3f} | {f / t:.2f}x | 1.00x |",
            "",
        ]
        result["sizes"][name] = entry
    verdict = "within" if growth <= MEMORY_LIMIT_MB * 2**20 else "**over**"
    lines += [f"Memory: {mem_steps} mid-size steps that keep every step's loss tensor in a list grow "
              f"resident memory by {growth / 2**20:.2f} MB ({verdict} the {MEMORY_LIMIT_MB:g} MB limit: "
              "backward frees each graph).", ""]
    result["markdown"] = "\n".join(lines)
    return result


def _torch_version():
    import torch
    return torch.__version__.split("+")[0]


if __name__ == "__main__":
    print(run()["markdown"])
