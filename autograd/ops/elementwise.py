"""Elementwise ops: arithmetic, unary math, activations, comparisons, ``where``, ``maximum``/``minimum``.

Each primitive's forward and gradient rule sit side by side; a rule may return gradients in the
broadcast shape of the output (the engine sums them back to the inputs' shapes). Wherever a rule zeroes
a gradient it selects with ``Where``, never multiplies by a mask, so an ``inf``/``nan`` upstream
gradient stays out of the masked elements, as in torch.
"""
import math
import numbers

import numpy as np

from ..dtypes import as_dtype
from ..primitive import Primitive, TensorBase, array, call
from ._util import ShapeError, first_tensor, operand, quiet, result_dtype
from ._formulas import sig


class Add(Primitive):
    name = "add"
    saves_inputs = False

    def forward(self, a, b):
        return a + b

    formulas = (("g", lambda s: s.g), ("g", lambda s: s.g))

    def backward(self, g, out, a, b):
        return g, g


class Sub(Primitive):
    name = "sub"
    saves_inputs = False

    def forward(self, a, b):
        return a - b

    formulas = (("g", lambda s: s.g), ("−g", lambda s: -s.g))

    def backward(self, g, out, a, b):
        return g, (-g if self.needs[1] else None)


class Mul(Primitive):
    name = "mul"
    fresh_grads = True

    def forward(self, a, b):
        return a * b

    formulas = (("g ⊙ {1}", lambda s: s.g * s.b), ("g ⊙ {0}", lambda s: s.g * s.a))

    def backward(self, g, out, a, b):
        needs = self.needs
        return (g * b if needs[0] else None), (g * a if needs[1] else None)


class Div(Primitive):
    name = "div"
    fresh_grads = True
    saves_output = True

    def forward(self, a, b):
        with quiet():
            return a / b

    formulas = (("g / {1}", lambda s: s.g / s.b), ("−g ⊙ o / {1}", lambda s: -s.g * s.o / s.b))

    def backward(self, g, out, a, b):
        needs = self.needs
        with quiet():
            return ((g / b if needs[0] else None),
                    (-g * (out / b) if needs[1] else None))  # torch: -g * ((a / b) / b)


class Pow(Primitive):
    """``a ** b`` with a tensor exponent; torch's zeros where the math has no gradient."""

    name = "pow"
    saves_output = True

    def forward(self, a, b):
        with quiet():
            return np.power(a, b)

    formulas = (("g ⊙ {1}·{0}^({1}−1)", lambda s: s.g * s.b * s.a ** (s.b - 1.0)),
                ("g ⊙ o·log({0})", lambda s: s.g * s.o * np.log(s.a)))

    def backward(self, g, out, a, b):
        ad, bd = array(a), array(b)
        ga = gb = None
        with quiet():
            if self.needs[0]:
                ga = call(Where, bd == 0, 0.0, g * (b * a ** (b - 1.0)))
            if self.needs[1]:
                gb = call(Where, (ad == 0) & (bd >= 0), 0.0, g * (out * call(Log, a)))
        return ga, gb


class PowScalar(Primitive):
    """``a ** k`` for a Python number ``k``."""

    name = "pow"

    def forward(self, a):
        with quiet():
            return np.power(a, self.k) if self.k != 2 else a * a

    formulas = (("g ⊙ k·{0}^(k−1)", lambda s: s.g * s.fn.k * s.a ** (s.fn.k - 1.0)),)

    def backward(self, g, out, a):
        if self.k == 0:  # torch: zeros shaped like g, even where g is inf or nan
            return (call(Where, False, g, 0.0),)
        with quiet():
            return (g * (self.k * a ** (self.k - 1.0)),)


class Neg(Primitive):
    name = "neg"
    fresh_grads = True
    saves_inputs = False

    def forward(self, a):
        return -a

    formulas = (("−g", lambda s: -s.g),)

    def backward(self, g, out, a):
        return (-g,)


class Exp(Primitive):
    name = "exp"
    fresh_grads = True
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        with quiet():
            return np.exp(a)

    formulas = (("g ⊙ o", lambda s: s.g * s.o),)

    def backward(self, g, out, a):
        return (g * out,)


class Log(Primitive):
    name = "log"
    fresh_grads = True

    def forward(self, a):
        with quiet():
            return np.log(a)

    formulas = (("g / {0}", lambda s: s.g / s.a),)

    def backward(self, g, out, a):
        with quiet():
            return (g / a,)


class Sqrt(Primitive):
    name = "sqrt"
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        with quiet():
            return np.sqrt(a)

    formulas = (("g / (2·o)", lambda s: s.g / (2 * s.o)),)

    def backward(self, g, out, a):
        with quiet():
            return (g / (2.0 * out),)


class Abs(Primitive):
    name = "abs"

    def forward(self, a):
        return np.abs(a)

    formulas = (("g ⊙ sign({0})", lambda s: s.g * np.sign(s.a)),)

    def backward(self, g, out, a):
        sgn = np.sign(array(a))  # torch multiplies by sgn too: 0 at 0, and 0 at nan
        if np.isnan(sgn).any():
            sgn = np.where(np.isnan(sgn), 0, sgn)
        return (g * sgn,)


class Sin(Primitive):
    name = "sin"

    def forward(self, a):
        return np.sin(a)

    formulas = (("g ⊙ cos({0})", lambda s: s.g * np.cos(s.a)),)

    def backward(self, g, out, a):
        return (g * call(Cos, a),)


class Cos(Primitive):
    name = "cos"

    def forward(self, a):
        return np.cos(a)

    formulas = (("−g ⊙ sin({0})", lambda s: -s.g * np.sin(s.a)),)

    def backward(self, g, out, a):
        return (-g * call(Sin, a),)


class Tanh(Primitive):
    name = "tanh"
    fresh_grads = True
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return np.tanh(a)

    formulas = (("g ⊙ (1 − o²)", lambda s: s.g * (1 - s.o * s.o)),)

    def backward(self, g, out, a):
        return (g * (1.0 - out * out),)


class Sigmoid(Primitive):
    name = "sigmoid"
    fresh_grads = True
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        with quiet():  # exp(-x) overflows to inf for very negative x: 1 / inf = 0, as it should
            e = np.exp(-a)
            if type(e) is not np.ndarray:  # 0-d: NumPy gives a scalar
                return 1.0 / (1.0 + e)
            e += 1.0  # in place: one array for the three steps
            return np.reciprocal(e, out=e)

    formulas = (("g ⊙ o ⊙ (1 − o)", lambda s: s.g * s.o * (1 - s.o)),)

    def backward(self, g, out, a):
        return (g * (1.0 - out) * out,)


class Relu(Primitive):
    name = "relu"
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        return np.maximum(0, a)  # zero first: -0.0 and nan pass through, as torch's x < 0 ? 0 : x

    formulas = (("g ⊙ [o > 0]", lambda s: s.g * (s.o > 0)),)

    def backward(self, g, out, a):
        # torch's threshold rule: zero where the output is <= 0; a nan passes its gradient on
        return (call(ReluBackward, g, out),)


class ReluBackward(Primitive):
    """relu's gradient as a primitive of ``g`` (torch's ``threshold_backward``): 0 where relu's output
    ``o`` is ±0, ``g`` itself elsewhere (its bits: inf, nan and -0.0 pass). ``o`` is never negative, so
    the mask is ``o != 0`` (nan included), and ``_select`` keeps ``g``'s bits there: two passes with no
    branch, where ``np.where(o <= 0, 0, g)`` branches on the mask (5x the time on a 32x128 float32 with
    random signs)."""

    name = "threshold_backward"

    def forward(self, g, out):
        if type(g) is np.ndarray and g.ndim and out.shape == g.shape:
            kept = _select(out != 0, g, True)
            if kept is not None:
                return kept
        return np.where(out <= 0, 0, g)

    formulas = (("g ⊙ [{1} > 0]", lambda s: np.where(s.b <= 0, 0, s.g)),
                ("0 (only the mask of {1} is used: piecewise constant)", lambda s: np.zeros_like(s.b)))

    def backward(self, gg, out, g, o):
        return call(ReluBackward, gg, o), None


class LeakyRelu(Primitive):
    name = "leaky_relu"

    def forward(self, a):
        return np.where(a > 0, a, a * self.slope)

    formulas = (("g ⊙ (1 if {0} > 0 else slope)", lambda s: s.g * np.where(s.a > 0, 1.0, s.fn.slope)),)

    def backward(self, g, out, a):
        return (call(Where, array(a) > 0, g, g * self.slope),)


class Softplus(Primitive):
    """``log(1 + exp(x))``, stable for any ``x``: ``max(x, 0) + log1p(exp(-|x|))``."""

    name = "softplus"

    def forward(self, a):
        with quiet():
            return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))

    formulas = (("g ⊙ σ({0})", lambda s: s.g * sig(s.a)),)

    def backward(self, g, out, a):
        return (g * call(Sigmoid, a),)


class Clamp(Primitive):
    name = "clamp"

    def forward(self, a):
        return np.clip(a, self.min, self.max)

    formulas = (("g ⊙ [min ≤ {0} ≤ max]", lambda s: s.g * _clamp_mask(s)),)

    def backward(self, g, out, a):
        x = array(a)
        inside = np.ones(x.shape, dtype=bool)
        if self.min is not None:
            inside &= x >= self.min
        if self.max is not None:
            inside &= x <= self.max
        return (call(Where, inside, g, 0.0),)


class Maximum(Primitive):
    """Elementwise max; at ties each input gets half the gradient, as in torch; a nan operand passes
    the gradient on to both."""

    name = "maximum"

    def forward(self, a, b):
        return np.maximum(a, b)

    formulas = (("g ⊙ [{0} ≥ {1}] (½ at ties)", lambda s: s.g * (s.a >= s.b) * _ties(s.a, s.b)),
                ("g ⊙ [{1} ≥ {0}] (½ at ties)", lambda s: s.g * (s.b >= s.a) * _ties(s.a, s.b)))

    def backward(self, g, out, a, b):
        ad, bd = array(a), array(b)
        shared = call(Where, ad == bd, g / 2.0, g)
        return call(Where, ad < bd, 0.0, shared), call(Where, ad > bd, 0.0, shared)


class Minimum(Primitive):
    name = "minimum"

    def forward(self, a, b):
        return np.minimum(a, b)

    formulas = (("g ⊙ [{0} ≤ {1}] (½ at ties)", lambda s: s.g * (s.a <= s.b) * _ties(s.a, s.b)),
                ("g ⊙ [{1} ≤ {0}] (½ at ties)", lambda s: s.g * (s.b <= s.a) * _ties(s.a, s.b)))

    def backward(self, g, out, a, b):
        ad, bd = array(a), array(b)
        shared = call(Where, ad == bd, g / 2.0, g)
        return call(Where, ad > bd, 0.0, shared), call(Where, ad < bd, 0.0, shared)


def _is_zero(z, other):
    """True when ``z`` is the scalar 0 that ``np.where`` would not widen ``other`` (a float array) with."""
    if type(other) is not np.ndarray or other.dtype.kind != "f":
        return False
    if type(z) is float:
        return z == 0.0
    return type(z) is np.ndarray and z.ndim == 0 and z.dtype == other.dtype and z == 0


# a float type's code -> the integer type of its size (to handle a float array's bits)
_FLOAT_BITS = {"e": np.int16, "f": np.int32, "d": np.int64}


def _select(cond, a, keep):
    """``np.where(cond, a, 0.0)`` (``keep``) or ``np.where(cond, 0.0, a)`` for a float array ``a``, with
    the same bits: ``a``'s bits times the mask of where ``a`` is kept, as integers (inf, nan and -0.0
    pass unchanged; the rest is +0.0), with no branch on the mask, where np.where branches (and takes
    several times longer on unpredictable masks); None for a float type with no integer of its size."""
    bits = _FLOAT_BITS.get(a.dtype.char)
    if bits is None:
        return None
    return np.multiply(a.view(bits), cond if keep else ~cond).view(a.dtype)


class Where(Primitive):
    name = "where"

    def forward(self, cond, a, b):
        if type(cond) is np.ndarray and cond.dtype == np.bool_:
            if _is_zero(b, a):
                out = _select(cond, a, True)
                if out is not None:
                    return out
            elif _is_zero(a, b):
                out = _select(cond, b, False)
                if out is not None:
                    return out
        return np.where(cond, a, b)

    formulas = (("none (a condition)", None), ("g ⊙ [{0}]", lambda s: np.where(s.a, s.g, 0)),
                ("g ⊙ [not {0}]", lambda s: np.where(s.a, 0, s.g)))

    def backward(self, g, out, cond, a, b):
        c = array(cond)
        return None, call(Where, c, g, 0.0), call(Where, c, 0.0, g)


class Clone(Primitive):
    """A copy that keeps the graph (torch's ``clone``)."""

    name = "clone"
    saves_inputs = False
    saves_inputs = False

    def forward(self, a):
        return a.copy()

    formulas = (("g", lambda s: s.g),)

    def backward(self, g, out, a):
        return (g,)


class Cast(Primitive):
    """Change of dtype; the engine casts the gradient back to the input's dtype."""

    name = "to"
    saves_inputs = False

    def forward(self, a):
        return a.astype(self.dtype)

    formulas = (("g, cast back to {0}'s dtype", lambda s: s.g.astype(s.a.dtype)),)

    def backward(self, g, out, a):
        return (g,)


class Erf(Primitive):
    name = "erf"

    def forward(self, a):
        return erf_array(a)

    formulas = (("g ⊙ 2/√π · exp(−{0}²)", lambda s: s.g * 2 / math.sqrt(math.pi) * np.exp(-s.a * s.a)),)

    def backward(self, g, out, a):
        return (g * (call(Exp, -(a * a)) * (2.0 / math.sqrt(math.pi))),)


# -- erf on arrays ---------------------------------------------------------------------------------
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


# -- Tensor methods --------------------------------------------------------------------------------
def as_float(t):
    """``t``, or ``t`` as float32 when integer or bool (torch: a float function of ints is float32)."""
    return t if t._data.dtype.kind == "f" else t._wrap(t._data.astype(np.float32))


def promote(a, b):
    """``a`` and ``b`` cast to torch's result dtype (``torch.result_type``) when they differ."""
    da, db = a._data.dtype, b._data.dtype
    if da is db or da == db:
        return a, b
    dt = result_dtype(a._data, b._data)
    return a.to(dt), b.to(dt)


def binary(cls, a, b):
    """Apply a broadcasting binary primitive to operands promoted as torch promotes them, with a clear
    error when shapes do not broadcast."""
    da = a._data.dtype
    if da is not b._data.dtype or da.kind != "f":  # (the common case, one float dtype, needs nothing)
        if cls is Sub and (da.kind == "b" or b._data.dtype.kind == "b"):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                               "are trying to invert a mask, use the `~` or `logical_not()` operator "
                               "instead.")
        a, b = promote(a, b)
        if cls is Div and a._data.dtype.kind != "f":  # true division of integers is float32, as torch
            a, b = as_float(a), as_float(b)
    try:
        return cls.apply(a, b)
    except ValueError:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ShapeError(f"{cls.name}: shapes {a.shape} and {b.shape} cannot be broadcast "
                             "together") from None
        raise


def _compare(ufunc, symbol, a, other):
    b = operand(other, a)
    if b is None:
        return NotImplemented
    try:
        return a._wrap(ufunc(a._data, b._data))
    except ValueError:
        raise ShapeError(f"{symbol}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _bool_pow(a, exponent):
    """torch's rules for a bool tensor ``a`` in ``a ** exponent``: a bool tensor exponent is refused,
    ``a ** True`` is ``a``, ``a ** False`` all True, ``a ** k`` (an int) is int64."""
    if isinstance(exponent, TensorBase):
        raise NotImplementedError('"pow" not implemented for \'Bool\'')
    if isinstance(exponent, (bool, np.bool_)):
        return a._wrap(a._data.copy() if exponent else np.ones(a.shape, dtype=bool))
    return a.long() ** exponent


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_, TensorBase))


class ElementwiseMethods:
    """``Tensor``'s elementwise operators and methods (NumPy broadcasting between operands)."""

    __slots__ = ()

    def __add__(self, other):
        """``self + other``, broadcast."""
        b = operand(other, self)
        return NotImplemented if b is None else binary(Add, self, b)

    def __radd__(self, other):
        """``other + self``, broadcast."""
        a = operand(other, self)
        return NotImplemented if a is None else binary(Add, a, self)

    def __sub__(self, other):
        """``self - other``, broadcast."""
        b = operand(other, self) if not isinstance(other, (bool, np.bool_)) else self._wrap(np.asarray(other))
        return NotImplemented if b is None else binary(Sub, self, b)

    def __rsub__(self, other):
        """``other - self``, broadcast."""
        a = operand(other, self) if not isinstance(other, (bool, np.bool_)) else self._wrap(np.asarray(other))
        return NotImplemented if a is None else binary(Sub, a, self)

    def __mul__(self, other):
        """``self * other``, broadcast."""
        b = operand(other, self)
        return NotImplemented if b is None else binary(Mul, self, b)

    def __rmul__(self, other):
        """``other * self``, broadcast."""
        a = operand(other, self)
        return NotImplemented if a is None else binary(Mul, a, self)

    def __truediv__(self, other):
        """``self / other``, broadcast (IEEE: ``x / 0`` is ``inf`` or ``nan``)."""
        b = operand(other, self)
        return NotImplemented if b is None else binary(Div, self, b)

    def __rtruediv__(self, other):
        """``other / self``, broadcast."""
        a = operand(other, self)
        return NotImplemented if a is None else binary(Div, a, self)

    def __pow__(self, exponent):
        """``self ** exponent``: a number, or a tensor (gradient flows to both)."""
        if self._data.dtype.kind == "b" and (isinstance(exponent, (bool, np.bool_, int)) or (
                isinstance(exponent, TensorBase) and exponent.dtype.kind == "b")):
            return _bool_pow(self, exponent)
        if _is_number(exponent):
            k = float(exponent)
            if self._data.dtype.kind != "f":
                if not k.is_integer():
                    return PowScalar.apply(as_float(self), k=k)
                if k < 0:
                    raise RuntimeError("Integers to negative integer powers are not allowed.")
            return PowScalar.apply(self, k=int(k) if k.is_integer() else k)
        b = operand(exponent, self)
        return NotImplemented if b is None else binary(Pow, self, b)

    def __rpow__(self, base):
        """``base ** self``."""
        if self._data.dtype.kind == "b" and isinstance(base, (bool, np.bool_)):
            raise NotImplementedError('"pow" not implemented for \'Bool\'')
        a = operand(base, self)
        return NotImplemented if a is None else binary(Pow, a, self)

    def __neg__(self):
        """``-self``."""
        return Neg.apply(self)

    def __pos__(self):
        """``+self`` (the tensor itself)."""
        return self

    def __abs__(self):
        """``abs(self)``."""
        return Abs.apply(self)

    def __lt__(self, other):
        """``self < other``: a bool tensor without grad."""
        return _compare(np.less, "<", self, other)

    def __le__(self, other):
        """``self <= other``: a bool tensor without grad."""
        return _compare(np.less_equal, "<=", self, other)

    def __gt__(self, other):
        """``self > other``: a bool tensor without grad."""
        return _compare(np.greater, ">", self, other)

    def __ge__(self, other):
        """``self >= other``: a bool tensor without grad."""
        return _compare(np.greater_equal, ">=", self, other)

    def __eq__(self, other):
        """``self == other`` elementwise: a bool tensor without grad."""
        return _compare(np.equal, "==", self, other)

    def __ne__(self, other):
        """``self != other`` elementwise: a bool tensor without grad."""
        return _compare(np.not_equal, "!=", self, other)

    __hash__ = object.__hash__

    def add(self, other, *, alpha=1):
        """``self + alpha * other``, broadcast."""
        return self.__add__(other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other``, broadcast."""
        return self.__sub__(other if alpha == 1 else other * alpha)

    def mul(self, other):
        """``self * other``, broadcast."""
        return self.__mul__(other)

    def div(self, other, rounding_mode=None):
        """``self / other``, broadcast; ``rounding_mode`` "trunc" or "floor" rounds (bitwise.py)."""
        if rounding_mode is None:
            return self.__truediv__(other)
        return self._div_rounded(other, rounding_mode)

    def pow(self, exponent):
        """``self ** exponent``."""
        return self.__pow__(exponent)

    def neg(self):
        """``-self``."""
        return Neg.apply(self)

    def exp(self):
        """``e ** self``, elementwise."""
        return Exp.apply(as_float(self))

    def log(self):
        """Natural logarithm (IEEE: ``log(0) = -inf``, ``log(-1) = nan``)."""
        return Log.apply(as_float(self))

    def sqrt(self):
        """Square root (IEEE: ``sqrt(-1) = nan``)."""
        return Sqrt.apply(as_float(self))

    def abs(self):
        """Absolute value; gradient ``sign(x)`` (0 at 0, as torch)."""
        return Abs.apply(self)

    def sin(self):
        """Sine, elementwise."""
        return Sin.apply(as_float(self))

    def cos(self):
        """Cosine, elementwise."""
        return Cos.apply(as_float(self))

    def tanh(self):
        """Hyperbolic tangent, elementwise."""
        return Tanh.apply(as_float(self))

    def sigmoid(self):
        """``1 / (1 + exp(-x))``, stable for large ``|x|``."""
        return Sigmoid.apply(as_float(self))

    def relu(self):
        """``max(x, 0)``; the gradient is 0 where the output is 0."""
        return Relu.apply(self)

    def clamp(self, min=None, max=None):
        """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max`` (as torch)."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        if isinstance(min, TensorBase) or isinstance(max, TensorBase):
            return self._clamp_tensors(min, max)  # pointwise.py
        return Clamp.apply(self, min=min, max=max)

    def clone(self):
        """A copy of the data that stays in the graph (gradient flows back unchanged)."""
        return Clone.apply(self)

    def _cast(self, dtype):
        """A copy with ``dtype`` (``self`` when it already has it); gradients flow back through it."""
        dtype = as_dtype(dtype)
        if dtype == self._data.dtype:
            return self
        if self.requires_grad and dtype.kind != "f":
            return self._wrap(self._data.astype(dtype))
        return Cast.apply(self, dtype=dtype)


# -- module functions ------------------------------------------------------------------------------
def _pair(a, b, opname):
    like = first_tensor((a, b), opname)
    ta, tb = operand(a, like), operand(b, like)
    if ta is None or tb is None:
        bad = a if ta is None else b
        raise TypeError(f"{opname}: unsupported operand type {type(bad).__name__}")
    return ta, tb


def where(condition, input, other):
    """``condition ? input : other`` elementwise (like ``torch.where``); no gradient to ``condition``."""
    like = first_tensor((input, other, condition), "where")
    cond = like._wrap(np.asarray(array(condition), dtype=bool))
    if not isinstance(input, TensorBase) and not isinstance(other, TensorBase):  # scalars: float32
        like = like._wrap(np.asarray(input if isinstance(input, np.ndarray) else np.float32(0)))
    a, b = operand(input, like), operand(other, like)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None
    return Where.apply(cond, a, b)


def maximum(input, other):
    """Elementwise maximum of two tensors (ties split the gradient)."""
    return binary(Maximum, *_pair(input, other, "maximum"))


def minimum(input, other):
    """Elementwise minimum of two tensors (ties split the gradient)."""
    return binary(Minimum, *_pair(input, other, "minimum"))


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _ties(x, y):
    """½ where ``x == y`` (maximum/minimum share a tie's gradient), else 1."""
    return np.where(x == y, 0.5, 1.0)


def _clamp_mask(s):
    """Where ``clamp``'s input lies within its bounds (the gradient passes there)."""
    lo, hi = s.fn.min, s.fn.max
    m = np.ones(s.a.shape, dtype=bool)
    if lo is not None:
        m &= s.a >= lo
    if hi is not None:
        m &= s.a <= hi
    return m
