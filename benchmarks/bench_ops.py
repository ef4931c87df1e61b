"""Engine overhead per recorded op: what chainrule adds to the bare NumPy call, forward and backward.

For one elementwise op (``a * b``) and one matrix product (``a @ b``), at a tiny shape (4x4, where the
NumPy call itself is a few hundred ns) and a mid one (256x256), float32, at 1 and 2 threads:

* bare NumPy: the forward call, and for backward the calls the gradient needs (``g * b, g * a``;
  ``g @ b.T, a.T @ g``);
* chainrule: the op on two leaf tensors that require grad (recorded in the graph), then
  ``out.backward(g)`` (both leaves get ``.grad``);
* torch eager: the same with ``requires_grad=True`` tensors.

Each call is timed on its own (``time.perf_counter`` around it, the cost of an empty clock reading
subtracted); the three libraries take turns call by call, in an order that rotates each round, and
every number is a median. The overhead
is the median, over the rounds, of a library's (forward + backward) minus NumPy's in the same round
(paired, so a slow spell of the machine cancels), with the 95% interval of that median
(±1.58 IQR / sqrt(n)): the target is met when the whole interval is within it, missed when none of it
is, and "unresolved" otherwise (at 2 threads a 256x256 product's own time swings by more than the
overhead).

``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_ops`` prints the section.
"""
import statistics
import time

import numpy as np

from benchmarks.bench_tensor import library
from benchmarks.harness import THREADS, Load, target, thread_label, threads, torch_version, verdict

SHAPES = [("tiny", (4, 4)), ("mid", (256, 256))]
REPEATS = {"tiny": 3000, "mid": 150}  # timed calls per library
QUICK_REPEATS = {"tiny": 300, "mid": 15}
WARMUP = 20
TARGET_US = 1.0  # chainrule's overhead, forward + backward


def _mul(x, y):
    return x * y


def _matmul(x, y):
    return x @ y


# op name -> (the op on any library's operands, the bare NumPy backward for upstream gradient g)
OPS = {
    "mul": (_mul, lambda a, b, g: (g * b, g * a)),
    "matmul": (_matmul, lambda a, b, g: (g @ b.T, a.T @ g)),
}


def _clock_cost(n=2000):
    """Median seconds between two back-to-back ``perf_counter`` readings."""
    clock = time.perf_counter
    return statistics.median(-(clock() - clock()) for _ in range(n))


def _numpy_calls(op, grad, a, b, g):
    """(forward, backward) calls of bare NumPy on arrays."""
    return (lambda: op(a, b)), (lambda out: grad(a, b, g))


def _engine_calls(lib, op, a, b, g):
    """(forward, backward) calls of ``lib`` ("chainrule" or "torch"): the op on two fresh-grad leaves,
    then ``out.backward(g)``; the leaves' grads are cleared after each backward."""
    lib = library(lib)
    A, B, G = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True), lib.tensor(g)

    def backward(out):
        out.backward(G)
        A.grad = B.grad = None
    return (lambda: op(A, B)), backward


def time_op(name, shape, repeats, seed=0):
    """Median µs of forward and backward per library for op ``name`` at ``shape``, {lib: (fwd, bwd)},
    and each engine's paired overhead over NumPy per round, {lib: [µs]}."""
    op, grad = OPS[name]
    rng = np.random.default_rng(seed)
    a, b, g = (rng.standard_normal(shape).astype(np.float32) for _ in range(3))
    calls = {"numpy": _numpy_calls(op, grad, a, b, g),
             "chainrule": _engine_calls("chainrule", op, a, b, g),
             "torch": _engine_calls("torch", op, a, b, g)}
    clock, cost = time.perf_counter, _clock_cost()
    times = {lib: ([], []) for lib in calls}
    order = list(calls.items())
    for i in range(WARMUP + repeats):
        # the order turns each round: whoever follows torch meets its worker threads still spinning
        for lib, (forward, backward) in order[i % 3:] + order[:i % 3]:
            t0 = clock()
            out = forward()
            t1 = clock()
            backward(out)
            t2 = clock()
            if i >= WARMUP:
                times[lib][0].append(t1 - t0 - cost)
                times[lib][1].append(t2 - t1 - cost)
    medians = {lib: tuple(1e6 * statistics.median(ts) for ts in pair) for lib, pair in times.items()}
    base = [f + b for f, b in zip(*times["numpy"])]
    paired = {lib: [1e6 * (f + b - n) for f, b, n in zip(*times[lib], base)]
              for lib in ("chainrule", "torch")}
    return medians, paired


def run(quick=False, shapes=SHAPES, repeats=None, thread_counts=THREADS):
    """Time both ops at every shape and thread count; return the BENCHMARKS.md section and the numbers."""
    repeats = repeats or (QUICK_REPEATS if quick else REPEATS)
    rows, described = [], {}
    with Load() as load:
        for n in thread_counts:
            with threads(n) as described[n]:
                for op in OPS:
                    for size, shape in shapes:
                        rows.append((op, shape, n, *time_op(op, shape, repeats[size])))
    return report(rows, described, thread_counts, load)


def overhead(diffs):
    """(median, half-width of its 95% interval) of paired differences, in µs."""
    q1, _, q3 = statistics.quantiles(diffs, n=4)
    return statistics.median(diffs), 1.58 * (q3 - q1) / len(diffs) ** 0.5


def outcome(median, halfwidth, limit=TARGET_US):
    """True (the interval is within ``limit``), False (it is all above) or None (unresolved)."""
    if median + halfwidth <= limit:
        return True
    if median - halfwidth > limit:
        return False
    return None


def _target_rows(rows):
    """One summary row per op and shape, with the outcome at each thread count."""
    grouped = {}
    for row in rows:
        grouped.setdefault((row["op"], row["shape"]), []).append(
            (thread_label(row["threads"]), row["target_met"],
             f"{row['chainrule_overhead_us']:.2f} ± {row['chainrule_overhead_halfwidth_us']:.2f} µs"))
    return [target(f"engine overhead, `{op}` {'x'.join(map(str, shape))}",
                   f"<= {TARGET_US:g} µs forward + backward over NumPy", results)
            for (op, shape), results in grouped.items()]


def report(rows, described, thread_counts, load):
    result = {"threads": described, "other_processes_cpu": load.others, "target_us": TARGET_US, "rows": []}
    lines = [
        "## Engine overhead per recorded op",
        "",
        "One op on two float32 leaf tensors that require grad, then `out.backward(g)`, against the bare "
        "NumPy calls the op and its gradient need (`a * b`: `g * b, g * a`; `a @ b`: `g @ b.T, a.T @ g`) "
        "and against torch eager with `requires_grad=True`. Median µs per call, each call timed on its own "
        "(empty clock reading subtracted), the libraries taking turns call by call (in an order that "
        "rotates each round). *Overhead* is the "
        "median over the rounds of (forward + backward) minus NumPy's in the same round, ± the 95% "
        "interval of that median; the target (chainrule's overhead <= "
        f"{TARGET_US:g} µs) is met when the whole interval is within it, missed when none of it is, "
        "and unresolved when the machine's noise is larger than the difference.",
        "",
        *[f"Threads at {thread_label(n)}: {described[n]}." for n in thread_counts],
        "",
        *load.warning(),
        "| op | shape | threads | NumPy fwd / bwd µs | chainrule fwd / bwd µs | chainrule overhead µs | "
        f"torch {torch_version()} fwd / bwd µs | torch overhead µs | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for op, shape, n, us, paired in rows:
        (ours, ours_hw), (torchs, torch_hw) = overhead(paired["chainrule"]), overhead(paired["torch"])
        met = outcome(ours, ours_hw)
        result["rows"].append({"op": op, "shape": shape, "threads": n, "us": us,
                               "chainrule_overhead_us": ours, "chainrule_overhead_halfwidth_us": ours_hw,
                               "torch_overhead_us": torchs, "torch_overhead_halfwidth_us": torch_hw,
                               "target_met": met})
        cells = [f"{us[lib][0]:.2f} / {us[lib][1]:.2f}" for lib in ("numpy", "chainrule", "torch")]
        lines.append(f"| `{op}` | {'x'.join(map(str, shape))} | {n} | {cells[0]} | {cells[1]} | "
                     f"{ours:.2f} ± {ours_hw:.2f} | {cells[2]} | {torchs:.2f} ± {torch_hw:.2f} | "
                     f"{verdict(met)} |")
    lines.append("")
    result["targets"] = _target_rows(result["rows"])
    result["markdown"] = "\n".join(lines)
    return result


if __name__ == "__main__":
    print(run()["markdown"])
