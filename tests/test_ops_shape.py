"""Shape ops against PyTorch float64: values, gradients under a random upstream gradient, second order
and gradcheck (table-driven); Hypothesis over random shapes with 0-d and size-0 dims, inputs never
mutated and gradients never aliased; views as torch's; torch's exception types.

The table machinery here (``Case``, ``run_case``, ``check_error``, ``check_fresh_grads``) is shared
with ``test_ops_indexing.py`` and ``test_ops_linalg.py``.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor, gradcheck, no_grad
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

R = np.random.default_rng(20261201)
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)


def rn(*shape):
    return R.standard_normal(shape)


class Case:
    def __init__(self, name, fn, *arrays, second=True, check_fd=True):
        self.name, self.fn, self.arrays, self.second, self.check_fd = name, fn, arrays, second, check_fd

    def __repr__(self):
        return self.name


def run_case(c):
    """The case against torch (second order when asked), then against finite differences."""
    assert_grads_match_torch(c.fn, *c.arrays, second_order=c.second)
    if c.check_fd and any(a.dtype.kind == "f" for a in c.arrays):
        assert gradcheck(c.fn, [Tensor(a, requires_grad=a.dtype.kind == "f") for a in c.arrays])


def check_error(fn, *arrays):
    """``fn`` raises on torch; it must raise the same built-in exception type here (IndexError,
    RuntimeError...; torch's own subclasses such as ``LinAlgError`` count as their built-in base)."""
    with pytest.raises(Exception) as theirs:
        fn(*[torch.tensor(a) for a in arrays])
    kind = next(c for c in theirs.type.__mro__ if c.__module__ == "builtins")
    with pytest.raises(kind) as ours:
        fn(*[Tensor(a) for a in arrays])
    assert str(ours.value)


def check_fresh_grads(fn, *arrays):
    """Backward through ``fn`` leaves the inputs and the upstream gradient unchanged, and no gradient shares
    memory with another, with an input or with the output."""
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    vs = [np.random.default_rng(1).standard_normal(o.shape) for o in outs]
    v0 = [v.copy() for v in vs]
    grads = autograd.grad(list(outs), xs, grad_outputs=[Tensor(v) for v in vs], allow_unused=True)
    for x, a in zip(xs, arrays):
        np.testing.assert_array_equal(x.detach().numpy(), a)
    for v, v_ in zip(vs, v0):
        np.testing.assert_array_equal(v, v_)
    named = {f"grad {i}": g.detach().numpy() for i, g in enumerate(grads) if g is not None}
    named.update({f"input {i}": x.detach().numpy() for i, x in enumerate(xs)})
    named.update({f"output {k}": o.detach().numpy() for k, o in enumerate(outs)})
    names = list(named)
    for i, p in enumerate(names):
        for q in names[i + 1:]:
            if p.startswith("grad") or q.startswith("grad"):
                assert not np.shares_memory(named[p], named[q]), f"{p} shares memory with {q}"


CASES = []


def case(name, fn, *arrays, **kw):
    CASES.append(Case(name, fn, *arrays, **kw))


def M(x):
    return module_of(x)


X = rn(3, 4, 5)
# -- reordering -----------------------------------------------------------------------------------------
case("flip", lambda a: a.flip(0, 2), X)
case("flip-list", lambda a: M(a).flip(a, [-1]), X)
case("flip-0d", lambda a: a.flip(0), rn())
case("fliplr", lambda a: a.fliplr(), X)
case("flipud", lambda a: M(a).flipud(a), rn(4))
case("roll", lambda a: a.roll((1, -2), (0, 2)), X)
case("roll-flat", lambda a: a.roll(7), X)
case("roll-one", lambda a: M(a).roll(a, 2, 1), X)
for k in (-1, 0, 1, 2, 3, 5):
    case(f"rot90-{k}", lambda a, k=k: a.rot90(k, (0, 2)), X)
case("rot90-default", lambda a: M(a).rot90(a), rn(2, 3))
case("movedim", lambda a: a.movedim((0, 1), (2, 0)) * 1.0, X)
case("movedim-int", lambda a: M(a).movedim(a, -1, 0) * 1.0, X)
case("moveaxis", lambda a: a.moveaxis(1, 2) * 1.0, X)
case("swapaxes", lambda a: M(a).swapaxes(a, 0, 2) * 1.0, X)
case("swapdims", lambda a: a.swapdims(-1, 1) * 1.0, X)
case("t-2d", lambda a: a.t() * 1.0, rn(2, 3))
case("t-1d", lambda a: M(a).t(a) * 1.0, rn(3))
case("T-0d", lambda a: a.T * 1.0, rn())
case("T-1d", lambda a: a.T * 1.0, rn(4))
case("transpose-0d", lambda a: a.transpose(0, 0) * 1.0, rn())
case("transpose-0d-neg", lambda a: a.transpose(-1, 0) * 1.0, rn())
# -- triangles and diagonals ---------------------------------------------------------------------------------
for k in (-2, 0, 1, 7):
    case(f"tril-{k}", lambda a, k=k: a.tril(k), X)
    case(f"triu-{k}", lambda a, k=k: M(a).triu(a, diagonal=k), X)
case("diagonal", lambda a: a.diagonal(), X)
case("diagonal-offset", lambda a: a.diagonal(1, 0, 2), X)
case("diagonal-neg", lambda a: M(a).diagonal(a, offset=-2, dim1=2, dim2=1), X)
case("diagonal-empty", lambda a: a.diagonal(9), X)
case("diag-vector", lambda a: a.diag(), rn(3))
case("diag-vector-offset", lambda a: M(a).diag(a, -2), rn(3))
case("diag-matrix", lambda a: a.diag(1), rn(3, 4))
case("diag-embed", lambda a: a.diag_embed(), rn(2, 3))
case("diag-embed-dims", lambda a: M(a).diag_embed(a, 1, 0, 2), rn(2, 3))
case("diag-embed-neg", lambda a: a.diag_embed(-1, 2, 0), rn(2, 3))
case("trace", lambda a: a.trace(), rn(3, 4))
case("trace-fn", lambda a: M(a).trace(a * a), rn(3, 3))
# -- repeating ----------------------------------------------------------------------------------------------
case("repeat", lambda a: a.repeat(2, 1, 1, 3), X)
case("repeat-ones", lambda a: a.repeat(1, 1), rn(2, 3))
case("repeat-zero", lambda a: a.repeat(0, 2), rn(2, 3))
case("repeat-0d", lambda a: a.repeat(3, 2), rn())
case("tile", lambda a: a.tile(2, 1), X)
case("tile-fn", lambda a: M(a).tile(a, (2, 1, 1, 2)), rn(2, 3))
case("repeat-interleave", lambda a: a.repeat_interleave(2, dim=1), X)
case("repeat-interleave-flat", lambda a: a.repeat_interleave(3), rn(2, 2))
case("repeat-interleave-counts", lambda a, r: M(a).repeat_interleave(a, r, dim=0), rn(3, 2),
     np.array([2, 0, 1]))
case("repeat-interleave-0d", lambda a: a.repeat_interleave(2), rn())
# -- splitting ----------------------------------------------------------------------------------------------
case("split-int", lambda a: a.split(2, 1), X)
case("split-sizes", lambda a: M(a).split(a, [1, 3], dim=1), X)
case("split-empty", lambda a: a.split(2), rn(0, 2), second=False)
case("chunk", lambda a: a.chunk(3, 2), X)
case("chunk-more-than-size", lambda a: M(a).chunk(a, 7), rn(3, 2))
case("tensor-split-sections", lambda a: a.tensor_split(3, 2), X)
case("tensor-split-indices", lambda a: M(a).tensor_split(a, [1, -1, 9], dim=2), X)
case("tensor-split-unordered", lambda a: a.tensor_split([3, 1]), rn(4, 2))
case("unbind", lambda a: a.unbind(1), X)
case("unbind-fn", lambda a: M(a).unbind(a, -1), rn(2, 3))
case("narrow", lambda a: a.narrow(1, 1, 2), X)
case("narrow-neg", lambda a: M(a).narrow(a, -1, -3, 3), X)
case("select", lambda a: a.select(1, -1), X)
# -- other shapes -------------------------------------------------------------------------------------------
case("unflatten", lambda a: a.unflatten(1, (2, -1)), X)
case("unflatten-fn", lambda a: M(a).unflatten(a, -1, (5, 1)), X)
case("expand-as", lambda a, b: a.expand_as(b) * b, rn(3, 1), rn(2, 3, 4))
case("view-as", lambda a, b: a.view_as(b) * b, rn(6), rn(2, 3))
case("reshape-as", lambda a, b: a.reshape_as(b) + b, rn(2, 3), rn(3, 2))
case("broadcast-to", lambda a: a.broadcast_to((2, 3, 4)) * 1.0, rn(3, 1))
case("broadcast-to-fn", lambda a: M(a).broadcast_to(a, (2, 3)) * 1.0, rn(3))
case("broadcast-tensors", lambda a, b: M(a).broadcast_tensors(a, b), rn(3, 1), rn(4))
case("meshgrid-ij", lambda a, b, c: M(a).meshgrid(a, b, c, indexing="ij"), rn(2), rn(3), rn(4))
case("meshgrid-xy", lambda a, b, c: M(a).meshgrid([a, b, c], indexing="xy"), rn(2), rn(3), rn(4))
case("meshgrid-0d", lambda a, b: M(a).meshgrid(a, b, indexing="xy"), rn(), rn(3))
case("hstack", lambda a, b: M(a).hstack([a, b]), rn(2, 3), rn(2, 1))
case("hstack-1d", lambda a, b: M(a).hstack((a, b)), rn(2), rn())
case("vstack", lambda a, b: M(a).vstack([a, b]), rn(3), rn(2, 3))
case("dstack", lambda a, b: M(a).dstack([a, b]), rn(3), rn(1, 3, 2))
case("column-stack", lambda a, b, c: M(a).column_stack([a, b, c]), rn(3), rn(3, 2), rn(3))
case("atleast-1d", lambda a: M(a).atleast_1d(a) * 1.0, rn())
case("atleast-2d", lambda a, b: M(a).atleast_2d(a, b), rn(), rn(3))
case("atleast-3d", lambda a, b, c: M(a).atleast_3d([a, b, c]), rn(3), rn(2, 3), rn(1, 2, 3, 1))
case("squeeze-tuple", lambda a: a.squeeze((0, 2, 3)), rn(1, 3, 1, 2))
case("squeeze-fn", lambda a: M(a).squeeze(a, -1), rn(2, 1))
case("contiguous", lambda a: a.t().contiguous() * 1.0, rn(2, 3))
case("contiguous-already", lambda a: a.contiguous() * 1.0, rn(2, 3))


@pytest.mark.filterwarnings("ignore:.*Tensor.T.*:UserWarning", "ignore:The use of `x.T`:UserWarning")
@pytest.mark.parametrize("c", CASES, ids=repr)
def test_matches_torch(c):
    run_case(c)


# -- errors: torch's exception types --------------------------------------------------------------------
ERRORS = {
    "flip-dim-out-of-range": (lambda a: a.flip(3), rn(2, 3)),
    "fliplr-1d": (lambda a: a.fliplr(), rn(3)),
    "roll-mismatch": (lambda a: a.roll((1, 2), (0,)), rn(2, 3)),
    "rot90-same-dims": (lambda a: a.rot90(1, (0, 0)), rn(2, 3)),
    "tril-1d": (lambda a: a.tril(), rn(3)),
    "diagonal-same-dims": (lambda a: a.diagonal(0, 1, 1), rn(2, 3)),
    "diagonal-dim-out-of-range": (lambda a: a.diagonal(0, 0, 2), rn(2, 3)),
    "diag-3d": (lambda a: a.diag(), rn(2, 2, 2)),
    "trace-1d": (lambda a: a.trace(), rn(3)),
    "repeat-too-few": (lambda a: a.repeat(2), rn(2, 3)),
    "split-bad-sizes": (lambda a: a.split([1, 1], 1), rn(2, 3)),
    "chunk-zero": (lambda a: a.chunk(0), rn(2, 3)),
    "narrow-too-long": (lambda a: a.narrow(1, 2, 2), rn(2, 3)),
    "narrow-start-out-of-range": (lambda a: a.narrow(1, 5, 0), rn(2, 3)),
    "unbind-dim-out-of-range": (lambda a: a.unbind(2), rn(2, 3)),
    "select-index-out-of-range": (lambda a: a.select(0, 2), rn(2, 3)),
    "movedim-mismatch": (lambda a: a.movedim((0, 1), (1,)), rn(2, 3)),
    "movedim-out-of-range": (lambda a: a.movedim(2, 0), rn(2, 3)),
    "unflatten-bad-sizes": (lambda a: a.unflatten(1, (2, 2)), rn(2, 3)),
    "unflatten-0d": (lambda a: a.unflatten(0, (1,)), rn()),
    "t-3d": (lambda a: a.t(), rn(2, 3, 4)),
    "transpose-out-of-range": (lambda a: a.transpose(0, 2), rn(2, 3)),
    "broadcast-tensors": (lambda a, b: module_of(a).broadcast_tensors(a, b), rn(2, 3), rn(4)),
    "meshgrid-2d": (lambda a, b: module_of(a).meshgrid(a, b, indexing="ij"), rn(2, 3), rn(4)),
    "squeeze-out-of-range": (lambda a: a.squeeze((0, 2)), rn(1, 3)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_torchs(name):
    fn, *arrays = ERRORS[name]
    check_error(fn, *arrays)


# -- views and copies, as torch --------------------------------------------------------------------------
VIEWS = {
    "diagonal": (lambda a: a.diagonal(), True),
    "narrow": (lambda a: a.narrow(1, 1, 2), True),
    "split": (lambda a: a.split(2, 1)[1], True),
    "unbind": (lambda a: a.unbind(0)[1], True),
    "movedim": (lambda a: a.movedim(0, 1), True),
    "t": (lambda a: a.t(), True),
    "flip": (lambda a: a.flip(0), False),
    "roll": (lambda a: a.roll(1, 0), False),
    "tril": (lambda a: a.tril(), False),
    "repeat-ones": (lambda a: a.repeat(1, 1), False),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_share_memory_as_torch(name):
    fn, shares = VIEWS[name]
    for lib in (torch, autograd):
        x = lib.tensor(np.arange(12.0).reshape(3, 4))
        with (torch.no_grad() if lib is torch else no_grad()):
            fn(x).mul_(0.0)
        assert (float(x.sum()) != 66.0) == shares, lib.__name__  # 66 = sum(arange(12)): unchanged


def test_function_forms_need_a_tensor():
    with pytest.raises(TypeError, match="must be Tensor"):
        autograd.flip([1.0, 2.0], 0)


# -- Hypothesis: random shapes with 0-d and size-0 dims -----------------------------------------------------
def arrays(shape):
    return hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, width=64))


SHAPE = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
SHAPE2D = hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=3)


# each entry draws its arguments when it makes the function (once, for both libraries)
def _dim(data, ndim):
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))


RANDOM = {
    "flip": (SHAPE, lambda d, n: (lambda a, k=_dim(d, n): a.flip(k) * 1.0)),
    "roll": (SHAPE, lambda d, n: (lambda a, s=d.draw(st.integers(-4, 4)), k=_dim(d, n):
                                  a.roll(s, k if n else None) * 1.0)),
    "movedim": (SHAPE, lambda d, n: (lambda a, i=_dim(d, n), j=_dim(d, n): a.movedim(i, j) * 1.0)),
    "repeat": (SHAPE, lambda d, n: (lambda a, r=d.draw(st.lists(st.integers(0, 2), min_size=n,
                                                                max_size=n + 1)):
                                    a.repeat(*r) if r else a.repeat(()) * 1.0)),
    "tril": (SHAPE2D, lambda d, n: (lambda a, k=d.draw(st.integers(-3, 3)): a.tril(k))),
    "triu": (SHAPE2D, lambda d, n: (lambda a, k=d.draw(st.integers(-3, 3)): a.triu(k))),
    "diagonal": (SHAPE2D, lambda d, n: (lambda a, k=d.draw(st.integers(-3, 3)): a.diagonal(k, 0, -1) * 1.0)),
    "diag_embed": (SHAPE.filter(len), lambda d, n: (lambda a, k=d.draw(st.integers(-2, 2)): a.diag_embed(k))),
    "unbind": (SHAPE.filter(len), lambda d, n: (lambda a, k=_dim(d, n): a.unbind(k) + (a * 1.0,))),
    "split": (SHAPE.filter(len), lambda d, n: (lambda a, k=_dim(d, n), s=d.draw(st.integers(1, 3)):
                                               a.split(s, k))),
    "tensor_split": (SHAPE.filter(len), lambda d, n: (lambda a, k=_dim(d, n), s=d.draw(st.integers(1, 4)):
                                                      a.tensor_split(s, k))),
    "repeat_interleave": (SHAPE, lambda d, n: (lambda a, r=d.draw(st.integers(0, 2)):
                                               a.repeat_interleave(r))),
    "atleast_3d": (SHAPE, lambda d, n: (lambda a: module_of(a).atleast_3d(a) * 1.0)),
}


@pytest.mark.parametrize("name", list(RANDOM))
@SETTINGS
@given(data=st.data())
def test_random_shapes_match_torch(name, data):
    shapes, make = RANDOM[name]
    shape = data.draw(shapes)
    x = data.draw(arrays(shape))
    fn = make(data, len(shape))
    assert_grads_match_torch(fn, x, second_order=True)
    check_fresh_grads(fn, x)
