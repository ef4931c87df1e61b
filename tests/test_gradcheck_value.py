"""``autograd.gradcheck`` on ``Value`` functions (and its Tensor branch, on the documented surface)."""
import math

import numpy as np
import pytest

import autograd
from autograd import GradcheckError, Value, gradcheck
from autograd import value as value_mod
from autograd.gradcheck import gradgradcheck

CORRECT = [
    (lambda x: x * x * x - 2 * x, [0.7]),
    (lambda x, y: (x * y).tanh() + x / y, [0.3, -1.4]),
    (lambda x, y: x ** y + (y ** 2.5), [1.3, 0.8]),
    (lambda x, y: 2 ** x * y.sigmoid() - (x * x + 1).log(), [0.4, -2.0]),
    (lambda x, y, z: (x.exp() + y.relu() * z).sqrt() + abs(z), [0.1, 0.5, -0.3]),
    (lambda x: 1.0 / (1.0 + (-x).exp()), [3.0]),
]


@pytest.mark.parametrize("k", range(len(CORRECT)))
def test_passes_on_correct_functions(k):
    fn, xs = CORRECT[k]
    assert gradcheck(fn, [Value(x) for x in xs]) is True


def test_accepts_a_single_value_and_tuples():
    assert gradcheck(lambda x: x.tanh(), Value(0.2)) is True
    assert gradcheck(lambda x, y: x * y, (Value(0.2), Value(3.0))) is True


def test_unused_input_has_zero_gradient():
    assert gradcheck(lambda x, y: x * 2, [Value(1.0), Value(5.0)]) is True


def test_second_order_function_checks():
    def dfdx(x):
        (g,) = autograd.grad((x * x).tanh() * x, x, create_graph=True)
        return g
    assert gradcheck(dfdx, [Value(0.6)]) is True


def test_leaves_grad_data_and_graph_untouched():
    x, y = Value(0.5, "x"), Value(2.0, "y")
    x.grad = 7.0
    gradcheck(lambda a, b: a * b + a.exp(), [x, y])
    assert (x.data, x.grad, y.data, y.grad) == (0.5, 7.0, 2.0, 0.0)
    h = x * 3  # a non-leaf input: its graph must survive the check
    gradcheck(lambda a: a * a, [h])
    h.backward()
    assert x.grad == 7.0 + 3.0


def wrong_tanh_rule(g, out, a):
    """tanh' written as 1 - out instead of 1 - out**2: a deliberately wrong rule."""
    return (g * (1.0 - out),)


wrong_tanh_rule.op = "tanh"


def test_wrong_rule_raises_naming_input_index_label_and_both_values(monkeypatch):
    monkeypatch.setattr(value_mod, "_tanh_rule", wrong_tanh_rule)
    x, y = Value(0.5, "x"), Value(0.8, "weight")
    fn = lambda a, b: a * 2 + b.tanh()  # noqa: E731
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, [x, y])
    err = info.value
    assert isinstance(err, AssertionError)
    expected_analytical = 1.0 - math.tanh(0.8)
    expected_numerical = 1.0 - math.tanh(0.8) ** 2
    assert err.input_index == 1 and err.label == "weight" and err.element_index == 0
    assert math.isclose(err.analytical, expected_analytical, rel_tol=1e-12)
    assert math.isclose(err.numerical, expected_numerical, rel_tol=1e-6)
    message = str(err)
    assert "input 1" in message and "'weight'" in message and "element 0" in message
    assert repr(err.analytical) in message and repr(err.numerical) in message
    assert y.data == 0.8 and x.data == 0.5


def test_wrong_rule_on_unlabelled_input(monkeypatch):
    monkeypatch.setattr(value_mod, "_tanh_rule", wrong_tanh_rule)
    with pytest.raises(GradcheckError, match=r"input 0, element 0: analytical"):
        gradcheck(lambda a: a.tanh(), [Value(1.0)])


def test_tolerances_are_used():
    x = Value(1.0)
    # the finite difference of x**2 is exact up to rounding, so eps, atol and rtol all matter only for
    # a curved function: a huge eps makes the central difference of x**3 off by eps**2
    assert gradcheck(lambda a: a ** 3, [x], eps=1e-6)
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: a ** 3, [x], eps=0.1, atol=1e-6, rtol=1e-6)
    assert gradcheck(lambda a: a ** 3, [x], eps=0.1, atol=0.02, rtol=0.0)


def test_non_finite_gradient_fails():
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: a.sqrt(), [Value(0.0)])


def test_restores_data_when_fn_raises():
    x = Value(1.0)
    calls = []

    def fn(a):
        calls.append(a.data)
        if len(calls) > 1:
            raise KeyError("boom")
        return a * 2

    with pytest.raises(KeyError):
        gradcheck(fn, [x])
    assert x.data == 1.0


@pytest.mark.parametrize("inputs, match", [
    ([1.0], "expected a Value or a Tensor"),
    ([Value(1.0), 2.0], "mix"),
    ([], "no inputs"),
])
def test_bad_inputs(inputs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        gradcheck(lambda *a: a[0], inputs)


def test_fn_must_return_a_value():
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda a: a.data * 2, [Value(1.0)])


def test_eps_must_be_positive():
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda a: a, [Value(1.0)], eps=0.0)


# -- the Tensor branch ------------------------------------------------------------------------------
Tensor = getattr(autograd, "Tensor", None)
needs_tensor = pytest.mark.skipif(Tensor is None, reason="autograd.Tensor is not available yet")


@needs_tensor
def test_tensor_functions_pass():
    rng = np.random.default_rng(1)
    a = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal((4,)), requires_grad=True)
    assert gradcheck(lambda x, y: (x * y).tanh() + x * x, [a, b])  # non-scalar output, broadcast
    assert gradcheck(lambda x, y: (x * y).sum(), [a, b])  # scalar output
    c = Tensor(rng.standard_normal((4,)))  # no grad: passed through, not checked
    assert gradcheck(lambda x, y: x * y, [a, c])


@needs_tensor
def test_tensor_wrong_gradient_names_element():
    a = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)

    def fn(x):  # x * stop_gradient(x): the analytical gradient misses one term
        return x * Tensor(x.detach().numpy().copy())
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, [a])
    err = info.value
    assert err.input_index == 0 and isinstance(err.element_index, tuple) and len(err.element_index) == 2
    assert "element (" in str(err)


@needs_tensor
def test_tensor_float32_is_checked_in_a_float64_copy():
    # the contract changed (API.md): float32 inputs are checked in float64 copies, with a warning;
    # a float32 *output* still cannot be checked
    a = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float64 copies"):
        assert gradcheck(lambda x: x * 2, [a])
    b = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x.float() * 2, [b])


@needs_tensor
def test_tensor_grad_attributes_untouched():
    a = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    gradcheck(lambda x: x * x, [a])
    assert a.grad is None


# -- beyond torch's gradcheck, on Values ------------------------------------------------------------
def test_fast_mode_on_values_names_the_same_input_as_full_mode(monkeypatch):
    fn = lambda a, b: a * 2 + b.tanh()  # noqa: E731
    inputs = [Value(0.5, "x"), Value(0.8, "weight")]
    assert gradcheck(fn, inputs, fast_mode=True)
    monkeypatch.setattr(value_mod, "_tanh_rule", wrong_tanh_rule)
    with pytest.raises(GradcheckError) as full:
        gradcheck(fn, inputs)
    with pytest.raises(GradcheckError) as fast:
        gradcheck(fn, inputs, fast_mode=True)
    assert str(fast.value) == str(full.value) and fast.value.label == "weight"


def test_tuple_of_value_outputs():
    fn = lambda a, b: (a * b, a.tanh() - b.exp())  # noqa: E731
    assert gradcheck(fn, [Value(0.3), Value(-0.6)], order=2)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: (a * b, a * Value(b.data)), [Value(0.3), Value(-0.6)])


def test_second_order_of_a_value_rule_written_on_floats(monkeypatch):
    # a rule that is right at first order but builds no graph: the second order sees a constant
    def flat_tanh_rule(g, out, a):
        return (g * (1.0 - math.tanh(_plain(a)) ** 2),)

    def _plain(a):
        return a.data if isinstance(a, Value) else a
    flat_tanh_rule.op = "tanh"
    monkeypatch.setattr(value_mod, "_tanh_rule", flat_tanh_rule)
    fn = lambda a: a.tanh() * 3  # noqa: E731
    assert gradcheck(fn, [Value(0.4)])
    with pytest.raises(GradcheckError, match="wrong second-order gradient for input 0") as info:
        gradcheck(fn, [Value(0.4)], order=2)
    assert info.value.order == 2
    with pytest.raises(GradcheckError, match="second-order"):
        gradgradcheck(fn, [Value(0.4)])
