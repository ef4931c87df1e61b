"""Three interleaved spiral arms: an ``nn.MLP`` with softmax cross-entropy (``CrossEntropyLoss``),
mini-batch Adam. Writes ``decision_boundary.png`` (the decision regions), ``loss_curve.png`` and
``report.json``; the full run reaches at least 95% training accuracy.
"""
import numpy as np

import nn
from nn.data import DataLoader, TensorDataset, make_spiral, train_test_split

from . import common

SUMMARY = "3-class spiral, MLP 2-{h}-{h}-3 (ReLU), softmax cross-entropy, mini-batch Adam + cosine schedule"
FULL = dict(samples=900, classes=3, noise=0.2, hidden=64, epochs=150, lr=0.01, batch_size=32)
QUICK = dict(samples=300, classes=3, noise=0.2, hidden=32, epochs=30, lr=0.02, batch_size=32)
TARGETS = {"train_acc": 0.95}
QUICK_TARGETS = {"train_acc": 0.7}


def main(out_dir="results", *, epochs=None, lr=None, batch_size=None, seed=0, quick=False,
         quiet=False):
    cfg = dict(QUICK if quick else FULL, seed=seed)
    cfg.update({k: v for k, v in dict(epochs=epochs, lr=lr, batch_size=batch_size).items() if v is not None})
    run = common.Run("spiral", out_dir, quick=quick, quiet=quiet, config=cfg)
    common.seed_everything(seed)

    x, y = make_spiral(cfg["samples"], classes=cfg["classes"], noise=cfg["noise"], seed=seed)
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y).astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=seed)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=cfg["batch_size"], shuffle=True,
                        seed=seed)

    h, k = cfg["hidden"], cfg["classes"]
    model = nn.MLP([2, h, h, k])
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])

    evaluate = common.classification_evaluator(loss_fn, x_train, y_train, x_test, y_test)

    with run.timer("train"):
        hist = common.fit(model, loss_fn, optimizer, loader, cfg["epochs"], evaluate=evaluate,
                          scheduler=scheduler,
                          quiet=quiet, desc="spiral", show=("train_acc", "test_acc"))

    common.plot_decision_boundary(
        lambda grid: common.probabilities(model, grid), x_train, y_train, run.path("decision_boundary.png"),
        title=f"spiral, training set: accuracy {hist['train_acc'][-1]:.1%} (test {hist['test_acc'][-1]:.1%})")
    common.plot_curves({"loss (cross-entropy)": {"train": hist["train_loss"], "test": hist["test_loss"]},
                        "accuracy": {"train": hist["train_acc"], "test": hist["test_acc"]}},
                       run.path("loss_curve.png"),
                       title=f"{k}-class spiral: MLP 2-{h}-{h}-{k}, Adam with a cosine schedule")

    metrics = {"train_acc": hist["train_acc"][-1], "test_acc": hist["test_acc"][-1],
               "train_loss": hist["train_loss"][-1], "test_loss": hist["test_loss"][-1]}
    return run.finish(metrics, QUICK_TARGETS if quick else TARGETS, summary=SUMMARY.format(h=h))
