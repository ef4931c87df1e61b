"""Reductions and the stable softmax family: sum, mean, max/min, var/std, logsumexp, softmax,
log_softmax, argmax/argmin.

On arrays the ufuncs' own ``reduce`` is called (``np.add.reduce`` is what ``ndarray.sum`` runs, without
the Python wrapper that costs more than the reduction on small arrays).
"""
import math

import numpy as np

from ..primitive import Primitive, array, call
from ._util import keepdim_shape, one_dim, quiet, reduce_dims
from .elementwise import Exp, where
from .shape import Expand, Reshape


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

    def backward(self, g, out, a):
        return (call(Expand, g, shape=a.shape, materialize=True),)


class Mean(Primitive):
    name = "mean"
    saves_inputs = False

    def forward(self, a):
        self.shape = a.shape
        self.n = n = math.prod([a.shape[i] for i in self.axes])
        if n == 0 or a.dtype.kind != "f":  # NumPy's warning for an empty mean; its dtype rules for ints
            return a.mean(axis=self.axes, keepdims=self.keepdim)
        return np.add.reduce(a, axis=self.axes, keepdims=self.keepdim) / n  # what ndarray.mean does

    def backward(self, g, out, a):
        return (_expand_back(g * (1.0 / self.n) if self.n else g * np.nan, self.shape, self.axes,
                             self.keepdim),)


class Amax(Primitive):
    """``max`` over dims; ties share the gradient evenly (torch's ``amax``)."""

    name = "max"
    saves_output = True
    reduce = staticmethod(np.max)

    def forward(self, a):
        if a.size == 0:
            raise RuntimeError(f"{self.name}(): cannot reduce an empty tensor of shape {a.shape}")
        return self.reduce(a, axis=self.axes, keepdims=self.keepdim)

    def backward(self, g, out, a):
        x = array(a)
        o = array(out) if self.keepdim else array(out).reshape(keepdim_shape(x.shape, self.axes))
        mask = x == o
        with quiet():  # a nan max matches nothing: 0 / 0 = nan, as torch
            share = mask / mask.sum(axis=self.axes, keepdims=True).astype(x.dtype)
        return (_expand_back(g, x.shape, self.axes, self.keepdim) * share,)


class Amin(Amax):
    name = "min"
    reduce = staticmethod(np.min)


class LogSumExp(Primitive):
    name = "logsumexp"
    saves_output = True

    def forward(self, a):
        m = a.max(axis=self.axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0).astype(a.dtype)
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(a - m).sum(axis=self.axes, keepdims=True)) + m
        return out if self.keepdim else np.squeeze(out, axis=self.axes)

    def backward(self, g, out, a):
        if not self.keepdim:
            ks = keepdim_shape(a.shape, self.axes)
            g, out = call(Reshape, g, shape=ks), call(Reshape, out, shape=ks)
        return (g * call(Exp, a - out),)


def log_softmax_array(x, axis):
    """``x - logsumexp(x)`` along ``axis`` of an array, stable for huge inputs."""
    shifted = x - np.maximum.reduce(x, axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis, keepdims=True))


class Softmax(Primitive):
    name = "softmax"
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        e = np.exp(a - np.maximum.reduce(a, axis=self.dim, keepdims=True))
        return e / np.add.reduce(e, axis=self.dim, keepdims=True)

    def backward(self, g, out, a):
        axes = (self.dim,) if out.ndim else ()
        return (out * (g - call(Sum, g * out, axes=axes, keepdim=True)),)


class LogSoftmax(Primitive):
    name = "log_softmax"
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return log_softmax_array(a, self.dim)

    def backward(self, g, out, a):
        axes = (self.dim,) if out.ndim else ()
        return (g - call(Exp, out) * call(Sum, g, axes=axes, keepdim=True),)


def _argreduce(t, fn, dim, keepdim):
    if dim is None:
        out = fn(t._data.reshape(-1), axis=0)
        return t._wrap(np.asarray(out, dtype=np.int64).reshape((1,) * t.ndim if keepdim else ()))
    return t._wrap(fn(t._data, axis=one_dim(dim, t.ndim), keepdims=keepdim).astype(np.int64))


class ReduceMethods:
    """``Tensor``'s reductions; ``dim`` is an int, a tuple, or None (or ``()``) for every dimension."""

    __slots__ = ()

    def sum(self, dim=None, keepdim=False):
        """Sum over ``dim``: ``(*)`` -> the shape without ``dim`` (kept as 1 with ``keepdim``)."""
        return Sum.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        """Mean over ``dim`` (floating point tensors only, as torch)."""
        if self.dtype.kind != "f":
            raise TypeError(f"mean(): input dtype should be floating point, got {self.dtype}")
        return Mean.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)

    def amax(self, dim=None, keepdim=False):
        """Largest value over ``dim``; ties share the gradient evenly."""
        return Amax.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)

    def amin(self, dim=None, keepdim=False):
        """Smallest value over ``dim``; ties share the gradient evenly."""
        return Amin.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """Largest value over ``dim`` (values only, as ``amax``)."""
        return self.amax(dim, keepdim)

    def min(self, dim=None, keepdim=False):
        """Smallest value over ``dim`` (values only, as ``amin``)."""
        return self.amin(dim, keepdim)

    def var(self, dim=None, keepdim=False, *, correction=1, unbiased=None):
        """Variance over ``dim`` with Bessel's correction by default (``correction=1``), as torch."""
        if unbiased is not None:
            correction = 1 if unbiased else 0
        axes = reduce_dims(dim, self.ndim)
        n = int(np.prod([self.shape[i] for i in axes]))
        d = self - self.mean(dim=axes, keepdim=True)
        return (d * d).sum(dim=axes, keepdim=keepdim) / float(max(n - correction, 0))

    def std(self, dim=None, keepdim=False, *, correction=1, unbiased=None):
        """Square root of ``var``; where the std is 0 its gradient is 0, as in torch (not 0 * inf)."""
        v = self.var(dim, keepdim, correction=correction, unbiased=unbiased)
        nonzero = v._data != 0
        if nonzero.all():
            return v.sqrt()
        return where(nonzero, where(nonzero, v, 1.0).sqrt(), 0.0)  # the inner where keeps inf out

    def logsumexp(self, dim=None, keepdim=False):
        """``log(sum(exp(x)))`` over ``dim``, stable for huge inputs."""
        return LogSumExp.apply(self, axes=reduce_dims(dim, self.ndim), keepdim=keepdim)

    def softmax(self, dim):
        """``exp(x) / sum(exp(x))`` along ``dim``, stable for huge inputs; same shape."""
        return Softmax.apply(self, dim=one_dim(dim, self.ndim))

    def log_softmax(self, dim):
        """``x - logsumexp(x)`` along ``dim``, stable for huge inputs; same shape."""
        return LogSoftmax.apply(self, dim=one_dim(dim, self.ndim))

    def argmax(self, dim=None, keepdim=False):
        """Index (int64) of the largest value over ``dim``, or of the flattened tensor; no gradient."""
        return _argreduce(self, np.argmax, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """Index (int64) of the smallest value over ``dim``, or of the flattened tensor; no gradient."""
        return _argreduce(self, np.argmin, dim, keepdim)


