"""What every demo shares: seeding, the training loop, metrics, plots and the end-of-run report.

A demo is a module with ``SUMMARY`` (one line) and ``main(out_dir, *, epochs=None, lr=None,
batch_size=None, seed=0, quick=False, quiet=False, ...) -> dict``; ``main`` writes its files into
``out_dir`` and returns the report that ``Run.finish`` also saves as ``out_dir/report.json``.
"""
import json
import os
import sys
import time
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # headless: the demos only ever write files
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

import autograd  # noqa: E402
from autograd import Tensor, Value, no_grad  # noqa: E402

from . import check_out_dir  # noqa: E402

# One palette for every plot: class k is drawn in CLASS_COLORS[k].
CLASS_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


# ----------------------------------------------------------------------------------------- seeding
def seed_everything(seed):
    """Seed NumPy's global generator and ``autograd``'s (parameter initialisation, dropout)."""
    np.random.seed(seed)
    autograd.manual_seed(seed)


def as_tensor(x):
    """``x`` as a ``Tensor`` (DataLoader batches may come as arrays or tensors)."""
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


# ----------------------------------------------------------------------------------------- progress
class _NoBar:
    """Stands in for a tqdm bar under ``--quiet``."""

    def __init__(self, iterable=None):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, *args, **kwargs):
        pass

    def update(self, n=1):
        pass

    def close(self):
        pass


def progress(iterable, desc="", quiet=False, total=None):
    """A tqdm progress bar over ``iterable`` (on stderr), or a silent stand-in when ``quiet``."""
    if quiet:
        return _NoBar(iterable)
    return tqdm(iterable, desc=desc, total=total, dynamic_ncols=True, leave=False, file=sys.stderr)


# ----------------------------------------------------------------------------------------- training
def fit(model, loss_fn, optimizer, loader, epochs, *, evaluate=None, scheduler=None, quiet=False,
        desc="train", show=("test_loss", "test_acc")):
    """Train ``model`` for ``epochs`` passes over ``loader`` (batches ``(x, y)``), one tqdm bar;
    ``scheduler.step()`` after each epoch when given.

    After each epoch ``evaluate(model)`` (run in eval mode under ``no_grad``) returns a dict of
    metrics. Returns the history: ``name -> list`` (one entry per epoch), with ``batch_loss``, the
    mean mini-batch loss of the epoch, ``seconds``, the epoch's training time (evaluation excluded),
    plus whatever ``evaluate`` returned.
    """
    history = defaultdict(list)
    bar = progress(range(epochs), desc=desc, quiet=quiet)
    for _ in bar:
        t0 = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            xb, yb = as_tensor(xb), as_tensor(yb)
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
        if scheduler is not None:
            scheduler.step()
        history["seconds"].append(time.perf_counter() - t0)
        history["batch_loss"].append(total / count)
        if evaluate is not None:
            model.eval()
            with no_grad():
                for name, value in evaluate(model).items():
                    history[name].append(float(value))
        bar.set_postfix({k: f"{history[k][-1]:.4f}" for k in ("batch_loss",) + tuple(show) if k in history},
                        refresh=False)  # drawn with the next step: one line per update, not two
    bar.close()
    model.eval()
    return dict(history)


def predict(model, x, batch_size=4096):
    """``model``'s output for the array ``x`` as an array, in eval mode, without a graph."""
    model.eval()
    out = []
    with no_grad():
        for i in range(0, len(x), batch_size):
            out.append(model(Tensor(np.asarray(x[i:i + batch_size], dtype=np.float32))).numpy())
    return np.concatenate(out)


def probabilities(model, x):
    """Class probabilities of ``model`` on the array ``x``: ``(M,)`` class-1 probabilities (the
    library's sigmoid) for one output column, else ``(M, K)`` (the library's softmax over dim 1)."""
    logits = Tensor(predict(model, x))
    if logits.ndim == 1 or logits.shape[1] == 1:
        return logits.sigmoid().numpy().reshape(-1)
    return logits.softmax(1).numpy()


def record_epoch(history, model, evaluate, **values):
    """Append ``values`` and ``evaluate(model)`` (in eval mode, under ``no_grad``) to the lists of
    ``history``; leaves the model in train mode."""
    model.eval()
    with no_grad():
        values.update(evaluate(model))
    model.train()
    for name, value in values.items():
        history.setdefault(name, []).append(float(value))


def classification_metrics(model, loss_fn, x, y, prefix):
    """``{prefix}_loss`` and ``{prefix}_acc`` of ``model`` on ``(x, y)``.

    One output column means binary logits (class 1 when the logit is > 0, targets are floats of
    the logits' shape); several mean class logits (argmax, targets are class indices).
    """
    logits = predict(model, x)
    if logits.ndim == 1 or logits.shape[1] == 1:
        target = np.asarray(y, dtype=np.float32).reshape(logits.shape)
        pred = (logits > 0).astype(np.int64).reshape(-1)
    else:
        target = np.asarray(y, dtype=np.int64)
        pred = logits.argmax(axis=1)
    with no_grad():
        loss = loss_fn(Tensor(logits), Tensor(target)).item()
    return {f"{prefix}_loss": loss, f"{prefix}_acc": accuracy(pred, y)}


def classification_evaluator(loss_fn, x_train, y_train, x_test, y_test):
    """The ``evaluate(model)`` for ``fit``: train and test loss and accuracy of a classifier."""
    def evaluate(model):
        return {**classification_metrics(model, loss_fn, x_train, y_train, "train"),
                **classification_metrics(model, loss_fn, x_test, y_test, "test")}
    return evaluate


def accuracy(pred, y):
    """Fraction of ``pred`` equal to ``y`` (both flattened to integer labels)."""
    pred = np.asarray(pred).reshape(-1).astype(np.int64)
    y = np.asarray(y).reshape(-1).astype(np.int64)
    return float((pred == y).mean())


def r2_score(y, pred):
    """Coefficient of determination ``1 - SS_res / SS_tot``."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    ss_tot = ((y - y.mean()) ** 2).sum()
    return float(1.0 - ((y - pred) ** 2).sum() / ss_tot) if ss_tot > 0 else 0.0


def confusion_matrix(y, pred, n_classes):
    """``cm[i, j]`` counts samples of class ``i`` predicted as ``j``."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return cm


# ----------------------------------------------------------------------------------------- plots
def save_figure(fig, path):
    """Write ``fig`` to ``path`` (PNG at 120 dpi) and close it."""
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_curves(panels, path, title="", xlabel="epoch"):
    """One panel per entry of ``panels``: ``{"loss": {"train": [...], "test": [...]}, ...}``.

    Each inner dict maps a curve label to its per-epoch values (a label keeps its colour across
    panels); a panel whose name contains "loss" gets a log y-axis when its values span more than a
    factor of 20.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    # the same curves in every panel: one legend under the figure instead of one per panel
    labels = {tuple(curves) for curves in panels.values()}
    shared = len(labels) == 1 and len(panels) > 1 and len(next(iter(labels))) > 1
    colors = {}
    for ax, (name, curves) in zip(axes[0], panels.items()):
        values = []
        for label, ys in curves.items():
            # "cnn train" / "cnn test": one colour per model, the test curve dashed
            group = label.rsplit(" ", 1)[0] if label.endswith((" train", " test")) else label
            color = colors.setdefault(group, f"C{len(colors)}")
            style = "--" if group != label and label.endswith(" test") else "-"
            ax.plot(np.arange(1, len(ys) + 1), ys, label=label, lw=1.6, color=color, ls=style)
            values.extend(v for v in ys if np.isfinite(v))
        if "loss" in name and values and min(values) > 0 and max(values) / min(values) > 20:
            from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if not shared:
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if shared:
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
                   bbox_to_anchor=(0.5, -0.01))
        fig.subplots_adjust(bottom=0.22)
    return save_figure(fig, path)


def draw_decision_boundary(ax, predict_proba, x, y, title="", resolution=200, margin=0.5,
                           xlabel="feature 1 (x1)", ylabel="feature 2 (x2)"):
    """Shade the plane by ``predict_proba(grid)`` and scatter the points ``(x, y)`` on ``ax``.

    ``predict_proba`` maps an ``(M, 2)`` array to class-1 probabilities ``(M,)`` (binary: shaded
    from blue to red with the 0.5 contour drawn) or to class probabilities ``(M, K)`` (regions
    coloured by the most likely class, paler where the model is less sure).
    """
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap
    x = np.asarray(x)
    y = np.asarray(y).reshape(-1).astype(np.int64)
    (x0, y0), (x1, y1) = x.min(axis=0) - margin, x.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    p = np.asarray(predict_proba(grid), dtype=np.float64)
    if p.ndim == 1 or p.shape[1] == 1:
        p = p.reshape(gx.shape)
        cmap = LinearSegmentedColormap.from_list("binary", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])
        ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 21), cmap=cmap, alpha=0.55)
        ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.2)
    else:
        k = p.shape[1]
        cls = p.argmax(axis=1).reshape(gx.shape)
        conf = p.max(axis=1).reshape(gx.shape)
        cmap = ListedColormap(CLASS_COLORS[:k])
        ax.imshow(cls, origin="lower", extent=(x0, x1, y0, y1), cmap=cmap, vmin=-0.5, vmax=k - 0.5,
                  alpha=0.15 + 0.35 * (conf - 1 / k) / (1 - 1 / k), aspect="auto", interpolation="nearest")
        for c in range(k):  # smooth boundaries: where class c stops being the most likely
            margin = p[:, c] - np.delete(p, c, axis=1).max(axis=1)
            ax.contour(gx, gy, margin.reshape(gx.shape), levels=[0.0], colors="k", linewidths=0.9)
    for c in np.unique(y):
        m = y == c
        ax.scatter(x[m, 0], x[m, 1], s=14, c=CLASS_COLORS[c % len(CLASS_COLORS)], edgecolors="k",
                   linewidths=0.4, label=f"class {c}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)


def plot_decision_boundary(predict_proba, x, y, path, title="", resolution=200):
    """``draw_decision_boundary`` on a figure of its own, written to ``path``."""
    fig, ax = plt.subplots(figsize=(6, 5))
    draw_decision_boundary(ax, predict_proba, x, y, title=title, resolution=resolution)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_confusion(cm, path, title="", labels=None):
    """A confusion-matrix heat map with the counts written in the cells."""
    n = cm.shape[0]
    labels = list(range(n)) if labels is None else labels
    fig, ax = plt.subplots(figsize=(0.42 * n + 2, 0.42 * n + 1.6))
    ax.imshow(cm, cmap="Blues")
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    long = max(len(str(label)) for label in labels) > 3
    ax.set_xticks(range(n), labels, rotation=45 if long else 0, ha="right" if long else "center")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return save_figure(fig, path)


GRAPHVIZ_MISSING = ("Graphviz's `dot` program is not installed, so the graphs were written as DOT text "
                    "(.dot) instead of SVG pictures: install it (`apt-get install graphviz`, `brew install "
                    "graphviz` or `conda install graphviz`) and run the demo again")


def save_graph(dot, path):
    """Render a ``graphviz.Digraph`` (from ``autograd.draw_graph``) to ``path`` as SVG.

    Without Graphviz's ``dot`` program, writes the DOT text to ``path`` with ``.dot`` instead.
    Returns the path written.
    """
    import graphviz
    try:
        svg = dot.pipe(format="svg")
    except graphviz.ExecutableNotFound:
        path = os.path.splitext(path)[0] + ".dot"
        with open(path, "w") as f:
            f.write(dot.source)
        return path
    with open(path, "wb") as f:
        f.write(svg)
    return path


# ----------------------------------------------------------------------------------------- report
class Run:
    """One demo run: its output folder, the clock, the files it wrote and its final report."""

    def __init__(self, name, out_dir, *, quick=False, quiet=False, config=None):
        self.name = name
        self.out_dir = out_dir
        self.quick = quick
        self.quiet = quiet
        self.config = dict(config or {})
        self.files = []
        self.timings = {}
        self.notes = []
        self.start = time.perf_counter()
        check_out_dir(out_dir)
        os.makedirs(out_dir, exist_ok=True)

    def path(self, filename):
        """The path of ``filename`` in the output folder, recorded as a file this run wrote."""
        path = os.path.join(self.out_dir, filename)
        self.files.append(path)
        return path

    def add_file(self, path):
        if path not in self.files:
            self.files.append(path)
        return path

    def save_graph(self, dot, filename):
        """``save_graph`` into the output folder; records the file actually written (a ``.dot`` file
        and a note saying how to install Graphviz when its ``dot`` program is missing)."""
        path = save_graph(dot, os.path.join(self.out_dir, filename))
        if path.endswith(".dot") and GRAPHVIZ_MISSING not in self.notes:
            self.notes.append(GRAPHVIZ_MISSING)
        return self.add_file(path)

    def log(self, message):
        """Print a line of progress unless quiet."""
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def timer(self, name):
        """``with run.timer("train"): ...`` records the block's wall time as ``timings[name]``."""
        run = self

        class _Timer:
            def __enter__(self):
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                run.timings[name] = round(time.perf_counter() - self.t0, 3)

        return _Timer()

    def finish(self, metrics, targets, summary="", notes=()):
        """Write ``report.json``, print the text report and return the report dict.

        ``metrics``: name -> number; ``targets``: name -> minimum value for this mode (``quick``
        modes have lower ones); a metric whose name ends in ``loss`` or ``time`` is not a target.
        """
        report_path = os.path.join(self.out_dir, "report.json")
        if report_path not in self.files:
            self.files.append(report_path)
        met = {k: bool(metrics[k] >= v) for k, v in targets.items()}
        report = {
            "demo": self.name,
            "summary": summary,
            "mode": "quick" if self.quick else "full",
            "config": self.config,
            "metrics": {k: _round(v) for k, v in metrics.items()},
            "targets": targets,
            "targets_met": all(met.values()),
            "time_s": round(time.perf_counter() - self.start, 2),
            "timings_s": self.timings,
            "files": self.files,
            "notes": self.notes + list(notes),
        }
        with open(report_path, "w") as f:
            json.dump(report, f, indent=2)
        print(format_report(report, met), flush=True)
        return report


def _round(v):
    return round(float(v), 5) if isinstance(v, (float, np.floating)) else v


def format_report(report, met=None):
    """The text form of a report: title, metrics (with targets), time, files."""
    met = met or {}
    lines = [f"== {report['demo']} ({report['mode']}): {report['summary']}"]
    width = max([len(k) for k in report["metrics"]] + [len(k) + 5 for k in report["timings_s"]] + [10])
    for k, v in report["metrics"].items():
        text = f"{v:.4f}" if isinstance(v, float) else str(v)
        if k in report["targets"]:
            text += f"   (target >= {report['targets'][k]}: {'ok' if met.get(k) else 'MISSED'})"
        lines.append(f"  {k:<{width}}  {text}")
    for k, v in report["timings_s"].items():
        lines.append(f"  {k + ' time':<{width}}  {v:.2f} s")
    lines.append(f"  {'total time':<{width}}  {report['time_s']:.1f} s")
    for note in report["notes"]:
        lines.append(f"  note: {note}")
    lines.append("  files:")
    lines.extend(f"    {f}" for f in report["files"])
    return "\n".join(lines)


def labelled_neuron(x1, x2, w1, w2, b):
    """micrograd's neuron ``o = tanh(x1*w1 + x2*w2 + b)`` built from ``Value``s, every value labelled,
    after ``o.backward()``; returns ``o`` and the leaves by name."""
    v = {k: Value(float(x), label=k) for k, x in dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b).items()}
    x1w1 = v["x1"] * v["w1"]
    x1w1.label = "x1*w1"
    x2w2 = v["x2"] * v["w2"]
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + v["b"]
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, v
