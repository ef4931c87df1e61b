"""CNN speed: one training step of a small convolutional net at the digits scale, against torch eager.

The step: a batch of 64 single-channel 8x8 images through
``Conv2d(1, 16, 3, padding=1)-ReLU-MaxPool2d(2)-Conv2d(16, 32, 3, padding=1)-ReLU-MaxPool2d(2)-Flatten-
Linear(128, 10)``, cross-entropy, backward and an Adam update (lr 1e-3), in float32. The same model is
built with chainrule's ``nn`` (``nn.optim.Adam``) and with ``torch.nn`` (``torch.optim.Adam``) in one
process, at 1 and 2 threads (the same on both sides), from identical initial weights (torch's
``state_dict()`` loaded with ``load_state_dict``). The losses of the first two steps must agree to
1e-5; then both are timed (harness.interleaved: interleaved blocks, median ms/step).

``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_cnn`` prints the section.
"""
import numpy as np

from benchmarks.bench_tensor import library, train_step
from benchmarks.harness import (QUICK_TIMING, THREADS, Load, Timing, interleaved, ratio, target,
                                thread_label, threads, torch_version, verdict)

BATCH = 64
IMAGE = (1, 8, 8)
CLASSES = 10
LR = 1e-3
STEPS = 200
QUICK_STEPS = 20
TARGET = 1.0  # chainrule / torch
LOSS_TOL = 1e-5
SEED = 0


def _layers(lib):
    """The model's layers from ``lib`` (``nn`` or ``torch.nn``): the same constructor calls for both."""
    return [lib.Conv2d(1, 16, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
            lib.Conv2d(16, 32, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
            lib.Flatten(), lib.Linear(128, CLASSES)]


def _data(batch, seed=SEED):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *IMAGE)).astype(np.float32)
    y = rng.integers(0, CLASSES, batch).astype(np.int64)
    return x, y


def _make(name, x, y, state_dict=None):
    """(step, model) for library ``name``; chainrule's model loads ``state_dict`` (torch's weights)."""
    lib = library(name)
    if name == "torch":
        import torch
        torch.manual_seed(SEED)
    model = lib.nn.Sequential(*_layers(lib.nn))
    if state_dict is not None:
        model.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in state_dict.items()})
    opt = lib.optim.Adam(model.parameters(), lr=LR)
    return train_step(model, lib.nn.CrossEntropyLoss(), opt, lib.tensor(x), lib.tensor(y)), model


def contenders(batch=BATCH):
    """Makers of both steps from the same weights, and the first two losses of each (checked to agree)."""
    x, y = _data(batch)
    state = _make("torch", x, y)[1].state_dict()
    makers = {"chainrule": lambda: _make("chainrule", x, y, state)[0],
              "torch": lambda: _make("torch", x, y, state)[0]}
    losses = {}
    for name, make in makers.items():
        step = make()
        losses[name] = [float(step().item()) for _ in range(2)]
    if not np.allclose(losses["chainrule"], losses["torch"], rtol=LOSS_TOL, atol=LOSS_TOL):
        raise AssertionError(f"bench_cnn: chainrule and torch disagree on the loss: {losses}")
    return makers, losses


def run(quick=False, batch=BATCH, steps=None, thread_counts=THREADS):
    """Time the step with both libraries at every thread count; return the BENCHMARKS.md section and
    the key numbers."""
    timing = QUICK_TIMING if quick else Timing()
    steps = steps or (QUICK_STEPS if quick else STEPS)
    makers, losses = contenders(batch)
    ms, described = {}, {}
    with Load() as load:
        for n in thread_counts:
            with threads(n) as described[n]:
                fns = {name: make() for name, make in makers.items()}
                ms[n] = interleaved(fns, steps, Timing(timing.rounds, timing.pause, max(timing.warmup, 5)))
    result = {"steps": steps, "threads": described, "losses": losses, "other_processes_cpu": load.others,
              "target_vs_torch": TARGET,
              "by_threads": {n: {"chainrule_ms": m["chainrule"], "torch_ms": m["torch"],
                                 "vs_torch": m["chainrule"] / m["torch"],
                                 "target_met": m["chainrule"] / m["torch"] <= TARGET} for n, m in ms.items()}}
    result["targets"] = [target("CNN step (digits scale), `nn` + Adam", f"<= {TARGET:g}x torch",
                                [(thread_label(n), v["target_met"], f"{v['vs_torch']:.2f}x")
                                 for n, v in result["by_threads"].items()])]
    diff = max(abs(a - b) for a, b in zip(losses["chainrule"], losses["torch"]))
    lines = [
        "## CNN: one training step at the digits scale",
        "",
        f"Batch {batch} of {'x'.join(map(str, IMAGE))} images through `Conv2d(1,16,3,padding=1)-ReLU-"
        "MaxPool2d(2)-Conv2d(16,32,3,padding=1)-ReLU-MaxPool2d(2)-Flatten-Linear(128,10)`, cross-entropy, "
        f"backward and Adam (lr {LR:g}) in float32; chainrule's `nn` + `nn.optim.Adam` against `torch.nn` + "
        "`torch.optim.Adam` in one process from the same weights (torch's `state_dict()` loaded into "
        f"ours). The losses of the first two steps agree to {diff:.1e} (checked to {LOSS_TOL:g}). Median "
        f"ms/step over {steps} timed steps per library and thread count (interleaved blocks).",
        "",
        *[f"Threads at {thread_label(n)}: {described[n]}." for n in thread_counts],
        "",
        *load.warning(),
        "| | " + " | ".join(f"{thread_label(n)}: ms | vs torch" for n in thread_counts) + " |",
        "|---|" + "---:|---:|" * len(thread_counts),
        "| chainrule, `nn` + `nn.optim.Adam` | " + " | ".join(
            f"{ms[n]['chainrule']:.3f} | {ratio(ms[n]['chainrule'], ms[n]['torch'])}" for n in thread_counts)
        + " |",
        f"| torch {torch_version()} eager | "
        + " | ".join(f"{ms[n]['torch']:.3f} | 1.00x" for n in thread_counts) + " |",
        "",
        f"Target <= {TARGET:g}x torch: " + "; ".join(
            f"{verdict(result['by_threads'][n]['target_met'])} at {thread_label(n)}" for n in thread_counts)
        + ". (The LSTM step of the issue's table is not measured: `nn` has no LSTM yet.)",
        "",
    ]
    result["markdown"] = "\n".join(lines)
    return result


if __name__ == "__main__":
    print(run()["markdown"])
