"""Engine overhead per recorded op: what chainrule adds to the bare NumPy call, forward and backward.

For one elementwise op (``a * b``) and one matrix product (``a @ b``), at a tiny shape (4x4, where the
NumPy call itself is a few hundred ns) and a mid one (256x256), float32, at 1 and 2 threads:

* bare NumPy: the forward call, and for backward the calls the gradient needs (``g * b, g * a``;
  ``g @ b.T, a.T @ g``);
* chainrule: the op on two leaf tensors that require grad (recorded in the graph), then
  ``out.backward(g)`` (both leaves get ``.grad``);
* torch eager: the same with ``requires_grad=True`` tensors.

Each call is timed on its own (``time.perf_counter`` around it, the cost of an empty clock reading
subtracted); the three libraries take turns call by call, and every number is a median. The overhead
is chainrule's (forward + backward) minus NumPy's (forward + backward).

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
    """Median µs of forward and backward per library for op ``name`` at ``shape``: {lib: (fwd, bwd)}."""
    op, grad = OPS[name]
    rng = np.random.default_rng(seed)
    a, b, g = (rng.standard_normal(shape).astype(np.float32) for _ in range(3))
    calls = {"numpy": _numpy_calls(op, grad, a, b, g),
             "chainrule": _engine_calls("chainrule", op, a, b, g),
             "torch": _engine_calls("torch", op, a, b, g)}
    clock, cost = time.perf_counter, _clock_cost()
    times = {lib: ([], []) for lib in calls}
    for i in range(WARMUP + repeats):
        for lib, (forward, backward) in calls.items():
            t0 = clock()
            out = forward()
            t1 = clock()
            backward(out)
            t2 = clock()
            if i >= WARMUP:
                times[lib][0].append(t1 - t0 - cost)
                times[lib][1].append(t2 - t1 - cost)
    return {lib: tuple(1e6 * statistics.median(ts) for ts in pair) for lib, pair in times.items()}


def run(quick=False, shapes=SHAPES, repeats=None, thread_counts=THREADS):
    """Time both ops at every shape and thread count; return the BENCHMARKS.md section and the numbers."""
    repeats = repeats or (QUICK_REPEATS if quick else REPEATS)
    rows, described = [], {}
    with Load() as load:
        for n in thread_counts:
            with threads(n) as described[n]:
                for op in OPS:
                    for size, shape in shapes:
                        rows.append((op, shape, n, time_op(op, shape, repeats[size])))
    return report(rows, described, thread_counts, load)


def _overhead(us):
    """(forward + backward) of a library over NumPy's, in µs."""
    return lambda lib: sum(us[lib]) - sum(us["numpy"])


def _target_rows(rows):
    """One summary row per op and shape, with the outcome at each thread count."""
    grouped = {}
    for row in rows:
        grouped.setdefault((row["op"], row["shape"]), []).append(
            (thread_label(row["threads"]), row["target_met"], f"{row['chainrule_overhead_us']:.2f} µs"))
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
        "(empty clock reading subtracted), the libraries taking turns call by call. *Overhead* is "
        "(forward + backward) minus NumPy's; the target is chainrule's overhead <= "
        f"{TARGET_US:g} µs.",
        "",
        *[f"Threads at {thread_label(n)}: {described[n]}." for n in thread_counts],
        "",
        *load.warning(),
        "| op | shape | threads | NumPy fwd / bwd µs | chainrule fwd / bwd µs | chainrule overhead µs | "
        f"torch {torch_version()} fwd / bwd µs | torch overhead µs | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for op, shape, n, us in rows:
        over = _overhead(us)
        met = over("chainrule") <= TARGET_US
        result["rows"].append({"op": op, "shape": shape, "threads": n, "us": us,
                               "chainrule_overhead_us": over("chainrule"), "torch_overhead_us": over("torch"),
                               "target_met": met})
        cells = [f"{us[lib][0]:.2f} / {us[lib][1]:.2f}" for lib in ("numpy", "chainrule", "torch")]
        lines.append(f"| `{op}` | {'x'.join(map(str, shape))} | {n} | {cells[0]} | {cells[1]} | "
                     f"{over('chainrule'):.2f} | {cells[2]} | {over('torch'):.2f} | {verdict(met)} |")
    lines.append("")
    result["targets"] = _target_rows(result["rows"])
    result["markdown"] = "\n".join(lines)
    return result


if __name__ == "__main__":
    print(run()["markdown"])
