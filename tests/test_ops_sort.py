"""Sorting and selection against torch: sort/argsort/msort/topk (values, gradients, second order, finite
differences; torch's stable indices for ties, nan last), unique/unique_consecutive, searchsorted,
bucketize, nonzero/argwhere/where(cond), masked_select; 0-d and size-0 inputs; Hypothesis shapes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_ops_reduce import SETTINGS, Cases, arrays, rn, shapes

import autograd
from autograd import Tensor
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

C = Cases()
X = rn(3, 4, 5)
TIES = np.array([[1.0, 3.0, 3.0, -2.0, 3.0, 1.0], [2.0, 2.0, 0.0, 0.0, 2.0, 5.0]])
NANS = np.array([[1.0, np.nan, 0.0, np.nan, 5.0], [2.0, -1.0, np.nan, 3.0, 3.0]])

for dim in (0, 1, -1):
    for descending in (False, True):
        C.add(f"sort-dim{dim}-desc{descending}", lambda a, d=dim, s=descending: a.sort(d, s), X)
        C.add(f"argsort-dim{dim}-desc{descending}",
              lambda a, d=dim, s=descending: a.argsort(dim=d, descending=s, stable=True), X, fd=False)
    C.add(f"topk-dim{dim}", lambda a, d=dim: a.topk(3, dim=d), X)
    C.add(f"topk-smallest-dim{dim}", lambda a, d=dim: a.topk(2, d, largest=False), X)
for descending in (False, True):
    # torch's stable sort: equal elements keep their order, nan sorts as the largest value
    C.add(f"sort-ties-desc{descending}", lambda a, s=descending: a.sort(descending=s, stable=True), TIES,
          fd=False)
    C.add(f"sort-nan-desc{descending}", lambda a, s=descending: a.sort(dim=1, descending=s, stable=True),
          NANS, fd=False)
    C.add(f"sort-module-desc{descending}", lambda a, s=descending: module_of(a).sort(a, 0, descending=s), X)
C.add("sort-default-ties", lambda a: a.sort(stable=True), TIES, fd=False)
C.add("sort-keyword-stable", lambda a: a.sort(dim=0, stable=True), TIES, fd=False)
C.add("sort-0d", lambda a: a.sort(), np.array(0.4))
C.add("sort-1d", lambda a: a.sort(), rn(7))
C.add("msort", lambda a: a.msort(), X)
C.add("msort-module", lambda a: module_of(a).msort(a), X[0])
C.add("argsort-module", lambda a: module_of(a).argsort(a, dim=1, stable=True), TIES, fd=False)
C.add("topk-all", lambda a: a.topk(5), X)
C.add("topk-zero", lambda a: a.topk(0, 1), X, fd=False)
C.add("topk-0d", lambda a: a.topk(1), np.array(1.5))
C.add("topk-keywords", lambda a: a.topk(k=2, dim=0, largest=True, sorted=True), X)
C.add("topk-module", lambda a: module_of(a).topk(a, 2, largest=False), X)
C.add("topk-values-squared", lambda a: a.topk(2).values ** 2, rn(4, 6))
C.add("where-method", lambda a, c, b: a.where(c, b), X, X > 0, rn(5))
C.add("where-method-scalar", lambda a, c: a.where(c, 0.5), X, X < 0)
C.add("masked_select", lambda a, m: a.masked_select(m), X, X > 0.2)
C.add("masked_select-broadcast-mask", lambda a, m: a.masked_select(m), X, X[0, 0] > 0)
C.add("masked_select-broadcast-input", lambda a, m: module_of(a).masked_select(a, m), rn(5), X > 0)
C.add("masked_select-0d", lambda a, m: a.masked_select(m), np.array(2.0), np.array(True))
C.add("masked_select-squared", lambda a, m: a.masked_select(m) ** 2, X, X < 0)


test_matches_torch, test_gradcheck = C.tests()


# -- no-gradient selections: against torch, exactly -------------------------------------------------------
def same(ours, theirs):
    """Tensors (or tuples of them) equal to torch's in shape, dtype and value (nan matches nan)."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            same(o, t)
        return
    t = theirs.numpy()
    o = ours.detach().numpy()
    assert o.shape == t.shape and o.dtype == t.dtype, (o.shape, o.dtype, t.shape, t.dtype)
    np.testing.assert_array_equal(o, t)


INTS = np.array([[3, 1, 3, 2], [1, 1, 0, 2], [3, 1, 3, 2]])
RUNS = np.array([1, 1, 2, 2, 3, 1, 1, 2])
UNIQUE = {
    "plain": lambda x: x.unique(),
    "inverse": lambda x: x.unique(return_inverse=True),
    "counts": lambda x: x.unique(return_counts=True),
    "both": lambda x: x.unique(sorted=True, return_inverse=True, return_counts=True),
    "dim0": lambda x: x.unique(dim=0, return_inverse=True, return_counts=True),
    "dim1": lambda x: x.unique(dim=1, return_inverse=True),
    "consecutive": lambda x: x.unique_consecutive(),
    "consecutive-both": lambda x: x.unique_consecutive(return_inverse=True, return_counts=True),
    "consecutive-dim0": lambda x: x.unique_consecutive(return_counts=True, dim=0),
    "consecutive-dim1": lambda x: x.unique_consecutive(return_inverse=True, dim=1),
    "module": lambda x: module_of(x).unique(x, return_counts=True),
    "module-consecutive": lambda x: module_of(x).unique_consecutive(x, return_inverse=True),
}


UNIQUE_DATA = {"int": INTS, "float": INTS.astype(np.float64), "runs": RUNS, "0d": np.array(4),
               "bool": INTS > 1, "empty": np.zeros((0, 3))}
UNIQUE_CASES = [(name, data) for name in UNIQUE for data in UNIQUE_DATA  # the dim cases need 2-D data
                if "dim" not in name
                or UNIQUE_DATA[data].ndim == 2 and not (data == "empty" and "dim1" in name)]


@pytest.mark.parametrize("name, data", UNIQUE_CASES, ids=[f"{n}-{d}" for n, d in UNIQUE_CASES])
def test_unique_as_torch(name, data):
    x = UNIQUE_DATA[data]
    same(UNIQUE[name](Tensor(x)), UNIQUE[name](torch.tensor(x)))


SEQ = np.array([1.0, 2.0, 2.0, 4.0, 7.0])
ROWS = np.array([[1.0, 3.0, 5.0, 7.0], [2.0, 2.0, 6.0, 8.0]])
SEARCH = {
    "1d": (lambda m, s, v: m.searchsorted(s, v), SEQ, np.array([[0.0, 2.0, 3.0], [7.0, 8.0, 2.0]])),
    "1d-right": (lambda m, s, v: m.searchsorted(s, v, right=True), SEQ, np.array([0.0, 2.0, 7.0, 9.0])),
    "1d-side": (lambda m, s, v: m.searchsorted(s, v, side="right"), SEQ, np.array([2.0, 4.0])),
    "1d-side-left": (lambda m, s, v: m.searchsorted(s, v, side="left"), SEQ, np.array([2.0, 4.0])),
    "nd": (lambda m, s, v: m.searchsorted(s, v), ROWS, np.array([[3.0, 0.0, 9.0], [2.0, 6.5, 1.0]])),
    "nd-right": (lambda m, s, v: m.searchsorted(s, v, right=True), ROWS, np.array([[3.0, 7.0], [2.0, 8.0]])),
    "int32": (lambda m, s, v: m.searchsorted(s, v, out_int32=True), SEQ, np.array([3.0])),
    "sorter": (lambda m, s, v: m.searchsorted(s, v, sorter=m.argsort(s, stable=True)),
               np.array([4.0, 1.0, 7.0]), np.array([0.0, 5.0, 8.0])),
    "0d-values": (lambda m, s, v: m.searchsorted(s, v), SEQ, np.array(3.0)),
    "empty-values": (lambda m, s, v: m.searchsorted(s, v), SEQ, np.zeros((2, 0))),
    "int": (lambda m, s, v: m.searchsorted(s, v), np.array([1, 3, 5]), np.array([[0, 3], [5, 6]])),
    "bucketize": (lambda m, s, v: m.bucketize(v, s), SEQ, np.array([[0.0, 2.0, 3.0], [7.0, 8.0, 2.0]])),
    "bucketize-right": (lambda m, s, v: m.bucketize(v, s, right=True), SEQ, np.array([0.0, 2.0, 7.0, 9.0])),
    "bucketize-int32": (lambda m, s, v: m.bucketize(v, s, out_int32=True), SEQ, np.array(2.0)),
}


@pytest.mark.parametrize("name", list(SEARCH))
def test_searchsorted_and_bucketize_as_torch(name):
    fn, seq, values = SEARCH[name]
    same(fn(autograd, Tensor(seq), Tensor(values)), fn(torch, torch.tensor(seq), torch.tensor(values)))


def test_searchsorted_with_a_python_scalar():
    same(autograd.searchsorted(Tensor(SEQ), 3.0), torch.searchsorted(torch.tensor(SEQ), 3.0))
    same(autograd.bucketize(3.0, Tensor(SEQ)), torch.bucketize(3.0, torch.tensor(SEQ)))


NONZERO = {
    "nonzero": lambda m, x: x.nonzero(),
    "as_tuple": lambda m, x: x.nonzero(as_tuple=True),
    "argwhere": lambda m, x: x.argwhere(),
    "where-one-argument": lambda m, x: m.where(x),
    "where-three-arguments": lambda m, x: m.where(x > 0, x, -x),
    "module-nonzero": lambda m, x: m.nonzero(x, as_tuple=False),
    "module-argwhere": lambda m, x: m.argwhere(x),
}


@pytest.mark.parametrize("name", list(NONZERO))
@pytest.mark.parametrize("data", [np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]]), np.array(2.0), np.array(0.0),
                                  np.zeros((2, 0)), np.array([1, 0, 4])],
                         ids=["2d", "0d", "0d-zero", "empty", "int"])
def test_nonzero_and_where_as_torch(name, data):
    same(NONZERO[name](autograd, Tensor(data)), NONZERO[name](torch, torch.tensor(data)))


def test_nonzero_of_bools():
    m = np.array([[True, False], [True, True]])
    same(Tensor(m).nonzero(), torch.tensor(m).nonzero())
    same(autograd.where(Tensor(m)), torch.where(torch.tensor(m)))


# -- errors --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, pattern", [
    (lambda x: x.topk(5), RuntimeError, r"selected index k out of range: k=5 for a dimension of size 4"),
    (lambda x: x.topk(-1), RuntimeError, r"k out of range"),
    (lambda x: x.sort(2), IndexError, r"Dimension out of range"),
    (lambda x: x.masked_select(x), RuntimeError, r"expected BoolTensor for mask, got float64"),
    (lambda x: x.masked_select(np.ones(3, dtype=bool)), RuntimeError,
     r"mask \(3,\) must broadcast with .* \(3, 4\)"),
    (lambda x: autograd.searchsorted(x, Tensor(rn(2, 2))), RuntimeError,
     r"boundaries tensor \[3, 4\] and input"),
    (lambda x: autograd.searchsorted(x, 1.0), RuntimeError,
     r"scalar only when boundaries tensor dimension is 1"),
    (lambda x: autograd.searchsorted(x[0], x, side="middle"), RuntimeError,
     r"side can only be 'left' or 'right'"),
    (lambda x: autograd.searchsorted(x[0], x[0], right=True, side="left"), RuntimeError, r"opposites"),
    (lambda x: autograd.bucketize(x, x), RuntimeError, r"boundaries tensor must be 1 dimension"),
    (lambda x: autograd.where(np.ones(3)), TypeError, r"'condition' must be a Tensor"),
])
def test_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(Tensor(rn(3, 4)))


# -- Hypothesis ----------------------------------------------------------------------------------------------
SORTS = {
    "sort": lambda t, d, flag: t.sort(dim=d, descending=flag, stable=True),
    "topk": lambda t, d, flag: t.topk(min(2, t.shape[d] if t.ndim else 1), d, largest=flag),
    "msort-then-cumsum": lambda t, d, flag: t.msort().cumsum(d) if t.ndim else t.sort().values,
}


@pytest.mark.parametrize("op", list(SORTS))
@SETTINGS
@given(data=st.data())
def test_random_shapes_match_torch(op, data):
    shape = data.draw(shapes(min_side=0 if op == "sort" else 1))
    x = data.draw(arrays(shape, st.floats(-3, 3, width=64), unique=op == "topk"))  # sort: ties too (stable)
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    flag = data.draw(st.booleans())
    assert_grads_match_torch(lambda t: SORTS[op](t, dim, flag), x, second_order=True)


@SETTINGS
@given(data=st.data())
def test_masked_select_random_masks(data):
    (sx, sm), _ = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                              max_side=3))
    x = data.draw(arrays(sx))
    m = data.draw(hnp.arrays(np.bool_, sm))
    assert_grads_match_torch(lambda t, mask: t.masked_select(mask), x, m, second_order=True)


@SETTINGS
@given(data=st.data())
def test_unique_random(data):
    x = data.draw(hnp.arrays(np.int64, data.draw(shapes()), elements=st.integers(-2, 2)))
    same(Tensor(x).unique(return_inverse=True, return_counts=True),
         torch.tensor(x).unique(return_inverse=True, return_counts=True))
    same(Tensor(x).unique_consecutive(return_inverse=True, return_counts=True),
         torch.tensor(x).unique_consecutive(return_inverse=True, return_counts=True))


@SETTINGS
@given(data=st.data())
def test_sort_inputs_unchanged_and_grads_not_aliased(data):
    x0 = data.draw(arrays(data.draw(shapes())))
    x = Tensor(x0, requires_grad=True)
    v = np.ones(x0.shape)
    x.sort(0).values.backward(gradient=v)
    x.masked_select(Tensor(x0 > 0)).sum().backward()
    np.testing.assert_array_equal(x.detach().numpy(), x0)
    np.testing.assert_array_equal(v, np.ones(x0.shape))
    assert not np.shares_memory(x.grad.numpy(), x0) and not np.shares_memory(x.grad.numpy(), v)
