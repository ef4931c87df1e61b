"""Fused primitives for ``nn``: linear, conv2d (im2col), max_pool2d, erf, leaky_relu and the losses.

Each is a ``Function`` with forward and backward side by side. The plain backward runs on NumPy arrays
and reuses what forward saved; with ``create_graph=True`` it runs on Tensors and is built from Tensor
operations or from the helper primitives below (``Conv2dGradInput``, ``Conv2dGradWeight``, ``Gather``,
``Scatter``), whose own backward rules close the loop, so gradients of gradients are exact too.

``needs`` (which inputs require grad) is recorded by ``apply`` so a rule can skip work nobody wants,
such as the input gradient of a network's first layer.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..function import Function, data, is_tensor, unary
from ..grad_mode import _state as _grad_state
from ..tensor import Tensor
from .shape import IndexAdd


class _NNFunction(Function):
    @classmethod
    def apply(cls, *inputs, **attrs):
        """``Function.apply`` that also records ``self.needs``."""
        fn = cls(**attrs)
        fn.needs = needs = [t.requires_grad for t in inputs]
        out = fn.forward(*[t.data for t in inputs])
        if _grad_state["enabled"] and True in needs:
            return Tensor._node(out, fn, inputs)
        return Tensor._wrap(out)


_ONES = {}


def _column_sums(a):
    """``a.sum(0)`` of a 2-D array as a matrix-vector product: NumPy's reduction down the rows of a
    narrow matrix is up to 15x slower than BLAS's gemv (``(4096, 16)``: 66 us against 4 us)."""
    key = (a.shape[0], a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(a.shape[0], dtype=a.dtype)
    return ones @ a


def _clamp_min(x, lo):
    return x.clamp(min=lo) if is_tensor(x) else np.maximum(x, lo)


def _quiet():
    return np.errstate(all="ignore")


# -- linear -------------------------------------------------------------------------------------------
class Linear(_NNFunction):
    """``x @ W.T + b`` in one node; ``x`` is ``(..., in)``, ``W`` ``(out, in)``, ``b`` ``(out,)``."""

    name = "linear"

    def forward(self, x, w, b=None):
        try:
            out = np.matmul(x, w.T)
        except ValueError:
            raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
                             f"(the input's last dim must be in_features = {w.shape[-1]})") from None
        if b is None:
            return out
        if b.dtype == out.dtype:
            out += b  # out is fresh: add in place
            return out
        return out + b

    def backward(self, g, out, x, w, b=None):
        return _linear_backward(self.needs, g, x, w, b)


def _linear_backward(needs, g, x, w, b):
    n_out, n_in = w.shape
    gx = g @ w if needs[0] else None
    if g.ndim != 2:
        g, x = g.reshape(-1, n_out), x.reshape(-1, n_in)
    gw = g.T @ x if needs[1] else None
    if b is None:
        return gx, gw
    if not needs[2]:
        return gx, gw, None
    return gx, gw, (g.sum(0) if is_tensor(g) else _column_sums(g))


class LinearRelu(Linear):
    """``relu(x @ W.T + b)`` in one node (``nn.Sequential`` fuses a ``Linear`` followed by a ``ReLU``);
    the gradient passes where the output is not 0, as torch's relu (NaN included)."""

    name = "linear_relu"

    def forward(self, x, w, b=None):
        out = Linear.forward(self, x, w, b)
        return np.maximum(out, 0, out=out)

    def backward(self, g, out, x, w, b=None):
        return _linear_backward(self.needs, g * (data(out) != 0), x, w, b)


# -- conv2d -------------------------------------------------------------------------------------------
# Layout: tensors are NCHW to the user, but conv and pooling work on NHWC memory (``x.transpose(0, 2, 3,
# 1)``) and return NHWC-backed views, so a conv -> relu -> pool chain never changes layout, im2col copies
# contiguous runs of channels, and the gradient rows ``g.transpose(0, 2, 3, 1)`` need no copy.
def _nhwc_padded(x, ph, pw):
    """``x`` ``(N, C, H, W)`` as a contiguous ``(N, H + 2ph, W + 2pw, C)`` array (zero border)."""
    n, c, h, w = x.shape
    xt = x.transpose(0, 2, 3, 1)
    if not (ph or pw):
        return np.ascontiguousarray(xt)
    xp = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    xp[:, ph:ph + h, pw:pw + w, :] = xt
    return xp


def _cols(x, kh, kw, stride, padding):
    """The im2col matrix ``(N*Ho*Wo, kh*kw*C)`` (columns ordered kh, kw, C) and ``(N, Ho, Wo)``."""
    (sh, sw), (ph, pw) = stride, padding
    xp = _nhwc_padded(x, ph, pw)
    n, hp, wp, c = xp.shape
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    s0, s1, s2, s3 = xp.strides
    win = as_strided(xp, (n, ho, wo, kh, kw, c), (s0, s1 * sh, s2 * sw, s1, s2, s3), writeable=False)
    cols = win.reshape(n * ho * wo, kh * kw * c)
    if not cols.flags.c_contiguous:  # BLAS needs a plain matrix
        cols = np.ascontiguousarray(cols)
    return cols, (n, ho, wo)


def _kernel_rows(w):
    """``(O, C, kh, kw)`` -> ``(O, kh*kw*C)``, matching the im2col column order."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def _g_rows(g):
    """``g`` ``(N, O, Ho, Wo)`` as ``(N*Ho*Wo, O)`` rows (free when ``g`` is NHWC in memory)."""
    rows = g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])
    return rows if rows.flags.c_contiguous else np.ascontiguousarray(rows)


def conv2d_forward(x, w, b, stride, padding):
    """Cross-correlation of ``x`` ``(N, C, H, W)`` with ``w`` ``(O, C, kh, kw)``: ``(N, O, Ho, Wo)``;
    also returns the im2col matrix for the backward pass."""
    o, _, kh, kw = w.shape
    cols, (n, ho, wo) = _cols(x, kh, kw, stride, padding)
    out = cols @ _kernel_rows(w).T
    if b is not None:
        out += b
    return out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), cols


def conv2d_grad_input(g, w, x_shape, stride, padding):
    """Adjoint of the convolution in its input: the gradient for ``x`` given ``g``."""
    (sh, sw), (ph, pw) = stride, padding
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    _, _, ho, wo = g.shape
    # one batched product gives, per kernel offset (i, j), the contiguous block of input gradients it
    # sends to the inputs at (i, j) of each window; col2im is then one strided add per kernel offset
    blocks = np.matmul(_g_rows(g), w.transpose(2, 3, 0, 1).reshape(kh * kw, o, c))
    gxp = np.zeros((n, h + 2 * ph, wd + 2 * pw, c), dtype=blocks.dtype)
    for k in range(kh * kw):
        i, j = divmod(k, kw)
        gxp[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :] += blocks[k].reshape(n, ho, wo, c)
    return gxp[:, ph:ph + h, pw:pw + wd, :].transpose(0, 3, 1, 2)


def conv2d_grad_weight(x, g, w_shape, stride, padding, cols=None):
    """Gradient for the kernel ``(O, C, kh, kw)`` given the input ``x`` and ``g``."""
    o, c, kh, kw = w_shape
    if cols is None:
        cols = _cols(x, kh, kw, stride, padding)[0]
    gw = (_g_rows(g).T @ cols).reshape(o, kh, kw, c).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(gw)


class Conv2d(_NNFunction):
    """2-D cross-correlation (torch's ``conv2d``) with ``stride`` and zero ``padding`` pairs."""

    name = "conv2d"

    def forward(self, x, w, b=None):
        out, self.cols = conv2d_forward(x, w, b, self.stride, self.padding)
        self.x_shape = x.shape
        return out

    def backward(self, g, out, x, w, b=None):
        gx = gw = gb = None
        needs = self.needs
        if is_tensor(g):
            attrs = dict(stride=self.stride, padding=self.padding)
            if needs[0]:
                gx = Conv2dGradInput.apply(g, w, x_shape=self.x_shape, **attrs)
            if needs[1]:
                gw = Conv2dGradWeight.apply(x, g, w_shape=w.shape, **attrs)
            if b is not None and needs[2]:
                gb = g.sum((0, 2, 3))
        else:
            if needs[0]:
                gx = conv2d_grad_input(g, w, self.x_shape, self.stride, self.padding)
            if needs[1]:
                gw = conv2d_grad_weight(x, g, w.shape, self.stride, self.padding, self.cols)
            if b is not None and needs[2]:
                gb = _column_sums(_g_rows(g))
        return (gx, gw) if b is None else (gx, gw, gb)


class Conv2dGradInput(_NNFunction):
    """``T(g, w)``, the input gradient as a primitive (for second order). Linear in ``g`` and ``w``."""

    name = "conv2d_grad_input"

    def forward(self, g, w):
        return conv2d_grad_input(g, w, self.x_shape, self.stride, self.padding)

    def backward(self, gg, out, g, w):
        attrs = dict(stride=self.stride, padding=self.padding)
        if is_tensor(gg):
            dg = Conv2d.apply(gg, w, **attrs) if self.needs[0] else None
            dw = Conv2dGradWeight.apply(gg, g, w_shape=w.shape, **attrs) if self.needs[1] else None
        else:
            dg = conv2d_forward(gg, w, None, **attrs)[0] if self.needs[0] else None
            dw = conv2d_grad_weight(gg, g, w.shape, **attrs) if self.needs[1] else None
        return dg, dw


class Conv2dGradWeight(_NNFunction):
    """``K(x, g)``, the kernel gradient as a primitive (for second order). Linear in ``x`` and ``g``."""

    name = "conv2d_grad_weight"

    def forward(self, x, g):
        return conv2d_grad_weight(x, g, self.w_shape, self.stride, self.padding)

    def backward(self, gw, out, x, g):
        attrs = dict(stride=self.stride, padding=self.padding)
        if is_tensor(gw):
            dx = Conv2dGradInput.apply(g, gw, x_shape=x.shape, **attrs) if self.needs[0] else None
            dg = Conv2d.apply(x, gw, **attrs) if self.needs[1] else None
        else:
            dx = conv2d_grad_input(g, gw, x.shape, **attrs) if self.needs[0] else None
            dg = conv2d_forward(x, gw, None, **attrs)[0] if self.needs[1] else None
        return dx, dg


# -- max_pool2d ---------------------------------------------------------------------------------------
class MaxPool2d(Function):
    """Max over ``kernel`` windows moved by ``stride``. Forward is a running ``np.maximum`` over the
    kh*kw strided views of ``x`` (as NHWC, like conv2d), one per kernel offset; backward sends each
    output's gradient to the first maximum of its window, as torch does at ties (NaN propagates)."""

    name = "max_pool2d"

    def _views(self, x):
        """``[(i, j, view)]``: for each kernel offset, the ``(N, Ho, Wo, C)`` inputs it sees."""
        (kh, kw), (sh, sw) = self.kernel, self.stride
        ho, wo = self.out_hw
        xt = x.transpose(0, 2, 3, 1)
        return [(i, j, xt[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :])
                for i in range(kh) for j in range(kw)]

    def forward(self, x):
        (kh, kw), (sh, sw) = self.kernel, self.stride
        n, c, h, w = x.shape
        self.out_hw = ((h - kh) // sh + 1, (w - kw) // sw + 1)
        views = self._views(x)
        best = views[0][2].copy()
        for _, _, v in views[1:]:
            np.maximum(best, v, out=best)
        return best.transpose(0, 3, 1, 2)

    def _hits(self, x, out):
        """``[(i, j, mask)]``: where each kernel offset holds its window's first maximum (exactly one
        True per output across offsets)."""
        best = out.transpose(0, 2, 3, 1)
        nan = np.isnan(best)
        nan = nan if nan.any() else None
        left = np.ones(best.shape, dtype=bool)
        hits = []
        views = self._views(x)
        for k, (i, j, v) in enumerate(views):
            if k == len(views) - 1:
                hit = left
            else:
                hit = v == best
                if nan is not None:
                    hit |= nan & np.isnan(v)
                hit &= left
                left ^= hit
            hits.append((i, j, hit))
        return hits

    def backward(self, g, out, x):
        (sh, sw) = self.stride
        ho, wo = self.out_hw
        n, c, h, w = data(x).shape
        hits = self._hits(data(x), data(out))
        if is_tensor(g):  # scatter through a primitive whose backward is a gather: second order works
            base = ((np.arange(n)[:, None, None, None] * h + np.arange(ho)[:, None, None] * sh) * w
                    + np.arange(wo)[:, None] * sw) * c + np.arange(c)
            index = base + sum(hit * ((i * w + j) * c) for i, j, hit in hits)
            gt = g.permute(0, 2, 3, 1).reshape(-1)
            gx = IndexAdd.apply(gt, shape=(n * h * w * c,), index=index.reshape(-1), dtype=g.dtype)
            return (gx.reshape(n, h, w, c).permute(0, 3, 1, 2),)
        gt = g.transpose(0, 2, 3, 1)
        gx = np.zeros((n, h, w, c), dtype=g.dtype)
        overlap = sh < self.kernel[0] or sw < self.kernel[1]
        for i, j, hit in hits:
            dst = gx[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :]
            if overlap:
                dst += gt * hit
            else:  # each input belongs to one window
                np.multiply(gt, hit, out=dst)
        return (gx.transpose(0, 3, 1, 2),)


# -- erf and leaky_relu -------------------------------------------------------------------------------
_ERF = {}
_ERF_WIDTH, _ERF_DEG, _ERF_END = 0.5, 12, 6.0


def _erf_table():
    """Chebyshev coefficients of ``erf(a) / a`` on ``[k w, (k+1) w]`` for ``a`` in ``[0, 6]``, fitted once
    to ``math.erf`` (relative error ~2e-15). ``erf(a)`` rounds to 1.0 in float64 from a = 5.93 on."""
    if "table" not in _ERF:
        from numpy.polynomial import chebyshev
        erf1 = np.frompyfunc(math.erf, 1, 1)
        n = int(round(_ERF_END / _ERF_WIDTH))
        table = np.zeros((_ERF_DEG + 1, n + 1))
        for i in range(n):
            lo = i * _ERF_WIDTH

            def f(t, lo=lo):
                a = lo + (t + 1) * (_ERF_WIDTH / 2)
                return erf1(a).astype(np.float64) / a
            table[:, i] = chebyshev.chebinterpolate(f, _ERF_DEG)
        _ERF["table"], _ERF["n"] = table, n
    return _ERF["table"], _ERF["n"]


def erf_array(x):
    """``erf`` of a NumPy array, vectorised (piecewise Chebyshev, Clenshaw's recurrence)."""
    table, n = _erf_table()
    x = np.asarray(x)
    x64 = x.astype(np.float64).reshape(-1)
    a = np.fmin(np.abs(x64), _ERF_END)  # NaN -> 6, restored below
    idx = (a * (1.0 / _ERF_WIDTH)).astype(np.intp)
    t2 = (a - idx * _ERF_WIDTH) * (4.0 / _ERF_WIDTH) - 2.0  # 2t, t in [-1, 1] on the piece
    b1, b2 = np.take(table[_ERF_DEG], idx), 0.0
    for k in range(_ERF_DEG - 1, 0, -1):
        b1, b2 = np.take(table[k], idx) + t2 * b1 - b2, b1
    y = (np.take(table[0], idx) + 0.5 * t2 * b1 - b2) * a
    y[idx == n] = 1.0
    y = np.copysign(y, x64)
    nan = np.isnan(x64)
    if nan.any():
        y[nan] = np.nan
    y = y.reshape(x.shape)
    return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y


class Erf(Function):
    name = "erf"

    def forward(self, a):
        return erf_array(a)

    def backward(self, g, out, a):
        return (g * (unary("exp", -(a * a)) * (2.0 / math.sqrt(math.pi))),)


class LeakyRelu(Function):
    name = "leaky_relu"

    def forward(self, a):
        return np.where(a > 0, a, a * self.slope)

    def backward(self, g, out, a):
        x = data(a)
        return (g * np.where(x > 0, 1.0, self.slope).astype(x.dtype),)


# -- losses -------------------------------------------------------------------------------------------
def _log_softmax(x, axis):
    shifted = x - np.maximum.reduce(x, axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis, keepdims=True))


class CrossEntropy(Function):
    """Mean or summed (or per-sample) softmax cross-entropy with class-index targets, one node.

    ``target`` (int array, the input's shape without the class dim 1) is an attribute; the gradient
    is ``softmax(x) - onehot(target)`` times the incoming gradient.
    """

    name = "cross_entropy"

    def forward(self, x):
        cdim = 0 if x.ndim == 1 else 1
        self.cdim = cdim
        self.logp = logp = _log_softmax(x, cdim)
        if x.ndim == 2:
            loss = logp[np.arange(len(x)), self.target]
        else:
            loss = np.take_along_axis(logp, np.expand_dims(self.target, cdim), cdim).squeeze(cdim)
        if self.reduction == "mean":
            return np.asarray(-np.add.reduce(loss, None) / loss.size, dtype=x.dtype)
        if self.reduction == "sum":
            return np.asarray(-np.add.reduce(loss, None), dtype=x.dtype)
        return -loss

    def _onehot(self, shape, dtype):
        oh = np.zeros(shape, dtype=dtype)
        np.put_along_axis(oh, np.expand_dims(self.target, self.cdim), 1, self.cdim)
        return oh

    def _scale(self, g):
        if self.reduction == "none":
            return g.reshape(np.expand_dims(self.target, self.cdim).shape)
        return g * (1.0 / self.target.size) if self.reduction == "mean" else g

    def backward(self, g, out, x):
        if is_tensor(g):
            p = x.softmax(self.cdim) - self._onehot(x.shape, x.dtype)
            return (p * self._scale(g),)
        p = np.exp(self.logp)
        if p.ndim == 2:
            p[np.arange(p.shape[0]), self.target] -= 1.0
        else:
            p -= self._onehot(p.shape, p.dtype)
        p *= self._scale(g)
        return (p,)


class Gather(Function):
    """``x`` picked along ``dim`` at ``index`` (``index`` has ``x``'s shape without ``dim``)."""

    name = "gather"

    def forward(self, x):
        self.shape = x.shape
        return np.take_along_axis(x, np.expand_dims(self.index, self.dim), self.dim).squeeze(self.dim)

    def backward(self, g, out, x):
        if is_tensor(g):
            return (Scatter.apply(g, index=self.index, dim=self.dim, shape=self.shape),)
        return (Scatter(index=self.index, dim=self.dim, shape=self.shape).forward(g),)


class Scatter(Function):
    """Zeros of ``shape`` holding ``g`` at ``index`` along ``dim`` (the adjoint of ``Gather``)."""

    name = "scatter"

    def forward(self, g):
        z = np.zeros(self.shape, dtype=g.dtype)
        np.put_along_axis(z, np.expand_dims(self.index, self.dim), np.expand_dims(g, self.dim), self.dim)
        return z

    def backward(self, gg, out, g):
        if is_tensor(gg):
            return (Gather.apply(gg, index=self.index, dim=self.dim),)
        return (Gather(index=self.index, dim=self.dim).forward(gg),)


class BinaryCrossEntropy(_NNFunction):
    """Elementwise ``-(t log x + (1 - t) log(1 - x))`` with each log clamped at -100, as torch; torch's
    gradient ``(x - t) / max(x (1 - x), 1e-12)`` stays finite at 0 and 1."""

    name = "binary_cross_entropy"

    def forward(self, x, t):
        with _quiet():
            return -(t * np.maximum(np.log(x), -100.0) + (1 - t) * np.maximum(np.log(1 - x), -100.0))

    def backward(self, g, out, x, t):
        gx = gt = None
        with _quiet():
            if self.needs[0]:
                gx = g * (x - t) / _clamp_min((1 - x) * x, 1e-12)
            if self.needs[1]:
                gt = g * (_clamp_min(unary("log", 1 - x), -100.0) - _clamp_min(unary("log", x), -100.0))
        return gx, gt


def _softplus_neg(x):
    """``log(1 + exp(-x))``, stable for any ``x``."""
    if is_tensor(x):
        return (-x).relu() + (1 + (-x.abs()).exp()).log()
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


class BCEWithLogits(_NNFunction):
    """Elementwise ``max(x, 0) - x t + log(1 + exp(-|x|))``; with ``pos_weight`` p, torch's form
    ``(1 - t) x + (1 + (p - 1) t) softplus(-x)``. Stable for any logit."""

    name = "binary_cross_entropy_with_logits"

    def forward(self, x, t):
        with _quiet():
            if self.pos_weight is None:
                return np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
            lw = (self.pos_weight - 1) * t + 1
            return (1 - t) * x + lw * _softplus_neg(x)

    def backward(self, g, out, x, t):
        gx = gt = None
        sig = x.sigmoid() if is_tensor(x) else _sigmoid(x)
        pw = self.pos_weight
        if self.needs[0]:
            gx = g * (sig - t) if pw is None else g * ((1 - t) - ((pw - 1) * t + 1) * (1 - sig))
        if self.needs[1]:
            gt = -g * x if pw is None else g * ((pw - 1) * _softplus_neg(x) - x)
        return gx, gt


def _sigmoid(x):
    with _quiet():
        return 1.0 / (1.0 + np.exp(-x))


__all__ = ["Linear", "LinearRelu", "Conv2d", "Conv2dGradInput", "Conv2dGradWeight", "MaxPool2d", "Erf",
           "LeakyRelu", "CrossEntropy", "Gather", "Scatter", "BinaryCrossEntropy", "BCEWithLogits",
           "erf_array"]
