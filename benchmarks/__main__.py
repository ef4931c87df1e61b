"""Run every benchmark module, print its tables and write BENCHMARKS.md at the repository root.

``python -m benchmarks [NAME ...] [--quick] [--threads N ...] [--out PATH]``: NAME picks modules by
name (``scalar`` or ``bench_scalar``); ``--threads`` the thread counts of the tensor benchmarks (default
1 and 2); ``--quick`` (``make bench-quick``) runs everything with tiny repeat counts in
about a minute on a quiet machine and writes results/BENCHMARKS-quick.md, leaving BENCHMARKS.md alone.
Each module in ``MODULES`` has ``run(quick=False) -> dict`` whose ``"markdown"`` entry is its section
of the report and ``"targets"`` its rows of the summary of the issue's targets (harness.target); the
other entries are its key numbers.
"""
import argparse
import datetime
import importlib
import inspect
import os
import platform
import sys
import time
from pathlib import Path

from benchmarks.harness import THREADS, Load, dist_version, numpy_blas, targets_table, thread_label

MODULES = [  # benchmarks/<name>.py, in report order; adding a benchmark is one line here
    "bench_scalar",
    "bench_tensor",
    "bench_ops",
    "bench_cnn",
    "bench_cnn_strided",
    "bench_lstm",
    "bench_peers",
]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT, QUICK_OUT = ROOT / "BENCHMARKS.md", ROOT / "results" / "BENCHMARKS-quick.md"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _version(dist):
    return (dist_version(dist) or "not installed").split("+")[0]


def machine(thread_counts=THREADS):
    """One markdown paragraph: CPU, cores, Python, library versions, NumPy's BLAS, thread counts, date."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"Machine: {cpu_model()}, {os.cpu_count()} logical cores ({usable} usable by this process), "
        f"{platform.system()} {platform.release()}. Python {platform.python_version()} "
        f"({platform.python_implementation()}), NumPy {_version('numpy')}, torch {_version('torch')}, "
        f"micrograd {_version('micrograd')}, MyGrad {_version('mygrad')}, threadpoolctl "
        f"{_version('threadpoolctl')}. NumPy's BLAS (threadpoolctl): {numpy_blas()}. Tensor benchmarks run "
        f"at {' and '.join(thread_label(n) for n in thread_counts)} on both sides. "
        f"Date: {datetime.date.today().isoformat()}."
    )


def _run_module(name, quick, thread_counts=THREADS):
    """The module's ``run``; ``thread_counts`` goes to the modules that time at several thread counts."""
    run = importlib.import_module(f"benchmarks.{name}").run
    threaded = "thread_counts" in inspect.signature(run).parameters
    return run(quick=quick, thread_counts=tuple(thread_counts)) if threaded else run(quick=quick)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer steps (a smoke test)")
    parser.add_argument("--out", help=f"where to write the report (default: {DEFAULT_OUT.relative_to(ROOT)}, "
                                      f"with --quick {QUICK_OUT.relative_to(ROOT)})")
    parser.add_argument("--threads", type=int, nargs="+", default=list(THREADS), metavar="N",
                        help="thread counts for the tensor benchmarks (default: %(default)s)")
    args = parser.parse_args(argv)
    if min(args.threads) < 1:
        parser.error(f"--threads must be positive, got {args.threads}")
    out = Path(args.out) if args.out else QUICK_OUT if args.quick else DEFAULT_OUT

    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in args.names] or MODULES
    unknown = [n for n in wanted if n not in MODULES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")

    header = machine(args.threads)
    print(header, end="\n\n", flush=True)
    sections, targets, start = [], [], time.perf_counter()
    with Load() as load:
        for name in wanted:
            t0 = time.perf_counter()
            result = _run_module(name, args.quick, args.threads)
            markdown = result["markdown"].rstrip()
            print(markdown, end="\n\n", flush=True)
            print(f"({name} took {time.perf_counter() - t0:.0f} s)", end="\n\n", file=sys.stderr, flush=True)
            sections.append(markdown)
            targets += result.get("targets", [])

    title = "# Benchmarks" + (" (quick run: reduced sizes, not for comparison)" if args.quick else "")
    took = f"The whole run took {(time.perf_counter() - start) / 60:.1f} minutes" + (
        "." if load.others is None else
        f"; other processes used {100 * load.others:.0f}% of the machine's CPU time meanwhile.")
    written = "Written by `python -m benchmarks` (`make bench`)."
    summary = "\n".join(targets_table(targets)).rstrip() if targets else None
    report = "\n\n".join(filter(None, [title, written, header, took, summary, *sections]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
