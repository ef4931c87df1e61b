"""``check_manual_gradients`` on the five seed workflows, each written here in plain NumPy with its
backpropagation derived by hand: the right backprop passes (float32 and float64, dict and list
params), and each planted bug (a missing ``/N``, a transposed weight gradient, a flipped sign, a bias
summed over the wrong axis, a zero gradient...) fails with its diagnosis named. Then the report, the
structure errors, and the user errors."""
import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd.testing import ManualCheckReport, ManualGradientError, check_manual_gradients


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax_rows(z, axis=1):
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# -- 1. one hidden ReLU layer, a sigmoid output, binary cross-entropy (dict params, samples in rows) ------
def bce_setup(rng, dtype):
    n, d, h = 32, 3, 5
    params = {"W1": rng.standard_normal((d, h)), "b1": 0.1 * rng.standard_normal((1, h)),
              "W2": rng.standard_normal((h, 1)), "b2": np.zeros((1, 1))}
    X, y = rng.standard_normal((n, d)), (rng.random((n, 1)) > 0.5) * 1.0
    return {k: v.astype(dtype) for k, v in params.items()}, (X.astype(dtype), y.astype(dtype))


def bce_loss(p, X, y):
    a1 = np.maximum(0, X @ p["W1"] + p["b1"])
    prob = sigmoid(a1 @ p["W2"] + p["b2"])
    return -np.mean(y * np.log(prob) + (1 - y) * np.log(1 - prob))


def bce_grads(p, X, y, bug=None):
    z1 = X @ p["W1"] + p["b1"]
    a1 = np.maximum(0, z1)
    prob = sigmoid(a1 @ p["W2"] + p["b2"])
    dz2 = (prob - y) / (1 if bug == "missing /N" else len(X))  # d(mean BCE)/dz2 of a sigmoid output
    dz1 = (dz2 @ p["W2"].T) * (z1 > 0)
    g = {"W1": X.T @ dz1, "b1": dz1.sum(axis=0, keepdims=True), "W2": a1.T @ dz2,
         "b2": dz2.sum(axis=0, keepdims=True)}
    if bug == "transposed":
        g["W1"] = dz1.T @ X
    if bug == "sign":
        g["W2"] = -g["W2"]
    if bug == "bias axis":
        g["b1"] = dz1.sum(axis=1, keepdims=True)
    if bug == "bias all axes":
        g["b1"] = dz1.sum()
    if bug == "keepdims":
        g["b1"] = dz1.sum(axis=0)
    if bug == "zero":
        g["W2"] = np.zeros_like(g["W2"])
    return g


# -- 2. softmax + cross-entropy on class indices (list params, 1-D biases, batch 8 = hidden width 8) ------
def ce_setup(rng, dtype):
    n, d, h, c = 8, 4, 8, 3
    params = [rng.standard_normal((d, h)), 0.1 * rng.standard_normal(h), rng.standard_normal((h, c)),
              np.zeros(c)]
    X, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
    return [a.astype(dtype) for a in params], (X.astype(dtype), y)


def ce_loss(p, X, y):
    w1, b1, w2, b2 = p
    prob = softmax_rows(np.tanh(X @ w1 + b1) @ w2 + b2)
    return -np.mean(np.log(prob[np.arange(len(y)), y]))


def ce_grads(p, X, y, bug=None):
    w1, b1, w2, b2 = p
    a1 = np.tanh(X @ w1 + b1)
    prob = softmax_rows(a1 @ w2 + b2)
    onehot = np.eye(w2.shape[1])[y]
    dz2 = (onehot - prob if bug == "sign" else prob - onehot) / (1 if bug == "missing /N" else len(X))
    dz1 = (dz2 @ w2.T) * (1 - a1 ** 2)
    db1 = {"bias axis": dz1.sum(axis=1), "extra /N": dz1.mean(axis=0)}.get(bug, dz1.sum(axis=0))
    return [X.T @ dz1, db1, a1.T @ dz2, dz2.sum(axis=0)]


# -- 3. the 2-4-2 sigmoid/softmax network, samples as columns: one sample at a time, or a mini-batch ------
def radial_setup(rng, dtype, n=1):
    params = {"W1": rng.standard_normal((4, 2)), "b1": np.zeros((4, 1)), "W2": rng.standard_normal((2, 4)),
              "b2": np.zeros((2, 1))}
    X, labels = rng.standard_normal((2, n)), rng.integers(0, 2, n)
    onehot = np.eye(2, dtype=dtype)[:, labels]
    return {k: v.astype(dtype) for k, v in params.items()}, (X.astype(dtype), onehot)


def radial_batch_setup(rng, dtype):
    return radial_setup(rng, dtype, n=16)


def radial_loss(p, X, T):
    out = softmax_rows(p["W2"] @ sigmoid(p["W1"] @ X + p["b1"]) + p["b2"], axis=0)
    return -np.sum(T * np.log(out)) / X.shape[1]


def radial_grads(p, X, T, bug=None):
    h = sigmoid(p["W1"] @ X + p["b1"])
    out = softmax_rows(p["W2"] @ h + p["b2"], axis=0)
    dz2 = (T - out if bug == "sign" else out - T) / (1 if bug == "missing /N" else X.shape[1])
    dz1 = (p["W2"].T @ dz2) * h * (1 - h)
    g = {"W1": dz1 @ X.T, "b1": dz1.sum(axis=1, keepdims=True), "W2": dz2 @ h.T,
         "b2": dz2.sum(axis=1, keepdims=True)}
    if bug == "transposed":
        g["W1"] = X @ dz1.T
    if bug == "bias axis":
        g["b1"] = dz1.sum(axis=0, keepdims=True)
    if bug == "zero":
        g["b2"] = np.zeros((2, 1))
    return g


# -- 4. a multi-layer tanh network with a linear output, MSE, its backprop a loop over layers (list) -------
SIZES = [3, 6, 6, 2]


def deep_setup(rng, dtype):
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        params += [rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in),
                   0.1 * rng.standard_normal((1, fan_out))]
    X, Y = rng.standard_normal((20, SIZES[0])), rng.standard_normal((20, SIZES[-1]))
    return [a.astype(dtype) for a in params], (X.astype(dtype), Y.astype(dtype))


def deep_forward(p, X):
    acts = [X]
    for k in range(0, len(p), 2):
        z = acts[-1] @ p[k] + p[k + 1]
        acts.append(z if k == len(p) - 2 else np.tanh(z))
    return acts


def deep_loss(p, X, Y):
    return 0.5 * np.sum((deep_forward(p, X)[-1] - Y) ** 2) / len(X)


def deep_grads(p, X, Y, bug=None):
    acts = deep_forward(p, X)
    dz = (acts[-1] - Y) / (1 if bug == "missing /N" else len(X))
    grads = [None] * len(p)
    for k in range(len(p) - 2, -1, -2):
        grads[k], grads[k + 1] = acts[k // 2].T @ dz, dz.sum(axis=0, keepdims=True)
        dz = (dz @ p[k].T) * (1 - acts[k // 2] ** 2)
    if bug == "transposed":  # the square 6x6 middle weight: same shape, wrong values
        grads[2] = grads[2].T
    if bug == "zero":
        grads[4] = np.zeros_like(grads[4])
    if bug == "forgot a column":
        grads[0] = grads[0].copy()
        grads[0][:, 1] = 0
    return grads


# -- 5. MSE regression with a linear model, its bias of shape (1,) (dict params) ----------------------------
def mse_setup(rng, dtype):
    params = {"w": rng.standard_normal((2, 1)), "b": np.array([0.5])}
    X = rng.standard_normal((24, 2))
    y = X @ np.array([[2.0], [-1.0]]) + 0.3 + 0.1 * rng.standard_normal((24, 1))
    return {k: v.astype(dtype) for k, v in params.items()}, (X.astype(dtype), y.astype(dtype))


def mse_loss(p, X, y):
    return np.mean((X @ p["w"] + p["b"] - y) ** 2)


def mse_grads(p, X, y, bug=None):
    err = X @ p["w"] + p["b"] - y
    d = (-err if bug == "sign" else err) / (1 if bug == "missing /N" else len(X))
    d = d if bug == "no 2" else 2 * d
    db = d.sum(axis=1) if bug == "bias axis" else d.sum(axis=0)
    return {"w": X.T @ d, "b": db}


WORKFLOWS = {
    "bce": (bce_setup, bce_loss, bce_grads),
    "softmax-ce": (ce_setup, ce_loss, ce_grads),
    "radial-sample": (radial_setup, radial_loss, radial_grads),
    "radial-batch": (radial_batch_setup, radial_loss, radial_grads),
    "deep": (deep_setup, deep_loss, deep_grads),
    "mse": (mse_setup, mse_loss, mse_grads),
}
ALL_CE = ["params[0]", "params[1]", "params[2]", "params[3]"]
ALL_RADIAL = ["W1", "b1", "W2", "b2"]
# workflow, bug -> the parameters that fail, and the text each one's diagnosis must contain
BUGS = [
    ("bce", "missing /N", ["W1", "b1", "W2", "b2"],
     "missing /N (N=32, the batch size: len(X)): yours is 32 times"),
    ("bce", "transposed", ["W1"], "transposed"),
    ("bce", "sign", ["W2"], "sign flipped"),
    ("bce", "bias axis", ["b1"],
     "summed over axis 1 instead of summed over axis 0 (length 32, the batch size"),
    ("bce", "bias all axes", ["b1"], "summed over all axes instead of summed over axis 0"),
    ("bce", "keepdims", ["b1"], "shape (5,) instead of (1, 5): keepdims=True missing"),
    ("bce", "zero", ["W2"], "zero where it should not be: all 5 elements are 0"),
    ("softmax-ce", "missing /N", ALL_CE, "missing /N (N=8, len(X)): yours is 8 times"),
    ("softmax-ce", "sign", ALL_CE, "sign flipped"),
    ("softmax-ce", "bias axis", ["params[1]"], "summed over axis 1 instead of summed over axis 0"),
    ("softmax-ce", "extra /N", ["params[1]"],
     "extra /N (N=8, len(X)): yours is the true gradient divided by 8"),
    ("radial-sample", "transposed", ["W1"], "transposed"),
    ("radial-sample", "sign", ALL_RADIAL, "sign flipped"),
    ("radial-sample", "zero", ["b2"], "zero where it should not be"),
    ("radial-batch", "bias axis", ["b1"],
     "summed over axis 0 instead of summed over axis 1 (length 16, the batch size: X.shape[1])"),
    ("radial-batch", "missing /N", ALL_RADIAL, "missing /N (N=16, the batch size: X.shape[1])"),
    ("deep", "missing /N", [f"params[{k}]" for k in range(6)], "missing /N (N=20, the batch size: len(X))"),
    ("deep", "transposed", ["params[2]"], "transposed"),
    ("deep", "zero", ["params[4]"], "zero where it should not be: all 12 elements are 0"),
    ("deep", "forgot a column", ["params[0]"], "zero where it should not be: 3 of 18 elements are 0"),
    ("mse", "no 2", ["w", "b"], "off by a constant factor: yours is 0.5 times the true gradient"),
    ("mse", "missing /N", ["w", "b"], "missing /N (N=24, the batch size: len(X))"),
    ("mse", "sign", ["w", "b"], "sign flipped"),
    ("mse", "bias axis", ["b"], "summed over axis 1 instead of summed over axis 0 (length 24"),
]
DTYPES = [np.float64, np.float32]


def setup(name, dtype, seed=0):
    make, loss, grads = WORKFLOWS[name]
    params, data = make(np.random.default_rng(seed), dtype)
    return params, data, loss, grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(WORKFLOWS))
def test_the_right_backprop_passes(name, dtype):
    params, data, loss, grads = setup(name, dtype)
    report = check_manual_gradients(loss, grads, params, *data)
    assert isinstance(report, ManualCheckReport) and report.ok and len(report) == len(params)
    tol = 1e-4 if dtype == np.float32 else 1e-7
    assert all(c.max_rel_error <= tol or c.max_abs_error <= 1e-5 for c in report)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, bug, failing, diagnosis", BUGS, ids=[f"{w}-{b}" for w, b, _, _ in BUGS])
def test_a_planted_bug_is_named(name, bug, failing, diagnosis, dtype):
    params, data, loss, grads = setup(name, dtype)
    with pytest.raises(ManualGradientError) as e:
        check_manual_gradients(loss, lambda p, *d: grads(p, *d, bug=bug), params, *data)
    report = e.value.report
    assert [c.name for c in report if not c.ok] == failing
    for name in failing:
        assert diagnosis in report[name].diagnosis, report[name].diagnosis
    assert diagnosis in " ".join(str(e.value).split())  # the message wraps its lines at 100 characters
    assert isinstance(e.value, AssertionError)


def test_the_message_names_the_worst_element_with_both_values_and_errors():
    params, (X, y), loss, grads = setup("bce", np.float64)
    with pytest.raises(AssertionError) as e:
        check_manual_gradients(loss, lambda p, X, y: grads(p, X, y, bug="missing /N"), params, X, y)
    check = e.value.report["W2"]
    true = grads(params, X, y)["W2"]
    k = np.unravel_index(np.argmax(np.abs(true)), true.shape)  # 32 * true - true is largest where |true| is
    assert check.worst_index == tuple(int(i) for i in k)
    assert check.true == pytest.approx(true[k], rel=1e-12)
    assert check.yours == pytest.approx(32 * true[k], rel=1e-12)
    assert check.max_abs_error == pytest.approx(31 * abs(true[k]), rel=1e-12)
    assert check.max_rel_error == pytest.approx(31, rel=1e-9)
    shown = f"W2: worst element {check.worst_index}: yours {32 * true[k]:.6g} vs true {true[k]:.6g}"
    assert shown in str(e.value)


def test_true_gradients_are_torchs():
    """The truth the checker compares with is torch's gradient of the same loss (softmax-ce workflow)."""
    torch = pytest.importorskip("torch")
    params, (X, y), loss, grads = setup("softmax-ce", np.float64)
    w = [torch.tensor(a, requires_grad=True) for a in params]
    logits = torch.tanh(torch.tensor(X) @ w[0] + w[1]) @ w[2] + w[3]
    torch.nn.functional.cross_entropy(logits, torch.tensor(y)).backward()
    with pytest.raises(AssertionError) as e:  # all gradients zero: the worst element is the largest true one
        check_manual_gradients(loss, lambda p, X, y: [np.zeros_like(a) for a in p], params, X, y)
    for i, t in enumerate(w):
        check = e.value.report[f"params[{i}]"]
        assert check.true == pytest.approx(t.grad.numpy()[check.worst_index], rel=1e-12)
        assert check.max_abs_error == pytest.approx(np.abs(t.grad.numpy()).max(), rel=1e-12)


def test_the_report_is_a_table():
    params, data, loss, grads = setup("bce", np.float32)
    report = check_manual_gradients(loss, grads, params, *data)
    lines = str(report).splitlines()
    assert lines[0].split() == ["parameter", "shape", "max", "abs", "error", "max", "rel", "error", "worst",
                                "element", "result"]
    assert [line.split()[0] for line in lines[1:5]] == ["W1", "b1", "W2", "b2"]
    assert all(line.endswith("ok") for line in lines[1:5])
    assert "float32 parameters checked against true gradients computed in float64 copies" in lines[5]
    assert report["b1"].shape == (1, 5) and report["b1"].ok
    assert "ok" in repr(report)
    with pytest.raises(KeyError, match="W3"):
        report["W3"]


def test_float64_needs_float64_precision():
    """A float32 error in a float64 backprop fails: float64's tolerance is tighter than float32's."""
    params, data, loss, grads = setup("mse", np.float64)
    rounded = lambda p, *d: {k: v.astype(np.float32) for k, v in grads(p, *d).items()}  # noqa: E731
    report = check_manual_gradients(loss, rounded, params, *data)  # rounded to float32: float32 tolerance
    assert report.ok
    with pytest.raises(AssertionError):
        check_manual_gradients(loss, lambda p, *d: {k: v * (1 + 1e-5) for k, v in grads(p, *d).items()},
                               params, *data)
    check_manual_gradients(loss, lambda p, *d: {k: v * (1 + 1e-5) for k, v in grads(p, *d).items()}, params,
                           *data, rtol=1e-4)


def test_tuple_params_and_tuple_gradients():
    params, data, loss, grads = setup("softmax-ce", np.float64)
    assert check_manual_gradients(loss, lambda p, *d: tuple(grads(list(p), *d)), tuple(params), *data).ok


def test_user_arrays_are_not_changed():
    params, data, loss, grads = setup("bce", np.float32)
    before = {k: v.copy() for k, v in params.items()}
    data_before = [d.copy() for d in data]

    def grads_in_place(p, X, y):
        g = grads(p, X, y)
        p["W1"] -= 0.1 * g["W1"]  # an SGD step inside grad_fn changes only the copies it was given
        return g
    check_manual_gradients(loss, grads_in_place, params, *data)
    assert all(np.array_equal(params[k], before[k]) and params[k].dtype == np.float32 for k in params)
    assert all(np.array_equal(d, b) for d, b in zip(data, data_before))


# -- unused parameters, None gradients, other diagnoses ---------------------------------------------------
def test_an_unused_parameter_has_a_zero_gradient():
    params, data, loss, grads = setup("mse", np.float64)
    params = dict(params, unused=np.ones(3))
    report = check_manual_gradients(loss, lambda p, *d: dict(grads(p, *d), unused=np.zeros(3)), params, *data)
    assert report["unused"].ok and report["unused"].unused and "ok (unused)" in str(report)
    assert check_manual_gradients(loss, lambda p, *d: dict(grads(p, *d), unused=None), params, *data).ok
    with pytest.raises(AssertionError, match="the true gradient is 0 everywhere .the loss does not use this "
                                             "parameter., yours is not"):
        check_manual_gradients(loss, lambda p, *d: dict(grads(p, *d), unused=np.ones(3)), params, *data)


def test_none_for_a_used_parameter():
    params, data, loss, grads = setup("mse", np.float64)
    with pytest.raises(AssertionError, match="grad_fn returned None, but the loss depends on this parameter"):
        check_manual_gradients(loss, lambda p, *d: dict(grads(p, *d), b=None), params, *data)


@pytest.mark.parametrize("wrong, diagnosis", [
    (lambda g: g * np.nan, "nan or inf at 2 elements"),
    (lambda g: g.reshape(1, 2, 1),
     "right values in shape (1, 2, 1) instead of (2, 1): an extra axis of length 1"),
    (lambda g: g.reshape(1, 2), "transposed"),
    (lambda g: np.ones((3, 3)), "wrong shape (3, 3) for a parameter of shape (2, 1)"),
    (lambda g: np.ones((24, 1)), "wrong shape (24, 1) for a parameter of shape (2, 1): it has an axis of "
                                 "length 24 (the batch size: len(X))"),
    (lambda g: -3 * g.T.reshape(2, 1)[::-1] + 1, "none of the usual bugs"),
    (lambda g: -24 * g, "sign flipped and missing /N (N=24, the batch size: len(X)): yours is -24 times"),
    (lambda g: 7 * g, "off by a constant factor: yours is 7 times the true gradient"),
])
def test_other_diagnoses(wrong, diagnosis):
    params, data, loss, grads = setup("mse", np.float64)
    with pytest.raises(AssertionError) as e:
        check_manual_gradients(loss, lambda p, *d: dict(grads(p, *d), w=wrong(grads(p, *d)["w"])), params,
                               *data)
    assert "w: " in str(e.value) and diagnosis in " ".join(str(e.value).split())
    assert e.value.report["b"].ok


def test_a_transposed_gradient_with_the_batch_factor():
    params, data, loss, grads = setup("bce", np.float64)
    with pytest.raises(ManualGradientError) as e:
        check_manual_gradients(loss, lambda p, *d: dict(grads(p, *d), W1=32 * grads(p, *d)["W1"].T), params,
                               *data)
    assert re.match(r"transposed: .*; missing /N \(N=32, the batch size: len\(X\)\)",
                    e.value.report["W1"].diagnosis)


def test_a_length_named_by_its_data_axis_and_size():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 4))
    params = {"W": rng.standard_normal((3, 4))}
    loss = lambda p, X, Y: np.mean((X @ p["W"] - Y) ** 2)  # noqa: E731 (mean over all 40 elements)
    right = lambda p, X, Y: {"W": X.T @ (2 * (X @ p["W"] - Y) / Y.size)}  # noqa: E731
    assert check_manual_gradients(loss, right, params, X, Y).ok
    with pytest.raises(AssertionError, match=r"missing /N \(N=40, Y.size\)"):  # the mean is over Y.size
        check_manual_gradients(loss, lambda p, X, Y: {"W": 40 * right(p, X, Y)["W"]}, params, X, Y)
    with pytest.raises(AssertionError, match=r"missing /N \(N=4, Y.shape\[1\]\)"):
        check_manual_gradients(loss, lambda p, X, Y: {"W": 4 * right(p, X, Y)["W"]}, params, X, Y)


# -- structure errors and user errors -----------------------------------------------------------------------
@pytest.mark.parametrize("grad_fn, message", [
    (lambda p, *d: {"w": 0}, r"missing \['b'\], extra \[\]"),
    (lambda p, *d: {"dw": 0, "db": 0}, r"missing \['w', 'b'\], extra \['dw', 'db'\] \(its keys are the "
                                       r"parameters' names with a 'd' in front"),
    (lambda p, *d: [0, 0], r"params is a dict, so it must return a dict with the same keys \['w', 'b'\]"),
])
def test_a_dict_of_gradients_must_have_the_params_keys(grad_fn, message):
    params, data, loss, _ = setup("mse", np.float64)
    with pytest.raises(AssertionError, match=message):
        check_manual_gradients(loss, grad_fn, params, *data)


@pytest.mark.parametrize("grad_fn, message", [
    (lambda p, *d: [np.zeros(3)] * 3, "grad_fn returned 3 gradients for 4 parameters"),
    (lambda p, *d: np.zeros(4), "params is a list, so it must return a list of 4 gradients"),
    (lambda p, *d: [np.zeros(3), "x", np.zeros(3), np.zeros(3)], "gradient for params.1. has dtype <U1"),
])
def test_a_list_of_gradients_must_match_the_params(grad_fn, message):
    params, data, loss, _ = setup("softmax-ce", np.float64)
    with pytest.raises((AssertionError, TypeError), match=message):
        check_manual_gradients(loss, grad_fn, params, *data)


@pytest.mark.parametrize("params, error, message", [
    (np.ones(3), TypeError, "params must be a list or a dict of NumPy arrays, got ndarray"),
    ({"w": np.ones(3, dtype=np.int64)}, TypeError,
     "w has dtype int64: parameters must be float16, float32 or float64"),
])
def test_params_must_be_a_list_or_dict_of_float_arrays(params, error, message):
    with pytest.raises(error, match=message):
        check_manual_gradients(lambda p: 0, lambda p: p, params)


def test_a_tensor_param_is_refused():
    import autograd
    with pytest.raises(TypeError, match="params.0. is a Tensor"):
        check_manual_gradients(lambda p: p[0].sum(), lambda p: p, [autograd.ones(2)])


def test_a_numpy_function_without_a_gradient_rule_reaches_the_user_with_a_hint():
    params, data, _, grads = setup("mse", np.float64)
    loss = lambda p, X, y: np.linalg.norm(X @ p["w"] + p["b"] - y) ** 2 / len(X)  # noqa: E731
    with pytest.raises(TypeError, match=r"numpy.norm is not supported on chainrule Tensors(.|\n)*"
                                        r"check_manual_gradients runs loss_fn on chainrule Tensors"):
        check_manual_gradients(loss, grads, params, *data)


def test_a_detached_parameter_is_named():
    params, data, _, grads = setup("mse", np.float64)
    loss = lambda p, X, y: np.mean((X.dot(p["w"]) + p["b"] - y) ** 2)  # noqa: E731 (ndarray.dot: a plain array)
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad") as e:
        check_manual_gradients(loss, grads, params, *data)  # as torch's: never a silently detached array
    if hasattr(e.value, "add_note"):
        assert "X @ W instead of X.dot(W)" in "".join(e.value.__notes__)
    with pytest.raises(TypeError, match="loss_fn returned a float, not a Tensor"):
        check_manual_gradients(lambda p, X, y: float(np.mean(X @ p["w"])), grads, params, *data)


def test_the_loss_must_be_a_scalar():
    params, data, _, grads = setup("mse", np.float64)
    with pytest.raises(ValueError, match=r"must return a scalar loss, got a Tensor of shape \(24, 1\)"):
        check_manual_gradients(lambda p, X, y: (X @ p["w"] - y) ** 2, grads, params, *data)


def test_size_zero_and_zero_dim_params():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5, 2))
    params = {"w": rng.standard_normal(2), "b": np.array(0.3), "empty": np.zeros((0, 3))}
    loss = lambda p, X: np.sum(np.tanh(X @ p["w"] + p["b"])) + np.sum(p["empty"])  # noqa: E731

    def grads(p, X, bug=None):
        d = 1 - np.tanh(X @ p["w"] + p["b"]) ** 2
        return {"w": X.T @ d, "b": d if bug == "no sum" else d.sum(), "empty": np.zeros((0, 3))}
    report = check_manual_gradients(loss, grads, params, X)
    assert report.ok and report["empty"].max_abs_error == 0
    with pytest.raises(ManualGradientError) as e:
        check_manual_gradients(loss, lambda p, X: grads(p, X, bug="no sum"), params, X)
    assert e.value.report["b"].diagnosis == ("wrong shape (5,) for a parameter of shape (): it has an axis "
                                             "of length 5 (the batch size: len(X)), a sum over it missing or "
                                             "on the wrong axis?")


def test_an_error_inside_loss_fn_says_where_it_came_from():
    params, data, _, grads = setup("mse", np.float64)
    loss = lambda p, X, y: np.mean(((X @ p["w"]).dot(p["b"]) - y) ** 2)  # noqa: E731 (Tensor.dot is 1-D)
    with pytest.raises(RuntimeError) as e:
        check_manual_gradients(loss, grads, params, *data)
    if sys.version_info >= (3, 11):  # exception notes
        assert "raised by loss_fn run on chainrule Tensors by check_manual_gradients; t.dot(w) is for 1-D" \
            in e.value.__notes__[0]


def test_an_unused_parameter_of_a_loss_written_with_tensor_methods():
    """A loss that runs only on Tensors (``sum(dim=)``) cannot be nudged in NumPy: unused stays unused."""
    params, (X, y), _, _ = setup("mse", np.float64)
    params = dict(params, unused=np.ones(2))
    loss = lambda p, X, y: ((X @ p["w"] + p["b"] - y) ** 2).sum(dim=0).sum() / len(X)  # noqa: E731

    def grads(p, X, y):
        d = 2 * (X @ p["w"] + p["b"] - y) / len(X)
        return {"w": X.T @ d, "b": d.sum(axis=0), "unused": np.zeros(2)}
    assert check_manual_gradients(loss, grads, params, X, y)["unused"].unused


BATCH = 48
PLANTED = {  # what grad_fn returns instead of the true gradient C -> the diagnosis it must get
    "missing /N": (lambda c: BATCH * c, f"missing /N (N={BATCH}, the batch size: len(X))"),
    "extra /N": (lambda c: c / BATCH, f"extra /N (N={BATCH}, the batch size: len(X))"),
    "sign": (lambda c: -c, "sign flipped"),
    "transposed": (lambda c: c.T, "transposed"),
    "zero": (np.zeros_like, "zero where it should not be"),
    "keepdims": (lambda c: c[None], "an extra axis of length 1"),
}


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(2, 6), cols=st.integers(2, 6), bug=st.sampled_from(sorted(PLANTED)),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2 ** 16))
def test_each_planted_transformation_of_a_random_gradient_is_named(rows, cols, bug, dtype, seed):
    rng = np.random.default_rng(seed)
    C, X = rng.standard_normal((rows, cols)) + 0.1, rng.standard_normal((BATCH, rows)).astype(dtype)
    loss = lambda p, X: np.sum(p["W"] * C)  # noqa: E731 (its gradient is C; X only names the batch size)
    params = {"W": rng.standard_normal((rows, cols)).astype(dtype)}
    planted, diagnosis = PLANTED[bug]
    assert check_manual_gradients(loss, lambda p, X: {"W": C.astype(dtype)}, params, X).ok
    with pytest.raises(ManualGradientError) as e:
        check_manual_gradients(loss, lambda p, X: {"W": planted(C).astype(dtype)}, params, X)
    assert diagnosis in e.value.report["W"].diagnosis
