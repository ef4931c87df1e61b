"""Activation functions with torch's names, arguments and gradients at the kinks: ``elu selu celu silu
mish softplus softsign hardtanh relu6 hardsigmoid hardswish logsigmoid glu prelu rrelu softmin gelu
tanhshrink softshrink hardshrink threshold``, plus the primitives ``Expm1`` and ``Log1p`` they need
for accuracy near 0.

Piecewise functions select with ``Where`` on a constant mask (torch's convention at the boundaries),
so a gradient is never multiplied by a mask and gradients of any order come from the pieces.
"""
import math

import numpy as np

from ..random import generator as _generator
from ..primitive import Primitive, TensorBase, array, call
from ._util import quiet
from .elementwise import Erf, Exp, LeakyRelu, Sigmoid, Softplus, Where


class Expm1(Primitive):
    """``exp(x) - 1``, accurate near 0."""

    name = "expm1"

    def forward(self, a):
        with quiet():
            return np.expm1(a)

    formulas = (("g ⊙ (o + 1)", lambda s: s.g * (s.o + 1)),)

    def backward(self, g, out, a):
        return (g * call(Exp, a),)


class Log1p(Primitive):
    """``log(1 + x)``, accurate near 0."""

    name = "log1p"

    def forward(self, a):
        with quiet():
            return np.log1p(a)

    formulas = (("g / (1 + {0})", lambda s: s.g / (1 + s.a)),)

    def backward(self, g, out, a):
        with quiet():
            return (g / (1.0 + a),)


def _select(mask, a, b):
    """``a`` where the constant ``mask`` holds, else ``b`` (either may be a number)."""
    like = a if isinstance(a, TensorBase) else b
    return Where.apply(like._wrap(mask), like._constant(a), like._constant(b))


def elu(input, alpha=1.0, inplace=False):
    """``x`` where ``x > 0``, else ``alpha (exp(x) - 1)``."""
    return _select(array(input) > 0, input, Expm1.apply(input) * alpha)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return elu(input, 1.6732632423543772848170429916717) * 1.0507009873554804934193349852946


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha must not be 0 for celu")
    return _select(array(input) > 0, input, Expm1.apply(input * (1.0 / alpha)) * alpha)


def silu(input, inplace=False):
    """``x * sigmoid(x)``."""
    return input * Sigmoid.apply(input)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return input * Softplus.apply(input).tanh()


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    bx = input * beta if beta != 1 else input
    soft = Softplus.apply(bx)
    soft = soft * (1.0 / beta) if beta != 1 else soft
    return _select(array(bx) > threshold, input, soft)


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1.0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clamped to ``[min_val, max_val]``; the gradient is 0 at and beyond the edges, as torch."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = array(input)
    return _select((x > min_val) & (x < max_val), input, np.clip(x, min_val, max_val))


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``; the gradient is ``1/6`` strictly inside ``(-3, 3)``."""
    x = array(input)
    return _select((x > -3) & (x < 3), input * (1.0 / 6.0) + 0.5, (x >= 3).astype(x.dtype))


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``: 0 below -3, ``x`` above 3, ``x (x + 3) / 6`` between (torch's
    gradient ``(2x + 3) / 6`` on ``[-3, 3]``)."""
    x = array(input)
    mid = input * (input + 3.0) * (1.0 / 6.0)
    return _select(x < -3, 0.0, _select(x <= 3, mid, input))


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for any ``x``."""
    return -Softplus.apply(-input)


def glu(input, dim=-1):
    """``a * sigmoid(b)`` for the halves ``a, b`` of ``input`` along ``dim``."""
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} is size {n}")
    d = dim % input.ndim
    a = input[(slice(None),) * d + (slice(0, n // 2),)]
    b = input[(slice(None),) * d + (slice(n // 2, n),)]
    return a * Sigmoid.apply(b)


def prelu(input, weight):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 or C (dim 1) elements."""
    w = weight if isinstance(weight, TensorBase) else input._constant(weight)
    if w.numel() != 1:
        c = input.shape[1] if input.ndim > 1 else input.shape[0]
        if w.numel() != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers ="
                               f" {w.numel()} and channel size = {c}.")
        if input.ndim > 1:
            w = w.reshape((1, c) + (1,) * (input.ndim - 2))
    else:
        w = w.reshape(())
    return _select(array(input) > 0, input, input * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with a random slope in ``[lower, upper]`` when ``training``, ``(lower + upper) / 2``
    otherwise."""
    if not training:
        return LeakyRelu.apply(input, slope=(lower + upper) / 2)
    x = array(input)
    slope = _generator().uniform(lower, upper, x.shape).astype(x.dtype)
    return _select(x >= 0, input, input * slope)


def softmin(input, dim=None):
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return (-input).softmax(dim)


def gelu(input, approximate="none"):
    """``x * Phi(x)``, Phi the standard normal CDF (via ``erf``); ``approximate="tanh"`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    x = input
    if approximate == "none":
        return x * (0.5 * (1.0 + Erf.apply(x * (1.0 / math.sqrt(2.0)))))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + (math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)).tanh())
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    x = array(input)
    return _select(x > lambd, input - lambd, _select(x < -lambd, input + lambd, 0.0))


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, 0 elsewhere."""
    return _select(np.abs(array(input)) > lambd, input, 0.0)


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``."""
    return _select(array(input) > threshold, input, value)

