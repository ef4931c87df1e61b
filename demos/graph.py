"""Computation graphs drawn with ``autograd.draw_graph``: ``python -m demos graph``.

Writes ``neuron.svg`` (micrograd's two-input tanh neuron of ``Value``s, every value labelled, after
``o.backward()``) and ``mlp.svg`` (the loss of a small ``nn.MLP`` on a batch of 8 points, drawn with
the parameter names, gradient shading and one cluster per ``Linear``). ``main`` returns the node and
edge counts of both graphs and how long building and rendering them took.
"""
import time

import numpy as np

from autograd import draw_graph

from . import common

NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
MLP_SIZES = [2, 4, 4, 1]
MLP_POINTS = 8
SUMMARY = "draw computation graphs with autograd.draw_graph (neuron.svg, mlp.svg)"


def count(dot):
    """(nodes, edges) in a Digraph's DOT source: node statements and ``->`` lines."""
    nodes = edges = 0
    for line in dot.body:
        text = line.strip()
        if "->" in text:
            edges += 1
        elif text.split(" ", 1)[0].isidentifier() and " [label=" in text:
            nodes += 1
    return nodes, edges


def neuron():
    """micrograd's neuron ``o = tanh(x1*w1 + x2*w2 + b)``, every value labelled, after backward."""
    return common.labelled_neuron(**NEURON)[0]


def mlp_loss(seed=0):
    """A small ``nn.MLP`` and its MSE loss on ``MLP_POINTS`` points, after ``backward(retain_graph=True)``
    (so the graph is still there and every parameter has its gradient)."""
    import nn
    from autograd import Tensor
    from autograd.creation import manual_seed
    rng = np.random.default_rng(seed)
    manual_seed(seed)
    model = nn.MLP(MLP_SIZES, activation="tanh")
    x = Tensor(rng.normal(size=(MLP_POINTS, MLP_SIZES[0])).astype(np.float32), label="x")
    xa = x.numpy()
    y = Tensor((xa[:, :1] * xa[:, 1:] > 0).astype(np.float32), label="y")
    loss = nn.MSELoss()(model(x), y)
    loss.label = "loss"
    loss.backward(retain_graph=True)
    return model, loss


def _save(run, dot, filename):
    """``run.save_graph`` timed: returns the path written and the seconds it took."""
    t0 = time.perf_counter()
    written = run.save_graph(dot, filename)
    return written, time.perf_counter() - t0


def main(out_dir="results", *, quiet=False, quick=False):
    """Write ``neuron.svg`` and ``mlp.svg`` into ``out_dir`` (``.dot`` text and a note without
    Graphviz); returns the report: node and edge counts, build and render times, the files written."""
    run = common.Run("graph", out_dir, quick=quick, quiet=quiet)

    o = neuron()
    t0 = time.perf_counter()
    dot = draw_graph(o)
    neuron_build = time.perf_counter() - t0
    neuron_path, neuron_render = _save(run, dot, "neuron.svg")
    neuron_nodes, neuron_edges = count(dot)
    run.log(f"neuron: o = tanh(x1*w1 + x2*w2 + b) = {o.data:.4f}, {neuron_nodes} nodes, {neuron_edges} "
            f"edges -> {neuron_path} ({neuron_render * 1e3:.0f} ms)")

    model, loss = mlp_loss()
    t0 = time.perf_counter()
    dot = draw_graph(loss, params=dict(model.named_parameters()), color_grads=True,
                     group_modules=True, rankdir="TB")
    mlp_build = time.perf_counter() - t0
    mlp_path, mlp_render = _save(run, dot, "mlp.svg")
    mlp_nodes, mlp_edges = count(dot)
    run.log(f"mlp: nn.MLP({MLP_SIZES}) MSE loss on {MLP_POINTS} points = {loss.item():.4f}, {mlp_nodes} "
            f"nodes, {mlp_edges} edges -> {mlp_path} ({mlp_render * 1e3:.0f} ms)")

    run.timings.update(neuron_build=round(neuron_build, 4), neuron_render=round(neuron_render, 4),
                       mlp_build=round(mlp_build, 4), mlp_render=round(mlp_render, 4))
    metrics = {"neuron_nodes": neuron_nodes, "neuron_edges": neuron_edges,
               "mlp_nodes": mlp_nodes, "mlp_edges": mlp_edges}
    return run.finish(metrics, {}, summary=SUMMARY)
