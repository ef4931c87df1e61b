"""The flagship demo: two interleaving moons, an ``nn.MLP`` with ``BCEWithLogitsLoss``, mini-batches
from a ``DataLoader`` and ``Adam``.

The training loop is written out in ``train`` (forward, loss, ``zero_grad``, ``backward``, ``step``),
each step commented with the line of a from-scratch NumPy script it replaces; the radial demo trains
with it too.
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

    with run.timer("train"):
        hist = train(model, loss_fn, optimizer, scheduler, loader, cfg["epochs"], evaluate,
                     common.progress(range(cfg["epochs"]), desc="moons", quiet=quiet))

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


def train(model, loss_fn, optimizer, scheduler, loader, epochs, evaluate, bar):
    """The training loop, written out (this demo's and the radial demo's): ``epochs`` passes over
    ``loader``, the learning rate stepped by ``scheduler`` after each; returns the history (``name ->
    list``, one entry per epoch: ``batch_loss`` and whatever ``evaluate`` measures).

    A from-scratch NumPy script does the same five steps by hand for its network (layers
    ``z = a @ W + b``, ``a = act(z)``, the last ``z`` the logits); the comments give its lines.
    """
    hist = {}
    model.train()
    for epoch in bar:
        total, count = 0.0, 0
        for xb, yb in loader:
            xb, yb = common.as_tensor(xb), common.as_tensor(yb)
            # forward: from scratch, z1 = x @ W1 + b1; a1 = act(z1); ...; z = a @ W + b (the logits)
            logits = model(xb)
            # loss: from scratch, p = sigmoid(z) (or softmax(z)); L = -mean(log p of the true class);
            # BCEWithLogitsLoss and CrossEntropyLoss take z itself: they never form log(0) for large |z|
            loss = loss_fn(logits, yb)
            # from scratch, every dW starts from zero; here .grad accumulates until zeroed
            optimizer.zero_grad()
            # backprop: from scratch, dz = (p - y) / n; dW = a.T @ dz; db = dz.sum(0); da = dz @ W.T;
            # then dz = da * act'(z) one layer down, and so on: the chain rule, derived for every parameter
            loss.backward()
            # update: from scratch, W -= lr * dW and b -= lr * db (SGD); Adam rescales each dW first
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
        scheduler.step()  # the learning rate follows a cosine from lr down to 0 over the epochs
        common.record_epoch(hist, model, evaluate, batch_loss=total / count)
        bar.set_postfix(loss=f"{hist['batch_loss'][-1]:.4f}", test_acc=f"{hist['test_acc'][-1]:.3f}",
                        refresh=False)
    bar.close()
    model.eval()
    return hist


def neuron_graph(model, x):
    """The graph of hidden neuron 0 of the first layer on the first input that activates it, as
    ``Value``s holding the trained weights: ``o = tanh(x1*w1 + x2*w2 + b)``, after ``o.backward()``."""
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    w, b = first.weight.detach().numpy()[0].astype(float), float(first.bias.detach().numpy()[0])
    pre = x @ w + b
    sample = x[int(np.argmax(pre > 0.1))] if (pre > 0.1).any() else x[0]
    o, v = common.labelled_neuron(sample[0], sample[1], w[0], w[1], b)
    return draw_graph(o, params={"w1": v["w1"], "w2": v["w2"], "b": v["b"]})
