"""Run every benchmark module, print its tables and write BENCHMARKS.md at the repository root.

``python -m benchmarks [NAME ...] [--quick] [--out PATH]``: NAME picks modules by name (``scalar``
or ``bench_scalar``). Each module in ``MODULES`` has ``run(quick=False) -> dict`` whose ``"markdown"``
entry is its section of the report; the other entries are its key numbers.
"""
import argparse
import datetime
import importlib
import inspect
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

MODULES = [  # benchmarks/<name>.py, in report order; adding a benchmark is one line here
    "bench_scalar",
    "bench_tensor",
    "bench_cnn",
    "bench_peers",
]

ROOT = Path(__file__).resolve().parent.parent


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
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def machine():
    """One markdown paragraph: CPU, cores, Python and library versions, date."""
    return (
        f"Machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} "
        f"{platform.release()}. Python {platform.python_version()} ({platform.python_implementation()}), "
        f"NumPy {_version('numpy')}, torch {_version('torch').split('+')[0]}, "
        f"micrograd {_version('micrograd')}. Date: {datetime.date.today().isoformat()}."
    )


def _run_module(name, quick):
    module = importlib.import_module(f"benchmarks.{name}")
    kwargs = {"quick": quick} if "quick" in inspect.signature(module.run).parameters else {}
    return module.run(**kwargs)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer steps (a smoke test)")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"),
                        help="where to write the report (default: %(default)s)")
    args = parser.parse_args(argv)

    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in args.names] or MODULES
    unknown = [n for n in wanted if n not in MODULES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")

    header = machine()
    print(header, end="\n\n", flush=True)
    sections = []
    for name in wanted:
        t0 = time.perf_counter()
        markdown = _run_module(name, args.quick)["markdown"].rstrip()
        print(markdown, end="\n\n", flush=True)
        print(f"({name} took {time.perf_counter() - t0:.0f} s)", end="\n\n", file=sys.stderr, flush=True)
        sections.append(markdown)

    title = "# Benchmarks" + (" (quick run: reduced sizes, not for comparison)" if args.quick else "")
    report = "\n\n".join([title, "Written by `python -m benchmarks` (`make bench`).", header, *sections])
    Path(args.out).write_text(report + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
