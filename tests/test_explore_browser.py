"""The explorer in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
opens the page, presses step, and reads what a person would see. Without Chromium or Playwright these
tests FAIL with a message saying how to install them (``.ci/run`` installs Chromium)."""
import importlib
import io
import os
import re

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor, Value
from autograd.explore import backward_steps, explore
from autograd.graph import _walk

explore_mod = importlib.import_module("autograd.explore")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need Python's playwright: pip install -e '.[test]' (no browser "
                    "download needed: they drive /usr/bin/chromium)", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: sudo apt-get install chromium "
                    "(.ci/run installs it when missing)", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A browser tab on one explorer page, recording every request and script error."""

    def __init__(self, browser, path):
        self.url = "file://" + str(path)
        self.tab = browser.new_page(viewport={"width": 1300, "height": 760})
        self.requests, self.errors = [], []
        self.tab.on("request", lambda r: self.requests.append(r.url))
        self.tab.on("pageerror", lambda e: self.errors.append(str(e)))
        self.tab.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.tab.goto(self.url)

    def step(self, n=1, button="#step"):
        for _ in range(n):
            self.tab.click(button)

    def current(self):
        return int(self.tab.get_attribute("#current-node", "data-node"))

    def grad_text(self, i):
        return self.tab.text_content(f'g.node[data-id="{i}"] text.grad')

    def data_text(self, i):
        return self.tab.text_content(f'g.node[data-id="{i}"] text.data')

    def close(self):
        assert self.errors == [], self.errors
        assert [u for u in self.requests if u != self.url] == [], "the page made requests"
        self.tab.close()


@pytest.fixture
def open_page(browser):
    pages = []

    def opener(path):
        pages.append(Page(browser, path))
        return pages[-1]

    yield opener
    for p in pages:
        p.close()


def neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def _index(root):
    return {getattr(n, "label", ""): i for i, n in enumerate(_walk(root)[0]) if getattr(n, "label", "")}


def _assert_not_blank(png, tmp_path, name):
    from PIL import Image
    (tmp_path / name).write_bytes(png)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert img.shape[0] > 300 and img.shape[1] > 600
    inked = (img.min(axis=2) < 200).mean()
    colors = len(np.unique(img.reshape(-1, 3), axis=0))
    assert inked > 0.01 and colors > 30, f"screenshot looks blank: {inked:.3%} inked, {colors} colours"


def _neuron_page(open_page, tmp_path):
    """micrograd's neuron, its backward steps, its nodes by label and its explorer page, opened."""
    o = neuron()
    path = tmp_path / "neuron.html"
    explore(o, path=str(path))
    return o, backward_steps(o), _index(o), open_page(path)


def test_neuron_backward_step_by_step(open_page, tmp_path):
    o, steps, idx, page = _neuron_page(open_page, tmp_path)
    assert page.grad_text(idx["o"]) == "grad 1"  # the seed
    assert page.grad_text(idx["x1"]) == ""
    page.step()
    assert page.current() == idx["o"]
    formula = page.tab.text_content("#formula")
    assert "∂o/∂n = 1 − o² = 1 − 0.7071² = 0.5" in formula
    assert "n.grad += 0.5 × o.grad = 0.5 × 1 = 0.5" in formula
    assert page.grad_text(idx["n"]) == "grad 0.5" and page.grad_text(idx["x1"]) == ""
    assert page.tab.get_attribute(f'g.node[data-id="{idx["o"]}"]', "class").split()[-1] == "current"
    lit = page.tab.eval_on_selector_all("path.edge.flow",
                                        "es => es.map(e => [+e.dataset.from, +e.dataset.to])")
    assert lit == [[idx["n"], idx["o"]]]  # the gradient flows from o into n
    for k in range(2, len(steps) + 1):
        page.step()
        assert page.current() == steps[k - 1].node
        assert page.tab.text_content("#counter") == f"backward step {k} / {len(steps)}"
    o.backward()  # now the engine's gradients, as micrograd's README shows them
    expected = {"o": "1", "n": "0.5", "b": "0.5", "x1": "-1.5", "w1": "1", "x2": "0.5", "w2": "0"}
    for name, grad in expected.items():
        assert page.grad_text(idx[name]) == f"grad {grad}"
    for name, i in idx.items():
        assert page.grad_text(i) == f"grad {explore_mod._num(_walk(o)[0][i].grad)}"
    _assert_not_blank(page.tab.screenshot(), tmp_path, "neuron_end.png")


def test_back_undoes_a_step(open_page, tmp_path):
    o, steps, idx, page = _neuron_page(open_page, tmp_path)
    page.step(8)  # x1*w1 processed: x1 has its gradient
    assert page.current() == steps[7].node and page.grad_text(idx["x1"]) == "grad -1.5"
    page.step(1, "#back")
    assert page.current() == steps[6].node and page.grad_text(idx["x1"]) == ""
    page.tab.keyboard.press("ArrowRight")
    assert page.current() == steps[7].node
    page.tab.fill("#slider", "3")
    assert page.current() == steps[2].node and page.grad_text(idx["x1"]) == ""


def test_click_a_node_shows_its_value_and_gradient(open_page, tmp_path):
    o, _, idx, page = _neuron_page(open_page, tmp_path)
    page.tab.click(f'g.node[data-id="{idx["x1"]}"]')
    text = page.tab.text_content("#inspector")
    assert "x1 (node" in text and "data2" in text.replace(" ", "")
    assert "grad (pass so far)not reached yet" in text
    assert "grad (after the pass)-1.5" in text
    assert f"complete atstep {next(s.index for s in backward_steps(o) if s.node == idx['x1']) + 1}" in text
    page.tab.click("#last")
    page.tab.click(f'g.node[data-id="{idx["x1"]}"]')
    assert "grad (pass so far)-1.5" in page.tab.text_content("#inspector")


def test_forward_mode(open_page, tmp_path):
    o, steps, idx, page = _neuron_page(open_page, tmp_path)
    page.tab.check('input[value="forward"]')
    assert page.data_text(idx["o"]) == "data ?"
    forward = [s.node for s in reversed(steps)]
    page.step(3)
    assert page.current() == forward[2]
    page.step(len(steps) - 3)
    assert page.current() == idx["o"]
    assert page.tab.text_content("#formula") == "o = tanh(n) = tanh(0.8814) = 0.7071"
    assert page.data_text(idx["o"]) == "data 0.7071" and page.grad_text(idx["o"]) == ""
    lit = page.tab.eval_on_selector_all("path.edge.flow", "es => es.map(e => +e.dataset.from)")
    assert lit == [idx["n"]]


def _mlp():
    autograd.manual_seed(0)
    x, y = nn.data.make_moons(16, noise=0.1, seed=0)
    model = nn.MLP([2, 8, 8, 1], activation="tanh")
    loss = nn.BCEWithLogitsLoss()(model(Tensor(x)).reshape(-1), Tensor(np.asarray(y, dtype=np.float32)))
    return model, loss


def test_tensor_mlp(open_page, tmp_path):
    model, loss = _mlp()
    params = dict(model.named_parameters())
    steps = backward_steps(loss, params)
    path = tmp_path / "mlp.html"
    explore(loss, path=str(path), params=params)
    page = open_page(path)
    linear = next(k for k, s in enumerate(steps) if s.op == "linear")
    page.step(linear + 1)
    assert page.current() == steps[linear].node
    formula = page.tab.text_content("#formula")
    assert re.search(r"∂4\.weight = gᵀ·v\d+  \(1×16 · 16×8\)", formula), formula
    page.tab.click("#last")
    nodes = _walk(loss)[0]
    loss.backward()
    for name, p in params.items():
        i = next(k for k, n in enumerate(nodes) if n is p)
        g = p.grad.detach().numpy()
        want = f"grad {explore_mod._num(g.ravel()[0])}" if g.size == 1 else \
            f"grad norm {explore_mod._num(np.linalg.norm(g.astype(np.float64)))}"
        assert page.grad_text(i) == want, name
    w = next(k for k, n in enumerate(nodes) if n is params["0.weight"])
    page.tab.click(f'g.node[data-id="{w}"]')
    text = page.tab.text_content("#inspector")
    assert "0.weight (node" in text and "shape(8, 2)" in text and "dtypefloat32" in text
    done = next(s.index for s in steps if s.node == w) + 1
    assert f"gradient (after the pass; complete at step {done})" in text and "norm (L2)" in text
    assert page.tab.locator("#inspector .heat").count() == 2  # the value's and the gradient's
    assert page.tab.locator("#inspector .heat").first.locator("div").count() == 16
    _assert_not_blank(page.tab.screenshot(), tmp_path, "mlp_end.png")


def test_module_clusters_fold_and_unfold(open_page, tmp_path):
    model, loss = _mlp()
    path = tmp_path / "mlp.html"
    explore(loss, path=str(path), params=dict(model.named_parameters()))
    page = open_page(path)
    members = page.tab.eval_on_selector_all("g.node", "es => es.length")
    page.tab.click('g.cluster[data-cluster="0"] text')
    hidden = page.tab.eval_on_selector_all("g.node.hidden", "es => es.length")
    assert 2 <= hidden < members
    assert "(" in page.tab.text_content('g.cluster[data-cluster="0"] text')
    assert page.tab.locator("line.proxy").count() >= 1
    folded = page.tab.locator('g.cluster[data-cluster="0"] rect')
    folded.click(position={"x": folded.bounding_box()["width"] - 3, "y": 3})  # the box, beside its name
    assert page.tab.eval_on_selector_all("g.node.hidden", "es => es.length") == 0


def test_max_nodes_and_ten_thousand_nodes(open_page, tmp_path):
    x = Value(0.5, label="x")
    y = x
    for _ in range(3400):
        y = (y * 0.999).tanh()
    path = tmp_path / "big.html"
    explore(y, path=str(path))
    page = open_page(path)
    steps = backward_steps(y)
    page.step(5)
    assert page.current() == steps[4].node
    drawn = page.tab.eval_on_selector_all("g.node", "es => es.length")
    assert 0 < drawn < 2000, "only the part near the view is in the document"
    page.tab.click("#last")
    assert page.current() == steps[-1].node
    path = tmp_path / "folded.html"
    explore(y, path=str(path), max_nodes=50)
    folded = open_page(path)
    assert folded.tab.locator("g.role-more").count() == 1
    assert f"{len(steps) - 50} more nodes" in folded.tab.text_content("g.role-more")
    folded.tab.click("g.role-more")  # 10^4 far nodes unfold: the view moves to them
    folded.tab.wait_for_function("document.querySelectorAll('g.node:not(.hidden)').length > 10")
    shown = folded.tab.eval_on_selector_all("g.node:not(.hidden)", "es => es.map(e => +e.dataset.id)")
    assert any(i >= 50 for i in shown) and len(shown) < 2000


def _hidden(page):
    return page.tab.eval_on_selector_all("g.node.hidden", "es => es.map(e => +e.dataset.id)")


@pytest.mark.parametrize("layout", ["dot", "layers"])
def test_the_folded_part_unfolds_on_click(open_page, tmp_path, monkeypatch, layout):
    """max_nodes folds the far nodes into "… K more": its steps light that node; a click on it shows the
    far nodes (with the engine's gradients at the end), a click on their frame's name folds them back."""
    if layout == "layers":
        monkeypatch.setattr(explore_mod, "DOT_LIMIT", 0)
    x = Value(0.5, label="x")
    y = x
    for _ in range(20):
        y = (y * 0.9).tanh()
    nodes, parents, _ = _walk(y)
    steps = backward_steps(y)
    kept, total = 10, len(nodes)
    path = tmp_path / "fold.html"
    explore(y, path=str(path), max_nodes=kept)
    page = open_page(path)
    data = page.tab.evaluate("JSON.parse(document.getElementById('explore-data').textContent).layout")
    assert data == layout
    more = page.tab.locator("g.role-more")
    far = list(range(kept, total))
    assert _hidden(page) == far and more.is_visible()
    assert not page.tab.locator("g.cluster.fold").is_visible()
    k = next(k for k, s in enumerate(steps) if s.node >= kept)  # the first step at a folded node
    page.step(k + 1)
    assert page.current() == steps[k].node
    assert "current" in more.get_attribute("class").split()  # a folded node's step lights "… K more"
    more.click()
    assert _hidden(page) == [total]  # only "… K more" itself
    assert page.tab.locator(f'g.node[data-id="{steps[k].node}"]').is_visible()
    assert "current" in page.tab.get_attribute(f'g.node[data-id="{steps[k].node}"]', "class").split()
    assert page.tab.locator("path.edge:not(.hidden)").count() == sum(map(len, parents))
    assert "click this node to unfold" in page.tab.text_content("#inspector")
    page.tab.click("#last")
    y.backward()
    for i in far:
        assert page.grad_text(i) == f"grad {explore_mod._num(nodes[i].grad)}"
    _assert_not_blank(page.tab.screenshot(), tmp_path, f"unfolded_{layout}.png")
    page.tab.click("g.cluster.fold text")
    assert _hidden(page) == far and more.is_visible()
    page.step(1, "#first")
    page.step(k + 1)
    assert "current" in more.get_attribute("class").split()


def test_jupyter_iframe_runs(browser):
    tab = browser.new_page()
    requests = []
    tab.on("request", lambda r: requests.append(r.url))
    tab.set_content(explore(neuron())._repr_html_())
    frame = tab.frames[1]
    frame.wait_for_selector("g.node")
    assert frame.locator("g.node").count() == 10
    frame.click("#step")
    assert frame.get_attribute("#current-node", "data-node") == "0"
    assert [u for u in requests if not u.startswith(("about:", "data:"))] == []
    tab.close()


def test_demo_screenshot(browser, tmp_path):
    """``python -m demos explore`` writes a screenshot of a mid-pass step (the README's picture)."""
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    from demos import explore as demo
    report = demo.main(str(tmp_path), quiet=True, browser=browser)
    assert report["notes"] == []
    _assert_not_blank((tmp_path / "explore_step.png").read_bytes(), tmp_path, "copy.png")
