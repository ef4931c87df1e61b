"""The README's numbers, produced by runs: ``python -m demos.readme`` (``make docs``).

- The demos table (between ``<!-- demos:begin -->`` and ``<!-- demos:end -->``) shows each demo's
  headline metrics from a fresh ``--quick`` run (seed 0), which the test suite repeats, beside the
  full run's, read from ``docs/reports/NAME.json``; ``--full`` reruns the full demos first and
  rewrites those reports and the README's pictures.
- Every ```` ```python ```` block is executed (in a temporary folder) and what it prints is written
  into the ```` ```text ```` block after its ``<!-- output -->`` line.

``--check`` changes nothing and exits with status 1 when the README differs from what the runs give.
"""
import argparse
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
REPORTS = os.path.join(ROOT, "docs", "reports")
PICTURES = {("moons", "decision_boundary.png"): "moons_decision_boundary.png",
            ("moons", "loss_curve.png"): "moons_loss_curve.png",
            ("graph", "neuron.svg"): "neuron.svg", ("graph", "mlp.svg"): "mlp.svg"}

# demo -> (what it does, [(metric, label)]); a metric ending in _acc is shown as a percentage
TABLE = {
    "moons": ("two moons, `nn.MLP` 2-32-32-1, `BCEWithLogitsLoss`, mini-batch Adam; the loop written out "
              "(`make demo`)", [("test_acc", "test")]),
    "radial": ("the from-scratch 2-4-2 sigmoid + softmax net on circles, per-sample (batch 1), then "
               "mini-batches; the loop written out", [("per_sample_test_acc", "per-sample test"),
                                                      ("minibatch_test_acc", "mini-batch test")]),
    "spiral": ("3-class spiral, softmax cross-entropy, decision regions",
               [("train_acc", "train"), ("test_acc", "test")]),
    "regression": ("MSE fit of a noisy 1-D curve, standardised inputs; data and fit plot",
                   [("test_r2", "test R²")]),
    "digits": ("scikit-learn's bundled 8x8 digits, 80/20 split; MLP and a small CNN; confusion matrices; "
               "`--vs-torch` trains the same nets in PyTorch", [("mlp_test_acc", "MLP test"),
                                                                ("cnn_test_acc", "CNN test")]),
    "scratch": ("micrograd's MLP built from scalar `Value`s on moons; one forward pass drawn",
                [("train_acc", "train")]),
    "csv": ("a CSV file of your own (see below); here `demos/data/fruit.csv`",
            [("test_acc", "test")]),
    "graph": ("`neuron.svg` and `mlp.svg`, the pictures above", [("neuron_nodes", "neuron nodes"),
                                                                  ("mlp_nodes", "MLP nodes")]),
    "explore": ("`neuron.html` and `mlp.html`: step through backpropagation in the browser",
                [("neuron_nodes", "neuron nodes"), ("mlp_nodes", "MLP nodes")]),
    "scratch-check": ("a from-scratch NumPy 2-16-1 net and its hand-derived backprop checked with "
                      "`check_manual_gradients`: 4 planted bugs named, then the fixed gradients train it",
                      [("bugs_named", "bugs named"), ("train_acc", "train")]),
}
BLOCK = re.compile(r"```python\n(.*?)```\n(?:<!-- output -->\n```text\n.*?```\n)?", re.S)


def run_demos(quick, out_root, names=TABLE):
    """Run each demo in ``names`` (quiet, seed 0) into ``out_root/NAME``; returns name -> report."""
    from . import run
    reports = {}
    for name in names:
        with contextlib.redirect_stdout(io.StringIO()):
            reports[name] = run(name, os.path.join(out_root, name), quick=quick, quiet=True)
    return reports


def load_full_reports():
    """The saved full-run reports, name -> report (a demo without one is missing from the dict)."""
    reports = {}
    for name in TABLE:
        path = os.path.join(REPORTS, f"{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                reports[name] = json.load(f)
    return reports


def save_full_reports(reports, out_root):
    """Write ``reports`` to ``docs/reports`` (file paths relative to the run's folder) and copy the
    README's pictures into ``docs/``."""
    os.makedirs(REPORTS, exist_ok=True)
    for name, report in reports.items():
        report = dict(report, files=[os.path.basename(p) for p in report["files"]])
        report["config"] = {k: os.path.relpath(v, ROOT) if k == "path" and isinstance(v, str) else v
                            for k, v in report["config"].items()}
        with open(os.path.join(REPORTS, f"{name}.json"), "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    for (name, filename), target in PICTURES.items():
        if name in reports:
            shutil.copyfile(os.path.join(out_root, name, filename), os.path.join(ROOT, "docs", target))


def _number(metric, value):
    """A metric as the table shows it: accuracies in percent, other floats to 3 decimals."""
    if metric.endswith("_acc"):
        return f"{value:.1%}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _cell(report, metrics, with_time=False):
    if report is None:
        return "not run yet (`make docs FULL=1`)"
    text = ", ".join(f"{label} **{_number(m, report['metrics'][m])}**" for m, label in metrics)
    return text + (f" in {report['time_s']:.0f} s" if with_time and report["time_s"] >= 1 else "")


def render_table(quick, full):
    """The demos table in Markdown: one row per demo, the quick and the full run's metrics."""
    lines = ["| demo | what it does | `--quick` run (checked by `make test`) | full run |",
             "|---|---|---|---|"]
    for name, (what, metrics) in TABLE.items():
        lines.append(f"| `{name}` | {what} | {_cell(quick.get(name), metrics)} | "
                     f"{_cell(full.get(name), metrics, with_time=True)} |")
    return "\n".join(lines) + "\n"


def run_example(code):
    """What the README's code block ``code`` prints, run in a fresh namespace in a temporary folder."""
    here = os.getcwd()
    out = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, "<README example>", "exec"), {"__name__": "__readme__"})
        finally:
            os.chdir(here)
    return out.getvalue()


def with_outputs(text):
    """``text`` with the output block after every Python block rewritten from a fresh run."""
    def replace(match):
        code = match.group(1)
        printed = run_example(code)
        block = f"```python\n{code}```\n"
        return block + (f"<!-- output -->\n```text\n{printed}```\n" if printed else "")
    return BLOCK.sub(replace, text)


def with_table(text, table):
    """``text`` with the demos table between its markers replaced by ``table``."""
    begin, end = "<!-- demos:begin -->\n", "<!-- demos:end -->"
    if begin not in text or end not in text:
        raise ValueError("README.md has no <!-- demos:begin --> ... <!-- demos:end --> markers")
    head, rest = text.split(begin, 1)
    return head + begin + table + end + rest.split(end, 1)[1]


def regenerate(text, quick, full):
    """The README ``text`` with its table and example outputs from the given reports and fresh runs."""
    return with_outputs(with_table(text, render_table(quick, full)))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m demos.readme", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="rerun the full demos too (minutes)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the README is stale")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as out_root:
        if args.full:
            full = run_demos(False, os.path.join(out_root, "full"))
            save_full_reports(full, os.path.join(out_root, "full"))
        quick = run_demos(True, os.path.join(out_root, "quick"))
    with open(README) as f:
        text = f.read()
    new = regenerate(text, quick, load_full_reports())
    if args.check:
        print("README.md is up to date" if new == text else "README.md differs from a fresh run: make docs")
        return 0 if new == text else 1
    with open(README, "w") as f:
        f.write(new)
    print("README.md regenerated" + (" (full runs too)" if args.full else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
