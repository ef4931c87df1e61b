"""The normalisations' one node, ``Standardize``: ``batch_norm`` (training and eval), ``layer_norm``,
``instance_norm`` and ``group_norm`` against torch in float64 (values, gradients, second order), by
finite differences (gradcheck, gradgradcheck, third order), in float32, their running statistics,
torch's errors and edge cases (size-0, one value, nan, eps), random shapes (Hypothesis), and the graph:
one node per standardisation, the statistics computed once."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd
import nn
from autograd import Tensor
from autograd.ops import nnfunc
from autograd.testing import assert_grads_match_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional

R = np.random.default_rng(1818)


def rn(*shape):
    return R.standard_normal(shape)


def F(x):
    """``torch.nn.functional`` for torch tensors, ``nn.functional`` for ours."""
    return TF if isinstance(x, torch.Tensor) else nn.functional


def running(c, dtype=np.float64):
    """Running statistics ``(mean, var)`` of ``c`` channels, as arrays."""
    return np.linspace(-0.5, 0.5, c, dtype=dtype), np.linspace(0.5, 2.0, c, dtype=dtype)


def stats(x, c):
    """``running(c)`` in ``x``'s library and dtype."""
    rm, rv = running(c, np.float32 if str(x.dtype).endswith("float32") else np.float64)
    wrap = torch.tensor if isinstance(x, torch.Tensor) else Tensor
    return wrap(rm), wrap(rv)


def bn(x, w=None, b=None, training=True, eps=1e-5, track=True):
    rm, rv = stats(x, x.shape[1]) if track else (None, None)
    return F(x).batch_norm(x, rm, rv, w, b, training=training, momentum=0.3, eps=eps)


def inorm(x, w=None, b=None, use_input_stats=True, eps=1e-5):
    rm, rv = stats(x, x.shape[1])
    return F(x).instance_norm(x, rm, rv, w, b, use_input_stats=use_input_stats, momentum=0.3, eps=eps)


CASES = {
    "batch_norm-2d-affine": (lambda x, w, b: bn(x, w, b), rn(4, 3, 3, 2), rn(3), rn(3)),
    "batch_norm-1d": (lambda x: bn(x), rn(5, 3)),
    "batch_norm-3d-weight": (lambda x, w: bn(x, w), rn(2, 3, 4), rn(3)),
    "batch_norm-5d-bias": (lambda x, b: bn(x, b=b), rn(2, 2, 2, 3, 2), rn(2)),
    "batch_norm-no-running-stats": (lambda x, w, b: bn(x, w, b, track=False), rn(3, 2, 3), rn(2), rn(2)),
    "batch_norm-eps": (lambda x: bn(x, eps=0.7), rn(2, 3, 2, 2)),
    "batch_norm-two-values": (lambda x: bn(x), rn(2, 3)),
    "batch_norm-eval-affine": (lambda x, w, b: bn(x, w, b, training=False), rn(4, 3, 2, 2), rn(3), rn(3)),
    "batch_norm-eval": (lambda x: bn(x, training=False, eps=0.1), rn(3, 4)),
    "layer_norm-last": (lambda x: F(x).layer_norm(x, (4,)), rn(3, 4)),
    "layer_norm-two-dims-affine": (lambda x, w, b: F(x).layer_norm(x, (3, 4), w, b), rn(2, 3, 4), rn(3, 4),
                                   rn(3, 4)),
    "layer_norm-weight": (lambda x, w: F(x).layer_norm(x, (5,), w), rn(2, 2, 5), rn(5)),
    "layer_norm-bias-eps": (lambda x, b: F(x).layer_norm(x, (5,), None, b, eps=0.5), rn(3, 5), rn(5)),
    "layer_norm-1d-input": (lambda x: F(x).layer_norm(x, (6,)), rn(6)),
    "layer_norm-whole": (lambda x: F(x).layer_norm(x, (2, 3, 2)), rn(2, 3, 2)),
    "layer_norm-one-element": (lambda x: F(x).layer_norm(x, (1,)), rn(3, 1)),
    "instance_norm-2d-affine": (lambda x, w, b: inorm(x, w, b), rn(2, 3, 4, 3), rn(3), rn(3)),
    "instance_norm-1d": (lambda x: inorm(x, eps=1e-3), rn(2, 3, 5)),
    "instance_norm-3d": (lambda x: F(x).instance_norm(x), rn(1, 2, 2, 3, 2)),
    "instance_norm-running": (lambda x, w: inorm(x, w, use_input_stats=False), rn(2, 3, 4), rn(3)),
    "group_norm-2": (lambda x, w, b: F(x).group_norm(x, 2, w, b), rn(2, 4, 3, 2), rn(4), rn(4)),
    "group_norm-1": (lambda x: F(x).group_norm(x, 1), rn(3, 4, 2)),
    "group_norm-per-channel": (lambda x, w: F(x).group_norm(x, 3, w, eps=0.2), rn(2, 3, 5), rn(3)),
    "group_norm-no-spatial": (lambda x: F(x).group_norm(x, 2), rn(3, 4)),
    # torch's group_norm cannot differentiate a bias without a weight ("tensor does not have a device"):
    # its side has a weight of ones
    "group_norm-3d-bias": (lambda x, b: F(x).group_norm(x, 2, torch.ones(4, dtype=x.dtype) if F(x) is TF
                                                         else None, b), rn(2, 4, 2, 2, 2), rn(4)),
    # size-0 batches and groups, a nan in one row (the other rows keep their numbers)
    "batch_norm-empty-spatial": (lambda x: bn(x), rn(2, 3, 0)),
    "batch_norm-empty-batch": (lambda x, w, b: bn(x, w, b), rn(0, 3), rn(3), rn(3)),
    "layer_norm-empty-batch": (lambda x, w: F(x).layer_norm(x, (4,), w), rn(0, 4), rn(4)),
    "layer_norm-empty-shape": (lambda x: F(x).layer_norm(x, (0,)), rn(3, 0)),
    "instance_norm-empty": (lambda x: F(x).instance_norm(x), rn(2, 3, 0)),
    "group_norm-empty-batch": (lambda x: F(x).group_norm(x, 2), rn(0, 4, 3)),
    "layer_norm-nan-row": (lambda x: F(x).layer_norm(x, (3,)),
                           np.array([[1.0, np.nan, 2.0], [0.5, -1.0, 3.0]])),
    "layer_norm-inf-row": (lambda x: F(x).layer_norm(x, (2,)), np.array([[np.inf, 1.0], [0.5, -1.0]])),
}


# torch's own double backward fails with a bias but no weight ("Expected a proper Tensor but got None"):
# there second order is checked by finite differences only
BIAS_ONLY = {"batch_norm-5d-bias", "layer_norm-bias-eps"}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch_to_second_order(name):
    fn, *arrays = CASES[name]
    assert_grads_match_torch(fn, *arrays, second_order=name not in BIAS_ONLY, rtol=1e-7, atol=1e-9)


FD_CASES = sorted(BIAS_ONLY) + ["group_norm-3d-bias", "batch_norm-2d-affine", "batch_norm-eps",
                                "layer_norm-two-dims-affine", "instance_norm-2d-affine", "group_norm-2",
                                "layer_norm-one-element"]


def _leaves(arrays):
    return [Tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", FD_CASES)
def test_gradcheck_and_gradgradcheck(name):
    fn, *arrays = CASES[name]
    assert autograd.gradcheck(fn, _leaves(arrays))
    assert autograd.gradgradcheck(fn, _leaves(arrays))


def test_third_order_by_finite_differences():
    """The rule's factor ``rstd`` is a node of its own (``InvStd``) whose rule is built of primitives
    too, so every order exists."""
    assert autograd.gradcheck(lambda x: nn.functional.layer_norm(x, (3,)), _leaves([rn(2, 3)]), order=3)
    assert autograd.gradcheck(lambda x: bn(x), _leaves([rn(3, 2)]), order=3)


@pytest.mark.parametrize("name", ["batch_norm-2d-affine", "batch_norm-eval-affine",
                                  "layer_norm-two-dims-affine", "instance_norm-2d-affine", "group_norm-2"])
def test_float32_close_to_torch(name):
    fn, *arrays = CASES[name]
    arrays = [a.astype(np.float32) for a in arrays]
    ours, theirs = _leaves(arrays), [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = fn(*ours), fn(*theirs)
    v = R.standard_normal(y.shape).astype(np.float32)
    y.backward(Tensor(v))
    yt.backward(torch.tensor(v))
    assert y.dtype == np.float32 and all(t.grad.dtype == np.float32 for t in ours)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=2e-6)
    for t, tt in zip(ours, theirs):
        np.testing.assert_allclose(t.grad.detach().numpy(), tt.grad.numpy(), rtol=1e-4, atol=2e-5)


# -- running statistics -------------------------------------------------------------------------------
@pytest.mark.parametrize("norm, shape", [(bn, (4, 3, 2, 2)), (bn, (5, 3)), (inorm, (3, 2, 4)),
                                         (inorm, (2, 2, 3, 2))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_running_statistics_match_torch(norm, shape, dtype):
    """Updated in place over two calls: the batch mean and the unbiased variance (instance norm: their
    means over the batch), with torch's momentum."""
    arrays = running(shape[1], dtype)
    rm, rv = (Tensor(a.copy()) for a in arrays)
    trm, trv = (torch.tensor(a) for a in arrays)
    for _ in range(2):
        a = rn(*shape).astype(dtype) * 2 + 1
        if norm is bn:
            nn.functional.batch_norm(Tensor(a), rm, rv, training=True, momentum=0.3)
            TF.batch_norm(torch.tensor(a), trm, trv, training=True, momentum=0.3)
        else:
            nn.functional.instance_norm(Tensor(a), rm, rv, use_input_stats=True, momentum=0.3)
            TF.instance_norm(torch.tensor(a), trm, trv, use_input_stats=True, momentum=0.3)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(rm.detach().numpy(), trm.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(rv.detach().numpy(), trv.numpy(), rtol=tol, atol=tol)
    assert rm.dtype == dtype and rv.dtype == dtype


@pytest.mark.parametrize("shape", [(0, 3), (2, 3, 0)])
def test_an_empty_batch_leaves_the_running_statistics(shape):
    rm, rv = Tensor(np.zeros(3)), Tensor(np.ones(3))
    y = nn.functional.batch_norm(Tensor(np.zeros(shape)), rm, rv, training=True)
    assert y.shape == shape
    np.testing.assert_array_equal(rm.detach().numpy(), np.zeros(3))
    np.testing.assert_array_equal(rv.detach().numpy(), np.ones(3))


# -- errors -------------------------------------------------------------------------------------------
ERRORS = {
    "batch_norm-one-value-per-channel": (ValueError, "more than 1 value per channel",
                                         lambda x: bn(x), (1, 3)),
    "batch_norm-one-value-1x1": (ValueError, "more than 1 value per channel", lambda x: bn(x), (1, 2, 1, 1)),
    "instance_norm-one-spatial": (ValueError, "more than 1 spatial element", lambda x: inorm(x), (2, 3, 1)),
    "group_norm-one-value-per-group": (ValueError, "more than 1 value per channel",
                                       lambda x: F(x).group_norm(x, 2), (1, 2)),
    "layer_norm-no-shape": (RuntimeError, "at least 1-dimensional", lambda x: F(x).layer_norm(x, ()), (3, 4)),
    "layer_norm-wrong-shape": (RuntimeError, "normalized", lambda x: F(x).layer_norm(x, (3,)), (3, 4)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_as_torch(name):
    kind, text, fn, shape = ERRORS[name]
    with pytest.raises(kind):
        fn(torch.zeros(shape, dtype=torch.float64))
    with pytest.raises(kind, match=text):
        fn(Tensor(np.zeros(shape)))


# -- the graph ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [lambda x: nn.functional.layer_norm(x, (2, 3)), lambda x: bn(x),
                                lambda x: nn.functional.instance_norm(x)])
def test_one_node_whose_parent_is_the_input(fn):
    x = Tensor(rn(4, 2, 3), requires_grad=True)
    y = fn(x)
    assert y.grad_fn.name == "standardize" and y._prev[0] is x


def test_batch_norm2d_is_two_nodes():
    """``Standardize`` then ``Affine`` (``y * weight + bias`` with both parameters, one node)."""
    layer = nn.BatchNorm2d(3)
    x = Tensor(rn(4, 3, 2, 2).astype(np.float32), requires_grad=True)
    y = layer(x)
    assert y.grad_fn.name == "affine" and y._prev[1] is layer.weight and y._prev[2] is layer.bias
    assert y._prev[0].grad_fn.name == "standardize" and y._prev[0]._prev[0] is x


def test_parameters_given_as_arrays_or_in_another_dtype():
    """Constant (array) parameters, and float64 parameters beside a float32 input, as with separate ops:
    the result takes the promoted dtype."""
    a, w, b = rn(3, 4), rn(4), rn(4)
    ours = nn.functional.layer_norm(Tensor(a, requires_grad=True), (4,), w, b)
    theirs = TF.layer_norm(torch.tensor(a), (4,), torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    mixed = nn.functional.layer_norm(Tensor(a.astype(np.float32)), (4,), Tensor(w), Tensor(b))
    assert mixed.dtype == np.float64 and mixed.grad_fn is None
    np.testing.assert_allclose(mixed.detach().numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_group_norm_is_one_node_between_reshapes():
    x = Tensor(rn(2, 4, 3), requires_grad=True)
    y = nn.functional.group_norm(x, 2)
    node = y._prev[0]
    assert y.grad_fn.name == "reshape" and node.grad_fn.name == "standardize"
    assert node._prev[0].grad_fn.name == "reshape" and node._prev[0]._prev[0] is x


def test_batch_norm_computes_the_statistics_once(monkeypatch):
    """The forward's mean and variance serve the running statistics; the backward reuses its rstd."""
    calls = []
    moments = nnfunc._centred_moments
    monkeypatch.setattr(nnfunc, "_centred_moments", lambda *a: calls.append(1) or moments(*a))
    layer = nn.BatchNorm2d(3)
    x = Tensor(rn(4, 3, 2, 2), requires_grad=True)
    layer(x).sum().backward()
    assert len(calls) == 1


def test_a_strided_input_is_neither_changed_nor_aliased():
    """A strided input (an NHWC-backed NCHW view, as conv gives) keeps its numbers; nothing shares
    memory with the input."""
    a = np.ascontiguousarray(rn(4, 2, 3, 3).transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    a0 = a.copy()
    x = Tensor(a, requires_grad=True)
    y = bn(x)
    v = rn(*y.shape)
    y.backward(Tensor(v))
    np.testing.assert_array_equal(x.detach().numpy(), a0)
    for arr in (y.detach().numpy(), x.grad.detach().numpy()):
        assert not np.shares_memory(arr, a)
    assert_grads_match_torch(lambda t: bn(t), a, second_order=True, rtol=1e-7, atol=1e-9)


# -- random shapes ------------------------------------------------------------------------------------
@st.composite
def norm_setups(draw):
    """(name, fn, array): a norm over random dims of a random shape (sides 0 to 3)."""
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=1, max_size=4)))
    a = np.random.default_rng(draw(st.integers(0, 2**31 - 1))).standard_normal(shape)
    eps = draw(st.sampled_from([1e-5, 0.3]))
    kind = draw(st.sampled_from(["layer", "batch", "group"] if len(shape) >= 2 else ["layer"]))
    if kind == "layer":
        k = draw(st.integers(1, len(shape)))
        return lambda x: F(x).layer_norm(x, shape[len(shape) - k:], eps=eps), a
    if kind == "group":
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if shape[1] % g == 0] or [1]))
        if a.shape[0] * a.shape[1] // groups * int(np.prod(shape[2:])) == 1:  # torch refuses one value
            a = np.concatenate([a, a + 1.0])
        return lambda x: F(x).group_norm(x, groups, eps=eps), a
    if shape[0] * int(np.prod(shape[2:])) == 1:
        a = np.concatenate([a, a + 1.0])
    return lambda x: bn(x, eps=eps), a


@settings(max_examples=40, deadline=None)
@given(norm_setups())
def test_random_shapes_match_torch(setup):
    fn, a = setup
    a0 = a.copy()
    assert_grads_match_torch(fn, a, second_order=True, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(a, a0)
