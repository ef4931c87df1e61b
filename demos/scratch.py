"""The scalar engine on its own: micrograd's MLP written from ``autograd.Value``s (a ``Neuron`` is a
list of weight Values and a bias, a ``Layer`` a list of Neurons, an ``MLP`` a list of Layers), trained
on two moons with micrograd's recipe: max-margin (hinge) loss plus L2, full-batch SGD with a
decaying learning rate. Every number in the network is a ``Value``; no NumPy in the training loop.

Writes ``decision_boundary.png``, ``loss_curve.png``, ``forward_graph.svg`` (one forward pass for
one input, the nodes nearest the output, drawn with ``draw_graph(max_nodes=...)``) and
``report.json``.
"""
import numpy as np

from autograd import Tensor, Value, draw_graph
from nn.data import make_moons

from . import common

SUMMARY = "micrograd's MLP 2-{h}-{h}-1 of scalar Values on moons, hinge loss, full-batch SGD"
FULL = dict(samples=100, noise=0.1, hidden=16, epochs=100, lr=1.0, batch_size=None, alpha=1e-4)
QUICK = dict(samples=40, noise=0.1, hidden=8, epochs=40, lr=1.0, batch_size=None, alpha=1e-4)
TARGETS = {"train_acc": 0.97}
QUICK_TARGETS = {"train_acc": 0.8}
GRAPH_NODES = 60


class Neuron:
    """``relu(w . x + b)`` (or linear), its weights uniform in [-1, 1] as in micrograd."""

    def __init__(self, nin, rng, nonlin=True):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, rng, nonlin=True):
        self.neurons = [Neuron(nin, rng, nonlin) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """``MLP(2, [16, 16, 1])``: ReLU hidden layers, a linear output."""

    def __init__(self, nin, nouts, rng):
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], rng, nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self):
        """``{"l1.n3.w2": Value, ...}``: layer, neuron and weight numbers from 1 (``b`` the bias)."""
        names = {}
        for i, layer in enumerate(self.layers, 1):
            for j, n in enumerate(layer.neurons, 1):
                names.update({f"l{i}.n{j}.w{k}": w for k, w in enumerate(n.w, 1)})
                names[f"l{i}.n{j}.b"] = n.b
        return names

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def numpy_forward(self, x):
        """The same function on an ``(M, nin)`` array, vectorised, for plotting over a grid."""
        for layer in self.layers:
            w = np.array([[wi.data for wi in n.w] for n in layer.neurons])
            b = np.array([n.b.data for n in layer.neurons])
            x = x @ w.T + b
            if layer.neurons[0].nonlin:
                x = np.maximum(x, 0.0)
        return x[:, 0]


def loss_and_accuracy(model, x, y, alpha):
    """micrograd's objective: mean hinge loss ``relu(1 - y * score)`` plus ``alpha * sum(p^2)``."""
    inputs = [[Value(float(v)) for v in row] for row in x]
    scores = [model(row) for row in inputs]
    losses = [(1 - float(yi) * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses, Value(0.0)) * (1.0 / len(losses))
    reg_loss = alpha * sum((p * p for p in model.parameters()), Value(0.0))
    acc = float(np.mean([(yi > 0) == (si.data > 0) for yi, si in zip(y, scores)]))
    return data_loss + reg_loss, acc


def count_nodes(root):
    """Values in the graph that produced ``root`` (iterative walk)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for p in stack.pop()._prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def main(out_dir="results", *, epochs=None, lr=None, batch_size=None, seed=0, quick=False,
         quiet=False, samples=None):
    cfg = dict(QUICK if quick else FULL, seed=seed)
    cfg.update({k: v for k, v in dict(epochs=epochs, lr=lr, batch_size=batch_size, samples=samples).items()
                if v is not None})
    run = common.Run("scratch", out_dir, quick=quick, quiet=quiet, config=cfg)
    rng = np.random.default_rng(seed)

    x, y01 = make_moons(cfg["samples"], noise=cfg["noise"], seed=seed)
    x, y01 = np.asarray(x, dtype=np.float64), np.asarray(y01).astype(np.int64)
    y = y01 * 2 - 1  # the hinge loss wants labels -1 / +1
    h = cfg["hidden"]
    model = MLP(2, [h, h, 1], rng)

    history = {"loss": [], "train_acc": []}
    steps = cfg["epochs"]
    with run.timer("train"):
        bar = common.progress(range(steps), desc="scratch", quiet=quiet)
        for k in bar:
            if cfg["batch_size"]:
                idx = rng.permutation(len(x))[:cfg["batch_size"]]
                xb, yb = x[idx], y[idx]
            else:
                xb, yb = x, y
            loss, acc = loss_and_accuracy(model, xb, yb, cfg["alpha"])
            model.zero_grad()
            loss.backward()
            rate = cfg["lr"] * (1.0 - 0.9 * k / steps)  # micrograd's linear decay
            for p in model.parameters():
                p.data -= rate * p.grad
            history["loss"].append(loss.data)
            history["train_acc"].append(acc)
            bar.set_postfix(loss=f"{loss.data:.4f}", acc=f"{acc:.2f}", refresh=False)
        bar.close()
    nodes_per_step = count_nodes(loss)
    final_loss, final_acc = loss_and_accuracy(model, x, y, cfg["alpha"])

    common.plot_decision_boundary(
        lambda g: Tensor(2 * model.numpy_forward(g.astype(np.float64))).sigmoid().numpy(), x, y01,
        run.path("decision_boundary.png"),
        title=f"scalar-engine MLP on moons: training accuracy {final_acc:.0%}")
    common.plot_curves({"loss (hinge + L2)": {"train": history["loss"]},
                        "accuracy": {"train": history["train_acc"]}},
                       run.path("loss_curve.png"), title=f"micrograd-style MLP 2-{h}-{h}-1 of Values",
                       xlabel="step (full batch)")

    # one forward pass for one input: the nodes nearest the output, the rest summarised
    xs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x[0])]
    score = model(xs)
    score.label = "score"
    score.backward()
    model.zero_grad()
    forward_nodes = count_nodes(score)
    run.save_graph(draw_graph(score, params=model.named_parameters(), max_nodes=GRAPH_NODES),
                   "forward_graph.svg")

    metrics = {"train_acc": final_acc, "final_loss": final_loss.data, "parameters": len(model.parameters()),
               "nodes_per_forward": forward_nodes, "nodes_per_step": nodes_per_step,
               "steps_per_s": steps / max(run.timings["train"], 1e-9)}
    return run.finish(metrics, QUICK_TARGETS if quick else TARGETS, summary=SUMMARY.format(h=h))
