"""Fit a noisy 1-D curve with an ``nn.MLP`` and ``MSELoss``: inputs and targets standardised with
``nn.data.Standardizer`` (fitted on the training split only), mini-batch Adam. Writes ``fit.png``
(the data and the fitted curve), ``loss_curve.png`` and ``report.json``; R^2 on the test split, in
the original units, is at least 0.95 in the full run.
"""
import matplotlib.pyplot as plt
import numpy as np

import nn
from nn.data import DataLoader, Standardizer, TensorDataset, make_regression, train_test_split

from . import common

SUMMARY = "noisy 1-D curve, MLP 1-{h}-{h}-1 (tanh), MSELoss, standardised data, mini-batch Adam"
FULL = dict(samples=600, noise=0.1, hidden=64, epochs=100, lr=0.005, batch_size=32)
QUICK = dict(samples=200, noise=0.1, hidden=32, epochs=25, lr=0.01, batch_size=32)
TARGETS = {"test_r2": 0.95}
QUICK_TARGETS = {"test_r2": 0.7}


def main(out_dir="results", *, epochs=None, lr=None, batch_size=None, seed=0, quick=False,
         quiet=False):
    cfg = dict(QUICK if quick else FULL, seed=seed)
    cfg.update({k: v for k, v in dict(epochs=epochs, lr=lr, batch_size=batch_size).items() if v is not None})
    run = common.Run("regression", out_dir, quick=quick, quiet=quiet, config=cfg)
    common.seed_everything(seed)

    x, y = make_regression(cfg["samples"], noise=cfg["noise"], seed=seed)
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=seed)
    xs, ys = Standardizer().fit(x_train), Standardizer().fit(y_train)
    xt_train, xt_test = xs.transform(x_train), xs.transform(x_test)
    yt_train, yt_test = ys.transform(y_train), ys.transform(y_test)
    loader = DataLoader(TensorDataset(xt_train, yt_train), batch_size=cfg["batch_size"], shuffle=True,
                        seed=seed)

    h = cfg["hidden"]
    model = nn.MLP([x.shape[1], h, h, 1], activation="tanh")
    loss_fn = nn.MSELoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=cfg["lr"])
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])

    def predict(inputs):
        """Predictions in the original units for raw inputs."""
        return ys.inverse_transform(common.predict(model, xs.transform(inputs)))

    def evaluate(m):
        # MSE in standardised units (what the optimiser sees); R^2 in the original units
        out = {"train_loss": float(np.mean((common.predict(m, xt_train) - yt_train) ** 2)),
               "test_loss": float(np.mean((common.predict(m, xt_test) - yt_test) ** 2))}
        out["test_r2"] = common.r2_score(y_test, predict(x_test))
        return out

    with run.timer("train"):
        hist = common.fit(model, loss_fn, optimizer, loader, cfg["epochs"], evaluate=evaluate,
                          scheduler=scheduler,
                          quiet=quiet, desc="regression", show=("test_loss", "test_r2"))

    test_pred = predict(x_test)
    r2 = common.r2_score(y_test, test_pred)
    rmse = float(np.sqrt(np.mean((test_pred - y_test) ** 2)))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(x_train[:, 0], y_train[:, 0], s=10, c="#9ca3af", label="train")
    ax.scatter(x_test[:, 0], y_test[:, 0], s=14, c="#ff7f0e", edgecolors="k", linewidths=0.3, label="test")
    grid = np.linspace(x[:, 0].min(), x[:, 0].max(), 400, dtype=np.float32).reshape(-1, 1)
    ax.plot(grid[:, 0], predict(grid)[:, 0], c="#1f77b4", lw=2.2, label="MLP fit")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"MSE fit of a noisy curve: test R$^2$ = {r2:.3f}, RMSE = {rmse:.3f}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    common.save_figure(fig, run.path("fit.png"))
    common.plot_curves({"loss (MSE, standardised)": {"train": hist["train_loss"], "test": hist["test_loss"]},
                        "test R^2": {"test": hist["test_r2"]}},
                       run.path("loss_curve.png"),
                       title=f"regression: MLP 1-{h}-{h}-1, Adam with a cosine schedule")

    metrics = {"test_r2": r2, "test_rmse": rmse, "train_loss": hist["train_loss"][-1],
               "test_loss": hist["test_loss"][-1]}
    return run.finish(metrics, QUICK_TARGETS if quick else TARGETS, summary=SUMMARY.format(h=h))
