"""torch's module-level names on ``autograd``: functions that mirror Tensor methods (``autograd.exp(t)``
is ``t.exp()``), dtype names (``autograd.float32``, ``autograd.long``...), devices and the creation
functions torch users reach for (``from_numpy``, ``as_tensor``, ``eye``, ``linspace``, ``randint``...).

One generic mechanism makes the mirrors (``ops._util.mirror``): ``autograd.NAME(input, *args, **kwargs)``
is ``input.NAME(*args, **kwargs)``, with the method's docstring, for every name in ``MIRRORED``.
"""
import numpy as np

from . import cuda  # noqa: F401  (autograd.cuda.is_available())
from .creation import _make, _shape, generator
from .dtypes import DTYPE_NAMES, as_dtype, check_device, device, to_array
from .ops._util import mirror
from .tensor import Tensor

# Tensor methods that torch also offers as torch.NAME(input, ...)
MIRRORED = (
    "add sub mul div pow neg exp log sqrt abs sin cos tanh sigmoid relu clamp clip square clone "
    "sum mean amax amin var std logsumexp softmax log_softmax argmax argmin "
    "reshape transpose permute flatten squeeze unsqueeze matmul "
    "eq ne lt le gt ge detach"
).split()


def is_tensor(obj):
    """True for a chainrule ``Tensor``."""
    return isinstance(obj, Tensor)


def from_numpy(ndarray):
    """A tensor sharing ``ndarray``'s memory (changes to either show in both), as torch."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype.kind not in "fiub":
        raise TypeError(f"can't convert np.ndarray of type {ndarray.dtype}: chainrule supports float, int "
                        "and bool arrays")
    return Tensor._wrap(ndarray)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it already is one (or a NumPy array of that dtype)."""
    check_device(device)
    dt = as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dt is None else data.to(dt)
    if isinstance(data, np.ndarray) and (dt is None or data.dtype == dt) and data.dtype.kind in "fiub":
        return Tensor._wrap(data)
    return Tensor._wrap(to_array(data, dt))


def _like_dtype(t, dtype):
    return as_dtype(dtype) or t.dtype


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of shape ``size`` (here: zeros)."""
    check_device(device)
    return _make(np.zeros(_shape(size), dtype=as_dtype(dtype) or np.float32), requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor shaped like ``input`` (here: zeros)."""
    check_device(device)
    return _make(np.zeros(input.shape, dtype=_like_dtype(input, dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """``input``'s shape filled with ``fill_value``."""
    check_device(device)
    return _make(np.full(input.shape, fill_value, dtype=_like_dtype(input, dtype)), requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    """Standard normal samples shaped like ``input``."""
    check_device(device)
    return _make(generator().standard_normal(input.shape).astype(_like_dtype(input, dtype)), requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1) shaped like ``input``."""
    check_device(device)
    return _make(generator().random(input.shape).astype(_like_dtype(input, dtype)), requires_grad)


def randint(low=0, high=None, size=None, *, dtype=None, device=None, requires_grad=False):
    """Integers uniform in ``[low, high)`` of shape ``size`` (int64), as ``torch.randint``."""
    check_device(device)
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() needs high and size: randint(high, size) or randint(low, high, size)")
    return _make(generator().integers(low, high, _shape((size,))).astype(as_dtype(dtype) or np.int64),
                 requires_grad)


def randperm(n, *, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0..n-1`` (int64)."""
    check_device(device)
    return _make(generator().permutation(int(n)).astype(as_dtype(dtype) or np.int64), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The ``(n, m)`` identity matrix (``m`` defaults to ``n``)."""
    check_device(device)
    return _make(np.eye(int(n), None if m is None else int(m), dtype=as_dtype(dtype) or np.float32),
                 requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 unless ``dtype``)."""
    check_device(device)
    return _make(np.linspace(float(start), float(end), int(steps)).astype(as_dtype(dtype) or np.float32),
                 requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    check_device(device)
    values = np.power(float(base), np.linspace(float(start), float(end), int(steps)))
    return _make(values.astype(as_dtype(dtype) or np.float32), requires_grad)


def numel(input):
    """The number of elements of ``input``."""
    return input.numel()


def get_default_dtype():
    """float32, torch's default floating point dtype (chainrule's is fixed)."""
    return np.float32


globals().update({name: mirror(name, Tensor) for name in MIRRORED if name not in globals()})
globals().update(DTYPE_NAMES)

__all__ = (["is_tensor", "from_numpy", "as_tensor", "empty", "empty_like", "full_like", "randn_like",
            "rand_like", "randint", "randperm", "eye", "linspace", "logspace", "numel", "get_default_dtype",
            "device", "cuda"] + list(MIRRORED) + list(DTYPE_NAMES))
