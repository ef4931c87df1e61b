"""``autograd.testing.assert_grads_match_torch``: passes when autograd and torch agree, and otherwise
names the worst mismatch (output or input gradient, index, both values)."""
import subprocess
import sys

import numpy as np
import pytest

import autograd
from autograd.primitive import Primitive as Function, array as data
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4))
W = RNG.standard_normal((4, 2))


def is_torch(x):
    return isinstance(x, torch.Tensor)


class WrongSquare(Function):
    """``a * a`` with a wrong gradient (3a instead of 2a)."""

    name = "wrong_square"

    def forward(self, a):
        return a * a

    def backward(self, g, out, a):
        return (g * 3.0 * a,)


class FlipNoGrad(Function):
    """``flip`` along dim 0 whose gradient forgets to flip back: right only for symmetric upstreams."""

    name = "flip"

    def forward(self, a):
        return np.flip(a, 0).copy()

    def backward(self, g, out, a):
        return (g,)


class FlatSin(Function):
    """``sin`` whose gradient is computed on raw arrays: right at first order, no second order."""

    name = "flat_sin"

    def forward(self, a):
        return np.sin(a)

    def backward(self, g, out, a):
        return (g * np.cos(data(a)),)


def ours_or(torch_fn, ours_fn):
    return lambda *xs: torch_fn(*xs) if is_torch(xs[0]) else ours_fn(*xs)


# -- passing cases ----------------------------------------------------------------------------------
def test_passes_for_matching_functions():
    assert_grads_match_torch(lambda x, w: (x @ w).tanh().sum(dim=0), X, W)
    assert_grads_match_torch(lambda x, w: (x @ w).sigmoid().mean(), X, W)  # scalar output
    assert_grads_match_torch(lambda x, w: (x @ w).softmax(-1), X, W, second_order=True)


def test_tuple_and_list_outputs():
    assert_grads_match_torch(lambda x, w: ((x @ w).relu(), x.exp().sum()), X, W)
    assert_grads_match_torch(lambda x, w: [x * 2, w.T], X, W, second_order=True)


def test_integer_and_bool_inputs_are_passed_as_they_are():
    assert_grads_match_torch(lambda x, i: x[i] * 2, X, np.array([0, 2, 2]))
    assert_grads_match_torch(lambda x, m: x[m], X, X > 0)
    assert_grads_match_torch(lambda x, m, w: module_of(x).where(m, x, w), X, X > 0, X.T.copy().T)


def test_inputs_of_every_kind():
    # lists, Python floats, float32 arrays (made float64), Tensors and torch tensors
    assert_grads_match_torch(lambda a, b: a * b + a, [1.0, 2.0], 3.0)
    assert_grads_match_torch(lambda a: a.exp(), X.astype(np.float32))
    assert_grads_match_torch(lambda a, b: a @ b, autograd.tensor(X), torch.tensor(W))


def test_outputs_without_grad_are_compared_by_value():
    assert_grads_match_torch(lambda x: (x.argmax(dim=1), x > 0, x.sum()), X)
    assert_grads_match_torch(lambda x: x.detach() * 2, X)


def test_unused_input_has_a_zero_gradient_on_both():
    assert_grads_match_torch(lambda x, w: x * 2, X, W)


def test_nan_and_inf_match_themselves():
    assert_grads_match_torch(lambda x: x.log(), np.array([-1.0, 0.0, 2.0]))


def test_arrays_are_not_modified():
    x = X.copy()
    assert_grads_match_torch(lambda a: a.exp(), x)
    np.testing.assert_array_equal(x, X)


def test_module_of():
    assert module_of(autograd.tensor([1.0])) is autograd
    assert module_of(torch.tensor([1.0])) is torch


# -- failing cases ----------------------------------------------------------------------------------
def test_wrong_gradient_names_the_input_index_and_values():
    fn = ours_or(lambda a, b: a * a + b, lambda a, b: WrongSquare.apply(a) + b)
    x = np.array([[1.0, -2.0], [0.5, 4.0]])
    with pytest.raises(AssertionError) as info:
        assert_grads_match_torch(fn, x, np.zeros(2))
    msg = str(info.value)
    assert "the gradient of input 0 differs from torch at index (1, 1)" in msg  # 4.0: the worst
    assert "4 of 4 elements differ" in msg
    v = np.random.default_rng(0).standard_normal((2, 2))[1, 1]  # the helper's seeded upstream
    assert f"autograd {float(v * 3 * 4.0)!r} vs torch {float(v * 2 * 4.0)!r}" in msg


def test_wrong_output_is_reported():
    fn = ours_or(lambda a: (a.exp(), a * 2), lambda a: (a.exp(), a * 2.001))
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(X)), X.shape))  # |0.001 * x| largest
    with pytest.raises(AssertionError, match=rf"^output 1 differs from torch at index \({worst[0]}, "):
        assert_grads_match_torch(fn, X)
    with pytest.raises(AssertionError, match=r"^the output differs from torch at index \(\)"):
        assert_grads_match_torch(ours_or(lambda a: a.sum(), lambda a: a.sum() + 1e-3), X)


def test_worst_mismatch_wins_and_outputs_come_first():
    fn = ours_or(lambda a: (a * 2, a * 3), lambda a: (a * 2.0001, a * 3.1))
    with pytest.raises(AssertionError, match="^output 1 differs.*also differ: output 0, the gradient"):
        assert_grads_match_torch(fn, X)


def test_random_upstream_gradient_catches_a_jacobian_error():
    fn = ours_or(lambda a: a.flip(0), lambda a: FlipNoGrad.apply(a))
    x = RNG.standard_normal((3, 2))
    # summing the output would hide this bug (the gradient of sum(flip(x)) is all ones either way)
    assert_grads_match_torch(lambda a: fn(a).sum(), x)
    with pytest.raises(AssertionError, match="the gradient of input 0 differs"):
        assert_grads_match_torch(fn, x)


def test_second_order_errors_are_found_only_when_asked():
    fn = ours_or(lambda a: a.sin(), lambda a: FlatSin.apply(a))
    assert_grads_match_torch(fn, X)
    with pytest.raises(AssertionError, match=r"the second-order gradient of input 0 differs .*autograd 0.0"):
        assert_grads_match_torch(fn, X, second_order=True)


def test_tolerances():
    fn = ours_or(lambda a: a * 1.0, lambda a: a * (1.0 + 1e-7))
    assert_grads_match_torch(fn, X)  # within rtol=1e-6
    with pytest.raises(AssertionError, match="rtol=1e-08"):
        assert_grads_match_torch(fn, X, rtol=1e-8, atol=0.0)


def test_nan_against_a_number_is_a_mismatch():
    fn = ours_or(lambda a: a.sqrt(), lambda a: a.abs().sqrt())
    with pytest.raises(AssertionError, match=r"index \(0,\): autograd 1.0 vs torch nan"):
        assert_grads_match_torch(fn, np.array([-1.0, 4.0]))


def test_shape_dtype_count_and_requires_grad_mismatches():
    with pytest.raises(AssertionError, match=r"the output: shape \(3, 4\) on autograd but \(4, 3\) on torch"):
        assert_grads_match_torch(ours_or(lambda a: a.T, lambda a: a * 1.0), X)
    with pytest.raises(AssertionError, match="dtype float32 on autograd but float64 on torch"):
        assert_grads_match_torch(ours_or(lambda a: a * 1.0, lambda a: a.float()), X)
    with pytest.raises(AssertionError, match="2 outputs on autograd but 1 on torch"):
        assert_grads_match_torch(ours_or(lambda a: (a,), lambda a: (a, a)), X)
    with pytest.raises(AssertionError, match="requires_grad is False on autograd but True on torch"):
        assert_grads_match_torch(ours_or(lambda a: a * 2, lambda a: a.detach() * 2), X)


def test_seed_changes_the_upstream_gradient_deterministically():
    fn = ours_or(lambda a: a.flip(0), lambda a: FlipNoGrad.apply(a))
    x = RNG.standard_normal((3, 2))
    messages = []
    for seed in (0, 0, 1):
        with pytest.raises(AssertionError) as info:
            assert_grads_match_torch(fn, x, seed=seed)
        messages.append(str(info.value))
    assert messages[0] == messages[1] != messages[2]


def test_errors_in_fn_propagate():
    with pytest.raises(ValueError, match="matmul"):
        assert_grads_match_torch(lambda a, b: a @ b, X, X)


def test_torch_is_imported_only_when_called():
    code = ("import sys, autograd, autograd.testing\n"
            "from autograd.testing import assert_grads_match_torch\n"
            "assert 'torch' not in sys.modules, 'torch imported too early'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
