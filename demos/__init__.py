"""chainrule's demos: ``python -m demos`` lists them, ``python -m demos NAME`` runs one.

Each demo is a module with a ``main(out_dir, ...)`` that writes its plots and ``report.json`` into
``out_dir`` and returns the report as a dict; ``run(name, ...)`` calls it by name.
"""
import importlib

# name -> (module, one line). Kept import-free so listing the demos is instant.
DEMOS = {
    "moons": ("demos.moons", "binary classification of two moons: MLP, BCEWithLogitsLoss, mini-batch Adam "
                             "(the flagship, `make demo`)"),
    "radial": ("demos.radial", "the 2-4-2 sigmoid+softmax network on circles: per-sample SGD vs "
                               "mini-batches"),
    "spiral": ("demos.spiral", "3-class spiral with softmax cross-entropy and decision regions"),
    "regression": ("demos.regression", "MSE fit of a noisy 1-D curve with standardised inputs"),
    "digits": ("demos.digits", "sklearn's 8x8 digits: an MLP and a small CNN (--vs-torch: the same run "
                               "in PyTorch)"),
    "scratch": ("demos.scratch", "the scalar engine: a micrograd-style MLP of Values trained on moons"),
    "csv": ("demos.csv_demo", "your own CSV file: python -m demos csv FILE --target COLUMN; later "
                              "python -m demos csv --model results/model.npz --predict NEW.csv"),
    "graph": ("demos.graph", "draw computation graphs with autograd.draw_graph (neuron.svg, mlp.svg)"),
    "explore": ("demos.explore", "step through backpropagation in the browser (neuron.html, mlp.html)"),
    "scratch-check": ("demos.scratch_check", "your own NumPy backprop checked: bugs planted in a "
                                             "from-scratch net named by check_manual_gradients, then the fix "
                                             "trained"),
}


class DemoError(Exception):
    """A problem with the user's input (a missing file, a bad column...): the CLI prints the message
    as one line on stderr and exits with status 2."""


def check_out_dir(out_dir):
    """A ``DemoError`` when ``out_dir`` names something that is not a folder (an existing file)."""
    import os
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise DemoError(f"--out {out_dir}: is a file, not a folder; name a folder for the results")


def load(name):
    """The module of demo ``name``."""
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; choose one of {', '.join(DEMOS)}")
    return importlib.import_module(DEMOS[name][0])


def run(name, out_dir=None, **options):
    """Run demo ``name`` writing into ``out_dir`` (default ``results``, as the CLI); returns its
    report dict. ``options`` are the demo's keyword arguments (``epochs``, ``quick``, ``quiet``...)."""
    return load(name).main("results" if out_dir is None else out_dir, **options)
