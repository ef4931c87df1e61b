"""``gradcheck`` on Tensors beyond torch's: fast mode, higher orders, ``gradgradcheck``, float32 inputs,
kinks, nan, ``nondet_tol``; planted wrong gradient rules written as small compositions."""
import math
import random

import numpy as np
import pytest

import autograd
from autograd import GradcheckError, Tensor, Value, gradcheck
from autograd import value as value_mod
from autograd.gradcheck import gradgradcheck

RNG = np.random.default_rng(3)


def t(*shape, rng=RNG):
    return Tensor(rng.standard_normal(shape), requires_grad=True)


def surrogate(value, grad_of):
    """``value`` in the forward pass, the gradient of ``grad_of`` in the backward pass."""
    return value.detach() + (grad_of - grad_of.detach())


def coefficient_times(x, c):
    """A term whose value is 0 and whose gradient with respect to ``x`` is ``c`` (elementwise)."""
    return c.detach() * x - (c.detach() * x).detach()


# (name, wrong fn, right fn, input shapes): ten wrong rules a hand-written backward might have
PLANTED = [
    ("one factor detached", lambda x: x * x.detach(), lambda x: x * x, [(3, 2)]),
    ("wrong constant", lambda x: surrogate(3 * x, 2 * x), lambda x: 3 * x, [(4,)]),
    ("transposed matmul", lambda x, w: surrogate(x @ w, x @ w.T), lambda x, w: x @ w, [(2, 3), (3, 3)]),
    ("sign flipped", lambda x: surrogate(x.tanh(), -x.tanh()), lambda x: x.tanh(), [(5,)]),
    ("mean without 1/N", lambda x: surrogate(x.mean(), x.sum()), lambda x: x.mean(), [(2, 3)]),
    ("bias summed over the wrong axis", lambda x, b: surrogate(x + b, x + b.reshape(3, 1)),
     lambda x, b: x + b, [(3, 3), (3,)]),
    ("softmax Jacobian without off-diagonals",
     lambda x: x.softmax(-1).detach() + coefficient_times(x, x.softmax(-1) * (1 - x.softmax(-1))),
     lambda x: x.softmax(-1), [(2, 4)]),
    ("relu passing every gradient", lambda x: surrogate(x.relu(), x), lambda x: x.relu(), [(6,)]),
    ("exp rule at the wrong point", lambda x: x.exp().detach() + coefficient_times(x, (2 * x).exp()),
     lambda x: x.exp(), [(3,)]),
    ("one input cut off", lambda x, y: (x * y.detach()).sin(), lambda x, y: (x * y).sin(), [(3,), (3,)]),
]


def inputs_for(shapes, seed):
    rng = np.random.default_rng(seed)
    # away from relu's kink at 0, so that the right version passes
    return [Tensor(rng.standard_normal(s) + np.where(rng.random(s) < 0.5, 0.3, -0.3), requires_grad=True)
            for s in shapes]


@pytest.mark.parametrize("name, wrong, right, shapes", PLANTED, ids=[p[0] for p in PLANTED])
def test_fast_mode_catches_every_planted_rule_full_mode_catches(name, wrong, right, shapes):
    xs = inputs_for(shapes, len(name))
    assert gradcheck(right, xs) and gradcheck(right, xs, fast_mode=True)
    with pytest.raises(GradcheckError) as full:
        gradcheck(wrong, xs)
    with pytest.raises(GradcheckError) as fast:
        gradcheck(wrong, xs, fast_mode=True)
    assert full.value.reason == fast.value.reason == "wrong gradient"
    # fast mode re-runs the full check on failure, so it names the same element
    assert (fast.value.input_index, fast.value.element_index) == (full.value.input_index,
                                                                   full.value.element_index)


@pytest.mark.parametrize("name, wrong, right, shapes", PLANTED, ids=[p[0] for p in PLANTED])
def test_torch_gradcheck_agrees_on_the_planted_rules(name, wrong, right, shapes):
    torch = pytest.importorskip("torch")
    xs = [torch.tensor(x.detach().numpy(), requires_grad=True) for x in inputs_for(shapes, len(name))]
    assert torch.autograd.gradcheck(right, xs)
    assert not torch.autograd.gradcheck(wrong, xs, raise_exception=False)
    assert not torch.autograd.gradcheck(wrong, xs, fast_mode=True, raise_exception=False)


def test_error_names_the_input_the_element_and_both_values():
    x = Tensor(np.array([[0.5, -2.0], [1.0, 0.25]]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: (a * a.detach()).sum(), [x])  # analytical x, numerical 2x
    err = info.value
    assert (err.input_index, err.element_index, err.reason, err.order) == (0, (0, 1), "wrong gradient", 1)
    assert err.analytical == -2.0 and math.isclose(err.numerical, -4.0, rel_tol=1e-8)
    assert "wrong gradient for input 0, element (0, 1): analytical -2.0 vs numerical -4.0" in str(err)


def test_fast_mode_calls_fn_a_fixed_number_of_times():
    calls = []

    def fn(a):
        calls.append(1)
        return a.tanh()
    gradcheck(fn, [t(10, 10)])
    full = len(calls)
    calls.clear()
    gradcheck(fn, [t(10, 10)], fast_mode=True)
    assert (full, len(calls)) == (1 + 2 * 100, 1 + 2)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_correct_functions_pass(fast_mode):
    a, b, w = t(3, 4), t(4), t(4, 2)
    i = Tensor(np.array([0, 2, 2]))
    assert gradcheck(lambda x, y: (x * y).tanh() + x * x, [a, b], fast_mode=fast_mode)
    assert gradcheck(lambda x, m: (x @ m).softmax(-1), [a, w], fast_mode=fast_mode)
    assert gradcheck(lambda x, idx: x[idx].exp(), [a, i], fast_mode=fast_mode)  # an index input
    assert gradcheck(lambda x: (x.sum(0), (x > 0), x.amax()), [a], fast_mode=fast_mode)  # tuple output


@pytest.mark.parametrize("fast_mode", [False, True])
def test_a_nan_never_passes(fast_mode):
    x = Tensor(np.array([0.5, 0.0, 2.0]), requires_grad=True)
    # the where trap: the value is x, the gradient of the unused sqrt(0) branch is 0 * inf = nan
    nan_grad = lambda a: autograd.where(a > -1, a, (a - a.detach()).sqrt())  # noqa: E731
    with pytest.raises(GradcheckError, match="analytical nan") as info:
        gradcheck(nan_grad, [x], fast_mode=fast_mode)
    assert info.value.reason == "wrong gradient"
    with pytest.raises(GradcheckError, match="numerical nan"):  # sqrt at 0: nan to the left
        gradcheck(lambda a: a.sqrt(), [x], fast_mode=fast_mode)
    neg = Tensor(np.array([-1.0, 4.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="analytical nan vs numerical nan"):  # nan == nan: no pass
        gradcheck(lambda a: a.sqrt(), [neg], fast_mode=fast_mode)


def test_output_cut_from_the_graph_is_caught():
    x = t(3)
    with pytest.raises(GradcheckError, match="analytical 0.0"):
        gradcheck(lambda a: a.detach() * 2, [x])


# -- kinks -------------------------------------------------------------------------------------------
EXACT_KINKS = [(lambda a: a.relu(), [0.7, 0.0, -0.4], (1,)),
               (lambda a: a.clamp(min=0.2), [0.2, 1.0], (0,))]
NEAR_KINKS = [(lambda a: a.abs(), [3e-7, 1.0], (0,)),  # within eps of the kink
              (lambda a: autograd.maximum(a, 0.5 * a), [-1.0, 2e-7], (1,))]


@pytest.mark.parametrize("fn, x, element", EXACT_KINKS + NEAR_KINKS)
def test_kinks_are_reported_as_not_differentiable(fn, x, element):
    with pytest.raises(GradcheckError, match="not differentiable at this point") as info:
        gradcheck(fn, [Tensor(np.array(x), requires_grad=True)])
    assert (info.value.reason, info.value.element_index) == ("not differentiable", element)
    assert not str(info.value).startswith("gradcheck: wrong")


@pytest.mark.parametrize("fn, x, element", EXACT_KINKS)
def test_fast_mode_reports_kinks_too(fn, x, element):
    # (near a kink, fast mode steps less than eps along each element and may rightly pass)
    with pytest.raises(GradcheckError, match="not differentiable at this point") as info:
        gradcheck(fn, [Tensor(np.array(x), requires_grad=True)], fast_mode=True)
    assert info.value.element_index == element


def test_wrong_gradient_on_a_curved_function_is_not_called_a_kink():
    x = Tensor(np.array([0.0, 0.3]), requires_grad=True)
    fn = lambda a: 1e4 * a * a + (a - a.detach())  # noqa: E731  (gradient 2e4 a + 1: off by one)
    with pytest.raises(GradcheckError, match="wrong gradient") as info:
        gradcheck(fn, [x])
    assert info.value.reason == "wrong gradient"


def test_a_wrong_gradient_is_reported_before_a_kink():
    x = Tensor(np.array([0.0, 0.5]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:  # element 0: relu's kink; element 1: a wrong rule
        gradcheck(lambda a: a.relu() + (a * a.detach()) * (a > 0.1), [x])
    assert (info.value.reason, info.value.element_index) == ("wrong gradient", (1,))


def test_value_kink():
    with pytest.raises(GradcheckError, match="not differentiable"):
        gradcheck(lambda a: a.relu(), [Value(0.0)])


# -- float32, tolerance of nondeterminism, raise_exception ------------------------------------------
def test_float32_inputs_are_checked_in_float64_copies():
    x = Tensor(np.array([0.3, -1.2], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="checked in float64 copies"):
        assert gradcheck(lambda a: a.tanh() * a, [x])
    with pytest.warns(UserWarning), pytest.raises(GradcheckError, match=r"checked in\s+float64 copies"):
        gradcheck(lambda a: a * a.detach(), [x])
    assert x.dtype == np.float32 and x.grad is None


def noisy_tanh_rule(g, out, a):
    """tanh's rule plus noise: a backward that gives a different answer every time."""
    return (g * (1.0 - out * out + random.uniform(-1e-9, 1e-9)),)


noisy_tanh_rule.op = "tanh"


def test_nondet_tol(monkeypatch):
    monkeypatch.setattr(value_mod, "_tanh_rule", noisy_tanh_rule)
    with pytest.raises(GradcheckError, match="not reentrant") as info:
        gradcheck(lambda a: a.tanh(), [Value(0.4, "x")])
    assert info.value.reason == "nondeterministic" and info.value.label == "x"
    assert gradcheck(lambda a: a.tanh(), [Value(0.4)], nondet_tol=1e-8)


def test_raise_exception_false_returns_false():
    assert gradcheck(lambda a: a * a.detach(), [t(2)], raise_exception=False) is False
    assert gradcheck(lambda a: a * a, [t(2)], raise_exception=False) is True


@pytest.mark.parametrize("kwargs, match", [
    (dict(order=0), "order"), (dict(nondet_tol=-1.0), "nondet_tol"), (dict(eps=-1.0), "eps")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gradcheck(lambda a: a, [t(2)], **kwargs)


def test_no_input_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, [Tensor(np.ones(2))])


# -- higher orders -----------------------------------------------------------------------------------
def first_order_only_tanh(a):
    """tanh whose gradient is right but is a constant to the engine: every second order is zero."""
    return a.tanh().detach() + coefficient_times(a, 1 - a.tanh() ** 2)


def test_order_n_checks_each_order_up_to_n():
    a, b = t(3), t(3)
    assert gradcheck(lambda x, y: (x * y).sin() + x.exp() * y, [a, b], order=3)
    assert gradcheck(first_order_only_tanh, [a])
    with pytest.raises(GradcheckError, match="wrong second-order gradient for input 0") as info:
        gradcheck(first_order_only_tanh, [a], order=2)
    assert info.value.order == 2
    assert gradcheck(lambda x: x ** 3, [a], order=4)  # the fourth derivative is a constant zero


def test_order_n_on_values():
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [Value(0.3), Value(1.7)], order=3)


def test_gradgradcheck():
    a, w = t(2, 3), t(3, 2)
    assert gradgradcheck(lambda x, m: (x @ m).tanh(), [a, w])
    assert gradgradcheck(lambda x, m: (x @ m).tanh(), [a, w], Tensor(RNG.standard_normal((2, 2))))
    assert gradgradcheck(lambda x: x.sigmoid().sum(), [a], fast_mode=True)
    with pytest.raises(GradcheckError, match="second-order gradient"):
        gradgradcheck(first_order_only_tanh, [t(3)])
    assert gradgradcheck(lambda x, y: x * y.tanh(), [Value(0.4), Value(-1.1)])
    with pytest.raises(ValueError, match="grad_outputs"):
        gradgradcheck(lambda x: x * 2, [a], [Tensor(np.ones(2))] * 2)



# -- the inputs are moved in place and put back -------------------------------------------------------
def test_fn_may_reach_its_inputs_through_a_closure():
    import nn

    model = nn.Linear(3, 2).double()
    x = Tensor(RNG.standard_normal((4, 3)))
    params = list(model.parameters())
    before = [p.detach().numpy().copy() for p in params]
    assert gradcheck(lambda *_: model(x).tanh(), params)  # as torch: the parameters are moved in place
    assert gradcheck(lambda *_: model(x).tanh(), params, fast_mode=True)
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.detach().numpy(), b)  # put back bit for bit
        assert p.grad is None


def test_inputs_are_put_back_when_fn_raises():
    x = t(3)
    before = x.detach().numpy().copy()
    calls = []

    def fn(a):
        calls.append(1)
        if len(calls) > 2:
            raise KeyError("boom")
        return a * 2
    for fast_mode in (False, True):
        calls.clear()
        with pytest.raises(KeyError):
            gradcheck(fn, [x], fast_mode=fast_mode)
        np.testing.assert_array_equal(x.detach().numpy(), before)
