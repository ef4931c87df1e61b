"""Scalar engine speed: micrograd's own demo training step, and deep chains.

1. micrograd's ``demo.ipynb`` step: an MLP 2-16-16-1 (ReLU, linear output) on 100 two-moons points,
   SVM max-margin loss ``mean((1 + -y * score).relu())`` plus ``1e-4 * sum(p * p)``, backward, SGD with
   the notebook's schedule ``lr = 1.0 - 0.9 * k / 100``. The same code builds the same graph with
   ``micrograd.engine.Value`` and with ``autograd.Value`` (the class is an argument), from identical
   initial weights, in one process, under Python's default garbage collector for both; the losses of
   the two engines must agree to 1e-9 at every step.
2. Deep chains ``x = x * w + b`` of 10^5 and 10^6 nodes, forward plus backward (micrograd's recursive
   topological sort cannot go past ~1000 nodes), with the time spent inside Python's (untouched)
   cyclic collector shown apart, and the memory a graph node costs (tracemalloc).

``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_scalar`` prints the section.
"""
import gc
import math
import statistics
import time
import tracemalloc

import numpy as np

import autograd

SEED = 1337
N_POINTS = 100
SIZES = (2, 16, 16, 1)
ALPHA = 1e-4
TIMED_STEPS = 10
RATIO_TARGET = 10.0       # micrograd time / ours, per training step
LINEARITY_TARGET = 12.0   # time(10^6 nodes) / time(10^5 nodes)
LOSS_TOL = 1e-9


# -- data and model (NumPy only for the data; the model is plain Python over a given Value class) ---
def make_moons(n, noise=0.1, seed=SEED):
    """Two interleaving half circles, as ``sklearn.datasets.make_moons``; labels in {-1, +1}."""
    rng = np.random.default_rng(seed)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    x += rng.normal(scale=noise, size=x.shape)
    order = rng.permutation(n)
    # Python floats: micrograd keeps whatever it is given, and NumPy scalars would slow it down
    return x[order].tolist(), y[order].tolist()


def init_weights(sizes=SIZES, seed=SEED):
    """Per layer, per neuron: (weights, bias); weights uniform(-1, 1) and bias 0, as micrograd.nn."""
    rng = np.random.default_rng(seed)
    return [[(rng.uniform(-1, 1, n_in).tolist(), 0.0) for _ in range(n_out)]
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


class MLP:
    """micrograd.nn.MLP over any Value class: ``sum(w*x, b)``, ReLU on all layers but the last."""

    def __init__(self, value_cls, weights):
        self.layers = [[([value_cls(w) for w in ws], value_cls(b)) for ws, b in layer] for layer in weights]

    def __call__(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = []
            for ws, b in layer:
                act = sum((wi * xi for wi, xi in zip(ws, x)), b)
                out.append(act.relu() if i != last else act)
            x = out
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for ws, b in layer for p in ws + [b]]


def train_step(model, value_cls, xs, ys, k):
    """One step of micrograd's demo: forward over all points, loss, zero_grad, backward, SGD."""
    inputs = [[value_cls(a) for a in row] for row in xs]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    for p in model.parameters():
        p.grad = 0.0
    total.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= lr * p.grad
    return total.data


def time_training(value_cls, xs, ys, steps=TIMED_STEPS):
    """Seconds per step (one warm-up step first) and the loss of every step."""
    model = MLP(value_cls, init_weights())
    gc.collect()
    losses = [train_step(model, value_cls, xs, ys, 0)]
    times = []
    for k in range(1, steps + 1):
        t0 = time.perf_counter()
        losses.append(train_step(model, value_cls, xs, ys, k))
        times.append(time.perf_counter() - t0)
    del model
    gc.collect()
    return times, losses


# -- deep chains ------------------------------------------------------------------------------------
def chain(n, x0=0.5):
    """``n`` nodes: ``x = x * w + b`` repeated (w, b shared leaves); returns (leaves, output)."""
    x, w, b = autograd.Value(x0), autograd.Value(1.0000001), autograd.Value(1e-7)
    y = x
    for _ in range(n // 2):
        y = y * w + b
    return (x, w, b), y


class CollectorClock:
    """Time spent inside CPython's cyclic collector while it runs as usual (``gc.callbacks``).

    Nothing about the collector is changed: its thresholds, schedule and work are the default ones;
    this only reads the clock when each collection starts and ends.
    """

    def __init__(self):
        self.seconds, self.full, self._t0 = 0.0, 0, 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t0
            self.full += info["generation"] == 2

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def time_chains(sizes, rounds):
    """For each size, the median over runs of (forward s, backward s, s inside the collector, full
    collections). The sizes take turns, ``rounds`` times, so a slow spell on the machine hits all of them
    alike; the smaller sizes run more often per round (as many times as they are smaller, up to 3)."""
    runs = {n: [] for n in sizes}
    for _ in range(rounds):
        for n in sizes:
            for _ in range(min(3, max(sizes) // n)):
                runs[n].append(_time_chain_once(n))
    gc.collect()
    return {n: tuple(statistics.median(column) for column in zip(*r)) for n, r in runs.items()}


def _time_chain_once(n):
    gc.collect()
    with CollectorClock() as clock:
        t0 = time.perf_counter()
        leaves, y = chain(n)
        t1 = time.perf_counter()
        y.backward()
        t2 = time.perf_counter()
    assert math.isfinite(leaves[0].grad) and leaves[0].grad > 1.0
    return t1 - t0, t2 - t1, clock.seconds, clock.full


class _Bare:
    """A plain Python object with two slots: the cheapest possible graph node, for the GC floor."""

    __slots__ = ("prev", "data")


def time_bare_chain(n, repeats):
    """Median time to link ``n`` bare objects: what CPython's allocator and collector alone cost."""
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        y = None
        for i in range(n):
            node = _Bare()
            node.prev, node.data = y, float(i)
            y = node
        times.append(time.perf_counter() - t0)
        del y, node
    gc.collect()
    return statistics.median(times)


def bytes_per_node(value_cls, n=100_000):
    """Memory held by an n-node chain graph (after forward) and the peak through forward+backward."""
    gc.collect()
    tracemalloc.start()
    try:
        x, w, b = value_cls(0.5), value_cls(1.0000001), value_cls(1e-7)
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        y = x
        for _ in range(n // 2):
            y = y * w + b
        held = tracemalloc.get_traced_memory()[0] - base
        peak = None
        if value_cls is autograd.Value:
            y.backward()
            peak = tracemalloc.get_traced_memory()[1] - base
        del x, w, b, y
    finally:
        tracemalloc.stop()
    gc.collect()
    return held / n, (None if peak is None else peak / n)


# -- report -----------------------------------------------------------------------------------------
def run(quick=False):
    """Time micrograd's demo step with both engines, and the deep chains; return the report."""
    from micrograd.engine import Value as MicrogradValue

    xs, ys = make_moons(N_POINTS)
    steps = 3 if quick else TIMED_STEPS
    ours_t, ours_loss = time_training(autograd.Value, xs, ys, steps)
    mg_t, mg_loss = time_training(MicrogradValue, xs, ys, steps)
    loss_diff = max(abs(a - b) for a, b in zip(ours_loss, mg_loss))
    if not loss_diff <= LOSS_TOL:
        raise AssertionError(f"the two engines disagree: losses {ours_loss} vs {mg_loss}")
    ours_mean, mg_mean = statistics.mean(ours_t), statistics.mean(mg_t)
    ratio = mg_mean / ours_mean

    sizes = [10_000, 100_000] if quick else [100_000, 1_000_000]
    chains = time_chains(sizes, rounds=3)
    small, big = chains[sizes[0]], chains[sizes[1]]
    linearity = (big[0] + big[1]) / (small[0] + small[1])
    backward_linearity = big[1] / small[1]
    engine_linearity = (big[0] + big[1] - big[2]) / (small[0] + small[1] - small[2])
    bare = {n: time_bare_chain(n, 5 if n <= 100_000 else 3) for n in sizes}
    bare_linearity = bare[sizes[1]] / bare[sizes[0]]
    held, peak = bytes_per_node(autograd.Value)
    mg_held, _ = bytes_per_node(MicrogradValue, n=100_000)

    result = {
        "ours_step_s": ours_mean, "ours_step_min_s": min(ours_t),
        "micrograd_step_s": mg_mean, "micrograd_step_min_s": min(mg_t),
        "speedup_vs_micrograd": ratio, "speedup_target": RATIO_TARGET,
        "speedup_target_met": ratio >= RATIO_TARGET,
        "max_loss_difference": loss_diff, "final_loss": ours_loss[-1],
        "chain_seconds": {n: {"forward": f, "backward": b, "total": f + b, "inside_collector": c,
                              "full_gc_collections": k} for n, (f, b, c, k) in chains.items()},
        "chain_linearity": linearity, "backward_linearity": backward_linearity,
        "outside_collector_linearity": engine_linearity,
        "linearity_target": LINEARITY_TARGET,
        "linearity_target_met": linearity <= LINEARITY_TARGET,
        "bare_object_chain_seconds": bare, "bare_object_linearity": bare_linearity,
        "bytes_per_node": held, "peak_bytes_per_node": peak, "micrograd_bytes_per_node": mg_held,
    }
    met = "met" if result["speedup_target_met"] else "NOT met"
    lin_met = "met" if result["linearity_target_met"] else "NOT met"
    lines = [
        "## Scalar engine: micrograd's demo training step",
        "",
        f"micrograd's `demo.ipynb` step: MLP {'-'.join(map(str, SIZES))} on {N_POINTS} two-moons points, "
        "max-margin loss + L2 (alpha 1e-4), backward, SGD (lr 1.0 - 0.9k/100). The same code builds the "
        "same graph with each engine's `Value` from identical weights, in one process, with Python's "
        f"default garbage collector. {steps} timed steps after one warm-up step.",
        "",
        "| engine | mean s/step | min s/step |",
        "|---|---:|---:|",
        f"| micrograd {_version('micrograd')} | {mg_mean:.4f} | {min(mg_t):.4f} |",
        f"| chainrule `autograd.Value` | {ours_mean:.4f} | {min(ours_t):.4f} |",
        "",
        f"Speed-up: **{ratio:.1f}x** (target >= {RATIO_TARGET:g}x: {met}). Both engines give the same loss "
        f"at every step (largest difference {loss_diff:.1e}, tolerance {LOSS_TOL:g}); loss after "
        f"{steps + 1} steps: {ours_loss[-1]:.6f}.",
        "",
        "## Scalar engine: deep chains",
        "",
        "`x = x * w + b` repeated, forward then `backward()` at Python's default recursion limit "
        "(micrograd's recursive topological sort stops at ~1000 nodes).",
        "",
        "| nodes | forward s | backward s | total s | of which inside Python's collector | full "
        "collections |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, (f, b, c, k) in chains.items():
        lines.append(f"| {n:,} | {f:.3f} | {b:.3f} | {f + b:.3f} | {c:.3f} ({c / (f + b):.0%}) | {k:g} |")
    lines += [
        "",
        f"Time for {sizes[1]:,} nodes / time for {sizes[0]:,} (medians of 9 and 3 runs, the sizes taking "
        "turns): "
        f"**{linearity:.1f}** (proportional would be {sizes[1] // sizes[0]}; target <= "
        f"{LINEARITY_TARGET:g}: {lin_met}). Backward alone: **{backward_linearity:.1f}**. Everything "
        f"outside the collector (forward and backward): **{engine_linearity:.1f}**.",
        "",
        "The collector runs with its default settings throughout (nothing in chainrule or in this "
        "benchmark tunes or pauses it; its time is read through `gc.callbacks`). Every graph node is a "
        "live, tracked Python object, and CPython runs a full collection, a walk over every tracked "
        "object, whenever the objects that survived the young generations have grown by 25% since the "
        "last one. On a small heap that rule fires at every check, so the bigger graph is walked many "
        "more times per node (last column), while the cost of one visit stays about the same: that "
        "schedule, not the engine, is the part of the time that grows faster than the node count.",
        "",
        f"For scale, CPython alone: linking {sizes[0]:,} and {sizes[1]:,} bare two-slot objects "
        f"(no arithmetic, no autograd) takes {bare[sizes[0]]:.3f} s and {bare[sizes[1]]:.3f} s, a ratio of "
        f"**{bare_linearity:.1f}**.",
        "",
        f"Memory (tracemalloc, {100_000:,}-node chain): the graph holds **{held:.0f} bytes per node** "
        f"(micrograd: {mg_held:.0f}); peak through forward and backward {peak:.0f} bytes per node.",
        "",
    ]
    result["markdown"] = "\n".join(lines)
    return result


def _version(dist):
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return "(unknown version)"


if __name__ == "__main__":
    print(run()["markdown"])
