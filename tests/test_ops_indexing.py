"""Gather/scatter and indexing ops against PyTorch float64 (values, gradients for every differentiable
operand, second order, gradcheck), their in-place forms, torch's errors, and Hypothesis over random
shapes with 0-d and size-0 dims (inputs not mutated, gradients not aliased)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor
from autograd.testing import assert_grads_match_torch, module_of
from test_ops_shape import SETTINGS, Case, check_error, check_fresh_grads, run_case

torch = pytest.importorskip("torch")

R = np.random.default_rng(20261202)


def rn(*shape):
    return R.standard_normal(shape)


X = rn(3, 4)
IDX = np.array([[0, 2, 1, 0], [2, 2, 0, 1]])  # repeated targets along dim 0
ZEROS = X.copy()
ZEROS[0, 1] = 0.0
SRC_ZERO = rn(2, 4)
SRC_ZERO[1, 0] = 0.0
TIES = rn(2, 4)
TIES[0, 0] = X[0, 0]  # a tie between self and src
TIES[1, 1] = TIES[0, 1] = 5.0  # a tie between two srcs

CASES = [
    Case("gather-0", lambda a, i: a.gather(0, i), X, IDX),
    Case("gather-1-smaller-index", lambda a, i: module_of(a).gather(a, 1, i), X, IDX[:, :3]),
    Case("gather-0d", lambda a, i: a.gather(0, i), rn(), np.array(0)),
    Case("gather-empty", lambda a, i: a.gather(1, i), X, np.zeros((3, 0), dtype=np.int64)),
    Case("scatter-src", lambda a, s, i: a.scatter(0, i, s), X, rn(2, 4),
         np.array([[0, 2, 1, 0], [1, 0, 2, 2]])),
    Case("scatter-smaller-index", lambda a, s, i: module_of(a).scatter(a, 1, i, s), X, rn(3, 2),
         np.array([[0, 3], [1, 2], [3, 0]])),
    Case("scatter-value", lambda a, i: a.scatter(0, i, 1.5), X, IDX),
    Case("scatter-add", lambda a, s, i: a.scatter_add(0, i, s), X, rn(2, 4), IDX),
    Case("scatter-add-fn", lambda a, s, i: module_of(a).scatter_add(a, 1, i, s), X, rn(3, 2),
         np.array([[0, 0], [1, 3], [2, 2]])),
    Case("index-select", lambda a, i: a.index_select(1, i), X, np.array([3, 0, 3])),
    Case("index-select-fn", lambda a, i: module_of(a).index_select(a, 0, i), X, np.array([2])),
    Case("index-select-empty", lambda a, i: a.index_select(0, i), X, np.zeros(0, dtype=np.int64)),
    Case("index-select-0d", lambda a, i: a.index_select(0, i), rn(), np.array([0])),
    Case("index-add-0d", lambda a, s, i: a.index_add(0, i, s), rn(), rn(), np.array([0])),
    Case("index-copy-0d", lambda a, s, i: a.index_copy(0, i, s), rn(), rn(1), np.array([0])),
    Case("index-add", lambda a, s, i: a.index_add(1, i, s, alpha=2.5), X, rn(3, 3), np.array([3, 0, 3])),
    Case("index-add-fn", lambda a, s, i: module_of(a).index_add(a, 0, i, s), X, rn(2, 4), np.array([1, 1])),
    Case("index-copy", lambda a, s, i: a.index_copy(1, i, s), X, rn(3, 2), np.array([3, 0])),
    Case("index-fill", lambda a, i: a.index_fill(1, i, -1.0), X, np.array([3, 0, 3])),
    Case("index-fill-tensor-value", lambda a, v, i: a.index_fill(1, i, v), X, np.array(2.0),
         np.array([3, 0, 3])),
    Case("masked-fill", lambda a, m: a.masked_fill(m, 2.0), X, X > 0),
    Case("masked-fill-broadcast-tensor-value", lambda a, v, m: module_of(a).masked_fill(a, m, v), X,
         np.array(3.0),
         X[0] > 0),
    Case("masked-scatter", lambda a, s, m: a.masked_scatter(m, s), X, rn(4, 5), X > 0),
    Case("masked-scatter-broadcast", lambda a, s, m: a.masked_scatter(m, s), X, rn(12), X[:1] > 0),
    Case("take", lambda a, i: a.take(i), X, np.array([[0, -1], [5, 5]])),
    Case("take-fn", lambda a, i: module_of(a).take(a, i), rn(), np.array([0, 0])),
    Case("take-along-dim", lambda a, i: a.take_along_dim(i, 1), X, np.argsort(X, 1)),
    Case("take-along-dim-flat", lambda a, i: module_of(a).take_along_dim(a, i), X, np.array([1, 2, 11])),
    Case("take-along-dim-broadcast", lambda a, i: a.take_along_dim(i, 0), rn(3, 1),
         np.array([[0, 1, 2], [2, 2, 2]])),
    Case("put", lambda a, s, i: a.put(i, s), X, rn(3), np.array([0, 5, -1])),
    Case("put-accumulate", lambda a, s, i: a.put(i, s, accumulate=True), X, rn(2, 2),
         np.array([[0, 5], [5, 11]])),
]
for reduce in ("sum", "prod", "mean", "amax", "amin"):
    for include_self in (True, False):
        for x, src, what in ((X, rn(2, 4), ""), (ZEROS, SRC_ZERO, "-zeros"), (X, TIES, "-ties")):
            # torch's amax/amin rule counts an excluded self in a tie (so finite differences disagree)
            fd = not (what == "-ties" and not include_self)
            CASES.append(Case(f"scatter-reduce-{reduce}-{include_self}{what}",
                              lambda a, s, i, r=reduce, inc=include_self: a.scatter_reduce(0, i, s, r,
                                                                                           include_self=inc),
                              x, src, IDX, check_fd=fd))


@pytest.mark.parametrize("c", CASES, ids=repr)
def test_matches_torch(c):
    run_case(c)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter:UserWarning")
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_argument_values_match_torch(reduce):
    # torch has no gradient for scatter(reduce=...): the values only
    src = rn(2, 4)
    ours = Tensor(X).scatter(0, Tensor(IDX), Tensor(src), reduce=reduce)
    theirs = torch.tensor(X).scatter(0, torch.tensor(IDX), torch.tensor(src), reduce=reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


INPLACE = {
    "masked_fill_": lambda a, s: a.masked_fill_(a > 0, -2.0),
    "index_fill_": lambda a, s: a.index_fill_(1, module_of(a).tensor([0, 2]), 7.0),
    "index_add_": lambda a, s: a.index_add_(0, module_of(a).tensor([1, 1, 0]), s[:, :4], alpha=2),
    "index_copy_": lambda a, s: a.index_copy_(0, module_of(a).tensor([2, 0, 1]), s[:, :4]),
    "scatter_": lambda a, s: a.scatter_(0, module_of(a).tensor([[1, 0, 2, 0]]), s[:1, :4]),
    "scatter_-value": lambda a, s: a.scatter_(1, module_of(a).tensor([[1], [0], [3]]), value=9.0),
    "scatter_add_": lambda a, s: a.scatter_add_(0, module_of(a).tensor(IDX), s[:2, :4]),
    "scatter_reduce_": lambda a, s: a.scatter_reduce_(0, module_of(a).tensor(IDX), s[:2, :4], "amax"),
    "put_": lambda a, s: a.put_(module_of(a).tensor([0, 11]), s[0, :2]),
    "masked_scatter_": lambda a, s: a.masked_scatter_(a > 0, s),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms_match_torch(name):
    fn = INPLACE[name]
    src = rn(3, 5)

    def run(lib):
        a = lib.tensor(X.copy(), requires_grad=True)
        s = lib.tensor(src, requires_grad=True)
        h = a * 1.0  # a non-leaf: changed in place, recorded
        out = fn(h, s)
        assert out is h
        h.backward(lib.tensor(np.arange(12.0).reshape(3, 4)))
        return [h.detach().numpy(), a.grad.numpy()] + ([s.grad.numpy()] if s.grad is not None else [])

    ours, theirs = run(autograd), run(torch)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12)


ERRORS = {
    "gather-dim-out-of-range": (lambda a, i: a.gather(2, i), X, IDX),
    "gather-index-out-of-bounds": (lambda a, i: a.gather(0, i), X, IDX + 1),
    "gather-index-too-big": (lambda a, i: a.gather(0, i), X, np.zeros((2, 5), dtype=np.int64)),
    "gather-wrong-ndim": (lambda a, i: a.gather(0, i), X, np.zeros(2, dtype=np.int64)),
    "gather-float-index": (lambda a, i: a.gather(0, i), X, np.zeros((2, 4))),
    "scatter-index-out-of-bounds": (lambda a, i: a.scatter(0, i, 1.0), X, IDX + 1),
    "scatter-reduce-bad-reduce": (lambda a, i: a.scatter_reduce(0, i, a, "median"), X, IDX),
    "index-select-out-of-range": (lambda a, i: a.index_select(0, i), X, np.array([3])),
    "index-select-dim-out-of-range": (lambda a, i: a.index_select(2, i), X, np.array([0])),
    "index-select-0d-two-values": (lambda a, i: a.index_select(0, i), rn(), np.array([0, 0])),
    "index-add-0d-1d-source": (lambda a, s, i: a.index_add(0, i, s), rn(), rn(1), np.array([0])),
    "index-add-bad-source": (lambda a, s, i: a.index_add(0, i, s), X, rn(2, 3), np.array([0, 1])),
    "masked-fill-bad-mask": (lambda a, m: a.masked_fill(m, 1.0), X, np.ones(3, dtype=bool)),
    "masked-fill-1d-value": (lambda a, v, m: a.masked_fill(m, v), X, rn(1), X > 0),
    "masked-scatter-short-source": (lambda a, s, m: a.masked_scatter(m, s), X, rn(2),
                                    np.ones((3, 4), dtype=bool)),
    "scatter-dtypes": (lambda a, s, i: a.scatter(0, i, s), X, rn(2, 4).astype(np.float32), IDX),
    "scatter-add-dtypes": (lambda a, s, i: a.scatter_add(0, i, s), X, rn(2, 4).astype(np.float32), IDX),
    "scatter-reduce-dtypes": (lambda a, s, i: a.scatter_reduce(0, i, s, "sum"), X,
                              rn(2, 4).astype(np.float32), IDX),
    "index-add-dtypes": (lambda a, s, i: a.index_add(0, i, s), X, rn(1, 4).astype(np.float32), np.array([0])),
    "index-copy-dtypes": (lambda a, s, i: a.index_copy(0, i, s), X, rn(1, 4).astype(np.float32),
                          np.array([0])),
    "masked-scatter-dtypes": (lambda a, s, m: a.masked_scatter(m, s), X, rn(12).astype(np.float32), X > 0),
    "put-dtypes": (lambda a, s, i: a.put(i, s), X, rn(1).astype(np.float32), np.array([0])),
    "take-out-of-range": (lambda a, i: a.take(i), X, np.array([12])),
    "put-size-mismatch": (lambda a, s, i: a.put(i, s), X, rn(3), np.array([0, 1])),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_torchs(name):
    fn, *arrays = ERRORS[name]
    check_error(fn, *arrays)


# -- Hypothesis -------------------------------------------------------------------------------------------
@st.composite
def gather_problem(draw):
    """A tensor, a dim, and an index no larger than the tensor apart from ``dim``, in range."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, width=64)))
    nd = len(shape)
    dim = draw(st.integers(-max(nd, 1), max(nd, 1) - 1))
    d = dim % max(nd, 1)
    size = shape[d] if nd else 1
    ishape = tuple(draw(st.integers(0 if size else 0, 3 if i == d else n)) for i, n in enumerate(shape))
    if size == 0:
        ishape = tuple(0 if i == d else n for i, n in enumerate(ishape))
    index = draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, max(size - 1, 0))))
    src = draw(hnp.arrays(np.float64, ishape, elements=st.floats(-3, 3, width=64)))
    return x, dim, index, src


RANDOM = {
    "gather": lambda dim: lambda a, s, i: a.gather(dim, i) * s,
    "scatter": lambda dim: lambda a, s, i: a.scatter(dim, i, 0.5) * 2.0 + 0.0 * s.sum(),
    "scatter_add": lambda dim: lambda a, s, i: a.scatter_add(dim, i, s),
    "scatter_reduce-mean": lambda dim: lambda a, s, i: a.scatter_reduce(dim, i, s, "mean",
                                                                        include_self=False),
    "scatter_reduce-amax": lambda dim: lambda a, s, i: a.scatter_reduce(dim, i, s, "amax"),
    "take_along_dim-flat": lambda dim: lambda a, s, i: a.take_along_dim(i) * s.reshape(-1),
}


@pytest.mark.parametrize("name", list(RANDOM))
@SETTINGS
@given(problem=gather_problem())
def test_random_shapes_match_torch(name, problem):
    x, dim, index, src = problem
    fn = RANDOM[name](dim)
    assert_grads_match_torch(fn, x, src, index, second_order=True)
    check_fresh_grads(lambda a, s: fn(a, s, Tensor(index)), x, src)


@SETTINGS
@given(data=st.data())
def test_random_masks_match_torch(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, width=64)))
    mask = data.draw(hnp.arrays(np.bool_, shape))
    src = data.draw(hnp.arrays(np.float64, (x.size,), elements=st.floats(-3, 3, width=64)))

    def fn(a, s, m):
        return a.masked_fill(m, 1.5) * a.masked_scatter(m, s)
    assert_grads_match_torch(fn, x, src, mask, second_order=True)
    check_fresh_grads(lambda a, s: fn(a, s, Tensor(mask)), x, src)
