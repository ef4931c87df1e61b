"""Tensor constructors (the random ones draw from ``autograd.random``'s seeded generator)."""
import numpy as np

from .dtypes import as_dtype
from .ops._util import shape_args
from .random import generator, manual_seed  # noqa: F401  (autograd.creation.manual_seed still works)
from .tensor import Tensor



_shape = shape_args  # zeros(2, 3) or zeros((2, 3))


def _make(array, requires_grad):
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, requires_grad=False, dtype=None):
    """A tensor of zeros of shape ``size`` (``float32`` unless ``dtype``)."""
    return _make(np.zeros(_shape(size), dtype=as_dtype(dtype) or np.float32), requires_grad)


def ones(*size, requires_grad=False, dtype=None):
    """A tensor of ones of shape ``size`` (``float32`` unless ``dtype``)."""
    return _make(np.ones(_shape(size), dtype=as_dtype(dtype) or np.float32), requires_grad)


def full(size, fill_value, requires_grad=False, dtype=None):
    """A tensor of shape ``size`` filled with ``fill_value``."""
    return _make(np.full(_shape((size,)), fill_value, dtype=as_dtype(dtype) or np.float32), requires_grad)


def zeros_like(t, requires_grad=False, dtype=None):
    """Zeros with the shape (and dtype, unless given) of ``t``."""
    return _make(np.zeros(t.shape, dtype=as_dtype(dtype) or t.dtype), requires_grad)


def ones_like(t, requires_grad=False, dtype=None):
    """Ones with the shape (and dtype, unless given) of ``t``."""
    return _make(np.ones(t.shape, dtype=as_dtype(dtype) or t.dtype), requires_grad)


def _float_dtype(dtype, fn):
    dt = as_dtype(dtype) or np.dtype(np.float32)
    if dt.kind != "f":
        raise TypeError(f"{fn}: dtype must be a floating point type, got {dt}")
    return dt


def randn(*size, requires_grad=False, dtype=None):
    """Standard normal samples (``float32`` unless ``dtype``)."""
    dt = _float_dtype(dtype, "randn")
    return _make(generator().standard_normal(_shape(size)).astype(dt), requires_grad)


def rand(*size, requires_grad=False, dtype=None):
    """Uniform samples in [0, 1)."""
    dt = _float_dtype(dtype, "rand")
    return _make(generator().random(_shape(size)).astype(dt), requires_grad)


def arange(start, end=None, step=1, requires_grad=False, dtype=None):
    """Like ``torch.arange``: int64 for integer arguments, float32 otherwise (unless ``dtype``)."""
    if end is None:
        start, end = 0, start
    dt = as_dtype(dtype)
    if dt is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dt = np.dtype(np.int64) if ints else np.dtype(np.float32)
    return _make(np.arange(start, end, step).astype(dt), requires_grad)
