"""``nn.functional``: torch's functions under torch's names and argument names.

Inputs may be ``Tensor``s or anything ``np.asarray`` takes; class targets are integer indices (an array
or a ``Tensor``). Losses take ``reduction="mean" | "sum" | "none"``.
"""
import math
import warnings

import numpy as np

from autograd import Tensor
from autograd.creation import generator
from autograd.ops import nn_ops as P
from autograd.ops.elementwise import Relu

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(x):
    if isinstance(x, Tensor):
        return x
    return Tensor._wrap(np.asarray(x))


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _like(target, x):
    """``target`` as a Tensor of ``x``'s float dtype (it keeps its graph when it is a Tensor)."""
    if isinstance(target, Tensor):
        return target if target.dtype == x.dtype else target.to(x.dtype)
    arr = target.detach().cpu().numpy() if hasattr(target, "detach") and hasattr(target, "cpu") else target
    return Tensor._wrap(np.asarray(arr, dtype=x.dtype))


def _same_shape(name, x, t):
    if x.shape != t.shape:
        raise ValueError(f"{name}: target shape {t.shape} differs from input shape {x.shape}; "
                         "use the same shape (for example reshape the target to (N, 1))")


# -- activations --------------------------------------------------------------------------------------
def relu(input, inplace=False):
    return Relu.apply(input if isinstance(input, Tensor) else _tensor(input))


def sigmoid(input):
    return _tensor(input).sigmoid()


def tanh(input):
    return _tensor(input).tanh()


def erf(input):
    """The error function, elementwise, with gradient (float64 accuracy ~2e-15)."""
    return P.Erf.apply(_tensor(input))


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
    return P.LeakyRelu.apply(_tensor(input), slope=float(negative_slope))


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1  # torch's legacy choice when dim is not given


def softmax(input, dim=None):
    x = _tensor(input)
    return x.softmax(_softmax_dim(x.ndim) if dim is None else dim)


def log_softmax(input, dim=None):
    x = _tensor(input)
    return x.log_softmax(_softmax_dim(x.ndim) if dim is None else dim)


# -- layers -------------------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` in one node; ``weight`` is ``(out_features, in_features)``."""
    x = input if isinstance(input, Tensor) else _tensor(input)
    w = weight if isinstance(weight, Tensor) else _tensor(weight)
    if w.data.ndim != 2 or x.data.ndim == 0:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features) and input at least 1-D, "
                         f"got shapes {w.shape} and {x.shape}")
    if bias is None:
        return P.Linear.apply(x, w)
    return P.Linear.apply(x, w, _tensor(bias))


def _linear_relu(input, weight, bias=None):
    """``relu(linear(input, weight, bias))`` in one node (used by ``nn.Sequential``)."""
    x = input if isinstance(input, Tensor) else _tensor(input)
    if weight.data.ndim != 2 or x.data.ndim == 0:
        return relu(linear(x, weight, bias))  # linear() raises the clear error
    if bias is None:
        return P.LinearRelu.apply(x, weight)
    return P.LinearRelu.apply(x, weight, bias)


def _pair(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _batched4(x, name):
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    return x, False


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: ``input`` ``(N, C, H, W)``, ``weight`` ``(O, C, kh, kw)`` -> ``(N, O, Ho, Wo)``
    with ``Ho = (H + 2 padding - kh) // stride + 1``. im2col and one matrix product."""
    if _pair(dilation, "dilation") != (1, 1) or groups != 1:
        raise NotImplementedError("conv2d: only dilation=1 and groups=1 are supported")
    x, unbatched = _batched4(_tensor(input), "conv2d")
    w = _tensor(weight)
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    if w.ndim != 4 or w.shape[1] != x.shape[1]:
        raise ValueError(f"conv2d: weight of shape {w.shape} expects (O, {x.shape[1]}, kh, kw) for an input "
                         f"with {x.shape[1]} channels (input shape {x.shape})")
    if min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"conv2d: stride must be >= 1 and padding >= 0, got {stride} and {padding}")
    ho = (x.shape[2] + 2 * padding[0] - w.shape[2]) // stride[0] + 1
    wo = (x.shape[3] + 2 * padding[1] - w.shape[3]) // stride[1] + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"conv2d: kernel {w.shape[2:]} is larger than the padded input {x.shape[2:]} "
                         f"(padding {padding})")
    args = (x, w) if bias is None else (x, w, _tensor(bias))
    out = P.Conv2d.apply(*args, stride=stride, padding=padding)
    return out[0] if unbatched else out


def max_pool2d(input, kernel_size, stride=None, padding=0):
    """Max over ``kernel_size`` windows every ``stride`` (default: the kernel) of ``(N, C, H, W)``."""
    if _pair(padding, "padding") != (0, 0):
        raise NotImplementedError("max_pool2d: only padding=0 is supported")
    x, unbatched = _batched4(_tensor(input), "max_pool2d")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    if min(kernel) < 1 or min(stride) < 1:
        raise ValueError(f"max_pool2d: kernel_size and stride must be >= 1, got {kernel} and {stride}")
    if kernel[0] > x.shape[2] or kernel[1] > x.shape[3]:
        raise ValueError(f"max_pool2d: kernel {kernel} is larger than the input {x.shape[2:]}")
    out = P.MaxPool2d.apply(x, kernel=kernel, stride=stride)
    return out[0] if unbatched else out


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
    idx = _index_array(input, "embedding")
    n = weight.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
    return weight[idx]


def _index_array(t, name):
    arr = t.data if isinstance(t, Tensor) else np.asarray(
        t.detach().cpu() if hasattr(t, "detach") and hasattr(t, "cpu") else t)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
        raise TypeError(f"{name}: expected integer class indices, got dtype {arr.dtype}")
    return arr


# -- losses -------------------------------------------------------------------------------------------
def mse_loss(input, target, reduction="mean"):
    """Mean (or summed, or elementwise) squared error."""
    _check_reduction(reduction)
    x = _tensor(input)
    t = _like(target, x)
    _warn_broadcast("mse_loss", x, t)
    d = x - t
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean (or summed, or elementwise) absolute error."""
    _check_reduction(reduction)
    x = _tensor(input)
    t = _like(target, x)
    _warn_broadcast("l1_loss", x, t)
    return _reduce((x - t).abs(), reduction)


def _warn_broadcast(name, x, t):
    if x.shape != t.shape:
        warnings.warn(f"{name}: target shape {t.shape} differs from input shape {x.shape}; they will be "
                      "broadcast, which is probably not what you want", UserWarning, stacklevel=3)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p`` in [0, 1]; each log is clamped at
    -100 as torch, so ``p`` = 0 or 1 gives a finite loss."""
    _check_reduction(reduction)
    x = _tensor(input)
    t = _like(target, x)
    _same_shape("binary_cross_entropy", x, t)
    if x.data.size and (x.data.min() < 0 or x.data.max() > 1):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                         "(apply sigmoid first, or use binary_cross_entropy_with_logits on logits)")
    loss = P.BinaryCrossEntropy.apply(x, t)
    if weight is not None:
        loss = loss * _like(weight, x)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable step:
    ``max(x, 0) - x t + log(1 + exp(-|x|))`` (``pos_weight`` weighs the positive term, as torch)."""
    _check_reduction(reduction)
    x = _tensor(input)
    t = _like(target, x)
    _same_shape("binary_cross_entropy_with_logits", x, t)
    pw = None if pos_weight is None else _like(pos_weight, x).data
    loss = P.BCEWithLogits.apply(x, t, pos_weight=pw)
    if weight is not None:
        loss = loss * _like(weight, x)
    return _reduce(loss, reduction)


def _class_target(target, x, name):
    t = _index_array(target, name)
    expected = x.shape[1:] if x.ndim == 1 else x.shape[:1] + x.shape[2:]
    if x.ndim == 1:
        expected = ()
    if t.shape != expected:
        raise ValueError(f"{name}: target of shape {t.shape} does not match input of shape {x.shape} "
                         f"(expected class indices of shape {expected})")
    return t


def _check_range(t, n_classes, name):
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        bad = t.min() if t.min() < 0 else t.max()
        raise IndexError(f"{name}: target {bad} is out of bounds for {n_classes} classes")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """``-input[n, target[n]]`` (log-probabilities in, class dim 1), weighted by ``weight[target]``;
    ``mean`` divides by the total weight of the non-ignored targets, as torch."""
    _check_reduction(reduction)
    x = _tensor(input)
    if x.ndim == 0:
        raise ValueError("nll_loss: input must have a class dimension")
    cdim = 0 if x.ndim == 1 else 1
    t = _class_target(target, x, "nll_loss")
    ignored = t == ignore_index
    safe = np.where(ignored, 0, t) if ignored.any() else t
    _check_range(safe, x.shape[cdim], "nll_loss")
    if weight is None:
        w = (~ignored).astype(x.dtype)
    else:
        w = _like(weight, x).data[safe] * ~ignored
    loss = P.Gather.apply(x, index=safe, dim=cdim) * (-w)
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy from logits (class dim 1): ``nll_loss(log_softmax(input, 1), target)``.

    ``target``: class indices, or class probabilities of the input's shape. The common case (no
    weight, no smoothing, no ignored target) is one fused node.
    """
    _check_reduction(reduction)
    x = _tensor(input)
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension")
    cdim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[cdim]
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be between 0 and 1, got {label_smoothing}")
    if weight is None and eps == 0.0 and x.data.ndim == 2:  # the common case, checked cheaply
        t = target.data if isinstance(target, Tensor) else target
        if type(t) is np.ndarray and t.dtype.kind in "iu" and t.shape == x.data.shape[:1] and t.size:
            # a class >= n_classes makes the primitive's indexing raise IndexError: checked below
            if np.minimum.reduce(t) >= 0 and (ignore_index < 0 or not (t == ignore_index).any()):
                try:
                    return P.CrossEntropy.apply(x, target=t, reduction=reduction)
                except IndexError:
                    pass
    if _is_prob_target(target, x):
        return _cross_entropy_probs(x, _like(target, x), weight, reduction, eps, cdim)
    t = _class_target(target, x, "cross_entropy")
    if weight is None and eps == 0.0 and not (t == ignore_index).any():
        _check_range(t, n_classes, "cross_entropy")
        return P.CrossEntropy.apply(x, target=t, reduction=reduction)
    logp = x.log_softmax(cdim)
    nll = nll_loss(logp, t, weight, ignore_index, reduction)
    if eps == 0.0:
        return nll
    ignored = t == ignore_index
    wc = _class_weights(weight, x, cdim)
    smooth = -((logp * wc) if wc is not None else logp).sum(cdim) * (~ignored).astype(x.dtype)
    if reduction == "none":
        smooth_r = smooth
    elif reduction == "sum":
        smooth_r = smooth.sum()
    else:
        safe = np.where(ignored, 0, t)
        denom = (~ignored).sum() if weight is None else (_like(weight, x).data[safe] * ~ignored).sum()
        smooth_r = smooth.sum() / float(denom)
    return nll * (1.0 - eps) + smooth_r * (eps / n_classes)


def _class_weights(weight, x, cdim):
    if weight is None:
        return None
    w = _like(weight, x).data
    return w.reshape((-1,) + (1,) * (x.ndim - cdim - 1))


def _is_prob_target(target, x):
    dt = target.dtype if isinstance(target, (Tensor, np.ndarray)) else getattr(target, "dtype", None)
    kind = getattr(dt, "kind", None)
    if kind is None and dt is not None:  # a torch dtype
        kind = "f" if getattr(dt, "is_floating_point", False) else "i"
    shape = tuple(getattr(target, "shape", np.shape(target)))
    return kind == "f" and shape == x.shape


def _cross_entropy_probs(x, t, weight, reduction, eps, cdim):
    n_classes = x.shape[cdim]
    if eps:
        t = t * (1.0 - eps) + eps / n_classes
    wc = _class_weights(weight, x, cdim)
    prod = x.log_softmax(cdim) * t
    if wc is not None:
        prod = prod * wc
    loss = -prod.sum(cdim)
    if reduction == "mean":
        return loss.sum() / float(max(x.data.size // n_classes, 1) if x.data.size else 0)
    return _reduce(loss, reduction)


__all__ = ["relu", "sigmoid", "tanh", "erf", "gelu", "leaky_relu", "softmax", "log_softmax", "linear",
           "conv2d", "max_pool2d", "dropout", "layer_norm", "embedding", "mse_loss", "l1_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]
