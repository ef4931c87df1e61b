"""Train on a real CSV file: ``python -m demos csv FILE --target COLUMN [--predict NEW.csv]``, and
predict later with the saved model: ``python -m demos csv --model results/model.npz --predict NEW.csv``.

Text targets become classes (shown by name); text feature columns are one-hot encoded; empty or
``NA`` cells stop the run unless ``--missing drop`` or ``--missing mean``; an unnamed first column
counting 0..n-1 (pandas' ``to_csv`` index) is dropped. Classification or regression is detected
(``--task`` overrides); the features (and a regression target) are standardised on the training
split; an ``nn.MLP`` trains with Adam. ``model.npz`` holds the weights and, in its ``meta.json``
member, the feature names, encodings, standardisation and classes. Every user error is a
``DemoError``: one line on stderr and exit status 2.
"""
import csv
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

import nn
from nn.data import DataLoader, TensorDataset, train_test_split

from . import DemoError, common
from . import csv_io as io

SUMMARY = "a CSV file: classification or regression with an MLP, Adam"
FULL = dict(epochs=100, lr=0.005, batch_size=32, hidden=32)
QUICK = dict(epochs=25, lr=0.01, batch_size=32, hidden=16)
TARGETS = {"classification": {"test_acc": 0.9}, "regression": {"test_r2": 0.8}}
QUICK_TARGETS = {"classification": {"test_acc": 0.8}, "regression": {"test_r2": 0.5}}
MAX_CLASSES = 50
DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "fruit.csv")


def main(out_dir="results", *, path=None, target=None, predict=None, model=None, task="auto",
         missing="error", hidden=None, epochs=None, lr=None, batch_size=None, seed=0, quick=False,
         quiet=False):
    if model is not None:
        if path is not None or target is not None:
            raise DemoError("give either a training FILE with --target, or --model with --predict, not both")
        if predict is None:
            raise DemoError(f"--model {model}: also give --predict NEW.csv, the rows to predict")
        return predict_only(out_dir, model, predict, missing=missing, quiet=quiet)
    if path is None and target is None:
        path, target = DEFAULT_DATA, "kind"
    if path is None or target is None:
        raise DemoError("give a CSV FILE and --target COLUMN (or --model MODEL.npz --predict NEW.csv)")
    cfg = dict(QUICK if quick else FULL, seed=seed, path=path, target=target, predict=predict,
               missing=missing)
    cfg.update({k: v for k, v in dict(epochs=epochs, lr=lr, batch_size=batch_size, hidden=hidden).items()
                if v is not None})
    data = prepare(path, target, task, missing, seed)
    if predict:  # check the rows to predict before training, not after
        new_table = read_new(predict, data["meta"]["spec"])
    cfg.update(task=data["meta"]["task"], rows=data["rows"], features=data["meta"]["features"])
    if "classes" in data["meta"]:
        cfg["classes"] = data["meta"]["classes"]
    run = common.Run("csv", out_dir, quick=quick, quiet=quiet, config=cfg)
    run.notes.extend(data["notes"])
    common.seed_everything(seed)
    model_, metrics = train(run, data, cfg, quiet)
    meta = dict(data["meta"], sizes=[int(s) for s in model_sizes(data, cfg)])
    io.save_model(run.path("model.npz"), model_.state_dict(), meta)
    if predict:
        metrics["predicted_rows"] = write_predictions(run, model_, meta, new_table, missing)
    targets = (QUICK_TARGETS if quick else TARGETS)[meta["task"]]
    sizes = "-".join(map(str, meta["sizes"]))
    return run.finish(metrics, targets, summary=f"{os.path.basename(path)} -> {target}: {meta['task']}, "
                                                 f"MLP {sizes}, Adam")


def predict_only(out_dir, model_path, predict, *, missing="error", quiet=False):
    """Predict the rows of ``predict`` with the model saved in ``model_path``: ``predictions.csv``."""
    state, meta = io.load_model(model_path)
    table = read_new(predict, meta["spec"])
    run = common.Run("csv", out_dir, quiet=quiet, config=dict(model=model_path, predict=predict,
                                                              missing=missing, task=meta["task"]))
    model = nn.MLP(meta["sizes"])
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, RuntimeError) as e:
        raise DemoError(f"--model {model_path}: its weights do not fit its own sizes ({e})") from None
    rows = write_predictions(run, model, meta, table, missing)
    return run.finish({"predicted_rows": rows}, {}, summary=f"{os.path.basename(predict)}: "
                      f"{meta['target']} predicted with {os.path.basename(model_path)} ({meta['task']})")


# ----------------------------------------------------------------------------------------- data
def prepare(path, target, task, missing, seed):
    """Read, encode, split and standardise ``path``: a dict with ``x_train x_test y_train y_test``
    (float32 features, int64 classes or float32 standardised values), ``meta`` (what the model file
    keeps), ``rows`` and ``notes``."""
    header = io.read_header(path)
    if target not in header:  # before reading the whole file
        raise DemoError(f"{path}: no column {target!r}; the columns are {', '.join(map(repr, header))}")
    table = io.read_table(path, exact=(target,))
    if len(table) < 10:
        raise DemoError(f"{path}: only {len(table)} data rows; need at least 10 to train and test")
    notes, names = [], [n for n in table.header if n != target]
    if names and io.is_index(table, names[0]):
        notes.append(f"the first column has no name and counts 0..{len(table) - 1}: a saved row index "
                     "(pandas' to_csv), not a feature; left it out")
        names = names[1:]
    elif names and names[0] in io.INDEX_NAMES:
        raise DemoError(f"{path}: the first column has no name and is not a 0..n-1 row index; name it or "
                        "remove it")
    if not names:
        raise DemoError(f"{path}: no feature columns besides {target!r}")
    spec = io.feature_spec(table, names)
    text = [s["name"] for s in spec if s["kind"] == "category"]
    if text:
        notes.append(f"one-hot encoded the text column(s) {', '.join(map(repr, text))}")
    y, meta = encode_target(table, target, task)
    meta.update(target=target, spec=spec, features=io.encoded_names(spec))
    x = io.encode(table, spec)
    lines = table.lines
    del table
    x, y, lines = handle_missing(path, x, y, lines, spec, target, missing, notes)
    if meta["task"] == "classification" and len(np.unique(y)) < 2:
        raise DemoError(f"{path}: the target column {target!r} has a single value; nothing to learn")
    train, test = train_test_split(np.arange(len(x)), test_size=0.2, seed=seed)
    x_train, x_test = x[train], x[test]
    del x
    with np.errstate(all="ignore"), warnings.catch_warnings():  # a column missing in every row: mean 0
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, std = np.nan_to_num(np.nanmean(x_train, axis=0)), np.nan_to_num(np.nanstd(x_train, axis=0))
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    for part in (x_train, x_test):  # in place; a missing cell becomes the mean, 0 once standardised
        part -= mean
        part /= std
        np.nan_to_num(part, copy=False, nan=0.0)
    meta.update(x_mean=mean.tolist(), x_std=std.tolist())
    y_train, y_test = y[train], y[test]
    if meta["task"] == "regression":
        meta.update(y_mean=float(y_train.mean()), y_std=float(y_train.std() or 1.0))
    return dict(x_train=x_train, x_test=x_test, y_train=y_train, y_test=y_test, meta=meta,
                rows=len(train) + len(test), notes=notes)


def encode_target(table, target, task):
    """``(y, meta)``: class indices (int64, -1 where missing) with ``meta["classes"]`` their names, or
    float64 values (NaN where missing); ``meta["task"]`` is the task decided."""
    column = table.columns[target]
    if column.kind == "category":
        if task == "regression":
            raise DemoError(f"{table.path}: --task regression needs a numeric target; {target!r} holds text "
                            f"({column.first[1]!r} on line {column.first[0]})")
        classes, y = column.codes_sorted()
        task = "classification"
    else:
        y = column.numbers()
        values = np.unique(y[np.isfinite(y)])
        if task == "auto":
            few = min(MAX_CLASSES, max(2, len(y) // 5))
            task = ("classification" if np.all(values == np.round(values)) and len(values) <= few
                    else "regression")
        classes = values.tolist()
        if task == "classification":
            y = np.where(np.isfinite(y), np.searchsorted(values, y), -1).astype(np.int64)
            classes = [int(c) if float(c).is_integer() else c for c in classes]
    if task == "classification" and len(classes) > MAX_CLASSES:
        hint = ("pass --task regression to predict it as a number" if column.kind == "number"
                else "group the values into fewer classes")
        raise DemoError(f"{table.path}: the target {target!r} has {len(classes)} distinct values, too many "
                        f"to treat as classes (at most {MAX_CLASSES}); {hint}")
    meta = {"task": task}
    if task == "classification":
        meta["classes"] = classes
    return y, meta


def handle_missing(path, x, y, lines, spec, target, missing, notes):
    """Apply ``--missing``: ``error`` names the rows, ``drop`` leaves them out, ``mean`` keeps NaN
    features (filled with the training mean later) and drops rows without a target."""
    bad_y = (y < 0) if y.dtype.kind == "i" else np.isnan(y)
    bad_x = np.isnan(x)
    if not (bad_y.any() or bad_x.any()):
        return x, y, lines
    if missing == "error":
        mask = np.column_stack([bad_x, bad_y])
        names = io.column_of(spec) + [target]
        raise DemoError(io.missing_message(path, lines, _by_column(mask, names), _unique(names)))
    drop = bad_y | (bad_x.any(axis=1) if missing == "drop" else False)
    keep = ~drop
    if drop.any():
        why = "missing cells" if missing == "drop" else f"no {target!r} value"
        notes.append(f"left out {int(drop.sum())} row(s) with {why} (lines {_lines(lines[drop])})")
    if missing == "mean" and bad_x[keep].any():
        notes.append(f"filled {int(bad_x[keep].any(axis=1).sum())} row(s) with missing cells with the "
                     "training means")
    if keep.sum() < 10:
        raise DemoError(f"{path}: only {int(keep.sum())} rows left after --missing {missing}; need at "
                        "least 10")
    return x[keep], y[keep], lines[keep]


def read_new(path, spec):
    """The rows to predict: the model's feature columns of ``path``, each of the kind it had in
    training (other columns, such as the target, are ignored)."""
    return io.read_table(path, [s["name"] for s in spec], {s["name"]: s["kind"] for s in spec})


def _unique(names):
    return list(dict.fromkeys(names))


def _by_column(mask, names):
    """``mask`` over encoded columns -> over the distinct CSV columns ``_unique(names)``."""
    unique = _unique(names)
    out = np.zeros((len(mask), len(unique)), dtype=bool)
    for j, name in enumerate(names):
        out[:, unique.index(name)] |= mask[:, j]
    return out


def _lines(lines, limit=5):
    shown = ", ".join(map(str, lines[:limit]))
    return shown + (f" and {len(lines) - limit} more" if len(lines) > limit else "")


# ----------------------------------------------------------------------------------------- training
def model_sizes(data, cfg):
    """``[inputs, hidden, hidden, outputs]`` of the MLP."""
    out = len(data["meta"]["classes"]) if data["meta"]["task"] == "classification" else 1
    return [data["x_train"].shape[1], cfg["hidden"], cfg["hidden"], out]


def train(run, data, cfg, quiet):
    """Train the MLP on ``data``, plot its curves and test results; returns ``(model, metrics)``."""
    meta, task = data["meta"], data["meta"]["task"]
    x_train, x_test, y_train, y_test = (data[k] for k in ("x_train", "x_test", "y_train", "y_test"))
    model = nn.MLP(model_sizes(data, cfg))
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])
    if task == "classification":
        loss_fn, yt_train = nn.CrossEntropyLoss(), y_train
        evaluate = common.classification_evaluator(loss_fn, x_train, y_train, x_test, y_test)
    else:
        loss_fn = nn.MSELoss()
        yt_train, yt_test = (_standard(y, meta) for y in (y_train, y_test))

        def evaluate(m):
            return {"train_loss": float(np.mean((common.predict(m, x_train) - yt_train) ** 2)),
                    "test_loss": float(np.mean((common.predict(m, x_test) - yt_test) ** 2)),
                    "test_r2": common.r2_score(y_test, _values(common.predict(m, x_test), meta))}
    loader = DataLoader(TensorDataset(x_train, yt_train), batch_size=cfg["batch_size"], shuffle=True,
                        seed=cfg["seed"])
    with run.timer("train"):
        hist = common.fit(model, loss_fn, optimizer, loader, cfg["epochs"], evaluate=evaluate,
                          scheduler=scheduler, quiet=quiet, desc=f"csv {task}",
                          show=("test_acc",) if task == "classification" else ("test_r2",))
    name, target = os.path.basename(cfg["path"]), cfg["target"]
    if task == "classification":
        pred = common.predict(model, x_test).argmax(axis=1)
        classes = meta["classes"]
        metrics = {"test_acc": common.accuracy(pred, y_test), "train_acc": hist["train_acc"][-1],
                   "majority_baseline_acc": float(np.bincount(y_test, minlength=len(classes)).max()
                                                  / len(y_test))}
        common.plot_confusion(common.confusion_matrix(y_test, pred, len(classes)), run.path("confusion.png"),
                              title=f"{name}: {target}, test accuracy {metrics['test_acc']:.1%}",
                              labels=[str(c) for c in classes])
        panels = {"loss (cross-entropy)": {"train": hist["train_loss"], "test": hist["test_loss"]},
                  "accuracy": {"train": hist["train_acc"], "test": hist["test_acc"]}}
    else:
        pred = _values(common.predict(model, x_test), meta)
        metrics = {"test_r2": common.r2_score(y_test, pred),
                   "test_rmse": float(np.sqrt(np.mean((pred - y_test) ** 2)))}
        _plot_pred_vs_true(y_test, pred, run.path("pred_vs_true.png"),
                           f"{name}: {target}, test R$^2$ = {metrics['test_r2']:.3f}", target)
        panels = {"loss (MSE, standardised)": {"train": hist["train_loss"], "test": hist["test_loss"]},
                  "test R^2": {"test": hist["test_r2"]}}
    common.plot_curves(panels, run.path("loss_curve.png"), title=f"{name}: {target} ({task})")
    return model, metrics


def _standard(y, meta):
    """Regression targets ``(n,)`` standardised with the training mean and std, as ``(n, 1)`` float32."""
    z = (np.asarray(y, dtype=np.float64) - meta["y_mean"]) / meta["y_std"]
    return z.astype(np.float32).reshape(-1, 1)


def _values(p, meta):
    """Standardised regression outputs ``(n, 1)`` back in the target's units, ``(n,)``."""
    return np.asarray(p, dtype=np.float64).reshape(-1) * meta["y_std"] + meta["y_mean"]


# ----------------------------------------------------------------------------------------- predicting
def write_predictions(run, model, meta, table, missing):
    """Predict the rows of ``table`` and write ``predictions.csv`` (each row as read, then the
    prediction and, for classes, one probability column each); returns the number of rows written."""
    x = io.encode(table, meta["spec"])
    bad = np.isnan(x)
    if bad.any() and missing == "error":
        names = io.column_of(meta["spec"])
        raise DemoError(io.missing_message(table.path, table.lines, _by_column(bad, names), _unique(names)))
    keep = ~bad.any(axis=1) if missing == "drop" else np.ones(len(x), dtype=bool)
    if missing == "drop" and not keep.all():
        run.notes.append(f"left out {int((~keep).sum())} row(s) with missing cells (lines "
                         f"{_lines(table.lines[~keep])})")
    if missing == "mean" and bad.any():
        run.notes.append(f"filled {int(bad.any(axis=1).sum())} row(s) with missing cells with the training "
                         "means")
    x = (x[keep] - np.asarray(meta["x_mean"], dtype=np.float32)) / np.asarray(meta["x_std"], dtype=np.float32)
    np.nan_to_num(x, copy=False, nan=0.0)
    target = meta["target"]
    if meta["task"] == "classification":
        proba = common.probabilities(model, x)
        proba = np.column_stack([1 - proba, proba]) if proba.ndim == 1 else proba
        columns = [f"predicted_{target}"] + [f"p_{c}" for c in meta["classes"]]
        extra = ([meta["classes"][int(i)]] + [f"{p:.4f}" for p in row] for i, row in
                 zip(proba.argmax(axis=1), proba))
    else:
        columns = [f"predicted_{target}"]
        extra = ([f"{v:.6g}"] for v in _values(common.predict(model, x), meta))
    kept = set(table.lines[keep].tolist())
    with open(table.path, newline="", encoding="utf-8-sig") as f, \
            open(run.path("predictions.csv"), "w", newline="") as out:
        reader, writer = csv.reader(f), csv.writer(out)
        writer.writerow(table.header + columns)
        for row in reader:
            if reader.line_num in kept:
                writer.writerow(row + next(extra))
    return int(keep.sum())


def _plot_pred_vs_true(y, pred, path, title, target):
    y, pred = np.asarray(y).reshape(-1), np.asarray(pred).reshape(-1)
    fig, ax = plt.subplots(figsize=(5, 5))
    lo, hi = min(y.min(), pred.min()), max(y.max(), pred.max())
    ax.plot([lo, hi], [lo, hi], c="k", lw=1, ls="--", label="perfect")
    ax.scatter(y, pred, s=14, c="#1f77b4", edgecolors="k", linewidths=0.3, label="test rows")
    ax.set_xlabel(f"true {target}")
    ax.set_ylabel(f"predicted {target}")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    common.save_figure(fig, path)

