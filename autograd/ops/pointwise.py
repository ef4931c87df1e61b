"""Pointwise math beyond the basics: trigonometric and hyperbolic functions and their inverses, rounding,
signs, ``erf``/``erfc``/``erfinv``, logarithms and exponentials in other bases, ``logaddexp``,
``xlogy``, ``hypot``, ``lerp``, ``fmod``/``remainder``, ``nan_to_num``, the ``is*`` tests, ``fmax``/
``fmin``, clamping to tensor bounds, and the comparison helpers (``eq`` ... ``isclose``, ``equal``).

Gradients follow torch's formulas (``derivatives.yaml``), including its conventions at kinks: the
rounding functions and ``sign`` have zero gradient, ``fmod``/``remainder`` pass the gradient to the
dividend, ``xlogy`` has gradient 0 where ``x == 0``. Unary float functions of an integer or bool
tensor give ``float32``, as in torch.
"""
import math

import numpy as np

from ..primitive import Primitive, TensorBase, array, call
from ._util import ShapeError, first_tensor, mirror, operand, quiet, result_dtype
from .elementwise import (ElementwiseMethods, Erf, Exp, Log, Where, as_float, binary, erf_array, maximum,
                          minimum)
from ._formulas import zero

LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# -- unary math: forward is a NumPy ufunc, backward torch's formula ---------------------------------
class _Ufunc(Primitive):
    """A unary primitive whose forward is the NumPy ufunc ``ufunc`` (IEEE results, no warnings)."""

    ufunc = None

    def forward(self, a):
        with quiet():
            return self.ufunc(a)


class Tan(_Ufunc):
    name, ufunc = "tan", staticmethod(np.tan)

    formulas = (("g ⊙ (1 + o²)", lambda s: s.g * (1 + s.o * s.o)),)

    def backward(self, g, out, a):
        with quiet():
            return (g * (1.0 + out * out),)


class Rsqrt(Primitive):
    name = "rsqrt"

    def forward(self, a):
        with quiet():
            return 1.0 / np.sqrt(a)

    formulas = (("−½ g ⊙ o³", lambda s: -0.5 * s.g * s.o ** 3),)

    def backward(self, g, out, a):
        with quiet():
            return (-0.5 * g * (out * out * out),)


class Asin(_Ufunc):
    name, ufunc = "asin", staticmethod(np.arcsin)

    formulas = (("g / √(1 − {0}²)", lambda s: s.g / np.sqrt(1 - s.a * s.a)),)

    def backward(self, g, out, a):
        return (g * call(Rsqrt, 1.0 - a * a),)


class Acos(_Ufunc):
    name, ufunc = "acos", staticmethod(np.arccos)

    formulas = (("−g / √(1 − {0}²)", lambda s: -s.g / np.sqrt(1 - s.a * s.a)),)

    def backward(self, g, out, a):
        return (-(g * call(Rsqrt, 1.0 - a * a)),)


class Atan(_Ufunc):
    name, ufunc = "atan", staticmethod(np.arctan)

    formulas = (("g / (1 + {0}²)", lambda s: s.g / (1 + s.a * s.a)),)

    def backward(self, g, out, a):
        with quiet():
            return (g / (a * a + 1.0),)


class Sinh(_Ufunc):
    name, ufunc = "sinh", staticmethod(np.sinh)

    formulas = (("g ⊙ cosh({0})", lambda s: s.g * np.cosh(s.a)),)

    def backward(self, g, out, a):
        return (g * call(Cosh, a),)


class Cosh(_Ufunc):
    name, ufunc = "cosh", staticmethod(np.cosh)

    formulas = (("g ⊙ sinh({0})", lambda s: s.g * np.sinh(s.a)),)

    def backward(self, g, out, a):
        return (g * call(Sinh, a),)


class Asinh(_Ufunc):
    name, ufunc = "asinh", staticmethod(np.arcsinh)

    formulas = (("g / √({0}² + 1)", lambda s: s.g / np.sqrt(s.a * s.a + 1)),)

    def backward(self, g, out, a):
        return (g * call(Rsqrt, a * a + 1.0),)


class Acosh(_Ufunc):
    name, ufunc = "acosh", staticmethod(np.arccosh)

    formulas = (("g / √({0}² − 1)", lambda s: s.g / np.sqrt(s.a * s.a - 1)),)

    def backward(self, g, out, a):
        return (g * call(Rsqrt, a * a - 1.0),)


class Atanh(_Ufunc):
    name, ufunc = "atanh", staticmethod(np.arctanh)

    formulas = (("g / (1 − {0}²)", lambda s: s.g / (1 - s.a * s.a)),)

    def backward(self, g, out, a):
        with quiet():
            return (g / (1.0 - a * a),)


class Log2(_Ufunc):
    name, ufunc = "log2", staticmethod(np.log2)

    formulas = (("g / ({0}·ln 2)", lambda s: s.g / (s.a * math.log(2))),)

    def backward(self, g, out, a):
        with quiet():
            return (g / (a * LN2),)


class Log10(_Ufunc):
    name, ufunc = "log10", staticmethod(np.log10)

    formulas = (("g / ({0}·ln 10)", lambda s: s.g / (s.a * math.log(10))),)

    def backward(self, g, out, a):
        with quiet():
            return (g / (a * LN10),)


class Log1p(_Ufunc):
    name, ufunc = "log1p", staticmethod(np.log1p)

    formulas = (("g / (1 + {0})", lambda s: s.g / (1 + s.a)),)

    def backward(self, g, out, a):
        with quiet():
            return (g / (a + 1.0),)


class Exp2(_Ufunc):
    name, ufunc = "exp2", staticmethod(np.exp2)

    formulas = (("g ⊙ o·ln 2", lambda s: s.g * s.o * math.log(2)),)

    def backward(self, g, out, a):
        return (g * (out * LN2),)


class Expm1(_Ufunc):
    name, ufunc = "expm1", staticmethod(np.expm1)

    formulas = (("g ⊙ (o + 1)", lambda s: s.g * (s.o + 1)),)

    def backward(self, g, out, a):
        return (g * (out + 1.0),)


class Erfc(Primitive):
    name = "erfc"

    def forward(self, a):
        return erfc_array(a)

    formulas = (("−g ⊙ 2/√π · exp(−{0}²)", lambda s: -s.g * 2 / math.sqrt(math.pi) * np.exp(-s.a * s.a)),)

    def backward(self, g, out, a):
        return (g * (call(Exp, -(a * a)) * -TWO_OVER_SQRT_PI),)


class Erfinv(Primitive):
    name = "erfinv"

    def forward(self, a):
        return erfinv_array(a)

    formulas = (("g ⊙ √π/2 · exp(o²)", lambda s: s.g * math.sqrt(math.pi) / 2 * np.exp(s.o * s.o)),)

    def backward(self, g, out, a):
        return (g * (call(Exp, out * out) * (math.sqrt(math.pi) / 2.0)),)


class Logit(Primitive):
    """``log(x / (1 - x))``; ``logit(eps=...)`` clamps first (``Clamp``: gradient 0 outside)."""

    name = "logit"

    def forward(self, a):
        with quiet():
            return np.log(a / (1.0 - a))

    formulas = (("g / ({0}(1 − {0}))  (±∞ at 0 and 1, nan outside [0, 1])", lambda s: _logit_back(s)),)

    def backward(self, g, out, a):
        ad = array(a)
        with quiet():  # torch: nan outside [0, 1], g * inf at 0 and 1 (-0.0 included)
            ga = call(Where, (ad == 0) | (ad == 1), g * math.inf, g / (a * (1.0 - a)))
            return (call(Where, (ad < 0) | (ad > 1), math.nan, ga),)


class NanToNum(Primitive):
    name = "nan_to_num"

    def forward(self, a):
        return np.nan_to_num(a, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    formulas = (("g ⊙ [{0} finite]", lambda s: np.where(np.isfinite(s.a), s.g, 0.0)),)

    def backward(self, g, out, a):
        return (call(Where, np.isfinite(array(a)), g, 0.0),)


# -- piecewise constant: zero gradient (torch: zeros shaped like the gradient, even where it is nan) --
class _Step(_Ufunc):
    formulas = (("0 (piecewise constant)", lambda s: np.zeros_like(s.g)),)

    def backward(self, g, out, a):
        return (call(Where, False, g, 0.0),)


class Floor(_Step):
    name, ufunc = "floor", staticmethod(np.floor)


class Ceil(_Step):
    name, ufunc = "ceil", staticmethod(np.ceil)


class Trunc(_Step):
    name, ufunc = "trunc", staticmethod(np.trunc)


class Sign(_Step):
    """-1, 0 or 1; 0 for nan, as torch."""

    name = "sign"

    def forward(self, a):
        out = np.sign(a)
        return np.where(np.isnan(a), 0, out).astype(a.dtype) if a.dtype.kind == "f" else out


class Round(_Step):
    """Round half to even, to ``decimals`` places (torch: scale by ``10 ** decimals``, round, unscale)."""

    name = "round"

    def forward(self, a):
        d = self.decimals
        if d == 0 or a.dtype.kind != "f":
            return np.round(a)
        with quiet():
            if d > 0:
                scale = a.dtype.type(10.0 ** d)
                return np.rint(a * scale) / scale
            scale = a.dtype.type(10.0 ** -d)
            return np.rint(a / scale) * scale


# -- binary math ---------------------------------------------------------------------------------------
class Atan2(Primitive):
    name = "atan2"

    def forward(self, a, b):
        return np.arctan2(a, b)

    formulas = (("g ⊙ {1} / ({0}² + {1}²)  (0 at the origin)",
                 lambda s: s.g * np.where((s.a == 0) & (s.b == 0), 0.0, s.b / (s.a ** 2 + s.b ** 2))),
                ("−g ⊙ {0} / ({0}² + {1}²)  (0 at the origin)",
                 lambda s: -s.g * np.where((s.a == 0) & (s.b == 0), 0.0, s.a / (s.a ** 2 + s.b ** 2))))

    def backward(self, g, out, a, b):
        ad, bd = array(a), array(b)
        with quiet():  # torch: the gradient at (0, 0) is 0
            recip = call(Where, (ad == 0) & (bd == 0), 0.0, 1.0 / (a * a + b * b))
            return g * b * recip, g * -a * recip


class Hypot(Primitive):
    name = "hypot"

    def forward(self, a, b):
        return np.hypot(a, b)

    formulas = (("g ⊙ {0} / o", lambda s: s.g * s.a / s.o), ("g ⊙ {1} / o", lambda s: s.g * s.b / s.o))

    def backward(self, g, out, a, b):
        with quiet():
            return g * a / out, g * b / out


class Copysign(Primitive):
    """``|a|`` with the sign of ``b``; gradient ``±1`` to ``a`` (0 where ``a == 0``), none to ``b``."""

    name = "copysign"

    def forward(self, a, b):
        return np.copysign(a, b)

    formulas = (("g ⊙ o / {0}  (0 where {0} = 0)", lambda s: np.where(s.a == 0, 0.0, s.g * s.o / s.a)),
                ("0 (only its sign is used)", zero))

    def backward(self, g, out, a, b):
        ad = array(a)
        with quiet():
            ratio = array(out) / ad
        return call(Where, ad == 0, 0.0, g * ratio), None


class Logaddexp(Primitive):
    name = "logaddexp"

    def forward(self, a, b):
        with quiet():
            return np.logaddexp(a, b)

    formulas = (("g / (1 + exp({1} − {0}))", lambda s: s.g / (1 + np.exp(s.b - s.a))),
                ("g / (1 + exp({0} − {1}))", lambda s: s.g / (1 + np.exp(s.a - s.b))))

    def backward(self, g, out, a, b):
        with quiet():
            return g / (1.0 + call(Exp, b - a)), g / (1.0 + call(Exp, a - b))


class Logaddexp2(Primitive):
    name = "logaddexp2"

    def forward(self, a, b):
        with quiet():
            return np.logaddexp2(a, b)

    formulas = (("g / (1 + 2^({1} − {0}))", lambda s: s.g / (1 + np.exp2(s.b - s.a))),
                ("g / (1 + 2^({0} − {1}))", lambda s: s.g / (1 + np.exp2(s.a - s.b))))

    def backward(self, g, out, a, b):
        with quiet():
            return g / (1.0 + call(Exp2, b - a)), g / (1.0 + call(Exp2, a - b))


class Xlogy(Primitive):
    """``x * log(y)``, 0 where ``x == 0`` (unless ``y`` is nan), as torch."""

    name = "xlogy"

    def forward(self, x, y):
        with quiet():
            return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y)).astype(np.result_type(x, y))

    formulas = (("g ⊙ log({1})  (0 where {0} = 0 and {1} ≤ 0)", lambda s: _xlogy_back(s)),
                ("g ⊙ {0} / {1}", lambda s: s.g * s.a / s.b))

    def backward(self, g, out, x, y):
        xd, yd = array(x), array(y)
        with quiet():
            # torch: xlogy(g, y), zeroed where x == 0 and y <= 0
            zero = ((xd == 0) & (yd <= 0)) | ((array(g) == 0) & ~np.isnan(yd))
            gx = call(Where, zero, 0.0, g * call(Log, y)) if self.needs[0] else None
            gy = g * x / y if self.needs[1] else None
        return gx, gy


class Fmod(Primitive):
    """C's ``fmod`` (the sign of the dividend); gradient ``g`` and ``-g * trunc(a / b)``, as torch."""

    name, mode, ufunc = "fmod", "trunc", staticmethod(np.fmod)

    def forward(self, a, b):
        _check_divisor(a, b, self.name)
        with quiet():
            return self.ufunc(a, b)

    formulas = (("g", lambda s: s.g), ("−g ⊙ trunc({0} / {1})", lambda s: -s.g * _quotient(s)))

    def backward(self, g, out, a, b):
        q = quotient(array(a), array(b), self.mode) if self.needs[1] else None
        return g, (None if q is None else -g * q)


class Remainder(Fmod):
    """Python's ``%`` (the sign of the divisor); gradient ``g`` and ``-g * floor(a / b)``, as torch."""

    name, mode, ufunc = "remainder", "floor", staticmethod(np.remainder)
    formulas = (("g", lambda s: s.g), ("−g ⊙ floor({0} / {1})", lambda s: -s.g * _quotient(s)))


class Fmax(Primitive):
    """``max`` ignoring nan; the gradient goes to ``a`` where ``a >= b`` or ``b`` is nan (torch)."""

    name, ufunc, wins = "fmax", staticmethod(np.fmax), staticmethod(np.greater_equal)

    def forward(self, a, b):
        return self.ufunc(a, b)

    formulas = (("g ⊙ [{0} ≥ {1} or {1} is nan]", lambda s: np.where(_fwins(s), s.g, 0.0)),
                ("g ⊙ [not ({0} ≥ {1} or {1} is nan)]", lambda s: np.where(_fwins(s), 0.0, s.g)))

    def backward(self, g, out, a, b):
        ad, bd = array(a), array(b)
        to_a = self.wins(ad, bd) | np.isnan(bd)
        return call(Where, to_a, g, 0.0), call(Where, to_a, 0.0, g)


class Fmin(Fmax):
    name, ufunc, wins = "fmin", staticmethod(np.fmin), staticmethod(np.less_equal)
    formulas = (("g ⊙ [{0} ≤ {1} or {1} is nan]", lambda s: np.where(_fwins(s), s.g, 0.0)),
                ("g ⊙ [not ({0} ≤ {1} or {1} is nan)]", lambda s: np.where(_fwins(s), 0.0, s.g)))


class ClampTensors(Primitive):
    """``min(max(x, lo), hi)`` with tensor bounds; torch's gradient split (``hi`` wins when
    ``lo > hi``). ``has_min``/``has_max`` say which bounds the user gave (the other is a filler)."""

    name = "clamp"

    def forward(self, x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi)

    formulas = (("g ⊙ [{1} ≤ {0} ≤ {2}]", lambda s: _clamp_bounds(s, 0)),
                ("g ⊙ [{0} < {1}]  (and {1} < {2})", lambda s: _clamp_bounds(s, 1)),
                ("g ⊙ [{0} > {2}]  (or {2} < {1})", lambda s: _clamp_bounds(s, 2)))

    def backward(self, g, out, x, lo, hi):
        xd, lod, hid = array(x), array(lo), array(hi)
        to_x = (xd >= lod) & (xd <= hid)
        to_lo = xd < lod
        to_hi = xd > hid
        if self.has_min and self.has_max:
            to_lo = to_lo & (lod < hid)
            to_hi = to_hi | (hid < lod)
        return (call(Where, to_x, g, 0.0), call(Where, to_lo, g, 0.0) if self.has_min else None,
                call(Where, to_hi, g, 0.0) if self.has_max else None)


# -- special functions on arrays -----------------------------------------------------------------------
_erfc1 = np.frompyfunc(math.erfc, 1, 1)


def erfc_array(x):
    """``erfc`` of a NumPy array to full precision (``1 - erf`` would lose the tail to cancellation)."""
    x = np.asarray(x)
    y = np.asarray(_erfc1(x.astype(np.float64)), dtype=np.float64)
    return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y


def erfinv_array(x):
    """``erfinv`` of a NumPy array: Giles' single-precision rational approximation ("Approximating the
    erfinv function", GPU Computing Gems, 2011) refined by Newton steps to float64 accuracy: on
    ``erf(y) - x`` for ``|x| <= 0.5``, and on ``log erfc(y) - log(1 - x)`` beyond (no cancellation near
    1, and fast from the approximation's rough start in the far tail). ``erfinv(+-1) = +-inf``."""
    x = np.asarray(x)
    flat = x.astype(np.float64).reshape(-1)
    ax = np.abs(flat)
    y = np.where(ax == 1.0, np.inf, np.nan)  # +-1 and, beyond, nan (the sign is put back below)
    with quiet():
        for part, newton in ((ax <= 0.5, _newton_on_erf), ((ax > 0.5) & (ax < 1.0), _newton_on_log_erfc)):
            a = ax[part]
            w = -np.log((1.0 - a) * (1.0 + a))
            start = a * np.where(w < 5.0, _horner(_GILES_CENTRAL, w - 2.5),
                                 _horner(_GILES_TAIL, np.sqrt(w) - 3.0))
            y[part] = newton(a, start)
    y = np.copysign(y, flat).reshape(x.shape)
    return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y.astype(np.float32)


def _newton_on_erf(a, y):
    for _ in range(3):
        y = y - (erf_array(y) - a) / (TWO_OVER_SQRT_PI * np.exp(-y * y))
    return y


def _newton_on_log_erfc(a, y):
    for _ in range(4):
        c = erfc_array(y)
        y = y + (np.log(c) - np.log1p(-a)) * c / (TWO_OVER_SQRT_PI * np.exp(-y * y))
    return y


_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coefs, w):
    p = np.full_like(w, coefs[0])
    for c in coefs[1:]:
        p = p * w + c
    return p


def _check_divisor(a, b, opname):
    """torch's errors for a rounded division of two bools, and for an integer division by zero (NumPy
    would warn and give 0)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == np.bool_ and b.dtype == np.bool_:
        raise NotImplementedError(f"{opname}: not defined for two bool tensors")
    if np.result_type(a, b).kind in "iub" and not np.all(b):
        raise RuntimeError("ZeroDivisionError: integer division or modulo by zero")


def quotient(a, b, rounding_mode):
    """``a / b`` rounded as ``torch.div(rounding_mode="trunc" | "floor")`` on arrays (integers stay
    integers; an integer division by zero raises torch's ``RuntimeError``)."""
    dt = np.result_type(a, b)
    if dt.kind in "iub":
        _check_divisor(a, b, "div")
        q = np.floor_divide(a, b)
        if rounding_mode == "trunc":  # floor rounds a negative inexact quotient one further from zero
            q = q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))
        return np.asarray(q, dtype=np.int64 if dt == np.bool_ else dt)
    with quiet():
        return np.floor_divide(a, b) if rounding_mode == "floor" else np.trunc(a / b)


# -- helpers for the methods ---------------------------------------------------------------------------
def operands(a, b, opname):
    """``a`` and ``b`` as Tensors of torch's result dtype for a binary op (at least one is a Tensor),
    or a TypeError."""
    like = first_tensor((a, b), opname)
    ta, tb = operand(a, like), operand(b, like)
    if ta is None or tb is None:
        bad = a if ta is None else b
        raise TypeError(f"{opname}(): unsupported operand type {type(bad).__name__}")
    dt = result_dtype(ta._data, tb._data)
    return ta.to(dt), tb.to(dt)


def broadcast_check(a, b, opname):
    """A ValueError naming both shapes when they do not broadcast (as ``binary`` in elementwise.py)."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"{opname}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _float_pair(a, b, opname):
    """The operands of a float-only binary op, as float32 when neither is floating."""
    ta, tb = operands(a, b, opname)
    if np.result_type(ta._data, tb._data).kind != "f":
        ta, tb = as_float(ta), as_float(tb)
    return ta, tb


def _other(self, other, opname):
    b = operand(other, self)
    if b is None:
        raise TypeError(f"{opname}(): argument 'other' must be a Tensor or a number, got "
                        f"{type(other).__name__}")
    return b


def _extremes(dt):
    """The lowest and highest values of dtype ``dt`` (the filler of a bound ``clamp`` was not given)."""
    if dt.kind == "f":
        return np.asarray(-np.inf, dt), np.asarray(np.inf, dt)
    if dt.kind == "b":
        return np.asarray(False), np.asarray(True)
    return np.asarray(np.iinfo(dt).min, dt), np.asarray(np.iinfo(dt).max, dt)


def _bool(self, values):
    return self._wrap(np.asarray(values, dtype=bool))


class PointwiseMethods:
    """``Tensor``'s pointwise math (trigonometric, rounding, special functions, comparisons)."""

    __slots__ = ()

    def tan(self):
        """Tangent, elementwise (same shape)."""
        return Tan.apply(as_float(self))

    def asin(self):
        """Inverse sine, elementwise (nan outside [-1, 1])."""
        return Asin.apply(as_float(self))

    def acos(self):
        """Inverse cosine, elementwise (nan outside [-1, 1])."""
        return Acos.apply(as_float(self))

    def atan(self):
        """Inverse tangent, elementwise."""
        return Atan.apply(as_float(self))

    def atan2(self, other):
        """``atan(self / other)`` in the right quadrant, broadcast (torch.atan2)."""
        return binary(Atan2, *_float_pair(self, other, "atan2"))

    def arctan2(self, other):
        """Alias of ``atan2``."""
        return self.atan2(other)

    def sinh(self):
        """Hyperbolic sine, elementwise."""
        return Sinh.apply(as_float(self))

    def cosh(self):
        """Hyperbolic cosine, elementwise."""
        return Cosh.apply(as_float(self))

    def asinh(self):
        """Inverse hyperbolic sine, elementwise."""
        return Asinh.apply(as_float(self))

    def acosh(self):
        """Inverse hyperbolic cosine, elementwise (nan below 1)."""
        return Acosh.apply(as_float(self))

    def atanh(self):
        """Inverse hyperbolic tangent, elementwise (+-inf at +-1, nan outside)."""
        return Atanh.apply(as_float(self))

    def floor(self):
        """Largest integer <= x, elementwise; zero gradient (integer tensors are returned as a copy)."""
        return Floor.apply(self) if self.dtype.kind == "f" else self._wrap(self._data.copy())

    def ceil(self):
        """Smallest integer >= x, elementwise; zero gradient."""
        return Ceil.apply(self) if self.dtype.kind == "f" else self._wrap(self._data.copy())

    def trunc(self):
        """x rounded toward zero, elementwise; zero gradient."""
        return Trunc.apply(self) if self.dtype.kind == "f" else self._wrap(self._data.copy())

    def fix(self):
        """Alias of ``trunc``."""
        return self.trunc()

    def round(self, decimals=0):
        """Round half to even to ``decimals`` places, elementwise; zero gradient."""
        if self.dtype.kind != "f":
            return self._wrap(self._data.copy())
        return Round.apply(self, decimals=int(decimals))

    def frac(self):
        """``x - trunc(x)``, elementwise (gradient 1); float tensors only, as torch."""
        if self.dtype.kind != "f":
            raise NotImplementedError(f"frac: not implemented for dtype {self.dtype} (needs a float tensor)")
        return self.fmod(1.0)  # exactly x - trunc(x), gradient 1

    def sign(self):
        """-1, 0 or 1 by the sign of x (nan stays nan); zero gradient. Bool stays bool."""
        if self.dtype == np.bool_:
            return self._wrap(self._data.copy())
        return Sign.apply(self)

    def sgn(self):
        """``sign`` (for real tensors they are the same)."""
        return self.sign()

    def copysign(self, other):
        """``|self|`` with the sign of ``other`` (-0.0 counts as negative), broadcast."""
        return binary(Copysign, *_float_pair(self, other, "copysign"))

    def signbit(self):
        """True where the sign bit is set (negative numbers and -0.0): a bool tensor."""
        return _bool(self, np.signbit(self._data))

    def rsqrt(self):
        """``1 / sqrt(x)``, elementwise."""
        return Rsqrt.apply(as_float(self))

    def reciprocal(self):
        """``1 / x``, elementwise (float32 for integer input)."""
        return 1.0 / as_float(self)

    def square(self):
        """``x * x``, elementwise (integers stay integers; bool gives int64)."""
        return (self.long() if self.dtype == np.bool_ else self) ** 2

    def erf(self):
        """The error function, elementwise."""
        return Erf.apply(as_float(self))

    def erfc(self):
        """``1 - erf(x)``, computed without cancellation, elementwise."""
        return Erfc.apply(as_float(self))

    def erfinv(self):
        """The inverse error function on (-1, 1), elementwise (+-inf at +-1, nan outside)."""
        return Erfinv.apply(as_float(self))

    def log2(self):
        """Base-2 logarithm, elementwise."""
        return Log2.apply(as_float(self))

    def log10(self):
        """Base-10 logarithm, elementwise."""
        return Log10.apply(as_float(self))

    def log1p(self):
        """``log(1 + x)``, accurate for small x, elementwise."""
        return Log1p.apply(as_float(self))

    def exp2(self):
        """``2 ** x``, elementwise."""
        return Exp2.apply(as_float(self))

    def expm1(self):
        """``exp(x) - 1``, accurate for small x, elementwise."""
        return Expm1.apply(as_float(self))

    def logaddexp(self, other):
        """``log(exp(self) + exp(other))`` without overflow, broadcast."""
        return binary(Logaddexp, *_float_pair(self, other, "logaddexp"))

    def logaddexp2(self, other):
        """``log2(2 ** self + 2 ** other)`` without overflow, broadcast."""
        return binary(Logaddexp2, *_float_pair(self, other, "logaddexp2"))

    def logit(self, eps=None):
        """``log(x / (1 - x))``; with ``eps``, x is first clamped to ``[eps, 1 - eps]``."""
        x = as_float(self)
        if eps is not None:
            x = x.clamp(eps, 1.0 - eps)
        return Logit.apply(x)

    def xlogy(self, other):
        """``self * log(other)``, 0 where ``self == 0`` (unless ``other`` is nan), broadcast."""
        return binary(Xlogy, *_float_pair(self, other, "xlogy"))

    def hypot(self, other):
        """``sqrt(self ** 2 + other ** 2)`` without overflow, broadcast."""
        return binary(Hypot, *_float_pair(self, other, "hypot"))

    def lerp(self, end, weight):
        """``self + weight * (end - self)``, broadcast (``weight`` a number or a tensor)."""
        return self + weight * (end - self)

    def addcmul(self, tensor1, tensor2, value=1):
        """``self + value * tensor1 * tensor2``, broadcast."""
        return self + value * (tensor1 * tensor2)

    def addcdiv(self, tensor1, tensor2, value=1):
        """``self + value * tensor1 / tensor2``, broadcast."""
        return self + value * (tensor1 / tensor2)

    def fmod(self, other):
        """Remainder with the sign of ``self`` (C's fmod), broadcast; gradient 1 to ``self``."""
        return binary(Fmod, *operands(self, other, "fmod"))

    def remainder(self, other):
        """Remainder with the sign of ``other`` (Python's ``%``), broadcast; gradient 1 to ``self``."""
        return binary(Remainder, *operands(self, other, "remainder"))

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """nan, +inf, -inf replaced by ``nan``, ``posinf``, ``neginf`` (default: the dtype's extremes)."""
        if self.dtype.kind != "f":
            return self._wrap(self._data.copy())
        return NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)

    def isnan(self):
        """True where x is nan: a bool tensor."""
        return _bool(self, np.isnan(self._data))

    def isinf(self):
        """True where x is +inf or -inf: a bool tensor."""
        return _bool(self, np.isinf(self._data))

    def isposinf(self):
        """True where x is +inf: a bool tensor."""
        return _bool(self, np.isposinf(self._data))

    def isneginf(self):
        """True where x is -inf: a bool tensor."""
        return _bool(self, np.isneginf(self._data))

    def isfinite(self):
        """True where x is neither inf nor nan: a bool tensor."""
        return _bool(self, np.isfinite(self._data))

    def isreal(self):
        """True everywhere (chainrule's tensors are real): a bool tensor."""
        return _bool(self, np.ones(self.shape, dtype=bool))

    def float_power(self, exponent):
        """``self ** exponent`` computed in float64 (torch.float_power), broadcast."""
        if isinstance(exponent, TensorBase):
            return self.double() ** exponent.double()
        return self.double() ** exponent

    def fmax(self, other):
        """Elementwise maximum that ignores nan (nan only where both are nan), broadcast."""
        return binary(Fmax, *operands(self, other, "fmax"))

    def fmin(self, other):
        """Elementwise minimum that ignores nan, broadcast."""
        return binary(Fmin, *operands(self, other, "fmin"))

    def maximum(self, other):
        """Elementwise maximum (nan propagates; ties split the gradient), broadcast."""
        return maximum(self, other)

    def minimum(self, other):
        """Elementwise minimum (nan propagates; ties split the gradient), broadcast."""
        return minimum(self, other)

    def clip(self, min=None, max=None):
        """Alias of ``clamp`` (bounds may be numbers or tensors)."""
        return self.clamp(min, max)

    def clamp_min(self, min):
        """``clamp(min=min)``."""
        return self.clamp(min=min)

    def clamp_max(self, max):
        """``clamp(max=max)``."""
        return self.clamp(max=max)

    def _clamp_tensors(self, min, max):
        """``clamp`` where a bound is a tensor: one ``ClampTensors`` node, torch's gradients."""
        dt = self.dtype
        for b in (min, max):
            if b is not None:
                dt = result_dtype(np.asarray(self._data, dtype=dt), operand(b, self)._data)
        low, high = _extremes(dt)
        lo = operand(min, self).to(dt) if min is not None else self._wrap(low)
        hi = operand(max, self).to(dt) if max is not None else self._wrap(high)
        x = self.to(dt)
        try:
            np.broadcast_shapes(self.shape, lo.shape, hi.shape)
        except ValueError:
            raise ValueError(f"clamp: shapes {self.shape}, {lo.shape} and {hi.shape} cannot be "
                             "broadcast together") from None
        return ClampTensors.apply(x, lo, hi, has_min=min is not None, has_max=max is not None)

    def eq(self, other):
        """``self == other`` elementwise: a bool tensor."""
        return self == _other(self, other, "eq")

    def ne(self, other):
        """``self != other`` elementwise: a bool tensor."""
        return self != _other(self, other, "ne")

    def lt(self, other):
        """``self < other`` elementwise: a bool tensor."""
        return self < _other(self, other, "lt")

    def le(self, other):
        """``self <= other`` elementwise: a bool tensor."""
        return self <= _other(self, other, "le")

    def gt(self, other):
        """``self > other`` elementwise: a bool tensor."""
        return self > _other(self, other, "gt")

    def ge(self, other):
        """``self >= other`` elementwise: a bool tensor."""
        return self >= _other(self, other, "ge")

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """``|self - other| <= atol + rtol * |other|`` elementwise (infinities equal themselves)."""
        b = _other(self, other, "isclose")
        if isinstance(other, TensorBase) and self.dtype != b.dtype:
            raise RuntimeError(f"isclose(): expected both inputs to have the same dtype, but got "
                               f"{self.dtype} and {b.dtype}")
        x, y = np.broadcast_arrays(self._data, b._data)
        close = x == y
        if equal_nan:
            close |= np.isnan(x) & np.isnan(y)
        with quiet():
            err = np.abs(x.astype(np.float64) - y)
            close |= np.isfinite(err) & (err <= atol + np.abs(rtol * y.astype(np.float64)))
        return _bool(self, close)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True when ``isclose`` holds everywhere: a Python bool."""
        return bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def equal(self, other):
        """True when ``other`` has the same shape and the same values (nan differs): a Python bool."""
        o = _other(self, other, "equal")
        return self.shape == o.shape and bool(np.all(self._data == o._data))


# -- module functions: torch.NAME(input, ...) is input.NAME(...) ----------------------------------------
def _function(name, methods=None):
    """``autograd.NAME``: the mirror of ``PointwiseMethods.NAME`` (or of ``methods``)."""
    return mirror(name, methods or PointwiseMethods)


__all__ = ["tan", "asin", "acos", "atan", "atan2", "arctan2", "sinh", "cosh", "asinh", "acosh",
           "atanh", "floor", "ceil", "trunc", "fix", "round", "frac", "sign", "sgn", "copysign",
           "signbit", "rsqrt", "reciprocal", "square", "erf", "erfc", "erfinv", "log2", "log10", "log1p",
           "exp2", "expm1", "logaddexp", "logaddexp2", "logit", "xlogy", "hypot", "lerp", "addcmul",
           "addcdiv", "fmod", "remainder", "nan_to_num", "isnan", "isinf", "isposinf", "isneginf",
           "isfinite", "isreal", "float_power", "fmax", "fmin", "clip", "clamp_min", "clamp_max", "eq",
           "ne", "lt", "le", "gt", "ge", "isclose", "allclose", "equal"]
globals().update({name: _function(name) for name in __all__})
clamp = _function("clamp", ElementwiseMethods)
__all__.append("clamp")


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _logit_back(s):
    """logit's gradient ``g / (x (1 − x))``: ±inf at 0 and 1, nan outside [0, 1] (torch)."""
    x = s.a
    inner = np.where((x == 0) | (x == 1), s.g * np.inf, s.g / (x * (1 - x)))
    return np.where((x < 0) | (x > 1), np.nan, inner)


def _xlogy_back(s):
    """xlogy's gradient for ``x``: ``g ⊙ log(y)``, 0 where ``x = 0`` and ``y ≤ 0`` or ``g = 0``."""
    x, y = s.a, s.b
    zero = ((x == 0) & (y <= 0)) | ((s.g == 0) & ~np.isnan(y))
    return np.where(zero, 0.0, s.g * np.log(y))


def _quotient(s):
    """The rounded quotient ``a / b``: truncated (fmod) or floored (remainder)."""
    q = s.a / s.b
    return np.trunc(q) if s.fn.mode == "trunc" else np.floor(q)


def _fwins(s):
    """Where ``fmax``/``fmin``'s gradient goes to its first input: it wins, or the other is nan."""
    wins = s.a >= s.b if s.fn.name == "fmax" else s.a <= s.b
    return wins | np.isnan(s.b)


def _clamp_bounds(s, which):
    """``clamp(x, lo, hi)`` with tensor bounds: x inside, lo below, hi above (hi wins when lo > hi)."""
    x, lo, hi = s.x
    if which == 0:
        return s.g * ((x >= lo) & (x <= hi))
    both = s.fn.has_min and s.fn.has_max
    if which == 1:
        return s.g * ((x < lo) & (lo < hi) if both else x < lo)
    return s.g * ((x > hi) | (hi < lo) if both else x > hi)
