"""One training step of a small `nn` model against the same model in ``torch.nn``: what the model
benchmarks (bench_cnn, bench_lstm) share.

A ``Workload`` names the model (built by the same constructor calls from ``nn`` and from ``torch.nn``),
its data and its Adam learning rate. ``run`` builds both steps from identical initial weights (torch's
``state_dict()`` loaded into ours with ``load_state_dict``), checks that the losses of the first
``check_steps`` steps agree to ``loss_tol``, then times both at every thread count (the same on both
sides; harness.interleaved: interleaved blocks, median ms/step) and returns the BENCHMARKS.md section,
its target row and the key numbers.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from benchmarks.bench_tensor import library, train_step
from benchmarks.harness import (QUICK_TIMING, THREADS, Load, Timing, interleaved, ratio, target,
                                thread_label, threads, torch_version, verdict)

SEED = 0
TARGET = 1.0  # chainrule / torch


@dataclass(frozen=True)
class Workload:
    """A model step to time: ``build(nn)`` the model from ``nn`` or ``torch.nn``, ``data(batch, rng)``
    its ``(x, y)`` float32/int64 arrays; the rest is how it is checked, timed and reported."""

    key: str  # the module's name in error messages
    title: str  # the section's heading
    workload: str  # the target row's workload
    description: str  # markdown: the model, data and loss, up to "in float32"
    build: Callable
    data: Callable
    batch: int
    steps: int
    quick_steps: int
    lr: float = 1e-3
    loss_tol: float = 1e-5
    check_steps: int = 5


def random_batch(shape, classes):
    """A ``Workload.data``: standard normal float32 inputs ``(batch, *shape)``, targets below ``classes``."""
    def data(batch, rng):
        return rng.standard_normal((batch, *shape)).astype(np.float32), rng.integers(0, classes, batch)
    return data


def _make(workload, name, x, y, state_dict=None):
    """(step, model) for library ``name``; chainrule's model loads ``state_dict`` (torch's weights)."""
    lib = library(name)
    if name == "torch":
        import torch
        torch.manual_seed(SEED)
    model = workload.build(lib.nn)
    if state_dict is not None:
        model.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in state_dict.items()})
    opt = lib.optim.Adam(model.parameters(), lr=workload.lr)
    return train_step(model, lib.nn.CrossEntropyLoss(), opt, lib.tensor(x), lib.tensor(y)), model


def contenders(workload, batch):
    """Makers of both steps from the same weights, and the first ``check_steps`` losses of each
    (checked to agree step by step)."""
    x, y = workload.data(batch, np.random.default_rng(SEED))
    state = _make(workload, "torch", x, y)[1].state_dict()
    makers = {"chainrule": lambda: _make(workload, "chainrule", x, y, state)[0],
              "torch": lambda: _make(workload, "torch", x, y, state)[0]}
    losses = {}
    for name, make in makers.items():
        step = make()
        losses[name] = [float(step().item()) for _ in range(workload.check_steps)]
    if not np.allclose(losses["chainrule"], losses["torch"], rtol=workload.loss_tol, atol=workload.loss_tol):
        raise AssertionError(f"{workload.key}: chainrule and torch disagree on the loss: {losses}")
    return makers, losses


def run(workload, quick=False, batch=None, steps=None, thread_counts=THREADS):
    """Time ``workload``'s step with both libraries at every thread count; return the BENCHMARKS.md
    section, the target row and the key numbers."""
    timing = QUICK_TIMING if quick else Timing()
    batch = batch or workload.batch
    steps = steps or (workload.quick_steps if quick else workload.steps)
    makers, losses = contenders(workload, batch)
    ms, described = {}, {}
    with Load() as load:
        for n in thread_counts:
            with threads(n) as described[n]:
                fns = {name: make() for name, make in makers.items()}
                ms[n] = interleaved(fns, steps, Timing(timing.rounds, timing.pause, max(timing.warmup, 5)))
    result = {"steps": steps, "batch": batch, "threads": described, "losses": losses,
              "other_processes_cpu": load.others, "target_vs_torch": TARGET,
              "by_threads": {n: {"chainrule_ms": m["chainrule"], "torch_ms": m["torch"],
                                 "vs_torch": m["chainrule"] / m["torch"],
                                 "target_met": m["chainrule"] / m["torch"] <= TARGET} for n, m in ms.items()}}
    result["targets"] = [target(workload.workload, f"<= {TARGET:g}x torch",
                                [(thread_label(n), v["target_met"], f"{v['vs_torch']:.2f}x")
                                 for n, v in result["by_threads"].items()])]
    result["markdown"] = "\n".join(_section(workload, result, ms, load))
    return result


def _section(workload, result, ms, load):
    """The markdown lines of the section: what runs, the threads, the table and the verdicts."""
    counts, described, losses = list(ms), result["threads"], result["losses"]
    diff = max(abs(a - b) for a, b in zip(losses["chainrule"], losses["torch"]))
    return [
        f"## {workload.title}",
        "",
        f"Batch {result['batch']}: {workload.description}, cross-entropy, backward and Adam "
        f"(lr {workload.lr:g}) in float32; chainrule's `nn` + `nn.optim.Adam` against `torch.nn` + "
        "`torch.optim.Adam` in one process from the same weights (torch's `state_dict()` loaded into "
        f"ours). The losses of the first {len(losses['torch'])} steps agree step by step to {diff:.1e} "
        f"(checked to {workload.loss_tol:g}). Median ms/step over {result['steps']} timed steps per "
        "library and thread count (interleaved blocks).",
        "",
        *[f"Threads at {thread_label(n)}: {described[n]}." for n in counts],
        "",
        *load.warning(),
        "| | " + " | ".join(f"{thread_label(n)}: ms | vs torch" for n in counts) + " |",
        "|---|" + "---:|---:|" * len(counts),
        "| chainrule, `nn` + `nn.optim.Adam` | " + " | ".join(
            f"{ms[n]['chainrule']:.3f} | {ratio(ms[n]['chainrule'], ms[n]['torch'])}" for n in counts) + " |",
        f"| torch {torch_version()} eager | " + " | ".join(f"{ms[n]['torch']:.3f} | 1.00x" for n in counts)
        + " |",
        "",
        f"Target <= {TARGET:g}x torch: " + "; ".join(
            f"{verdict(result['by_threads'][n]['target_met'])} at {thread_label(n)}" for n in counts) + ".",
        "",
    ]
