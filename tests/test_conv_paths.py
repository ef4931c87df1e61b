"""The fast paths of ``autograd/ops/conv.py`` against torch in float64, first and second order: the
stride-1 input gradient as a correlation (and its fallback), the column-major im2col for few channels,
depthwise convolutions, and max-pool backward without overlap (covered or not, ties, nan, inf)."""
import numpy as np
import pytest

import autograd
import nn
from autograd.testing import assert_grads_match_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional
R = np.random.default_rng(2024)


def rn(*shape):
    return R.standard_normal(shape)


def ties(*shape):
    """Values on a coarse grid: many equal maxima inside a pooling window."""
    return np.round(R.standard_normal(shape))


def F(x):
    return TF if isinstance(x, torch.Tensor) else nn.functional


def with_value(a, index, value):
    a = a.copy()
    a[index] = value
    return a


CASES = {
    # stride 1, padding <= dilation (k - 1): the correlation of the padded gradient with the flipped kernel
    "stride1": (lambda x, w, b: F(x).conv2d(x, w, b, padding=1), rn(2, 3, 6, 7), rn(4, 3, 3, 3), rn(4)),
    "stride1-asymmetric-kernel": (lambda x, w: F(x).conv2d(x, w, padding=(2, 0)), rn(1, 2, 5, 6),
                                  rn(3, 2, 3, 2)),
    "stride1-groups-dilation": (lambda x, w: F(x).conv2d(x, w, padding=1, dilation=2, groups=2),
                                rn(2, 4, 7, 6), rn(6, 2, 3, 3)),
    # padding larger than dilation (k - 1): the col2im fallback
    "stride1-wide-padding": (lambda x, w: F(x).conv2d(x, w, padding=1), rn(2, 3, 4, 5), rn(2, 3, 1, 1)),
    # one input channel and long output rows: the column-major im2col
    "one-channel": (lambda x, w, b: F(x).conv2d(x, w, b, padding=1), rn(3, 1, 8, 9), rn(5, 1, 3, 3), rn(5)),
    "one-channel-strided-dilated": (lambda x, w: F(x).conv2d(x, w, stride=2, dilation=2), rn(2, 1, 12, 14),
                                    rn(3, 1, 3, 3)),
    "two-channels-grouped": (lambda x, w: F(x).conv2d(x, w, padding=1, groups=2), rn(2, 2, 5, 11),
                             rn(4, 1, 3, 3)),
    # depthwise: groups == C == O
    "depthwise-strided-dilated": (lambda x, w, b: F(x).conv2d(x, w, b, stride=2, dilation=2, padding=2,
                                                              groups=4), rn(2, 4, 8, 9), rn(4, 1, 3, 3),
                                  rn(4)),
    "depthwise-stride1": (lambda x, w: F(x).conv2d(x, w, padding=1, groups=3), rn(2, 3, 5, 6),
                          rn(3, 1, 3, 2)),
    "depthwise-empty-batch": (lambda x, w: F(x).conv2d(x, w, groups=2), rn(0, 2, 4, 4), rn(2, 1, 2, 2)),
    "depthwise-conv1d": (lambda x, w: F(x).conv1d(x, w, stride=2, padding=1, groups=3), rn(2, 3, 9),
                         rn(3, 1, 3)),
    # a kernel above _SMALL_KERNEL elements: the (O, k) copy, transposed, as im2col's right-hand matrix
    "big-kernel": (lambda x, w, b: F(x).conv2d(x, w, b, padding=1), rn(1, 64, 3, 3), rn(40, 64, 3, 3),
                   rn(40)),
    "big-kernel-grouped": (lambda x, w: F(x).conv2d(x, w, padding=1, groups=2), rn(1, 128, 3, 3),
                           rn(40, 64, 3, 3)),
    # max pooling without overlap
    "pool-covered-ties": (lambda x: F(x).max_pool2d(x, 2), ties(2, 3, 4, 6)),
    "pool-uncovered": (lambda x: F(x).max_pool2d(x, 2), ties(2, 2, 5, 7)),
    "pool-gaps": (lambda x: F(x).max_pool2d(x, 2, stride=3), ties(1, 2, 7, 8)),
    "pool-padded": (lambda x: F(x).max_pool2d(x, 3, stride=3, padding=1), ties(1, 2, 7, 8)),
    "pool-nan": (lambda x: F(x).max_pool2d(x, 2), with_value(rn(1, 2, 4, 4), (0, 1, 2, 3), np.nan)),
    "pool-inf-gradient": (lambda x, c: F(x).max_pool2d(x, 2) * c, rn(1, 2, 4, 4),
                          with_value(rn(1, 2, 2, 2), (0, 0, 1, 0), np.inf)),
    "pool-1x1": (lambda x: F(x).max_pool2d(x, 1), ties(1, 2, 3, 3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, *arrays = CASES[name]
    assert_grads_match_torch(fn, *arrays, second_order=True, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (1, 2, 5, 3)])
def test_pool_gradient_is_positive_zero_off_the_maximum(shape):
    """Where an input is not its window's maximum its gradient is +0.0 (torch's scatter into zeros),
    also under a negative upstream gradient."""
    x = autograd.tensor(rn(*shape), requires_grad=True)
    nn.functional.max_pool2d(x, 2).backward(autograd.tensor(-np.ones((shape[0], shape[1], shape[2] // 2,
                                                                     shape[3] // 2))))
    g = x.grad.numpy()
    assert (g[g == 0] == 0).all() and not np.signbit(g[g == 0]).any()
    assert np.count_nonzero(g) == shape[0] * shape[1] * (shape[2] // 2) * (shape[3] // 2)
