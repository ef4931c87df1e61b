"""Train on any numeric CSV: ``python -m demos csv FILE --target COLUMN [--predict NEW.csv]``.

Loads the file with ``nn.data.load_csv``, decides between classification (an integer-valued target
with few distinct values) and regression (anything else; ``--task`` overrides), standardises the
features (and a regression target) on the training split, trains an ``nn.MLP`` with Adam, prints
the test metrics, saves the model with ``nn.save`` (``model.npz``) next to ``model.json`` (feature
names, scaling, classes: what it takes to use the model again), and with ``--predict`` writes
``predictions.csv`` for new rows. A missing file or column, a non-numeric cell or an empty file is
a ``DemoError``: one line on stderr and exit status 2 from the CLI.
"""
import csv
import json
import os

import matplotlib.pyplot as plt
import numpy as np

import nn
from nn.data import DataLoader, Standardizer, TensorDataset, load_csv, train_test_split

from . import DemoError, common

SUMMARY = "any numeric CSV: classification or regression with an MLP, Adam"
FULL = dict(epochs=100, lr=0.005, batch_size=32, hidden=32)
QUICK = dict(epochs=25, lr=0.01, batch_size=32, hidden=16)
TARGETS = {"classification": {"test_acc": 0.9}, "regression": {"test_r2": 0.8}}
QUICK_TARGETS = {"classification": {"test_acc": 0.8}, "regression": {"test_r2": 0.5}}
MAX_CLASSES = 20
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "fruit.csv")


def main(out_dir="results", *, path=DEFAULT_DATA, target="kind", predict=None, task="auto",
         hidden=None, epochs=None, lr=None, batch_size=None, seed=0, quick=False, quiet=False):
    cfg = dict(QUICK if quick else FULL, seed=seed, path=path, target=target, predict=predict)
    cfg.update({k: v for k, v in dict(epochs=epochs, lr=lr, batch_size=batch_size, hidden=hidden).items()
                if v is not None})
    x, y, names = read_training_csv(path, target)
    # read the rows to predict first: a bad file fails before training, not after
    new_x, new_header, new_rows = read_feature_csv(predict, names) if predict else (None, None, None)
    if task == "auto":
        task = detect_task(y)
    cfg.update(task=task, rows=len(x), features=list(names))
    run = common.Run("csv", out_dir, quick=quick, quiet=quiet, config=cfg)
    common.seed_everything(seed)

    if task == "classification":
        classes, y = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise DemoError(f"{path}: the target column {target!r} has a single value; nothing to learn")
        y = y.astype(np.int64)
        cfg["classes"] = [_plain(c) for c in classes]
    else:
        y = y.astype(np.float32).reshape(-1, 1)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=seed)
    xs = Standardizer().fit(x_train)
    xt_train, xt_test = (np.asarray(xs.transform(a), dtype=np.float32) for a in (x_train, x_test))

    h = cfg["hidden"]
    if task == "classification":
        out, loss_fn, yt_train = len(classes), nn.CrossEntropyLoss(), y_train
    else:
        ys = Standardizer().fit(y_train)
        out, loss_fn = 1, nn.MSELoss()
        yt_train = np.asarray(ys.transform(y_train), dtype=np.float32)
    model = nn.MLP([x.shape[1], h, h, out])
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])
    loader = DataLoader(TensorDataset(xt_train, yt_train), batch_size=cfg["batch_size"], shuffle=True,
                        seed=seed)

    def predict_raw(xt):
        """Class indices (classification) or values in the target's units (regression)."""
        p = common.predict(model, xt)
        return p.argmax(axis=1) if task == "classification" else ys.inverse_transform(p)

    def evaluate_regression(m):
        return {"train_loss": float(np.mean((common.predict(m, xt_train) - yt_train) ** 2)),
                "test_loss": float(np.mean((common.predict(m, xt_test) - ys.transform(y_test)) ** 2)),
                "test_r2": common.r2_score(y_test, predict_raw(xt_test))}

    evaluate = (common.classification_evaluator(loss_fn, xt_train, y_train, xt_test, y_test)
                if task == "classification" else evaluate_regression)

    with run.timer("train"):
        hist = common.fit(model, loss_fn, optimizer, loader, cfg["epochs"], evaluate=evaluate,
                          scheduler=scheduler, quiet=quiet, desc=f"csv {task}",
                          show=("test_acc",) if task == "classification" else ("test_r2",))

    pred = predict_raw(xt_test)
    name = os.path.basename(path)
    if task == "classification":
        metrics = {"test_acc": common.accuracy(pred, y_test), "train_acc": hist["train_acc"][-1],
                   "majority_baseline_acc": float(np.bincount(y_test, minlength=len(classes)).max()
                                                  / len(y_test))}
        common.plot_confusion(common.confusion_matrix(y_test, pred, len(classes)), run.path("confusion.png"),
                              title=f"{name}: {target}, test accuracy {metrics['test_acc']:.1%}",
                              labels=cfg["classes"])
        panels = {"loss (cross-entropy)": {"train": hist["train_loss"], "test": hist["test_loss"]},
                  "accuracy": {"train": hist["train_acc"], "test": hist["test_acc"]}}
    else:
        metrics = {"test_r2": common.r2_score(y_test, pred),
                   "test_rmse": float(np.sqrt(np.mean((pred - y_test) ** 2)))}
        _plot_pred_vs_true(y_test, pred, run.path("pred_vs_true.png"),
                           f"{name}: {target}, test R$^2$ = {metrics['test_r2']:.3f}")
        panels = {"loss (MSE, standardised)": {"train": hist["train_loss"], "test": hist["test_loss"]},
                  "test R^2": {"test": hist["test_r2"]}}
    common.plot_curves(panels, run.path("loss_curve.png"), title=f"{name}: {target} ({task})")

    nn.save(model, run.path("model.npz"))
    meta = {"task": task, "target": target, "features": list(names), "sizes": [x.shape[1], h, h, out],
            "activation": "relu", "x_mean": _stat(xs, "mean"), "x_std": _stat(xs, "std")}
    if task == "classification":
        meta["classes"] = cfg["classes"]
    else:
        meta.update(y_mean=_stat(ys, "mean"), y_std=_stat(ys, "std"))
    with open(run.path("model.json"), "w") as f:
        json.dump(meta, f, indent=2)

    if new_x is not None:
        xt_new = np.asarray(xs.transform(new_x), dtype=np.float32)
        if task == "classification":
            logits = common.predict(model, xt_new)
            proba = np.exp(logits - logits.max(axis=1, keepdims=True))
            proba /= proba.sum(axis=1, keepdims=True)
            columns = [f"predicted_{target}"] + [f"p_{c}" for c in cfg["classes"]]
            values = [[cfg["classes"][i]] + [round(float(p), 4) for p in row]
                      for i, row in zip(proba.argmax(axis=1), proba)]
        else:
            columns = [f"predicted_{target}"]
            values = [[float(v)] for v in predict_raw(xt_new)[:, 0]]
        with open(run.path("predictions.csv"), "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(new_header + columns)
            for row, extra in zip(new_rows, values):
                writer.writerow(row + extra)
        metrics["predicted_rows"] = len(new_x)

    targets = (QUICK_TARGETS if quick else TARGETS)[task]
    return run.finish(metrics, targets, summary=f"{os.path.basename(path)} -> {target}: {task}, "
                                                 f"MLP {x.shape[1]}-{h}-{h}-{out}, Adam")


# ----------------------------------------------------------------------------------------- input
def _header(path):
    """The column names of ``path``, or a ``DemoError`` for a missing, unreadable or empty file."""
    if not os.path.exists(path):
        raise DemoError(f"{path}: no such file")
    if os.path.isdir(path):
        raise DemoError(f"{path}: is a directory, not a CSV file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for row in csv.reader(f):
                if any(cell.strip() for cell in row):
                    return [cell.strip() for cell in row]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DemoError(f"{path}: cannot read it as a CSV file ({e})") from None
    raise DemoError(f"{path}: the file is empty")


def _one_line(e):
    text = " ".join(str(e.args[0] if e.args else e).split())
    return text[len("load_csv: "):] if text.startswith("load_csv: ") else text


def read_training_csv(path, target):
    """``(x, y, names)`` from ``nn.data.load_csv``, with every user error as one ``DemoError`` line."""
    try:
        x, y, names = load_csv(path, target)
    except (ValueError, KeyError, OSError) as e:
        raise DemoError(_one_line(e)) from None
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or x.shape[1] == 0:
        raise DemoError(f"{path}: no feature columns besides {target!r}")
    if len(x) < 10:
        raise DemoError(f"{path}: only {len(x)} data rows; need at least 10 to train and test")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DemoError(f"{path}: empty or non-finite cells; fill or drop those rows first")
    return x, y, list(names)


def read_feature_csv(path, names):
    """``(x, header, rows)``: the columns ``names`` of ``path`` as an array (other columns, such as
    the target, are ignored), its header and its data rows as the cells read."""
    header = _header(path)
    missing = [n for n in names if n not in header]
    if missing:
        raise DemoError(f"{path}: missing feature column(s) {', '.join(map(repr, missing))}")
    index = [header.index(n) for n in names]
    values, rows = [], []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(r for r in reader if any(c.strip() for c in r))  # the header
        for line, row in enumerate(reader, 2):
            if not any(c.strip() for c in row):
                continue
            try:
                values.append([float(row[i]) for i in index])
                rows.append(row)
            except IndexError:
                raise DemoError(f"{path}: line {line} has {len(row)} cells, the header "
                                f"{len(header)}") from None
            except ValueError:
                bad = next(i for i in index if not _is_number(row[i]))
                raise DemoError(f"{path}: line {line}, column {header[bad]!r}: {row[bad]!r} is not a "
                                "number") from None
    if not rows:
        raise DemoError(f"{path}: the file has a header but no data rows")
    return np.asarray(values, dtype=np.float32), header, rows


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def detect_task(y):
    """"classification" for an integer-valued target with few distinct values, else "regression"."""
    values = np.unique(y)
    few = min(MAX_CLASSES, max(2, len(y) // 5))
    return "classification" if np.all(values == np.round(values)) and len(values) <= few else "regression"


def _plain(v):
    v = float(v)
    return int(v) if v.is_integer() else v


def _stat(scaler, name):
    for attr in (name, f"{name}_", "scale_" if name == "std" else "mean"):
        if hasattr(scaler, attr):
            return np.asarray(getattr(scaler, attr), dtype=float).reshape(-1).tolist()
    return None


def _plot_pred_vs_true(y, pred, path, title):
    y, pred = np.asarray(y).reshape(-1), np.asarray(pred).reshape(-1)
    fig, ax = plt.subplots(figsize=(5, 5))
    lo, hi = min(y.min(), pred.min()), max(y.max(), pred.max())
    ax.plot([lo, hi], [lo, hi], c="k", lw=1, ls="--", label="perfect")
    ax.scatter(y, pred, s=14, c="#1f77b4", edgecolors="k", linewidths=0.3, label="test rows")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    common.save_figure(fig, path)
