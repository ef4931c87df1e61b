"""A real dataset: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download),
standardised per pixel (``Standardizer`` fitted on the training split), seeded 80/20 split.

Trains an MLP (64-128-64-10) and a small CNN (two 3x3 ``Conv2d`` + ``MaxPool2d`` blocks) with
mini-batch Adam and ``CrossEntropyLoss``; full-run targets: MLP >= 97%, CNN >= 98% test accuracy.
Writes ``loss_curve.png``, ``confusion_<model>.png`` and ``report.json``. ``--vs-torch`` trains the
same architecture in PyTorch from the same initial weights (copied with ``state_dict``), on the same
mini-batches with the same optimiser, and reports both accuracies, times and how far the final
weights drifted apart.
"""
import time

import numpy as np

import nn
from nn.data import DataLoader, Standardizer, TensorDataset, train_test_split

from . import common

SUMMARY = "sklearn 8x8 digits: MLP 64-128-64-10 and a 2-conv CNN, Adam, CrossEntropyLoss"
FULL = dict(samples=None, epochs=30, lr=0.001, batch_size=32)
QUICK = dict(samples=600, epochs=4, lr=0.003, batch_size=32)
TARGETS = {"mlp_test_acc": 0.97, "cnn_test_acc": 0.98}
QUICK_TARGETS = {"mlp_test_acc": 0.8, "cnn_test_acc": 0.7}


def build(kind, lib=nn):
    """The ``kind`` ("mlp" or "cnn") network from ``lib`` (``nn`` or ``torch.nn``: same layers, same
    parameter names, so state dicts move between them)."""
    if kind == "mlp":
        return lib.Sequential(lib.Linear(64, 128), lib.ReLU(), lib.Linear(128, 64), lib.ReLU(),
                              lib.Linear(64, 10))
    return lib.Sequential(
        lib.Conv2d(1, 16, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),   # 16 x 4 x 4
        lib.Conv2d(16, 32, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),  # 32 x 2 x 2
        lib.Flatten(), lib.Linear(128, 64), lib.ReLU(), lib.Linear(64, 10))


def load_data(seed, samples=None):
    """Standardised digits as ``(x_train, x_test, y_train, y_test)``, ``x`` of shape ``(n, 64)``."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    if samples is not None:
        keep = np.random.default_rng(seed).permutation(len(x))[:samples]
        x, y = x[keep], y[keep]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=seed)
    scaler = Standardizer().fit(x_train)
    return (np.asarray(scaler.transform(x_train), dtype=np.float32),
            np.asarray(scaler.transform(x_test), dtype=np.float32), y_train, y_test)


def main(out_dir="results/digits", *, epochs=None, lr=None, batch_size=None, seed=0, quick=False,
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
        loader = DataLoader(TensorDataset(xtr, y_train), batch_size=cfg["batch_size"], shuffle=True,
                            seed=seed)

        def evaluate(m, xtr=xtr, xte=xte, loss_fn=loss_fn):
            return {**common.classification_metrics(m, loss_fn, xtr, y_train, "train"),
                    **common.classification_metrics(m, loss_fn, xte, y_test, "test")}

        t0 = time.perf_counter()
        hist = common.fit(net, loss_fn, optimizer, loader, cfg["epochs"], evaluate=evaluate, quiet=quiet,
                          desc=f"digits {kind}")
        run.timings[f"{kind}_train"] = round(time.perf_counter() - t0, 3)
        metrics[f"{kind}_test_acc"] = hist["test_acc"][-1]
        metrics[f"{kind}_train_acc"] = hist["train_acc"][-1]
        panels["loss (cross-entropy)"][f"{kind} train"] = hist["train_loss"]
        panels["loss (cross-entropy)"][f"{kind} test"] = hist["test_loss"]
        panels["test accuracy"][kind] = hist["test_acc"]

        pred = common.predict(net, xte).argmax(axis=1)
        common.plot_confusion(common.confusion_matrix(y_test, pred, 10), run.path(f"confusion_{kind}.png"),
                              title=f"digits, {kind.upper()}: test accuracy {hist['test_acc'][-1]:.1%}")

        if vs_torch:
            t0 = time.perf_counter()
            torch_acc, drift = train_torch(kind, initial, xtr, y_train, xte, y_test, cfg, seed, quiet)
            run.timings[f"{kind}_torch_train"] = round(time.perf_counter() - t0, 3)
            metrics[f"{kind}_torch_test_acc"] = torch_acc
            metrics[f"{kind}_max_weight_diff"] = drift(net.state_dict())
            notes.append(f"{kind}: chainrule {metrics[kind + '_test_acc']:.2%} in "
                         f"{run.timings[kind + '_train']:.1f} s, PyTorch {torch_acc:.2%} in "
                         f"{run.timings[kind + '_torch_train']:.1f} s (same initial weights and batches)")

    common.plot_curves(panels, run.path("loss_curve.png"), title="8x8 digits: MLP and CNN, Adam")
    return run.finish(metrics, targets, summary=SUMMARY, notes=notes)


def train_torch(kind, initial, x_train, y_train, x_test, y_test, cfg, seed, quiet):
    """Train ``build(kind, torch.nn)`` from ``initial`` on the batches chainrule saw (same
    ``DataLoader`` seed). Returns the test accuracy and ``drift(state) -> max |w_torch - w|``."""
    import torch
    net = build(kind, torch.nn)
    net.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in initial.items()})
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
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
    net.eval()
    with torch.no_grad():
        pred = net(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    final = {k: v.detach().numpy() for k, v in net.state_dict().items()}

    def drift(state):
        return max(float(np.abs(np.asarray(state[k]) - final[k]).max()) for k in final)
    return common.accuracy(pred, y_test), drift


def _array(batch):
    return np.ascontiguousarray(batch.data if hasattr(batch, "data") and not isinstance(batch, np.ndarray)
                                else batch)
