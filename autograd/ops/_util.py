"""Small shared helpers for the ops: dimension arguments and scalar operands."""
import numbers

import numpy as np

from ..tensor import Tensor, _to_array


def norm_dims(dim, ndim):
    """``dim`` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    out = []
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    for d in dims:
        if not isinstance(d, numbers.Integral):
            raise TypeError(f"dim must be an int or a tuple of ints, got {type(d).__name__}")
        if not lo <= d <= hi:
            raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {d})")
        if ndim:  # a 0-d tensor accepts dim 0 or -1, as in torch, and has no axis to reduce
            out.append(d % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"dim {dim} names a dimension twice")
    return tuple(sorted(out))


def reduce_dims(dim, ndim):
    """The axes a reduction covers: ``norm_dims``, except that an empty ``dim`` (``()`` or ``[]``) means
    every dimension, as in torch (``x.sum(dim=())`` is ``x.sum()``, not NumPy's "reduce nothing")."""
    if dim is not None and not isinstance(dim, numbers.Integral):
        dim = tuple(dim) or None
    return norm_dims(dim, ndim)


def keepdim_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (the shape of a ``keepdim=True`` reduction)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def operand(x, like):
    """``x`` as a Tensor for a binary op with Tensor ``like``.

    Python numbers follow NumPy 2's weak-scalar rule: ``float32 * 2.0`` stays ``float32``.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float)) or (isinstance(x, numbers.Number) and not isinstance(x, np.generic)):
        return Tensor._wrap(np.asarray(x, dtype=np.result_type(like.data, x)))
    if isinstance(x, (np.ndarray, np.generic)):
        return Tensor._wrap(np.asarray(x))
    if isinstance(x, (list, tuple)):
        return Tensor._wrap(_to_array(x))
    return None
