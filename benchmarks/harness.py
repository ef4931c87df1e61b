"""What every benchmark module shares: thread counts, interleaved timing, machine load, verdicts.

Every tensor workload runs at each count in ``THREADS`` (the same on both sides: threadpoolctl's
``threadpool_limits`` for NumPy's BLAS, ``torch.set_num_threads`` for torch). Contenders are timed in
interleaved blocks (A, B, C, A, B, C, ...) so a slow spell on the machine hits all of them alike, and
each is reported as the median of its timed steps.
"""
import contextlib
import os
import statistics
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

THREADS = (1, 2)
LOADED = 0.1  # share of the machine's CPU used by other processes above which a section warns


@dataclass(frozen=True)
class Timing:
    """How ``interleaved`` times: blocks per contender, seconds of idle before each block, warm-up."""

    rounds: int = 5
    pause: float = 0.3
    warmup: int = 3


QUICK_TIMING = Timing(rounds=2, pause=0.02, warmup=1)


# -- versions and BLAS ------------------------------------------------------------------------------
def dist_version(dist):
    """The installed version of distribution ``dist``, or None."""
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def torch_version():
    import torch
    return torch.__version__.split("+")[0]


def numpy_blas():
    """NumPy's BLAS as threadpoolctl reports it (library, version, architecture, threads), or why not."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"unknown (threadpoolctl is not installed; OPENBLAS_NUM_THREADS=" \
               f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})"
    import numpy  # noqa: F401  (loads the BLAS so threadpoolctl can see it)
    pools = [p for p in threadpool_info() if p["user_api"] == "blas" and "numpy" in p["filepath"]]
    if not pools:
        return "unknown (threadpoolctl finds no BLAS loaded by NumPy)"
    return ", ".join(f"{p['internal_api']} {p['version']}"
                     + (f" ({p['architecture']})" if p.get("architecture") else "")
                     + f" with {thread_label(p['num_threads'])}" for p in pools)


# -- threads ----------------------------------------------------------------------------------------
@contextlib.contextmanager
def threads(n):
    """Give NumPy's BLAS and torch ``n`` threads each inside the block; yields a one-line description."""
    import torch
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    with contextlib.ExitStack() as stack:
        stack.callback(torch.set_num_threads, old)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            stack.enter_context(threadpool_limits(limits=n, user_api="blas"))
        yield f"torch {torch.get_num_threads()}, NumPy BLAS {numpy_blas()}"


def thread_label(n):
    return f"{n} thread{'s' if n != 1 else ''}"


# -- timing -----------------------------------------------------------------------------------------
def interleaved(contenders, steps, timing=Timing()):
    """Median ms per call of each ``contenders[name]()``: ``timing.rounds`` blocks each, taking turns.

    Before each block we pause: torch's OpenMP workers and OpenBLAS's workers busy-wait for a while
    after their last job, and on a machine with few cores the spinning pool of the previous contender
    would steal the next one's cores. The first block starts with ``timing.warmup`` untimed calls,
    the others with one.
    """
    times = {name: [] for name in contenders}
    per_round = max(1, steps // timing.rounds)
    clock = time.perf_counter
    for r in range(timing.rounds):
        for name, fn in contenders.items():
            time.sleep(timing.pause)
            for _ in range(timing.warmup if r == 0 else 1):
                fn()
            out = times[name]
            for _ in range(per_round):
                t0 = clock()
                fn()
                out.append(clock() - t0)
    return {name: 1e3 * statistics.median(ts) for name, ts in times.items()}


# -- machine load -----------------------------------------------------------------------------------
def _cpu_seconds():
    """(CPU seconds all processes used, CPU seconds this process and its finished children used), or
    None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    t = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), t.user + t.system + t.children_user + t.children_system


class Load:
    """The share of the machine's CPU time other processes used while the block ran (``.others``,
    None off Linux)."""

    def __enter__(self):
        self._cpu, self._wall, self.others = _cpu_seconds(), time.perf_counter(), None
        return self

    def __exit__(self, *exc):
        cpu, wall = _cpu_seconds(), time.perf_counter() - self._wall
        if cpu and self._cpu and wall > 0:
            used = (cpu[0] - self._cpu[0]) - (cpu[1] - self._cpu[1])
            self.others = max(0.0, used) / (wall * (os.cpu_count() or 1))

    def warning(self):
        """Markdown lines warning that the timings are perturbed, or none."""
        if self.others is None or self.others <= LOADED:
            return []
        return [f"**Warning**: other processes used {100 * self.others:.0f}% of the machine's CPU time "
                "during this section; the timings are perturbed (BLAS and OpenMP threads wait for each "
                "other on a busy machine).", ""]


# -- verdicts ---------------------------------------------------------------------------------------
def verdict(met):
    """``met``: True, False, or None (the measurement can not tell)."""
    return "unresolved" if met is None else "met" if met else "**not met**"


def ratio(a, b):
    return f"{a / b:.2f}x"


def target(workload, goal, results):
    """One row of the report's summary of targets: ``results`` is [(label or None, met, value text)]
    (one per thread count, or a single one)."""
    outcome = "; ".join((f"{label}: " if label else "") + f"{verdict(met)} ({value})"
                        for label, met, value in results)
    return {"workload": workload, "target": goal, "outcome": outcome, "met": all(m for _, m, _ in results)}


def targets_table(rows):
    """The markdown summary of every target row from ``target``."""
    return ["## Targets (from the issue)", "", "| workload | target | outcome |", "|---|---|---|",
            *[f"| {r['workload']} | {r['target']} | {r['outcome']} |" for r in rows], ""]
