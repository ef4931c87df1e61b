"""Property tests for ``Tensor`` (MyGrad's recipe): random broadcastable shapes and values for binary
ops, matmul and reductions, compared with torch float64 (first and second order); and, beyond the
numbers, that inputs are not mutated and that gradients alias neither each other, nor the inputs,
nor the gradient the user passed in.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)

ANY = st.floats(-3, 3, allow_nan=False, width=64)
NONZERO = st.one_of(st.floats(-3, -0.25), st.floats(0.25, 3))
POSITIVE = st.floats(0.25, 3)


def arrays(shape, elements=ANY, unique=False):
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique)


def shapes(num_shapes=2):
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=0, max_dims=3, max_side=3)


# name -> (fn, elements of a, elements of b)
BINARY = {
    "add": (lambda a, b: a + b, ANY, ANY),
    "sub": (lambda a, b: a - b, ANY, ANY),
    "mul": (lambda a, b: a * b, ANY, ANY),
    "div": (lambda a, b: a / b, ANY, NONZERO),
    "pow": (lambda a, b: a ** b, POSITIVE, st.floats(-2, 2)),
    "maximum": (lambda a, b: module_of(a).maximum(a, b), ANY, ANY),  # hypothesis likes ties: split
    "minimum": (lambda a, b: module_of(a).minimum(a, b), ANY, ANY),
    "mixed": (lambda a, b: (a * b).tanh() - a.sigmoid() / (1.0 + b * b), ANY, ANY),
}


@pytest.mark.parametrize("name", list(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_ops_match_torch(name, data):
    fn, ea, eb = BINARY[name]
    (sa, sb), _ = data.draw(shapes())
    a, b = data.draw(arrays(sa, ea)), data.draw(arrays(sb, eb))
    assert_grads_match_torch(fn, a, b, second_order=True, rtol=1e-6, atol=1e-8)


@SETTINGS
@given(data=st.data())
def test_where_matches_torch(data):
    (sc, sa, sb), _ = data.draw(shapes(3))
    c = data.draw(hnp.arrays(np.bool_, sc))
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    assert_grads_match_torch(lambda c, a, b: module_of(a).where(c, a * b, b.exp()), c, a, b,
                             second_order=True)


@SETTINGS
@given(data=st.data())
def test_matmul_matches_torch(data):
    (sa, sb), _ = data.draw(hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=2, max_side=3))
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    assert_grads_match_torch(lambda a, b: a @ b, a, b, second_order=True)


REDUCTIONS = ["sum", "mean", "amax", "amin", "var", "std", "logsumexp"]  # max(dim): tests/test_ops_reduce.py


def dims(ndim):
    """None, an int (possibly negative) or a tuple of distinct dims."""
    if ndim == 0:
        return st.sampled_from([None, 0, -1])
    one = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.one_of(st.none(), one, many)


@pytest.mark.parametrize("op", REDUCTIONS)
@SETTINGS
@given(data=st.data())
def test_reductions_match_torch(op, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    x = data.draw(arrays(shape))  # ties and equal values included: the std of equal values has grad 0
    dim = data.draw(dims(len(shape)))
    keepdim = data.draw(st.booleans())
    axes = tuple(range(len(shape))) if dim is None else (dim,) if isinstance(dim, int) else dim
    n = int(np.prod([shape[d] for d in axes])) if shape else 1
    assume(op not in ("var", "std") or n >= 2)

    def fn(t):
        if isinstance(t, torch.Tensor):
            d = tuple(range(t.ndim)) if dim is None else dim
            return getattr(t, {"max": "amax", "min": "amin"}.get(op, op))(dim=d, keepdim=keepdim)
        return getattr(t, op)(dim=dim, keepdim=keepdim)

    assert_grads_match_torch(fn, x, second_order=True)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@SETTINGS
@given(data=st.data())
def test_softmax_matches_torch(op, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(arrays(shape, elements=st.floats(-1e3, 1e3)))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert_grads_match_torch(lambda t: getattr(t, op)(dim), x, second_order=True, atol=1e-7)


# -- no mutation, no aliasing ------------------------------------------------------------------------
def assert_no_aliasing(arrays_by_name):
    names = list(arrays_by_name)
    for i, p in enumerate(names):
        for q in names[i + 1:]:
            assert not np.shares_memory(arrays_by_name[p], arrays_by_name[q]), f"{p} shares memory with {q}"


OPS_FOR_ALIASING = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "same-input-twice": lambda a, b: a + a + b,
    "expand": lambda a, b: a.expand(*np.broadcast_shapes(a.shape, b.shape)) + b,
    "reshape-transpose": lambda a, b: (a + b).reshape(-1).reshape((a + b).shape).T,
    "index": lambda a, b: (a + b)[..., None],
    "where": lambda a, b: autograd.where(a > 0, a, b),
    "cat": lambda a, b: autograd.cat([(a + b).reshape(-1), a.reshape(-1), b.reshape(-1)]),
}


@pytest.mark.parametrize("name", list(OPS_FOR_ALIASING))
@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data())
def test_inputs_unchanged_and_grads_not_aliased(name, data):
    fn = OPS_FOR_ALIASING[name]
    (sa, sb), _ = data.draw(shapes())
    a0, b0 = data.draw(arrays(sa)), data.draw(arrays(sb))
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    out = fn(a, b)
    out.retain_grad()
    v = np.random.default_rng(0).standard_normal(out.shape)
    v0 = v.copy()
    out.backward(gradient=v)
    np.testing.assert_array_equal(a.detach().numpy(), a0)
    np.testing.assert_array_equal(b.detach().numpy(), b0)
    np.testing.assert_array_equal(v, v0)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape and out.grad.shape == out.shape
    assert_no_aliasing({"a.data": a.detach().numpy(), "b.data": b.detach().numpy(),
                        "a.grad": a.grad.detach().numpy(), "b.grad": b.grad.detach().numpy(),
                        "out.grad": out.grad.detach().numpy(), "gradient": v,
                        "out.data": out.detach().numpy()})
    # a second backward accumulates into fresh arrays, never into the previous gradient in place
    first = a.grad.detach().numpy()
    first0 = first.copy()
    fn(a, b).backward(gradient=v)
    np.testing.assert_array_equal(first, first0)
    np.testing.assert_allclose(a.grad.detach().numpy(), 2 * first0)


@SETTINGS
@given(data=st.data())
def test_grads_of_a_reduction_not_aliased(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    x0 = data.draw(arrays(shape))
    x = Tensor(x0, requires_grad=True)
    h = x * 1.0
    h.retain_grad()
    h.sum().backward()  # the gradient of a sum is a broadcast view of one number
    np.testing.assert_array_equal(x.detach().numpy(), x0)
    assert x.grad.detach().numpy().flags.writeable and h.grad.detach().numpy().flags.writeable
    assert not np.shares_memory(x.grad.detach().numpy(), h.grad.detach().numpy())
    x.grad.detach().numpy()[...] = 0.0  # writable and owned: must not change h.grad
    np.testing.assert_array_equal(h.grad.detach().numpy(), np.ones(shape))


@SETTINGS
@given(data=st.data())
def test_autograd_grad_results_not_aliased(data):
    (sa, sb), _ = data.draw(shapes())
    a = Tensor(data.draw(arrays(sa)), requires_grad=True)
    b = Tensor(data.draw(arrays(sb)), requires_grad=True)
    out = a + b
    v = Tensor(np.ones(out.shape))
    ga, gb = autograd.grad(out, [a, b], grad_outputs=v)
    for g in (ga, gb):
        for other in (a.detach().numpy(), b.detach().numpy(), v.detach().numpy()):
            assert not np.shares_memory(g.detach().numpy(), other)
    assert not np.shares_memory(ga.detach().numpy(), gb.detach().numpy())
