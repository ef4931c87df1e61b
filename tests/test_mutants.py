"""Tests for mutants that ``make mutate`` (mutmut) found surviving and that change a result: the
gradients' types under ``create_graph``, a ``Value`` upstream gradient staying in the graph, and the
exact ``TypeError`` messages."""
import pytest

from autograd import Value


def test_create_graph_makes_every_gradient_a_value_root_included():
    x = Value(3.0)
    y = x * x
    y.backward(create_graph=True)
    assert isinstance(y.grad, Value) and y.grad.data == 1.0
    assert isinstance(x.grad, Value) and x.grad.data == 6.0


def test_create_graph_masked_gradient_is_a_value():
    v = Value(-2.0)
    v.relu().backward(create_graph=True)
    assert isinstance(v.grad, Value) and v.grad.data == 0.0


def test_a_value_upstream_gradient_stays_in_the_graph():
    x, w = Value(3.0), Value(5.0)
    (x * x).backward(gradient=w, create_graph=True)
    assert x.grad.data == 30.0  # w * 2x
    x.grad.backward()
    assert w.grad == 6.0  # d(w * 2x)/dw = 2x: the upstream Value was used, not its number


def test_a_value_upstream_gradient_without_create_graph_is_its_number():
    x = Value(3.0)
    (x * x).backward(gradient=Value(5.0))
    assert type(x.grad) is float and x.grad == 30.0


@pytest.mark.parametrize("data,message", [
    (Value(1.0), "Value data must be a real number, got Value Value(data=1.0, grad=0.0) (use .data to copy "
                 "a Value)"),
    ("1.5", "Value data must be a real number, got str '1.5'"),
])
def test_value_type_error_messages(data, message):
    with pytest.raises(TypeError) as info:
        Value(data)
    assert str(info.value) == message


def test_bad_gradient_type_error_names_the_type():
    with pytest.raises(TypeError, match="^gradient must be a number or a Value, got str$"):
        Value(1.0).backward(gradient="1")
