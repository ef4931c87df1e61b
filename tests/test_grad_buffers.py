"""The engine's buffer shortcuts: a leaf keeps a fresh gradient array without a copy, but never an array
someone else holds; ``where`` with a zero branch is bit-identical to ``np.where``."""
import numpy as np
import pytest
import torch

from autograd import Tensor
from autograd.primitive import Primitive
from autograd.ops.elementwise import Relu, ReluBackward, Where

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((3, 4))
G = rng.standard_normal((3, 4))

# name, function of (a, b) returning the output, backward's gradient (None: implicit ones of a sum)
CASES = [
    ("add passes g to both", lambda a, b: a + b, G),
    ("x + x", lambda a, b: a + a, G),
    ("sub", lambda a, b: a - b, G),
    ("mul", lambda a, b: a * b, G),
    ("identity reshape", lambda a, b: a.reshape(12).reshape(3, 4), G),
    ("matmul", lambda a, b: a @ b.T, G[:, :3]),
    ("transposed", lambda a, b: a.T, G.T),
    ("sum", lambda a, b: (a * b).sum(), None),
    ("broadcast bias", lambda a, b: a + b[0], G),
    # the primitives that declare fresh gradients (Primitive.fresh_grads: no aliasing scan)
    ("x * x", lambda a, b: a * a, G),
    ("div", lambda a, b: a / b, G),
    ("x / x", lambda a, b: a / a, G),
    ("neg", lambda a, b: -a, G),
    ("exp", lambda a, b: a.exp() * 1, G),
    ("log", lambda a, b: a.abs().log() + b.abs().log(), G),
    ("tanh", lambda a, b: a.tanh() + b.tanh(), G),
    ("sigmoid", lambda a, b: a.sigmoid(), G),
    ("x @ x.T", lambda a, b: a @ a.T, G[:, :3]),
    ("linear", lambda a, b: _linear(a, b, None), G[:, :3]),
    ("linear, bias", lambda a, b: _linear(a, b[:2], b[2, :2]), G[:, :2]),
]
FRESH = {"mul", "div", "neg", "exp", "log", "tanh", "sigmoid", "matmul", "linear"}  # each in CASES above


def _linear(x, w, b):
    if isinstance(x, Tensor):
        import nn.functional as F
        return F.linear(x, w, b)
    return torch.nn.functional.linear(x, w, b)


def test_every_primitive_declaring_fresh_gradients_is_checked_here():
    def subclasses(c):
        for s in c.__subclasses__():
            yield s
            yield from subclasses(s)
    declared = {c.name for c in subclasses(Primitive) if c.__dict__.get("fresh_grads")}
    assert declared == FRESH


@pytest.mark.parametrize("name, fn, g", CASES, ids=[c[0] for c in CASES])
def test_leaf_grads_match_torch_and_share_no_memory(name, fn, g):
    a, b = Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)
    gt = None if g is None else Tensor(g.copy())
    out = fn(a, b)
    out.backward(gt)
    ta, tb = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    tout = fn(ta, tb)
    tout.backward(None if g is None else torch.tensor(g))
    held = [A, B, a._data, b._data, out._data] + ([gt._data] if gt is not None else [])
    grads = [x.grad for x in (a, b) if x.grad is not None]
    for x, tx in ((a, ta), (b, tb)):
        assert (x.grad is None) == (tx.grad is None)
        if x.grad is not None:
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
            assert not any(np.shares_memory(x.grad._data, h) for h in held), name
    if len(grads) == 2:
        assert not np.shares_memory(grads[0]._data, grads[1]._data), name
    if gt is not None:
        np.testing.assert_array_equal(gt._data, g)  # the caller's gradient is untouched


def test_leaf_grad_changed_in_place_changes_nothing_else():
    a, b = Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)
    g = Tensor(G.copy())
    (a + b).backward(g)
    a.grad._data += 1.0
    np.testing.assert_array_equal(b.grad._data, G)
    np.testing.assert_array_equal(g._data, G)


def test_leaf_root_gradient_is_a_copy():
    x = Tensor(A, requires_grad=True)
    g = G.copy()
    x.backward(g)
    assert not np.shares_memory(x.grad._data, g)
    np.testing.assert_array_equal(x.grad._data, G)


def _specials(shape, dtype):
    a = rng.standard_normal(shape).astype(dtype)
    if a.size >= 4:
        a.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return a


SELECT = [(dtype, shape, cshape) for dtype in (np.float16, np.float32, np.float64)
          for shape, cshape in [((5, 7), (5, 7)), ((7,), (5, 7)), ((5, 7), (7,)), ((), ()), ((0, 3), (0, 3)),
                                ((), (3,))]]


@pytest.mark.parametrize("dtype, shape, cshape", SELECT)
def test_where_with_a_zero_branch_is_bitwise_np_where(dtype, shape, cshape):
    a = _specials(shape, dtype)
    cond = rng.random(cshape) > 0.5
    for x, y in ((a, 0.0), (0.0, a), (a, np.zeros((), dtype)), (np.zeros((), dtype), a)):
        ours, ref = Where().forward(cond, x, y), np.where(cond, x, y)
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        assert np.asarray(ours).tobytes() == np.asarray(ref).tobytes()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 7), (), (0, 3), (1,)])
def test_relu_backward_mask_from_bits_is_bitwise_np_where(dtype, shape):
    out = Relu().forward(_specials(shape, dtype))
    if out.size >= 6:
        out.flat[4:6] = [0.0, -np.nan]  # +0 and a nan with its sign bit set
    for g in (_specials(shape, dtype), -_specials(shape, dtype), np.full(shape, -0.0, dtype)):
        ours, ref = ReluBackward().forward(g, out), np.where(out <= 0, dtype(0), g)
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        assert np.asarray(ours).tobytes() == np.asarray(ref).tobytes()


def test_relu_gradient_at_specials_matches_torch():
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan, np.inf, -np.inf, 3.0])
    g = np.array([np.inf, np.nan, -1.0, -0.0, 5.0, 2.0, np.nan, -2.0])
    t = Tensor(x, requires_grad=True)
    t.relu().backward(Tensor(g))
    tt = torch.tensor(x, requires_grad=True)
    tt.relu().backward(torch.tensor(g))
    assert t.grad._data.tobytes() == tt.grad.numpy().tobytes()
