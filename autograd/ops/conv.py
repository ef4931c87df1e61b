"""Convolution and pooling: ``conv2d`` (im2col and one matrix product) and ``max_pool2d``.

Layout: tensors are NCHW to the user, but conv and pooling work on NHWC memory (``x.transpose(0, 2, 3,
1)``) and return NHWC-backed views, so a conv -> relu -> pool chain never changes layout, im2col copies
contiguous runs of channels, and the gradient rows ``g.transpose(0, 2, 3, 1)`` need no copy.

The gradients of a convolution are convolutions too: ``Conv2dGradInput`` (the adjoint in the input) and
``Conv2dGradWeight`` (in the kernel) are primitives whose own rules close the loop, so
``create_graph=True`` gives exact higher order.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..primitive import Primitive, array, call
from ._util import pair
from .reduce import SumRows
from .shape import Permute, Reshape


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


class Conv2d(Primitive):
    """2-D cross-correlation (torch's ``conv2d``) with ``stride`` and zero ``padding`` pairs:
    ``x`` ``(N, C, H, W)``, ``w`` ``(O, C, kh, kw)``, ``b`` ``(O,)`` -> ``(N, O, Ho, Wo)``."""

    name = "conv2d"

    def forward(self, x, w, b=None):
        o, _, kh, kw = w.shape
        self.cols, (n, ho, wo) = _cols(x, kh, kw, self.stride, self.padding)
        self.x_shape = x.shape
        out = self.cols @ _kernel_rows(w).T
        if b is not None:
            out += b
        return out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)

    def backward(self, g, out, x, w, b=None):
        needs, attrs = self.needs, dict(stride=self.stride, padding=self.padding)
        gx = call(Conv2dGradInput, g, w, x_shape=self.x_shape, **attrs) if needs[0] else None
        gw = call(Conv2dGradWeight, x, g, w_shape=w.shape, cols=self.cols, **attrs) if needs[1] else None
        if b is None:
            return gx, gw
        if not needs[2]:
            return gx, gw, None
        rows = call(Reshape, call(Permute, g, dims=(0, 2, 3, 1)), shape=(-1, g.shape[1]))
        return gx, gw, call(SumRows, rows)  # db = g summed over (N, Ho, Wo)


class Conv2dGradInput(Primitive):
    """``T(g, w)``, the input gradient as a primitive (for second order). Linear in ``g`` and ``w``."""

    name = "conv2d_grad_input"

    def forward(self, g, w):
        return conv2d_grad_input(g, w, self.x_shape, self.stride, self.padding)

    def backward(self, gg, out, g, w):
        attrs = dict(stride=self.stride, padding=self.padding)
        dg = call(Conv2d, gg, w, **attrs) if self.needs[0] else None
        dw = call(Conv2dGradWeight, gg, g, w_shape=w.shape, **attrs) if self.needs[1] else None
        return dg, dw


class Conv2dGradWeight(Primitive):
    """``K(x, g)``, the kernel gradient as a primitive (for second order). Linear in ``x`` and ``g``."""

    name = "conv2d_grad_weight"
    cols = None  # the im2col matrix of x, when the forward pass already made it

    def forward(self, x, g):
        return conv2d_grad_weight(x, g, self.w_shape, self.stride, self.padding, self.cols)

    def backward(self, gw, out, x, g):
        attrs = dict(stride=self.stride, padding=self.padding)
        dx = call(Conv2dGradInput, g, gw, x_shape=x.shape, **attrs) if self.needs[0] else None
        dg = call(Conv2d, x, gw, **attrs) if self.needs[1] else None
        return dx, dg


class MaxPool2d(Primitive):
    """Max over ``kernel`` windows moved by ``stride``. Forward is a running ``np.maximum`` over the
    kh*kw strided views of ``x`` (as NHWC, like conv2d), one per kernel offset; backward sends each
    output's gradient to the first maximum of its window, as torch does at ties (NaN propagates)."""

    name = "max_pool2d"
    saves_output = True

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
            if k == len(views) - 1:  # whatever is left has its maximum here
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
        hits = self._hits(array(x), array(out))
        return (call(MaxPool2dGrad, g, hits=hits, x_shape=x.shape, stride=self.stride,
                     out_hw=self.out_hw, overlap=min(np.subtract(self.stride, self.kernel)) < 0),)


class MaxPool2dGrad(Primitive):
    """The gradient of ``max_pool2d``: each output's ``g`` sent to its window's first maximum
    (``hits`` from the forward pass). Linear in ``g``; its own gradient picks ``gg`` at those places."""

    name = "max_pool2d_grad"
    saves_inputs = False

    def _windows(self, a):
        """``[(view, hit)]``: for each kernel offset, the ``(N, Ho, Wo, C)`` part of NHWC ``a`` it sees."""
        (sh, sw), (ho, wo) = self.stride, self.out_hw
        return [(a[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :], hit)
                for i, j, hit in self.hits]

    def forward(self, g):
        n, c, h, w = self.x_shape
        gt = g.transpose(0, 2, 3, 1)
        gx = np.zeros((n, h, w, c), dtype=g.dtype)
        for dst, hit in self._windows(gx):
            if self.overlap:
                np.add(dst, gt, out=dst, where=hit)
            else:  # each input belongs to one window
                np.copyto(dst, gt, where=hit)
        return gx.transpose(0, 3, 1, 2)

    def backward(self, gg, out, g):
        return (call(MaxPool2dPick, gg, hits=self.hits, stride=self.stride, out_hw=self.out_hw),)


class MaxPool2dPick(Primitive):
    """``(N, C, H, W) -> (N, C, Ho, Wo)``: the element at each window's maximum (the adjoint of
    ``MaxPool2dGrad``)."""

    name = "max_pool2d_pick"
    saves_inputs = False
    _windows = MaxPool2dGrad._windows

    def forward(self, a):
        self.x_shape = a.shape
        picked = sum(np.where(hit, view, 0) for view, hit in self._windows(a.transpose(0, 2, 3, 1)))
        return picked.transpose(0, 3, 1, 2)

    def backward(self, g, out, a):
        return (call(MaxPool2dGrad, g, hits=self.hits, x_shape=self.x_shape, stride=self.stride,
                     out_hw=self.out_hw, overlap=True),)


def _batched4(x, name):
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    return x, False


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: ``input`` ``(N, C, H, W)``, ``weight`` ``(O, C, kh, kw)`` -> ``(N, O, Ho, Wo)``
    with ``Ho = (H + 2 padding - kh) // stride + 1``."""
    if pair(dilation, "dilation") != (1, 1) or groups != 1:
        raise NotImplementedError("conv2d: only dilation=1 and groups=1 are supported")
    x, unbatched = _batched4(input, "conv2d")
    w = x._constant(weight)
    stride, padding = pair(stride, "stride"), pair(padding, "padding")
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
    args = (x, w) if bias is None else (x, w, x._constant(bias))
    out = Conv2d.apply(*args, stride=stride, padding=padding)
    return out[0] if unbatched else out


def max_pool2d(input, kernel_size, stride=None, padding=0):
    """Max over ``kernel_size`` windows every ``stride`` (default: the kernel) of ``(N, C, H, W)``."""
    if pair(padding, "padding") != (0, 0):
        raise NotImplementedError("max_pool2d: only padding=0 is supported")
    x, unbatched = _batched4(input, "max_pool2d")
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    if min(kernel) < 1 or min(stride) < 1:
        raise ValueError(f"max_pool2d: kernel_size and stride must be >= 1, got {kernel} and {stride}")
    if kernel[0] > x.shape[2] or kernel[1] > x.shape[3]:
        raise ValueError(f"max_pool2d: kernel {kernel} is larger than the input {x.shape[2:]}")
    out = MaxPool2d.apply(x, kernel=kernel, stride=stride)
    return out[0] if unbatched else out
