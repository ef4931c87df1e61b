"""Float math that follows IEEE 754 / PyTorch instead of raising (``1/0 -> inf``, ``log(-1) -> nan``).

Python's ``math`` module and float operators raise on these inputs; the scalar engine must not.
Every function also accepts a ``Value`` and then simply applies the ``Value`` operation.
"""
import math
import numbers

inf, nan = math.inf, math.nan


def div(x, y):
    try:
        return x / y
    except ZeroDivisionError:  # only floats get here: y == 0.0
        if x != x or x == 0:
            return nan
        return math.copysign(inf, x) * math.copysign(1.0, y)


def pow(x, y):
    """``x ** y`` as C99/IEEE ``pow``: a negative finite base with a finite non-integer exponent is
    ``nan`` even where the magnitude overflows or underflows (``(-1e200) ** 2.5``)."""
    if isinstance(x, float) and isinstance(y, float) and x < 0 and _fractional(y) and x != -inf:
        return nan
    try:
        r = x ** y
    except ZeroDivisionError:  # 0 ** negative
        return math.copysign(inf, x) if _odd(y) else inf
    except OverflowError:
        return -inf if (x < 0 and _odd(y)) else inf
    if isinstance(r, complex):  # negative ** fraction (ints or NumPy scalars a user stored in .data)
        return nan
    return r


def _fractional(y):
    return math.isfinite(y) and not y.is_integer()


def _odd(y):
    return math.isfinite(y) and y.is_integer() and int(y) % 2 == 1


def exp(x):
    if not isinstance(x, float):
        if not isinstance(x, numbers.Real):
            return x.exp()
        x = float(x)  # an int or NumPy scalar a user stored in .data
    try:
        return math.exp(x)
    except OverflowError:
        return inf


def log(x):
    if not isinstance(x, float):
        if not isinstance(x, numbers.Real):
            return x.log()
        x = float(x)  # an int or NumPy scalar a user stored in .data
    if x > 0:
        return math.log(x)
    if x == 0:
        return -inf
    return nan  # negative or nan


def sqrt(x):
    if not isinstance(x, float):
        if not isinstance(x, numbers.Real):
            return x.sqrt()
        x = float(x)  # an int or NumPy scalar a user stored in .data
    return nan if x < 0 else math.sqrt(x)  # math.sqrt(nan) is nan


def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
