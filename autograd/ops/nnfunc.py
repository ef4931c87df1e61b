"""Functions of ``nn.functional`` built from the tensor primitives: ``pad``, ``interpolate``,
``unfold``/``fold``, ``one_hot``, ``embedding``, the dropout family, the normalisations
(``batch_norm``, ``layer_norm``, ``group_norm``, ``instance_norm``, ``normalize``), distances
(``cosine_similarity``, ``pairwise_distance``) and ``scaled_dot_product_attention``.

Each is a composite of primitives with exact rules (indexing, index-add, matmul, reductions), so
gradients of any order come for free; everything is vectorised over batch, channels and pixels. The
normalisations are two nodes: ``Standardize`` (``(x - mean) / sqrt(var + eps)``, torch's backward
formula, its factor ``rstd`` an ``InvStd`` node under ``create_graph``) and ``Affine`` (``y * w + b``).
"""
import math

import numpy as np

from ..random import generator as _generator
from ..primitive import Primitive, TensorBase, array, call
from ._util import ShapeError, quiet
from .elementwise import Where
from .reduce import Mean, Sum
from .shape import IndexAdd, Reshape


class PadError(RuntimeError, ValueError):
    """torch's RuntimeError for bad arguments (shapes, padding sizes); also a ValueError."""


# -- pad ----------------------------------------------------------------------------------------------
def _pad_constant(x, p, value):
    """Zero (or ``value``) border; negative pads crop, as torch."""
    crop, place, shape = [slice(None)] * x.ndim, [slice(None)] * x.ndim, list(x.shape)
    for k in range(len(p) // 2):
        dim, (lo, hi) = x.ndim - 1 - k, p[2 * k:2 * k + 2]
        n = x.shape[dim]
        if n + lo + hi < 0 or (n + min(lo, 0) + min(hi, 0)) < 0:
            raise PadError(f"pad: padding {p} gives a negative size at dimension {dim} of input {x.shape}")
        crop[dim] = slice(max(-lo, 0), n - max(-hi, 0))
        kept = n - max(-lo, 0) - max(-hi, 0)
        place[dim] = slice(max(lo, 0), max(lo, 0) + kept)
        shape[dim] = n + lo + hi
    if min(p) < 0:
        x = x[tuple(crop)]
    if max(p) <= 0:
        return x
    out = IndexAdd.apply(x, shape=tuple(shape), index=tuple(place), dtype=x.dtype, unique=True)
    if value:
        border = np.full(shape, value, dtype=x.dtype)
        border[tuple(place)] = 0
        out = out + border
    return out


def _pad_index(n, lo, hi, mode, dim, shape):
    """The source index of every padded position along one dim (reflect, replicate, circular)."""
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise PadError(f"pad: padding size should be less than the corresponding input dimension, but "
                           f"got padding ({lo}, {hi}) at dimension {dim} of input {shape}")
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == "replicate":
        if n == 0:
            raise PadError(f"pad: cannot replicate-pad the empty dimension {dim} of input {shape}")
        return np.clip(i, 0, n - 1)
    if lo > n or hi > n:
        raise PadError(f"pad: padding ({lo}, {hi}) for circular mode is larger than dimension {dim} of input "
                       f"{shape}")
    return i % n


def pad(input, pad, mode="constant", value=None):
    """torch's ``F.pad``: ``pad = (left, right)`` for the last dim, then the one before, ...;
    ``mode`` "constant" (with ``value``), "reflect", "replicate" or "circular"."""
    p = tuple(int(v) for v in pad)
    if len(p) % 2:
        raise PadError(f"pad: padding length must be divisible by 2, got {len(p)}")
    if len(p) // 2 > input.ndim:
        raise PadError(f"pad: padding length {len(p)} is too large for an input with {input.ndim} dims")
    if mode == "constant":
        return _pad_constant(input, p, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unknown padding mode {mode!r}")
    if value not in (None, 0):
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    x = input
    for k in range(len(p) // 2):
        dim, (lo, hi) = x.ndim - 1 - k, p[2 * k:2 * k + 2]
        if lo or hi:
            x = x[(slice(None),) * dim + (_pad_index(x.shape[dim], lo, hi, mode, dim, input.shape),)]
    return x


# -- interpolate --------------------------------------------------------------------------------------
def _out_sizes(x, size, scale_factor, nd):
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(sizes) != nd:
            raise ValueError(f"interpolate: size {size!r} must have {nd} elements for input of shape "
                             f"{x.shape}")
        return tuple(int(s) for s in sizes), (None,) * nd
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
    if len(scales) != nd:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} must have {nd} elements for input of "
                         f"shape {x.shape}")
    sizes = tuple(int(math.floor(n * float(s))) for n, s in zip(x.shape[2:], scales))
    return sizes, tuple(map(float, scales))


def _nearest_index(n_in, n_out, scale):
    """torch's nearest source index (computed in float32, as torch does)."""
    s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    return np.minimum(np.floor(np.arange(n_out, dtype=np.float32) * s).astype(np.int64), n_in - 1)


def _linear_matrix(n_in, n_out, scale, align_corners, dtype):
    """``(n_out, n_in)``: the linear interpolation weights along one dim, with torch's source index."""
    o = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = o * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        s = 1.0 / scale if scale else n_in / n_out
        src = np.maximum(s * (o + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = np.clip(src - i0, 0.0, 1.0)
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), i0), 1.0 - lam)
    np.add.at(m, (np.arange(n_out), i1), lam)
    return m.astype(dtype)


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of ``(N, C, *spatial)``: ``mode`` "nearest", "linear" (3-D input),
    "bilinear" (4-D) or "trilinear" (5-D), with torch's source coordinates and ``align_corners``."""
    x = input
    nd = x.ndim - 2
    if nd < 1:
        raise ValueError(f"interpolate: expected a 3-D, 4-D or 5-D input, got shape {x.shape}")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != nd:
        raise ValueError(f"interpolate: mode {mode!r} expects a {_LINEAR_MODES[mode] + 2}-D input, got shape "
                         f"{x.shape}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | "
                         "bilinear | bicubic | trilinear")
    if mode != "nearest" and mode not in _LINEAR_MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (nearest, linear, bilinear, "
                                  "trilinear are)")
    sizes, scales = _out_sizes(x, size, scale_factor, nd)
    if recompute_scale_factor:
        scales = (None,) * nd
    if min(sizes) < 1:
        raise ValueError(f"interpolate: output size {sizes} must be positive (input {x.shape})")
    for k, (n_out, scale) in enumerate(zip(sizes, scales)):
        dim = 2 + k
        n_in = x.shape[dim]
        if mode == "nearest":
            x = x[(slice(None),) * dim + (_nearest_index(n_in, n_out, scale),)]
        else:
            m = _linear_matrix(n_in, n_out, scale, bool(align_corners), x.dtype)
            x = (x.transpose(dim, -1) @ m.T).transpose(dim, -1)
    return x


# -- unfold / fold ------------------------------------------------------------------------------------
def _pairs(*vals):
    return [tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v), int(v)) for v in vals]


def _block_index(size, kernel, dilation, padding, stride):
    """Row and column indices ``(kh, 1, Ho, 1)``, ``(1, kw, 1, Wo)`` of every block element in the
    padded image, and ``L = Ho * Wo``."""
    lens = [(n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, k, d, p, s in zip(size, kernel, dilation, padding, stride)]
    if min(lens) < 1:
        raise PadError(f"unfold: kernel {kernel} (dilation {dilation}, padding {padding}) is larger than the "
                       f"input {tuple(size)}")
    (kh, kw), (dh, dw), (sh, sw), (ho, wo) = kernel, dilation, stride, lens
    rows = (np.arange(kh) * dh)[:, None, None, None] + (np.arange(ho) * sh)[None, None, :, None]
    cols = (np.arange(kw) * dw)[None, :, None, None] + (np.arange(wo) * sw)[None, None, None, :]
    return rows, cols, ho * wo


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: ``(N, C, H, W) -> (N, C * kh * kw, L)``, the sliding blocks as columns (torch's order)."""
    x = input
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise PadError(f"unfold: expected a 3-D or 4-D input, got shape {input.shape}")
    kernel, dilation, padding, stride = _pairs(kernel_size, dilation, padding, stride)
    rows, cols, n_blocks = _block_index(x.shape[2:], kernel, dilation, padding, stride)
    n, c = x.shape[:2]
    xp = pad(x, (padding[1], padding[1], padding[0], padding[0]))
    out = xp[:, :, rows, cols].reshape(n, c * kernel[0] * kernel[1], n_blocks)
    return out[0] if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of ``unfold``: ``(N, C * kh * kw, L) -> (N, C, *output_size)``, overlapping
    values summed."""
    x = input
    unbatched = x.ndim == 2
    if unbatched:
        x = x.unsqueeze(0)
    size, kernel, dilation, padding, stride = _pairs(output_size, kernel_size, dilation, padding, stride)
    if x.ndim != 3 or x.shape[1] % (kernel[0] * kernel[1]):
        raise PadError(f"fold: expected a (N, C * {kernel[0]} * {kernel[1]}, L) input, got shape "
                       f"{input.shape}")
    rows, cols, n_blocks = _block_index(size, kernel, dilation, padding, stride)
    if x.shape[2] != n_blocks:
        raise PadError(f"fold: input of shape {input.shape} has {x.shape[2]} blocks, but output_size {size}, "
                       f"kernel {kernel} give {n_blocks}")
    n, c = x.shape[0], x.shape[1] // (kernel[0] * kernel[1])
    blocks = x.reshape(n, c, kernel[0], kernel[1], rows.shape[2], cols.shape[3])
    padded = (n, c, size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    out = IndexAdd.apply(blocks, shape=padded, index=(slice(None), slice(None), rows, cols), dtype=x.dtype)
    out = out[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    return out[0] if unbatched else out


# -- indices ------------------------------------------------------------------------------------------
def one_hot(tensor, num_classes=-1):
    """``(*) -> (*, num_classes)`` int64 one-hot rows of the class indices ``tensor``."""
    idx = np.asarray(array(tensor))
    if idx.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor")
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    n = int(idx.max()) + 1 if num_classes == -1 and idx.size else int(num_classes)
    if num_classes == -1 and not idx.size:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if idx.size and idx.max() >= n:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (idx[..., None] == np.arange(n)).astype(np.int64)
    return tensor._wrap(out) if isinstance(tensor, TensorBase) else out


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` ``(V, D)`` at the integer indices ``input`` (any shape) -> ``(*, D)``; no
    gradient reaches row ``padding_idx``; ``max_norm`` renormalises the rows looked up, in place."""
    idx = np.asarray(array(input))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices, got dtype {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings (weight of shape "
                         f"{weight.shape})")
    if padding_idx is not None:
        padding_idx = int(padding_idx) + (n if padding_idx < 0 else 0)
    if max_norm is not None:
        w = weight.detach().numpy()
        rows = np.unique(idx)
        norms = (np.abs(w[rows]) ** norm_type).sum(1) ** (1.0 / norm_type)
        big = norms > max_norm
        w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
    out = weight[idx]
    if padding_idx is not None and (idx == padding_idx).any():
        keep = np.expand_dims(idx == padding_idx, -1)
        out = Where.apply(out._wrap(keep), weight.detach()[idx], out)
    return out


# -- dropout ------------------------------------------------------------------------------------------
def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(x, shape, p):
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    return _generator().random(shape, dtype=np.float64 if dt == np.float64 else np.float32) >= p, dt


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero elements with probability ``p`` and scale the rest by ``1 / (1 - p)`` when ``training``."""
    return _dropout(input, p, training, input.shape)


def _dropout(x, p, training, mask_shape):
    _check_p(p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros((), dtype=x.dtype)
    keep, dt = _keep_mask(x, mask_shape, p)
    return x * (keep * dt.type(1.0 / (1.0 - p)))


def _feature_dropout(input, p, training, nd, name):
    x = input
    if x.ndim not in (nd + 1, nd + 2):
        raise PadError(f"{name}: expected a {nd + 1}-D or {nd + 2}-D input, got shape {x.shape}")
    lead = 1 if x.ndim == nd + 1 else 2
    return _dropout(x, p, training, x.shape[:lead] + (1,) * nd)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, L)`` with probability ``p`` (scale the rest by ``1/(1-p)``)."""
    return _feature_dropout(input, p, training, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p`` (scale the rest by ``1/(1-p)``)."""
    return _feature_dropout(input, p, training, 2, "dropout2d")


_SELU_ALPHA_PRIME = 1.7580993408473766  # -selu_scale * selu_alpha


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's zero mean and unit variance (torch's affine correction)."""
    _check_p(p)
    x = input
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros((), dtype=x.dtype)
    keep, dt = _keep_mask(x, x.shape, p)
    a = 1.0 / math.sqrt((_SELU_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    b = (keep.astype(dt) - 1) * (_SELU_ALPHA_PRIME * a) + _SELU_ALPHA_PRIME * a * p
    return x * (keep * dt.type(a)) + b.astype(dt)


# -- normalisation ------------------------------------------------------------------------------------
def _affine(y, weight, bias, shape):
    """``y * weight + bias`` with the per-channel (or per-element) parameters reshaped to ``shape`` (one
    ``Affine`` node when both are Tensors of ``y``'s dtype)."""
    both = isinstance(weight, TensorBase) and isinstance(bias, TensorBase)
    if both and weight.dtype == bias.dtype == y.dtype:
        return Affine.apply(y, weight, bias, shape=tuple(shape))
    if weight is not None:
        y = y * y._constant(weight).reshape(shape)
    if bias is not None:
        y = y + y._constant(bias).reshape(shape)
    return y


class Affine(Primitive):
    """``y * weight + bias``: ``weight`` and ``bias`` (one shape) reshaped to ``shape`` and broadcast over
    ``y`` (the norms' elementwise affine); their gradients are sums over the broadcast ``axes``."""

    name = "affine"

    def forward(self, y, w, b):
        lead = y.ndim - len(self.shape)
        self.axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(self.shape) if n == 1)
        out = y * w.reshape(self.shape)
        out += b.reshape(self.shape)
        return out

    formulas = (("g ⊙ {1}", lambda s: s.g * s.b.reshape(s.fn.shape)),
                ("Σ g ⊙ {0} over the broadcast dims",
                 lambda s: (s.g * s.a).sum(s.fn.axes).reshape(s.b.shape)),
                ("Σ g over the broadcast dims", lambda s: s.g.sum(s.fn.axes).reshape(s.x[2].shape)))

    def backward(self, g, out, y, w, b):
        gy = g * call(Reshape, w, shape=self.shape) if self.needs[0] else None
        gw = call(Reshape, call(StatSum, g * y, axes=self.axes), shape=w.shape) if self.needs[1] else None
        gb = call(Reshape, call(StatSum, g, axes=self.axes), shape=b.shape) if self.needs[2] else None
        return gy, gw, gb


def _sum(x, axes):
    """``x`` summed over ``axes`` (keepdim shape), the reduced axis of largest stride first: NumPy then
    adds whole contiguous blocks (over (0, 2, 3) of a (32, 32, 8, 8) batch, 4x faster than one call)."""
    if len(axes) > 1:
        outer = max(axes, key=lambda i: abs(x.strides[i]))
        x = np.add.reduce(x, axis=outer, keepdims=True)
        axes = tuple(i for i in axes if i != outer)
    return np.add.reduce(x, axis=axes, keepdims=True)


class StatSum(Sum):
    """``sum(x, axes, keepdim=True)`` in ``_sum``'s order: the norms' parameter gradients."""

    def forward(self, a):
        self.shape, self.keepdim = a.shape, True
        return _sum(a, self.axes)

    formulas = Sum.formulas


class StatMean(Mean):
    """``mean(x, axes, keepdim=True)`` summed in ``_sum``'s order: the statistics of the norms."""

    def forward(self, a):
        self.shape, self.n, self.keepdim = a.shape, math.prod([a.shape[i] for i in self.axes]), True
        with quiet():  # an empty reduction: nan, as torch
            return _sum(a, self.axes) / self.n

    formulas = Mean.formulas


def _centred_moments(x, axes):
    """``(mean, x - mean, var)`` over ``axes`` (keepdim shapes, the biased variance): one pass for the
    mean, one for the centred copy, one for its square (an empty reduction gives nan, as torch)."""
    mean = call(StatMean, x, axes=axes)
    d = x - mean
    return mean, d, call(StatMean, np.multiply(d, d), axes=axes)


def _rstd(var, eps):
    """``1 / sqrt(var + eps)`` in ``var``'s dtype."""
    with quiet():
        return 1.0 / np.sqrt(var + eps)


class Standardize(Primitive):
    """``(x - mean) / sqrt(var + eps)`` with the biased variance over ``axes``: batch, layer, instance and
    group norm's one node. The forward keeps ``rstd`` (keepdim shape) for the rule, torch's
    ``rstd (g - mean(g) - y mean(g y))``, and gives ``(mean, var)`` to the ``stats`` list if any."""

    name = "standardize"
    saves_output = True
    stats = None  # a list the forward appends ``(mean, var)`` to (batch_norm's running statistics)

    def forward(self, x):
        mean, y, var = _centred_moments(x, self.axes)
        self.rstd = rstd = _rstd(var, self.eps)
        y *= rstd
        if self.stats is not None:
            self.stats.append((mean, var))
        return y

    formulas = (("rstd ⊙ (g − mean(g) − o ⊙ mean(g ⊙ o))",
                 lambda s: s.fn.rstd * (s.g - s.g.mean(s.fn.axes, keepdims=True)
                                        - s.o * (s.g * s.o).mean(s.fn.axes, keepdims=True))),)

    def backward(self, g, out, x):
        axes = self.axes
        rstd = call(InvStd, x, axes=axes, eps=self.eps, rstd=self.rstd)
        mean_g = call(StatMean, g, axes=axes)
        mean_gy = call(StatMean, g * out, axes=axes)
        return ((g - mean_g - out * mean_gy) * rstd,)


class InvStd(Primitive):
    """``(*) -> keepdim shape``: ``1 / sqrt(var + eps)`` with the biased variance over ``axes`` (the
    ``rstd`` a ``Standardize`` forward computed from the same input, when given): its rule's factor."""

    name = "rstd"
    saves_output = True
    rstd = None

    def forward(self, x):
        if self.rstd is not None:
            return self.rstd.copy()
        return _rstd(_centred_moments(x, self.axes)[2], self.eps)

    formulas = (("−g ⊙ o³ ⊙ ({0} − mean) / n",
                 lambda s: -s.g * s.o ** 3 * (s.a - s.a.mean(s.fn.axes, keepdims=True))
                 / _count(s.a, s.fn.axes)),)

    def backward(self, g, out, x):
        mean = call(StatMean, x, axes=self.axes)
        return (g * (out * out * out) * (-1.0 / _count(x, self.axes)) * (x - mean),)


def _count(x, axes):
    """The number of elements each statistic over ``axes`` covers (at least 1: an empty one has none)."""
    return max(math.prod([x.shape[i] for i in axes]), 1)


def _standardise(x, dims, eps, stats=None):
    """``(x - mean) / sqrt(var + eps)`` with the biased variance over ``dims``: one ``Standardize`` node
    (``stats``, a list, receives the forward's ``(mean, var)`` in keepdim shapes)."""
    return Standardize.apply(x, axes=tuple(dims), eps=float(eps), stats=stats)


def _update_running(running, stat, momentum):
    """``running = (1 - momentum) running + momentum stat``, in place (torch's convention); nothing for
    ``running=None``."""
    if running is None:
        return
    r = running.detach().numpy() if isinstance(running, TensorBase) else running
    r *= 1.0 - momentum
    r += (momentum * stat).astype(r.dtype)


def _normalise_eval(x, running_mean, running_var, eps, shape):
    """``(x - running_mean) / sqrt(running_var + eps)`` with the statistics reshaped to ``shape``."""
    rm = np.asarray(array(running_mean), dtype=x.dtype).reshape(shape)
    rv = np.asarray(array(running_var), dtype=x.dtype).reshape(shape)
    return (x - rm) / np.sqrt(rv + eps).astype(x.dtype)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Normalise ``(N, C, *)`` per channel: with the batch's statistics when ``training`` (updating the
    running ones in place, the variance unbiased), else with ``running_mean``/``running_var``."""
    x = input
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with at least 2 dims (N, C, ...), got shape "
                         f"{x.shape}")
    c = x.shape[1]
    shape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        n = x.shape[0] * math.prod(x.shape[2:])
        if n == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{x.shape}")
        stats = []
        y = _standardise(x, (0,) + tuple(range(2, x.ndim)), eps, stats)
        if n:  # an empty batch leaves the running statistics as they are, as torch
            (mean, var), = stats
            _update_running(running_mean, mean.reshape(c), momentum)
            _update_running(running_var, var.reshape(c) * (n / (n - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not training")
        y = _normalise_eval(x, running_mean, running_var, eps, shape)
    return _affine(y, weight, bias, shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each ``(n, c)`` plane of ``(N, C, *)`` over its spatial dims (running statistics are the
    batch means of the instance statistics, as torch)."""
    x = input
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input (N, C, *spatial), got shape {x.shape}")
    c = x.shape[1]
    shape = (1, c) + (1,) * (x.ndim - 2)
    if use_input_stats:
        n = math.prod(x.shape[2:])
        if n == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {x.shape}")
        stats = []
        y = _standardise(x, tuple(range(2, x.ndim)), eps, stats)
        if x.numel():
            (mean, var), = stats
            _update_running(running_mean, mean.reshape(-1, c).mean(0), momentum)
            _update_running(running_var, (var.reshape(-1, c) * (n / (n - 1))).mean(0), momentum)
    else:
        y = _normalise_eval(x, running_mean, running_var, eps, shape)
    return _affine(y, weight, bias, shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance), then affine."""
    x = input
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if not k:
        raise ShapeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
                         "one element, but got normalized_shape = []")
    if k > x.ndim or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(f"layer_norm: input of shape {x.shape} does not end with normalized_shape {shape}")
    return _affine(_standardise(x, tuple(range(x.ndim - k, x.ndim)), eps), weight, bias, shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise ``(N, C, *)`` over each group of ``C / num_groups`` channels and the spatial dims."""
    x = input
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected an input (N, C, *) with C divisible by "
                         f"num_groups={num_groups}, "
                         f"got shape {x.shape}")
    n, c = x.shape[:2]
    if n * c // num_groups * math.prod(x.shape[2:]) == 1:  # torch's check (batch_norm's on (N*C/G, G, *))
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[n * c // num_groups, num_groups, *x.shape[2:]]}")
    groups = x.reshape(n, num_groups, c // num_groups * math.prod(x.shape[2:]))
    y = _standardise(groups, (2,), eps).reshape(x.shape)
    return _affine(y, weight, bias, (1, c) + (1,) * (x.ndim - 2))


def _p_norm(x, p, dim, keepdim):
    if p == 2:
        return (x * x).sum(dim, keepdim=keepdim).sqrt()
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    if p == math.inf:
        return x.abs().amax(dim, keepdim=keepdim)
    return (x.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    return input / _p_norm(input, p, dim, True).clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps))`` along ``dim`` (inputs broadcast)."""
    x2 = x1._constant(x2) if not isinstance(x2, TensorBase) else x2
    n1 = _p_norm(x1, 2, dim, True).clamp(min=eps)
    n2 = _p_norm(x2, 2, dim, True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim."""
    return _p_norm(x1 - x2 + eps, p, -1, keepdim)


# -- attention ----------------------------------------------------------------------------------------
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """``softmax(q k^T * scale + mask) v``: ``q`` ``(..., L, E)``, ``k`` ``(..., S, E)``, ``v``
    ``(..., S, Ev)`` -> ``(..., L, Ev)``; a bool ``attn_mask`` (True takes part) or a float one
    (added); ``is_causal`` masks the upper triangle; ``scale`` defaults to ``1/sqrt(E)``."""
    q, k, v = query, key, value
    n_q, n_k = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = (q @ k.transpose(-2, -1)) * scale
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal, not both")
        attn_mask = np.tril(np.ones((n_q, n_k), dtype=bool))
    if attn_mask is not None:
        mask = attn_mask if isinstance(attn_mask, TensorBase) else scores._constant(np.asarray(attn_mask))
        if mask.dtype == np.bool_:
            scores = Where.apply(mask, scores, scores._constant(np.array(-math.inf, dtype=scores.dtype)))
        else:
            scores = scores + mask
    attn = scores.softmax(-1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn @ v

