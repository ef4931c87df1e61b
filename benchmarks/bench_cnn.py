"""CNN speed: one training step of a small convolutional net at the digits scale, against torch eager.

The step: a batch of 64 single-channel 8x8 images through
``Conv2d(1, 16, 3, padding=1)-ReLU-MaxPool2d(2)-Conv2d(16, 32, 3, padding=1)-ReLU-MaxPool2d(2)-Flatten-
Linear(128, 10)``, cross-entropy, backward and an Adam update (lr 1e-3), in float32. The same model is
built with chainrule's ``nn`` (``nn.optim.Adam``) and with ``torch.nn`` (``torch.optim.Adam``) in one
process, with the same thread count for NumPy's BLAS and for torch (bench_tensor's ``_set_threads``),
from identical initial weights (torch's ``state_dict()`` loaded with ``load_state_dict``). The losses of
the first two steps must agree to 1e-5; then both are timed (bench_tensor's ``_time``: warm-up, then
interleaved blocks of steps, median ms/step).

``run()`` returns ``{"markdown": ..., ...}`` with the section for BENCHMARKS.md and the key numbers;
``python -m benchmarks.bench_cnn`` prints the section.
"""
import os
import time

import numpy as np

from benchmarks.bench_tensor import _cpu_busy, _nn_train_step, _set_threads, _time

BATCH = 64
IMAGE = (1, 8, 8)
CLASSES = 10
LR = 1e-3
STEPS = 200
QUICK_STEPS = 40
TARGET = 1.5  # chainrule / torch
LOSS_TOL = 1e-5
SEED = 0


def _layers(lib):
    """The model's layers from ``lib`` (``nn`` or ``torch.nn``): the same constructor calls for both."""
    return [lib.Conv2d(1, 16, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
            lib.Conv2d(16, 32, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
            lib.Flatten(), lib.Linear(128, CLASSES)]


def _data(seed=SEED):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, *IMAGE)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int64)
    return x, y


def _torch_step(x, y, seed=SEED):
    import torch
    torch.manual_seed(seed)
    model = torch.nn.Sequential(*_layers(torch.nn))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
        return loss
    return step, model


def _chainrule_step(x, y, state_dict):
    import nn
    model = nn.Sequential(*_layers(nn))
    model.load_state_dict(state_dict)
    return _nn_train_step(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=LR), x, y), model


def _contenders():
    """Both steps from the same weights, after checking their first two losses agree."""
    x, y = _data()
    step_t, model_t = _torch_step(x, y)
    step_c, model_c = _chainrule_step(x, y, model_t.state_dict())
    for name, p in model_c.named_parameters():  # load_state_dict must copy, not alias torch's storage
        if np.shares_memory(p.data, model_t.state_dict()[name].numpy()):
            raise AssertionError(f"bench_cnn: chainrule's {name} shares memory with torch's")
    losses_t = [step_t().item() for _ in range(2)]
    losses_c = [step_c().item() for _ in range(2)]
    if not np.allclose(losses_c, losses_t, rtol=LOSS_TOL, atol=LOSS_TOL):
        raise AssertionError(f"bench_cnn: chainrule and torch disagree on the loss: {losses_c} vs {losses_t}")
    return {"chainrule": step_c, "torch": step_t}, losses_t, losses_c


def run(quick=False, threads=None):
    """Time the step with both libraries; return the BENCHMARKS.md section and the key numbers.
    ``threads`` defaults to $CHAINRULE_BENCH_THREADS, else torch's default (the core count)."""
    import torch
    threads = threads or int(os.environ.get("CHAINRULE_BENCH_THREADS", 0)) or torch.get_num_threads()
    used, undo = _set_threads(threads)
    try:
        contenders, losses_t, losses_c = _contenders()
        steps = QUICK_STEPS if quick else STEPS
        cpu0, wall0 = _cpu_busy(), time.perf_counter()
        ms = _time(contenders, steps, warmup=max(5, steps // 10))
        cpu1, wall = _cpu_busy(), time.perf_counter() - wall0
    finally:
        for fn in undo:
            fn()
    others = None  # share of the machine's CPU time other processes used while we timed
    if cpu0 and cpu1:
        others = max(0.0, (cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / (wall * (os.cpu_count() or 1))
    c, t = ms["chainrule"], ms["torch"]
    met = c / t <= TARGET
    result = {"chainrule_ms": c, "torch_ms": t, "vs_torch": c / t, "target_vs_torch": TARGET,
              "target_met": met, "steps": steps, "threads": used,
              "losses_torch": losses_t, "losses_chainrule": losses_c, "other_processes_cpu": others}
    lines = [
        "## CNN: one training step at the digits scale",
        "",
        f"Batch {BATCH} of {'x'.join(map(str, IMAGE))} images through `Conv2d(1,16,3,padding=1)-ReLU-"
        "MaxPool2d(2)-Conv2d(16,32,3,padding=1)-ReLU-MaxPool2d(2)-Flatten-Linear(128,10)`, cross-entropy, "
        f"backward and Adam (lr {LR:g}) in float32; chainrule's `nn` + `nn.optim.Adam` against `torch.nn` + "
        "`torch.optim.Adam` in one process from the same weights (torch's `state_dict()` loaded into "
        "ours). The losses of the first two steps agree to "
        f"{max(abs(a - b) for a, b in zip(losses_c, losses_t)):.1e} (checked to {LOSS_TOL:g}). Median "
        f"ms/step over {steps} timed steps per library (warm-up, then interleaved blocks).",
        "",
        f"Threads: torch {used['torch']}, NumPy BLAS {used['numpy_blas']}.",
        "",
        f"Target <= {TARGET:g}x torch: {'met' if met else '**not met**'}.",
        "",
    ]
    if others is not None and others > 0.1:
        lines += [f"**Warning**: other processes used {100 * others:.0f}% of the machine's CPU time "
                  "during the timing; the numbers are perturbed.", ""]
    lines += [
        "| | ms/step | vs torch |",
        "|---|---:|---:|",
        f"| chainrule, `nn` + `nn.optim.Adam` | {c:.3f} | {c / t:.2f}x |",
        f"| torch {torch.__version__.split('+')[0]} eager | {t:.3f} | 1.00x |",
        "",
    ]
    result["markdown"] = "\n".join(lines)
    return result


if __name__ == "__main__":
    print(run()["markdown"])
