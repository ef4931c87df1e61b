"""Reductions and the stable softmax family: sum, mean, prod, max/min, amax/amin/aminmax, median,
nanmedian, mode, kthvalue, quantile, nanquantile, nansum, nanmean, count_nonzero, any/all, norm, dist,
var/std (and var_mean/std_mean), logsumexp, softmax, log_softmax, argmax/argmin.

On arrays the ufuncs' own ``reduce`` is called (``np.add.reduce`` is what ``ndarray.sum`` runs, without
the Python wrapper that costs more than the reduction on small arrays).

Reductions that pick an element (``max(dim)``, ``median(dim)``, ``mode``, ``kthvalue``, quantiles) return
its value through ``TakeAlong`` (sort.py), so the gradient goes to the element whose index they return,
as torch; ``max()``/``min()``/``median()`` without a dim split it evenly among equal elements (torch's
``evenly_distribute_backward``), and ``amax``/``amin`` among the ties of each slice.
"""
import builtins
import functools
import math
import numbers

import numpy as np

from ..primitive import Primitive, TensorBase, array, call
from ._util import DtypeError, keepdim_shape, one_dim, quiet, reduce_dims
from .elementwise import Exp, Where, maximum, minimum, where
from .scan import Cumprod, with_dtype as _cast
from .shape import Cat, Expand, Index, Reshape
from .sort import mirror, numpy_names, return_type, select_along, stable_order
from ._formulas import along

__all__ = ["sum", "mean", "prod", "amax", "amin", "aminmax", "max", "min", "argmax", "argmin", "median",
           "nanmedian", "mode", "kthvalue", "quantile", "nanquantile", "nansum", "nanmean", "count_nonzero",
           "any", "all", "norm", "dist", "var", "std", "var_mean", "std_mean", "logsumexp", "softmax",
           "log_softmax"]


def _expand_back(g, shape, axes, keepdim):
    """Gradient of a reduction over ``axes``: put the reduced dims back and broadcast to ``shape``."""
    if not keepdim:
        g = call(Reshape, g, shape=keepdim_shape(shape, axes))
    return call(Expand, g, shape=shape, materialize=True)


class Sum(Primitive):
    name = "sum"
    saves_inputs = False

    def forward(self, a):
        self.shape = a.shape
        return np.add.reduce(a, axis=self.axes, keepdims=self.keepdim)

    formulas = (("g expanded to {s0}", lambda s: np.broadcast_to(_keepdim(s, s.g), s.a.shape)),)

    def backward(self, g, out, a):
        return (_expand_back(g, self.shape, self.axes, self.keepdim),)


_ONES = {}


def column_sums(a):
    """``a.sum(0)`` of a 2-D array as a matrix-vector product: NumPy's reduction down the rows of a
    narrow matrix is up to 15x slower than BLAS's gemv (``(4096, 16)``: 66 us against 4 us)."""
    key = (a.shape[0], a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(a.shape[0], dtype=a.dtype)
    return ones @ a


class SumRows(Primitive):
    """``(n, k) -> (k,)``: the column sums of a matrix (a bias gradient), as one BLAS gemv."""

    name = "sum"
    saves_inputs = False

    def forward(self, a):
        return column_sums(a)

    formulas = Sum.formulas

    def backward(self, g, out, a):
        return (call(Expand, g, shape=a.shape, materialize=True),)


class Mean(Primitive):
    name = "mean"
    saves_inputs = False

    def forward(self, a):
        self.shape = a.shape
        self.n = n = math.prod([a.shape[i] for i in self.axes])
        if a.dtype.kind != "f":  # NumPy's dtype rules for ints
            return a.mean(axis=self.axes, keepdims=self.keepdim)
        total = np.add.reduce(a, axis=self.axes, keepdims=self.keepdim)
        if n == 0:  # torch: nan, without NumPy's warning
            return np.full(np.shape(total), np.nan, dtype=a.dtype)
        return total / n  # what ndarray.mean does

    formulas = (("g / n expanded to {s0}",  # (an empty input: an empty gradient, whatever n)
                 lambda s: np.broadcast_to(_keepdim(s, s.g) * (s.o.size / builtins.max(s.a.size, 1)),
                                           s.a.shape)),)

    def backward(self, g, out, a):
        return (_expand_back(g * (1.0 / self.n) if self.n else g * np.nan, self.shape, self.axes,
                             self.keepdim),)


def _check_not_empty(name, shape, axes):
    """torch's IndexError for a reduction without identity over an empty dimension."""
    for d in axes:
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size (input of shape "
                             f"{shape})")


def _check_numel(name, shape):
    """torch's RuntimeError for a reduction without identity over every dim of an empty tensor."""
    if 0 in shape:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0 (an "
                           f"empty tensor of shape {shape}); specify the reduction dim with the 'dim' "
                           "argument")


class _Extreme(Primitive):
    """``reduce`` (``np.max`` or ``np.min``) over ``axes`` (None: every element, 0-d), after torch's
    checks: over every dim (``whole``) of an empty tensor a RuntimeError, over an empty dim an
    IndexError; ``op`` is the name torch's messages give."""

    axes = None
    keepdim = False
    whole = False

    def forward(self, a):
        if self.whole:
            _check_numel(self.op, a.shape)
        elif self.axes:
            _check_not_empty(self.op, a.shape, self.axes)
        return np.asarray(self.reduce(a, axis=self.axes, keepdims=self.keepdim))


class Amax(_Extreme):
    """``max`` over dims; ties share the gradient evenly (torch's ``amax``)."""

    name, op = "max", "amax"
    saves_output = True
    reduce = staticmethod(np.max)

    formulas = (("g to the maxima of {0} (shared at ties)", lambda s: _max_grad(s)),)

    def backward(self, g, out, a):
        x = array(a)
        o = array(out) if self.keepdim else array(out).reshape(keepdim_shape(x.shape, self.axes))
        mask = x == o
        with quiet():  # a nan max matches nothing: 0 / 0 = nan, as torch
            share = mask / mask.sum(axis=self.axes, keepdims=True).astype(x.dtype)
        return (_expand_back(g, x.shape, self.axes, self.keepdim) * share,)


class Amin(Amax):
    name, op = "min", "amin"
    reduce = staticmethod(np.min)
    formulas = (("g to the minima of {0} (shared at ties)", lambda s: _max_grad(s)),)


class LogSumExp(Primitive):
    name = "logsumexp"
    saves_output = True

    def forward(self, a):
        m = a.max(axis=self.axes, keepdims=True, initial=-np.inf)  # initial: an empty sum is log 0
        m = np.where(np.isfinite(m), m, 0.0).astype(a.dtype)
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(a - m).sum(axis=self.axes, keepdims=True)) + m
        return out if self.keepdim else np.squeeze(out, axis=self.axes)

    formulas = (("g ⊙ exp({0} − o)", lambda s: _keepdim(s, s.g) * np.exp(s.a - _keepdim(s, s.o))),)

    def backward(self, g, out, a):
        if not self.keepdim:
            ks = keepdim_shape(a.shape, self.axes)
            g, out = call(Reshape, g, shape=ks), call(Reshape, out, shape=ks)
        return (g * call(Exp, a - out),)


def log_softmax_array(x, axis):
    """``x - logsumexp(x)`` along ``axis`` of an array, stable for huge inputs."""
    if x.size == 0:  # nothing to normalise: an empty result, as torch
        return x.copy()
    shifted = x - np.maximum.reduce(x, axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis, keepdims=True))


class Softmax(Primitive):
    name = "softmax"
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        if a.size == 0:  # nothing to normalise: an empty result, as torch
            return a.copy()
        e = np.exp(a - np.maximum.reduce(a, axis=self.dim, keepdims=True))
        return e / np.add.reduce(e, axis=self.dim, keepdims=True)

    formulas = (("o ⊙ (g − Σ g⊙o)", lambda s: s.o * (s.g - (s.g * s.o).sum(axis=s.fn.dim, keepdims=True))),)

    def backward(self, g, out, a):
        axes = (self.dim,) if out.ndim else ()
        return (out * (g - call(Sum, g * out, axes=axes, keepdim=True)),)


class LogSoftmax(Primitive):
    name = "log_softmax"
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return log_softmax_array(a, self.dim)

    formulas = (("g − exp(o) ⊙ Σ g", lambda s: s.g - np.exp(s.o) * s.g.sum(axis=s.fn.dim, keepdims=True)),)

    def backward(self, g, out, a):
        axes = (self.dim,) if out.ndim else ()
        return (g - call(Exp, out) * call(Sum, g, axes=axes, keepdim=True),)


# -- variance ------------------------------------------------------------------------------------------
class Var(Primitive):
    """The variance over ``axes`` divided by ``n - correction`` (two passes: the mean, then the squared
    deviations); the gradient is torch's ``var_backward``, so second order follows torch's formula."""

    name = "var"

    def forward(self, a):
        n = math.prod([a.shape[i] for i in self.axes])
        with quiet():  # n = 0: nan, n <= correction: inf or nan, as torch
            d = a - np.add.reduce(a, axis=self.axes, keepdims=True) / n
            return np.add.reduce(d * d, axis=self.axes, keepdims=self.keepdim) / builtins.max(
                n - self.correction, 0)

    formulas = (("2/(n − correction) · g ⊙ ({0} − mean)", lambda s: _var_grad(s)),)

    def backward(self, g, out, a):
        return (_var_backward(self, g, a),)


class Std(Var):
    """``sqrt(var)``; torch's ``std_backward``: ``var_backward`` of ``g / (2 std)``, 0 where std is 0."""

    name = "std"
    saves_output = True

    def forward(self, a):
        with quiet():
            return np.sqrt(Var.forward(self, a))

    formulas = (("var's, of g / (2·o) (0 where o = 0)", lambda s: _std_grad(s)),)

    def backward(self, g, out, a):
        with quiet():
            return (_var_backward(self, call(Where, array(out) == 0, 0.0, g / (out * 2.0)), a),)


def _var_attrs(name, t, dim, unbiased, keepdim, correction):
    """``Var``'s attributes from torch's arguments (``var(unbiased)``, ``var(dim, unbiased, keepdim)`` or
    ``var(dim, *, correction, keepdim)``): the axes, ``keepdim``, the correction and whether every element
    is reduced as torch's ``dim=None`` (or a 0-d input) is: its gradient differs when ``n <= correction``."""
    if t.dtype.kind != "f":
        raise DtypeError(f"std and var only support floating point dtypes, got {t.dtype}")
    if isinstance(dim, bool):  # torch's var(unbiased)
        if unbiased is not None:
            raise TypeError(f"{name}(): got unbiased twice ({dim!r} and unbiased={unbiased!r})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): pass correction={correction!r} or unbiased={unbiased!r}, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dict(axes=reduce_dims(dim, t.ndim), keepdim=keepdim, correction=correction,
                whole=dim is None or t.ndim == 0)


def _var_backward(fn, g, a):
    """torch's ``var_backward``: ``(2 / (n - correction)) g (x - mean)``; over the whole tensor with
    ``n <= correction``, ``g * (nan where x == mean, else inf)``."""
    n = math.prod([a.shape[i] for i in fn.axes])
    mean = call(Mean, a, axes=fn.axes, keepdim=True)
    if fn.whole and n <= fn.correction:
        x = array(a)
        return g * np.where(x == array(mean), np.nan, np.inf).astype(x.dtype)
    if not fn.keepdim:
        g = call(Reshape, g, shape=keepdim_shape(a.shape, fn.axes))
    dof = n - fn.correction
    return (2.0 / dof if dof else math.inf) * g * (a - mean)


# -- reductions that pick an element ------------------------------------------------------------------
class _EvenlyDistributed(Primitive):
    """A value of the whole tensor (0-d); its gradient is shared evenly by the elements equal to it (by
    the nans when it is nan), as torch's ``max()``, ``min()`` and ``median()``."""

    formulas = (("g shared by the elements of {0} equal to o", lambda s: _evenly(s)),)

    def backward(self, g, out, a):
        x, o = array(a), array(out)
        mask = np.isnan(x) if np.isnan(o) else x == o
        return (call(Where, mask, g / float(np.count_nonzero(mask)), 0.0),)


class MaxAll(_EvenlyDistributed, _Extreme):
    name = op = "max"
    reduce = staticmethod(np.max)
    whole = True


class MinAll(MaxAll):
    name = op = "min"
    reduce = staticmethod(np.min)


class MedianAll(_EvenlyDistributed):
    """The lower median of every element (nan if one is nan; ``ignore_nan``: of the others)."""

    name = "median"
    ignore_nan = False

    def forward(self, a):
        flat = a.reshape(-1)
        if a.dtype.kind == "f":
            nan = np.isnan(flat)
            if nan.any():
                if not self.ignore_nan:
                    return np.asarray(np.nan, dtype=a.dtype)
                flat = flat[~nan]
            if flat.size == 0:
                return np.asarray(np.nan, dtype=a.dtype)
        elif flat.size == 0:
            raise IndexError(f"{self.name}(): cannot take the median of an empty {a.dtype} tensor")
        k = (flat.size - 1) // 2
        return np.asarray(np.partition(flat, k)[k])


class Prod(Primitive):
    """Product along one ``dim``; the gradient is exact with zeros (the product of the others), as torch."""

    name = "prod"

    def forward(self, a):
        return np.multiply.reduce(a, axis=self.dim, keepdims=self.keepdim)

    formulas = (("g ⊙ Π of the others along dim  (o / {0} without zeros)", lambda s: _prod_back(s)),)

    def backward(self, g, out, a):
        if not self.keepdim:
            ks = keepdim_shape(a.shape, (self.dim,))
            g, out = call(Reshape, g, shape=ks), call(Reshape, out, shape=ks)
        if (array(a) != 0).all():  # torch's fast path
            with quiet():
                return (g * (out / a),)
        return (g * _products_of_the_others(a, self.dim),)


def _products_of_the_others(a, d):
    """``prod_{l != i} a_l`` along ``d`` for every ``i``, without division: the running products from
    the left and from the right, each shifted by one (torch's ``prod_safe_zeros_backward``)."""
    n = a.shape[d]
    one = np.ones(keepdim_shape(a.shape, (d,)), dtype=a.dtype)
    lead = (slice(None),) * d
    before = call(Cumprod, call(Cat, one, call(Index, a, index=lead + (slice(0, n - 1),)), dim=d), dim=d)
    reversed_rest = call(Index, a, index=lead + (slice(n - 1, 0, -1),))  # a_{n-1}, ..., a_1
    after = call(Cumprod, call(Cat, one, reversed_rest, dim=d), dim=d)
    return before * call(Index, after, index=lead + (slice(None, None, -1),))


MAX, MIN, MEDIAN, NANMEDIAN = (return_type(n) for n in ("max", "min", "median", "nanmedian"))
MODE, KTHVALUE = return_type("mode"), return_type("kthvalue")
AMINMAX = return_type("aminmax", ("min", "max"))


def _int_dim(name, dim, ndim):
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}(): dim must be an int, got {dim!r}"
                        + (" (amax/amin reduce several dims)" if name in ("max", "min") else ""))
    return one_dim(dim, ndim)


def _value_index(t, name, dim, keepdim, pick, result):
    """``result(values, indices)`` of a reduction over one ``dim`` that picks an element: ``pick(array,
    axis)`` gives its indices (keepdims); the values are the elements there, with their gradient."""
    d = _int_dim(name, dim, t.ndim)
    x = t._data.reshape(1) if t.ndim == 0 else t._data
    _check_not_empty(name, x.shape, (d,))
    index = np.asarray(pick(x, d), dtype=np.int64)
    if t.ndim == 0:
        index = index.reshape(())
    values = select_along(t, index, d)
    if not keepdim and t.ndim:
        index = np.squeeze(index, d)
        values = values.reshape(index.shape)
    return result(values, t._wrap(index))


def _order_index(a, axis, rank):
    """The index of the element of ``rank`` (an int array, keepdims) in the stable ascending order."""
    order = stable_order(a, axis)
    return np.take_along_axis(order, np.broadcast_to(rank, keepdim_shape(a.shape, (axis,))), axis)


def _median_index(a, axis, ignore_nan=False):
    """The lower median's index along ``axis``: the first nan where there is one (torch's median), or
    the lower median of the others (nanmedian; torch's middle nan when all are nan)."""
    n = a.shape[axis]
    nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, dtype=bool)
    if ignore_nan:
        count = n - np.count_nonzero(nan, axis=axis, keepdims=True)
        return _order_index(a, axis, np.where(count == 0, n, count) - 1 >> 1)
    index = _order_index(a, axis, np.asarray((n - 1) // 2))
    return np.where(nan.any(axis=axis, keepdims=True), np.argmax(nan, axis=axis, keepdims=True), index)


def _mode_index(a, axis):
    """The index of the most frequent value along ``axis`` (the smallest of equally frequent values;
    its last occurrence, as torch)."""
    x = np.moveaxis(a, axis, -1)
    n = x.shape[-1]
    s = np.sort(x, axis=-1)
    new = np.ones(s.shape, dtype=bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]
    pos = np.arange(n)
    run = pos - np.maximum.accumulate(np.where(new, pos, 0), axis=-1)  # run length so far, minus 1
    value = np.take_along_axis(s, np.argmax(run, axis=-1, keepdims=True), -1)
    last = n - 1 - np.argmax(np.flip(x == value, -1), axis=-1, keepdims=True)
    return np.moveaxis(last, -1, axis)


def _argmax(a, axis):
    return np.argmax(a, axis=axis, keepdims=True)


def _argmin(a, axis):
    return np.argmin(a, axis=axis, keepdims=True)


def _argreduce(t, fn, dim, keepdim):
    name = fn.__name__
    if dim is None:
        if t._data.size == 0:  # torch: an IndexError here, a RuntimeError for max()
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0 "
                             f"(input of shape {t.shape})")
        out = fn(t._data.reshape(-1), axis=0)
        return t._wrap(np.asarray(out, dtype=np.int64).reshape((1,) * t.ndim if keepdim else ()))
    d = one_dim(dim, t.ndim)
    if t.ndim:
        _check_not_empty(name, t.shape, (d,))
    return t._wrap(fn(t._data, axis=d, keepdims=keepdim).astype(np.int64))


# -- quantiles ---------------------------------------------------------------------------------------
_ROUND = {"lower": np.floor, "higher": np.ceil, "nearest": np.round, "linear": None, "midpoint": None}


def _quantile_q(t, q, name):
    """``q`` as a 0-d or 1-D array of ``t``'s dtype, checked as torch checks it."""
    if t.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype, got {t.dtype}")
    if t._data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    qa = np.asarray(array(q), dtype=t.dtype)
    if qa.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor, got shape {qa.shape}")
    if ((qa < 0) | (qa > 1)).any() or np.isnan(qa).any():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1], got {qa.tolist()}")
    return qa


def _quantile(t, q, dim, keepdim, interpolation, ignore_nan):
    """torch's quantile: ranks ``q * (n - 1)`` in the stable sort along ``dim`` (n counts the non-nan
    elements for nanquantile), rounded as ``interpolation`` says, the two neighbours mixed linearly."""
    name = "nanquantile" if ignore_nan else "quantile"
    if interpolation not in _ROUND:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or "
                           f"nearest. Got {interpolation!r}")
    qa = _quantile_q(t, q, name)
    x, d = (t.reshape(-1), 0) if dim is None or t.ndim == 0 else (t, _int_dim(name, dim, t.ndim))
    if dim is not None and t.ndim == 0:
        one_dim(dim, 0)  # the range check
    xa = x._data
    n = xa.shape[d]
    nan = np.isnan(xa)
    qs = qa.reshape((-1,) + (1,) * xa.ndim)  # the q dimension in front, as torch
    if ignore_nan:
        ranks = qs * (n - np.count_nonzero(nan, axis=d, keepdims=True) - 1)
        ranks = np.maximum(ranks, 0)  # every element nan: rank 0, a nan
    else:
        ranks = np.where(nan.any(axis=d, keepdims=True), n - 1, qs * (n - 1))  # a nan: the last, a nan
    if _ROUND[interpolation] is not None:
        ranks = _ROUND[interpolation](ranks)
    order = np.broadcast_to(stable_order(xa, d), (len(qs),) + xa.shape)
    below = np.floor(ranks).astype(np.int64)
    wide = x.reshape((1,) + xa.shape).expand((len(qs),) + xa.shape)
    out = select_along(wide, np.take_along_axis(order, below, d + 1), d + 1)
    if interpolation in ("linear", "midpoint"):
        above = np.take_along_axis(order, np.ceil(ranks).astype(np.int64), d + 1)
        weight = (ranks - below if interpolation == "linear" else np.full(ranks.shape, 0.5)).astype(xa.dtype)
        out = out + (select_along(wide, above, d + 1) - out) * weight
    if dim is None:
        shape = (1,) * t.ndim if keepdim else ()
    else:
        shape = keepdim_shape(t.shape, (d,)) if keepdim else t.shape[:d] + t.shape[d + 1:]
    return out.reshape(((len(qs),) if qa.ndim else ()) + shape)


# -- norms ---------------------------------------------------------------------------------------------
def _root(s, p):
    """``s ** (1 / p)`` with a zero gradient where ``s`` is 0 (torch's norm at 0), not ``inf * 0``."""
    zero = array(s) == 0
    if not zero.any():
        return s ** (1.0 / p)
    return where(zero, 0.0, where(zero, 1.0, s) ** (1.0 / p))


def _vector_norm(x, p, axes, keepdim):
    """``sum(|x| ** p) ** (1 / p)`` over ``axes``; ``p`` inf/-inf the largest/smallest ``|x|``, 0 the
    number of non-zeros (zero gradient); gradients 0 where the norm is 0, as torch."""
    if p == "fro":
        p = 2
    if isinstance(p, str) or not isinstance(p, numbers.Real):
        raise ValueError(f"norm(): p must be 'fro' or a number, got {p!r} (nuclear norms are not supported)")
    p = float(p)
    if p == 2:
        return _root((x * x).sum(axes, keepdim), 2.0)
    a = x.abs()
    if math.isinf(p):
        if any_empty(x.shape, axes):
            raise RuntimeError(f"norm(): cannot compute the {p} norm over an empty dimension (input of shape "
                               f"{x.shape}): the operation has no identity")
        return a.amax(axes, keepdim) if p > 0 else a.amin(axes, keepdim)
    if p == 1:
        return a.sum(axes, keepdim)
    zero = array(a) == 0
    if p == 0:
        return where(zero, 0.0, a ** 0).sum(axes, keepdim)
    if p > 0 and zero.any():  # |0| ** p is 0 with gradient 0, not 0 * inf
        a = where(zero, 0.0, where(zero, 1.0, a) ** p)
    else:
        a = a ** p
    return _root(a.sum(axes, keepdim), p)


# -- Tensor methods ----------------------------------------------------------------------------------
def _int_sum_dtype(t, dtype):
    """torch's result dtype of a sum or product: int64 for bool and integer tensors."""
    return np.int64 if dtype is None and t.dtype.kind in "biu" else dtype


class ReduceMethods:
    """``Tensor``'s reductions; ``dim`` is an int, a tuple, or None (or ``()``) for every dimension;
    NumPy's ``axis=``/``keepdims=`` are accepted too, as torch accepts them."""

    __slots__ = ()

    @numpy_names
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        """Sum over ``dim``: ``(*)`` -> the shape without ``dim`` (kept as 1 with ``keepdim``); bools and
        integers give int64; ``dtype`` casts the input first."""
        t = self
        if dtype is not None or self._data.dtype.kind != "f":
            t = _cast(self, _int_sum_dtype(self, dtype))
        return Sum.apply(t, axes=reduce_dims(dim, t.ndim), keepdim=keepdim)

    @numpy_names
    def mean(self, dim=None, keepdim=False, *, dtype=None):
        """Mean over ``dim`` (floating point tensors only, as torch; ``dtype`` casts first); empty: nan."""
        t = self if dtype is None else _cast(self, dtype)
        if t._data.dtype.kind != "f":
            raise DtypeError(f"mean(): input dtype should be floating point, got {t.dtype}")
        return Mean.apply(t, axes=reduce_dims(dim, t.ndim), keepdim=keepdim)

    @numpy_names
    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """Product over one int ``dim`` or all; the gradient is exact with zeros, as torch."""
        t = _cast(self, _int_sum_dtype(self, dtype))
        if dim is None:
            out = Prod.apply(t.reshape(-1), dim=0, keepdim=False)
            return out.reshape((1,) * t.ndim) if keepdim else out
        d = _int_dim("prod", dim, t.ndim)
        if t.ndim == 0:
            return Prod.apply(t.reshape(1), dim=0, keepdim=False)
        return Prod.apply(t, dim=d, keepdim=keepdim)

    @numpy_names
    def amax(self, dim=None, keepdim=False):
        """Largest value over ``dim``; ties share the gradient evenly."""
        return Amax.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim, whole=dim is None)

    @numpy_names
    def amin(self, dim=None, keepdim=False):
        """Smallest value over ``dim``; ties share the gradient evenly."""
        return Amin.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim, whole=dim is None)

    @numpy_names
    def aminmax(self, *, dim=None, keepdim=False):
        """``return_types.aminmax(min, max)`` over one int ``dim`` or all (as ``amin``, ``amax``)."""
        axes = reduce_dims(None if dim is None else _int_dim("aminmax", dim, self.ndim), self.ndim)
        if any_empty(self.shape, axes):
            raise RuntimeError(f"aminmax(): cannot compute aminmax over an empty dimension as the operation "
                               f"has no identity (input of shape {self.shape})")
        return AMINMAX(Amin.apply(self, axes=axes, keepdim=keepdim),
                       Amax.apply(self, axes=axes, keepdim=keepdim))

    @numpy_names
    def max(self, dim=None, keepdim=False):
        """``max()``: the largest value (0-d; ties share the gradient); ``max(dim)``:
        ``return_types.max(values, indices)`` (the first largest; gradient to it); ``max(other)``:
        ``maximum``."""
        if isinstance(dim, TensorBase):
            return maximum(self, dim)
        if dim is None:
            return MaxAll.apply(self)
        return _value_index(self, "max", dim, keepdim, _argmax, MAX)

    @numpy_names
    def min(self, dim=None, keepdim=False):
        """``min()``, ``min(dim)`` (``return_types.min``) or ``min(other)`` (``minimum``), as ``max``."""
        if isinstance(dim, TensorBase):
            return minimum(self, dim)
        if dim is None:
            return MinAll.apply(self)
        return _value_index(self, "min", dim, keepdim, _argmin, MIN)

    @numpy_names
    def median(self, dim=None, keepdim=False):
        """``median()``: the lower median (0-d, nan if any is nan); ``median(dim)``:
        ``return_types.median(values, indices)``, gradient to the element picked."""
        if dim is None:
            return MedianAll.apply(self)
        return _value_index(self, "median", dim, keepdim, _median_index, MEDIAN)

    @numpy_names
    def nanmedian(self, dim=None, keepdim=False):
        """``median`` ignoring nans (nan only where every element is nan)."""
        if dim is None:
            return MedianAll.apply(self, ignore_nan=True)
        pick = functools.partial(_median_index, ignore_nan=True)
        return _value_index(self, "nanmedian", dim, keepdim, pick, NANMEDIAN)

    @numpy_names
    def mode(self, dim=-1, keepdim=False):
        """``return_types.mode(values, indices)``: the most frequent value along ``dim`` (the smallest of
        equally frequent ones) and its last index; gradient to that element."""
        return _value_index(self, "mode", dim, keepdim, _mode_index, MODE)

    @numpy_names
    def kthvalue(self, k, dim=-1, keepdim=False):
        """``return_types.kthvalue(values, indices)``: the ``k``-th smallest (1-based) along ``dim``."""
        n = self.shape[one_dim(dim, self.ndim)] if self.ndim else 1
        if not isinstance(k, numbers.Integral) or not 1 <= k <= n:
            raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {dim} of size "
                               f"{n}")
        pick = functools.partial(_order_index, rank=np.asarray(k - 1))
        return _value_index(self, "kthvalue", dim, keepdim, pick, KTHVALUE)

    @numpy_names
    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        """The ``q``-quantiles (a float, or a 1-D tensor: a leading dimension) over ``dim`` or all;
        ``interpolation`` linear, lower, higher, midpoint or nearest; nan where a nan is present."""
        return _quantile(self, q, dim, keepdim, interpolation, ignore_nan=False)

    @numpy_names
    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        """``quantile`` ignoring nans (nan only where every element is nan)."""
        return _quantile(self, q, dim, keepdim, interpolation, ignore_nan=True)

    @numpy_names
    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        """``sum`` counting nans as 0 (their gradient is 0)."""
        t = _cast(self, _int_sum_dtype(self, dtype))
        if t.dtype.kind == "f":
            nan = np.isnan(t._data)
            if nan.any():
                t = where(nan, 0.0, t)
        return t.sum(dim, keepdim)

    @numpy_names
    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        """``mean`` of the elements that are not nan (nan where every element is nan)."""
        t = _cast(self, dtype)
        if t.dtype.kind != "f":
            raise DtypeError(f"nanmean(): input dtype should be floating point, got {t.dtype}")
        count = np.count_nonzero(~np.isnan(t._data), axis=reduce_dims(dim, t.ndim) or None, keepdims=keepdim)
        return t.nansum(dim, keepdim) / np.asarray(count, dtype=t.dtype)

    @numpy_names
    def count_nonzero(self, dim=None):
        """The number of non-zero elements over ``dim`` (int64)."""
        axes = reduce_dims(dim, self.ndim)
        return self._wrap(np.asarray(np.count_nonzero(self._data, axis=axes or None), dtype=np.int64))

    @numpy_names
    def any(self, dim=None, keepdim=False):
        """True where any element over ``dim`` is non-zero (bool)."""
        return self._wrap(np.any(self._data, axis=reduce_dims(dim, self.ndim), keepdims=keepdim))

    @numpy_names
    def all(self, dim=None, keepdim=False):
        """True where every element over ``dim`` is non-zero (bool)."""
        return self._wrap(np.all(self._data, axis=reduce_dims(dim, self.ndim), keepdims=keepdim))

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The vector ``p``-norm over ``dim`` or all (``"fro"`` = 2, ``inf``, ``-inf``, 0, any number);
        the gradient is 0 where the norm is 0, as torch."""
        t = _cast(self, dtype)
        return _vector_norm(t, p, reduce_dims(dim, t.ndim), keepdim)

    def dist(self, other, p=2):
        """``(self - other).norm(p)``, broadcast (0-d)."""
        return (self - other).norm(p)

    @numpy_names
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Variance over ``dim``, divided by ``n - correction`` (default 1, Bessel's; ``unbiased=False``
        is 0); torch's positional order ``(dim, unbiased, keepdim)``, and ``var(False)`` over all."""
        return Var.apply(self, **_var_attrs("var", self, dim, unbiased, keepdim, correction))

    @numpy_names
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Square root of ``var`` (same arguments); its gradient is torch's ``g / (2 std)``, 0 where the
        std is 0."""
        return Std.apply(self, **_var_attrs("std", self, dim, unbiased, keepdim, correction))

    @numpy_names
    def logsumexp(self, dim=None, keepdim=False):
        """``log(sum(exp(x)))`` over ``dim``, stable for huge inputs (empty: ``-inf``)."""
        return LogSumExp.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)

    @numpy_names
    def softmax(self, dim):
        """``exp(x) / sum(exp(x))`` along ``dim``, stable for huge inputs; same shape."""
        return Softmax.apply(self, dim=one_dim(dim, self.ndim))

    @numpy_names
    def log_softmax(self, dim):
        """``x - logsumexp(x)`` along ``dim``, stable for huge inputs; same shape."""
        return LogSoftmax.apply(self, dim=one_dim(dim, self.ndim))

    @numpy_names
    def argmax(self, dim=None, keepdim=False):
        """Index (int64) of the (first) largest value over ``dim``, or of the flattened tensor; no grad."""
        return _argreduce(self, np.argmax, dim, keepdim)

    @numpy_names
    def argmin(self, dim=None, keepdim=False):
        """Index (int64) of the (first) smallest value over ``dim``, or of the flattened tensor; no grad."""
        return _argreduce(self, np.argmin, dim, keepdim)


def any_empty(shape, axes):
    """True when one of ``axes`` of ``shape`` has size 0."""
    return 0 in [shape[d] for d in axes]


# -- module functions --------------------------------------------------------------------------------
@numpy_names
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The tuple ``(var, mean)`` over ``dim`` (torch.var_mean; arguments as ``var``)."""
    return _with_mean(input.var, input, dim, unbiased, keepdim, correction)


@numpy_names
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The tuple ``(std, mean)`` over ``dim`` (torch.std_mean; arguments as ``std``)."""
    return _with_mean(input.std, input, dim, unbiased, keepdim, correction)


def _with_mean(stat, input, dim, unbiased, keepdim, correction):
    """``(stat(dim, unbiased, keepdim, correction=correction), mean)`` over the same dims (a bool
    ``dim`` is torch's ``unbiased``: every dim)."""
    mean_dim = None if isinstance(dim, bool) else dim
    return stat(dim, unbiased, keepdim, correction=correction), input.mean(mean_dim, keepdim)


sum = mirror("sum")
mean = mirror("mean")
prod = mirror("prod")
amax = mirror("amax")
amin = mirror("amin")
aminmax = mirror("aminmax")
max = mirror("max")
min = mirror("min")
argmax = mirror("argmax")
argmin = mirror("argmin")
median = mirror("median")
nanmedian = mirror("nanmedian")
mode = mirror("mode")
kthvalue = mirror("kthvalue")
quantile = mirror("quantile")
nanquantile = mirror("nanquantile")
nansum = mirror("nansum")
nanmean = mirror("nanmean")
count_nonzero = mirror("count_nonzero")
any = mirror("any")
all = mirror("all")
norm = mirror("norm")
dist = mirror("dist")
var = mirror("var")
std = mirror("std")
logsumexp = mirror("logsumexp")
softmax = mirror("softmax")
log_softmax = mirror("log_softmax")


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _axes(s):
    """The dims a reduction removed: its ``axes``, else read off the shapes (``(n, k) -> (k,)``: dim 0)."""
    axes = getattr(s.fn, "axes", None)
    if axes is None:
        lead = s.a.ndim - s.o.ndim
        axes = tuple(range(lead)) if 0 < lead and s.o.shape == s.a.shape[lead:] else tuple(range(s.a.ndim))
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    return tuple(ax % s.a.ndim for ax in axes)


def _keepdim(s, g):
    """``g`` of a reduction with its reduced dims put back (size 1), ready to broadcast to the input."""
    if getattr(s.fn, "keepdim", False) or g.ndim == s.a.ndim:
        return g
    return np.expand_dims(g, _axes(s))


def _var_grad(s, g=None):
    """torch's ``var_backward``: ``2 / (n - correction) · g ⊙ (x - mean)``."""
    n = math.prod([s.a.shape[i] for i in s.fn.axes])
    with np.errstate(all="ignore"):
        scale = np.float64(2.0) / np.float64(n - s.fn.correction)
        return scale * _keepdim(s, s.g if g is None else g) * (s.a - s.a.mean(axis=s.fn.axes, keepdims=True))


def _std_grad(s):
    """``_var_grad`` of ``g / (2 std)``, 0 where std is 0."""
    with np.errstate(all="ignore"):
        return _var_grad(s, np.where(s.o == 0, 0.0, s.g / (2 * s.o)))


def _max_grad(s):
    """``g`` shared evenly by the maxima (minima) along the reduced dims."""
    o = _keepdim(s, s.o)
    mask = (s.a == o).astype(s.a.dtype)
    count = mask.sum(axis=_axes(s), keepdims=True)
    return _keepdim(s, s.g) * mask / count


def _evenly(s):
    """The gradient of a whole-tensor value shared evenly by the elements equal to it (nans when nan)."""
    mask = np.isnan(s.a) if np.isnan(s.o) else s.a == s.o
    return np.where(mask, s.g / np.count_nonzero(mask), 0.0)


def _prod_back(s):
    """``g ⊙ Π_{l ≠ i} a_l`` along ``dim`` (products of the others, exact with zeros)."""
    g = s.g if s.fn.keepdim else np.expand_dims(s.g, s.fn.dim)
    def others(a):
        return np.stack([np.prod(np.delete(a, i, -1), -1) for i in range(a.shape[-1])], -1)
    return g * along(s, others)(s.a)
