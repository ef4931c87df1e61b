"""Small helpers shared by the op families: dimension and shape arguments, operands, IEEE quiet."""
import numbers

import numpy as np

from ..dtypes import to_array
from ..primitive import TensorBase


def quiet():
    """IEEE results (inf, nan) without NumPy warnings, like torch."""
    return np.errstate(all="ignore")


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


def one_dim(dim, ndim):
    """A single ``dim`` as a non-negative axis (0 for a 0-d tensor, which accepts 0 and -1)."""
    return norm_dims(dim, ndim)[0] if ndim else 0


def reduce_dims(dim, ndim):
    """The axes a reduction covers: ``norm_dims``, except that an empty ``dim`` (``()`` or ``[]``) means
    every dimension, as in torch (``x.sum(dim=())`` is ``x.sum()``, not NumPy's "reduce nothing")."""
    if dim is not None and not isinstance(dim, numbers.Integral):
        dim = tuple(dim) or None
    return norm_dims(dim, ndim)


def keepdim_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (the shape of a ``keepdim=True`` reduction)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def shape_args(shape):
    """``f(2, 3)`` or ``f((2, 3))`` as the tuple ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def operand(x, like):
    """``x`` as a Tensor for a binary op with Tensor ``like`` (``None`` when ``x`` is not numeric).

    Python numbers follow NumPy 2's weak-scalar rule: ``float32 * 2.0`` stays ``float32``.
    """
    if isinstance(x, TensorBase):
        return x
    if isinstance(x, (bool, int, float)) or (isinstance(x, numbers.Number) and not isinstance(x, np.generic)):
        return like._wrap(np.asarray(x, dtype=np.result_type(like._data, x)))
    if isinstance(x, (np.ndarray, np.generic)):
        return like._wrap(np.asarray(x))
    if isinstance(x, (list, tuple)):
        return like._wrap(to_array(x))
    return None


def first_tensor(args, fn):
    """The first Tensor among ``args`` (the one whose class makes the others), or torch's TypeError."""
    for a in args:
        if isinstance(a, TensorBase):
            return a
    raise TypeError(f"{fn}(): expected at least one Tensor argument, got "
                    f"{', '.join(type(a).__name__ for a in args)}")


def pair(v, name):
    """An int or a pair of ints (``kernel_size=3`` or ``(3, 2)``) as a pair of ints."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)
