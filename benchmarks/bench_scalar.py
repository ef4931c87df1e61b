"""Scalar engine speed: micrograd's own demo training step, and deep chains.

1. micrograd's ``demo.ipynb`` step: an MLP 2-16-16-1 (ReLU, linear output) on 100 two-moons points,
   SVM max-margin loss ``mean((1 + -y * score).relu())`` plus ``1e-4 * sum(p * p)``, backward, SGD with
   the notebook's schedule ``lr = 1.0 - 0.9 * k / 100``. The same code builds the same graph with
   ``micrograd.engine.Value`` and with ``autograd.Value`` (the class is an argument), from identical
   initial weights, in one process; the losses of the two engines must agree to 1e-9 at every step.
   Timed under Python's default garbage collector (the engines taking turns in blocks), and as a
   diagnostic with the collector off during each timed step only (alternating step by step).
2. Deep chains ``x = x * w + b`` of 10^5 and 10^6 nodes, forward plus backward (micrograd's recursive
   topological sort cannot go past ~1000 nodes), with the time spent inside Python's (untouched)
   cyclic collector shown apart, and the memory a graph node costs (tracemalloc).

Pure Python: the thread count does not apply, so unlike the tensor benchmarks this runs once.
``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_scalar`` prints the section.
"""
import gc
import itertools
import math
import statistics
import time
import tracemalloc

import numpy as np

import autograd
from benchmarks.harness import Load, target, verdict

SEED = 1337
N_POINTS = 100
SIZES = (2, 16, 16, 1)
ALPHA = 1e-4
BLOCKS, BLOCK_STEPS = 3, 4        # default collector: blocks per engine, timed steps per block
COLLECTOR_OFF_STEPS = 10
CHAIN_SIZES, CHAIN_ROUNDS = (100_000, 1_000_000), 3
MEMORY_NODES = 100_000
QUICK = {"blocks": 1, "block_steps": 2, "collector_off_steps": 3, "chain_sizes": (10_000, 100_000),
         "chain_rounds": 1}
RATIO_TARGET = 15.0       # micrograd time / ours, per training step, default collector
LINEARITY_TARGET = 11.0   # time outside the collector, 10^6 nodes over 10^5 nodes
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


def trainer(value_cls, xs, ys):
    """A call that runs the next step of micrograd's demo on a fresh model of ``value_cls``; returns the
    step's loss."""
    model, ks = MLP(value_cls, init_weights()), itertools.count()
    return lambda: train_step(model, value_cls, xs, ys, next(ks))


def time_default_collector(trainers, blocks, steps):
    """Seconds per step and every loss, for each trainer, under Python's default collector.

    The engines take turns in blocks (A, B, A, B, ...): each block starts from a collected heap with one
    untimed step (whose garbage the timed steps then carry, as in a training loop), then ``steps`` timed
    steps, so no engine pays for collecting the other's garbage.
    """
    times, losses = {name: [] for name in trainers}, {name: [] for name in trainers}
    clock = time.perf_counter
    for _ in range(blocks):
        for name, step in trainers.items():
            gc.collect()
            losses[name].append(step())
            for _ in range(steps):
                t0 = clock()
                losses[name].append(step())
                times[name].append(clock() - t0)
    gc.collect()
    return times, losses


def time_collector_off(trainers, steps):
    """Seconds per step and every loss, for each trainer, with the collector off during each timed step
    only (``gc.disable()``, restored right after, then a full collection outside the timing); the
    engines alternate step by step."""
    times, losses = {name: [] for name in trainers}, {name: [] for name in trainers}
    clock = time.perf_counter
    for _ in range(steps):
        for name, step in trainers.items():
            gc.collect()
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                t0 = clock()
                losses[name].append(step())
                times[name].append(clock() - t0)
            finally:
                if was_enabled:
                    gc.enable()
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
    collections), and the number of runs. The sizes take turns, ``rounds`` times, so a slow spell on
    the machine hits all of them alike; the smaller sizes run more often per round (as many times as
    they are smaller, up to 3)."""
    runs = {n: [] for n in sizes}
    for _ in range(rounds):
        for n in sizes:
            for _ in range(min(3, max(sizes) // n)):
                runs[n].append(_time_chain_once(n))
    gc.collect()
    medians = {n: tuple(statistics.median(column) for column in zip(*r)) for n, r in runs.items()}
    return medians, {n: len(r) for n, r in runs.items()}


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
def run(quick=False, points=N_POINTS, **overrides):
    """Time micrograd's demo step with both engines (default collector, then collector off), the deep
    chains and the memory per node; return the report. ``overrides`` replace settings (the keys of
    ``QUICK``, and ``memory_nodes``), for tests."""
    cfg = {"blocks": BLOCKS, "block_steps": BLOCK_STEPS, "collector_off_steps": COLLECTOR_OFF_STEPS,
           "chain_sizes": CHAIN_SIZES, "chain_rounds": CHAIN_ROUNDS, "memory_nodes": MEMORY_NODES,
           **(QUICK if quick else {}), **overrides}
    with Load() as load:
        result = _measure(cfg, points)
    result["other_processes_cpu"] = load.others
    result["markdown"] = "\n".join(_training_lines(result, cfg, points, load.warning())
                                   + _chain_lines(result, cfg))
    return result


def _measure(cfg, points):
    """Every number of the section, and its rows of the targets' summary."""
    from micrograd.engine import Value as MicrogradValue

    xs, ys = make_moons(points)
    engines = {"chainrule": autograd.Value, "micrograd": MicrogradValue}
    fresh = lambda: {name: trainer(cls, xs, ys) for name, cls in engines.items()}  # noqa: E731
    default = time_default_collector(fresh(), cfg["blocks"], cfg["block_steps"])
    off = time_collector_off(fresh(), cfg["collector_off_steps"])
    loss_diff = max(_loss_difference(*default[1].values()), _loss_difference(*off[1].values()))
    if not loss_diff <= LOSS_TOL:
        raise AssertionError(f"the two engines disagree: losses {default[1]} and {off[1]}")
    step = {label: {name: statistics.median(ts) for name, ts in times.items()}
            for label, (times, _) in (("default", default), ("collector_off", off))}
    ratio = step["default"]["micrograd"] / step["default"]["chainrule"]
    off_ratio = step["collector_off"]["micrograd"] / step["collector_off"]["chainrule"]

    small_n, big_n = cfg["chain_sizes"]
    chains, runs = time_chains(cfg["chain_sizes"], rounds=cfg["chain_rounds"])
    small, big = chains[small_n], chains[big_n]
    linearity = (big[0] + big[1]) / (small[0] + small[1])
    backward_linearity = big[1] / small[1]
    engine_linearity = (big[0] + big[1] - big[2]) / (small[0] + small[1] - small[2])
    bare = {n: time_bare_chain(n, 5 if n <= small_n else 3) for n in cfg["chain_sizes"]}
    bare_linearity = bare[big_n] / bare[small_n]
    held, peak = bytes_per_node(autograd.Value, cfg["memory_nodes"])
    mg_held, _ = bytes_per_node(MicrogradValue, cfg["memory_nodes"])

    result = {
        "step_seconds": step, "speedup_vs_micrograd": ratio, "speedup_target": RATIO_TARGET,
        "speedup_target_met": ratio >= RATIO_TARGET, "collector_off_speedup": off_ratio,
        "max_loss_difference": loss_diff,
        "chain_seconds": {n: {"forward": f, "backward": b, "total": f + b, "inside_collector": c,
                              "full_gc_collections": k, "runs": runs[n]}
                          for n, (f, b, c, k) in chains.items()},
        "chain_linearity": linearity, "backward_linearity": backward_linearity,
        "outside_collector_linearity": engine_linearity, "linearity_target": LINEARITY_TARGET,
        "linearity_target_met": engine_linearity <= LINEARITY_TARGET,
        "bare_object_chain_seconds": bare, "bare_object_linearity": bare_linearity,
        "bytes_per_node": held, "peak_bytes_per_node": peak, "micrograd_bytes_per_node": mg_held,
    }
    result["targets"] = [
        target("scalar: micrograd's demo step, default collector", f">= {RATIO_TARGET:g}x micrograd",
               [(None, result["speedup_target_met"], f"{ratio:.1f}x; collector off: {off_ratio:.2f}x")]),
        target(f"scalar: deep chains, {cfg['chain_sizes'][1]:,} over {cfg['chain_sizes'][0]:,} nodes",
               f"<= {LINEARITY_TARGET:g} outside the collector",
               [(None, result["linearity_target_met"], f"{engine_linearity:.1f}; in total {linearity:.1f}")]),
    ]
    return result


def _loss_difference(a, b):
    return max(abs(x - y) for x, y in zip(a, b))


def _training_lines(r, cfg, points, warning):
    step = r["step_seconds"]
    timed = cfg["blocks"] * cfg["block_steps"]
    return [
        "## Scalar engine: micrograd's demo training step",
        "",
        f"micrograd's `demo.ipynb` step: MLP {'-'.join(map(str, SIZES))} on {points} two-moons points, "
        "max-margin loss + L2 (alpha 1e-4), backward, SGD (lr 1.0 - 0.9k/100). The same code builds the "
        "same graph with each engine's `Value` from identical weights, in one process. Pure Python: the "
        "thread count does not apply, so this section runs once.",
        "",
        f"With Python's default garbage collector (the target's condition): median of {timed} timed steps "
        f"per engine, the engines taking turns in {cfg['blocks']} block{'s' * (cfg['blocks'] != 1)} of one "
        f"untimed and "
        f"{cfg['block_steps']} timed steps, each block from a collected heap. Diagnostic: the collector "
        "off (`gc.disable()`) during each timed step only, restored after it and a full collection run "
        f"outside the timing; median of {cfg['collector_off_steps']} steps per engine, alternating step by "
        "step.",
        "",
        *warning,
        "| engine | default collector s/step | collector off s/step |",
        "|---|---:|---:|",
        f"| micrograd {_version('micrograd')} | {step['default']['micrograd']:.4f} | "
        f"{step['collector_off']['micrograd']:.4f} |",
        f"| chainrule `autograd.Value` | {step['default']['chainrule']:.4f} | "
        f"{step['collector_off']['chainrule']:.4f} |",
        f"| speed-up (micrograd / chainrule) | **{r['speedup_vs_micrograd']:.1f}x** | "
        f"{r['collector_off_speedup']:.2f}x |",
        "",
        f"Target >= {RATIO_TARGET:g}x micrograd with the default collector: "
        f"{verdict(r['speedup_target_met'])}. Both engines give the same loss at every step (largest "
        f"difference {r['max_loss_difference']:.1e}, tolerance {LOSS_TOL:g}).",
        "",
    ]


def _chain_lines(r, cfg):
    small_n, big_n = cfg["chain_sizes"]
    chains = r["chain_seconds"]
    lines = [
        "## Scalar engine: deep chains",
        "",
        "`x = x * w + b` repeated, forward then `backward()` at Python's default recursion limit "
        "(micrograd's recursive topological sort stops at ~1000 nodes), with Python's default collector; "
        "its time is read through `gc.callbacks`.",
        "",
        "| nodes | forward s | backward s | total s | of which inside Python's collector | full "
        "collections | runs |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, c in chains.items():
        lines.append(f"| {n:,} | {c['forward']:.3f} | {c['backward']:.3f} | {c['total']:.3f} | "
                     f"{c['inside_collector']:.3f} ({c['inside_collector'] / c['total']:.0%}) | "
                     f"{c['full_gc_collections']:g} | {c['runs']} |")
    bare = r["bare_object_chain_seconds"]
    lines += [
        "",
        f"Time for {big_n:,} nodes over time for {small_n:,} (medians, the sizes taking turns; "
        f"proportional would be {big_n // small_n}): outside the collector (forward and backward) "
        f"**{r['outside_collector_linearity']:.1f}** (target <= {LINEARITY_TARGET:g}: "
        f"{verdict(r['linearity_target_met'])}); in total **{r['chain_linearity']:.1f}**; backward alone "
        f"{r['backward_linearity']:.1f}.",
        "",
        "The collector runs with its default settings throughout (nothing in chainrule or in this "
        "benchmark tunes or pauses it). Every graph node is a live, tracked Python object, and CPython "
        "runs a full collection, a walk over every tracked object, whenever the objects that survived the "
        "young generations have grown by 25% since the last one, so the bigger graph is walked more times "
        "per node (the full-collections column): that schedule, not the engine, is the part of the total "
        "that grows faster than the node count.",
        "",
        f"For scale, CPython alone: linking {small_n:,} and {big_n:,} bare two-slot objects (no arithmetic, "
        f"no autograd) takes {bare[small_n]:.3f} s and {bare[big_n]:.3f} s, a ratio of "
        f"**{r['bare_object_linearity']:.1f}**.",
        "",
        f"Memory (tracemalloc, {cfg['memory_nodes']:,}-node chain): the graph holds "
        f"**{r['bytes_per_node']:.0f} bytes per node** (micrograd: {r['micrograd_bytes_per_node']:.0f}); "
        f"peak through forward and backward {r['peak_bytes_per_node']:.0f} bytes per node.",
        "",
    ]
    return lines


def _version(dist):
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return "(unknown version)"


if __name__ == "__main__":
    print(run()["markdown"])
