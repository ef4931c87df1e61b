"""``Tensor``'s operators and methods: thin wrappers that pick the primitive (``ops/``) to apply."""
import numbers

import numpy as np

from .ops import elementwise as E
from .ops import linalg, reduce as R, shape as S
from .ops._util import norm_dims, operand, reduce_dims
from .tensor import Tensor, as_dtype


def _binary(cls, opname, reflected=False):
    def op(self, other):
        other_t = operand(other, self)
        if other_t is None:
            return NotImplemented
        a, b = (other_t, self) if reflected else (self, other_t)
        return E.binary(cls, a, b)
    op.__name__ = opname
    return op


def _compare(ufunc, opname):
    def op(self, other):
        other_t = operand(other, self)
        if other_t is None:
            return NotImplemented
        try:
            return Tensor._wrap(ufunc(self.data, other_t.data))
        except ValueError:
            raise ValueError(f"{opname}: shapes {self.shape} and {other_t.shape} cannot be broadcast "
                             "together") from None
    op.__name__ = opname
    return op


def _pow(self, exponent):
    if isinstance(exponent, numbers.Real) and not isinstance(exponent, (bool, np.bool_)) \
            and not isinstance(exponent, Tensor):
        return E.PowScalar.apply(self, k=float(exponent) if not float(exponent).is_integer()
                                 else int(exponent))
    other = operand(exponent, self)
    if other is None:
        return NotImplemented
    return E.binary(E.Pow, self, other)


def _rpow(self, base):
    other = operand(base, self)
    if other is None:
        return NotImplemented
    return E.binary(E.Pow, other, self)


def _matmul(self, other):
    other_t = operand(other, self)
    if other_t is None:
        return NotImplemented
    return linalg.MatMul.apply(self, other_t)


def _rmatmul(self, other):
    other_t = operand(other, self)
    if other_t is None:
        return NotImplemented
    return linalg.MatMul.apply(other_t, self)


Tensor.__add__ = _binary(E.Add, "__add__")
Tensor.__radd__ = _binary(E.Add, "__radd__", reflected=True)
Tensor.__sub__ = _binary(E.Sub, "__sub__")
Tensor.__rsub__ = _binary(E.Sub, "__rsub__", reflected=True)
Tensor.__mul__ = _binary(E.Mul, "__mul__")
Tensor.__rmul__ = _binary(E.Mul, "__rmul__", reflected=True)
Tensor.__truediv__ = _binary(E.Div, "__truediv__")
Tensor.__rtruediv__ = _binary(E.Div, "__rtruediv__", reflected=True)
Tensor.__pow__ = _pow
Tensor.__rpow__ = _rpow
Tensor.__matmul__ = _matmul
Tensor.__rmatmul__ = _rmatmul
Tensor.__neg__ = lambda self: E.Neg.apply(self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: E.Abs.apply(self)
Tensor.__lt__ = _compare(np.less, "<")
Tensor.__le__ = _compare(np.less_equal, "<=")
Tensor.__gt__ = _compare(np.greater, ">")
Tensor.__ge__ = _compare(np.greater_equal, ">=")
Tensor.__eq__ = _compare(np.equal, "==")
Tensor.__ne__ = _compare(np.not_equal, "!=")
Tensor.add = Tensor.__add__
Tensor.sub = Tensor.__sub__
Tensor.mul = Tensor.__mul__
Tensor.div = Tensor.__truediv__
Tensor.pow = _pow
Tensor.matmul = _matmul

# -- elementwise ----------------------------------------------------------------------------------
Tensor.exp = lambda self: E.Exp.apply(self)
Tensor.log = lambda self: E.Log.apply(self)
Tensor.sqrt = lambda self: E.Sqrt.apply(self)
Tensor.abs = lambda self: E.Abs.apply(self)
Tensor.sin = lambda self: E.Sin.apply(self)
Tensor.cos = lambda self: E.Cos.apply(self)
Tensor.tanh = lambda self: E.Tanh.apply(self)
Tensor.sigmoid = lambda self: E.Sigmoid.apply(self)
Tensor.relu = lambda self: E.Relu.apply(self)
Tensor.neg = Tensor.__neg__


def clamp(self, min=None, max=None):
    """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max`` (as torch)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return E.Clamp.apply(self, min=min, max=max)


Tensor.clamp = clamp


def _to(self, dtype):
    dtype = as_dtype(dtype)
    if dtype == self.dtype:
        return self
    if self.requires_grad and dtype.kind != "f":
        return Tensor._wrap(self.data.astype(dtype))
    return E.Cast.apply(self, dtype=dtype)


Tensor.to = _to
Tensor.float = lambda self: _to(self, np.float32)
Tensor.double = lambda self: _to(self, np.float64)
Tensor.long = lambda self: _to(self, np.int64)


# -- reductions ------------------------------------------------------------------------------------
def _sum(self, dim=None, keepdim=False):
    """Sum over ``dim`` (int, tuple, or None or ``()`` for all, as in torch)."""
    return R.Sum.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)


def _mean(self, dim=None, keepdim=False):
    if self.dtype.kind != "f":
        raise TypeError(f"mean(): input dtype should be floating point, got {self.dtype}")
    return R.Mean.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)


def _max(self, dim=None, keepdim=False):
    """Largest value over ``dim``; returns values only (torch's ``amax``: ties share the gradient)."""
    return R.Amax.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)


def _min(self, dim=None, keepdim=False):
    """Smallest value over ``dim``; returns values only (torch's ``amin``)."""
    return R.Amin.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)


def _var(self, dim=None, keepdim=False, *, correction=1, unbiased=None):
    """Variance over ``dim`` with Bessel's correction by default (``correction=1``), as torch."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axes = reduce_dims(dim, self.ndim)
    n = int(np.prod([self.shape[i] for i in axes]))
    d = self - self.mean(dim=axes, keepdim=True)
    return (d * d).sum(dim=axes, keepdim=keepdim) / float(max(n - correction, 0))


def _std(self, dim=None, keepdim=False, *, correction=1, unbiased=None):
    """Square root of ``var``; where the std is 0 its gradient is 0, as in torch (not 0 * inf = nan)."""
    v = _var(self, dim, keepdim, correction=correction, unbiased=unbiased)
    nonzero = v.data != 0
    if nonzero.all():
        return v.sqrt()
    return E.where(nonzero, E.where(nonzero, v, 1.0).sqrt(), 0.0)  # the inner where keeps inf out


def _logsumexp(self, dim=None, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, stable for huge inputs."""
    return R.LogSumExp.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)


def _one_dim(dim, ndim):
    return norm_dims(dim, ndim)[0] if ndim else 0


def _softmax(self, dim):
    """``exp(x) / sum(exp(x))`` along ``dim``, stable for huge inputs."""
    return R.Softmax.apply(self, dim=_one_dim(dim, self.ndim))


def _log_softmax(self, dim):
    return R.LogSoftmax.apply(self, dim=_one_dim(dim, self.ndim))


def _arg(fn):
    def arg(self, dim=None, keepdim=False):
        if dim is None:
            out = fn(self.data.reshape(-1), axis=0)
            return Tensor._wrap(np.asarray(out, dtype=np.int64).reshape((1,) * self.ndim if keepdim else ()))
        d = _one_dim(dim, self.ndim)
        return Tensor._wrap(fn(self.data, axis=d, keepdims=keepdim).astype(np.int64))
    return arg


Tensor.sum = _sum
Tensor.mean = _mean
Tensor.max = _max
Tensor.min = _min
Tensor.amax = _max
Tensor.amin = _min
Tensor.var = _var
Tensor.std = _std
Tensor.logsumexp = _logsumexp
Tensor.softmax = _softmax
Tensor.log_softmax = _log_softmax
Tensor.argmax = _arg(np.argmax)
Tensor.argmin = _arg(np.argmin)


# -- shape -----------------------------------------------------------------------------------------
def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _reshape(self, *shape):
    """``reshape(2, 3)`` or ``reshape((2, 3))``; one size may be -1."""
    shape = _shape_args(shape)
    if shape == self.shape:
        return self
    return S.Reshape.apply(self, shape=shape)


def _permute(self, *dims):
    dims = _shape_args(dims)
    if len(dims) != self.ndim:
        raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor with {self.ndim} dimensions")
    axes = tuple(norm_dims(d, self.ndim)[0] for d in dims)
    if sorted(axes) != list(range(self.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of {self.ndim} dimensions")
    return S.Permute.apply(self, dims=axes)


def _transpose(self, dim0, dim1):
    axes = list(range(self.ndim))
    d0, d1 = _one_dim(dim0, self.ndim), _one_dim(dim1, self.ndim)
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return S.Permute.apply(self, dims=tuple(axes))


def _T(self):
    """Dimensions reversed (the matrix transpose for 2-D)."""
    nd = self.data.ndim
    return self if nd < 2 else S.Permute.apply(self, dims=(1, 0) if nd == 2 else tuple(range(nd))[::-1])


def _flatten(self, start_dim=0, end_dim=-1):
    if self.ndim == 0:
        return self.reshape(1)
    s, e = _one_dim(start_dim, self.ndim), _one_dim(end_dim, self.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
    return self.reshape(shape)


def _squeeze(self, dim=None):
    if dim is None:
        shape = tuple(n for n in self.shape if n != 1)
    else:
        axes = norm_dims(dim, self.ndim)
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
    return self.reshape(shape)


def _unsqueeze(self, dim):
    d = _one_dim(dim, self.ndim + 1)
    return self.reshape(self.shape[:d] + (1,) + self.shape[d:])


def _expand(self, *shape):
    """Broadcast to ``shape`` (``-1`` keeps a size); new dimensions go in front, as in torch."""
    shape = _shape_args(shape)
    if len(shape) < self.ndim:
        raise ValueError(f"expand: the target shape {shape} has fewer dimensions than the tensor's "
                         f"{self.shape}")
    lead = len(shape) - self.ndim
    target = []
    for i, n in enumerate(shape):
        own = self.shape[i - lead] if i >= lead else None
        if n == -1:
            if own is None:
                raise ValueError(f"expand: -1 is not allowed for a new leading dimension in {shape}")
            n = own
        if own is not None and own != n and own != 1:
            raise ValueError(f"expand: the size {own} of dimension {i - lead} of shape {self.shape} must "
                             f"match {n} in the target {shape}, or be 1")
        target.append(n)
    target = tuple(target)
    if target == self.shape:
        return self
    return S.Expand.apply(self, shape=target)


def _index_part(p):
    if isinstance(p, Tensor):
        p = p.data
    if isinstance(p, list):
        p = np.asarray(p) if p else np.zeros(0, dtype=np.int64)  # [] selects nothing, as in torch
    if isinstance(p, np.ndarray) and p.dtype.kind not in "iub":
        raise IndexError(f"tensors used as indices must be integer or bool, got {p.dtype}")
    return p


def _getitem(self, index):
    """Basic and advanced indexing with gradient (repeated integer indices accumulate)."""
    if isinstance(index, tuple):
        index = tuple(_index_part(p) for p in index)
    else:
        index = _index_part(index)
    return S.Index.apply(self, index=index)


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (self[i] for i in range(len(self)))


Tensor.reshape = _reshape
Tensor.view = _reshape
Tensor.permute = _permute
Tensor.transpose = _transpose
Tensor.T = property(_T)
Tensor.mT = property(lambda self: self.transpose(-2, -1))
Tensor.flatten = _flatten
Tensor.squeeze = _squeeze
Tensor.unsqueeze = _unsqueeze
Tensor.expand = _expand
Tensor.__getitem__ = _getitem
Tensor.__iter__ = _iter


def cat(tensors, dim=0):
    """Concatenate along an existing dimension ``dim``."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    d = _one_dim(dim, tensors[0].ndim)
    shapes = [t.shape for t in tensors]
    for s in shapes:
        if len(s) != len(shapes[0]) or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != d):
            raise ValueError(f"cat: shapes {shapes} must match except in dimension {dim}")
    return S.Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    """Join along a new dimension ``dim``; all tensors must have the same shape."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    return S.Stack.apply(*tensors, dim=_one_dim(dim, tensors[0].ndim + 1))


__all__ = ["cat", "stack"]
