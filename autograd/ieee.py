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
    try:
        r = x ** y
    except ZeroDivisionError:  # 0 ** negative
        odd = y == int(y) and int(y) % 2 == 1
        return math.copysign(inf, x) if odd else inf
    except OverflowError:
        odd = y == int(y) and int(y) % 2 == 1
        return -inf if (x < 0 and odd) else inf
    if isinstance(r, complex):  # negative ** fraction
        return nan
    return r


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


def tanh(x):
    return math.tanh(x)


def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
