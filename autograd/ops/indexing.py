"""Gather/scatter and indexing ops: gather, scatter, scatter_add, scatter_reduce, index_select,
index_add/copy/fill, masked_fill, masked_scatter, take, take_along_dim, put, and their in-place forms.

``GatherDim`` and ``ScatterAddDim`` are each other's adjoints, so gradients of every order are gathers
and scatters again; ``ScatterDim``/``ScatterFill`` write (their gradients select with zeros written), and
``ScatterReduce`` has torch's gradient rules for every ``reduce``. The ``index_*``, ``masked_*``,
``take`` and ``put`` ops are compositions of the ``Index``/``IndexAdd``/``IndexPut`` primitives.
"""
import numbers

import numpy as np

from ..primitive import Primitive, TensorBase, array, call
from .elementwise import Where
from .inplace import IndexPut
from .shape import IndexAdd, function_of
from ._formulas import along_index, pick_along, take_back


def _grid(index, dim):
    """The advanced index that picks, at each position of ``index``, element ``index[pos]`` along ``dim``."""
    grid = list(np.ogrid[tuple(slice(n) for n in index.shape)])
    grid[dim] = index
    return tuple(grid)


class GatherDim(Primitive):
    """``out[pos] = x[pos with index[pos] along dim]``: the shape of ``index`` (torch's ``gather``)."""

    name = "gather"
    saves_inputs = False

    def forward(self, x):
        self.shape = x.shape
        return x[_grid(self.index, self.dim)]

    formulas = (("g added into zeros {s0} at the index along dim", take_back),)

    def backward(self, g, out, x):
        return (call(ScatterAddDim, g, index=self.index, dim=self.dim, shape=self.shape),)


class ScatterAddDim(Primitive):
    """Zeros of ``shape`` with ``src`` (the shape of ``index``) added at ``index`` along ``dim``."""

    name = "scatter_add"
    saves_inputs = False

    def forward(self, src):
        z = np.zeros(self.shape, dtype=src.dtype)
        np.add.at(z, _grid(self.index, self.dim), src)
        return z

    formulas = (("g picked at the index along dim", pick_along),)

    def backward(self, gg, out, src):
        return (call(GatherDim, gg, index=self.index, dim=self.dim),)


class ScatterFill(Primitive):
    """A copy of ``x`` with ``value`` written at ``index`` along ``dim``."""

    name = "scatter"
    saves_inputs = False

    def forward(self, x):
        out = x.copy()
        out[_grid(self.index, self.dim)] = self.value
        return out

    formulas = (("g with zeros where the index wrote", lambda s: _written_back(s)),)

    def backward(self, g, out, x):
        return (call(ScatterFill, g, index=self.index, dim=self.dim, value=0),)


class ScatterDim(Primitive):
    """A copy of ``x`` with ``src`` (the shape of ``index``) written at ``index`` along ``dim``."""

    name = "scatter"
    saves_inputs = False

    def forward(self, x, src):
        out = x.copy()
        out[_grid(self.index, self.dim)] = src
        return out

    formulas = (("g with zeros where the index wrote", lambda s: _written_back(s)),
                ("g picked at the index along dim", lambda s: s.g[along_index(s.fn.index, s.fn.dim)]))

    def backward(self, g, out, x, src):
        kw = dict(index=self.index, dim=self.dim)
        return (call(ScatterFill, g, value=0, **kw) if self.needs[0] else None), call(GatherDim, g, **kw)


_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}
_IDENTITY = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}


class ScatterReduce(Primitive):
    """``x`` with ``src`` (the shape of ``index``) reduced into it at ``index`` along ``dim`` by ``reduce``
    (``x``'s own value takes part when ``include_self``); torch's gradients for every reduction."""

    name = "scatter_reduce"
    saves_output = True

    def forward(self, x, src):
        grid = _grid(self.index, self.dim)
        out = x.copy()
        if not self.include_self:
            out[grid] = _IDENTITY[self.reduce] if x.dtype.kind == "f" else _int_identity(self.reduce, x.dtype)
        _UFUNCS[self.reduce].at(out, grid, src)
        if self.reduce == "mean":
            n = self._counts(x.shape, src.dtype)
            out = out / n if x.dtype.kind == "f" else out // n.astype(x.dtype)
        return out

    def _counts(self, shape, dtype):
        """How many values each position of the result reduces (at least 1)."""
        n = np.full(shape, 1.0 if self.include_self else 0.0, dtype=dtype)
        np.add.at(n, _grid(self.index, self.dim), 1.0)
        n[n == 0] = 1
        return n

    formulas = (("g where {0} takes part, ÷ count (mean), ⊙ the others' product (prod), "
                 "shared by the winners (amax/amin)", lambda s: _scatter_reduce_back(s, 0)),
                ("g picked at the index along dim, as for {0}", lambda s: _scatter_reduce_back(s, 1)))

    def backward(self, g, out, x, src):
        kw = dict(index=self.index, dim=self.dim)
        gx, gs = getattr(self, "_grad_" + self.reduce)(g, out, x, src, kw)
        if not self.include_self:
            gx = call(ScatterFill, gx, value=0, **kw)
        return gx, gs

    def _grad_sum(self, g, out, x, src, kw):
        return g, call(GatherDim, g, **kw)

    def _grad_mean(self, g, out, x, src, kw):
        gd = g / self._counts(x.shape, g.dtype)
        return gd, call(GatherDim, gd, **kw)

    def _grad_amax(self, g, out, x, src, kw):
        # ties share the gradient evenly, between x and src alike (torch's rule)
        xa, sa, oa = array(x), array(src), array(out)
        x_is = xa == oa
        src_is = sa == oa[_grid(self.index, self.dim)]
        n = x_is.astype(oa.dtype)
        np.add.at(n, _grid(self.index, self.dim), src_is)
        gd = g / n
        return call(Where, x_is, gd, 0.0), call(Where, src_is, call(GatherDim, gd, **kw), 0.0)

    _grad_amin = _grad_amax

    def _grad_prod(self, g, out, x, src, kw):
        # products without the element itself, computed again where it is 0 (torch's rule)
        xa, sa = array(x), array(src)
        attrs = dict(kw, reduce="prod", include_self=self.include_self)
        x_masked = call(Where, xa == 0, 1.0, x)
        gx = g * call(ScatterReduce, x_masked, src, **attrs) / x_masked
        src_zero = sa == 0
        zeros = np.zeros(xa.shape, dtype=np.int64)
        np.add.at(zeros, _grid(self.index, self.dim), src_zero)
        single = src_zero & (zeros[_grid(self.index, self.dim)] == 1)
        without = call(ScatterReduce, x, call(Where, single, 1.0, src), **attrs)
        gs = call(Where, single, call(GatherDim, g * without, **kw),
                  call(GatherDim, g * out, **kw) / call(Where, src_zero, 1.0, src))
        return gx, gs


def _int_identity(reduce, dtype):
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    extremes = {"amax": info.min if info else False, "amin": info.max if info else True}
    return extremes.get(reduce, _IDENTITY[reduce])


# -- argument checks -----------------------------------------------------------------------------------
def _as_index(index, fn):
    """An integer index (Tensor, array or list) as an int64 array."""
    a = np.asarray(index._data if isinstance(index, TensorBase) else index)
    if a.size == 0:
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{fn}(): Expected dtype int64 for index, got {a.dtype}")
    return a.astype(np.int64, copy=False)


def _dim(dim, ndim):
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not isinstance(dim, numbers.Integral) or not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim % ndim if ndim else 0


def _scatter_args(t, dim, index, src, fn):
    """``(t, dim, index, src)`` checked as torch does; 0-d operands as 1-D, ``src`` cut to ``index``."""
    index = _as_index(index, fn)
    d = _dim(dim, t.ndim)
    if max(t.ndim, 1) != max(index.ndim, 1):
        raise RuntimeError(f"{fn}(): Index tensor must have the same number of dimensions as input tensor, "
                           f"got index of shape {list(index.shape)} and input of shape {list(t.shape)}")
    t1 = t.reshape(1) if t.ndim == 0 else t
    index = index.reshape(index.shape or (1,))
    for i, n in enumerate(index.shape):
        if index.size and i != d and n > t1.shape[i]:
            raise RuntimeError(f"{fn}(): Size does not match at dimension {i} expected index "
                               f"{list(index.shape)} to be smaller than self {list(t.shape)} apart from "
                               f"dimension {d}")
        if index.size and src is not None and n > (src.shape or (1,))[i]:
            raise RuntimeError(f"{fn}(): Expected index {list(index.shape)} to be smaller than src "
                               f"{list(src.shape)} in every dimension")
    bad = (index < 0) | (index >= t1.shape[d])
    if bad.any():
        raise RuntimeError(f"{fn}(): index {index[bad][0]} is out of bounds for dimension {d} with size "
                           f"{t1.shape[d]}")
    if src is not None:
        _same_dtype(t, src, fn)
        src = src.reshape(1) if src.ndim == 0 else src
        src = src[tuple(slice(0, n) for n in index.shape)] if src.shape != index.shape else src
    return t1, d, index, src


def _same_dtype(t, src, fn):
    """``src``, when it has ``t``'s dtype (torch's RuntimeError otherwise)."""
    if src.dtype != t.dtype:
        raise RuntimeError(f"{fn}(): Expected self.dtype to be equal to src.dtype, got {t.dtype} and "
                           f"{src.dtype}")
    return src


def _value(t, value, fn):
    """A number or a 0-d tensor as a 0-d tensor of ``t``'s dtype."""
    if isinstance(value, TensorBase):
        if value.ndim != 0:
            raise RuntimeError(f"{fn} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        return value.to(t.dtype)
    return t._wrap(np.asarray(value, dtype=t.dtype))


def _dim_index(t, dim, index, fn):
    """``(d, full index)`` selecting ``index`` (1-D) along ``dim`` of ``t``; IndexError when out of range."""
    d = _dim(dim, t.ndim)
    index = _as_index(index, fn)
    if index.ndim > 1:
        raise IndexError(f"{fn}(): Index is supposed to be a vector, got shape {list(index.shape)}")
    index = index.reshape(-1)
    n = t.shape[d] if t.ndim else 1
    if ((index < -n) | (index >= n)).any():
        raise IndexError(f"{fn}(): index out of range in self (size {n} at dimension {d}, indices "
                         f"{index.tolist()})")
    return d, (slice(None),) * d + (index,)


def _source(t, d, index, source, fn, scalar):
    """``source`` checked against the slices of ``t`` it is written to; for a 0-d input (``scalar``,
    ``t`` is then its 1-D view) a 0-d source, as torch (``index_copy`` takes any one-element source)."""
    source = t._constant(source) if not isinstance(source, TensorBase) else source
    if scalar:
        if not (source.ndim == 0 or (fn == "index_copy" and source.numel() == 1)):
            raise RuntimeError(f"{fn}(): source tensor shape must match self tensor shape, excluding the "
                               f"specified dimension: got source of shape {list(source.shape)} for a 0-d "
                               "input")
        source = source.reshape(1)
    _same_dtype(t, source, fn)
    want = t.shape[:d] + (index[-1].size,) + t.shape[d + 1:]
    if source.shape != want:
        raise RuntimeError(f"{fn}(): source of shape {list(source.shape)} does not match the shape "
                           f"{list(want)} that the input of shape {list(t.shape)} and {index[-1].size} "
                           f"indices along dim {d} need")
    return source


def _mask(t, mask, fn):
    m = np.asarray(mask._data if isinstance(mask, TensorBase) else mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{fn} only supports boolean masks, but got mask with dtype {m.dtype}")
    try:
        ok = np.broadcast_shapes(m.shape, t.shape) == t.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"{fn}: the mask of shape {list(m.shape)} can not be broadcast to the input's "
                           f"shape {list(t.shape)}")
    return m


class IndexingMethods:
    """``Tensor``'s gather/scatter and indexing methods, out of place and in place."""

    __slots__ = ()

    def gather(self, dim, index, *, sparse_grad=False):
        """``out[i][j] = self[index[i][j]][j]`` for ``dim=0`` (and so on): the shape of ``index``."""
        x, d, idx, _ = _scatter_args(self, dim, index, None, "gather")
        return GatherDim.apply(x, index=idx, dim=d).reshape(np.shape(array(index)))

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        """A copy with ``src`` (or a number ``value``) written at ``index`` along ``dim`` (or ``reduce``d)."""
        if src is None:
            src = value
        if not isinstance(src, TensorBase):
            src = self._wrap(np.full(np.shape(array(index)), src, dtype=self.dtype))
        if reduce is not None:
            if reduce not in ("add", "multiply"):
                raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")
            return self.scatter_reduce(dim, index, src, {"add": "sum", "multiply": "prod"}[reduce])
        x, d, idx, src = _scatter_args(self, dim, index, src, "scatter")
        if not src.requires_grad:
            return ScatterFill.apply(x, index=idx, dim=d, value=src._data).reshape(self.shape)
        return ScatterDim.apply(x, src, index=idx, dim=d).reshape(self.shape)

    def scatter_add(self, dim, index, src):
        """A copy with ``src`` added at ``index`` along ``dim`` (repeated indices accumulate)."""
        x, d, idx, src = _scatter_args(self, dim, index, _operand(self, src), "scatter_add")
        added = ScatterAddDim.apply(src, index=idx, dim=d, shape=x.shape)
        return (x + added).reshape(self.shape)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        """``src`` reduced (``"sum" "prod" "mean" "amax" "amin"``) into a copy at ``index`` along ``dim``."""
        reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch accepts both spellings
        if reduce not in _UFUNCS:
            raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                               f"{reduce!r}")
        x, d, idx, src = _scatter_args(self, dim, index, _operand(self, src), "scatter_reduce")
        return ScatterReduce.apply(x, src, index=idx, dim=d, reduce=reduce,
                                   include_self=bool(include_self)).reshape(self.shape)

    def index_select(self, dim, index):
        """The slices at ``index`` (1-D) along ``dim``: that dim's size becomes ``len(index)``."""
        if self.ndim == 0:
            _, full = _dim_index(self.reshape(1), dim, index, "index_select")
            if full[-1].size != 1:
                raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                                   f"{full[-1].size} value(s)")
            return self.reshape(1)[full].reshape(())
        return self[_dim_index(self, dim, index, "index_select")[1]]

    def index_add(self, dim, index, source, *, alpha=1):
        """A copy with ``alpha * source`` added at ``index`` along ``dim`` (repeated indices accumulate)."""
        x = self.reshape(1) if self.ndim == 0 else self
        d, full = _dim_index(x, dim, index, "index_add")
        source = _source(x, d, full, source, "index_add", self.ndim == 0)
        if alpha != 1:
            source = source * alpha
        added = IndexAdd.apply(source, shape=x.shape, index=full, dtype=self.dtype)
        return (x + added).reshape(self.shape)

    def index_copy(self, dim, index, source):
        """A copy with ``source``'s slices written at ``index`` along ``dim``."""
        x = self.reshape(1) if self.ndim == 0 else self
        d, full = _dim_index(x, dim, index, "index_copy")
        source = _source(x, d, full, source, "index_copy", self.ndim == 0)
        return IndexPut.apply(x, source, index=full).reshape(self.shape)

    def index_fill(self, dim, index, value):
        """A copy with ``value`` (a number or a 0-d tensor) written at ``index`` along ``dim``."""
        x = self.reshape(1) if self.ndim == 0 else self
        d, full = _dim_index(x, dim, index, "index_fill")
        # each index once, so that the value's gradient counts each element once, as torch's
        full = full[:-1] + (np.unique(full[-1] % (x.shape[d] or 1)),)
        return IndexPut.apply(x, _value(self, value, "index_fill"), index=full).reshape(self.shape)

    def masked_fill(self, mask, value):
        """A copy with ``value`` (a number or a 0-d tensor) where the bool ``mask`` (broadcast) is True."""
        m = _mask(self, mask, "masked_fill")
        return Where.apply(self._wrap(m), _value(self, value, "masked_fill"), self)

    def masked_scatter(self, mask, source):
        """A copy with ``source``'s first elements written, in order, where ``mask`` (broadcast) is True."""
        m = np.array(np.broadcast_to(_mask(self, mask, "masked_scatter"), self.shape))
        n = int(m.sum())
        source = _operand(self, source)
        if source.numel() < n:
            raise RuntimeError(f"masked_scatter: expected source to have at least {n} elements (the True "
                               f"values of the mask), got {source.numel()}")
        flat = IndexPut.apply(self.reshape(-1), _same_dtype(self, source, "masked_scatter").reshape(-1)[:n],
                              index=m.reshape(-1))
        return flat.reshape(self.shape)

    def take(self, index):
        """The elements of the flattened tensor at ``index`` (negatives count from the end)."""
        idx = _as_index(index, "take")
        n = self.numel()
        if ((idx < -n) | (idx >= n)).any():
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"take(): out of range: tried to access index {bad} on a "
                             f"tensor of {n} elements.")
        return self.reshape(-1)[idx]

    def take_along_dim(self, indices, dim=None):
        """``gather`` along ``dim`` of ``self`` and ``indices`` broadcast in the other dims (None: flat)."""
        idx = _as_index(indices, "take_along_dim")
        if dim is None:
            return self.reshape(-1).gather(0, idx.reshape(-1))
        if self.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _dim(dim, self.ndim)
        if idx.ndim != self.ndim:
            raise RuntimeError("take_along_dim(): input and indices should have the same number of "
                               f"dimensions, but got {self.ndim} dimensions for input, and {idx.ndim} "
                               "dimensions for indices")
        try:
            rest = np.broadcast_shapes(self.shape[:d] + (1,) + self.shape[d + 1:],
                                       idx.shape[:d] + (1,) + idx.shape[d + 1:])
        except ValueError:
            raise RuntimeError(f"take_along_dim(): shapes {list(self.shape)} and {list(idx.shape)} cannot be "
                               f"broadcast apart from dimension {d}") from None
        x = self.expand(rest[:d] + (self.shape[d],) + rest[d + 1:])
        return x.gather(d, np.broadcast_to(idx, rest[:d] + (idx.shape[d],) + rest[d + 1:]))

    def put(self, index, source, accumulate=False):
        """A copy with ``source`` written (added if ``accumulate``) at flat positions ``index``."""
        idx = _as_index(index, "put").reshape(-1)
        source = _operand(self, source)
        if source.numel() != idx.size:
            raise IndexError(f"put(): Expected source and index to have the same number of elements, but got "
                               f"source.numel() = {source.numel()}, index.numel() = {idx.size}")
        n = self.numel()
        if ((idx < -n) | (idx >= n)).any():
            raise IndexError(f"put(): out of range: tried to access an index in {idx.tolist()} on a tensor "
                             f"of {n} elements.")
        flat, src = self.reshape(-1), _same_dtype(self, source, "put").reshape(-1)
        if accumulate:
            return (flat + IndexAdd.apply(src, shape=(n,), index=idx, dtype=self.dtype)).reshape(self.shape)
        return IndexPut.apply(flat, src, index=idx).reshape(self.shape)

    def masked_fill_(self, mask, value):
        """In place: ``masked_fill``; returns self."""
        return self._inplace(type(self).masked_fill, mask, value)

    def index_fill_(self, dim, index, value):
        """In place: ``index_fill``; returns self."""
        return self._inplace(type(self).index_fill, dim, index, value)

    def index_add_(self, dim, index, source, *, alpha=1):
        """In place: ``index_add``; returns self."""
        return self._inplace(type(self).index_add, dim, index, source, alpha=alpha)

    def index_copy_(self, dim, index, source):
        """In place: ``index_copy``; returns self."""
        return self._inplace(type(self).index_copy, dim, index, source)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        """In place: ``scatter``; returns self."""
        return self._inplace(type(self).scatter, dim, index, src, value, reduce=reduce)

    def scatter_add_(self, dim, index, src):
        """In place: ``scatter_add``; returns self."""
        return self._inplace(type(self).scatter_add, dim, index, src)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        """In place: ``scatter_reduce``; returns self."""
        return self._inplace(type(self).scatter_reduce, dim, index, src, reduce, include_self=include_self)

    def put_(self, index, source, accumulate=False):
        """In place: ``put``; returns self."""
        return self._inplace(type(self).put, index, source, accumulate)

    def masked_scatter_(self, mask, source):
        """In place: ``masked_scatter``; returns self."""
        return self._inplace(type(self).masked_scatter, mask, source)


def _operand(t, x):
    return x if isinstance(x, TensorBase) else t._constant(np.asarray(x, dtype=t.dtype))


__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_copy",
           "index_fill", "masked_fill", "masked_scatter", "take", "take_along_dim"]
for _name in __all__:
    globals()[_name] = function_of(getattr(IndexingMethods, _name))
del _name


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _written_back(s):
    """``g`` with zeros where the index along ``dim`` wrote (``scatter``'s input gradient)."""
    z = np.array(s.g)
    z[along_index(s.fn.index, s.fn.dim)] = 0
    return z


def _scattered(base, s, src, ufunc):
    """A copy of ``base`` with ``src`` reduced into it by ``ufunc`` at the primitive's index along dim."""
    out = np.array(base, dtype=np.result_type(base, src))
    ufunc.at(out, along_index(s.fn.index, s.fn.dim), src)
    return out


def _scatter_reduce_back(s, which):
    """``scatter_reduce``'s gradient for ``x`` (``which`` 0) or ``src`` (1): sum 1, mean 1 / count,
    prod the product of the others, amax/amin shared evenly by the values equal to the result (``x``'s
    among them even where ``include_self=False`` leaves it out, as torch)."""
    fn, x, src = s.fn, s.a, s.b
    at = along_index(fn.index, fn.dim)
    hit = _scattered(np.zeros(x.shape, dtype=bool), s, np.ones(src.shape, dtype=bool), np.logical_or)
    own = np.ones(x.shape, dtype=bool) if fn.include_self else ~hit  # where x takes part
    if fn.reduce in ("sum", "mean"):
        count = _scattered(own * 1.0, s, np.ones(src.shape), np.add) if fn.reduce == "mean" else 1.0
        gd = s.g / np.maximum(count, 1.0)
        return np.where(own, gd, 0.0) if which == 0 else gd[at]
    if fn.reduce == "prod":
        base = np.where(own, x, 1.0)
        if which == 0:
            return np.where(own, s.g * _scattered(np.ones_like(x), s, src, np.multiply), 0.0)
        others = s.o[at] / np.where(src == 0, 1.0, src)
        for k in zip(*np.nonzero(src == 0)):  # a zero: the others' product, made again without it
            alone = np.array(src)
            alone[k] = 1.0
            others[k] = _scattered(base, s, alone, np.multiply)[at][k]
        return s.g[at] * others
    x_wins = x == s.o  # counted even where x takes no part (torch's rule, include_self=False)
    src_wins = src == s.o[at]
    gd = s.g / _scattered(x_wins * 1.0, s, src_wins * 1.0, np.add)
    return np.where(own & x_wins, gd, 0.0) if which == 0 else np.where(src_wins, gd[at], 0.0)
