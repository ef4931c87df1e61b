"""``Value``: the scalar engine, a superset of micrograd's ``Value``.

Each operation computes its result and records its parents and its gradient rule. A rule
``rule(g, out, *parents)`` returns one gradient per parent; it is written once and runs either on
floats (plain backward) or on ``Value``s (``create_graph=True``, so gradients can be differentiated
again). Floats follow IEEE 754 (``nan``/``inf``), never a Python math exception.

Speed note: on big scalar graphs Python's cyclic garbage collector, not the arithmetic, is what makes
an engine slow: it re-walks every live node, more often as the graph grows. So a node is one small
object: parents in two slots (``_a``, ``_b``; for ``**k`` the constant ``k`` sits in ``_b``) rather
than in a tuple, no closure, and only the slots a node needs set at creation (``label`` stays unset
until someone names the node).
"""
import math
import numbers

from . import ieee
from .engine import FREED, freed_rule as _freed, run_backward
from .grad_mode import _state as _grad_state

_new = object.__new__


def _data(x):
    return x.data if isinstance(x, Value) else x


def _node(data, a, b, rule):
    """A new Value computed by ``rule``'s op from parents ``a`` and ``b`` (``b`` None for unary ops)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._deps = None
    if _grad_state.enabled:
        out._a, out._b, out._rule = a, b, rule
    else:
        out._a = out._b = out._rule = None
    return out


class Value:
    """A scalar that remembers how it was computed. ``Value(data, label="")``.

    ``.data`` (float), ``.grad`` (float, ``0.0`` until a backward pass reaches it), ``.label``,
    ``._prev`` (parents in operand order), ``._op`` (name of the op that made it, ``""`` for a leaf).
    """

    __slots__ = ("data", "grad", "_label", "_a", "_b", "_rule", "_deps", "_g", "__weakref__")
    __array_ufunc__ = None  # NumPy scalars defer to our reflected operators
    _keeps_graph = True     # autograd.grad keeps a Value graph unless retain_graph=False (as backward)

    def __init__(self, data, label=""):
        if type(data) is not float:
            if isinstance(data, numbers.Real) and not isinstance(data, Value):
                data = float(data)
            else:
                hint = " (use .data to copy a Value)" if isinstance(data, Value) else ""
                raise TypeError(
                    f"Value data must be a real number, got {type(data).__name__} {data!r}{hint}")
        self.data = data
        self.grad = 0.0
        if label or type(label) is not str:  # "" is the default: leave the slot unset
            self.label = label
        self._a = self._b = self._rule = self._deps = None

    @property
    def label(self):
        """A name for drawings and ``repr`` (``""`` unless set)."""
        try:
            return self._label
        except AttributeError:
            return ""

    @label.setter
    def label(self, label):
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self._label = label

    @property
    def _prev(self):
        """Parents in operand order: ``()`` for a leaf, ``(a,)`` or ``(a, b)``."""
        a = self._a
        if a is None:
            return FREED if self._rule is _freed else ()
        b = self._b
        return (a,) if b is None or type(b) is float else (a, b)  # a float b: the k of ``**k``

    @property
    def _op(self):
        """The op's name as micrograd writes it (``"+"``, ``"*"``, ``"**2"``, ``"tanh"``...)."""
        rule = self._rule
        if rule is None:
            return ""
        if rule is _pow_const_rule:
            return f"**{self._b:g}"
        return rule.op

    # -- binary operators (each with its reversed form); numbers become constant leaves -------
    def __add__(self, other):
        if type(other) is not Value:
            other = _operand(other)
            if other is NotImplemented:
                return other
        return _node(self.data + other.data, self, other, _add_rule)

    def __radd__(self, other):
        other = _operand(other)
        return other if other is NotImplemented else other.__add__(self)

    def __sub__(self, other):
        if type(other) is not Value:
            other = _operand(other)
            if other is NotImplemented:
                return other
        return _node(self.data - other.data, self, other, _sub_rule)

    def __rsub__(self, other):
        other = _operand(other)
        return other if other is NotImplemented else other.__sub__(self)

    def __mul__(self, other):
        if type(other) is not Value:
            other = _operand(other)
            if other is NotImplemented:
                return other
        return _node(self.data * other.data, self, other, _mul_rule)

    def __rmul__(self, other):
        other = _operand(other)
        return other if other is NotImplemented else other.__mul__(self)

    def __truediv__(self, other):
        if type(other) is not Value:
            other = _operand(other)
            if other is NotImplemented:
                return other
        return _node(ieee.div(self.data, other.data), self, other, _div_rule)

    def __rtruediv__(self, other):
        other = _operand(other)
        return other if other is NotImplemented else other.__truediv__(self)

    def __pow__(self, other):
        """``v ** 2`` has one parent (micrograd's ``**2`` node); ``v ** w`` with a ``Value`` has two."""
        if isinstance(other, Value):
            return _node(ieee.pow(self.data, other.data), self, other, _pow_rule)
        if isinstance(other, numbers.Real):
            k = float(other)
            return _node(ieee.pow(self.data, k), self, k, _pow_const_rule)
        return NotImplemented

    def __rpow__(self, other):
        other = _operand(other)
        return other if other is NotImplemented else other.__pow__(self)

    def __neg__(self):
        return _node(-self.data, self, None, _neg_rule)

    def __pos__(self):
        return self

    def __abs__(self):
        return _node(abs(self.data), self, None, _abs_rule)

    # -- functions ----------------------------------------------------------------------------
    def relu(self):
        x = self.data
        return _node(0.0 if x < 0 else x, self, None, _relu_rule)  # nan stays nan, as in torch

    def tanh(self):
        return _node(math.tanh(self.data), self, None, _tanh_rule)

    def sigmoid(self):
        return _node(ieee.sigmoid(self.data), self, None, _sigmoid_rule)

    def exp(self):
        return _node(ieee.exp(self.data), self, None, _exp_rule)

    def log(self):
        return _node(ieee.log(self.data), self, None, _log_rule)

    def sqrt(self):
        return _node(ieee.sqrt(self.data), self, None, _sqrt_rule)

    # -- backward -------------------------------------------------------------------------------
    def backward(self, gradient=1.0, retain_graph=True, create_graph=False):
        """Accumulate d(self)/d(node) into ``.grad`` of every node reached (leaves and intermediates).

        Gradients add up across calls, as in micrograd and PyTorch; nothing zeroes them but the user.
        With ``create_graph=True`` the gradients are ``Value``s with a graph of their own.
        """
        run_backward([self], [self._root_grad(gradient, create_graph)], retain_graph, create_graph)

    def _root_grad(self, gradient, create_graph):
        if gradient is None:
            gradient = 1.0
        if isinstance(gradient, Value):
            return gradient if create_graph else gradient.data
        if not isinstance(gradient, numbers.Real):
            raise TypeError(f"gradient must be a number or a Value, got {type(gradient).__name__}")
        return Value(gradient) if create_graph else float(gradient)

    def _vjp(self, g, create_graph):
        a, b = self._a, self._b
        if b is None:
            return self._rule(g, self, a) if create_graph else self._rule(g, self.data, a.data)
        if type(b) is float:  # the constant exponent of ``**k``
            return self._rule(g, self, a, b) if create_graph else self._rule(g, self.data, a.data, b)
        return self._rule(g, self, a, b) if create_graph else self._rule(g, self.data, a.data, b.data)

    def _accumulate(self, g):
        grad = self.grad
        self.grad = g if (grad == 0.0 and type(grad) is float) else grad + g

    def _release(self):
        self._a = self._b = None
        self._rule = _freed

    def _as_grad(self, g, create_graph):
        return g if isinstance(g, Value) else Value(g)

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"


def _operand(x):
    """Wrap a number as a constant leaf (as micrograd does); other types are not ours."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return Value(float(x))
    return NotImplemented


# -- gradient rules: g is the gradient of the output, out the output, then the parents -------------
# Each runs on floats or on Values; ``ieee`` helpers keep the float path free of exceptions.
def _rule(op, *partials):
    """Name a rule ``op``; ``partials`` are its formulas, one per parent: the local derivative
    d(out)/d(parent) as a Python expression in ``a``, ``b`` (the parents), ``o`` (the output) and ``k``
    (the constant exponent), read by ``autograd.explain``/``explore`` and checked against the rule."""
    def register(fn):
        fn.op = op
        fn.partials = partials
        return fn
    return register


@_rule("+", "1", "1")
def _add_rule(g, out, a, b):
    return g, g


@_rule("-", "1", "-1")
def _sub_rule(g, out, a, b):
    return g, -g


@_rule("*", "b", "a")
def _mul_rule(g, out, a, b):
    return g * b, g * a


@_rule("/", "1 / b", "-o / b")
def _div_rule(g, out, a, b):
    return ieee.div(g, b), -g * ieee.div(out, b)  # torch: -g * ((a / b) / b)


def _masked(g):
    """The gradient torch selects (never multiplies) where a rule's mask is off: 0, even for g = inf/nan."""
    return Value(0.0) if isinstance(g, Value) else 0.0


@_rule("**", "b * a**(b - 1)", "o * log(a)")
def _pow_rule(g, out, a, b):
    # torch's masks: no gradient to a when b == 0 (selected); none to b where a == 0 and b >= 0, but
    # that one torch multiplies in (grad * where(mask, 0, out * log(a))), so nan/inf upstream gives nan
    ga = _masked(g) if _data(b) == 0 else g * (b * ieee.pow(a, b - 1.0))  # torch's grouping
    gb = g * (0.0 if (_data(a) == 0 and _data(b) >= 0) else out * ieee.log(a))
    return ga, gb


@_rule("**k", "k * a**(k - 1)")
def _pow_const_rule(g, out, a, k):
    return (_masked(g) if k == 0 else g * (k * ieee.pow(a, k - 1.0))),  # torch's grouping: 0 * inf is nan


@_rule("neg", "-1")
def _neg_rule(g, out, a):
    return (-g,)


@_rule("abs", "sign(a)")
def _abs_rule(g, out, a):
    x = _data(a)
    return (g * (1.0 if x > 0 else -1.0 if x < 0 else 0.0),)


@_rule("relu", "1 if o > 0 else 0")
def _relu_rule(g, out, a):
    return (_masked(g) if _data(out) <= 0 else g),  # torch's threshold_backward: nan passes g


@_rule("tanh", "1 - o**2")
def _tanh_rule(g, out, a):
    return (g * (1.0 - out * out),)


@_rule("sigmoid", "o * (1 - o)")
def _sigmoid_rule(g, out, a):
    return (g * (1.0 - out) * out,)


@_rule("exp", "o")
def _exp_rule(g, out, a):
    return (g * out,)


@_rule("log", "1 / a")
def _log_rule(g, out, a):
    return (ieee.div(g, a),)


@_rule("sqrt", "1 / (2 * o)")
def _sqrt_rule(g, out, a):
    return (ieee.div(g, 2.0 * out),)
