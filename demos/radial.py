"""The from-scratch scripts' network, rebuilt with ``nn``: 2 inputs, 4 sigmoid hidden units, 2
softmax outputs (``CrossEntropyLoss`` takes the logits), on a radial dataset (one class inside a
ring of the other).

Trained twice from the same initial weights by ``moons.train``, the loop written out with the
from-scratch lines each step replaces: per-sample SGD (batch size 1, as the scripts do), then
mini-batch SGD with the learning rate scaled by half the batch size; both decay the learning rate
along a cosine (``CosineAnnealingLR``), which stops the late spikes a fixed rate gives. For this very
network the scripts' lines are ``z1 = x @ W1 + b1; a1 = sigmoid(z1); z2 = a1 @ W2 + b2``, ``p =
softmax(z2)``, ``dz2 = (p - onehot(y)) / n; dW2 = a1.T @ dz2; da1 = dz2 @ W2.T; dz1 = da1 * a1 * (1 -
a1); dW1 = x.T @ dz1`` and ``W -= lr * dW``. Writes
``loss_curve.png`` (both runs' curves in one plot), ``decision_boundary.png`` (both models side by
side) and ``report.json``.
"""
import time

import matplotlib.pyplot as plt
import numpy as np

import nn
from nn.data import DataLoader, TensorDataset, make_circles, train_test_split

from . import common
from .moons import train

SUMMARY = "2-4-2 sigmoid+softmax net on circles: per-sample SGD, then mini-batch SGD, same init"
FULL = dict(samples=600, noise=0.1, factor=0.5, epochs=100, lr=0.1, batch_size=16)
QUICK = dict(samples=200, noise=0.1, factor=0.5, epochs=40, lr=0.5, batch_size=8)
TARGETS = {"per_sample_test_acc": 0.9, "minibatch_test_acc": 0.9}
QUICK_TARGETS = {"per_sample_test_acc": 0.75, "minibatch_test_acc": 0.6}


def main(out_dir="results", *, epochs=None, lr=None, batch_size=None, seed=0, quick=False,
         quiet=False):
    cfg = dict(QUICK if quick else FULL, seed=seed)
    cfg.update({k: v for k, v in dict(epochs=epochs, lr=lr, batch_size=batch_size).items() if v is not None})
    # half the linear scaling rule (lr * batch): the full rule makes these sigmoid units oscillate
    cfg["minibatch_lr"] = cfg["lr"] * cfg["batch_size"] / 2
    run = common.Run("radial", out_dir, quick=quick, quiet=quiet, config=cfg)
    common.seed_everything(seed)

    x, y = make_circles(cfg["samples"], noise=cfg["noise"], factor=cfg["factor"], seed=seed)
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y).astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=seed)

    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 2))
    initial = {k: v.copy() for k, v in model.state_dict().items()}
    loss_fn = nn.CrossEntropyLoss()

    evaluate = common.classification_evaluator(loss_fn, x_train, y_train, x_test, y_test)

    runs, predictors = {}, {}
    for key, label, batch, rate in (("per_sample", "per-sample SGD (batch 1)", 1, cfg["lr"]),
                                    ("minibatch", f"mini-batch SGD (batch {cfg['batch_size']})",
                                     cfg["batch_size"], cfg["minibatch_lr"])):
        model.load_state_dict(initial)
        loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch, shuffle=True, seed=seed)
        optimizer = nn.optim.SGD(model.parameters(), lr=rate)
        scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])
        t0 = time.perf_counter()
        hist = train(model, loss_fn, optimizer, scheduler, loader, cfg["epochs"], evaluate,
                     common.progress(range(cfg["epochs"]), desc=f"radial {key}", quiet=quiet))
        run.timings[f"{key}_train"] = round(time.perf_counter() - t0, 3)
        runs[key] = (label, hist)
        state = {k: v.copy() for k, v in model.state_dict().items()}
        predictors[key] = _predictor(state)

    panels = {"loss (cross-entropy, train)": {}, "test accuracy": {}}
    for key, (label, hist) in runs.items():
        label = f"{label}, {run.timings[key + '_train']:.1f} s"
        panels["loss (cross-entropy, train)"][label] = hist["train_loss"]
        panels["test accuracy"][label] = hist["test_acc"]
    common.plot_curves(panels, run.path("loss_curve.png"),
                       title="2-4-2 sigmoid/softmax network on circles, same initial weights")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    for ax, (key, (label, hist)) in zip(axes, runs.items()):
        common.draw_decision_boundary(ax, predictors[key], x_test, y_test,
                                      title=f"{label}: test accuracy {hist['test_acc'][-1]:.1%}")
    fig.tight_layout()
    common.save_figure(fig, run.path("decision_boundary.png"))

    metrics = {}
    for key, (_, hist) in runs.items():
        metrics[f"{key}_test_acc"] = hist["test_acc"][-1]
        metrics[f"{key}_train_loss"] = hist["train_loss"][-1]
    return run.finish(metrics, QUICK_TARGETS if quick else TARGETS, summary=SUMMARY)


def _predictor(state):
    """Class-1 probabilities of a 2-4-2 network with the weights ``state`` (the library's softmax)."""
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 2))
    model.load_state_dict(state)
    return lambda grid: common.probabilities(model, grid)[:, 1]
