"""Check your own backprop: ``python -m demos scratch-check``.

A network written from scratch in NumPy, as the seed projects write it (2-H-1, a tanh hidden layer, a
sigmoid output, binary cross-entropy, the backward pass derived by hand), checked with
``autograd.testing.check_manual_gradients``: first with a bug planted in its backprop, one bug at a
time, each failure printed with its diagnosis; then as it should be, when the check passes and the
hand-derived gradients train it on two moons with plain NumPy gradient descent.

Writes ``check.txt`` (everything the checks printed) and ``report.json``.
"""
import numpy as np

from autograd.testing import ManualGradientError, check_manual_gradients
from nn.data import make_moons

from . import common

SUMMARY = "a from-scratch NumPy net's hand-derived backprop checked: planted bugs named, the fix trained"
FULL = dict(samples=200, hidden=16, epochs=1000, lr=1.0, batch_size=None)
QUICK = dict(samples=64, hidden=8, epochs=300, lr=1.0, batch_size=None)
TARGETS = {"bugs_named": 4, "train_acc": 0.95}
QUICK_TARGETS = {"bugs_named": 4, "train_acc": 0.8}
# the planted bug -> (the line of backprop as it is written with the bug, what its diagnosis must say)
BUGS = {
    "missing /N": ("dZ2 = P - y", "missing /N"),
    "transposed": ("dW1 = dZ1.T @ X", "transposed"),
    "sign": ("dZ2 = (y - P) / N", "sign flipped"),
    "bias axis": ("db1 = np.sum(dZ1, axis=1, keepdims=True)",
                  "summed over axis 1 instead of summed over axis 0"),
}


def init_params(n_in, hidden, rng):
    """Weights ``W1 (n_in, hidden)``, ``W2 (hidden, 1)`` scaled by 1/sqrt(fan-in); zero biases ``(1, n)``."""
    return {"W1": rng.standard_normal((n_in, hidden)) / np.sqrt(n_in), "b1": np.zeros((1, hidden)),
            "W2": rng.standard_normal((hidden, 1)) / np.sqrt(hidden), "b2": np.zeros((1, 1))}


def forward(params, X):
    """The hidden activations ``A1 (N, hidden)`` and the probabilities ``P (N, 1)``."""
    A1 = np.tanh(X @ params["W1"] + params["b1"])
    P = 1 / (1 + np.exp(-(A1 @ params["W2"] + params["b2"])))
    return A1, P


def loss(params, X, y):
    """The mean binary cross-entropy of ``P`` against the labels ``y (N, 1)``."""
    _, P = forward(params, X)
    return -np.mean(y * np.log(P) + (1 - y) * np.log(1 - P))


def backprop(params, X, y, bug=None):
    """The gradients of ``loss`` by the chain rule, written out; ``bug`` plants one of ``BUGS``."""
    N = len(X)
    A1, P = forward(params, X)
    dZ2 = {"missing /N": P - y, "sign": (y - P) / N}.get(bug, (P - y) / N)  # sigmoid + BCE: (P - y) / N
    dW2 = A1.T @ dZ2
    db2 = np.sum(dZ2, axis=0, keepdims=True)
    dZ1 = (dZ2 @ params["W2"].T) * (1 - A1 ** 2)  # tanh' = 1 - tanh**2
    dW1 = dZ1.T @ X if bug == "transposed" else X.T @ dZ1
    db1 = np.sum(dZ1, axis=1 if bug == "bias axis" else 0, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def check_planted_bugs(params, X, y, say):
    """Run the check on each planted bug; returns how many failed with the expected diagnosis."""
    named = 0
    for k, (bug, (line, expected)) in enumerate(BUGS.items(), 1):
        say(f"-- planted bug {k} of {len(BUGS)}, {bug}: `{line}`")
        try:
            check_manual_gradients(loss, lambda p, X, y: backprop(p, X, y, bug=bug), params, X, y)
            say("   not caught!")
        except ManualGradientError as e:
            say(str(e))
            named += all(expected in c.diagnosis for c in e.report if not c.ok)
        say("")
    return named


def train(params, X, y, epochs, lr, batch_size, rng):
    """Gradient descent with the hand-derived gradients (mini-batches of ``batch_size`` in a new order
    each epoch, or the full batch); returns the trained params."""
    size = batch_size or len(X)
    for _ in range(epochs):
        order = rng.permutation(len(X)) if batch_size else np.arange(len(X))
        for start in range(0, len(X), size):
            rows = order[start:start + size]
            grads = backprop(params, X[rows], y[rows])
            params = {k: v - lr * grads[k] for k, v in params.items()}
    return params


def main(out_dir="results", *, epochs=None, lr=None, batch_size=None, seed=0, quick=False, quiet=False):
    """Check the planted bugs and the fixed backprop, train with it; ``check.txt`` and ``report.json``."""
    config = dict(QUICK if quick else FULL, seed=seed)
    options = dict(epochs=epochs, lr=lr, batch_size=batch_size)
    config.update({k: v for k, v in options.items() if v is not None})
    run = common.Run("scratch-check", out_dir, quick=quick, quiet=quiet, config=config)
    rng = np.random.default_rng(seed)
    x, labels = make_moons(config["samples"], noise=0.15, seed=seed)
    X, y = x.astype(np.float64), labels.reshape(-1, 1).astype(np.float64)
    params = init_params(X.shape[1], config["hidden"], rng)
    printed = []

    def say(text):
        printed.append(text)
        print(text, flush=True)

    named = check_planted_bugs(params, X, y, say)
    say("-- fixed: check_manual_gradients(loss, backprop, params, X, y) passes")
    report = check_manual_gradients(loss, backprop, params, X, y)
    say(str(report))
    with run.timer("train"):
        trained = train(params, X, y, config["epochs"], config["lr"], config["batch_size"], rng)
    _, P = forward(trained, X)
    metrics = {"bugs_named": named, "train_acc": float(np.mean((P > 0.5) == (y > 0.5))),
               "train_loss": float(loss(trained, X, y))}
    with open(run.path("check.txt"), "w") as f:
        f.write("\n".join(printed) + "\n")
    return run.finish(metrics, QUICK_TARGETS if quick else TARGETS, summary=SUMMARY)
