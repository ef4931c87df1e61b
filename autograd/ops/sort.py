"""Sorting and selection: sort, argsort, msort, topk, unique, unique_consecutive, searchsorted,
bucketize, nonzero/argwhere, ``where(cond)``, masked_select; and the machinery every value-selecting
op shares (``max(dim)``, ``median``, ``sort``, ``topk``, ``cummax``...):

  ``TakeAlong``/``ScatterAlong``  values picked at indices along a dim, and the adjoint that adds a
                                  gradient back at them (repeated indices accumulate, as cummax needs)
  ``return_type(name, fields)``   a named tuple like ``torch.return_types.NAME`` (``autograd.return_types``)
  ``mirror(name)``                ``autograd.NAME(input, ...)`` as ``input.NAME(...)``
  ``numpy_names``                 NumPy's ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``, as torch

Indices come from NumPy's stable sort, so equal elements keep their order (torch's ``stable=True``).
"""
import collections
import functools
import numbers
import types

import numpy as np

from ..primitive import Primitive, TensorBase, array, call
from ._util import mirror, one_dim  # mirror: also used by reduce.py and scan.py
from .elementwise import where as _where3
from ._formulas import pick_along, take_back

__all__ = ["sort", "argsort", "msort", "topk", "unique", "unique_consecutive", "searchsorted", "bucketize",
           "nonzero", "argwhere", "where", "masked_select", "return_types"]


# -- values at indices, with gradient to those elements only -----------------------------------------
def _fancy(index, dim):
    """Index arrays that address ``index`` along ``dim`` and every other axis by position."""
    parts = list(np.indices(index.shape, sparse=True))
    parts[dim] = index
    return tuple(parts)


class TakeAlong(Primitive):
    """``x`` picked along ``dim`` at ``index`` (``np.take_along_axis``: ``index`` has ``x``'s ndim);
    ``unique=False`` when an element may be picked twice (cummax)."""

    name = "take_along_dim"
    unique = True

    def forward(self, x):
        self.shape = x.shape
        return np.take_along_axis(x, self.index, self.dim)

    formulas = (("g added into zeros {s0} at the index along dim", take_back),)

    def backward(self, g, out, x):
        return (call(ScatterAlong, g, index=self.index, dim=self.dim, shape=self.shape, unique=self.unique),)


class ScatterAlong(Primitive):
    """Zeros of ``shape`` with ``g`` added at ``index`` along ``dim`` (repeats accumulate unless
    ``unique`` says there are none): the adjoint of ``TakeAlong``."""

    name = "scatter_add"

    def forward(self, g):
        z = np.zeros(self.shape, dtype=g.dtype)
        if self.unique:
            np.put_along_axis(z, self.index, g, self.dim)
        else:
            np.add.at(z, _fancy(self.index, self.dim), g)
        return z

    formulas = (("g picked at the index along dim", pick_along),)

    def backward(self, gg, out, g):
        return (call(TakeAlong, gg, index=self.index, dim=self.dim, unique=self.unique),)


def select_along(t, index, dim, unique=True):
    """``t``'s values at the int64 array ``index`` along ``dim`` (same ndim; a 0-d ``t`` takes a 0-d
    index); the gradient goes to the selected elements only (``unique=False``: indices may repeat)."""
    if t.ndim == 0:
        return TakeAlong.apply(t.reshape(1), index=index.reshape(1), dim=0, unique=unique).reshape(())
    return TakeAlong.apply(t, index=index, dim=dim, unique=unique)


def _return_repr(self):
    body = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
    return f"autograd.return_types.{type(self).__name__}(\n{body})"


return_types = types.SimpleNamespace()  # autograd.return_types.max etc., as torch.return_types


def return_type(name, fields=("values", "indices")):
    """A tuple subclass like ``torch.return_types.NAME``: fields by name, unpackable, torch's repr;
    also ``autograd.return_types.NAME``."""
    cls = collections.namedtuple(name, fields)
    cls.__repr__ = _return_repr
    cls.__doc__ = f"``{name}``'s result: the named tuple ``({', '.join(fields)})``, as torch's."
    setattr(return_types, name, cls)
    return cls


def numpy_names(method):
    """Let ``method`` take NumPy's ``axis=``/``keepdims=`` for ``dim=``/``keepdim=``, as torch does."""
    @functools.wraps(method)
    def named(self, *args, **kwargs):
        if kwargs:
            for alias, name in (("axis", "dim"), ("keepdims", "keepdim")):
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{method.__name__}(): got both {name}= and its alias {alias}=")
                    kwargs[name] = kwargs.pop(alias)
        return method(self, *args, **kwargs)
    return named


SORT = return_type("sort")
TOPK = return_type("topk")


def stable_order(a, axis, descending=False):
    """Indices that sort array ``a`` along ``axis`` (stable: equal elements keep their order; nan
    counts as the largest value, as in torch)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # descending and stable: sort the reversed array ascending, then read the order backwards
    p = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.flip(a.shape[axis] - 1 - p, axis)


def _dim(t, dim):
    return one_dim(dim, t.ndim) if t.ndim else 0


def _sorted(t, dim, descending):
    d = _dim(t, dim)
    order = stable_order(t._data.reshape(1), 0, descending).reshape(()) if t.ndim == 0 \
        else stable_order(t._data, d, descending)
    return order, d


def _int_tensor(t, a, int32=False):
    return t._wrap(np.asarray(a, dtype=np.int32 if int32 else np.int64))


# -- unique -------------------------------------------------------------------------------------------
def _unique_dim(x, dim):
    """``np.unique`` of the slices along ``dim``: (values, inverse, counts)."""
    if dim is None:
        values, inverse, counts = np.unique(x.reshape(-1), return_inverse=True, return_counts=True,
                                            equal_nan=False)
        return values, inverse.reshape(x.shape), counts
    d = one_dim(dim, x.ndim)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=d)
    return values, inverse.reshape(-1), counts


def _consecutive_dim(x, dim):
    """Runs of equal consecutive elements (or slices along ``dim``): (values, inverse, counts)."""
    if dim is None:
        flat = x.reshape(-1)
        new = np.ones(flat.shape, dtype=bool)
        new[1:] = flat[1:] != flat[:-1]
        values, shape = flat[new], x.shape
    else:
        d = one_dim(dim, x.ndim)
        rows = np.moveaxis(x, d, 0).reshape(x.shape[d], x.size // x.shape[d] if x.shape[d] else 0)
        new = np.ones(x.shape[d], dtype=bool)
        new[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        values, shape = np.compress(new, x, axis=d), (x.shape[d],)
    inverse = (np.cumsum(new) - 1).reshape(shape)
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, new.size))
    return values, inverse, counts


def _unique_result(t, parts, return_inverse, return_counts):
    values, inverse, counts = parts
    out = [t._wrap(np.ascontiguousarray(values))]
    if return_inverse:
        out.append(_int_tensor(t, inverse))
    if return_counts:
        out.append(_int_tensor(t, counts))
    return out[0] if len(out) == 1 else tuple(out)


# -- searchsorted -------------------------------------------------------------------------------------
def _side(right, side):
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"searchsorted(): side can only be 'left' or 'right' but got {side!r}")
    if right and side == "left":
        raise RuntimeError("searchsorted(): side and right can't be set to opposites, got side of left "
                           "while right was True")
    return side


def _search(seq, vals, side):
    """``np.searchsorted`` row by row over the leading dims ``seq`` and ``vals`` share."""
    if seq.ndim == 1:
        return np.searchsorted(seq, vals, side=side)
    if seq.shape[:-1] != vals.shape[:-1]:
        raise RuntimeError(f"searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
    out = np.empty(vals.shape, dtype=np.int64)
    for i in np.ndindex(*seq.shape[:-1]):
        out[i] = np.searchsorted(seq[i], vals[i], side=side)
    return out


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where ``values`` would go in ``sorted_sequence`` (1-D, or rows matching ``values``'
    leading dims) to keep it sorted; ``right``/``side="right"`` puts ties after; int64 (no gradient)."""
    seq = np.asarray(array(sorted_sequence))
    if seq.ndim == 0:
        raise RuntimeError("searchsorted(): boundaries tensor should have positive dimension, got 0-d")
    if sorter is not None:
        seq = np.take_along_axis(seq, np.asarray(array(sorter)), -1)
    like = sorted_sequence if isinstance(sorted_sequence, TensorBase) else values
    vals = np.asarray(array(values))
    if vals.ndim == 0 and seq.ndim > 1:
        raise RuntimeError(f"searchsorted(): input value can be a scalar only when boundaries tensor "
                           f"dimension is 1, but we got boundaries tensor dim({seq.ndim})")
    return _int_tensor(like, _search(seq, vals, _side(right, side)), out_int32)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of ``input`` among the 1-D sorted ``boundaries`` (``right=False``:
    ``boundaries[i-1] < x <= boundaries[i]``); int64 (no gradient)."""
    if np.ndim(array(boundaries)) != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim("
                           f"{np.ndim(array(boundaries))})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# -- Tensor methods ------------------------------------------------------------------------------------
class SortMethods:
    """``Tensor``'s sorting and selection methods (indices are int64 and carry no gradient)."""

    __slots__ = ()

    @numpy_names
    def sort(self, dim=-1, descending=False, stable=False):
        """``return_types.sort(values, indices)`` along ``dim`` (same shape); always stable, as torch's
        ``stable=True``; nan sorts as the largest value. Gradient through ``values``."""
        order, d = _sorted(self, dim, descending)
        return SORT(select_along(self, order, d), _int_tensor(self, order))

    @numpy_names
    def argsort(self, dim=-1, descending=False, stable=False):
        """The int64 indices that sort along ``dim`` (``sort(...).indices``)."""
        return _int_tensor(self, _sorted(self, dim, descending)[0])

    def msort(self):
        """``sort(dim=0).values``: sorted along the first dimension."""
        return self.sort(dim=0).values

    @numpy_names
    def topk(self, k, dim=-1, largest=True, sorted=True):
        """``return_types.topk(values, indices)``: the ``k`` largest (``largest=False``: smallest)
        along ``dim``, sorted; ties keep their order. Gradient through ``values``."""
        n = self.shape[_dim(self, dim)] if self.ndim else 1
        if not isinstance(k, numbers.Integral) or not 0 <= k <= n:
            raise RuntimeError(f"topk(): selected index k out of range: k={k} for a dimension of size {n}")
        order, d = _sorted(self, dim, largest)
        if self.ndim:
            order = np.take(order, np.arange(k), axis=d)
        elif k == 0:
            raise RuntimeError("topk(): k=0 is out of range for a 0-d tensor")
        return TOPK(select_along(self, order, d), _int_tensor(self, order))

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct elements (or slices along ``dim``), sorted; with ``return_inverse`` and/or
        ``return_counts`` a tuple ``(values, inverse, counts)`` as torch. No gradient."""
        return _unique_result(self, _unique_dim(self._data, dim), return_inverse, return_counts)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        """Each run of equal consecutive elements (or slices along ``dim``) once, as ``unique``."""
        return _unique_result(self, _consecutive_dim(self._data, dim), return_inverse, return_counts)

    def nonzero(self, as_tuple=False):
        """Indices of the non-zero elements: int64 ``(n, ndim)``, or (``as_tuple``) one 1-D tensor per
        dimension (a 0-d tensor counts as 1-D)."""
        x = self._data
        if not as_tuple:
            return _int_tensor(self, np.argwhere(x))
        return tuple(_int_tensor(self, i) for i in np.nonzero(x.reshape(1) if x.ndim == 0 else x))

    def argwhere(self):
        """``nonzero()``: int64 ``(n, ndim)`` indices of the non-zero elements."""
        return self.nonzero()

    def where(self, condition, other):
        """``autograd.where(condition, self, other)``: ``self`` where ``condition`` holds, else ``other``."""
        return _where3(condition, self, other)

    def masked_select(self, mask):
        """The elements where the bool ``mask`` (broadcast with ``self``) is True, as a 1-D tensor; the
        gradient flows back to them."""
        m = np.asarray(array(mask))
        if m.dtype != np.bool_:
            raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
        try:
            shape = np.broadcast_shapes(self.shape, m.shape)
        except ValueError:
            raise RuntimeError(f"masked_select: the shape of the mask {m.shape} must broadcast with the "
                               f"shape of the input {self.shape}") from None
        x = self.expand(shape) if shape != self.shape else self
        return x.reshape(-1)[np.broadcast_to(m, shape).reshape(-1)]


# -- module functions --------------------------------------------------------------------------------
def where(condition, input=None, other=None):
    """``where(condition)``: ``condition.nonzero(as_tuple=True)``; ``where(condition, input, other)``:
    ``input`` where ``condition`` holds, else ``other``, elementwise (gradient to both)."""
    if input is None and other is None:
        cond = condition if isinstance(condition, TensorBase) else None
        if cond is None:
            raise TypeError(f"where(): argument 'condition' must be a Tensor, not {type(condition).__name__}")
        return cond.nonzero(as_tuple=True)
    return _where3(condition, input, other)


sort = mirror("sort")
argsort = mirror("argsort")
msort = mirror("msort")
topk = mirror("topk")
unique = mirror("unique")
unique_consecutive = mirror("unique_consecutive")
nonzero = mirror("nonzero")
argwhere = mirror("argwhere")
masked_select = mirror("masked_select")
