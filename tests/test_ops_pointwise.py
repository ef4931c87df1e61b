"""Pointwise math (autograd/ops/pointwise.py) against PyTorch float64: values, gradients under a random
upstream gradient, second order and finite differences for every differentiable op; torch's result
dtypes for integer, bool and float inputs; kinks and IEEE edges (0, -0, +-1, inf, nan); Hypothesis
over random broadcast shapes (0-d and size-0 included) with the no-mutation / no-aliasing checks; the
comparison helpers (``eq`` ... ``isclose``, ``allclose``, ``equal``, ``clamp`` with tensor bounds).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor, gradcheck
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

R = np.random.default_rng(20261201)


def rn(*shape):
    return R.standard_normal(shape)


def uni(lo, hi, *shape):
    return R.uniform(lo, hi, shape)


def away(*shape):
    """|x| in [0.3, 2]: away from 0 (poles and the kinks of sign-like functions)."""
    return R.uniform(0.3, 2.0, shape) * R.choice([-1.0, 1.0], shape)


def fn_of(name, *args, **kwargs):
    """``x.name(*args, **kwargs)`` on either library."""
    return lambda x, *ts: getattr(x, name)(*ts, *args, **kwargs)


class Case:
    def __init__(self, name, fn, *arrays, check_fd=True, rtol=1e-6):
        self.name, self.fn, self.arrays, self.check_fd, self.rtol = name, fn, arrays, check_fd, rtol


CASES = []


def case(name, fn, *arrays, **kw):
    CASES.append(Case(name, fn, *arrays, **kw))


# -- unary ------------------------------------------------------------------------------------------
UNARY_DOMAINS = {  # name -> the values it is differentiable on (torch's formula = the true derivative)
    "tan": uni(-1.3, 1.3, 3, 4), "asin": uni(-0.9, 0.9, 3, 4), "acos": uni(-0.9, 0.9, 3, 4),
    "atan": rn(3, 4) * 2, "sinh": rn(3, 4), "cosh": rn(3, 4), "asinh": rn(3, 4) * 3,
    "acosh": uni(1.1, 4.0, 3, 4), "atanh": uni(-0.9, 0.9, 3, 4), "rsqrt": uni(0.2, 3.0, 3, 4),
    "reciprocal": away(3, 4), "square": rn(3, 4), "erf": rn(3, 4), "erfc": rn(3, 4) * 2,
    "erfinv": uni(-0.95, 0.95, 3, 4), "log2": uni(0.2, 3.0, 3, 4), "log10": uni(0.2, 3.0, 3, 4),
    "log1p": uni(-0.8, 3.0, 3, 4), "exp2": rn(3, 4), "expm1": rn(3, 4), "logit": uni(0.05, 0.95, 3, 4),
    "frac": rn(3, 4) * 3, "floor": rn(3, 4) * 3, "ceil": rn(3, 4) * 3, "trunc": rn(3, 4) * 3,
    "round": rn(3, 4) * 3, "sign": away(3, 4), "sgn": away(3, 4), "fix": rn(3, 4) * 3,
    "nan_to_num": rn(3, 4),
}
for name, x in UNARY_DOMAINS.items():
    case(name, fn_of(name), x)
    case(f"{name}-0d", fn_of(name), x[0, 0].copy())
    case(f"{name}-size0", fn_of(name), x[:0])
case("erfinv-tails", fn_of("erfinv"), np.array([-0.9999, -0.999, 0.99, 0.99999]),
     check_fd=False)  # the slope changes too fast there for central differences
case("erfc-tail", fn_of("erfc"), np.array([3.0, 5.0, 8.0, 20.0, -4.0]))
for d in (1, 2, -1):
    case(f"round-decimals{d}", fn_of("round", decimals=d), rn(3, 4) * 50)
case("logit-eps", fn_of("logit", eps=0.2), uni(0.01, 0.99, 4, 5))
case("nan_to_num-values", fn_of("nan_to_num", nan=1.5, posinf=9.0, neginf=-9.0),
     np.array([np.nan, np.inf, -np.inf, 0.5, -2.0]), check_fd=False)  # finite differences of nan
case("nan_to_num-default", fn_of("nan_to_num"), np.array([np.nan, np.inf, -np.inf, 0.5]), check_fd=False)

# -- binary, with broadcasting, scalars and reflected ------------------------------------------------
for name, (a, b) in {
    "atan2": (rn(3, 4), away(4)), "copysign": (away(3, 4), away(3, 1)), "hypot": (away(3, 4), rn(4)),
    "logaddexp": (rn(3, 4), rn(1, 4)), "logaddexp2": (rn(3, 4), rn(3, 1)),
    "xlogy": (rn(3, 4), uni(0.2, 3, 4)),
    "fmod": (rn(3, 4) * 3, away(4)), "remainder": (rn(3, 4) * 3, away(3, 1)), "fmax": (rn(3, 4), rn(4)),
    "fmin": (rn(3, 4), rn(4)), "float_power": (uni(0.3, 2.0, 3, 4), rn(4)),
    "maximum": (rn(3, 4), rn(4)), "minimum": (rn(3, 4), rn(4)),
}.items():
    case(name, fn_of(name), a, b)
    case(f"{name}-0d", fn_of(name), a[0, 0].copy(), b.reshape(-1)[0].copy())
    case(f"{name}-size0", fn_of(name), a[:0], b[:0] if b.ndim == 2 else b)
for name, k in (("copysign", -1.0), ("fmod", 1.5), ("remainder", -1.5), ("float_power", 2.5),
                ("xlogy", 2.0), ("logaddexp", 0.5)):
    if name not in ("logaddexp",):  # torch.logaddexp takes tensors only
        case(f"{name}-scalar", fn_of(name, k), uni(0.3, 2.0, 3, 4))
case("xlogy-scalar-left", lambda y: module_of(y).xlogy(2.0, y), uni(0.2, 3.0, 5))
case("xlogy-zero-x", lambda x, y: x.xlogy(y), np.array([0.0, 0.0, 1.5, -2.0]), np.array([0.5, 3.0, 0.7, 2.0]),
     check_fd=False)  # torch's convention: gradient 0 to x where x == 0 (the derivative is log y)
NAN_A, NAN_B = np.array([1.0, np.nan, 2.0, np.nan]), np.array([1.0, 3.0, np.nan, np.nan])
case("fmax-ties-nan", fn_of("fmax"), NAN_A, NAN_B, check_fd=False)
case("fmin-ties-nan", fn_of("fmin"), NAN_A, NAN_B, check_fd=False)
case("fmod-negative", fn_of("fmod"), np.array([-5.5, 5.5, -5.5, 5.5]), np.array([2.0, -2.0, -2.0, 2.0]))
case("remainder-negative", fn_of("remainder"), np.array([-5.5, 5.5, -5.5, 5.5]),
     np.array([2.0, -2.0, -2.0, 2.0]))
case("float_power-int-exponent", fn_of("float_power", 3), rn(4))

# -- ternary and composites ---------------------------------------------------------------------------
case("lerp-scalar", fn_of("lerp", 0.3), rn(3, 4), rn(4))
case("lerp-tensor", lambda a, b, w: a.lerp(b, w), rn(3, 4), rn(4), rn(3, 1))
case("addcmul", lambda a, b, c: a.addcmul(b, c, value=0.5), rn(3, 4), rn(4), rn(3, 1))
case("addcmul-default", lambda a, b, c: a.addcmul(b, c), rn(3, 4), rn(3, 4), rn(4))
case("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=-2.0), rn(3, 4), rn(4), away(3, 1))
case("functions", lambda a, b: module_of(a).atan2(module_of(a).hypot(a, b), module_of(a).lerp(a, b, 0.25)),
     rn(3), rn(3))
case("chain", lambda a: a.sinh().atan().expm1().log1p() * a.erf().asinh(), rn(3, 4))

# -- clamp with tensor bounds (torch's split: hi wins where lo > hi) ---------------------------------
X5 = np.array([-2.0, -0.5, 0.0, 0.7, 3.0])
case("clamp-tensors", lambda x, lo, hi: x.clamp(lo, hi), X5, np.array([-1.0, -1.0, 0.5, 1.0, -1.0]),
     np.array([1.0, 1.0, 1.0, 0.0, 2.0]), check_fd=False)  # 0.0 vs 0.5/1.0 ties are kinks
case("clamp-tensor-min", lambda x, lo: x.clamp(min=lo), rn(3, 4), rn(4))
case("clamp-tensor-max", lambda x, hi: x.clamp(max=hi), rn(3, 4), rn(3, 1))
case("clamp-tensor-and-number", lambda x, lo: x.clamp(lo, torch.tensor(0.5, dtype=torch.float64)
                                                       if is_torch(x) else 0.5), rn(3, 4), rn(4) - 1.0)
case("clip-tensors", lambda x, lo, hi: x.clip(lo, hi), rn(3, 4), rn(4) - 1.0, rn(3, 1) + 1.0)
case("clamp_min-tensor", lambda x, lo: x.clamp_min(lo), rn(3, 4), rn(4))
case("clamp_max-number", lambda x: x.clamp_max(0.2), rn(3, 4))
case("clamp-function", lambda x, lo: module_of(x).clamp(x, min=lo), rn(3, 4), rn(4))
case("clamp-lo-above-hi", lambda x, lo, hi: x.clamp(lo, hi), rn(6), np.full(6, 1.0), np.full(6, -1.0))


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_matches_torch(c):
    assert_grads_match_torch(c.fn, *c.arrays, rtol=c.rtol, second_order=True)


FD_CASES = [c for c in CASES if c.check_fd]


@pytest.mark.parametrize("c", FD_CASES, ids=[c.name for c in FD_CASES])
def test_gradcheck(c):
    assert gradcheck(c.fn, [Tensor(a, requires_grad=True) for a in c.arrays])


# -- kinks and IEEE edges ---------------------------------------------------------------------------
EDGES = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 2.0, 1e-300, 40.0, -40.0, 1000.0, np.inf, -np.inf, np.nan])
EDGE_OPS = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "floor", "ceil",
            "round", "trunc", "frac", "sign", "sgn", "rsqrt", "reciprocal", "square", "erf", "erfc",
            "erfinv", "log2", "log10", "log1p", "exp2", "expm1", "logit", "nan_to_num"]


@pytest.mark.parametrize("op", EDGE_OPS)
def test_edges_match_torch(op):
    assert_grads_match_torch(fn_of(op), EDGES)


PAIR_EDGES = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, np.inf, -np.inf, np.nan])
A_EDGES, B_EDGES = (g.ravel() for g in np.meshgrid(PAIR_EDGES, PAIR_EDGES))


@pytest.mark.parametrize("op", ["atan2", "copysign", "hypot", "logaddexp", "logaddexp2", "xlogy", "fmod",
                                "remainder", "fmax", "fmin", "float_power"])
def test_binary_edges_match_torch(op):
    assert_grads_match_torch(fn_of(op), A_EDGES, B_EDGES)


def test_abs_has_zero_gradient_at_zero():
    assert_grads_match_torch(lambda a: a.abs(), np.array([0.0, -0.0, 1.0, -2.0]), second_order=True)


def test_zero_gradient_ops_keep_inf_and_nan_upstream_out():
    # torch: zeros_like(grad) for floor & co. (not grad * 0, which would be nan)
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    for op in ("floor", "ceil", "round", "trunc", "sign"):
        (g,) = autograd.grad(getattr(x, op)(), [x], grad_outputs=Tensor(np.array([np.inf, np.nan])))
        np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_erfinv_inverts_erf_to_float64_accuracy():
    x = np.concatenate([R.uniform(-1, 1, 2000), 1 - np.logspace(-16, -1, 200), [-1 + 2 ** -53, 1e-300]])
    y = autograd.erfinv(Tensor(x)).numpy()
    back = np.array([math.erf(v) for v in y])
    np.testing.assert_allclose(back, x, rtol=4e-16 * 8, atol=0)
    np.testing.assert_allclose(y, torch.erfinv(torch.tensor(x)).numpy(), rtol=1e-13)


def test_erfc_keeps_the_tail():
    x = np.array([5.0, 10.0, 26.0, 27.0, -30.0])
    np.testing.assert_allclose(autograd.erfc(Tensor(x)).numpy(), [math.erfc(v) for v in x], rtol=1e-15)


# -- dtypes (torch's result dtype for each input dtype) -----------------------------------------------
DTYPES = ["int64", "int32", "bool", "float16", "float32", "float64"]
UNARY_DTYPE_OPS = [op for op in EDGE_OPS if op != "logit"] + [
    "logit", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "fix"]
# where torch raises NotImplementedError for a dtype chainrule computes anyway (a superset of torch)
EXTENSIONS = {("floor", "bool"), ("ceil", "bool"), ("round", "bool"), ("trunc", "bool"), ("fix", "bool"),
              }


def _sample(dtype):
    base = np.array([-3, -1, 0, 1, 2, 5])
    if dtype == "bool":
        return base > 0
    return (base / 4 if dtype.startswith("float") else base).astype(dtype)


def _tensor(x):
    """A Tensor holding ``x`` (float16 only arises from a cast: construction makes float32)."""
    return Tensor(x).to(np.float16) if x.dtype == np.float16 else Tensor(x)


def _torch_or_error(fn, x):
    try:
        return fn(torch.from_numpy(x.copy()))
    except (NotImplementedError, RuntimeError, TypeError) as e:
        return e


def _assert_same(ours, theirs, rtol=1e-6):
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (ours.dtype, theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    rtol, atol = (2e-3, 1e-3) if ours.dtype == np.float16 else (rtol, 1e-6)
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", UNARY_DTYPE_OPS)
def test_unary_dtypes_match_torch(op, dtype):
    x = _sample(dtype)
    fn = fn_of(op)
    theirs = _torch_or_error(fn, x)
    if isinstance(theirs, Exception):
        if (op, dtype) in EXTENSIONS:
            assert fn(_tensor(x)).shape == x.shape
        else:
            with pytest.raises(type(theirs)):
                fn(_tensor(x))
        return
    assert (op, dtype) not in EXTENSIONS, "torch supports it now: drop it from EXTENSIONS"
    _assert_same(fn(_tensor(x)), theirs, rtol=1e-5)


BINARY_DTYPE_OPS = ["atan2", "copysign", "xlogy", "fmod", "remainder", "fmax", "fmin", "float_power",
                    "hypot", "logaddexp"]
BINARY_EXTENSIONS = {(op, d) for op in ("hypot", "logaddexp") for d in ("int64", "int32", "bool")}  # float32


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", BINARY_DTYPE_OPS)
def test_binary_dtypes_match_torch(op, dtype):
    x, y = _sample(dtype), _sample(dtype)[::-1].copy()
    if dtype != "bool":
        y = np.where(y == 0, 3, y).astype(dtype)
    fn = fn_of(op)
    theirs = _torch_or_error(lambda a: fn(a, torch.from_numpy(y)), x)
    if isinstance(theirs, Exception):
        if (op, dtype) in BINARY_EXTENSIONS:
            assert fn(_tensor(x), _tensor(y)).dtype == np.float32
        else:
            with pytest.raises(type(theirs)):
                fn(_tensor(x), _tensor(y))
        return
    assert (op, dtype) not in BINARY_EXTENSIONS, "torch supports it now: drop it from BINARY_EXTENSIONS"
    _assert_same(fn(_tensor(x), _tensor(y)), theirs, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["int64", "float32"])
@pytest.mark.parametrize("op", ["copysign", "fmod", "remainder", "xlogy", "float_power"])
def test_python_float_beside_a_tensor_gives_torch_dtype(op, dtype):
    x = _sample(dtype)
    x = np.where(x == 0, 1, x).astype(dtype)
    ours, theirs = getattr(Tensor(x), op)(2.5), getattr(torch.from_numpy(x), op)(2.5)
    _assert_same(ours, theirs, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2, 10])
def test_round_decimals_is_bitwise_torch(dtype, decimals):
    x = np.array([2.675, 1234.5678, -0.125, 0.5, 1.5, -2.5, 1e30, 3e38, 1e-30, np.inf, np.nan, -0.0],
                 dtype=dtype)
    ours, theirs = Tensor(x).round(decimals=decimals), torch.from_numpy(x).round(decimals=decimals)
    assert ours.dtype == x.dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_every_function_is_torchs_and_documented():
    from autograd.ops import bitwise, pointwise
    for name in pointwise.__all__ + bitwise.__all__:
        fn = getattr(autograd, name)
        assert hasattr(torch, name), f"torch has no {name}"
        assert fn.__doc__ and fn.__qualname__ == name and fn.__module__.startswith("autograd")
        params = list(__import__("inspect").signature(fn).parameters)
        assert params[0] == "input", (name, params)


def test_integer_fmod_and_remainder_by_zero_raise_like_torch():
    for op in ("fmod", "remainder"):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            getattr(Tensor(np.array([1, 2])), op)(0)


def is_torch(x):
    return isinstance(x, torch.Tensor)


def test_remainder_with_a_number_first():
    # torch has no derivative for remainder(number, tensor): values against torch, gradient by differences
    x = away(3, 4)
    np.testing.assert_allclose(autograd.remainder(2.0, Tensor(x)).numpy(),
                               torch.remainder(2.0, torch.tensor(x)).numpy(), rtol=1e-15)
    assert gradcheck(lambda t: autograd.remainder(2.0, t), [Tensor(x, requires_grad=True)])


def test_function_forms_and_result_dtypes():
    x = Tensor(np.array([0.25, -0.5]))
    assert autograd.isnan(x).dtype == np.bool_ and not autograd.isnan(x).requires_grad
    np.testing.assert_array_equal(autograd.tan(x).numpy(), np.tan(x.numpy()))
    assert autograd.round(x, decimals=1).tolist() == [0.2, -0.5]
    assert autograd.nan_to_num(Tensor(np.array([np.nan, np.inf])), posinf=3.0).tolist() == [0.0, 3.0]
    assert autograd.floor.__doc__ == Tensor.floor.__doc__
    assert "input" in str(__import__("inspect").signature(autograd.lerp))


# -- comparisons --------------------------------------------------------------------------------------
CMP_A = np.array([[1.0, 2.0, np.nan], [-0.0, np.inf, 3.0]])
CMP_B = np.array([1.0, 2.5, np.nan])


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_methods_and_functions(op):
    a, b = Tensor(CMP_A), Tensor(CMP_B)
    expected = getattr(torch, op)(torch.tensor(CMP_A), torch.tensor(CMP_B)).numpy()
    for ours in (getattr(a, op)(b), getattr(autograd, op)(a, b)):
        assert ours.dtype == np.bool_
        np.testing.assert_array_equal(ours.numpy(), expected)
    np.testing.assert_array_equal(getattr(a, op)(2.0).numpy(), getattr(torch.tensor(CMP_A), op)(2.0).numpy())


CLOSE_A = np.array([1.0, 1.0, np.inf, np.inf, np.nan, 0.0, 1e-9, 100.0, -np.inf, 1.0])
CLOSE_B = np.array([1.0 + 1e-6, 1.1, np.inf, -np.inf, np.nan, 1e-8, 0.0, 100.001, -np.inf, np.nan])


@pytest.mark.parametrize("kw", [{}, {"equal_nan": True}, {"rtol": 0.2}, {"atol": 1e-3, "rtol": 0.0},
                                {"rtol": 0.0, "atol": 0.0}])
def test_isclose_allclose_match_torch(kw):
    a, b = Tensor(CLOSE_A), Tensor(CLOSE_B)
    ta, tb = torch.tensor(CLOSE_A), torch.tensor(CLOSE_B)
    np.testing.assert_array_equal(a.isclose(b, **kw).numpy(), torch.isclose(ta, tb, **kw).numpy())
    np.testing.assert_array_equal(autograd.isclose(a, b, **kw).numpy(), torch.isclose(ta, tb, **kw).numpy())
    for sl in (slice(None), slice(0, 2), slice(2, 3), slice(4, 5)):
        ours = autograd.allclose(a[sl], b[sl], **kw)
        assert type(ours) is bool and ours == torch.allclose(ta[sl], tb[sl], **kw)


def test_isclose_broadcasts_and_rejects_mixed_dtypes_like_torch():
    a = Tensor(np.array([[1.0], [2.0]]))
    assert a.isclose(Tensor(np.array([1.0, 2.0]))).shape == (2, 2)
    with pytest.raises(RuntimeError):
        Tensor(np.array([1, 2])).isclose(Tensor(np.array([1.0, 2.0])))


@pytest.mark.parametrize("a, b", [([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 2.5]), ([1.0], [1.0, 1.0]),
                                  ([[1.0, 2.0]], [1.0, 2.0]), ([np.nan], [np.nan]), ([1, 2], [1.0, 2.0]),
                                  ([], [])])
def test_equal_matches_torch(a, b):
    ours = autograd.equal(Tensor(np.array(a)), Tensor(np.array(b)))
    assert type(ours) is bool and ours == torch.equal(torch.tensor(np.array(a)), torch.tensor(np.array(b)))
    assert Tensor(np.array(a)).equal(Tensor(np.array(b))) == ours


def test_clamp_tensor_bounds_dtype_and_shape_errors():
    x = Tensor(np.array([-3, 0, 4]))
    out = x.clamp(Tensor(np.array([-1, -1, -1])), Tensor(np.array([2, 2, 2])))
    assert out.dtype == np.int64 and out.tolist() == [-1, 0, 2]
    assert x.clamp(min=Tensor(np.array([0.5], dtype=np.float32))).dtype == np.float32
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        x.clamp(Tensor(np.array([1, 2])))


# -- Hypothesis: random shapes (0-d and size-0), no mutation, no aliasing ---------------------------------
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
ANY = st.floats(-3, 3, allow_nan=False, width=64)
UNIT = st.floats(-0.9, 0.9)
POS = st.floats(0.25, 3)
AWAY = st.one_of(st.floats(-3, -0.25), st.floats(0.25, 3))

HYP_UNARY = {"tan": UNIT, "asin": UNIT, "acos": UNIT, "atanh": UNIT, "erfinv": UNIT, "sinh": ANY,
             "asinh": ANY, "erfc": ANY, "expm1": ANY, "log2": POS, "log1p": POS, "rsqrt": POS, "frac": ANY,
             "floor": ANY, "sign": ANY, "reciprocal": AWAY, "logit": st.floats(0.05, 0.95)}
HYP_BINARY = {"atan2": (ANY, AWAY), "hypot": (AWAY, AWAY), "logaddexp": (ANY, ANY), "xlogy": (ANY, POS),
              "fmod": (ANY, AWAY), "remainder": (ANY, AWAY), "fmax": (ANY, ANY), "copysign": (AWAY, AWAY),
              "float_power": (POS, ANY)}


def shapes(n, min_side=1):
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3, min_side=min_side,
                                             max_side=3)


@pytest.mark.parametrize("op", list(HYP_UNARY))
@SETTINGS
@given(data=st.data())
def test_unary_random_shapes(op, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    x = data.draw(hnp.arrays(np.float64, shape, elements=HYP_UNARY[op]))
    assert_grads_match_torch(fn_of(op), x, second_order=True)


@pytest.mark.parametrize("op", list(HYP_BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_random_shapes(op, data):
    (sa, sb), _ = data.draw(shapes(2, min_side=0))
    ea, eb = HYP_BINARY[op]
    a = data.draw(hnp.arrays(np.float64, sa, elements=ea))
    b = data.draw(hnp.arrays(np.float64, sb, elements=eb))
    assert_grads_match_torch(fn_of(op), a, b, second_order=True)


@SETTINGS
@given(data=st.data())
def test_clamp_tensor_bounds_random_shapes(data):
    (_, slo, shi), sx = data.draw(shapes(3, min_side=0))  # x of the full shape (torch fails otherwise)
    x, lo, hi = (data.draw(hnp.arrays(np.float64, s, elements=ANY)) for s in (sx, slo, shi))
    assert_grads_match_torch(lambda x, lo, hi: x.clamp(lo, hi), x, lo, hi, second_order=True)


ALIASING = {"copysign": lambda a, b: a.copysign(b), "fmax": lambda a, b: a.fmax(b),
            "lerp": lambda a, b: a.lerp(b, 0.5), "clamp": lambda a, b: a.clamp(b, None),
            "floor": lambda a, b: a.floor() + b, "nan_to_num": lambda a, b: a.nan_to_num() * b}


@pytest.mark.parametrize("name", list(ALIASING))
@SETTINGS
@given(data=st.data())
def test_inputs_unchanged_and_grads_not_aliased(name, data):
    (sa, sb), _ = data.draw(shapes(2))
    a0 = data.draw(hnp.arrays(np.float64, sa, elements=ANY))
    b0 = data.draw(hnp.arrays(np.float64, sb, elements=ANY))
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    out = ALIASING[name](a, b)
    v = np.random.default_rng(0).standard_normal(out.shape)
    v0 = v.copy()
    out.backward(gradient=v)
    np.testing.assert_array_equal(a.detach().numpy(), a0)
    np.testing.assert_array_equal(b.detach().numpy(), b0)
    np.testing.assert_array_equal(v, v0)
    arrays = {"a": a.detach().numpy(), "b": b.detach().numpy(), "out": out.detach().numpy(), "v": v}
    arrays.update({f"{k}.grad": t.grad.numpy() for k, t in (("a", a), ("b", b)) if t.grad is not None})
    names = list(arrays)
    for i, p in enumerate(names):
        for q in names[i + 1:]:
            assert not np.shares_memory(arrays[p], arrays[q]), f"{p} shares memory with {q}"
