"""Reductions and the stable softmax family.

On arrays the ufuncs' own ``reduce`` is called (``np.add.reduce`` is what ``ndarray.sum`` runs, without
the Python wrapper that costs more than the reduction on small arrays).
"""
import math

import numpy as np

from ..function import Function, broadcast_to, data, is_tensor, reduce_sum, unary
from ._util import keepdim_shape

_SMALL = 1 << 16  # elements: below this an expanded gradient is materialised (cheaper than a view)


def _expand_back(g, shape, axes, keepdim):
    """Gradient of a reduction over ``axes``: put the reduced dims back and broadcast to ``shape``."""
    if not keepdim:
        g = g.reshape(keepdim_shape(shape, axes))
    if not is_tensor(g) and math.prod(shape) <= _SMALL:
        out = np.empty(shape, dtype=g.dtype)
        out[...] = g
        return out
    return broadcast_to(g, shape)


class Sum(Function):
    name = "sum"

    def forward(self, a):
        self.shape = a.shape
        return np.add.reduce(a, axis=self.axes, keepdims=self.keepdim)

    def backward(self, g, out, a):
        return (_expand_back(g, self.shape, self.axes, self.keepdim),)


class Mean(Function):
    name = "mean"

    def forward(self, a):
        self.shape = a.shape
        self.n = n = math.prod([a.shape[i] for i in self.axes])
        if n == 0 or a.dtype.kind != "f":  # NumPy's warning for an empty mean; its dtype rules for ints
            return a.mean(axis=self.axes, keepdims=self.keepdim)
        return np.add.reduce(a, axis=self.axes, keepdims=self.keepdim) / n  # what ndarray.mean does

    def backward(self, g, out, a):
        return (_expand_back(g * (1.0 / self.n) if self.n else g * np.nan, self.shape, self.axes,
                             self.keepdim),)


class Amax(Function):
    """``max`` over dims; ties share the gradient evenly (torch's ``amax``)."""

    name = "max"
    reduce = staticmethod(np.max)

    def forward(self, a):
        if a.size == 0:
            raise RuntimeError(f"{self.name}(): cannot reduce an empty tensor of shape {a.shape}")
        return self.reduce(a, axis=self.axes, keepdims=self.keepdim)

    def backward(self, g, out, a):
        x = data(a)
        o = data(out) if self.keepdim else data(out).reshape(keepdim_shape(x.shape, self.axes))
        mask = x == o
        with np.errstate(invalid="ignore"):  # a nan max matches nothing: 0 / 0 = nan, as torch
            share = mask / mask.sum(axis=self.axes, keepdims=True).astype(x.dtype)
        return (_expand_back(g, x.shape, self.axes, self.keepdim) * share,)


class Amin(Amax):
    name = "min"
    reduce = staticmethod(np.min)


class LogSumExp(Function):
    name = "logsumexp"

    def forward(self, a):
        m = a.max(axis=self.axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0).astype(a.dtype)
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(a - m).sum(axis=self.axes, keepdims=True)) + m
        return out if self.keepdim else np.squeeze(out, axis=self.axes)

    def backward(self, g, out, a):
        shape = data(a).shape
        if not self.keepdim:
            ks = keepdim_shape(shape, self.axes)
            g, out = g.reshape(ks), out.reshape(ks)
        return (g * unary("exp", a - out),)


class Softmax(Function):
    name = "softmax"

    def forward(self, a):
        e = np.exp(a - np.maximum.reduce(a, axis=self.dim, keepdims=True))
        return e / np.add.reduce(e, axis=self.dim, keepdims=True)

    def backward(self, g, out, a):
        return (out * (g - reduce_sum(g * out, self.dim, True)),)


class LogSoftmax(Function):
    name = "log_softmax"

    def forward(self, a):
        shifted = a - np.maximum.reduce(a, axis=self.dim, keepdims=True)
        return shifted - np.log(np.add.reduce(np.exp(shifted), axis=self.dim, keepdims=True))

    def backward(self, g, out, a):
        if is_tensor(g) or out.ndim == 0:
            return (g - unary("exp", out) * reduce_sum(g, self.dim, True),)
        p = np.exp(out)
        p *= np.add.reduce(g, axis=self.dim, keepdims=True)
        return (np.subtract(g, p, out=p),)
