"""``backward_steps`` / ``explain`` / ``explore``: the steps follow the engine's order, carry the
engine's gradients, change no ``.grad``, and every formula, evaluated on its step's numbers, gives the
engine's gradient. The HTML page is self-contained; its behaviour in a browser is in
``test_explore_browser.py``."""
import importlib
import json
import math
import os
import re
import sys
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
import nn
from autograd import Tensor, Value
from autograd.explore import backward_steps, explain, explore, formulas_of
from autograd.graph import _walk

explore_mod = importlib.import_module("autograd.explore")  # the module, whatever autograd exports

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- Value graphs -------------------------------------------------------------------------------------
def neuron():
    """micrograd's neuron, labelled as in its README."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def every_value_op():
    """One graph using every Value op, some nodes twice (accumulation)."""
    a, b = Value(1.3, label="a"), Value(-0.7, label="b")
    c = a * b + a / b - b ** 3 + a ** b + (-a) + abs(b)
    d = c.relu() + c.tanh() * c.sigmoid() + a.exp() + a.log() + a.sqrt() + (b * b).relu()
    return d * d + c - 2.0


def reused():
    x = Value(0.5, label="x")
    y = x * x + x  # x used three times
    y.label = "y"
    return y * y


def value_mlp():
    """micrograd's MLP shape (2-4-4-1) on two points, built from Values."""
    rng = np.random.default_rng(0)
    sizes = [2, 4, 4, 1]
    w = [[[Value(float(rng.uniform(-1, 1))) for _ in range(sizes[k])] for _ in range(sizes[k + 1])]
         for k in range(3)]
    loss = Value(0.0)
    for xs, y in (([0.5, -1.0], 1.0), ([1.0, 0.2], -1.0)):
        h = [Value(x) for x in xs]
        for k, layer in enumerate(w):
            h = [sum((wi * hi for wi, hi in zip(ws, h)), Value(0.1)) for ws in layer]
            h = [v.tanh() for v in h] if k < 2 else h
        loss = loss + (h[0] - y) ** 2
    return loss


VALUE_GRAPHS = {"neuron": neuron, "every_op": every_value_op, "reused": reused, "mlp": value_mlp}


def _nodes(root):
    return _walk(root)[0]


def _assert_topological(steps, root):
    """Each node once, root first, every node after all of its consumers."""
    nodes, parents, _ = _walk(root)
    seen = [s.node for s in steps]
    assert sorted(seen) == list(range(len(nodes)))
    assert seen[0] == 0
    where = {n: k for k, n in enumerate(seen)}
    for i, ps in enumerate(parents):
        for j in ps:
            assert where[j] > where[i], f"node {j} processed before its consumer {i}"


@pytest.mark.parametrize("name", sorted(VALUE_GRAPHS))
def test_value_steps_follow_the_engine(name, monkeypatch):
    root = VALUE_GRAPHS[name]()
    nodes = _nodes(root)
    steps = backward_steps(root)
    assert all(n.grad == 0.0 for n in nodes), "backward_steps changed a .grad"
    _assert_topological(steps, root)
    order = []
    real = Value._accumulate

    def record(self, g):
        order.append(id(self))
        real(self, g)

    monkeypatch.setattr(Value, "_accumulate", record)
    root.backward()
    assert order == [id(nodes[s.node]) for s in steps], "not the engine's order"
    for s in steps:
        assert s.grad == nodes[s.node].grad or (math.isnan(s.grad) and math.isnan(nodes[s.node].grad))


@pytest.mark.parametrize("name", sorted(VALUE_GRAPHS))
def test_value_formulas_give_the_engines_gradient(name):
    """Every rule: formula(numbers) x incoming gradient == what the engine's rule sends the parent."""
    steps = backward_steps(VALUE_GRAPHS[name]())
    checked = 0
    for s in steps:
        for r in s.rules:
            assert r.local is not None, f"no formula for {s.op!r}: {r.formula}"
            assert r.local * s.grad == pytest.approx(r.contribution, rel=1e-12, abs=1e-300), r.formula
            checked += 1
    assert checked == sum(len(s.rules) for s in steps) > 0


UNARY = [lambda v: v.tanh(), lambda v: v.sigmoid(), lambda v: v.exp() * 0.1, lambda v: (abs(v) + 0.5).log(),
         lambda v: (abs(v) + 0.5).sqrt(), lambda v: v.relu(), lambda v: -v, lambda v: v ** 2, abs]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (abs(b) + 0.5),
          lambda a, b: (abs(a) + 0.5) ** b.tanh()]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-2, 2), min_size=2, max_size=4),
       st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)), min_size=1,
                max_size=12))
def test_random_value_graphs(xs, program):
    """Random expressions (nodes reused at random): formulas and totals agree with the engine's."""
    pool = [Value(x) for x in xs]
    for op, i, j in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        k = op % (len(UNARY) + len(BINARY))
        pool.append(UNARY[k](a) if k < len(UNARY) else BINARY[k - len(UNARY)](a, b))
    root = pool[-1]
    steps = backward_steps(root)
    root.backward()
    nodes = _nodes(root)
    assume(all(math.isfinite(n.data) and math.isfinite(n.grad) for n in nodes))
    for s in steps:
        assert s.grad == nodes[s.node].grad
        for r in s.rules:
            assert r.local * s.grad == pytest.approx(r.contribution, rel=1e-12, abs=1e-300), r.formula


def test_every_value_op_declares_its_partials():
    from autograd import value
    rules = [f for f in vars(value).values() if callable(f) and hasattr(f, "op") and f.op != "freed"]
    missing = sorted(f.op for f in rules if not getattr(f, "partials", ()))
    assert not missing, f"Value rules without partials: {missing}"
    ops = {n._op.rstrip("0123456789.-e") if n._op.startswith("**") else n._op
           for n in _nodes(every_value_op()) if n._op}
    assert ops >= {"+", "-", "*", "/", "**", "neg", "abs", "relu", "tanh", "sigmoid", "exp", "log", "sqrt"}


def test_neuron_text_is_the_chain_rule_in_numbers():
    text = explain(neuron())
    assert "o = tanh(n) = tanh(0.8814) = 0.7071" in text
    assert "∂o/∂n = 1 − o² = 1 − 0.7071² = 0.5" in text
    assert "n.grad += 0.5 × o.grad = 0.5 × 1 = 0.5" in text
    assert "∂x1w1/∂x1 = w1 = -3" in text
    assert "x1.grad += -3 × x1w1.grad = -3 × 0.5 = -1.5" in text
    assert text.startswith("step 1: o (tanh)")


def test_a_node_used_twice_shows_the_accumulation():
    steps = backward_steps(reused())
    x_rules = [r for s in steps for r in s.rules if r.name == "x"]
    assert len(x_rules) == 3
    assert "used again" not in x_rules[0].accumulate
    assert "used again" in x_rules[1].accumulate and "used again" in x_rules[2].accumulate
    # y = x*x + x at x = 0.5, root y*y: dy/dx = 2x + 1 = 2, d(root)/dy = 2y = 1.5
    assert x_rules[-1].grad_after == pytest.approx(3.0)


# -- Tensor graphs ------------------------------------------------------------------------------------
def _rng():
    return np.random.default_rng(0)


def t64(*shape, positive=False, requires_grad=True):
    a = _rng().normal(size=shape)
    return Tensor(np.abs(a) + 0.5 if positive else a, requires_grad=requires_grad)


def _mlp(activation, loss):
    def build():
        autograd.manual_seed(0)
        model = nn.MLP([3, 5, 4, 2], activation=activation)
        _double(model)
        x = Tensor(_rng().normal(size=(6, 3)))
        target = Tensor(_rng().normal(size=(6, 2)))
        if loss == "ce":
            return nn.CrossEntropyLoss()(model(x), np.array([0, 1, 1, 0, 1, 0])), model
        if loss == "bce_logits":
            return nn.BCEWithLogitsLoss()(model(x), Tensor((target.detach().numpy() > 0) * 1.0)), model
        if loss == "bce":
            return nn.BCELoss()(model(x).sigmoid(), Tensor((target.detach().numpy() > 0) * 1.0)), model
        if loss == "l1":
            return nn.L1Loss()(model(x), target), model
        return nn.MSELoss()(model(x), target), model
    return build


def _double(model):
    model.double()  # BatchNorm's buffers too


def _seq(layers, x_shape, target=None, loss=None):
    def build():
        autograd.manual_seed(0)
        model = nn.Sequential(*layers())
        _double(model)
        out = model(Tensor(_rng().normal(size=x_shape)))
        if loss is not None:
            return loss(out, target), model
        return (out * out).sum(), model
    return build


def _cnn():
    return [nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2)]


def _ops_graph():
    a = t64(3, 4)
    b = t64(3, 4, positive=True)
    c = t64(4)
    m = t64(4, 2)
    y = (a * b + a / b - c - (-a) + b ** 2.5 + b ** a.tanh() + a.exp() + b.log() + b.sqrt() + a.abs()
         + a.sin() + a.cos() + a.sigmoid() + a.relu() + a.clamp(-0.5, 0.5))
    y = y + autograd.maximum(a, c) + autograd.minimum(a, b) + autograd.where(a.detach() > 0, a, b)
    z = (y @ m).sum(1) + y.amax(1) + y.amin(1) + y.logsumexp(1) + y.mean(1)
    w = autograd.cat([y, a], 0)[1:4].reshape(3, 2, 2).permute(2, 0, 1).sum((0, 2)) + a[:, ::2].sum(1)
    v = autograd.stack([z, w], 1).softmax(1) * autograd.stack([z, w], 0).log_softmax(0).T
    s = a[np.array([0, 2, 0])].sum() + (c @ c) + (a @ c).sum() + c.expand(3, 4).sum()
    s = s + a.float().double().sum()
    return v.sum() + s, None


TENSOR_MODELS = {
    "mlp_relu_mse": _mlp("relu", "mse"),
    "mlp_tanh_ce": _mlp("tanh", "ce"),
    "mlp_sigmoid_bce_logits": _mlp("sigmoid", "bce_logits"),
    "mlp_tanh_bce": _mlp("tanh", "bce"),
    "mlp_relu_l1": _mlp("relu", "l1"),
    "cnn_ce": _seq(_cnn, x_shape=(2, 2, 4, 4), target=np.array([1, 0]), loss=nn.CrossEntropyLoss()),
    "layernorm_gelu": _seq(lambda: [nn.Linear(4, 6), nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 1)],
                           x_shape=(5, 4)),
    "batchnorm_leaky": _seq(lambda: [nn.Linear(4, 6), nn.BatchNorm1d(6), nn.LeakyReLU(0.1), nn.Dropout(0.3),
                                     nn.Linear(6, 3), nn.LogSoftmax(1)], x_shape=(5, 4),
                            target=np.array([0, 2, 1, 1, 0]), loss=nn.NLLLoss()),
    "softmax": _seq(lambda: [nn.Linear(4, 3), nn.Softmax(1)], x_shape=(5, 4)),
    "ops": _ops_graph,
}


def _embedding_graph():
    autograd.manual_seed(0)
    emb = nn.Embedding(5, 3)
    _double(emb)
    out = emb(np.array([[0, 3], [3, 4]]))
    return (out * out).sum(), emb


TENSOR_MODELS["embedding"] = _embedding_graph


def _inplace_graph():
    """``clone`` and ``t[idx] = v`` (index_put) in a graph."""
    a, v = t64(3, 4), t64(2)
    b = (a * 2).clone()
    b[np.array([0, 2]), 1] = v.exp()
    b[1] = 0.5
    return (b * b).sum(), None


TENSOR_MODELS["inplace"] = _inplace_graph


def _second_order_graph():
    """The graph of a gradient (``create_graph=True``): the adjoint primitives index_add and scatter."""
    x = t64(4, 3)
    picked = nn.functional.nll_loss(x.log_softmax(1), np.array([0, 2, 1, 1]), reduction="none")
    loss = (x[np.array([0, 2, 2])] ** 2).sum() + (picked ** 2).sum()
    (g,) = autograd.grad(loss, x, create_graph=True)
    return (g * g).sum(), None


TENSOR_MODELS["second_order"] = _second_order_graph


def _second_order_nn_graph():
    """Gradients of a conv -> relu -> max-pool net and of a weighted logits loss, differentiated again."""
    x, w = t64(2, 2, 4, 4), t64(3, 2, 3, 3)
    y = nn.functional.max_pool2d(nn.functional.conv2d(x, w, padding=1).relu(), 2)
    logits, target = t64(5), Tensor(np.array([0.2, 0.9, 0.4, 0.0, 1.0]), requires_grad=True)
    bce = nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=Tensor(np.full(5, 2.0)))
    grads = autograd.grad((y * y).sum() + bce, [x, w, logits, target], create_graph=True)
    return sum((g * g).sum() for g in grads), None


TENSOR_MODELS["second_order_nn"] = _second_order_nn_graph


def _unit(*shape):
    """Values in (0.1, 0.9): inside the domains of asin, acos, atanh, erfinv and logit."""
    return Tensor(_rng().uniform(0.1, 0.9, size=shape), requires_grad=True)


def _pointwise_graph():
    """Every unary function of pointwise.py, each on its domain."""
    a, u, p = t64(3, 4), _unit(3, 4), t64(3, 4, positive=True)
    y = (a.tan() + p.rsqrt() + u.asin() + u.acos() + a.atan() + a.sinh() + a.cosh()
         + a.asinh() + (p + 1.0).acosh() + u.atanh() + p.log2() + p.log10() + p.log1p() + a.exp2()
         + a.expm1() + a.erfc() + u.erfinv() + u.logit() + a.nan_to_num())
    steps = (a.floor() + a.ceil() + a.trunc() + a.sign() + a.round(decimals=1)
             + a.div(p, rounding_mode="floor"))
    return (y * y).sum() + (steps * a).sum(), None


def _binary_graph():
    """Every binary function of pointwise.py (both operands require grad; ``b`` broadcasts) and
    ``clamp`` with tensor bounds."""
    a, b, p = t64(3, 4), t64(4), t64(3, 4, positive=True)
    y = (autograd.atan2(a, b) + autograd.hypot(a, b) + autograd.copysign(a, b) + autograd.logaddexp(a, b)
         + autograd.logaddexp2(a, b) + autograd.xlogy(a, p) + autograd.fmod(a, b + 3.0)
         + autograd.remainder(a, b + 3.0) + autograd.fmax(a, b) + autograd.fmin(a, b))
    y = y + a.clamp(min=b - 0.5, max=b + 0.5) + a.clamp(min=b) + b * 0.1
    return (y * y).sum(), None


def _reduce_scan_sort_graph():
    """prod, median, the scans and the value-picking ops (``take_along_dim``); their gradients'
    graphs (``create_graph``) for ``scatter_add`` and, through a zero in cumprod, ``recurrence``."""
    a = t64(3, 4)
    z = Tensor(np.array([[0.5, 0.0, 2.0, -1.5], [1.2, -0.7, 0.3, 0.9]]), requires_grad=True)
    y = (a.prod(1) + a.prod(0, keepdim=True).sum() + a.median() + a.cumsum(1).sum(1)
         + a.cumprod(0).sum(0)[:3] + a.cumprod(1)[:, -1] + a.logcumsumexp(1).sum(1)
         + a.sort(1).values[:, 0] + a.cummax(1).values[:, -1])
    loss = (y * y).sum() + (z.cumprod(1) ** 2).sum() + z.prod(1).sum()
    grads = autograd.grad(loss, [a, z], create_graph=True)
    return loss + sum((g * g).sum() for g in grads), None


TENSOR_MODELS.update(pointwise=_pointwise_graph, binary=_binary_graph,
                     reduce_scan_sort=_reduce_scan_sort_graph)


def _linalg_shape_graph():
    """det, slogdet, inverse, solve, einsum (a repeated index, an index one operand has alone), flip,
    roll, diagonal; their gradients' graphs (``create_graph``) hold diagonal_scatter and einsum again."""
    a = Tensor(_rng().normal(size=(2, 3, 3)) + 3 * np.eye(3), requires_grad=True)
    b, m = t64(2, 3, 2), t64(3, 4)
    y = (a.det().sum() + autograd.linalg.slogdet(a).logabsdet.sum() + (a.inverse() ** 2).sum()
         + (autograd.linalg.solve(a, b) ** 2).sum() + autograd.einsum("bii,bjk,jl->bl", a, b, m).sum()
         + (autograd.einsum("ij,jk->ik", m.T, m) ** 2).sum() + (a.flip(1) * a).sum()
         + (m.roll(1, 0) * m).sum() + (m.roll(2) * m).sum() + (a.diagonal(1, 1, 2) ** 2).sum()
         + (m.diagonal(-1) ** 3).sum())
    grads = autograd.grad(y, [a, b, m], create_graph=True)
    return y + sum((g * g).sum() for g in grads), None


def _scatter_reduce_graph():
    """``scatter_reduce`` for every reduction, with and without ``include_self`` (a zero in ``src`` for
    prod), and its gradients' graph. ``src`` is ``x``'s first two rows (one seed): amax/amin see ties."""
    x, src = t64(3, 4), t64(2, 4)
    zeros = Tensor(np.array([[0.0, 1.5, -0.5, 2.0], [0.7, 0.0, 1.2, -1.1]]), requires_grad=True)
    index = np.array([[0, 1, 0, 2], [0, 0, 1, 2]])
    y = 0
    for reduce in ("sum", "mean", "prod", "amax", "amin"):
        for include_self in (True, False):
            y = y + (x.scatter_reduce(0, index, src, reduce, include_self=include_self) ** 2).sum()
    y = y + (x.scatter_reduce(0, index, zeros, "prod") ** 2).sum()
    grads = autograd.grad(y, [x, src], create_graph=True)
    return y + sum((g * g).sum() for g in grads), None


TENSOR_MODELS.update(linalg_shape=_linalg_shape_graph, scatter_reduce=_scatter_reduce_graph)


_ACTIVATIONS = ("elu", "selu", "celu", "silu", "mish", "softplus", "softsign", "hardtanh", "relu6",
                "hardsigmoid", "hardswish", "logsigmoid", "gelu", "tanhshrink", "softshrink", "hardshrink")


def _nn_functions_graph():
    """The activations, nn functions (pad, interpolate, unfold, norms, distances, attention), conv and
    pooling variants (stride, dilation, groups: avg_pool2d is a grouped conv2d) and the losses, all
    compositions of the primitives; and their gradients' graph."""
    F = nn.functional
    a, p, w = t64(3, 4), t64(3, 4, positive=True), t64(4)
    img, kernel, seq, kernel1 = t64(2, 2, 5, 5), t64(3, 2, 3, 3), t64(2, 2, 6), t64(3, 2, 3)
    target = Tensor(_rng().uniform(0.1, 0.9, size=(3, 4)))
    acts = [getattr(F, name)(a) for name in _ACTIVATIONS]
    acts += [F.gelu(a, approximate="tanh"), F.glu(a, 1), F.prelu(a, w), F.softmin(a, 1),
             F.threshold(a, 0.1, 2.0)]
    shaped = [F.pad(img, (1, 2, 0, 1)), F.pad(img, (1, 1, 1, 1), mode="reflect"),
              F.interpolate(img, scale_factor=2, mode="bilinear"), F.unfold(img, 2),
              F.layer_norm(a, (4,), w, p[0]), F.group_norm(img, 2), F.instance_norm(img), F.normalize(a),
              F.cosine_similarity(a, p), F.pairwise_distance(a, p),
              F.scaled_dot_product_attention(img, img, img, is_causal=True),
              F.conv1d(seq, kernel1, padding=1), F.conv_transpose2d(img, kernel.transpose(0, 1), stride=2),
              F.avg_pool2d(img, 2), F.max_pool1d(seq, 2), F.adaptive_avg_pool2d(img, 3),
              F.adaptive_max_pool2d(img, 2), F.conv2d(img, kernel, stride=2, padding="valid"),
              F.conv2d(img, kernel[:2, :1], padding=1, dilation=2, groups=2, stride=(1, 2)),
              F.conv_transpose2d(img, kernel[:2, :1], stride=2, groups=2, dilation=(1, 2)),
              F.max_pool2d(img, 2, stride=1, dilation=(2, 1)), F.max_pool2d(img, 3, 2, 1, ceil_mode=True),
              F.avg_pool2d(img, 3, stride=2, padding=1, count_include_pad=False)]
    losses = [F.smooth_l1_loss(a, p), F.huber_loss(a, p, delta=0.5), F.kl_div(a.log_softmax(1), target),
              F.poisson_nll_loss(a, p), F.gaussian_nll_loss(a, p, p), F.soft_margin_loss(a, target.sign()),
              F.margin_ranking_loss(a, p, -target.sign()), F.hinge_embedding_loss(a, target.sign()),
              F.multi_margin_loss(a, np.array([0, 3, 1])),
              F.cosine_embedding_loss(a, p, np.array([1, -1, 1]))]
    y = sum((v * v).sum() for v in acts + shaped) + sum(losses)
    grads = autograd.grad(y, [a, p, w, img, kernel], create_graph=True)
    return y + sum((g * g).sum() for g in grads), None


TENSOR_MODELS["nn_functions"] = _nn_functions_graph


def _rest_graph():
    """The primitives the graphs above leave out: whole-tensor max/min, scatter_add and scatter with a
    source, the column sums of a bias gradient (``create_graph``), max-pooling differentiated three
    times (``MaxPool2dPick``), activation.py's own ``Log1p`` (called directly: no function uses it), var
    and std."""
    a, p, w, b = t64(3, 4), t64(3, 4, positive=True), t64(2, 4), t64(2)
    index = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])
    y = (a.max() + a.min() + (a.scatter_add(0, index, a[:2] * 2) ** 2).sum()
         + (a.scatter(0, index, a[1:] * 3) ** 2).sum()
         + autograd.ops.activation.Log1p.apply(p).sum()
         + a.var(0).sum() + (a.std(1, keepdim=True, correction=0) * a).sum())
    (gx,) = autograd.grad((nn.functional.linear(a, w, b) ** 2).sum(), [a], create_graph=True)
    (gw,) = autograd.grad((gx * gx).sum(), [b], create_graph=True)
    img = t64(1, 1, 4, 4)
    (g1,) = autograd.grad((nn.functional.max_pool2d(img, 2) ** 2).sum(), img, create_graph=True)
    (g2,) = autograd.grad((g1 * g1).sum(), img, create_graph=True)
    return y + (gw * gw).sum() + (g2 * g2).sum(), None


TENSOR_MODELS["rest"] = _rest_graph


def _recurrence_graph():
    """An LSTM and a bidirectional GRU (``ops.rnn.Recurrence``: one node per layer direction)."""
    autograd.manual_seed(0)
    model = nn.ModuleDict({"lstm": nn.LSTM(3, 4, batch_first=True),
                           "gru": nn.GRU(4, 2, bidirectional=True, bias=False)})
    model.double()
    out, (h, c) = model["lstm"](t64(2, 5, 3))
    out2, h2 = model["gru"](out)
    return (out2 ** 2).sum() + (h * c).sum() + h2.sum(), model


TENSOR_MODELS["recurrence"] = _recurrence_graph


def _build(name):
    root, model = TENSOR_MODELS[name]()
    params = dict(model.named_parameters()) if model is not None else None
    return root, params


def _engine_primitives():
    """Every primitive class the tensor engine defines (found from a node's grad_fn class, whatever the
    base class is called), abstract bases (no ``name``) left out."""
    base = type((Tensor([1.0], requires_grad=True) * 2).grad_fn).__mro__[-2]
    classes, stack = set(), [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            classes.add(sub)
            stack.append(sub)
    return {c for c in classes if getattr(c, "name", "") and c.__module__.startswith("autograd.")}


@pytest.fixture(scope="module")
def model_primitives():
    """The primitive classes of the nodes of every graph in ``TENSOR_MODELS``."""
    found = set()
    for name in TENSOR_MODELS:
        found |= {type(n.grad_fn) for n in _walk(_build(name)[0])[0] if n.grad_fn is not None}
    return found


def _name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def test_every_primitive_class_declares_formulas():
    """Each class has ``formulas`` (its own or a base's): ``(text, fn)`` pairs, or a function of the
    arity giving them (cat, stack, einsum)."""
    classes = _engine_primitives()
    assert len(classes) > 100
    missing = sorted(_name(c) for c in classes if getattr(c, "formulas", None) is None)
    assert not missing, f"primitives without formulas beside their backward: {missing}"
    for c in classes:
        entry = c.formulas(2) if callable(c.formulas) else c.formulas
        assert isinstance(entry, tuple) and entry, _name(c)
        for text, fn in entry:
            assert isinstance(text, str) and text and (fn is None or callable(fn)), _name(c)


def _evaluable(cls):
    """Whether ``cls``'s formulas have a NumPy form (a custom Function's node may declare text only)."""
    entry = cls.formulas(2) if callable(cls.formulas) else cls.formulas
    return any(fn is not None for _, fn in entry)


def test_the_models_use_every_primitive(model_primitives):
    """So that ``test_tensor_formulas_give_the_engines_gradient`` evaluates every class's formulas."""
    missing = sorted(_name(c) for c in _engine_primitives() - model_primitives if _evaluable(c))
    assert not missing, f"primitives no graph in TENSOR_MODELS uses: {missing}"


def _formula_sums(root, params=None):
    """The steps of ``root``'s graph (every intermediate's grad retained; none changed by the steps) and
    what the formulas sent into each node, summed."""
    nodes = _nodes(root)
    for n in nodes:
        if n.requires_grad and not n.is_leaf:
            n.retain_grad()
    steps = backward_steps(root, params)
    assert all(n.grad is None for n in nodes), "backward_steps changed a .grad"
    _assert_topological(steps, root)
    received = {}
    for s in steps:
        for r in s.rules:
            assert r.local is not None, f"{s.op}: {r.formula}"
            assert r.local.shape == tuple(nodes[r.parent].shape), r.formula
            received[r.parent] = received.get(r.parent, 0) + r.local
    return nodes, steps, received


def _assert_match_engine(nodes, steps, received):
    """After ``backward()``: each step's gradient is the node's ``.grad``, and so is the formulas' sum."""
    for s in steps:
        node = nodes[s.node]
        if not node.requires_grad:
            assert s.grad is None
            continue
        engine = node.grad.detach().numpy()
        np.testing.assert_allclose(s.grad, engine, rtol=1e-12, atol=1e-14, err_msg=f"{s.name} ({s.op})")
        if s.node != 0:
            np.testing.assert_allclose(received[s.node], engine, rtol=1e-9, atol=1e-12,
                                       err_msg=f"formulas into {s.name}, made by {s.op or 'a leaf'}")


@pytest.mark.parametrize("name", sorted(TENSOR_MODELS))
def test_tensor_formulas_give_the_engines_gradient(name, monkeypatch):
    """The formulas' contributions into each node add up to the engine's gradient of that node; the
    totals equal ``.grad`` after ``backward()`` (``retain_grad`` on every intermediate), whose order
    (the engine's ``_accumulate`` calls) is the steps'; no ``.grad`` changes while the steps are made."""
    root, params = _build(name)
    nodes, steps, received = _formula_sums(root, params)
    order, accumulate = [], Tensor._accumulate

    def record(self, g):
        order.append(id(self))
        accumulate(self, g)

    monkeypatch.setattr(Tensor, "_accumulate", record)
    root.backward()
    assert order == [id(nodes[s.node]) for s in steps if s.grad is not None], "not the engine's order"
    _assert_match_engine(nodes, steps, received)


T_UNARY = [lambda t: t.exp(), lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: -t, lambda t: t.sin(),
           lambda t: t.relu(), lambda t: (t * t + 1).sqrt(), lambda t: t.abs(), lambda t: t.clamp(-0.5, 0.5),
           lambda t: t.flip(-1) if t.ndim else t, lambda t: t.cumsum(-1) if t.ndim else t,
           lambda t: t.softmax(-1) if t.ndim else t.exp(), lambda t: t.reshape(-1).reshape(t.shape)]
T_REDUCE = ["sum", "mean", "logsumexp", "prod", "amax", "amin"]
T_BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (b * b + 1),
            lambda a, b: autograd.maximum(a, b), lambda a, b: autograd.where(a.detach() > 0, a, b)]


@settings(max_examples=30, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3),
       st.lists(st.tuples(st.integers(0, 99), st.booleans()), min_size=1, max_size=5),
       st.integers(0, 2**31 - 1), st.booleans())
def test_random_tensor_graphs(shapes, program, seed, keepdim):
    """Random graphs of broadcasting shapes (0-d and size-0 dims among them): the formulas add up to the
    engine's gradients; a reduction over a random dim ends it."""
    rng = np.random.default_rng(seed)
    a, b = (Tensor(rng.normal(size=s), requires_grad=True) for s in shapes.input_shapes)
    y = a
    for k, binary in program:
        y = T_BINARY[k % len(T_BINARY)](y, b) if binary else T_UNARY[k % len(T_UNARY)](y)
    if y.ndim:
        dim = seed % y.ndim
        reduce = T_REDUCE[seed % len(T_REDUCE)] if y.shape[dim] else "sum"  # amax: not over an empty dim
        y = getattr(y, reduce)(dim, keepdim=keepdim)
    root = (y * y).sum()
    nodes, steps, received = _formula_sums(root)
    root.backward()
    _assert_match_engine(nodes, steps, received)


def test_tensor_steps_match_torch():
    """The steps' gradients of the tensor MLP are torch's (float64, every intermediate retained)."""
    torch = pytest.importorskip("torch")
    root, params = _build("mlp_tanh_ce")
    steps = backward_steps(root, params)
    tp = {k: torch.tensor(v.detach().numpy(), requires_grad=True) for k, v in params.items()}
    x = torch.tensor(_rng().normal(size=(6, 3)))
    h = x
    for k in (0, 2, 4):
        h = torch.nn.functional.linear(h, tp[f"{k}.weight"], tp[f"{k}.bias"])
        h = torch.tanh(h) if k < 4 else h
    loss = torch.nn.functional.cross_entropy(h, torch.tensor([0, 1, 1, 0, 1, 0]))
    loss.backward()
    by_name = {s.name: s for s in steps}
    for k, p in tp.items():
        np.testing.assert_allclose(by_name[k].grad, p.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert float(steps[0].value) == pytest.approx(loss.item(), rel=1e-12)


def test_tensor_text_shows_shapes():
    root, params = _build("mlp_tanh_ce")
    text = explain(root, params)
    assert re.search(r"∂0\.weight = gᵀ·v\d+  \(5×6 · 6×3\)", text), text
    assert "forward  " in text and "(6×3, 5×3, 5 → 6×5)" in text


def test_bad_roots():
    with pytest.raises(TypeError, match="Value or a Tensor"):
        backward_steps(3.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        backward_steps(Tensor([1.0, 2.0]).sum())
    freed = (Tensor([1.0, 2.0], requires_grad=True) * 2).sum()
    freed.backward()
    with pytest.raises(RuntimeError, match="freed"):  # ours, or the engine's once graphs keep their shape
        backward_steps(freed)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_nodes"):
            explore(neuron(), max_nodes=bad)


def test_a_tensor_root_with_many_elements_is_seeded_with_ones():
    """As ``backward(gradient=ones)``: the root's step gets ones, its input twice the ones."""
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    steps = backward_steps(x * 2.0)
    np.testing.assert_array_equal(steps[0].grad, np.ones(3))
    x_step = next(s for s in steps if s.name == "v1")
    np.testing.assert_array_equal(x_step.grad, np.full(3, 2.0))


def test_each_class_declares_its_own_formulas():
    """Primitives that share a ``name`` (two ``div``, two ``pow``) or derive from another (``fmin`` from
    ``fmax``) each have their own; variadic ones give one per input; subclasses inherit."""
    x = Tensor([3.0, -2.0], requires_grad=True)
    rounded, true = x.div(2.0, rounding_mode="floor").grad_fn, (x / 2.0).grad_fn
    assert rounded.name == true.name == "div"
    assert formulas_of(rounded, 2)[0][0].startswith("0 (a rounded quotient")
    assert formulas_of(true, 2)[1][0] == "−g ⊙ o / {1}"
    assert formulas_of((x ** 2.0).grad_fn, 1)[0][0] == "g ⊙ k·{0}^(k−1)"
    assert len(formulas_of((x ** x).grad_fn, 2)) == 2
    assert "≤" in formulas_of(autograd.fmin(x, x * 2).grad_fn, 2)[0][0]
    assert len(formulas_of(autograd.cat([x, x, x]).grad_fn, 3)) == 3
    assert formulas_of(x.floor().grad_fn, 1)[0][0] == "0 (piecewise constant)"  # from its base, _Step
    assert formulas_of(object(), 1) is None
    node = (x * 2).grad_fn
    node.formulas = (("its own", None), ("its own", None))  # a node's own (a custom Function's call) first
    assert formulas_of(node, 2)[0][0] == "its own" and formulas_of((x * 2).grad_fn, 2)[0][0] == "g ⊙ {1}"


def test_a_node_without_formulas_or_numbers_still_makes_its_step(monkeypatch):
    """A class with no ``formulas`` says so; one whose fn is None (a custom Function) shows its text."""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    cls = type((x.exp()).grad_fn)
    monkeypatch.delattr(cls, "formulas")
    rule = next(r for s in backward_steps(x.exp().sum()) for r in s.rules if r.name == "v2")
    assert "no formula declared for 'exp'" in rule.formula and rule.local is None
    monkeypatch.setattr(cls, "formulas", (("g ⊙ e^{0}", None),), raising=False)
    rule = next(r for s in backward_steps(x.exp().sum()) for r in s.rules if r.name == "v2")
    assert rule.formula == "∂v2 = g ⊙ e^v2" and rule.local is None
    assert rule.accumulate == "v2.grad += 2 tensor (no numbers: the formula has no NumPy form)"
    monkeypatch.setattr(cls, "formulas", (("Σ_{j} g_j e^{x_j}", None),))  # braces of its own: as written
    rule = next(r for s in backward_steps(x.exp().sum()) for r in s.rules if r.name == "v2")
    assert rule.formula == "∂v2 = Σ_{j} g_j e^{x_j}"


# -- the page -----------------------------------------------------------------------------------------
def _data(page):
    m = re.search(r'<script id="explore-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def test_page_is_self_contained(tmp_path):
    path = tmp_path / "neuron.html"
    result = explore(neuron(), path=str(path))
    page = path.read_text(encoding="utf-8")
    assert page == result.html
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page, re.I)
    assert not re.search(r"url\((?!#)", page)  # CSS may only point at the page's own markers
    data = _data(page)
    assert data["layout"] in ("dot", "layers")
    assert [n[0] for n in data["nodes"]][:2] == ["o", "n"]
    assert len(data["steps"]) == len(data["forward"]) == 10
    assert result.save(str(tmp_path / "again.html")) == str(tmp_path / "again.html")


def test_labels_cannot_break_out_of_the_page():
    x = Value(1.0, label="</script><script>alert(1)</script>")
    page = explore(x * 2).html
    assert page.count("</script>") == 2
    assert _data(page)["nodes"][1][0] == "</script><script>alert(1)</script>"


def test_jupyter_display_is_an_isolated_iframe():
    page = explore(neuron())._repr_html_()
    assert page.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in page
    assert "<script" not in page  # escaped inside srcdoc


def test_layered_layout_without_dot(monkeypatch):
    import graphviz

    def missing(*a, **k):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Source, "pipe", missing)
    data = _data(explore(neuron()).html)
    assert data["layout"] == "layers"
    xs = {n[0]: n[3] for n in data["nodes"]}
    assert xs["x1"] < xs["x1w1"] < xs["n"] < xs["o"]  # inputs left, root right


def test_layered_layout_keeps_clusters_that_do_not_overlap(monkeypatch):
    monkeypatch.setattr(explore_mod, "DOT_LIMIT", 0)
    root, params = _build("mlp_tanh_ce")
    data = _data(explore(root, params=params).html)
    assert data["layout"] == "layers"
    assert [c[0] for c in data["clusters"]] == ["0", "2", "4"] and data["dropped_clusters"] == 0
    boxes = [c[1:] for c in data["clusters"]]
    for k, (x, y, w, h) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[k + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y
    boxes = [[0, 0, 10, 10], [5, 5, 10, 10], [30, 30, 5, 5], [10, 0, 5, 5]]  # the last only touches
    assert explore_mod._without_overlaps(boxes) == [None, None, [30, 30, 5, 5], [10, 0, 5, 5]]


@pytest.mark.parametrize("layout", ["dot", "layers"])
def test_max_nodes_folds_the_far_part(layout, monkeypatch):
    """The far nodes are in the page, laid out left of the rest in their frame, folded into "… K more"
    (the browser unfolds them); every edge between nodes of the page is drawn once."""
    if layout == "layers":
        monkeypatch.setattr(explore_mod, "DOT_LIMIT", 0)
    root = value_mlp()
    _, parents, _ = _walk(root)
    total = len(parents)
    data = _data(explore(root, max_nodes=20).html)
    assert data["layout"] == data["far_layout"] == layout
    assert data["kept"] == 20 and data["total"] == total and data["far"] == total - 20
    assert data["nodes"][-1][0] == f"… {total - 20} more nodes" and data["nodes"][-1][2] == "more"
    assert data["info"][-1] == {"more": total - 20, "opens": True}
    assert len(data["nodes"]) == total + 1 and len(data["steps"]) == total and data["hidden_steps"] == 0
    fx, fy, fw, fh = data["far_box"]
    for n in data["nodes"][20:-1]:
        assert fx <= n[3] and n[3] + n[5] <= fx + fw and fy <= n[4] and n[4] + n[6] <= fy + fh
        assert n[3] + n[5] < 0, "the far part is left of the drawn part"
    assert all(n[3] >= 0 for n in data["nodes"][:20] + data["nodes"][-1:])
    edges = [(j, i) for j, i, _ in data["edges"]]
    more = total  # the "more" node's index: after every node of the page
    graph = sorted((j, i) for i, ps in enumerate(parents) for j in ps)
    assert sorted(e for e in edges if more not in e) == graph
    assert {i for j, i in edges if j == more} == {i for i in range(20) if any(j >= 20 for j in parents[i])}
    assert all(d.startswith("M") for _, _, d in data["edges"])

    monkeypatch.setattr(explore_mod, "BIG_PAGE", total - 1)  # the graph does not fit: the far part stays out
    data = _data(explore(root, max_nodes=20).html)
    assert data["far"] == 0 and data["far_box"] is None and len(data["nodes"]) == 21
    assert len(data["steps"]) + data["hidden_steps"] == total and all(s[0] < 20 for s in data["steps"])
    assert data["info"][-1] == {"more": total - 20, "opens": False}


def test_module_clusters():
    root, params = _build("mlp_tanh_ce")
    data = _data(explore(root, params=params).html)
    assert [c[0] for c in data["clusters"]] == ["0", "2", "4"]
    members = {data["clusters"][n[7]][0] for n in data["nodes"] if n[7] >= 0}
    assert members == {"0", "2", "4"}
    assert _data(explore(root, params=params, group_modules=False).html)["clusters"] == []


def test_big_pages_warn(monkeypatch):
    monkeypatch.setattr(explore_mod, "BIG_PAGE", 5)
    with pytest.warns(UserWarning, match="max_nodes="):
        explore(neuron())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explore(neuron(), max_nodes=5)
    with pytest.warns(UserWarning):
        explore(neuron(), max_nodes=6)


def test_micrograd_mlp_page_stays_small():
    """micrograd's 2-16-16-1 MLP of Values on 4 points: about 3000 nodes, under 3 MB of HTML."""
    rng = np.random.default_rng(1)
    sizes = [2, 16, 16, 1]
    w = [[([Value(float(rng.uniform(-1, 1))) for _ in range(sizes[k])], Value(0.0))
          for _ in range(sizes[k + 1])] for k in range(3)]
    loss = Value(0.0)
    for xs, y in (([0.5, -1.0], 1.0), ([1.0, 0.2], -1.0), ([-0.3, 0.8], 1.0), ([0.1, 0.1], -1.0)):
        h = [Value(x) for x in xs]
        for k, layer in enumerate(w):
            h = [sum((wi * hi for wi, hi in zip(ws, h)), b) for ws, b in layer]
            h = [v.tanh() for v in h] if k < 2 else h
        loss = loss + (h[0] - y) ** 2
    assert len(_nodes(loss)) > 2500
    size = len(explore(loss).html.encode("utf-8"))
    assert size < 3e6, f"{size / 1e6:.2f} MB"


def test_ten_thousand_nodes():
    x = Value(0.5, label="x")
    y = x
    for _ in range(3400):
        y = (y * 0.999).tanh()
    data = _data(explore(y).html)
    assert data["total"] == len(data["nodes"]) > 10_000
    assert data["layout"] == "layers"  # dot would take minutes
    assert len(data["steps"]) == data["total"]


def test_demo_writes_both_pages(tmp_path):
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from demos import explore as demo
    report = demo.main(str(tmp_path), quiet=True, screenshot=False)
    for name in ("neuron.html", "mlp.html"):
        page = (tmp_path / name).read_text(encoding="utf-8")
        assert _data(page)["steps"]
    assert report["neuron_nodes"] == 10
    assert explore_mod.DOT_LIMIT >= report["mlp_nodes"]
