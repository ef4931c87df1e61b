"""NumPy's functions on Tensors: ``np.exp(t)``, ``np.dot(x, w)``, ``np.maximum(z, 0)``, ``x.T``, ``@``...

A from-scratch script written for NumPy arrays runs unchanged on Tensors and is differentiated as
written: NumPy hands each ufunc call to ``Tensor.__array_ufunc__`` and each array function to
``Tensor.__array_function__``, which map it to the Tensor op of the same meaning (with gradient). A
NumPy function that has no such op raises a ``TypeError`` naming it, never a silently detached array;
functions without a gradient (``np.argmax``, ``np.allclose``, ``np.shape``...), and any NumPy function
on Tensors that do not require grad, run on the arrays.
"""
import numpy as np

from ..primitive import TensorBase

# ufunc -> Tensor method of the same meaning
UFUNCS = {
    np.add: "add", np.subtract: "sub", np.multiply: "mul", np.true_divide: "div", np.power: "pow",
    np.negative: "neg", np.positive: "__pos__", np.exp: "exp", np.log: "log", np.sqrt: "sqrt",
    np.absolute: "abs", np.sin: "sin", np.cos: "cos", np.tan: "tan", np.tanh: "tanh", np.sinh: "sinh",
    np.cosh: "cosh", np.arcsin: "asin", np.arccos: "acos", np.arctan: "atan", np.arctan2: "atan2",
    np.arcsinh: "asinh", np.arccosh: "acosh", np.arctanh: "atanh", np.maximum: "maximum",
    np.minimum: "minimum", np.fmax: "fmax", np.fmin: "fmin", np.square: "square", np.log1p: "log1p",
    np.expm1: "expm1", np.log2: "log2", np.log10: "log10", np.exp2: "exp2", np.reciprocal: "reciprocal",
    np.floor: "floor", np.ceil: "ceil", np.trunc: "trunc", np.rint: "round", np.sign: "sign",
    np.copysign: "copysign", np.hypot: "hypot", np.logaddexp: "logaddexp", np.fmod: "fmod",
    np.remainder: "remainder", np.floor_divide: "floor_divide", np.matmul: "matmul",
    np.isnan: "isnan", np.isinf: "isinf", np.isfinite: "isfinite", np.signbit: "signbit",
    np.equal: "eq", np.not_equal: "ne", np.less: "lt", np.less_equal: "le", np.greater: "gt",
    np.greater_equal: "ge", np.logical_and: "logical_and", np.logical_or: "logical_or",
    np.logical_xor: "logical_xor", np.logical_not: "logical_not", np.bitwise_and: "bitwise_and",
    np.bitwise_or: "bitwise_or", np.bitwise_xor: "bitwise_xor", np.invert: "bitwise_not",
}


def _axis(kwargs):
    """NumPy's ``axis``/``keepdims`` as torch's ``dim``/``keepdim``."""
    out = {}
    if kwargs.get("axis") is not None:
        out["dim"] = kwargs["axis"]
    if kwargs.get("keepdims"):
        out["keepdim"] = True
    return out


def _reduction(name):
    def f(a, axis=None, dtype=None, out=None, keepdims=False, **unused):
        _no_out(out, name)
        t = a.sum(**_axis(dict(axis=axis, keepdims=keepdims))) if name == "sum" else \
            getattr(a, name)(**_axis(dict(axis=axis, keepdims=keepdims)))
        return t if dtype is None else t.to(dtype)
    return f


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"numpy.{name}(..., out=) is not supported on chainrule Tensors")


def _dot(a, b, out=None):
    _no_out(out, "dot")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim > 2:  # NumPy's dot: sum over a's last axis and b's second-to-last
        return (a.reshape(a.shape + (1,) * (b.ndim - 1)) * b.reshape(b.shape[:-2] + b.shape[-2:])).sum(-2)
    return a @ b


def _concatenate(arrays, axis=0, out=None, **unused):
    from .shape import cat
    _no_out(out, "concatenate")
    return cat([a.reshape(-1) for a in arrays], 0) if axis is None else cat(arrays, axis)


def _stack(arrays, axis=0, out=None, **unused):
    from .shape import stack
    _no_out(out, "stack")
    return stack(arrays, axis)


def _where(condition, x=None, y=None):
    from .elementwise import where
    if x is None and y is None:
        return np.nonzero(np.asarray(condition))
    return where(condition, x, y)


def _clip(a, a_min=None, a_max=None, out=None, **kwargs):
    _no_out(out, "clip")
    lo = kwargs.get("min", a_min)
    hi = kwargs.get("max", a_max)
    return a.clamp(lo, hi)


def _transpose(a, axes=None):
    return a.permute(*axes) if axes is not None else a.permute(*range(a.ndim)[::-1])


# array function -> implementation on Tensors (first argument converted to a Tensor)
FUNCTIONS = {
    np.sum: _reduction("sum"), np.mean: _reduction("mean"), np.max: _reduction("amax"),
    np.amax: _reduction("amax"), np.min: _reduction("amin"), np.amin: _reduction("amin"),
    np.dot: _dot, np.outer: lambda a, b, out=None: a.reshape(-1, 1) * b.reshape(1, -1),
    np.reshape: lambda a, *shape, **kw: a.reshape(*(shape or (kw.get("shape", kw.get("newshape")),))),
    np.transpose: _transpose, np.concatenate: _concatenate, np.stack: _stack, np.where: _where,
    np.clip: _clip, np.squeeze: lambda a, axis=None: a.squeeze(axis),
    np.expand_dims: lambda a, axis: a.unsqueeze(axis), np.ravel: lambda a, order="C": a.reshape(-1),
}
for _f, _m in ((np.var, "var"), (np.std, "std")):
    FUNCTIONS[_f] = (lambda m: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False:
                     getattr(a, m)(dim=axis, keepdim=keepdims, correction=ddof))(_m)
# no gradient: computed on the arrays, returning NumPy results
NO_GRAD = {np.argmax, np.argmin, np.allclose, np.isclose, np.array_equal, np.shape, np.ndim, np.size,
           np.all, np.any, np.count_nonzero, np.nonzero, np.argsort, np.unique, np.array_equiv,
           np.round, np.around, np.sort, np.flatnonzero, np.argwhere, np.copy, np.array_repr, np.array_str,
           np.result_type, np.can_cast, np.may_share_memory, np.shares_memory, np.iscomplexobj,
           np.isrealobj, np.full_like, np.zeros_like, np.ones_like, np.empty_like}


def _needs_grad(args):
    """True when a Tensor among ``args`` (or in a list there) requires grad."""
    for a in args:
        if isinstance(a, TensorBase) and a.requires_grad:
            return True
        if isinstance(a, (list, tuple)) and _needs_grad(a):
            return True
    return False


def _unwrap(x):
    if isinstance(x, TensorBase):
        return x._data
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    return x


class NumpyMethods:
    """NumPy's protocols: NumPy's functions called on Tensors return Tensors with gradients."""

    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(t)``, ``np.maximum(t, 0)``, ``arr * t``: the Tensor op of the same meaning."""
        name = UFUNCS.get(ufunc)
        supported = method == "__call__" and name is not None and kwargs.get("out") is None \
            and kwargs.get("where", True) is True
        if not supported and not _needs_grad(inputs):  # nothing to differentiate: NumPy on the arrays
            out = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
            return self._wrap(out) if isinstance(out, np.ndarray) else out
        if not supported:
            what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            if kwargs.get("out") is not None:
                what += "(..., out=)"
            raise TypeError(f"{what} is not supported on chainrule Tensors (no gradient rule for it); use "
                            "the Tensor methods, or np.asarray(t.detach()) for a plain array")
        like = next(x for x in inputs if isinstance(x, TensorBase))
        args = [x if isinstance(x, TensorBase) else like._constant(x) for x in inputs]
        out = getattr(args[0], name)(*args[1:])
        dtype = kwargs.get("dtype")
        return out if dtype is None else out.to(dtype)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(t)``, ``np.dot(x, w)``, ``np.concatenate([a, b])``...: the Tensor op of the same
        meaning; a TypeError naming the function when there is none."""
        if func in NO_GRAD or (func not in FUNCTIONS and not _needs_grad(args)):
            return func(*_unwrap(args), **_unwrap(kwargs))
        impl = FUNCTIONS.get(func)
        if impl is None:
            raise TypeError(f"numpy.{func.__name__} is not supported on chainrule Tensors (no gradient rule "
                            "for it); use the Tensor methods, or np.asarray(t.detach()) for a plain array")
        first = args[0]
        if not isinstance(first, (TensorBase, list, tuple)):
            first = self._constant(first)
            args = (first,) + tuple(args[1:])
        if func in (np.dot, np.outer):
            args = tuple(a if isinstance(a, TensorBase) else self._constant(a) for a in args)
        return impl(*args, **kwargs)
