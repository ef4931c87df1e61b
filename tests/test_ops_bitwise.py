"""Integer and bitwise ops (autograd/ops/bitwise.py) against PyTorch: ``// % & | ^ << >> ~`` and their
reflected forms, ``div(rounding_mode=...)``, ``floor_divide``, ``bitwise_*``, ``logical_*``: values and
result dtypes for int64/int32/bool/float operands, torch's errors, and the gradients of ``%`` and of
rounded division on floats (zero, as torch's ``div(rounding_mode=...)``); Hypothesis over random
broadcast shapes, 0-d and size-0 included.
"""
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor, gradcheck
from autograd.testing import assert_grads_match_torch

torch = pytest.importorskip("torch")

OPERATORS = {"&": operator.and_, "|": operator.or_, "^": operator.xor, "<<": operator.lshift,
             ">>": operator.rshift, "//": operator.floordiv, "%": operator.mod}
A = np.array([-7, -2, 0, 1, 5, 12])
B = np.array([3, -4, 2, 1, 2, -5])  # no zero: integer division by zero is its own test
DTYPES = ["int64", "int32", "bool", "float16", "float32", "float64"]


def _cast(x, dtype):
    return x > 0 if dtype == "bool" else x.astype(dtype)


def _tensor(x):
    """A Tensor holding ``x`` (float16 only arises from a cast: construction makes float32)."""
    return Tensor(x).to(np.float16) if x.dtype == np.float16 else Tensor(x)


def _run(fn, *args):
    try:
        return fn(*args)
    except (RuntimeError, TypeError, NotImplementedError) as e:
        return e


def _assert_like_torch(ours, theirs):
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), f"torch raised {theirs!r}, chainrule gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"chainrule raised {ours!r}, torch gave {theirs}"
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (ours.dtype, theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())


@pytest.mark.parametrize("db", DTYPES)
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("op", list(OPERATORS))
def test_operators_match_torch(op, da, db):
    fn = OPERATORS[op]
    a, b = _cast(A, da), _cast(np.abs(B) if op in ("<<", ">>") else B, db)
    theirs = _run(fn, torch.from_numpy(a), torch.from_numpy(b))
    _assert_like_torch(_run(fn, _tensor(a), _tensor(b)), theirs)


@pytest.mark.parametrize("k", [3, -2, True, 2.5])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32"])
@pytest.mark.parametrize("op", list(OPERATORS))
def test_python_scalars_on_either_side(op, dtype, k):
    fn = OPERATORS[op]
    if op in ("<<", ">>") and not isinstance(k, bool) and k < 0:
        k = 1
    a = _cast(A, dtype)
    for args in ((a, k), (k, a)):
        if args[0] is k and op in ("//", "%") and dtype != "bool":
            a = np.where(a == 0, 1, a).astype(a.dtype)
            args = (k, a)
        theirs = _run(fn, *[torch.from_numpy(x) if isinstance(x, np.ndarray) else x for x in args])
        ours = _run(fn, *[Tensor(x) if isinstance(x, np.ndarray) else x for x in args])
        _assert_like_torch(ours, theirs)


def test_bitwise_on_floats_asks_for_an_integer_tensor():
    x = Tensor(np.array([1.0, 2.0]))
    for fn in (lambda: x & 1, lambda: 1 | x, lambda: x ^ x, lambda: x << 1, lambda: x.bitwise_and(x)):
        with pytest.raises(NotImplementedError, match="integer or bool"):
            fn()
    with pytest.raises(TypeError, match="integer and Boolean"):
        ~x
    assert issubclass(NotImplementedError, RuntimeError)  # so `except RuntimeError` catches it, as torch's


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_invert_and_not_match_torch(dtype):
    a = _cast(A, dtype)
    _assert_like_torch(~Tensor(a), ~torch.from_numpy(a))
    _assert_like_torch(Tensor(a).bitwise_not(), torch.from_numpy(a).bitwise_not())
    _assert_like_torch(autograd.bitwise_not(Tensor(a)), torch.bitwise_not(torch.from_numpy(a)))


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_shifts_out_of_range_match_torch(dtype):
    a = np.array([-9, -1, 0, 1, 7, 2 ** 30], dtype=dtype)
    for n in (-3, -1, 0, 1, 30, 31, 32, 63, 64, 70):
        shift = np.full(a.shape, n, dtype=dtype)
        for op in ("<<", ">>"):
            fn = OPERATORS[op]
            _assert_like_torch(fn(Tensor(a), Tensor(shift)), fn(torch.from_numpy(a), torch.from_numpy(shift)))


FLOAT_A = np.array([-5.5, 5.5, -5.5, 5.5, 0.0, -0.0, 3.0, np.inf, -np.inf, np.nan, 1.0, 7.0])
FLOAT_B = np.array([2.0, -2.0, -2.0, 2.0, 3.0, 3.0, 0.0, 2.0, 3.0, 1.0, np.inf, -np.inf])


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounded_division_of_floats_matches_torch(mode):
    ours = Tensor(FLOAT_A).div(Tensor(FLOAT_B), rounding_mode=mode)
    theirs = torch.tensor(FLOAT_A).div(torch.tensor(FLOAT_B), rounding_mode=mode)
    _assert_like_torch(ours, theirs)
    if mode == "floor":
        _assert_like_torch(Tensor(FLOAT_A) // Tensor(FLOAT_B), torch.tensor(FLOAT_A) // torch.tensor(FLOAT_B))
        _assert_like_torch(autograd.floor_divide(Tensor(FLOAT_A), Tensor(FLOAT_B)),
                           torch.floor_divide(torch.tensor(FLOAT_A), torch.tensor(FLOAT_B)))


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_modes_gradients_match_torch(mode):
    # torch: rounded division has gradient 0; torch's floor_divide (``//``) records no derivative, so
    # ``//`` is checked against div(rounding_mode="floor")
    assert_grads_match_torch(lambda a, b: a.div(b, rounding_mode=mode), FLOAT_A[:7], FLOAT_B[:7] + 0.5,
                             second_order=True)
    assert_grads_match_torch(lambda a, b: module_of_div(a)(a, b, mode), FLOAT_A[:7], FLOAT_B[:7] + 0.5)


def module_of_div(a):
    div = torch.div if isinstance(a, torch.Tensor) else autograd.div
    return lambda a, b, mode: div(a, b, rounding_mode=mode)


def test_floordiv_operator_has_zero_gradient():
    a = Tensor(np.array([-5.5, 5.5, 3.0]), requires_grad=True)
    b = Tensor(np.array([2.0, -2.0, 0.5]), requires_grad=True)
    out = a // b
    assert out.requires_grad and out.dtype == np.float64
    out.backward(gradient=np.array([1.0, np.inf, np.nan]))
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0, 0.0])


def test_mod_of_floats_is_remainder_with_its_gradient():
    a, b = np.array([-5.5, 5.5, -5.5, 5.5, 0.3, -0.7, 3.1]), FLOAT_B[:7] + 0.5  # no multiples of b: jumps
    assert_grads_match_torch(lambda x, y: x % y, a, b, second_order=True)
    assert_grads_match_torch(lambda x: x % 1.5, a, second_order=True)
    assert gradcheck(lambda x, y: x % y, [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)])


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_rounded_division_matches_torch(mode, dtype):
    a, b = A.astype(dtype), B.astype(dtype)
    _assert_like_torch(Tensor(a).div(Tensor(b), rounding_mode=mode),
                       torch.from_numpy(a).div(torch.from_numpy(b), rounding_mode=mode))
    _assert_like_torch(Tensor(a).div(2.5, rounding_mode=mode),
                       torch.from_numpy(a).div(2.5, rounding_mode=mode))


@pytest.mark.parametrize("fn", [lambda a: a // 0, lambda a: a % 0, lambda a: a.div(0, rounding_mode="trunc"),
                                lambda a: a.fmod(Tensor(np.array([1, 0, 2]))), lambda a: 3 // a])
def test_integer_division_by_zero_raises_like_torch(fn):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(Tensor(np.array([1, 0, 2])))


def test_bad_rounding_mode_and_shapes():
    with pytest.raises(RuntimeError, match="rounding_mode"):
        Tensor(np.array([1.0])).div(2.0, rounding_mode="round")
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        Tensor(np.array([1, 2, 3])) & Tensor(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        Tensor(np.array([1.0, 2.0, 3.0])) // Tensor(np.array([1.0, 2.0]))


LOGICAL_A = np.array([0.0, -0.0, 1.0, np.nan, -2.5, 0.0])
LOGICAL_B = np.array([0.0, 3.0, 0.0, 0.0, np.inf, 1.0])


@pytest.mark.parametrize("db", DTYPES)
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("op", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_match_torch(op, da, db):
    a = LOGICAL_A if da.startswith("float") else np.nan_to_num(LOGICAL_A)
    b = LOGICAL_B if db.startswith("float") else np.nan_to_num(LOGICAL_B, posinf=7)
    a, b = (x != 0 if d == "bool" else x.astype(d) for x, d in ((a, da), (b, db)))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    _assert_like_torch(getattr(Tensor(a), op)(Tensor(b)), getattr(ta, op)(tb))
    _assert_like_torch(getattr(autograd, op)(Tensor(a), Tensor(b)), getattr(torch, op)(ta, tb))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logical_not_matches_torch(dtype):
    a = LOGICAL_A.astype(dtype) if dtype.startswith("float") else np.nan_to_num(LOGICAL_A).astype(dtype)
    _assert_like_torch(Tensor(a).logical_not(), torch.from_numpy(a).logical_not())
    _assert_like_torch(autograd.logical_not(Tensor(a)), torch.logical_not(torch.from_numpy(a)))


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift", "floor_divide"])
def test_function_and_method_forms(name):
    a, b = A, np.abs(B)
    expected = getattr(torch, name)(torch.from_numpy(a), torch.from_numpy(b))
    _assert_like_torch(getattr(autograd, name)(Tensor(a), Tensor(b)), expected)
    _assert_like_torch(getattr(Tensor(a), name)(Tensor(b)), expected)


def test_no_gradient_through_integer_results():
    x = Tensor(np.array([1.5, 2.5]), requires_grad=True)
    out = x.long() & 1
    assert out.dtype == np.int64 and not out.requires_grad
    assert not x.logical_and(x).requires_grad


# -- Hypothesis: random broadcast shapes, 0-d and size-0 -----------------------------------------------
INTS = st.integers(-50, 50)
SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3)


@pytest.mark.parametrize("op", list(OPERATORS))
@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data())
def test_random_shapes_match_torch(op, data):
    (sa, sb), _ = data.draw(SHAPES)
    elements_b = st.integers(0, 40) if op in ("<<", ">>") else st.integers(-50, 50).filter(bool)
    a = data.draw(hnp.arrays(np.int64, sa, elements=INTS))
    b = data.draw(hnp.arrays(np.int64, sb, elements=elements_b))
    fn = OPERATORS[op]
    _assert_like_torch(fn(Tensor(a), Tensor(b)), fn(torch.from_numpy(a), torch.from_numpy(b)))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data())
def test_random_float_floordiv_and_mod_match_torch(data):
    (sa, sb), _ = data.draw(SHAPES)
    a = data.draw(hnp.arrays(np.float64, sa, elements=st.floats(-20, 20)))
    b = data.draw(hnp.arrays(np.float64, sb, elements=st.one_of(st.floats(-5, -0.25), st.floats(0.25, 5))))
    _assert_like_torch(Tensor(a) // Tensor(b), torch.tensor(a) // torch.tensor(b))
    assert_grads_match_torch(lambda x, y: x % y, a, b, second_order=True)
