"""Convolution and pooling: ``conv1d/2d`` (im2col and one matrix product per group; a depthwise
convolution is one multiply-add per tap), the transposed convolutions (the adjoint of the convolution
in its input), ``max_pool1d/2d``, ``avg_pool1d/2d``, the adaptive pools and ``max_unpool2d``.

Layout: tensors are NCHW to the user, but conv and pooling work on NHWC memory (``x.transpose(0, 2, 3,
1)``) and return NHWC-backed views, so a conv -> relu -> pool chain never changes layout, im2col copies
contiguous runs of channels, and the gradient rows ``g.transpose(0, 2, 3, 1)`` need no copy.

The gradients of a convolution are convolutions too: ``Conv2dGradInput`` (the adjoint in the input) and
``Conv2dGradWeight`` (in the kernel) are primitives whose own rules close the loop, so
``create_graph=True`` gives exact higher order. At stride 1 the input gradient is itself a
correlation (of the gradient, padded, with the flipped kernel), so it needs no col2im. 1-d ops are the
2-d ones on a height-1 image.
"""
import functools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..primitive import Primitive, array, call
from .nnfunc import pad
from .reduce import SumRows
from .shape import IndexAdd, Permute, Reshape


class ShapeError(RuntimeError, ValueError):
    """torch's RuntimeError for bad shapes and arguments (also a ValueError, as this library raised)."""


def _nhwc_padded(x, ph, pw):
    """``x`` ``(N, C, H, W)`` as a contiguous ``(N, H + 2ph, W + 2pw, C)`` array (zero border)."""
    n, c, h, w = x.shape
    xt = x.transpose(0, 2, 3, 1)
    if not (ph or pw):
        return np.ascontiguousarray(xt)
    xp = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    xp[:, ph:ph + h, pw:pw + w, :] = xt
    return xp


def _window_view(xp, kh, kw, stride, dilation):
    """The windows of ``xp`` ``(..., H, W, C)`` as a read-only ``(..., Ho, Wo, kh, kw, C)`` view."""
    (sh, sw), (dh, dw) = stride, dilation
    hp, wp, c = xp.shape[-3:]
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    s1, s2, s3 = xp.strides[-3:]
    return as_strided(xp, xp.shape[:-3] + (ho, wo, kh, kw, c),
                      xp.strides[:-3] + (s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3), writeable=False)


def _taps(xp, kh, kw, stride, dilation):
    """``[(i, j, view)]``: for each kernel offset, the ``(N, Ho, Wo, C)`` inputs of NHWC ``xp`` it sees."""
    win = _window_view(xp, kh, kw, stride, dilation)
    return [(i, j, win[:, :, :, i, j]) for i in range(kh) for j in range(kw)]


def _depthwise(w_shape, groups):
    """Whether the kernel ``(O, C/G, kh, kw)`` is depthwise (``groups == C == O``: one input channel
    per output)."""
    return groups > 1 and w_shape[0] == groups and w_shape[1] == 1


def _cols(x, kh, kw, stride, padding, dilation=(1, 1), groups=1):
    """The im2col matrix ``(N*Ho*Wo, kh*kw*C)`` (columns ordered kh, kw, C; ``(G, N*Ho*Wo, kh*kw*C/G)``,
    one matrix per group, when grouped) and ``(N, Ho, Wo)``: one copy of the input's windows."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = _nhwc_padded(x, ph, pw)
    n, hp, wp, c = xp.shape
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    if groups == 1 and wo > (kw * c if dw == 1 else c):  # few channels: copy rows (runs of wo) per offset
        cols = np.empty((kh, kw, c, n, ho, wo), dtype=xp.dtype)
        for i, j, index in _tap_slices((kh, kw), (sh, sw), (dh, dw), (ho, wo)):
            cols[i, j] = xp[index].transpose(3, 0, 1, 2)
        return cols.reshape(kh * kw * c, n * ho * wo).T, (n, ho, wo)  # a column-major matrix
    if groups == 1:  # copies runs of kw*c (dw == 1) or c values
        win = _window_view(xp, kh, kw, stride, dilation)
        return np.ascontiguousarray(win.reshape(n * ho * wo, kh * kw * c)), (n, ho, wo)
    # grouped: the input as (G, N, H, W, C/G) first (a small copy), so the windows copy runs of kw*C/G
    cg = c // groups
    xg = np.ascontiguousarray(xp.reshape(n, hp, wp, groups, cg).transpose(3, 0, 1, 2, 4))
    win = _window_view(xg, kh, kw, stride, dilation)
    return np.ascontiguousarray(win.reshape(groups, n * ho * wo, kh * kw * cg)), (n, ho, wo)


def _kernel_matrix(w, groups=1):
    """The kernel ``(O, C/G, kh, kw)`` as im2col's right-hand matrix ``(kh*kw*C/G, O)`` (``(G, kh*kw*C/G,
    O/G)`` when grouped), rows in im2col's column order. A small kernel is copied in that layout, so the
    product is BLAS's plain one (2x faster for the strided CNN benchmark's grouped input gradient); a big
    one as the transpose of the ``(O, kh*kw*C/G)`` copy, which reads memory in order (the other copy is
    10x slower for a 512x512x3x3 kernel, and the products run as fast)."""
    o, cg, kh, kw = w.shape
    k = kh * kw * cg
    if w.size <= _SMALL_KERNEL:
        if groups == 1:
            return w.transpose(2, 3, 1, 0).reshape(k, o)
        per_group = w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1)
        return per_group.reshape(groups, k, o // groups)
    rows = w.transpose(0, 2, 3, 1).reshape(groups, o // groups, k)
    return rows[0].T if groups == 1 else rows.transpose(0, 2, 1)


_SMALL_KERNEL = 1 << 14  # elements (64 KB of float32)


def _g_rows(g):
    """``g`` ``(N, O, Ho, Wo)`` as ``(N*Ho*Wo, O)`` rows (free when ``g`` is NHWC in memory)."""
    rows = g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])
    return rows if rows.flags.c_contiguous else np.ascontiguousarray(rows)


def _correlate(x, w, stride, padding, dilation=(1, 1), groups=1):
    """The cross-correlation of ``x`` ``(N, C, H, W)`` with ``w`` ``(O, C/G, kh, kw)`` as ``(N*Ho*Wo, O)``
    rows, the im2col matrix it used (``(G, M, k*C/G)`` when grouped) and ``(N, Ho, Wo)``."""
    o, _, kh, kw = w.shape
    if _depthwise(w.shape, groups):  # per tap, the shifted input times that tap's weight of each channel
        taps = _taps(_nhwc_padded(x, *padding), kh, kw, stride, dilation)
        out = taps[0][2] * w[:, 0, 0, 0]
        for i, j, v in taps[1:]:
            out += v * w[:, 0, i, j]
        return out.reshape(-1, o), None, out.shape[:3]
    cols, nhw = _cols(x, kh, kw, stride, padding, dilation, groups)
    if groups == 1:
        return cols @ _kernel_matrix(w), cols, nhw
    out = np.matmul(cols, _kernel_matrix(w, groups))  # (G, M, O/G)
    return out.transpose(1, 0, 2).reshape(-1, o), cols, nhw


def _flipped(w, groups):
    """``(O, C/G, kh, kw)`` -> ``(C, O/G, kh, kw)``: the kernel of the input gradient of a stride-1
    convolution (each group's channels swapped, taps reversed)."""
    o, cg, kh, kw = w.shape
    wt = w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 2, 1, 3, 4)
    return wt.reshape(groups * cg, o // groups, kh, kw)[:, :, ::-1, ::-1]


def conv2d_grad_input(g, w, x_shape, stride, padding, dilation=(1, 1), groups=1):
    """Adjoint of the convolution in its input: the gradient for ``x`` given ``g``."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x_shape
    o, cg, kh, kw = w.shape
    _, _, ho, wo = g.shape
    full = (dh * (kh - 1) - ph, dw * (kw - 1) - pw)
    if stride == (1, 1) and min(full) >= 0:
        # stride 1: the correlation of g, padded to the full size, with the flipped kernel (no col2im)
        rows = _correlate(g, _flipped(w, groups), stride, full, dilation, groups)[0]
        return rows.reshape(n, h, wd, c).transpose(0, 3, 1, 2)
    # one batched product gives, per kernel offset (i, j), the contiguous block of input gradients it
    # sends to the inputs at (i, j) of each window; col2im is then one strided add per kernel offset
    if _depthwise(w.shape, groups):  # the block of offset (i, j) is g times that tap, channel by channel
        gt = g.transpose(0, 2, 3, 1)
        blocks = [gt * w[:, 0, i, j] for i in range(kh) for j in range(kw)]
    elif groups == 1:
        blocks = np.matmul(_g_rows(g), w.transpose(2, 3, 0, 1).reshape(kh * kw, o, c))
    else:
        rows = _g_rows(g).reshape(-1, groups, o // groups).transpose(1, 0, 2)  # (G, M, O/G)
        wk = w.reshape(groups, o // groups, cg, kh * kw).transpose(3, 0, 1, 2)  # (k, G, O/G, C/G)
        blocks = np.matmul(rows[None], wk).transpose(0, 2, 1, 3).reshape(kh * kw, n * ho * wo, c)
    gxp = np.zeros((n, h + 2 * ph, wd + 2 * pw, c), dtype=np.result_type(g, w))
    for k in range(kh * kw):
        i, j = divmod(k, kw)
        i, j = i * dh, j * dw
        gxp[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :] += blocks[k].reshape(n, ho, wo, c)
    return gxp[:, ph:ph + h, pw:pw + wd, :].transpose(0, 3, 1, 2)


def conv2d_grad_weight(x, g, w_shape, stride, padding, cols=None, dilation=(1, 1), groups=1):
    """Gradient for the kernel ``(O, C/G, kh, kw)`` given the input ``x`` and ``g``."""
    o, cg, kh, kw = w_shape
    if _depthwise(w_shape, groups):  # depthwise: per tap and channel, the sum of the shifted input times g
        gt = g.transpose(0, 2, 3, 1)
        gw = np.empty((kh, kw, o), dtype=np.result_type(x, g))
        for i, j, v in _taps(_nhwc_padded(x, *padding), kh, kw, stride, dilation):
            gw[i, j] = np.add.reduce((v * gt).reshape(-1, o), axis=0)
        return np.ascontiguousarray(gw.transpose(2, 0, 1)).reshape(o, 1, kh, kw)
    if cols is None:
        cols = _cols(x, kh, kw, stride, padding, dilation, groups)[0]
    if groups == 1:
        gw = _g_rows(g).T @ cols
    else:  # cols (G, M, k*C/G); g rows per group (G, O/G, M)
        gw = np.matmul(_g_rows(g).reshape(-1, groups, o // groups).transpose(1, 2, 0), cols)
    return np.ascontiguousarray(gw.reshape(o, kh, kw, cg).transpose(0, 3, 1, 2))


class Conv2d(Primitive):
    """2-D cross-correlation (torch's ``conv2d``) with ``stride``, zero ``padding`` and ``dilation``
    pairs and ``groups``: ``x`` ``(N, C, H, W)``, ``w`` ``(O, C/G, kh, kw)``, ``b`` ``(O,)`` ->
    ``(N, O, Ho, Wo)``."""

    name = "conv2d"
    dilation = (1, 1)
    groups = 1

    def forward(self, x, w, b=None):
        out, self.cols, (n, ho, wo) = _correlate(x, w, self.stride, self.padding, self.dilation, self.groups)
        self.x_shape = x.shape
        if b is not None:
            out += b
        return out.reshape(n, ho, wo, w.shape[0]).transpose(0, 3, 1, 2)

    def _attrs(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)

    formulas = (("conv_transpose(g, {1})  → {s0}", lambda s: _conv_grads(s, 0)),
                ("conv({0}, g)  → {s1}", lambda s: _conv_grads(s, 1)),
                ("Σ g over (N, H, W)  → {s2}", lambda s: _conv_grads(s, 2)))

    def backward(self, g, out, x, w, b=None):
        needs, attrs = self.needs, self._attrs()
        gx = call(Conv2dGradInput, g, w, x_shape=self.x_shape, **attrs) if needs[0] else None
        gw = call(Conv2dGradWeight, x, g, w_shape=w.shape, cols=self.cols, **attrs) if needs[1] else None
        if b is None:
            return gx, gw
        if not needs[2]:
            return gx, gw, None
        rows = call(Reshape, call(Permute, g, dims=(0, 2, 3, 1)), shape=(-1, g.shape[1]))
        return gx, gw, call(SumRows, rows)  # db = g summed over (N, Ho, Wo)


class Conv2dGradInput(Primitive):
    """``T(g, w)``, the input gradient as a primitive (for second order, and the transposed
    convolution). Linear in ``g`` and ``w``."""

    name = "conv2d_grad_input"
    _attrs = Conv2d._attrs
    dilation = (1, 1)
    groups = 1

    def forward(self, g, w):
        return conv2d_grad_input(g, w, self.x_shape, self.stride, self.padding, self.dilation, self.groups)

    formulas = (("conv(g, {1})  → {s0}", lambda s: _conv_out(s.g, s.b, s.fn)),
                ("kernel gradient of (g, {0})  → {s1}", lambda s: _conv_dw(s.g, s.a, s.b.shape[2:], s.fn)))

    def backward(self, gg, out, g, w):
        attrs = self._attrs()
        dg = call(Conv2d, gg, w, **attrs) if self.needs[0] else None
        dw = call(Conv2dGradWeight, gg, g, w_shape=w.shape, **attrs) if self.needs[1] else None
        return dg, dw


class Conv2dGradWeight(Primitive):
    """``K(x, g)``, the kernel gradient as a primitive (for second order). Linear in ``x`` and ``g``."""

    name = "conv2d_grad_weight"
    cols = None  # the im2col matrix of x, when the forward pass already made it
    _attrs = Conv2d._attrs
    dilation = (1, 1)
    groups = 1

    def forward(self, x, g):
        return conv2d_grad_weight(x, g, self.w_shape, self.stride, self.padding, self.cols, self.dilation,
                                  self.groups)

    formulas = (("conv_transpose({1}, g)  → {s0}", lambda s: _conv_dx(s.b, s.g, s.a.shape, s.fn)),
                ("conv({0}, g)  → {s1}", lambda s: _conv_out(s.a, s.g, s.fn)))

    def backward(self, gw, out, x, g):
        attrs = self._attrs()
        dx = call(Conv2dGradInput, g, gw, x_shape=x.shape, **attrs) if self.needs[0] else None
        dg = call(Conv2d, x, gw, **attrs) if self.needs[1] else None
        return dx, dg


@functools.lru_cache(maxsize=256)
def _tap_slices(kernel, stride, dilation, out_hw):
    """``((i, j, index), ...)``, one per kernel offset in window order: ``a[index]`` is the ``(N, Ho, Wo,
    ...)`` part of an ``(N, H, W, ...)`` array ``a`` that the offset sees (computed once per geometry)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    return tuple((i, j, (slice(None), slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
                         slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)))
                 for i in range(kh) for j in range(kw))


class MaxPool2d(Primitive):
    """Max over ``kernel`` windows moved by ``stride`` (taps ``dilation`` apart). Forward is a running
    ``np.maximum`` over the kh*kw strided views of ``x`` (as NHWC, like conv2d), one per kernel offset;
    backward sends each output's gradient to the first maximum of its window, as torch does at ties
    (NaN propagates). Padding is applied before (as -inf) by ``max_pool2d``."""

    name = "max_pool2d"
    saves_output = True
    dilation = (1, 1)

    def _views(self, x):
        """``[(i, j, view)]``: for each kernel offset, the ``(N, Ho, Wo, C)`` inputs it sees."""
        xt = x.transpose(0, 2, 3, 1)
        return [(i, j, xt[index]) for i, j, index in
                _tap_slices(self.kernel, self.stride, self.dilation, self.out_hw)]

    def forward(self, x):
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        n, c, h, w = x.shape
        self.out_hw = ((h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1)
        views = self._views(x)
        best = views[0][2].copy()
        for _, _, v in views[1:]:
            np.maximum(best, v, out=best)
        return best.transpose(0, 3, 1, 2)

    def _hits(self, x, out):
        """``(kh*kw, N, Ho, Wo, C)`` bool: where each kernel offset holds its window's first maximum
        (exactly one True per output across offsets)."""
        best = out.transpose(0, 2, 3, 1)
        nan = np.isnan(best)
        nan = nan if nan.any() else None
        views = self._views(x)
        hits = np.empty((len(views),) + best.shape, dtype=bool)
        left = hits[-1]  # not yet hit; whatever is left at the end has its maximum at the last offset
        left[...] = True
        for k, (_, _, v) in enumerate(views[:-1]):
            hit = np.equal(v, best, out=hits[k])
            if nan is not None:
                hit |= nan & np.isnan(v)
            hit &= left
            left ^= hit
        return hits

    def _offsets(self):
        """``[(i, j)]``: the kernel offsets in window order."""
        (kh, kw) = self.kernel
        return [(i, j) for i in range(kh) for j in range(kw)]

    def indices(self, x, out, padding, width):
        """torch's ``return_indices``: the flat ``h * width + w`` of each window's maximum in the
        unpadded input, ``(N, C, Ho, Wo)`` int64."""
        (sh, sw), (dh, dw), (ho, wo) = self.stride, self.dilation, self.out_hw
        rows = np.arange(ho)[:, None] * sh - padding[0]
        cols = np.arange(wo)[None, :] * sw - padding[1]
        flat = np.zeros(out.transpose(0, 2, 3, 1).shape, dtype=np.int64)
        for (i, j), hit in zip(self._offsets(), self._hits(x, out)):
            pos = (rows + i * dh) * width + cols + j * dw
            np.copyto(flat, pos[None, :, :, None], where=hit)
        return flat.transpose(0, 3, 1, 2)

    formulas = (("g to each window's maximum of {0}", lambda s: _pool(s)),)

    def backward(self, g, out, x):
        stack = self._hits(array(x), array(out))
        hits = [(i, j, hit) for (i, j), hit in zip(self._offsets(), stack)]
        span = np.multiply(self.dilation, np.subtract(self.kernel, 1)) + 1
        return (call(MaxPool2dGrad, g, hits=hits, stack=stack, x_shape=x.shape, stride=self.stride,
                     dilation=self.dilation, out_hw=self.out_hw,
                     overlap=min(np.subtract(self.stride, span)) < 0),)


class MaxPool2dGrad(Primitive):
    """The gradient of ``max_pool2d``: each output's ``g`` sent to its window's first maximum
    (``hits``: ``[(i, j, mask)]`` per kernel offset, from the forward pass; without ``overlap``, ``stack``
    holds the masks as one ``(kh*kw, N, Ho, Wo, C)`` array). Linear in ``g``; its own gradient picks
    ``gg`` at those places."""

    name = "max_pool2d_grad"
    saves_inputs = False
    dilation = (1, 1)

    def _kernel(self):
        """``(kh, kw)``, from the last kernel offset in ``hits``."""
        i, j = self.hits[-1][:2]
        return i + 1, j + 1

    def _windows(self, a):
        """``[(view, hit)]``: for each kernel offset, the ``(N, Ho, Wo, C)`` part of NHWC ``a`` it sees."""
        taps = _tap_slices(self._kernel(), self.stride, self.dilation, self.out_hw)
        return [(a[index], hit) for (_, _, index), (_, _, hit) in zip(taps, self.hits)]

    def forward(self, g):
        n, c, h, w = self.x_shape
        gt = g.transpose(0, 2, 3, 1)
        finite = np.isfinite(gt).all()  # then gt * hit is the selection (and ~10x faster than a masked copy)
        if not self.overlap:  # each input belongs to one window: select in one pass, one copy per offset
            picked = np.multiply(gt, self.stack) if finite else np.where(self.stack, gt, 0.0)
            if finite:
                picked += 0.0  # -0.0 * False is -0.0; the selection gives +0.0
            gx = (np.empty if self._covered() else np.zeros)((n, h, w, c), dtype=g.dtype)
            for (dst, _), src in zip(self._windows(gx), picked):
                dst[...] = src
            return gx.transpose(0, 3, 1, 2)
        gx = np.zeros((n, h, w, c), dtype=g.dtype)
        for dst, hit in self._windows(gx):
            if finite:
                dst += gt * hit
            else:
                np.add(dst, gt, out=dst, where=hit)
        return gx.transpose(0, 3, 1, 2)

    def _covered(self):
        """Whether the windows cover every input (so no input's gradient is left at zero)."""
        (sh, sw), (dh, dw), (ho, wo) = self.stride, self.dilation, self.out_hw
        n, c, h, w = self.x_shape
        return (dh, dw) == (1, 1) and (sh, sw) == self._kernel() and (h, w) == (sh * ho, sw * wo)

    formulas = (("g read at each window's maximum  → {s0}", lambda s: _pick(s.g, s.fn.hits, s.fn)),)

    def backward(self, gg, out, g):
        return (call(MaxPool2dPick, gg, hits=self.hits, stride=self.stride, dilation=self.dilation,
                     out_hw=self.out_hw),)


class MaxPool2dPick(Primitive):
    """``(N, C, H, W) -> (N, C, Ho, Wo)``: the element at each window's maximum (the adjoint of
    ``MaxPool2dGrad``)."""

    name = "max_pool2d_pick"
    saves_inputs = False
    dilation = (1, 1)
    _kernel, _windows = MaxPool2dGrad._kernel, MaxPool2dGrad._windows

    def forward(self, a):
        self.x_shape = a.shape
        picked = sum(np.where(hit, view, 0) for view, hit in self._windows(a.transpose(0, 2, 3, 1)))
        return picked.transpose(0, 3, 1, 2)

    formulas = (("g sent back to each window's maximum  → {s0}",
                 lambda s: _spread(s.g, s.fn.hits, s.fn, s.a.shape)),)

    def backward(self, g, out, a):
        return (call(MaxPool2dGrad, g, hits=self.hits, x_shape=self.x_shape, stride=self.stride,
                     dilation=self.dilation, out_hw=self.out_hw, overlap=True),)


# -- argument checking --------------------------------------------------------------------------------
def _batched(x, nd, name):
    """``x`` with its batch dim (added for an unbatched input) and whether it was added."""
    if x.ndim == nd + 1:
        return x.unsqueeze(0), True
    if x.ndim != nd + 2:
        dims = "(C, L)" if nd == 1 else "(C, H, W)"
        raise ShapeError(f"{name}: expected a {nd + 1}-D {dims} or {nd + 2}-D (N, {dims[1:]} input, got "
                         f"shape {x.shape}")
    return x, False


def _ints(v, nd, name, lo):
    """An int or ``nd`` ints as a tuple, each ``>= lo`` (torch's RuntimeError otherwise)."""
    if type(v) is int and v >= lo:  # the common cases, checked without a Python loop
        return (v,) * nd
    if type(v) is tuple and len(v) == nd and set(map(type, v)) == _INT and min(v) >= lo:
        return v
    if isinstance(v, (tuple, list)):
        if len(v) == 1 and nd > 1:
            v = tuple(v) * nd
        if len(v) != nd:
            raise ShapeError(f"{name} must be an int or {nd} ints, got {v!r}")
        out = tuple(int(a) for a in v)
    else:
        out = (int(v),) * nd
    if min(out) < lo:
        raise ShapeError(f"{name} must be >= {lo}, got {v!r}")
    return out


_INT = {int}


def _lift(args, nd, neutral):
    """Arguments of a ``nd``-d op as 2-d pairs (a 1-d op works on a height-1 image)."""
    return [a if nd == 2 else (n,) + a for a, n in zip(args, neutral)]


def _finish(out, nd, unbatched):
    if nd == 1:
        out = out.squeeze(2)
    return out[0] if unbatched else out


# -- convolutions -------------------------------------------------------------------------------------
def _same_padding(x, kernel, dilation, stride, name):
    """torch's ``padding="same"``: symmetric padding, the odd extra on the right (by a pad)."""
    if max(stride) != 1:
        raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    left = tuple(t // 2 for t in total)
    extra = [t - 2 * lt for t, lt in zip(total, left)]
    if any(extra):
        x = pad(x, tuple(v for e in reversed(extra) for v in (0, e)))
    return x, left


def _conv(input, weight, bias, stride, padding, dilation, groups, nd, name):
    """The shared body of conv1d and conv2d (a 1-d input is a height-1 image)."""
    x, unbatched = _batched(input, nd, name)
    w = x._constant(weight)
    stride = _ints(stride, nd, "stride", 1)
    dilation = _ints(dilation, nd, "dilation", 1)
    groups = int(groups)
    c = x.shape[1]
    if groups < 1 or w.ndim != nd + 2 or c % groups or w.shape[0] % groups or w.shape[1] * groups != c:
        kdims = "k" if nd == 1 else "kh, kw"
        raise ShapeError(f"{name}: weight of shape {w.shape} expects (O, {c // max(groups, 1)}, {kdims}) "
                         f"for an "
                         f"input with {c} channels and groups={groups} (input shape {x.shape})")
    kernel = tuple(w.shape[2:])
    if min(kernel) < 1:
        raise ShapeError(f"{name}: kernel size should be greater than zero, but got weight of shape "
                         f"{w.shape}")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            x, padding = _same_padding(x, kernel, dilation, stride, name)
        else:
            raise ValueError(f"{name}: invalid padding string {padding!r}, should be 'valid' or 'same'")
    else:
        padding = _ints(padding, nd, "padding", 0)
    size = x.shape[2:]
    if any(sz + 2 * p < d * (k - 1) + 1 for sz, p, k, d in zip(size, padding, kernel, dilation)):
        raise ShapeError(f"{name}: kernel {kernel} (dilation {dilation}) is larger than the padded input "
                         f"{size} (padding {padding})")
    if nd == 1:
        x, w = x.unsqueeze(2), w.unsqueeze(2)
    stride, padding, dilation = _lift((stride, padding, dilation), nd, (1, 0, 1))
    args = (x, w) if bias is None else (x, w, x._constant(bias))
    out = Conv2d.apply(*args, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _finish(out, nd, unbatched)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: ``input`` ``(N, C, H, W)``, ``weight`` ``(O, C/groups, kh, kw)`` ->
    ``(N, O, Ho, Wo)``, ``Ho = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1``; ``padding``
    may be ``"same"`` or ``"valid"``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation: ``input`` ``(N, C, L)``, ``weight`` ``(O, C/groups, k)`` -> ``(N, O, Lo)``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    """The shared body of conv_transpose1d/2d: the adjoint of the convolution in its input."""
    x, unbatched = _batched(input, nd, name)
    w = x._constant(weight)
    stride = _ints(stride, nd, "stride", 1)
    padding = _ints(padding, nd, "padding", 0)
    dilation = _ints(dilation, nd, "dilation", 1)
    output_padding = _ints(output_padding, nd, "output_padding", 0)
    groups = int(groups)
    c = x.shape[1]
    if groups < 1 or w.ndim != nd + 2 or w.shape[0] != c or c % groups:
        raise ShapeError(f"{name}: weight of shape {w.shape} expects ({c}, O/groups, ...) for an input with "
                         f"{c} channels and groups={groups} (input shape {x.shape})")
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(f"{name}: output padding {output_padding} must be smaller than either stride "
                         f"{stride} or dilation {dilation}")
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                 zip(x.shape[2:], stride, padding, dilation, w.shape[2:], output_padding))
    if min(size) < 1:
        raise ShapeError(f"{name}: output size {size} is too small for input {x.shape} (padding {padding})")
    if nd == 1:
        x, w = x.unsqueeze(2), w.unsqueeze(2)
        size = (1,) + size
    stride, padding, dilation = _lift((stride, padding, dilation), nd, (1, 0, 1))
    out = Conv2dGradInput.apply(x, w, x_shape=(x.shape[0], w.shape[1] * groups) + size, stride=stride,
                                padding=padding, dilation=dilation, groups=groups)
    if bias is not None:
        out = out + x._constant(bias).reshape(1, -1, 1, 1)
    return _finish(out, nd, unbatched)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution: ``input`` ``(N, C, H, W)``, ``weight`` ``(C, O/groups, kh, kw)`` ->
    ``(N, O, Ho, Wo)``, ``Ho = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution: ``input`` ``(N, C, L)``, ``weight`` ``(C, O/groups, k)`` ->
    ``(N, O, Lo)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


# -- pooling ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _pool_len(size, k, s, p, d, ceil_mode):
    """torch's pooled length along one dim and the extra right padding ``ceil_mode`` needs."""
    span = d * (k - 1) + 1
    if ceil_mode:
        out = -(-(size + 2 * p - span) // s) + 1
        if (out - 1) * s >= size + p:  # the last window must start inside the input or left padding
            out -= 1
    else:
        out = (size + 2 * p - span) // s + 1
    return out, max((out - 1) * s + span - (size + 2 * p), 0)


def _pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, nd, name):
    """Checked pooling arguments: ``(x, unbatched, kernel, stride, padding, dilation, lens, extras)``."""
    x, unbatched = _batched(input, nd, name)
    kernel = _ints(kernel_size, nd, "kernel_size", 1)
    stride = kernel if stride is None or stride == [] or stride == () else _ints(stride, nd, "stride", 1)
    padding = _ints(padding, nd, "padding", 0)
    dilation = _ints(dilation, nd, "dilation", 1)
    if any(2 * p > d * (k - 1) + 1 for p, k, d in zip(padding, kernel, dilation)):
        raise ShapeError(f"{name}: pad should be at most half of effective kernel size, but got pad="
                         f"{padding}, kernel_size={kernel} and dilation={dilation}")
    lens = [_pool_len(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
            zip(x.shape[2:], kernel, stride, padding, dilation)]
    if min(n for n, _ in lens) < 1:
        raise ShapeError(f"{name}: given input size {x.shape[1:]}, kernel {kernel}, stride {stride}, padding "
                         f"{padding} and dilation {dilation}, the output size {tuple(n for n, _ in lens)} is "
                         f"too small (kernel larger than the input)")
    if nd == 1:
        x = x.unsqueeze(2)
        kernel, stride, padding, dilation = _lift((kernel, stride, padding, dilation), 1, (1, 1, 0, 1))
        lens = [(1, 0)] + lens
    return x, unbatched, kernel, stride, padding, dilation, lens


def _pad_pool(x, padding, lens, value):
    """``x`` padded by ``padding`` and the ceil-mode extras on the right, with ``value``."""
    (ph, pw), ((_, eh), (_, ew)) = padding, lens
    if not (ph or pw or eh or ew):
        return x
    return pad(x, (pw, pw + ew, ph, ph + eh), value=value)


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, name):
    x, unbatched, kernel, stride, padding, dilation, lens = _pool_args(
        input, kernel_size, stride, padding, dilation, ceil_mode, nd, name)
    xp = _pad_pool(x, padding, lens, -math.inf)
    out = MaxPool2d.apply(xp, kernel=kernel, stride=stride, dilation=dilation)
    if not return_indices:
        return _finish(out, nd, unbatched)
    prim = MaxPool2d(kernel=kernel, stride=stride, dilation=dilation)
    prim.out_hw = out.shape[2:]
    idx = x._wrap(prim.indices(array(xp), array(out), padding, x.shape[3]))
    return _finish(out, nd, unbatched), _finish(idx, nd, unbatched)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over ``kernel_size`` windows every ``stride`` (default: the kernel) of ``(N, C, H, W)``, with
    implicit -inf ``padding``; ``return_indices`` also gives the flat ``h * W + w`` of each maximum."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2,
                     "max_pool2d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of ``(N, C, L)`` (see ``max_pool2d``)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1,
                     "max_pool1d")


def _avg_divisor(size, k, s, p, n_out, count_include_pad):
    """torch's per-window element count along one dim."""
    start = np.arange(n_out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, name):
    x, unbatched, kernel, stride, padding, _, lens = _pool_args(
        input, kernel_size, stride, padding, 1, ceil_mode, nd, name)
    if divisor_override is not None and int(divisor_override) == 0:
        raise ShapeError(f"{name}: divisor must be not zero")
    xp = _pad_pool(x, padding, lens, 0.0)
    c = x.shape[1]
    ones = np.ones((c, 1) + kernel, dtype=x.dtype)
    sums = Conv2d.apply(xp, x._constant(ones), stride=stride, padding=(0, 0), groups=c)
    if divisor_override is not None:
        div = float(divisor_override)
    else:
        dh, dw = (_avg_divisor(n, k, s, p, o, count_include_pad) for n, k, s, p, (o, _) in
                  zip(x.shape[2:], kernel, stride, padding, lens))
        div = (dh[:, None] * dw[None, :]).astype(x.dtype)
    return _finish(sums / div, nd, unbatched)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over ``kernel_size`` windows of ``(N, C, H, W)`` (zero ``padding`` counted unless
    ``count_include_pad=False``; ``divisor_override`` replaces the count)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of ``(N, C, L)`` (see ``avg_pool2d``)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def _adaptive_bins(size, n_out):
    """torch's adaptive windows along one dim: ``start = floor(i size / n)``,
    ``end = ceil((i+1) size / n)``."""
    i = np.arange(n_out)
    return (i * size) // n_out, -(-((i + 1) * size) // n_out)


def _adaptive_args(input, output_size, nd, name):
    x, unbatched = _batched(input, nd, name)
    if isinstance(output_size, (tuple, list)):
        out = tuple(x.shape[2 + k] if s is None else int(s) for k, s in enumerate(output_size))
    else:
        out = (int(output_size),) * nd
    if len(out) != nd or min(out) < 1 and x.numel():
        raise ShapeError(f"{name}: output_size must be {nd} positive ints, got {output_size!r}")
    if nd == 1:
        x, out = x.unsqueeze(2), (1,) + out
    return x, unbatched, out


def _mean_matrix(size, n_out, dtype):
    """``(n_out, size)``: row i averages torch's adaptive window i."""
    start, end = _adaptive_bins(size, n_out)
    j = np.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_avg(input, output_size, nd, name):
    x, unbatched, (oh, ow) = _adaptive_args(input, output_size, nd, name)
    n, c, h, w = x.shape
    if h % oh == 0 and w % ow == 0:  # equal windows: a reshape and a mean
        out = x.reshape(n, c, oh, h // oh, ow, w // ow).mean((3, 5))
    else:
        out = x._constant(_mean_matrix(h, oh, x.dtype)) @ (x @ _mean_matrix(w, ow, x.dtype).T)
    return _finish(out, nd, unbatched)


def adaptive_avg_pool2d(input, output_size):
    """Mean over torch's adaptive windows: ``(N, C, H, W) -> (N, C, *output_size)``."""
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):
    """Mean over torch's adaptive windows: ``(N, C, L) -> (N, C, output_size)``."""
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def _adaptive_windows(h, w, oh, ow):
    """``(oh*ow, K)`` flat input indices of each adaptive window (short windows repeat their first)."""
    hs, he = _adaptive_bins(h, oh)
    ws, we = _adaptive_bins(w, ow)
    kh, kw = int((he - hs).max()), int((we - ws).max())
    ri = hs[:, None] + np.arange(kh)
    ri = np.where(ri < he[:, None], ri, hs[:, None])
    ci = ws[:, None] + np.arange(kw)
    ci = np.where(ci < we[:, None], ci, ws[:, None])
    flat = ri[:, None, :, None] * w + ci[None, :, None, :]  # (oh, ow, kh, kw)
    first = flat[:, :, :1, :1]
    valid = (ri < he[:, None])[:, None, :, None] & (ci < we[:, None])[None, :, None, :]
    return np.where(valid, flat, first).reshape(oh * ow, kh * kw)


def _adaptive_max(input, output_size, return_indices, nd, name):
    x, unbatched, (oh, ow) = _adaptive_args(input, output_size, nd, name)
    n, c, h, w = x.shape
    win = _adaptive_windows(h, w, oh, ow)
    xf = x.reshape(n, c, h * w)
    vals = array(xf)[:, :, win]  # (N, C, L, K)
    flat = np.take_along_axis(win[None, None], vals.argmax(-1)[..., None], -1)[..., 0]
    out = xf[np.arange(n)[:, None, None], np.arange(c)[None, :, None], flat].reshape(n, c, oh, ow)
    out = _finish(out, nd, unbatched)
    if return_indices:
        return out, _finish(x._wrap(flat.reshape(n, c, oh, ow)), nd, unbatched)
    return out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows: ``(N, C, H, W) -> (N, C, *output_size)``."""
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows: ``(N, C, L) -> (N, C, output_size)``."""
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of ``max_pool2d``: zeros of ``(N, C, Ho, Wo)`` with ``input`` at ``indices``."""
    x, unbatched = _batched(input, 2, "max_unpool2d")
    kernel = _ints(kernel_size, 2, "kernel_size", 1)
    stride = kernel if stride is None else _ints(stride, 2, "stride", 1)
    padding = _ints(padding, 2, "padding", 0)
    if output_size is None:
        size = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[2:], stride, padding, kernel))
    else:
        size = tuple(int(s) for s in tuple(output_size)[-2:])
    idx = np.asarray(array(indices))
    idx = idx[None] if unbatched else idx
    if idx.shape != x.shape:
        raise ShapeError(f"max_unpool2d: indices of shape {idx.shape} must match the input {x.shape}")
    n, c = x.shape[:2]
    if idx.size and (idx.min() < 0 or idx.max() >= size[0] * size[1]):
        raise ShapeError(f"max_unpool2d: found an invalid max index {idx.max()} for output size {size}")
    index = (np.arange(n)[:, None, None], np.arange(c)[None, :, None], idx.reshape(n, c, -1))
    out = IndexAdd.apply(x.reshape(n, c, -1), shape=(n, c, size[0] * size[1]), index=index, dtype=x.dtype)
    out = out.reshape(n, c, *size)
    return out[0] if unbatched else out


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _windows(x, kh, kw, stride, padding, dilation=(1, 1)):
    """``x`` ``(N, C, H, W)`` zero-padded, as windows ``(N, C, Ho, Wo, kh, kw)`` (taps ``dilation`` apart)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = np.lib.stride_tricks.sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    return win[:, :, ::sh, ::sw, ::dh, ::dw]


def _grouped(a, groups):
    """``a`` with its dim 1 split into ``(groups, dim 1 / groups)``."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, *a.shape[2:])


def _conv_windows(x, kernel, fn):
    """``x``'s windows for the convolution ``fn``, by group: ``(N, G, C/G, Ho, Wo, kh, kw)``."""
    return _grouped(_windows(x, *kernel, fn.stride, fn.padding, fn.dilation), fn.groups)


def _kernel_groups(w, groups):
    """A kernel ``(O, C/G, kh, kw)`` by group: ``(G, O/G, C/G, kh, kw)``."""
    return w.reshape(groups, w.shape[0] // groups, *w.shape[1:])


def _conv_out(x, w, fn):
    """conv2d without bias (``fn``'s stride, padding, dilation, groups): ``(N, C, H, W)`` with
    ``(O, C/G, kh, kw)`` -> ``(N, O, Ho, Wo)``."""
    out = np.einsum("ngchwij,gocij->ngohw", _conv_windows(x, w.shape[2:], fn), _kernel_groups(w, fn.groups))
    return out.reshape(out.shape[0], -1, *out.shape[3:])


def _conv_dw(x, g, kernel, fn):
    """The kernel's gradient ``(O, C/G, kh, kw)`` given the input ``x`` and the output's gradient ``g``."""
    gw = np.einsum("ngohw,ngchwij->gocij", _grouped(g, fn.groups), _conv_windows(x, kernel, fn))
    return gw.reshape(-1, *gw.shape[2:])


def _conv_dx(g, w, x_shape, fn):
    """The input's gradient given the output's gradient ``g`` and the kernel ``w`` (a transposed conv)."""
    (sh, sw), (ph, pw), (dh, dw) = fn.stride, fn.padding, fn.dilation
    n, c, h, wd = x_shape
    ho, wo = g.shape[2:]
    gg, wg = _grouped(g, fn.groups), _kernel_groups(w, fn.groups)
    gx = np.zeros((n, fn.groups, c // fn.groups, h + 2 * ph, wd + 2 * pw), dtype=g.dtype)
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            gx[..., rows, cols] += np.einsum("ngohw,goc->ngchw", gg, wg[..., i, j])
    return gx.reshape(n, c, *gx.shape[3:])[:, :, ph:ph + h, pw:pw + wd]


def _conv_grads(s, which):
    """conv2d's gradients: input, kernel, bias."""
    x, w, g, fn = s.a, s.b, s.g, s.fn
    if which == 0:
        return _conv_dx(g, w, x.shape, fn)
    if which == 1:
        return _conv_dw(x, g, w.shape[2:], fn)
    return g.sum((0, 2, 3))


def _pool(s):
    """Each window's gradient goes to its first maximum (torch's tie rule)."""
    (kh, kw), fn = s.fn.kernel, s.fn
    win = _windows(s.a, kh, kw, fn.stride, (0, 0), fn.dilation)
    n, c, ho, wo = win.shape[:4]
    first = np.argmax(win.reshape(n, c, ho, wo, kh * kw) == s.o[..., None], axis=-1)
    hits = [(k // kw, k % kw, (first == k).transpose(0, 2, 3, 1)) for k in range(kh * kw)]
    return _spread(s.g, hits, fn, s.a.shape)


def _window_slices(i, j, fn):
    """The part of an ``(N, C, H, W)`` array that tap ``(i, j)`` of the pooling ``fn`` sees."""
    (sh, sw), (dh, dw), (ho, wo) = fn.stride, fn.dilation, fn.out_hw
    rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
    cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
    return slice(None), slice(None), rows, cols


def _spread(g, hits, fn, x_shape):
    """``g`` ``(N, C, Ho, Wo)`` added at each window's maximum (``hits``: ``(i, j, NHWC mask)``)."""
    gx = np.zeros(x_shape, dtype=g.dtype)
    for i, j, hit in hits:
        gx[_window_slices(i, j, fn)] += g * hit.transpose(0, 3, 1, 2)
    return gx


def _pick(a, hits, fn):
    """The adjoint of ``_spread``: ``a`` ``(N, C, H, W)`` read at each window's maximum."""
    return sum(a[_window_slices(i, j, fn)] * hit.transpose(0, 3, 1, 2) for i, j, hit in hits)
