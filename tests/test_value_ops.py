"""Every ``Value`` op against PyTorch float64 scalars: values and gradients, first and higher order.

Each case is one lambda run on ``Value``s and on 0-d ``torch.float64`` tensors (both engines share the
operators and the method names), so the expected numbers always come from torch.
"""
import math

import pytest

import autograd
from autograd import Value

torch = pytest.importorskip("torch")

INF, NAN = math.inf, math.nan


def same(ours, theirs, rtol=1e-12, atol=1e-300):
    """Equal as IEEE floats (nan matches nan, inf matches same-signed inf) or within rtol."""
    if math.isnan(theirs):
        return math.isnan(ours)
    if math.isinf(theirs):
        return ours == theirs
    return math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol)


def run_ours(fn, *xs):
    vs = [Value(x) for x in xs]
    out = fn(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


def run_torch(fn, *xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    out.backward()
    return out.item(), [0.0 if t.grad is None else t.grad.item() for t in ts]


def check(fn, *xs, rtol=1e-12):
    data, grads = run_ours(fn, *xs)
    tdata, tgrads = run_torch(fn, *xs)
    assert same(data, tdata, rtol), f"value at {xs}: ours {data!r}, torch {tdata!r}"
    for i, (g, tg) in enumerate(zip(grads, tgrads)):
        assert type(g) is float
        assert same(g, tg, rtol), f"grad of input {i} at {xs}: ours {g!r}, torch {tg!r}"


POINTS = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5]
NONZERO = [p for p in POINTS if p != 0]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_on_two_values(name):
    for a in POINTS:
        for b in POINTS:
            check(BINARY[name], a, b)


NUMBER_FORMS = {
    "v+2": lambda v: v + 2, "2+v": lambda v: 2 + v,
    "v-2": lambda v: v - 2, "2-v": lambda v: 2 - v,
    "v*2": lambda v: v * 2, "2*v": lambda v: 2 * v,
    "v/2": lambda v: v / 2, "2/v": lambda v: 2 / v,
    "2**v": lambda v: 2 ** v, "0.5**v": lambda v: 0.5 ** v, "0**v": lambda v: 0.0 ** v,
    "-v": lambda v: -v, "abs": lambda v: abs(v),
    "v+2.5f": lambda v: v + 2.5, "1.5-v": lambda v: 1.5 - v,
}


@pytest.mark.parametrize("name", sorted(NUMBER_FORMS))
def test_number_operands_and_reversed_forms(name):
    for x in POINTS:
        check(NUMBER_FORMS[name], x)


@pytest.mark.parametrize("k", [2, 3, 0, 1, -1, -2, 0.5, -0.5, 2.5, 1 / 3])
def test_pow_number_exponent(k):
    for x in POINTS:
        check(lambda v: v ** k, x)


UNARY = ["relu", "tanh", "sigmoid", "exp", "log", "sqrt"]
EDGES = POINTS + [-0.0, -1000.0, 1000.0, -50.0, 50.0, 709.0, 710.0, -745.0, 1e-300, INF, -INF]


@pytest.mark.parametrize("name", UNARY)
def test_unary_methods(name):
    for x in EDGES:
        check(lambda v: getattr(v, name)(), x)


@pytest.mark.parametrize("name", UNARY + ["neg", "abs"])
def test_unary_chain_rule_with_upstream_gradient(name):
    f = {"neg": lambda v: -v, "abs": abs}.get(name, lambda v: getattr(v, name)())
    for x in [0.3, 1.7, -0.4]:
        check(lambda v: f(v * 1.5 + 0.25) * 3.0, abs(x) if name in ("log", "sqrt") else x)


def test_large_magnitudes_stay_finite():
    for v, grad in [(Value(1000.0).sigmoid(), 0.0), (Value(-1000.0).sigmoid(), 0.0),
                    (Value(1000.0).tanh(), 0.0), (Value(-1000.0).tanh(), 0.0),
                    (Value(-1000.0).exp(), 0.0)]:
        v.backward()
        assert math.isfinite(v.data)
        assert math.isfinite(v._prev[0].grad) and v._prev[0].grad == grad
    assert Value(1000.0).sigmoid().data == 1.0 and Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).tanh().data == 1.0 and Value(-1000.0).tanh().data == -1.0


@pytest.mark.parametrize("fn, xs", [
    (lambda v: v.log(), (0.0,)),
    (lambda v: v.log(), (-1.0,)),
    (lambda v: v.sqrt(), (-4.0,)),
    (lambda v: v.sqrt(), (0.0,)),
    (lambda v: v ** -1, (0.0,)),
    (lambda v: v ** -2, (0.0,)),
    (lambda v: v ** -0.5, (0.0,)),
    (lambda v: v ** 0.5, (-2.0,)),
    (lambda a, b: a ** b, (0.0, -1.0)),
    (lambda a, b: a ** b, (0.0, -2.5)),
    (lambda a, b: a ** b, (-2.0, 0.5)),
    (lambda a, b: a ** b, (10.0, 400.0)),
    (lambda a, b: a ** b, (-10.0, 401.0)),
    (lambda v: v ** 200, (1e10,)),
    (lambda a, b: a / b, (1.0, 0.0)),
    (lambda a, b: a / b, (-1.0, 0.0)),
    (lambda a, b: a / b, (0.0, 0.0)),
    (lambda v: 1 / v, (0.0,)),
    (lambda a, b: a * b, (1e200, 1e200)),
    (lambda v: v.exp(), (1000.0,)),
    (lambda v: (v * v).log(), (0.0,)),
])
def test_ieee_edge_values_match_torch_without_exceptions(fn, xs):
    check(fn, *xs)


def test_nan_input_propagates_like_torch():
    for name in ["relu", "tanh", "sigmoid", "exp", "log", "sqrt"]:
        check(lambda v: getattr(v, name)(), NAN)
    check(lambda v: abs(v) - v, NAN)
    for fn in BINARY.values():
        check(fn, NAN, 2.0)
        check(fn, 2.0, NAN)


def test_results_are_floats_and_grads_start_at_zero():
    v = Value(3)
    assert type(v.data) is float and v.grad == 0.0 and type(v.grad) is float
    for out in [v + 1, 1 + v, v * 2, v / 2, 2 / v, v ** 2, 2 ** v, -v, abs(v), v.relu(), v.tanh(),
                v.sigmoid(), v.exp(), v.log(), v.sqrt()]:
        assert type(out.data) is float and type(out.grad) is float


def test_ints_bools_and_numpy_scalars_are_accepted():
    np = pytest.importorskip("numpy")
    assert Value(True).data == 1.0
    assert Value(np.float32(0.5)).data == 0.5
    assert (np.float64(2.0) * Value(3.0)).data == 6.0  # NumPy defers to Value.__rmul__
    assert (Value(3.0) - np.int64(1)).data == 2.0


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", ["a", None, [1.0], (1.0,), {}, 1 + 2j, b"1"])
def test_bad_data_is_a_type_error(data):
    with pytest.raises(TypeError, match="real number"):
        Value(data)


def test_value_of_a_value_is_a_type_error_with_a_hint():
    with pytest.raises(TypeError, match=r"\.data"):
        Value(Value(1.0))


def test_bad_label_is_a_type_error():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


@pytest.mark.parametrize("fn", [
    lambda v: v + "x", lambda v: "x" + v, lambda v: v - "x", lambda v: "x" - v,
    lambda v: v * "x", lambda v: "x" * v, lambda v: v / "x", lambda v: "x" / v,
    lambda v: v ** "x", lambda v: "x" ** v, lambda v: v + None, lambda v: None * v,
    lambda v: v + [1.0], lambda v: [1.0] + v, lambda v: v * 1j,
])
def test_bad_operands_are_type_errors(fn):
    with pytest.raises(TypeError):
        fn(Value(1.0))


def test_numpy_array_operand_is_a_type_error():
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError):
        Value(1.0) + np.array([1.0, 2.0])
    with pytest.raises(TypeError):
        np.array([1.0, 2.0]) * Value(1.0)


def test_bad_backward_gradient_is_a_type_error():
    with pytest.raises(TypeError, match="gradient"):
        (Value(1.0) * 2).backward("1")


# -- micrograd's published examples, expected numbers from torch (and micrograd itself) ----------
def micrograd_sanity(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def micrograd_more_ops(a, b):
    """The README example (also micrograd's test_more_ops); ``+=`` rebinds, as in the original."""
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def test_micrograd_sanity_check():
    x = Value(-4.0)
    y = micrograd_sanity(x)
    y.backward()
    xt = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    yt = micrograd_sanity(xt)
    yt.backward()
    assert y.data == yt.item()
    assert x.grad == xt.grad.item()


def test_micrograd_readme_example():
    a, b = Value(-4.0), Value(2.0)
    g = micrograd_more_ops(a, b)
    g.backward()
    at = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    gt = micrograd_more_ops(at, bt)
    gt.backward()
    assert math.isclose(g.data, gt.item(), rel_tol=1e-12)
    assert math.isclose(a.grad, at.grad.item(), rel_tol=1e-12)
    assert math.isclose(b.grad, bt.grad.item(), rel_tol=1e-12)
    # the README prints these to 4 decimals; the printed strings must agree with torch's too
    assert f"{g.data:.4f}" == f"{gt.item():.4f}"
    assert f"{a.grad:.4f}" == f"{at.grad.item():.4f}"
    assert f"{b.grad:.4f}" == f"{bt.grad.item():.4f}"


def test_micrograd_examples_match_micrograd_itself():
    mg = pytest.importorskip("micrograd.engine")
    a, b = Value(-4.0), Value(2.0)
    g = micrograd_more_ops(a, b)
    g.backward()
    ma, mb = mg.Value(-4.0), mg.Value(2.0)
    mgg = micrograd_more_ops(ma, mb)
    mgg.backward()
    assert math.isclose(g.data, mgg.data, rel_tol=1e-12)
    assert math.isclose(a.grad, ma.grad, rel_tol=1e-12)
    assert math.isclose(b.grad, mb.grad, rel_tol=1e-12)


# -- second and third order against torch.autograd.grad(create_graph=True) ------------------------
SECOND_ORDER = {
    "poly": (lambda x: x ** 3 - 2 * x * x + 1 / x, [0.7, -1.3, 2.0]),
    "pow_value_exponent": (lambda x: x ** (x * 0.5 + 1), [0.7, 1.3, 2.0]),
    "number_to_value_power": (lambda x: 2.0 ** (x * x), [0.7, -1.3]),
    "tanh": (lambda x: (2 * x).tanh() * x, [0.3, -0.8, 2.0]),
    "sigmoid": (lambda x: (x * x).sigmoid() + (-x).sigmoid(), [0.3, -0.8, 4.0]),
    "exp_log": (lambda x: (x.exp() + x * x).log(), [0.3, -0.8, 2.0]),
    "div": (lambda x: (x + 1) / (x * x + 2), [0.3, -0.8, 2.0]),
    "sqrt_abs": (lambda x: (abs(x) + 1).sqrt() * x, [0.3, -0.8]),
    "relu": (lambda x: (x * x * x).relu() + x.relu() * x, [0.5, -0.5]),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_matches_torch(name):
    fn, points = SECOND_ORDER[name]
    for p in points:
        x = Value(p)
        (dx,) = autograd.grad(fn(x), x, create_graph=True)
        assert isinstance(dx, Value)
        (ddx,) = autograd.grad(dx, x)
        xt = torch.tensor(p, dtype=torch.float64, requires_grad=True)
        (dxt,) = torch.autograd.grad(fn(xt), xt, create_graph=True)
        (ddxt,) = torch.autograd.grad(dxt, xt)
        assert same(dx.data, dxt.item(), 1e-12), (name, p, dx.data, dxt.item())
        assert same(ddx.data, ddxt.item(), 1e-10), (name, p, ddx.data, ddxt.item())


def test_mixed_second_order_of_pow_with_value_exponent():
    def fn(a, b):
        return a ** b * (a + b).tanh()

    a, b = Value(1.7), Value(0.6)
    da, db = autograd.grad(fn(a, b), [a, b], create_graph=True)
    d2 = autograd.grad(da + 2 * db, [a, b])
    at = torch.tensor(1.7, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(0.6, dtype=torch.float64, requires_grad=True)
    dat, dbt = torch.autograd.grad(fn(at, bt), [at, bt], create_graph=True)
    d2t = torch.autograd.grad(dat + 2 * dbt, [at, bt])
    for ours, theirs in zip([da, db, *d2], [dat, dbt, *d2t]):
        assert same(ours.data, theirs.item(), 1e-10)


def test_third_order_matches_torch():
    def fn(x):
        return (x * 0.5).tanh() * x.exp() / (1 + x * x) + x ** (x * x + 1)

    for p in [0.4, 1.3]:
        x = Value(p)
        (d1,) = autograd.grad(fn(x), x, create_graph=True)
        (d2,) = autograd.grad(d1, x, create_graph=True)
        (d3,) = autograd.grad(d2, x)
        xt = torch.tensor(p, dtype=torch.float64, requires_grad=True)
        (d1t,) = torch.autograd.grad(fn(xt), xt, create_graph=True)
        (d2t,) = torch.autograd.grad(d1t, xt, create_graph=True)
        (d3t,) = torch.autograd.grad(d2t, xt)
        for ours, theirs in [(d1, d1t), (d2, d2t), (d3, d3t)]:
            assert same(ours.data, theirs.item(), 1e-10), (p, ours.data, theirs.item())


def test_backward_create_graph_gives_value_grads():
    x = Value(1.5)
    y = x * x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and math.isclose(x.grad.data, 3 * 1.5 ** 2)
    g = x.grad
    x.grad = 0.0
    g.backward()
    assert math.isclose(x.grad, 6 * 1.5)


def test_methods_work_when_a_user_stores_an_int_in_data():
    np = pytest.importorskip("numpy")
    for stored in [3, np.float32(3.0), 0, -2]:
        for name in ["relu", "tanh", "sigmoid", "exp", "log", "sqrt"]:
            v = Value(1.0)
            v.data = stored  # as micrograd users do with p.data
            out = getattr(v, name)()
            out.backward()
            ref_data, (ref_grad,) = run_torch(lambda t: getattr(t, name)(), float(stored))
            assert same(float(out.data), ref_data, 1e-6) and same(float(v.grad), ref_grad, 1e-6)
