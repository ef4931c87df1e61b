"""Watch backpropagation happen: ``python -m demos explore``.

Writes ``neuron.html`` (micrograd's neuron ``o = tanh(x1*w1 + x2*w2 + b)`` of ``Value``s) and
``mlp.html`` (the loss of a small ``nn.MLP`` on 16 moons points, one cluster per ``Linear``), two
self-contained pages made by ``autograd.explore``: open them in any browser, press step. With Playwright
and Chromium installed (the test extra and ``apt-get install chromium``) it also saves
``explore_step.png``, the MLP page half-way through its backward pass, and ``explore_neuron.png``, the
neuron two steps in.
"""
import os

import numpy as np

from autograd import Tensor
from autograd.explore import explore

from . import common

NEURON = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
MLP_SIZES = [2, 8, 8, 1]
MLP_POINTS = 16
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


def mlp_loss(seed=0):
    """A small ``nn.MLP`` (tanh) and its ``BCEWithLogitsLoss`` on ``MLP_POINTS`` moons points."""
    import nn
    from autograd.creation import manual_seed
    manual_seed(seed)
    x, y = nn.data.make_moons(MLP_POINTS, noise=0.1, seed=seed)
    model = nn.MLP(MLP_SIZES, activation="tanh")
    inputs = Tensor(np.asarray(x, dtype=np.float32))
    inputs.label = "x"
    target = Tensor(np.asarray(y, dtype=np.float32))
    target.label = "y"
    logits = model(inputs).reshape(-1)
    logits.label = "logits"
    loss = nn.BCEWithLogitsLoss()(logits, target)
    loss.label = "loss"
    return model, loss


def screenshot_page(page_path, png_path, steps, browser=None):
    """Open ``page_path`` in headless Chromium (``browser``, a Playwright browser, or a new one), press
    step ``steps`` times, click the current node and save ``png_path``."""
    if browser is None:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            try:
                return screenshot_page(page_path, png_path, steps, browser)
            finally:
                browser.close()
    page = browser.new_page(viewport={"width": 1400, "height": 760})
    try:
        page.goto("file://" + os.path.abspath(page_path))
        for _ in range(steps):
            page.click("#step")
        node = page.get_attribute("#current-node", "data-node")
        page.click(f'g.node[data-id="{node}"]')
        page.screenshot(path=png_path)
    finally:
        page.close()
    return png_path


def main(out_dir="results", quiet=False, quick=False, screenshot=True, browser=None, **_training_options):
    """Write ``neuron.html``, ``mlp.html`` and (``screenshot=True``, when Chromium is there)
    ``explore_step.png`` into ``out_dir``; the report has the node counts and the pages' sizes.
    ``browser``: a Playwright browser to take the screenshot with (default: launch Chromium)."""
    run = common.Run("explore", out_dir, quick=quick, quiet=quiet)
    o = common.labelled_neuron(**NEURON)[0]
    neuron = explore(o, path=run.path("neuron.html"))
    model, loss = mlp_loss()
    mlp = explore(loss, path=run.path("mlp.html"), params=dict(model.named_parameters()))
    metrics = {"neuron_nodes": len(_steps(neuron)), "mlp_nodes": len(_steps(mlp)),
               "neuron_kb": len(neuron.html.encode()) / 1e3, "mlp_kb": len(mlp.html.encode()) / 1e3}
    run.log(f"neuron: o = tanh(x1*w1 + x2*w2 + b) = {o.data:.4f}, {metrics['neuron_nodes']} nodes")
    run.log(f"mlp: nn.MLP({MLP_SIZES}) on {MLP_POINTS} moons points, loss {loss.item():.4f}, "
            f"{metrics['mlp_nodes']} nodes")
    notes = []
    shots = {"explore_step.png": ("mlp.html", metrics["mlp_nodes"] // 2),
             "explore_neuron.png": ("neuron.html", 2)}
    for png, (html, steps) in shots.items() if screenshot else ():
        try:
            screenshot_page(os.path.join(out_dir, html), run.path(png), steps, browser)
        except Exception as e:  # noqa: BLE001 - the pages are the demo; the pictures need a browser
            run.files.remove(os.path.join(out_dir, png))
            notes.append(f"no {png} ({type(e).__name__}: {e}); install the test extra and chromium")
            break
    report = run.finish(metrics, {}, summary="step through backpropagation in the browser", notes=notes)
    report.update(metrics)
    return report


def _steps(page):
    """The backward steps embedded in an explorer page."""
    import json
    import re
    text = re.search(r'<script id="explore-data" type="application/json">(.*?)</script>', page.html, re.S)
    return json.loads(text.group(1))["steps"]
