"""Small helpers shared by the op families: dimension and shape arguments, operands, IEEE quiet."""
import inspect
import numbers

import numpy as np

from ..dtypes import to_array
from ..primitive import TensorBase


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit together: torch's ``RuntimeError`` (and a ``ValueError``, as chainrule
    raised before it followed torch here)."""


class DtypeError(RuntimeError, TypeError):
    """A dtype an op does not take: torch's ``RuntimeError`` (and a ``TypeError``, as before)."""


try:  # NumPy 2 keeps its error state in a context variable: setting it directly costs a third of errstate
    from numpy._core._ufunc_config import _extobj_contextvar as _ERRSTATE, _make_extobj
    _IGNORE = _make_extobj(all="ignore")
except ImportError:  # another NumPy: np.errstate
    _ERRSTATE = None


class _Quiet:
    __slots__ = ("_token",)

    def __enter__(self):
        self._token = _ERRSTATE.set(_IGNORE)

    def __exit__(self, *exc):
        _ERRSTATE.reset(self._token)


class _AlreadyQuiet:
    __slots__ = ()

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        pass


_ALREADY_QUIET = _AlreadyQuiet()


def quiet():
    """IEEE results (inf, nan) without NumPy warnings, like torch (a context manager; nothing to do
    inside another ``quiet()``, as during ``backward()``)."""
    if _ERRSTATE is None:
        return np.errstate(all="ignore")
    return _ALREADY_QUIET if _ERRSTATE.get() is _IGNORE else _Quiet()


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


def category(dtype):
    """torch's type categories: 0 bool, 1 integer, 2 floating point."""
    return 0 if dtype.kind == "b" else 1 if dtype.kind in "iu" else 2


def result_dtype(a, b):
    """``torch.result_type`` of two arrays: the higher category (bool < int < float) decides; within
    one category a dimensioned array outranks a 0-d one (a 0-d tensor or a wrapped Python scalar)."""
    ca, cb = category(a.dtype), category(b.dtype)
    if ca != cb:
        return (a if ca > cb else b).dtype
    if (a.ndim == 0) != (b.ndim == 0):
        return (b if a.ndim == 0 else a).dtype
    return np.promote_types(a.dtype, b.dtype)


_DEFAULT = {bool: np.bool_, int: np.int64, float: np.float32}
_EXACT = 2 ** 53


def operand(x, like):
    """``x`` as a Tensor for a binary op with Tensor ``like`` (``None`` when ``x`` is not numeric).

    A Python number takes ``like``'s dtype when it is of the same category or lower (torch's weak
    scalars: ``float32 * 2.0`` stays ``float32``, ``int8 + 1`` stays ``int8``), else the default dtype of
    its own category (``int64 * 2.5`` is ``float32``). Complex numbers are refused.
    """
    if isinstance(x, TensorBase):
        return x
    t = type(x)
    if t is float or (t is int and -_EXACT < x < _EXACT):  # the common case, in one NumPy call
        dt = like._data.dtype
        if dt.kind == "f":
            return like._wrap(np.array(x, dtype=dt))
    if isinstance(x, (bool, int, float)) or (isinstance(x, numbers.Number) and not isinstance(x, np.generic)):
        if isinstance(x, complex) or (isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real)):
            raise TypeError(f"chainrule tensors are real-valued: the complex number {x!r} is not supported")
        kind = bool if isinstance(x, bool) else int if isinstance(x, numbers.Integral) else float
        dt = like._data.dtype
        if category(dt) < category(np.dtype(_DEFAULT[kind])):
            dt = np.dtype(_DEFAULT[kind])
        return like._wrap(np.array(x).astype(dt))
    if isinstance(x, (np.ndarray, np.generic)):
        if x.dtype.kind == "c":
            raise TypeError(f"chainrule tensors are real-valued: complex data ({x.dtype}) is not supported")
        return like._wrap(np.asarray(x))
    if isinstance(x, (list, tuple)):
        return like._wrap(to_array(x))
    return None


def first_tensor(args, fn):
    """The first Tensor among ``args`` (the one whose class makes the others), or torch's TypeError."""
    for a in args:
        if isinstance(a, TensorBase):
            return a
    raise TypeError(f"{fn}(): argument 'input' must be a Tensor, not {type(args[0]).__name__} (arguments: "
                    f"{', '.join(type(a).__name__ for a in args)})")


def pair(v, name):
    """An int or a pair of ints (``kernel_size=3`` or ``(3, 2)``) as a pair of ints."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def mirror(name, methods=None):
    """``autograd.NAME(input, *args, **kwargs)``: the method ``NAME`` (of ``methods``, or of ``input``'s
    class) called on ``input`` (a number beside a Tensor argument is made one): the one mechanism behind
    torch's functions that mirror methods."""
    method = getattr(methods, name) if methods is not None else None

    def function(input, *args, **kwargs):
        if not isinstance(input, TensorBase):
            input = operand(input, first_tensor((input, *args, *kwargs.values()), name))
        return (method or getattr(type(input), name))(input, *args, **kwargs)

    if method is not None:
        sig = inspect.signature(method)
        params = list(sig.parameters.values())
        if params:
            function.__signature__ = sig.replace(parameters=[params[0].replace(name="input"), *params[1:]])
    function.__name__ = function.__qualname__ = name
    function.__doc__ = method.__doc__ if method is not None else \
        f"``autograd.{name}(input, ...)``: the same as ``input.{name}(...)``."
    function.__module__ = "autograd"
    return function
