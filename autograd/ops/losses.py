"""Losses: cross-entropy, negative log-likelihood, binary cross-entropy (on probabilities and on
logits), mean squared and absolute error, and the rest of torch's losses (smooth L1, Huber, KL, margin
and embedding losses, Poisson and Gaussian NLL), with torch's names, arguments and ``reduction`` rules.

Class targets are integer indices (an array, a Tensor or a torch tensor); the input's class dim is 1
(or 0 for a single unbatched sample).
"""
import math
import warnings

import numpy as np

from ..dtypes import as_array
from ..primitive import Primitive, TensorBase, array, call
from ._util import quiet
from .elementwise import Clamp, Exp, Log, Sigmoid, Softplus, Where
from .reduce import LogSoftmax, log_softmax_array
from .shape import Gather, Reshape
from ._formulas import sig

_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction):
    """A ``ValueError`` unless ``reduction`` is "mean", "sum" or "none"."""
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
    if isinstance(target, TensorBase):
        return target if target.dtype == x.dtype else target.to(x.dtype)
    return x._wrap(as_array(target, dtype=x.dtype))


def _same_shape(name, x, t):
    if x.shape != t.shape:
        raise ValueError(f"{name}: target shape {t.shape} differs from input shape {x.shape}; "
                         "use the same shape (for example reshape the target to (N, 1))")


class CrossEntropy(Primitive):
    """Mean or summed (or per-sample) softmax cross-entropy with class-index targets, one node.

    ``target`` (int array, the input's shape without the class dim 1) is an attribute; the gradient
    is ``softmax(x) - onehot(target)`` times the incoming gradient.
    """

    name = "cross_entropy"

    def forward(self, x):
        cdim = 0 if x.ndim == 1 else 1
        self.cdim = cdim
        self.logp = logp = log_softmax_array(x, cdim)  # kept for the plain backward
        if x.ndim == 2:
            loss = logp[np.arange(len(x)), self.target]
        else:
            loss = np.take_along_axis(logp, np.expand_dims(self.target, cdim), cdim).squeeze(cdim)
        if self.reduction == "mean":
            with quiet():  # an empty batch: nan, as torch
                return np.asarray(-np.add.reduce(loss, None) / loss.size, dtype=x.dtype)
        if self.reduction == "sum":
            return np.asarray(-np.add.reduce(loss, None), dtype=x.dtype)
        return -loss

    def _onehot(self, shape, dtype):
        oh = np.zeros(shape, dtype=dtype)
        if oh.ndim == 2:
            oh[np.arange(shape[0]), self.target] = 1
            return oh
        np.put_along_axis(oh, np.expand_dims(self.target, self.cdim), 1, self.cdim)
        return oh

    def _scale(self, g):
        if self.reduction == "none":
            return call(Reshape, g, shape=np.expand_dims(self.target, self.cdim).shape)
        if self.reduction == "mean":
            n = self.target.size
            if n:  # g / n can not overflow: no warning to silence
                return g / n
            with quiet():  # an empty batch: nan (its gradient is empty anyway)
                return g / n
        return g

    formulas = (("(softmax({0}) − onehot(target)) ⊙ g / N", lambda s: _cross_entropy(s)),)

    def backward(self, g, out, x):
        # (softmax(x) - onehot(target)) times the incoming gradient (divided by N for "mean"); softmax
        # is exp of the forward's log-probabilities, as torch's (recomputed, recorded, for create_graph)
        # (torch's order of operations: softmax ⊙ s − onehot ⊙ s, s = g / N, gives torch's bits)
        logp = call(LogSoftmax, x, dim=self.cdim) if isinstance(x, TensorBase) else self.logp
        s = self._scale(g)
        return (call(Exp, logp) * s - self._onehot(x.shape, x.dtype) * s,)


class BinaryCrossEntropy(Primitive):
    """Elementwise ``-(t log x + (1 - t) log(1 - x))`` with each log clamped at -100, as torch; torch's
    gradient ``(x - t) / max(x (1 - x), 1e-12)`` stays finite at 0 and 1."""

    name = "binary_cross_entropy"

    def forward(self, x, t):
        with quiet():
            return -(t * np.maximum(np.log(x), -100.0) + (1 - t) * np.maximum(np.log(1 - x), -100.0))

    formulas = (("g ⊙ ({0} − {1}) / ({0}(1 − {0}))",
                 lambda s: s.g * (s.a - s.b) / np.maximum(s.a * (1 - s.a), 1e-12)),
                ("g ⊙ (log(1 − {0}) − log {0})",
                 lambda s: s.g * (np.maximum(np.log(1 - s.a), -100) - np.maximum(np.log(s.a), -100))))

    def backward(self, g, out, x, t):
        gx = gt = None
        with quiet():
            if self.needs[0]:
                gx = g * (x - t) / call(Clamp, (1 - x) * x, min=1e-12, max=None)
            if self.needs[1]:
                gt = g * (call(Clamp, call(Log, 1 - x), min=-100.0, max=None)
                          - call(Clamp, call(Log, x), min=-100.0, max=None))
        return gx, gt


class BCEWithLogits(Primitive):
    """Elementwise ``max(x, 0) - x t + log(1 + exp(-|x|))``; with ``pos_weight`` p, torch's form
    ``(1 - t) x + (1 + (p - 1) t) softplus(-x)``. Stable for any logit."""

    name = "binary_cross_entropy_with_logits"

    def forward(self, x, t):
        with quiet():
            if self.pos_weight is None:
                return np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
            lw = (self.pos_weight - 1) * t + 1
            return (1 - t) * x + lw * call(Softplus, -x)

    formulas = (("g ⊙ (σ({0}) − {1})", lambda s: _bce_logits(s, 0)),
                ("−g ⊙ {0}", lambda s: _bce_logits(s, 1)))

    def backward(self, g, out, x, t):
        gx = gt = None
        sig = call(Sigmoid, x)
        pw = self.pos_weight
        if self.needs[0]:
            gx = g * (sig - t) if pw is None else g * ((1 - t) - ((pw - 1) * t + 1) * (1 - sig))
        if self.needs[1]:
            gt = -g * x if pw is None else g * ((pw - 1) * call(Softplus, -x) - x)
        return gx, gt


def _index_array(t, name):
    arr = as_array(t)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
        raise TypeError(f"{name}: expected integer class indices, got dtype {arr.dtype}")
    return arr


# -- losses -------------------------------------------------------------------------------------------
def mse_loss(input, target, reduction="mean"):
    """Mean (or summed, or elementwise) squared error."""
    check_reduction(reduction)
    x = input
    t = _like(target, x)
    _warn_broadcast("mse_loss", x, t)
    d = x - t
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean (or summed, or elementwise) absolute error."""
    check_reduction(reduction)
    x = input
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
    check_reduction(reduction)
    x = input
    t = _like(target, x)
    _same_shape("binary_cross_entropy", x, t)
    if x._data.size and (x._data.min() < 0 or x._data.max() > 1):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                         "(apply sigmoid first, or use binary_cross_entropy_with_logits on logits)")
    loss = BinaryCrossEntropy.apply(x, t)
    if weight is not None:
        loss = loss * _like(weight, x)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable step:
    ``max(x, 0) - x t + log(1 + exp(-|x|))`` (``pos_weight`` weighs the positive term, as torch)."""
    check_reduction(reduction)
    x = input
    t = _like(target, x)
    _same_shape("binary_cross_entropy_with_logits", x, t)
    pw = None if pos_weight is None else _like(pos_weight, x)._data
    loss = BCEWithLogits.apply(x, t, pos_weight=pw)
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
    check_reduction(reduction)
    x = input
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
        w = _like(weight, x)._data[safe] * ~ignored
    loss = Gather.apply(x, index=safe, dim=cdim) * (-w)
    if reduction == "mean":
        return loss.sum() / w.sum()
    return _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy from logits (class dim 1): ``nll_loss(log_softmax(input, 1), target)``.

    ``target``: class indices, or class probabilities of the input's shape. The common case (no
    weight, no smoothing, no ignored target) is one fused node.
    """
    check_reduction(reduction)
    x = input
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension")
    cdim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[cdim]
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be between 0 and 1, got {label_smoothing}")
    if weight is None and eps == 0.0 and x._data.ndim == 2:  # the common case, checked cheaply
        t = target._data if isinstance(target, TensorBase) else target
        if type(t) is np.ndarray and t.dtype.kind in "iu" and t.shape == x._data.shape[:1] and t.size:
            # a class >= n_classes makes the primitive's indexing raise IndexError: checked below
            if np.minimum.reduce(t) >= 0 and (ignore_index < 0 or not (t == ignore_index).any()):
                try:
                    return CrossEntropy.apply(x, target=t, reduction=reduction)
                except IndexError:
                    pass
    if _is_prob_target(target, x):
        return _cross_entropy_probs(x, _like(target, x), weight, reduction, eps, cdim)
    t = _class_target(target, x, "cross_entropy")
    if weight is None and eps == 0.0 and not (t == ignore_index).any():
        _check_range(t, n_classes, "cross_entropy")
        return CrossEntropy.apply(x, target=t, reduction=reduction)
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
        denom = (~ignored).sum() if weight is None else (_like(weight, x)._data[safe] * ~ignored).sum()
        smooth_r = smooth.sum() / float(denom)
    return nll * (1.0 - eps) + smooth_r * (eps / n_classes)


def _class_weights(weight, x, cdim):
    if weight is None:
        return None
    w = _like(weight, x)._data
    return w.reshape((-1,) + (1,) * (x.ndim - cdim - 1))


def _is_prob_target(target, x):
    dt = target.dtype if isinstance(target, (TensorBase, np.ndarray)) else getattr(target, "dtype", None)
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
        return loss.sum() / float(max(x._data.size // n_classes, 1) if x._data.size else 0)
    return _reduce(loss, reduction)




# -- more losses (composites of primitives with exact rules) -------------------------------------------
def _where(mask, a, b, like):
    """``a`` where the constant ``mask`` holds, else ``b`` (numbers or Tensors beside ``like``)."""
    return Where.apply(like._wrap(np.asarray(mask)), like._constant(a), like._constant(b))


def _target(name, x, target):
    t = _like(target, x)
    _warn_broadcast(name, x, t)
    return t


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``)."""
    check_reduction(reduction)
    d = input - _target("smooth_l1_loss", input, target)
    if beta == 0:
        return _reduce(d.abs(), reduction)
    small = np.abs(array(d)) < beta
    return _reduce(_where(small, d * d * (0.5 / beta), d.abs() - 0.5 * beta, d), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    check_reduction(reduction)
    d = input - _target("huber_loss", input, target)
    small = np.abs(array(d)) < delta
    return _reduce(_where(small, d * d * 0.5, (d.abs() - 0.5 * delta) * delta, d), reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    """``target (log target - input)`` pointwise (``input`` holds log-probabilities; 0 where the target
    is 0), or ``exp(t) (t - input)`` with ``log_target``; ``reduction="batchmean"`` divides by N."""
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"reduction must be one of {_REDUCTIONS + ('batchmean',)}, got {reduction!r}")
    x = input
    t = _like(target, x)
    if log_target:
        loss = t.exp() * (t - x)
    else:
        safe = _where(array(t) > 0, t, 1.0, t)
        loss = _where(array(t) > 0, t * (safe.log() - x), 0.0, x)
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction)


def _sign_target(target, x):
    return np.asarray(array(target) if isinstance(target, TensorBase) else target)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos - margin)`` where it is -1 (cosine over
    dim -1, torch's epsilon 1e-12 on the squared norms)."""
    check_reduction(reduction)
    x1, x2 = input1, input1._constant(input2)
    y = _sign_target(target, x1)
    dim = x1.ndim - 1
    prod = (x1 * x2).sum(dim)
    mag = (((x1 * x1).sum(dim) + 1e-12) * ((x2 * x2).sum(dim) + 1e-12)).sqrt()
    cos = prod / mag
    loss = _where(y == 1, 1.0 - cos, 0.0, cos) + _where(y == -1, (cos - margin).clamp(min=0.0), 0.0, cos)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``max(0, -target (x1 - x2) + margin)``."""
    check_reduction(reduction)
    y = input1._constant(target) if not isinstance(target, TensorBase) else target
    return _reduce((-y * (input1 - input2) + margin).clamp(min=0.0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where it is -1."""
    check_reduction(reduction)
    x = input
    y = _sign_target(target, x)
    loss = _where(y != 1, (margin - x).clamp(min=0.0), 0.0, x) + _where(y != -1, x, 0.0, x)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, reduction="mean"):
    """``log(1 + exp(-target x))``."""
    check_reduction(reduction)
    return _reduce(Softplus.apply(-_like(target, input) * input), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """``sum_{i != y} max(0, margin - x[y] + x[i])^p / C`` per sample (``weight[y]`` scales it)."""
    check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input
    x2 = x if x.ndim == 2 else x.reshape(1, -1)
    t = _index_array(target, "multi_margin_loss").reshape(-1)
    if x2.ndim != 2 or t.shape != x2.shape[:1]:
        raise ValueError(f"multi_margin_loss: input of shape {x.shape} needs targets of shape "
                         f"{x2.shape[:1]}, "
                         f"got {np.shape(array(target))}")
    _check_range(t, x2.shape[1], "multi_margin_loss")
    picked = Gather.apply(x2, index=t, dim=1).reshape(-1, 1)
    z = (x2 - picked + margin).clamp(min=0.0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * _like(weight, x)._data[t][:, None]
    other = np.arange(x2.shape[1])[None, :] != t[:, None]
    loss = _where(other, z, 0.0, z).sum(1) * (1.0 / x2.shape[1])
    return _reduce(loss if x.ndim == 2 else loss.reshape(()), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """``exp(x) - t x`` (``log_input``) or ``x - t log(x + eps)``; ``full`` adds Stirling's term
    ``t log t - t + 0.5 log(2 pi t)`` where ``t > 1``."""
    check_reduction(reduction)
    x = input
    t = _like(target, x)
    loss = x.exp() - t * x if log_input else x - t * (x + eps).log()
    if full:
        ta = array(t)
        big = ta > 1
        safe = _where(big, t, 1.0, t)
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        loss = loss + _where(big, stirling, 0.0, t)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """``0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps))`` (+ ``0.5 log(2 pi)`` if
    ``full``); the clamp passes the gradient on unchanged, as torch's in-place clamp under no_grad."""
    check_reduction(reduction)
    x = input
    t = _like(target, x)
    v = _like(var, x)
    if v.shape != x.shape:
        if x.shape[:-1] == v.shape:
            v = v.unsqueeze(-1)
        elif not (x.shape[:-1] == v.shape[:-1] and v.shape[-1:] == (1,)) and v.numel() != 1:
            raise ValueError(f"gaussian_nll_loss: var of shape {v.shape} does not match input {x.shape}")
    if array(v).size and array(v).min() < 0:
        raise ValueError("var has negative entry/entries")
    va = array(v)
    v = v + (np.maximum(va, eps) - va).astype(va.dtype)
    loss = ((v.log() + (x - t) * (x - t) / v)) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _softmax_rows(x, axis):
    """softmax of ``x`` along ``axis``."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _cross_entropy(s):
    """cross_entropy's input gradient: ``(softmax(x) − onehot(target)) ⊙ g`` (÷ N for mean)."""
    fn, x = s.fn, s.a
    cdim = 0 if x.ndim == 1 else 1
    onehot = np.zeros_like(x)
    np.put_along_axis(onehot, np.expand_dims(fn.target, cdim), 1, cdim)
    g = s.g
    if fn.reduction == "none":
        g = np.expand_dims(g, cdim)
    elif fn.reduction == "mean":
        g = g / np.size(fn.target)
    return (_softmax_rows(x, cdim) - onehot) * g


def _bce_logits(s, which):
    """binary_cross_entropy_with_logits' gradient for the logits (0) or the target (1)."""
    x, t, pw = s.a, s.b, s.fn.pos_weight
    if which == 0:
        return s.g * (sig(x) - t) if pw is None else s.g * ((1 - t) - ((pw - 1) * t + 1) * (1 - sig(x)))
    soft = np.logaddexp(0, -x)
    return -s.g * x if pw is None else s.g * ((pw - 1) * soft - x)
