"""A real dataset: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download),
standardised per pixel (``Standardizer`` fitted on the training split), seeded 80/20 split.

Trains an MLP (64-128-64-10 with dropout) and a small CNN (two 3x3 ``Conv2d`` + ``MaxPool2d`` blocks,
dropout before the classifier) with mini-batch Adam, a cosine learning-rate schedule and
``CrossEntropyLoss``; full-run targets: MLP >= 97%, CNN >= 98% test accuracy.
Writes ``loss_curve.png``, ``confusion_<model>.png`` and ``report.json``. ``--vs-torch`` trains the
same architecture in PyTorch from the same initial weights (copied with ``state_dict``), on the same
mini-batches with the same optimiser and schedule, and reports both accuracies and training times
(PyTorch single-threaded; the dropout masks come from each library's own generator, so the two runs
are alike, not identical).
"""
import time

import numpy as np
from sklearn.datasets import load_digits

import nn
from nn.data import DataLoader, Standardizer, TensorDataset, train_test_split

from . import common

SUMMARY = "sklearn 8x8 digits: MLP 64-128-64-10 and a 2-conv CNN, dropout, Adam + cosine schedule"
FULL = dict(samples=None, epochs=50, lr=0.002, batch_size=32)
QUICK = dict(samples=600, epochs=4, lr=0.003, batch_size=32)
TARGETS = {"mlp_test_acc": 0.97, "cnn_test_acc": 0.98}
QUICK_TARGETS = {"mlp_test_acc": 0.8, "cnn_test_acc": 0.7}


def build(kind, lib=nn):
    """The ``kind`` ("mlp" or "cnn") network from ``lib`` (``nn`` or ``torch.nn``: same layers, same
    parameter names, so state dicts move between them)."""
    if kind == "mlp":
        return lib.Sequential(lib.Linear(64, 128), lib.ReLU(), lib.Dropout(0.2),
                              lib.Linear(128, 64), lib.ReLU(), lib.Dropout(0.2), lib.Linear(64, 10))
    return lib.Sequential(
        lib.Conv2d(1, 32, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),   # 32 x 4 x 4
        lib.Conv2d(32, 64, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),  # 64 x 2 x 2
        lib.Flatten(), lib.Dropout(0.3), lib.Linear(256, 64), lib.ReLU(), lib.Linear(64, 10))


def load_data(seed, samples=None):
    """Standardised digits as ``(x_train, x_test, y_train, y_test)``, ``x`` of shape ``(n, 64)``."""
    digits = load_digits()
    x, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    if samples is not None:
        keep = np.random.default_rng(seed).permutation(len(x))[:samples]
        x, y = x[keep], y[keep]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=seed)
    scaler = Standardizer().fit(x_train)
    return (np.asarray(scaler.transform(x_train), dtype=np.float32),
            np.asarray(scaler.transform(x_test), dtype=np.float32), y_train, y_test)


def main(out_dir="results", *, epochs=None, lr=None, batch_size=None, seed=0, quick=False,
         quiet=False, model="both", vs_torch=False):
    cfg = dict(QUICK if quick else FULL, seed=seed, model=model, vs_torch=vs_torch)
    cfg.update({k: v for k, v in dict(epochs=epochs, lr=lr, batch_size=batch_size).items() if v is not None})
    run = common.Run("digits", out_dir, quick=quick, quiet=quiet, config=cfg)
    x_train, x_test, y_train, y_test = load_data(seed, cfg["samples"])
    cfg.update(n_train=len(x_train), n_test=len(x_test))
    kinds = ("mlp", "cnn") if model == "both" else (model,)
    targets = {k: v for k, v in (QUICK_TARGETS if quick else TARGETS).items() if k.split("_")[0] in kinds}

    metrics, panels, notes = {}, {"loss (cross-entropy)": {}, "test accuracy": {}}, []
    for kind in kinds:
        shape = (-1, 64) if kind == "mlp" else (-1, 1, 8, 8)
        xtr, xte = x_train.reshape(shape), x_test.reshape(shape)
        common.seed_everything(seed)
        net = build(kind)
        initial = {k: v.copy() for k, v in net.state_dict().items()}
        loss_fn = nn.CrossEntropyLoss()
        optimizer = nn.optim.Adam(net.parameters(), lr=cfg["lr"])
        scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])
        loader = DataLoader(TensorDataset(xtr, y_train), batch_size=cfg["batch_size"], shuffle=True,
                            seed=seed)

        evaluate = common.classification_evaluator(loss_fn, xtr, y_train, xte, y_test)

        hist = common.fit(net, loss_fn, optimizer, loader, cfg["epochs"], evaluate=evaluate,
                          scheduler=scheduler, quiet=quiet, desc=f"digits {kind}")
        run.timings[f"{kind}_train"] = round(sum(hist["seconds"]), 3)  # evaluation excluded
        metrics[f"{kind}_test_acc"] = hist["test_acc"][-1]
        metrics[f"{kind}_train_acc"] = hist["train_acc"][-1]
        panels["loss (cross-entropy)"][f"{kind} train"] = hist["train_loss"]
        panels["loss (cross-entropy)"][f"{kind} test"] = hist["test_loss"]
        panels["test accuracy"][kind] = hist["test_acc"]

        pred = common.predict(net, xte).argmax(axis=1)
        common.plot_confusion(common.confusion_matrix(y_test, pred, 10), run.path(f"confusion_{kind}.png"),
                              title=f"digits, {kind.upper()}: test accuracy {hist['test_acc'][-1]:.1%}")

        if vs_torch:
            torch_acc, seconds = train_torch(kind, initial, xtr, y_train, xte, y_test, cfg, seed, quiet)
            run.timings[f"{kind}_torch_train"] = round(seconds, 3)
            metrics[f"{kind}_torch_test_acc"] = torch_acc
            notes.append(f"{kind}: chainrule {metrics[kind + '_test_acc']:.2%} in "
                         f"{run.timings[kind + '_train']:.1f} s, PyTorch {torch_acc:.2%} in "
                         f"{run.timings[kind + '_torch_train']:.1f} s (same initial weights and batches)")

    common.plot_curves(panels, run.path("loss_curve.png"),
                       title="8x8 digits: MLP and CNN, Adam with a cosine schedule")
    return run.finish(metrics, targets, summary=SUMMARY, notes=notes)


def train_torch(kind, initial, x_train, y_train, x_test, y_test, cfg, seed, quiet):
    """Train ``build(kind, torch.nn)`` from ``initial`` on the batches chainrule saw (same
    ``DataLoader`` seed), with the same optimiser and schedule. Returns the test accuracy and the
    training time (the import of torch excluded)."""
    import torch
    # one thread: on layers this small a thread pool costs more than it gains (and on a busy machine
    # its spinning threads can slow it down tenfold)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    net = build(kind, torch.nn)
    net.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in initial.items()})
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])
    loss_fn = torch.nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=cfg["batch_size"], shuffle=True,
                        seed=seed)
    for _ in common.progress(range(cfg["epochs"]), desc=f"torch {kind}", quiet=quiet):
        net.train()
        for xb, yb in loader:
            xb, yb = torch.from_numpy(_array(xb)), torch.from_numpy(_array(yb))
            loss = loss_fn(net(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
    seconds = time.perf_counter() - t0
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    return common.accuracy(pred, y_test), seconds


def _array(batch):
    """A batch (an array, or a Tensor that does not require grad) as a contiguous array for torch."""
    return np.ascontiguousarray(np.asarray(batch))
