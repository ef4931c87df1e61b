"""Graph-level behaviour of ``Value``: reuse, accumulation, structure, deep graphs, grad modes."""
import gc
import math
import sys

import pytest

import autograd
from autograd import Value, no_grad

torch = pytest.importorskip("torch")


def tscalar(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


# -- reuse (diamonds) -----------------------------------------------------------------------------
def test_same_value_twice_in_one_op():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0
    c = Value(3.0)
    (c / c).backward()
    assert c.grad == 0.0
    d = Value(2.0)
    (d ** d).backward()
    assert math.isclose(d.grad, 4.0 * (1.0 + math.log(2.0)), rel_tol=1e-15)


def diamond(a, b):
    c = a * b          # used three times below
    d = c.tanh() + c
    e = c * d + a      # a reused at two depths
    return e * e - d / (1 + c * c)


def test_diamond_with_reused_intermediates_matches_torch():
    a, b = Value(0.7), Value(-1.2)
    out = diamond(a, b)
    out.backward()
    at, bt = tscalar(0.7), tscalar(-1.2)
    outt = diamond(at, bt)
    outt.backward()
    assert math.isclose(out.data, outt.item(), rel_tol=1e-12)
    assert math.isclose(a.grad, at.grad.item(), rel_tol=1e-12)
    assert math.isclose(b.grad, bt.grad.item(), rel_tol=1e-12)


def test_intermediates_get_grad_like_micrograd():
    a, b = Value(0.7), Value(-1.2)
    c = a * b
    d = c.tanh()
    out = d * a
    out.backward()
    at, bt = tscalar(0.7), tscalar(-1.2)
    ct = at * bt
    ct.retain_grad()
    dt = ct.tanh()
    dt.retain_grad()
    outt = dt * at
    outt.retain_grad()
    outt.backward()
    for ours, theirs in [(out, outt), (d, dt), (c, ct), (a, at), (b, bt)]:
        assert math.isclose(ours.grad, theirs.grad.item(), rel_tol=1e-12)
    assert out.grad == 1.0


def test_two_backward_calls_accumulate():
    a, b = Value(0.7), Value(-1.2)
    out = diamond(a, b)
    out.backward()
    first = a.grad, b.grad
    out.backward()
    at, bt = tscalar(0.7), tscalar(-1.2)
    outt = diamond(at, bt)
    outt.backward(retain_graph=True)
    outt.backward()
    assert math.isclose(a.grad, 2 * first[0], rel_tol=1e-15)
    assert math.isclose(b.grad, 2 * first[1], rel_tol=1e-15)
    assert math.isclose(a.grad, at.grad.item(), rel_tol=1e-12)
    assert math.isclose(b.grad, bt.grad.item(), rel_tol=1e-12)
    assert out.grad == 2.0  # the root's own grad accumulates too (micrograd resets it to 1)


def test_backward_with_explicit_gradient():
    a = Value(2.0)
    (a * a).backward(gradient=0.5)
    assert a.grad == 2.0
    b = Value(2.0)
    (b * 3).backward(gradient=Value(2.0))
    assert b.grad == 6.0


def test_only_the_user_zeroes_grads():
    a = Value(2.0)
    y = a * a
    y.backward()
    a.grad = 0.0
    y.grad = 0.0
    y.backward()
    assert a.grad == 4.0


# -- structure: _prev, _op, labels, repr ---------------------------------------------------------
def test_prev_is_a_tuple_in_operand_order():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    assert a._prev == ()
    for op in ["+", "-", "*", "/", "**"]:
        out = {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "**": a ** b}[op]
        assert type(out._prev) is tuple and out._prev == (a, b) and out._prev[0] is a
        out2 = {"+": b + a, "-": b - a, "*": b * a, "/": b / a, "**": b ** a}[op]
        assert out2._prev[0] is b and out2._prev[1] is a
        assert out._op == op
    assert (a * a)._prev == (a, a)
    assert (a.tanh())._prev == (a,)


def test_prev_with_numbers_holds_constant_leaves_in_operand_order():
    a = Value(3.0)
    left, right = (2 - a)._prev
    assert right is a and left._prev == () and left.data == 2.0
    first, second = (a / 4)._prev
    assert first is a and second.data == 4.0
    base, exponent = (2 ** a)._prev
    assert base.data == 2.0 and exponent is a


def test_prev_is_deterministic_across_builds():
    def build():
        xs = [Value(float(i), f"x{i}") for i in range(6)]
        y = (xs[0] * xs[1] + xs[2]).tanh() * xs[3] - xs[4] / xs[5]
        order, stack, seen = [], [y], set()
        while stack:
            n = stack.pop()
            if id(n) not in seen:
                seen.add(id(n))
                order.append((n.label, n._op, n.data))
                stack.extend(n._prev)
        return order
    assert build() == build() == build()


@pytest.mark.parametrize("expr, op", [
    (lambda v: v + 1, "+"), (lambda v: v - 1, "-"), (lambda v: v * 2, "*"), (lambda v: v / 2, "/"),
    (lambda v: v ** 2, "**2"), (lambda v: v ** 0.5, "**0.5"), (lambda v: v ** -1, "**-1"),
    (lambda v: v ** Value(2.0), "**"), (lambda v: 2 ** v, "**"), (lambda v: -v, "neg"),
    (lambda v: abs(v), "abs"), (lambda v: v.relu(), "relu"), (lambda v: v.tanh(), "tanh"),
    (lambda v: v.sigmoid(), "sigmoid"), (lambda v: v.exp(), "exp"), (lambda v: v.log(), "log"),
    (lambda v: v.sqrt(), "sqrt"),
])
def test_op_names(expr, op):
    assert Value(2.0)._op == ""
    assert expr(Value(2.0))._op == op


def test_labels_and_repr():
    a = Value(2.0, label="a")
    b = Value(3.0)
    assert a.label == "a" and b.label == ""
    c = a * b
    c.label = "c"
    assert c.label == "c"
    c.backward()
    assert repr(a) == "Value(data=2.0, grad=3.0, label='a')"
    assert repr(b) == "Value(data=3.0, grad=2.0)"


def test_unary_plus_is_identity():
    a = Value(2.0)
    assert +a is a


# -- deep graphs -------------------------------------------------------------------------------
def test_million_node_chain_at_default_recursion_limit():
    n = 10 ** 6
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default, whatever the test runner set
    try:
        x0, w = Value(1.0), Value(1.0000001)
        x = x0
        for _ in range(n):
            x = x * w
        x.backward()
        assert math.isclose(x.data, w.data ** n, rel_tol=1e-9)
        assert math.isclose(x0.grad, w.data ** n, rel_tol=1e-9)
        assert math.isclose(w.grad, n * w.data ** (n - 1), rel_tol=1e-8)
        del x  # freeing a million-deep chain must not overflow the C stack either
        gc.collect()
    finally:
        sys.setrecursionlimit(limit)


def test_deep_chain_second_order():
    n = 20000
    x = Value(0.5)
    y = x
    for _ in range(n):
        y = y * 1.0 + 0.0
    y = y * y * y
    (d1,) = autograd.grad(y, x, create_graph=True)
    (d2,) = autograd.grad(d1, x)
    assert math.isclose(d1.data, 3 * 0.25) and math.isclose(d2.data, 6 * 0.5)


def test_wide_graph():
    xs = [Value(float(i)) for i in range(20000)]
    total = sum(xs)
    total.backward()
    assert all(x.grad == 1.0 for x in xs)
    assert total.data == sum(range(20000))


# -- retain_graph, no_grad, autograd.grad ---------------------------------------------------------
def test_second_backward_after_retain_graph_false_raises():
    a = Value(2.0)
    y = (a * a).tanh() + a
    y.backward(retain_graph=False)
    first = a.grad
    assert first != 0.0
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    assert a.grad == first


def test_default_backward_retains_graph_like_micrograd():
    a = Value(2.0)
    y = a * a
    y.backward()
    y.backward()
    assert a.grad == 8.0


def test_no_grad_makes_leaves():
    a = Value(2.0)
    with no_grad():
        assert not autograd.is_grad_enabled()
        b = a * 3 + 1
        c = b.tanh()
    assert autograd.is_grad_enabled()
    assert b.data == 7.0 and b._prev == () and b._op == "" and c._prev == ()
    c.backward()
    assert a.grad == 0.0 and c.grad == 1.0
    d = a * 3
    assert d._prev[0] is a


def test_no_grad_decorator_and_enable_grad_inside():
    @no_grad()
    def f(v):
        with autograd.enable_grad():
            inner = v * 2
        return inner, v * 2

    a = Value(1.0)
    inner, outer = f(a)
    assert inner._prev[0] is a and outer._prev == ()


def test_grad_does_not_touch_grad_attributes():
    a, b = Value(0.7), Value(-1.2)
    out = diamond(a, b)
    ga, gb = autograd.grad(out, [a, b], retain_graph=True)
    assert a.grad == 0.0 and b.grad == 0.0 and out.grad == 0.0
    out.backward()
    assert a.grad == ga.data and b.grad == gb.data
    assert isinstance(ga, Value) and ga._prev == ()


def test_grad_with_respect_to_an_intermediate():
    a = Value(0.5)
    c = a * 3
    y = c * c
    (gc_,) = autograd.grad(y, c)
    assert gc_.data == 2 * 1.5


def test_grad_allow_unused():
    a, b = Value(1.0), Value(2.0)
    y = a * 3
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad(y, [a, b], retain_graph=True)
    ga, gb = autograd.grad(y, [a, b], allow_unused=True)
    assert ga.data == 3.0 and gb is None


def test_grad_of_several_outputs_with_grad_outputs():
    a = Value(2.0)
    y1, y2 = a * a, a * 3
    (g,) = autograd.grad([y1, y2], a, grad_outputs=[1.0, 2.0])
    assert g.data == 4.0 + 6.0
    with pytest.raises(ValueError):
        autograd.grad([a * a, a * 3], a, grad_outputs=[1.0])


def test_error_mid_backward_leaves_graph_usable(monkeypatch):
    from autograd import value as value_mod

    original = value_mod._tanh_rule
    calls = []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 1:
            raise ZeroDivisionError("boom")
        return original(*args)
    flaky.op = original.op
    monkeypatch.setattr(value_mod, "_tanh_rule", flaky)
    a = Value(2.0)
    y = (a * 3).tanh() * 2
    with pytest.raises(ZeroDivisionError):
        y.backward()
    assert a.grad == 0.0
    y.backward()  # no gradient was left parked on a node by the failed pass
    assert math.isclose(a.grad, 6 * (1 - math.tanh(6.0) ** 2), rel_tol=1e-12)


def test_error_while_counting_leaves_no_node_half_counted():
    # out2's pass fails in its first sweep (z's graph was freed) after it had already counted w;
    # a later pass through w must still see w as untouched, or w would never get its gradient
    x = Value(3.0)
    z = x * x
    (z + 1).backward(retain_graph=False)
    w = Value(2.0)
    out2 = z * w
    with pytest.raises(RuntimeError, match="second time"):
        out2.backward()
    assert w._deps is None and w._g is None
    (w * 5).backward()
    assert w.grad == 5.0


def test_label_is_unset_until_named():
    a = Value(1.0)
    b = a * 2
    assert a.label == "" and b.label == ""
    b.label = "b"
    assert b.label == "b" and repr(b) == "Value(data=2.0, grad=0.0, label='b')"
    with pytest.raises(TypeError, match="label must be a str"):
        b.label = 3


def test_pow_const_keeps_one_parent_and_its_exponent():
    a = Value(3.0)
    y = a ** 2.5
    assert y._prev == (a,) and y._op == "**2.5"
    y.backward()
    assert math.isclose(a.grad, 2.5 * 3.0 ** 1.5, rel_tol=1e-15)


def test_grad_keeps_a_value_graph_unless_retain_graph_false():
    # API.md: for Values, autograd.grad keeps the graph unless retain_graph=False (as Value.backward)
    x = Value(2.0)
    y = x * x * x
    assert autograd.grad(y, x)[0].data == 12.0
    assert autograd.grad(y, x)[0].data == 12.0  # still there
    autograd.grad(y, x, retain_graph=False)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        autograd.grad(y, x)
