"""``nn.functional``: torch's functions under torch's names and argument names.

Inputs may be ``Tensor``s or anything ``np.asarray`` takes; class targets are integer indices (an array
or a ``Tensor``). Losses take ``reduction="mean" | "sum" | "none"``.
"""
import functools
import math

import numpy as np

from autograd import Tensor, ops
from autograd.creation import generator
from autograd.dtypes import as_array


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(as_array(x))


def _on_tensors(fn):
    """``fn`` from ``autograd.ops``, taking anything ``np.asarray`` takes as its first argument."""
    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        return fn(_tensor(input), *args, **kwargs)
    return wrapper


linear = _on_tensors(ops.linear)
conv2d = _on_tensors(ops.conv2d)
max_pool2d = _on_tensors(ops.max_pool2d)
mse_loss = _on_tensors(ops.mse_loss)
l1_loss = _on_tensors(ops.l1_loss)
binary_cross_entropy = _on_tensors(ops.binary_cross_entropy)
binary_cross_entropy_with_logits = _on_tensors(ops.binary_cross_entropy_with_logits)
nll_loss = _on_tensors(ops.nll_loss)
cross_entropy = _on_tensors(ops.cross_entropy)


# -- activations --------------------------------------------------------------------------------------
def relu(input, inplace=False):
    """``max(x, 0)`` elementwise."""
    return _tensor(input).relu()


def sigmoid(input):
    """``1 / (1 + exp(-x))`` elementwise."""
    return _tensor(input).sigmoid()


def tanh(input):
    """Hyperbolic tangent elementwise."""
    return _tensor(input).tanh()


def erf(input):
    """The error function, elementwise, with gradient (float64 accuracy ~2e-15)."""
    return ops.Erf.apply(_tensor(input))


def gelu(input, approximate="none"):
    """``x * Phi(x)``, Phi the standard normal CDF via ``erf`` (exact form); ``approximate="tanh"``
    uses ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    x = _tensor(input)
    if approximate == "none":
        return x * (0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0)))))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + (math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)).tanh())
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    return ops.LeakyRelu.apply(_tensor(input), slope=float(negative_slope))


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1  # torch's legacy choice when dim is not given


def softmax(input, dim=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (torch's legacy default dim when None)."""
    x = _tensor(input)
    return x.softmax(_softmax_dim(x.ndim) if dim is None else dim)


def log_softmax(input, dim=None):
    """``x - logsumexp(x)`` along ``dim``."""
    x = _tensor(input)
    return x.log_softmax(_softmax_dim(x.ndim) if dim is None else dim)


# -- layers -------------------------------------------------------------------------------------------
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero elements with probability ``p`` and scale the rest by ``1 / (1 - p)`` when ``training``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros((), dtype=x.dtype)
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    keep = generator().random(x.shape, dtype=np.float64 if dt == np.float64 else np.float32) >= p
    return x * (keep * dt.type(1.0 / (1.0 - p)))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance), then affine."""
    x = _tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if tuple(x.shape[x.ndim - k:]) != shape or k > x.ndim:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end with normalized_shape {shape}")
    dims = tuple(range(x.ndim - k, x.ndim))
    d = x - x.mean(dims, keepdim=True)
    y = d / ((d * d).mean(dims, keepdim=True) + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def embedding(input, weight):
    """Rows of ``weight`` at the integer indices ``input`` (any shape)."""
    idx = ops.index_array(input, "embedding")
    n = weight.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
    return weight[idx]


__all__ = ["relu", "sigmoid", "tanh", "erf", "gelu", "leaky_relu", "softmax", "log_softmax", "linear",
           "conv2d", "max_pool2d", "dropout", "layer_norm", "embedding", "mse_loss", "l1_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]
