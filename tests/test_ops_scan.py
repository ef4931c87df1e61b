"""Scans (cumsum, cumprod, cummax, cummin, logcumsumexp) against torch float64: values, gradients,
second order, finite differences; zeros in cumprod, ties and nans in cummax/cummin, huge inputs in
logcumsumexp; 0-d and size-0 inputs; Hypothesis over random shapes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_ops_reduce import SETTINGS, Cases, arrays, rn, shapes

from autograd import Tensor
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

C = Cases()
X = rn(3, 4, 5)
ZEROS = np.array([[1.5, 0.0, -2.0, 3.0, 0.5], [0.5, 2.0, -1.0, 4.0, 0.0], [0.0, 0.0, 3.0, 1.0, 2.0],
                  [2.0, 0.0, 0.0, 0.0, 1.0]])
TIES = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [3.0, 1.0, 1.0, 2.0, 0.5]])
NANS = np.array([[1.0, np.nan, 0.0, np.nan, 5.0], [2.0, -1.0, np.nan, 3.0, 3.0]])
BIG = np.array([[1000.0, -1000.0, 0.0, 1000.0], [-1000.0, -1000.0, 50.0, -3.0]])

for dim in (0, 1, -1):
    for op in ("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"):
        C.add(f"{op}-dim{dim}", lambda a, op=op, d=dim: getattr(a, op)(d), X)
        C.add(f"{op}-module-dim{dim}", lambda a, op=op, d=dim: getattr(module_of(a), op)(a, dim=d), X[0])
    C.add(f"cumprod-zeros-dim{dim}", lambda a, d=dim: a.cumprod(d), ZEROS)
for op in ("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"):
    C.add(f"{op}-0d", lambda a, op=op: getattr(a, op)(0), np.array(0.7))
    C.add(f"{op}-1d", lambda a, op=op: getattr(a, op)(-1), rn(6))
C.add("cumprod-one-zero-1d", lambda a: a.cumprod(0), np.array([2.0, 3.0, 0.0, 4.0, 5.0]))
C.add("cumprod-first-zero", lambda a: a.cumprod(0), np.array([0.0, 3.0, -2.0]))
C.add("cumprod-all-zeros", lambda a: a.cumprod(0), np.zeros(4))
C.add("cumprod-twice", lambda a: a.cumprod(1).cumprod(0), ZEROS[:3, :3].copy())
C.add("cumsum-dtype", lambda a: a.float().cumsum(0, dtype=torch.float64 if module_of(a) is torch
                                                  else np.float64), X, fd=False, rtol=1e-5)  # float32 rounds
C.add("cumprod-dtype", lambda a: a.float().cumprod(1, dtype=torch.float64 if module_of(a) is torch
                                                   else "float64"), X, fd=False, rtol=1e-5)
C.add("cummax-ties", lambda a: a.cummax(1), TIES, fd=False)  # ties: the latest index, as torch (a kink)
C.add("cummin-ties", lambda a: a.cummin(1), TIES, fd=False)
C.add("cummax-nan", lambda a: a.cummax(1), NANS, fd=False)
C.add("cummin-nan", lambda a: a.cummin(1), NANS, fd=False)
C.add("logcumsumexp-huge", lambda a: a.logcumsumexp(1), BIG)
C.add("logcumsumexp-huge-dim0", lambda a: a.logcumsumexp(0), BIG)
C.add("logcumsumexp-chain", lambda a: (a.logcumsumexp(1) * a).sum(), rn(3, 4))
C.add("cumsum-chain", lambda a: (a.cumsum(1) ** 2).cumsum(0), rn(3, 4))


test_matches_torch, test_gradcheck = C.tests()


def test_cumprod_gradient_with_zeros_is_exact():
    # d cumprod_j / d x_i = prod_{l <= j, l != i} x_l: no 0 / 0 where x has zeros
    x = Tensor(np.array([2.0, 0.0, 3.0, 0.0]), requires_grad=True)
    x.cumprod(0).sum().backward()
    # out = [2, 0, 0, 0]: d/dx0 = 1; d/dx1 = 2 + 2*3 + 0 = 8; d/dx2 = 0; d/dx3 = 0
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 8.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.int64, np.float32])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_integer_scans_give_int64_as_torch(op, dtype):
    a = np.array([[1, 0, 1], [1, 1, 1]]).astype(dtype)
    ours, theirs = getattr(Tensor(a), op)(1), getattr(torch.tensor(a), op)(1)
    assert ours.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"])
def test_size_0_and_dim_required(op):
    a = np.zeros((2, 0))
    for dim in (0, 1):
        ours, theirs = getattr(Tensor(a), op)(dim), getattr(torch.tensor(a), op)(dim)
        ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
        for o, t in zip(ours, theirs):
            assert o.shape == tuple(t.shape) and o.dtype == t.numpy().dtype
    with pytest.raises(TypeError):
        getattr(Tensor(a), op)()
    with pytest.raises(IndexError, match="Dimension out of range"):
        getattr(Tensor(rn(2, 3)), op)(2)


OPS = {
    "cumsum": lambda t, d: t.cumsum(d),
    "cumprod": lambda t, d: t.cumprod(d),
    "logcumsumexp": lambda t, d: t.logcumsumexp(d),
    "cummax": lambda t, d: t.cummax(d),
    "cummin": lambda t, d: t.cummin(d),
}


@pytest.mark.parametrize("op", list(OPS))
@SETTINGS
@given(data=st.data())
def test_random_shapes_match_torch(op, data):
    shape = data.draw(shapes())
    elements = st.one_of(st.just(0.0), st.floats(-2, 2, width=64)) if op == "cumprod" else st.floats(-3, 3)
    x = data.draw(arrays(shape, elements, unique=op in ("cummax", "cummin")))
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    assert_grads_match_torch(lambda t: OPS[op](t, dim), x, second_order=True)


@SETTINGS
@given(data=st.data())
def test_inputs_unchanged_and_grads_not_aliased(data):
    x0 = data.draw(hnp.arrays(np.float64, data.draw(shapes()), elements=st.floats(-2, 2)))
    x = Tensor(x0, requires_grad=True)
    v = np.ones(x0.shape)
    outs = [op(x, 0) for op in OPS.values()]
    for out in outs:
        out = out[0] if isinstance(out, tuple) else out
        out.backward(gradient=v)
    np.testing.assert_array_equal(x.detach().numpy(), x0)
    np.testing.assert_array_equal(v, np.ones(x0.shape))
    assert not np.shares_memory(x.grad.numpy(), x0) and not np.shares_memory(x.grad.numpy(), v)
