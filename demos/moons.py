"""The flagship demo: two interleaving moons, an ``nn.MLP`` with ``BCEWithLogitsLoss``, mini-batches
from a ``DataLoader`` and ``Adam``.

The training loop is written out in ``main`` (forward, loss, ``zero_grad``, ``backward``, ``step``),
each step commented with the line of a from-scratch NumPy script it replaces.
Writes ``decision_boundary.png``, ``loss_curve.png`` (train/test loss and accuracy per epoch),
``graph.svg`` (one trained hidden neuron on one input, drawn with ``autograd.draw_graph``) and
``report.json``.
"""
import numpy as np

import nn
from autograd import draw_graph
from nn.data import DataLoader, TensorDataset, make_moons, train_test_split

from . import common

SUMMARY = "two moons, MLP 2-{h}-{h}-1 (tanh), BCEWithLogitsLoss, mini-batch Adam + cosine schedule"
FULL = dict(samples=1000, noise=0.15, hidden=32, epochs=100, lr=0.003, batch_size=32)
QUICK = dict(samples=300, noise=0.15, hidden=32, epochs=30, lr=0.03, batch_size=16)
TARGETS = {"test_acc": 0.95}
QUICK_TARGETS = {"test_acc": 0.85}


def main(out_dir="results", *, epochs=None, lr=None, batch_size=None, seed=0, quick=False,
         quiet=False):
    cfg = dict(QUICK if quick else FULL, seed=seed)
    cfg.update({k: v for k, v in dict(epochs=epochs, lr=lr, batch_size=batch_size).items() if v is not None})
    run = common.Run("moons", out_dir, quick=quick, quiet=quiet, config=cfg)
    common.seed_everything(seed)

    x, y = make_moons(cfg["samples"], noise=cfg["noise"], seed=seed)
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y).astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=seed)
    loader = DataLoader(TensorDataset(x_train, y_train.astype(np.float32).reshape(-1, 1)),
                        batch_size=cfg["batch_size"], shuffle=True, seed=seed)

    h = cfg["hidden"]
    model = nn.MLP([2, h, h, 1], activation="tanh")
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])

    evaluate = common.classification_evaluator(loss_fn, x_train, y_train, x_test, y_test)

    # The training loop, written out. A from-scratch NumPy script does the same five steps by hand;
    # the comments say which of its lines each step replaces.
    hist = {}
    with run.timer("train"):
        bar = common.progress(range(cfg["epochs"]), desc="moons", quiet=quiet)
        model.train()
        for epoch in bar:
            total = 0.0
            for xb, yb in loader:
                xb, yb = common.as_tensor(xb), common.as_tensor(yb)
                # forward: from scratch, z1 = x @ W1 + b1; a1 = np.tanh(z1); ...; z3 = a2 @ W3 + b3
                logits = model(xb)
                # loss: from scratch, p = 1 / (1 + np.exp(-z3)); L = -mean(y log p + (1 - y) log(1 - p))
                # (BCEWithLogitsLoss takes z3 itself: it never forms log(0) for large |z3|)
                loss = loss_fn(logits, yb)
                # from scratch, every dW starts from zero; here .grad accumulates until zeroed
                optimizer.zero_grad()
                # backprop: from scratch, dz3 = (p - y) / n; dW3 = a2.T @ dz3; da2 = dz3 @ W3.T;
                # dz2 = da2 * (1 - a2 ** 2); ... the chain rule, derived here for every parameter
                loss.backward()
                # update: from scratch, W -= lr * dW (plain SGD); Adam rescales each dW first
                optimizer.step()
                total += loss.item() * len(xb)
            scheduler.step()  # the learning rate follows a cosine from lr down to 0 over the epochs
            common.record_epoch(hist, model, evaluate, batch_loss=total / len(x_train))
            bar.set_postfix(loss=f"{hist['batch_loss'][-1]:.4f}", test_acc=f"{hist['test_acc'][-1]:.3f}",
                            refresh=False)
        bar.close()
    model.eval()

    test_acc = hist["test_acc"][-1]
    common.plot_decision_boundary(
        lambda g: common.probabilities(model, g), x_test, y_test,
        run.path("decision_boundary.png"),
        title=f"two moons, test set: accuracy {test_acc:.1%} after {cfg['epochs']} epochs")
    common.plot_curves({"loss (BCE)": {"train": hist["train_loss"], "test": hist["test_loss"]},
                        "accuracy": {"train": hist["train_acc"], "test": hist["test_acc"]}},
                       run.path("loss_curve.png"),
                       title=f"two moons: MLP 2-{h}-{h}-1, Adam with a cosine schedule")
    run.save_graph(neuron_graph(model, x_test), "graph.svg")

    metrics = {"test_acc": test_acc, "train_acc": hist["train_acc"][-1],
               "test_loss": hist["test_loss"][-1], "train_loss": hist["train_loss"][-1]}
    return run.finish(metrics, QUICK_TARGETS if quick else TARGETS, summary=SUMMARY.format(h=h))


def neuron_graph(model, x):
    """The graph of hidden neuron 0 of the first layer on the first input that activates it, as
    ``Value``s holding the trained weights: ``o = tanh(x1*w1 + x2*w2 + b)``, after ``o.backward()``."""
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    w, b = first.weight.detach().numpy()[0].astype(float), float(first.bias.detach().numpy()[0])
    pre = x @ w + b
    sample = x[int(np.argmax(pre > 0.1))] if (pre > 0.1).any() else x[0]
    o, v = common.labelled_neuron(sample[0], sample[1], w[0], w[1], b)
    return draw_graph(o, params={"w1": v["w1"], "w2": v["w2"], "b": v["b"]})
