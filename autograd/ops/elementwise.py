"""Elementwise primitives. Each rule may return gradients in the broadcast shape of the output;
``Tensor._vjp`` sums them back to the inputs' shapes."""
import numpy as np

from ..function import Function, data, unary
from ..function import where as _where
from ..tensor import Tensor
from ._util import operand

def _quiet():
    """IEEE results (inf, nan) without NumPy warnings, like torch."""
    return np.errstate(all="ignore")


class Add(Function):
    name = "add"

    def forward(self, a, b):
        return a + b

    def backward(self, g, out, a, b):
        return g, g


class Sub(Function):
    name = "sub"

    def forward(self, a, b):
        return a - b

    def backward(self, g, out, a, b):
        return g, (-g if self.needs[1] else None)


class Mul(Function):
    name = "mul"

    def forward(self, a, b):
        return a * b

    def backward(self, g, out, a, b):
        needs = self.needs
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


class Div(Function):
    name = "div"

    def forward(self, a, b):
        with _quiet():
            return a / b

    def backward(self, g, out, a, b):
        needs = self.needs
        with _quiet():
            return ((g / b if needs[0] else None),
                    (-g * (out / b) if needs[1] else None))  # torch: -g * ((a / b) / b)


class Pow(Function):
    """``a ** b`` with a tensor exponent; torch's masks where the math has no gradient."""

    name = "pow"

    def forward(self, a, b):
        with _quiet():
            return np.power(a, b)

    def backward(self, g, out, a, b):
        ad, bd = data(a), data(b)
        ga = gb = None
        with _quiet():
            if self.needs[0]:
                ga = _where(bd == 0, 0.0, g * b * a ** (b - 1.0))
            if self.needs[1]:
                gb = _where((ad == 0) & (bd >= 0), 0.0, g * (out * unary("log", a)))
        return ga, gb


class PowScalar(Function):
    """``a ** k`` for a Python number ``k``."""

    name = "pow"

    def forward(self, a):
        with _quiet():
            return np.power(a, self.k) if self.k != 2 else a * a

    def backward(self, g, out, a):
        if self.k == 0:
            return (g * 0.0,)
        with _quiet():
            return (g * self.k * a ** (self.k - 1.0),)


class Neg(Function):
    name = "neg"

    def forward(self, a):
        return -a

    def backward(self, g, out, a):
        return (-g,)


class Exp(Function):
    name = "exp"

    def forward(self, a):
        with _quiet():
            return np.exp(a)

    def backward(self, g, out, a):
        return (g * out,)


class Log(Function):
    name = "log"

    def forward(self, a):
        with _quiet():
            return np.log(a)

    def backward(self, g, out, a):
        with _quiet():
            return (g / a,)


class Sqrt(Function):
    name = "sqrt"

    def forward(self, a):
        with _quiet():
            return np.sqrt(a)

    def backward(self, g, out, a):
        with _quiet():
            return (g / (2.0 * out),)


class Abs(Function):
    name = "abs"

    def forward(self, a):
        return np.abs(a)

    def backward(self, g, out, a):
        return (g * np.sign(data(a)),)


class Sin(Function):
    name = "sin"

    def forward(self, a):
        return np.sin(a)

    def backward(self, g, out, a):
        return (g * unary("cos", a),)


class Cos(Function):
    name = "cos"

    def forward(self, a):
        return np.cos(a)

    def backward(self, g, out, a):
        return (-g * unary("sin", a),)


class Tanh(Function):
    name = "tanh"

    def forward(self, a):
        return np.tanh(a)

    def backward(self, g, out, a):
        return (g * (1.0 - out * out),)


class Sigmoid(Function):
    name = "sigmoid"

    def forward(self, a):
        with _quiet():  # exp(-x) overflows to inf for very negative x: 1 / inf = 0, as it should
            return 1.0 / (1.0 + np.exp(-a))

    def backward(self, g, out, a):
        return (g * (1.0 - out) * out,)


class Relu(Function):
    name = "relu"

    def forward(self, a):
        return np.maximum(a, 0) if a.dtype.kind == "f" else np.maximum(a, 0).astype(a.dtype)

    def backward(self, g, out, a):
        # out is 0, positive or nan: "!= 0" lets a nan input pass its gradient on, as in torch (not
        # "> 0"), in one comparison instead of two
        return (g * (data(out) != 0),)


class Clamp(Function):
    name = "clamp"

    def forward(self, a):
        return np.clip(a, self.min, self.max)

    def backward(self, g, out, a):
        x = data(a)
        mask = np.ones(x.shape, dtype=bool)
        if self.min is not None:
            mask &= x >= self.min
        if self.max is not None:
            mask &= x <= self.max
        return (g * mask,)


def _tie_share(ad, bd):
    """1 where the operands differ, 0.5 where they tie (torch splits the gradient at ties)."""
    return np.where(ad == bd, 0.5, 1.0).astype(ad.dtype if ad.dtype.kind == "f" else np.float32)


class Maximum(Function):
    """Elementwise max; at ties each input gets half the gradient, as in torch."""

    name = "maximum"

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, g, out, a, b):
        ad, bd = data(a), data(b)
        share = _tie_share(ad, bd)
        # written as "not less" so that a nan operand passes the gradient on to both, as in torch
        return g * (share * ~(ad < bd)), g * (share * ~(bd < ad))


class Minimum(Function):
    name = "minimum"

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, g, out, a, b):
        ad, bd = data(a), data(b)
        share = _tie_share(ad, bd)
        return g * (share * ~(ad > bd)), g * (share * ~(bd > ad))


class Where(Function):
    name = "where"

    def forward(self, cond, a, b):
        return np.where(cond, a, b)

    def backward(self, g, out, cond, a, b):
        c = data(cond)
        return None, _where(c, g, 0.0), _where(c, 0.0, g)


class Cast(Function):
    """Change of dtype; ``Tensor._vjp`` casts the gradient back to the input's dtype."""

    name = "to"

    def forward(self, a):
        return a.astype(self.dtype)

    def backward(self, g, out, a):
        return (g,)


# -- module functions ----------------------------------------------------------------------------
def _pair(a, b, opname):
    like = a if isinstance(a, Tensor) else b
    ta, tb = operand(a, like), operand(b, like)
    if ta is None or tb is None:
        bad = a if ta is None else b
        raise TypeError(f"{opname}: unsupported operand type {type(bad).__name__}")
    return ta, tb


def binary(cls, a, b):
    """Apply a broadcasting binary primitive, with a clear error when shapes do not broadcast."""
    try:
        return cls.apply(a, b)
    except ValueError:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"{cls.name}: shapes {a.shape} and {b.shape} cannot be broadcast "
                             "together") from None
        raise


def where(condition, input, other):
    """``condition ? input : other`` elementwise (like ``torch.where``); no gradient to ``condition``."""
    if not isinstance(condition, Tensor):
        condition = Tensor._wrap(np.asarray(condition, dtype=bool))
    elif condition.dtype != np.bool_:
        condition = Tensor._wrap(condition.data.astype(bool))
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        like = Tensor._wrap(np.asarray(input if isinstance(input, np.ndarray) else np.float32(0)))
    a, b = operand(input, like), operand(other, like)
    try:
        np.broadcast_shapes(condition.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {condition.shape}, {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None
    return Where.apply(condition, a, b)


def maximum(input, other):
    """Elementwise maximum of two tensors (ties split the gradient)."""
    return binary(Maximum, *_pair(input, other, "maximum"))


def minimum(input, other):
    """Elementwise minimum of two tensors (ties split the gradient)."""
    return binary(Minimum, *_pair(input, other, "minimum"))
