"""In-place semantics against torch: the manual-update tutorial, every ``_`` op on non-leaf tensors
(values, gradients, version errors), leaf rules, per-thread grad mode, and masked gradients with
``inf`` upstream."""
import threading

import numpy as np
import pytest

import autograd
import nn

torch = pytest.importorskip("torch")

LIBS = {"torch": torch, "chainrule": autograd}


def leaf(lib, values):
    """A float64 leaf that requires grad, from a list or array."""
    return lib.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def arr(t):
    """The NumPy values of a tensor of either library."""
    return None if t is None else np.asarray(t.detach().numpy(), dtype=np.float64)


def outcome(fn, lib):
    """fn(lib) -> its result, or ('error', built-in exception type) if it raised."""
    try:
        return fn(lib)
    except Exception as exc:  # the exception type is what is compared
        return ("error", next(c for c in type(exc).__mro__ if c.__module__ == "builtins").__name__)


# -- 2. the manual-update tutorial -----------------------------------------------------------------
def regression_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = x @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(n)
    w0, b0 = rng.standard_normal(3), np.zeros(1)
    return x, y, w0, b0


def update_rebind(lib, w, b, lr):
    with lib.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad = None
    b.grad = None


def update_data(lib, w, b, lr):
    w.data -= lr * w.grad
    b.data -= lr * b.grad
    w.grad = None
    b.grad = None


def update_zero_(lib, w, b, lr):
    with lib.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad.zero_()


def train_linear_regression(lib, update, steps=50, lr=0.05):
    """Manual gradient descent on MSE; returns (w, b, losses) as NumPy."""
    x_np, y_np, w0, b0 = regression_data()
    x, y = lib.tensor(x_np), lib.tensor(y_np)
    w, b = leaf(lib, w0), leaf(lib, b0)
    losses = []
    for _ in range(steps):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        update(lib, w, b, lr)
        losses.append(loss.item())
        assert w.is_leaf and w.requires_grad and b.is_leaf and b.requires_grad
    return arr(w), arr(b), np.array(losses)


@pytest.mark.parametrize("update", [update_rebind, update_data, update_zero_], ids=lambda f: f.__name__)
def test_manual_update_tutorial_matches_torch(update):
    expected = train_linear_regression(torch, update)
    got = train_linear_regression(autograd, update)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    assert got[2][-1] < got[2][0] / 5  # it trained


# -- 3. in-place ops on non-leaf tensors -----------------------------------------------------------
X = [0.3, 1.2, 2.5, 0.7]
OTHER = [0.9, -0.4, 1.1, 2.0]
MASK = [True, False, True, False]
INPLACE = [
    ("add_", lambda lib, y, o: y.add_(o)),
    ("add_alpha", lambda lib, y, o: y.add_(o, alpha=-2.0)),
    ("add_scalar", lambda lib, y, o: y.add_(3.0)),
    ("sub_", lambda lib, y, o: y.sub_(o)),
    ("mul_", lambda lib, y, o: y.mul_(o)),
    ("mul_scalar", lambda lib, y, o: y.mul_(-1.5)),
    ("div_", lambda lib, y, o: y.div_(o)),
    ("pow_", lambda lib, y, o: y.pow_(3)),
    ("pow_tensor", lambda lib, y, o: y.pow_(o)),
    ("neg_", lambda lib, y, o: y.neg_()),
    ("clamp_", lambda lib, y, o: y.clamp_(0.5, 2.0)),
    ("clamp_min", lambda lib, y, o: y.clamp_(min=1.0)),
    ("exp_", lambda lib, y, o: y.exp_()),
    ("log_", lambda lib, y, o: y.log_()),
    ("sqrt_", lambda lib, y, o: y.sqrt_()),
    ("abs_", lambda lib, y, o: y.sub_(1.5).abs_()),
    ("sin_", lambda lib, y, o: y.sin_()),
    ("cos_", lambda lib, y, o: y.cos_()),
    ("tanh_", lambda lib, y, o: y.tanh_()),
    ("sigmoid_", lambda lib, y, o: y.sigmoid_()),
    ("relu_", lambda lib, y, o: y.sub_(1.5).relu_()),
    ("zero_", lambda lib, y, o: y.zero_()),
    ("fill_", lambda lib, y, o: y.fill_(2.0)),
    ("copy_", lambda lib, y, o: y.copy_(o)),
    ("masked_fill_", lambda lib, y, o: y.masked_fill_(lib.tensor(MASK), -1.0)),
    ("iadd", lambda lib, y, o: y.__iadd__(o)),
    ("isub", lambda lib, y, o: y.__isub__(o)),
    ("imul", lambda lib, y, o: y.__imul__(o)),
    ("itruediv", lambda lib, y, o: y.__itruediv__(o)),
    ("chain", lambda lib, y, o: y.mul_(o).add_(1.0).exp_()),
]


def run_inplace(lib, op):
    """y = x * 1.5; op(y, other) in place; weighted sum backward; (y, x.grad, other.grad)."""
    x, other = leaf(lib, X), leaf(lib, OTHER)
    y = x * 1.5
    returned = op(lib, y, other)
    assert returned is y and not y.is_leaf
    (y * lib.tensor(np.arange(1.0, 5.0))).sum().backward()
    return arr(y), arr(x.grad), arr(other.grad)


def inplace_cases():
    """INPLACE as params (entries already a pytest.param keep their xfail mark)."""
    for case in INPLACE:
        if hasattr(case, "marks"):
            yield pytest.param(case.values[1], id=case.values[0], marks=case.marks)
        else:
            yield pytest.param(case[1], id=case[0])


@pytest.mark.parametrize("op", list(inplace_cases()))
def test_inplace_on_non_leaf_matches_torch(op):
    expected = run_inplace(torch, op)
    got = run_inplace(autograd, op)
    for name, e, g in zip(("value", "x.grad", "other.grad"), expected, got):
        if e is None:
            assert g is None, f"{name}: torch None, chainrule {g}"
        else:
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14, err_msg=name)


def saved_then_changed(make, change, via_detach=False):
    """y = make(x); change y (or y.detach()) in place; backward; x.grad or the error."""
    def fn(lib):
        x = leaf(lib, X)
        y = make(x)
        change(y.detach() if via_detach else y)
        y.sum().backward()
        return arr(x.grad)
    return fn


# (id, y = make(x), change(y)); torch raises the version error for the ops that save their output
VERSION = [
    ("exp_add_", lambda x: x.exp(), lambda y: y.add_(1)),
    ("exp_exp_", lambda x: x.exp(), lambda y: y.exp_()),
    ("sigmoid_mul_", lambda x: x.sigmoid(), lambda y: y.mul_(2)),
    ("tanh_add_", lambda x: x.tanh(), lambda y: y.add_(1)),
    ("sqrt_mul_", lambda x: x.sqrt(), lambda y: y.mul_(2)),
    ("relu_mul_", lambda x: x.relu(), lambda y: y.mul_(2)),
    ("sin_add_", lambda x: x.sin(), lambda y: y.add_(1)),
    ("pow_add_", lambda x: x ** 2, lambda y: y.add_(1)),
    ("mul_add_", lambda x: x * 2, lambda y: y.add_(1)),
    ("log_mul_", lambda x: x.log(), lambda y: y.mul_(3)),
    ("exp_setitem", lambda x: x.exp(), lambda y: y.__setitem__(0, 5.0)),
    ("exp_zero_", lambda x: x.exp(), lambda y: y.zero_()),
]


def version_cases():
    """VERSION x (direct, detached) as params."""
    for via_detach in (False, True):
        for n, m, c in VERSION:
            yield pytest.param(m, c, via_detach, id=f"{n}-{'detached' if via_detach else 'direct'}")


@pytest.mark.parametrize("make,change,via_detach", list(version_cases()))
def test_version_errors_where_torch_raises(make, change, via_detach):
    fn = saved_then_changed(make, change, via_detach)
    expected, got = outcome(fn, torch), outcome(fn, autograd)
    if isinstance(expected, tuple) or isinstance(got, tuple):
        assert isinstance(got, tuple) and got == expected, f"torch: {expected}, chainrule: {got}"
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_version_error_names_the_versions():
    x = leaf(autograd, X)
    y = x.exp()
    y.add_(1)
    expected = r"modified by an inplace operation.*version 1; expected version 0"
    with pytest.raises(RuntimeError, match=expected):
        y.sum().backward()


def interleaved_changes(lib, order):
    """Two graphs recorded, then in-place changes (``order``: which of an unrelated tensor ``u`` and
    the first graph's saved input ``w`` is changed), then both backwards: the check sees only what
    each graph saved, however many changes happened elsewhere in between."""
    w, u = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
    with lib.no_grad():
        w2, u2 = w * 1, u * 1  # tensors that do not require grad, changed in place below
    w2.requires_grad_(True)
    first = (w2 * w2).sum()     # saves w2
    second = (u * u).sum()      # saves u (a leaf: not changed)
    for name in order:
        with lib.no_grad():
            {"u": u2, "w": w2}[name].add_(1.0)
    results = []
    for loss in (second, first):
        try:
            loss.backward()
            results.append("ok")
        except RuntimeError:
            results.append("error")
    return results


@pytest.mark.parametrize("order", [(), ("u",), ("u", "u"), ("w",), ("u", "w"), ("w", "u")])
def test_version_check_after_unrelated_changes(order):
    assert interleaved_changes(autograd, order) == interleaved_changes(torch, order)


def test_detach_shares_the_version_counter():
    x = leaf(autograd, X)
    y = x.exp()
    d = y.detach()
    before = y._version
    d.mul_(2)
    assert y._version == d._version == before + 1
    np.testing.assert_allclose(arr(y), 2 * np.exp(X))


LEAF_CHANGES = [
    ("add_", lambda w: w.add_(1.0)),
    ("mul_", lambda w: w.mul_(2.0)),
    ("zero_", lambda w: w.zero_()),
    ("fill_", lambda w: w.fill_(0.5)),
    ("iadd", lambda w: w.__iadd__(1.0)),
    ("isub", lambda w: w.__isub__(1.0)),
    ("setitem", lambda w: w.__setitem__(0, 3.0)),
    ("normal_", lambda w: w.normal_(0, 0.01)),
    ("clamp_", lambda w: w.clamp_(0.0, 1.0)),
    ("copy_", lambda w: w.copy_(w.detach() * 2)),
]


@pytest.mark.parametrize("change", [pytest.param(c, id=n) for n, c in LEAF_CHANGES])
@pytest.mark.parametrize("lib", ["torch", "chainrule"])
def test_inplace_on_leaf_that_requires_grad(lib, change):
    lib = LIBS[lib]
    w = leaf(lib, X)
    with pytest.raises(RuntimeError, match="leaf"):
        change(w)
    with lib.no_grad():
        result = change(w)
    assert result in (None, w) and w.is_leaf and w.requires_grad and w.grad_fn is None


def test_inplace_on_leaf_values_under_no_grad_match_torch():
    results = []
    for lib in (torch, autograd):
        w = leaf(lib, X)
        with lib.no_grad():
            w += 1.0
            w.mul_(2.0)
            w[1] = -7.0
            w.clamp_(max=4.0)
        (w * w).sum().backward()
        results.append((arr(w), arr(w.grad)))
    for e, g in zip(*results):
        np.testing.assert_allclose(g, e, rtol=1e-12)


# chainrule's documented limitations: torch succeeds, chainrule raises a RuntimeError naming them
LIMITS = [
    ("changed_after_use", lambda y: (y + 1, y.mul_(2)), "after a recorded operation used it"),
    ("changed_after_use_iadd", lambda y: (y.sum(), y.__iadd__(1.0)), "after a recorded operation used it"),
    ("view_mul_", lambda y: y[0:2].mul_(2), "view"),
    ("view_setitem_on_view", lambda y: y[1:].__setitem__(0, 1.0), "view"),
]


@pytest.mark.parametrize("change,message", [pytest.param(c, m, id=n) for n, c, m in LIMITS])
def test_documented_inplace_limitations(change, message):
    tx = leaf(torch, X)
    ty = tx * 1.5
    change(ty)
    ty.sum().backward()  # torch: fine
    assert tx.grad is not None
    y = leaf(autograd, X) * 1.5
    with pytest.raises(RuntimeError, match=message) as info:
        change(y)
    assert "chainrule" in str(info.value)


# -- 4. grad mode is per thread --------------------------------------------------------------------
def test_grad_mode_is_per_thread_with_interleaving():
    barrier = threading.Barrier(2)
    seen = {}

    def in_no_grad():
        barrier.wait()
        with autograd.no_grad():
            barrier.wait()  # the trainer records while this thread is inside no_grad
            barrier.wait()
            seen["inside"] = autograd.is_grad_enabled()
        barrier.wait()  # leave no_grad before the trainer leaves its own
        seen["after_no_grad_thread"] = autograd.is_grad_enabled()

    def trainer():
        model = nn.Linear(3, 1)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        x = autograd.tensor(np.ones((2, 3)))
        barrier.wait()
        barrier.wait()
        loss = model(x).sum()
        seen["trainer_records"] = loss.requires_grad
        barrier.wait()
        with autograd.no_grad():
            barrier.wait()
            seen["trainer_inside"] = autograd.is_grad_enabled()
        loss.backward()
        opt.step()
        seen["trainer_after"] = autograd.is_grad_enabled()
        seen["trainer_grad"] = model.weight.grad is not None
        seen["trainer_records_again"] = model(x).requires_grad

    threads = [threading.Thread(target=in_no_grad), threading.Thread(target=trainer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert seen == {"inside": False, "after_no_grad_thread": True, "trainer_records": True,
                    "trainer_inside": False, "trainer_after": True, "trainer_grad": True,
                    "trainer_records_again": True}
    assert autograd.is_grad_enabled()


def test_new_thread_starts_with_grad_enabled():
    seen = []
    with autograd.no_grad():
        t = threading.Thread(target=lambda: seen.append(autograd.is_grad_enabled()))
        t.start()
        t.join(timeout=30)
        assert not autograd.is_grad_enabled()
    assert seen == [True]


# -- 5. masked gradients with inf upstream and at kinks -----------------------------------------------
INF = np.inf
KINK_X = [-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]
MASKS = [
    ("relu", lambda lib, x: x.relu()),
    ("clamp_min0", lambda lib, x: x.clamp(min=0)),
    ("clamp_both", lambda lib, x: x.clamp(-1.0, 1.0)),
    ("clamp_max", lambda lib, x: x.clamp(max=0.5)),
    ("maximum", lambda lib, x: lib.maximum(x, lib.zeros(6, dtype=lib.float64))),
    ("minimum", lambda lib, x: lib.minimum(x, lib.full((6,), 0.5, dtype=lib.float64))),
    ("maximum_self", lambda lib, x: lib.maximum(x, x)),
    ("abs", lambda lib, x: x.abs()),
    ("pow0", lambda lib, x: x ** 0),
    ("pow2", lambda lib, x: x ** 2),
    ("pow_half", lambda lib, x: x.clamp(min=0) ** 0.5),
    ("clamp_sqrt", lambda lib, x: x.clamp(min=0).sqrt()),
    ("relu_log", lambda lib, x: x.relu().log()),
    ("F_relu", lambda lib, x: (torch.nn.functional if lib is torch else nn.functional).relu(x)),
]
UPSTREAM = {"ones": [1.0] * 6, "inf": [INF] * 6, "mixed": [INF, -INF, INF, 1.0, -INF, 2.0]}


@pytest.mark.parametrize("upstream", list(UPSTREAM), ids=list(UPSTREAM))
@pytest.mark.parametrize("fn", [pytest.param(f, id=n) for n, f in MASKS])
def test_masked_gradients_match_torch(fn, upstream):
    grads = []
    for lib in (torch, autograd):
        x = leaf(lib, KINK_X)
        with np.errstate(all="ignore"):
            y = fn(lib, x)
            y.backward(lib.tensor(np.array(UPSTREAM[upstream])))
        grads.append(arr(x.grad))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-14, atol=0)
