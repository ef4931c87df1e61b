"""Integer and bitwise ops: ``// % & | ^ << >> ~``, ``div(rounding_mode=...)``, ``floor_divide``,
``bitwise_*`` and ``logical_*``, with torch's result dtypes.

Bitwise results are integer or bool, so nothing flows back through them. Rounded division of floats is
recorded with a zero gradient (torch's ``div(rounding_mode=...)`` rule); ``%`` is ``remainder``, with its
gradient. Bitwise ops on float tensors raise torch's ``NotImplementedError`` (a ``RuntimeError``),
``~`` torch's ``TypeError``.
"""
import numpy as np

from ..primitive import Primitive, call
from ._util import operand
from .elementwise import ElementwiseMethods, Where
from .pointwise import _function, broadcast_check, operands, quotient
from ._formulas import zero


class RoundedDiv(Primitive):
    """``a / b`` rounded by ``rounding_mode`` ("trunc" or "floor"); zero gradients, as torch."""

    name = "div"

    def forward(self, a, b):
        return quotient(a, b, self.rounding_mode)

    formulas = (("0 (a rounded quotient is piecewise constant)", zero),
                ("0 (a rounded quotient is piecewise constant)", zero))

    def backward(self, g, out, a, b):
        zero = call(Where, False, g, 0.0)
        return zero, zero


def _integer_operands(a, b, opname):
    """The operands of a bitwise op, or torch's error when either is a float tensor."""
    ta, tb = operands(a, b, opname)
    for t in (ta, tb):
        if t.dtype.kind == "f":
            raise NotImplementedError(f"{opname}: expected an integer or bool tensor, got dtype {t.dtype} "
                                      "(bitwise ops are not defined for floats)")
    return ta, tb


def _bitwise(ufunc, a, b, opname):
    ta, tb = _integer_operands(a, b, opname)
    broadcast_check(ta, tb, opname)
    return ta._wrap(np.asarray(ufunc(ta._data, tb._data)))


def _shift(a, b, opname, left):
    """``a << b`` or ``a >> b`` as torch: shifting by a negative amount or by the width or more gives 0
    (``-1`` for a negative ``a`` shifted right)."""
    ta, tb = _integer_operands(a, b, opname)
    broadcast_check(ta, tb, opname)
    x, n = np.broadcast_arrays(ta._data, tb._data)
    dt = np.result_type(x, n)
    if dt == np.bool_:
        raise NotImplementedError(f"{opname}: expected an integer tensor, got bool")
    x, n = x.astype(dt), n.astype(dt)
    bits = dt.itemsize * 8
    out_of_range = (n < 0) | (n >= bits)
    safe = np.where(out_of_range, 0, n)
    if left:
        out = np.where(out_of_range, 0, np.left_shift(x, safe))
    else:
        out = np.where(out_of_range, np.where(x < 0, -1, 0), np.right_shift(x, safe))
    return ta._wrap(np.asarray(out, dtype=dt))


def _logical(ufunc, a, b, opname):
    ta, tb = operands(a, b, opname)
    broadcast_check(ta, tb, opname)
    return ta._wrap(np.asarray(ufunc(ta._data != 0, tb._data != 0)))


def _rounded_div(a, b, rounding_mode):
    """``div(a, b, rounding_mode)`` of two Tensors (``None`` is true division)."""
    if rounding_mode is None:
        return a / b
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"{rounding_mode!r}")
    broadcast_check(a, b, "div")
    return RoundedDiv.apply(a, b, rounding_mode=rounding_mode)


class BitwiseMethods:
    """``Tensor``'s integer division and bitwise operators and methods (broadcast, torch's dtypes)."""

    __slots__ = ()

    def _div_rounded(self, other, rounding_mode):
        """``div`` with a ``rounding_mode`` (called by ``Tensor.div``)."""
        return _rounded_div(*operands(self, other, "div"), rounding_mode)

    def __floordiv__(self, other):
        """``self // other``: the quotient rounded down (``div(rounding_mode="floor")``)."""
        if operand(other, self) is None:
            return NotImplemented
        return _rounded_div(*operands(self, other, "floor_divide"), "floor")

    def __rfloordiv__(self, other):
        """``other // self``."""
        if operand(other, self) is None:
            return NotImplemented
        return _rounded_div(*operands(other, self, "floor_divide"), "floor")

    def __mod__(self, other):
        """``self % other``: ``remainder`` (the sign of ``other``)."""
        return NotImplemented if operand(other, self) is None else self.remainder(other)

    def __rmod__(self, other):
        """``other % self``: ``remainder``."""
        a = operand(other, self)
        return NotImplemented if a is None else a.remainder(self)

    def floor_divide(self, other):
        """``self // other``, broadcast."""
        return _rounded_div(*operands(self, other, "floor_divide"), "floor")

    def __and__(self, other):
        """``self & other``: bitwise and of integer or bool tensors."""
        return self.bitwise_and(other)

    def __rand__(self, other):
        """``other & self``."""
        return self.bitwise_and(other)

    def __or__(self, other):
        """``self | other``: bitwise or of integer or bool tensors."""
        return self.bitwise_or(other)

    def __ror__(self, other):
        """``other | self``."""
        return self.bitwise_or(other)

    def __xor__(self, other):
        """``self ^ other``: bitwise exclusive or of integer or bool tensors."""
        return self.bitwise_xor(other)

    def __rxor__(self, other):
        """``other ^ self``."""
        return self.bitwise_xor(other)

    def __lshift__(self, other):
        """``self << other``: integers shifted left."""
        return self.bitwise_left_shift(other)

    def __rlshift__(self, other):
        """``other << self``."""
        return _shift(other, self, "bitwise_left_shift", left=True)

    def __rshift__(self, other):
        """``self >> other``: integers shifted right (arithmetic shift)."""
        return self.bitwise_right_shift(other)

    def __rrshift__(self, other):
        """``other >> self``."""
        return _shift(other, self, "bitwise_right_shift", left=False)

    def __invert__(self):
        """``~self``: bitwise not of an integer tensor, logical not of a bool tensor."""
        return self.bitwise_not()

    def bitwise_and(self, other):
        """Bitwise and, broadcast (integer or bool tensors)."""
        return _bitwise(np.bitwise_and, self, other, "bitwise_and")

    def bitwise_or(self, other):
        """Bitwise or, broadcast (integer or bool tensors)."""
        return _bitwise(np.bitwise_or, self, other, "bitwise_or")

    def bitwise_xor(self, other):
        """Bitwise exclusive or, broadcast (integer or bool tensors)."""
        return _bitwise(np.bitwise_xor, self, other, "bitwise_xor")

    def bitwise_not(self):
        """Bitwise not (logical not for bool), elementwise."""
        if self.dtype.kind == "f":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors, "
                            f"got dtype {self.dtype}")
        return self._wrap(np.invert(self._data))

    def bitwise_left_shift(self, other):
        """``self * 2 ** other`` for integers, broadcast (0 once shifted past the width)."""
        return _shift(self, other, "bitwise_left_shift", left=True)

    def bitwise_right_shift(self, other):
        """Arithmetic right shift of integers, broadcast."""
        return _shift(self, other, "bitwise_right_shift", left=False)

    def logical_and(self, other):
        """True where both are nonzero: a bool tensor, broadcast."""
        return _logical(np.logical_and, self, other, "logical_and")

    def logical_or(self, other):
        """True where either is nonzero: a bool tensor, broadcast."""
        return _logical(np.logical_or, self, other, "logical_or")

    def logical_xor(self, other):
        """True where exactly one is nonzero: a bool tensor, broadcast."""
        return _logical(np.logical_xor, self, other, "logical_xor")

    def logical_not(self):
        """True where x is zero: a bool tensor."""
        return self._wrap(self._data == 0)


__all__ = ["floor_divide", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "logical_not"]
globals().update({name: _function(name, BitwiseMethods) for name in __all__})
div = _function("div", ElementwiseMethods)
__all__.append("div")
