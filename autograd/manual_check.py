"""Check hand-derived NumPy gradients: ``check_manual_gradients(loss_fn, grad_fn, params, *data)``.

    report = check_manual_gradients(loss, backprop, {"W1": W1, "b1": b1}, X, y)
    print(report)   # one row per parameter: max abs/rel error, worst element, ok

``loss_fn(params, *data)`` is the user's NumPy loss. Run on Tensors (NumPy's functions dispatch to
the Tensor ops, ``autograd/ops/numpy_api.py``) it gives the true gradients, in float64 copies of the
parameters. ``grad_fn(params, *data)`` is the user's backprop on (copies of) the NumPy arrays; it
returns one gradient per parameter, in the structure of ``params`` (a list or a dict). A mismatch
raises ``ManualGradientError`` (an ``AssertionError``) giving each failing parameter's worst element and
a diagnosis when one fits: a constant factor (a missing or extra ``/N``), a transpose, a flipped sign, a
reduction over the wrong axis, a zero gradient, a wrong shape.
"""
import inspect
import math
import textwrap
from dataclasses import dataclass

import numpy as np

from .engine import grad
from .grad_mode import enable_grad
from .primitive import TensorBase
from .tensor import Tensor

__all__ = ["check_manual_gradients", "ManualCheckReport", "ManualGradientError", "ParamCheck"]

# the user's dtype -> (rtol, atol): their float32 backprop is compared with float64 truth
TOLERANCES = {"float16": (1e-2, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}
NUMPY_HINT = ("check_manual_gradients runs loss_fn on chainrule Tensors to get the true gradients: write "
              "that line with a NumPy function chainrule differentiates (np.exp log maximum where sum mean "
              "dot matmul ..., see autograd/ops/numpy_api.py) or with Tensor methods")
NO_DIAGNOSIS = "none of the usual bugs (a constant factor, a transpose, the sign, a reduction axis) fits"
DETACHED_HINT = ("a line of loss_fn turned it into a plain NumPy array, so its gradient was lost: write "
                 "np.dot(X, W) or X @ W instead of X.dot(W) with X an array, and no np.asarray, np.array "
                 "or float() on anything computed from the parameters")


def check_manual_gradients(loss_fn, grad_fn, params, *data, rtol=None, atol=None):
    """Compare ``grad_fn(params, *data)`` with the gradients of ``loss_fn(params, *data)``, parameter by
    parameter; returns a ``ManualCheckReport``, raises ``ManualGradientError`` on a mismatch.

    ``params``: a list or dict of float arrays (never changed). Elements pass when
    ``|yours - true| <= atol + rtol * |true|``; by default ``rtol, atol`` follow each parameter's dtype
    (``TOLERANCES``: float32 gets ``1e-4, 1e-5``, float64 ``1e-7, 1e-9``).
    """
    problem = _Problem(loss_fn, params, data)
    true = problem.true_gradients()
    yours = _user_gradients(grad_fn, problem, data)
    checks = []
    for i, (name, t, (g, g_dtype)) in enumerate(zip(problem.names, true, yours)):
        tol = _tolerance(problem.arrays[i].dtype, g_dtype, rtol, atol)
        check = _compare(name, problem.arrays[i].shape, t, g, *tol)
        if not check.ok:
            check.diagnosis = _diagnose(problem, i, t, g, *tol)
        checks.append(check)
    report = ManualCheckReport(checks, problem.dtype_notes(rtol, atol))
    if not report.ok:
        raise ManualGradientError(report)
    return report


@dataclass
class ParamCheck:
    """One parameter's comparison: errors, the worst element (yours and the true value), the verdict."""
    name: str
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple = None
    yours: float = None
    true: float = None
    ok: bool = True
    unused: bool = False
    diagnosis: str = None
    your_shape: tuple = None

    def row(self):
        """The table row: name, shape, errors, worst element, verdict."""
        if self.your_shape is not None and self.your_shape != self.shape:
            errors = ["-", "-", "-"]
        else:
            errors = [f"{self.max_abs_error:.3g}", f"{self.max_rel_error:.3g}",
                      "-" if self.worst_index is None else str(self.worst_index)]
        verdict = "ok" + (" (unused)" if self.unused else "") if self.ok else "FAIL"
        return [self.name, str(self.shape)] + errors + [verdict]

    def explain(self):
        """A failing parameter's lines: the worst element, the errors, the diagnosis."""
        if self.your_shape != self.shape:
            lines = [f"{self.name}: your gradient has shape {self.your_shape}, the parameter {self.shape}"]
        else:
            lines = [f"{self.name}: worst element {self.worst_index}: yours {self.yours:.6g} vs true "
                     f"{self.true:.6g} (abs error {self.max_abs_error:.3g}, "
                     f"rel error {self.max_rel_error:.3g})"]
        lines += textwrap.wrap(f"diagnosis: {self.diagnosis or NO_DIAGNOSIS}", width=100, initial_indent="  ",
                               subsequent_indent="    ")
        return lines


class ManualCheckReport:
    """``check_manual_gradients``' result: a ``ParamCheck`` per parameter (``report["W1"]``, iteration);
    ``str(report)`` is a table."""

    def __init__(self, checks, notes=()):
        self.checks = list(checks)
        self.notes = list(notes)

    @property
    def ok(self):
        return all(c.ok for c in self.checks)

    def __iter__(self):
        return iter(self.checks)

    def __len__(self):
        return len(self.checks)

    def __getitem__(self, name):
        for c in self.checks:
            if c.name == str(name):
                return c
        raise KeyError(f"no parameter {name!r}; the report has {[c.name for c in self.checks]}")

    def __str__(self):
        rows = [["parameter", "shape", "max abs error", "max rel error", "worst element", "result"]]
        rows += [c.row() for c in self.checks]
        widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines + self.notes)

    def __repr__(self):
        failed = [c.name for c in self.checks if not c.ok]
        verdict = f"failed: {failed}" if failed else "ok"
        return f"<ManualCheckReport: {len(self.checks)} parameters, {verdict}>"


class ManualGradientError(AssertionError):
    """Hand-derived gradients that do not match: the table, then each failing parameter explained;
    ``.report`` is the ``ManualCheckReport``."""

    def __init__(self, report):
        self.report = report
        failed = [c for c in report if not c.ok]
        lines = [f"hand-derived gradients differ from the true ones for {', '.join(c.name for c in failed)}",
                 str(report), ""]
        for c in failed:
            lines += c.explain()
        super().__init__("\n".join(lines))


# -- the true gradients -------------------------------------------------------------------------------
class _Problem:
    """The user's loss, parameters (as given and as float64 copies) and data, run as often as needed."""

    def __init__(self, loss_fn, params, data):
        self.loss_fn, self.params, self.data = loss_fn, params, data
        self.names, arrays = _flatten(params)
        self.arrays = [_float_array(name, a) for name, a in zip(self.names, arrays)]
        self.data_names = _data_names(loss_fn, len(data))
        self.lengths = _named_lengths(data, self.data_names, [a.shape for a in self.arrays])

    def rebuild(self, values):
        """``values`` in the structure of ``params`` (a dict with its keys, or a list/tuple)."""
        if isinstance(self.params, dict):
            return dict(zip(self.params, values))
        return type(self.params)(values) if isinstance(self.params, tuple) else list(values)

    def run(self, leaves):
        """``loss_fn`` on Tensors ``leaves`` (with grad); the one-element loss Tensor."""
        try:
            with enable_grad():
                loss = self.loss_fn(self.rebuild(leaves), *self.data)
        except TypeError as e:
            if "is not supported on chainrule Tensors" in str(e):
                raise TypeError(f"{e}\n{NUMPY_HINT}") from e
            _add_note(e)
            raise
        except Exception as e:
            _add_note(e)
            raise
        if not isinstance(loss, TensorBase):
            raise TypeError(f"loss_fn returned a {type(loss).__name__}, not a Tensor: run on Tensors it "
                            f"should give a Tensor loss, so {DETACHED_HINT}")
        if loss.numel() != 1:
            raise ValueError(f"loss_fn must return a scalar loss, got a Tensor of shape {tuple(loss.shape)}")
        return loss

    def gradients(self, leaves):
        """(loss value, the gradient array of each leaf that requires grad, or None)."""
        loss = self.run(leaves)
        wrt = [x for x in leaves if x.requires_grad]
        gs = grad(loss, wrt, allow_unused=True) if loss.requires_grad else [None] * len(wrt)
        return float(loss.item()), [None if g is None else g._data for g in gs]

    def true_gradients(self):
        """Each parameter's true gradient (float64; None when the loss does not use it)."""
        leaves = [Tensor(a.astype(np.float64), requires_grad=True) for a in self.arrays]
        self.loss, true = self.gradients(leaves)
        for i, t in enumerate(true):
            if t is None and self.depends_on(i):
                raise RuntimeError(f"loss_fn depends on {self.names[i]} but no gradient reached it: "
                                   f"{DETACHED_HINT}")
        return true

    def depends_on(self, i):
        """True when nudging parameter ``i`` changes the loss (computed on float64 NumPy arrays)."""
        values = [a.astype(np.float64) for a in self.arrays]
        try:
            base = float(np.asarray(self.loss_fn(self.rebuild(values), *self.data)))
            values[i] = values[i] * (1 + 1e-3) + 1e-3
            nudged = float(np.asarray(self.loss_fn(self.rebuild(values), *self.data)))
        except Exception:  # a loss_fn that only runs on Tensors: the engine's answer (unused) stands
            return False
        return not math.isclose(nudged, base, rel_tol=1e-12, abs_tol=1e-12)

    def batch_gradient(self, i, shape):
        """The gradient with respect to parameter ``i`` broadcast to ``shape`` (a bias repeated along the
        batch axis gives the upstream gradient of ``... + b``), or None when that changes the loss."""
        leaves = [Tensor(a.astype(np.float64)) for a in self.arrays]
        wide = np.broadcast_to(self.arrays[i].astype(np.float64), shape).copy()
        leaves[i] = Tensor(wide, requires_grad=True)
        try:
            loss, (g,) = self.gradients(leaves)
        except Exception:  # the loss does not take a parameter of that shape: no such diagnosis
            return None
        if g is None or not math.isclose(loss, self.loss, rel_tol=1e-9, abs_tol=1e-12):
            return None
        return g

    def dtype_notes(self, rtol, atol):
        """A line saying how lower-precision parameters were checked."""
        low = sorted({str(a.dtype) for a in self.arrays if a.dtype != np.float64})
        if not low:
            return []
        tol = "" if rtol is not None or atol is not None else \
            " with " + ", ".join(f"{d} rtol={TOLERANCES[d][0]:g}, atol={TOLERANCES[d][1]:g}" for d in low)
        return [f"note: {' and '.join(low)} parameters checked against true gradients computed in float64 "
                f"copies{tol}"]


def _add_note(error):
    """Say where an error in ``loss_fn`` came from (Python 3.11+: exception notes)."""
    if hasattr(error, "add_note"):
        dot = "; t.dot(w) is for 1-D tensors as in torch: write np.dot(t, w) or t @ w" \
            if "dot" in str(error) else ""
        if str(error).startswith("Can't call numpy()"):  # np.asarray or an ndarray method met a parameter
            dot = f": {DETACHED_HINT}"
        error.add_note(f"(raised by loss_fn run on chainrule Tensors by check_manual_gradients{dot})")


def _flatten(params):
    """(names, values) of a list/tuple (``params[0]``...) or a dict (its keys) of arrays."""
    if isinstance(params, dict):
        return [str(k) for k in params], list(params.values())
    if isinstance(params, (list, tuple)):
        return [f"params[{i}]" for i in range(len(params))], list(params)
    raise TypeError(f"params must be a list or a dict of NumPy arrays, got {type(params).__name__}")


def _float_array(name, a):
    """``a`` as a floating-point NumPy array (a TypeError for integers and anything else)."""
    if isinstance(a, TensorBase):
        raise TypeError(f"{name} is a Tensor: check_manual_gradients takes the NumPy arrays of a "
                        "from-scratch network (use t.detach().numpy())")
    arr = np.asarray(a)
    if arr.dtype.name not in TOLERANCES:
        raise TypeError(f"{name} has dtype {arr.dtype}: parameters must be float16, float32 or float64 "
                        "arrays")
    return arr


def _data_names(loss_fn, n):
    """The names ``loss_fn`` gives its data arguments (``X``, ``y``), else ``data[0]``, ``data[1]``..."""
    try:
        args = [p for p in inspect.signature(loss_fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:n + 1]
    except (TypeError, ValueError):
        args = []
    return [p.name for p in args] if len(args) == n else [f"data[{k}]" for k in range(n)]


def _named_lengths(data, names, param_shapes):
    """[(n, what n is)] for the data arrays' axis lengths above 1 (axis 0 first, then the other axes) and
    sizes; the first axis length that no parameter's shape has is the batch size."""
    shapes = [(name, np.shape(d)) for name, d in zip(names, data) if hasattr(d, "shape")]
    axes = [(s[0], f"len({name})") for name, s in shapes if s]
    axes += [(n, f"{name}.shape[{a}]") for name, s in shapes for a, n in enumerate(s) if a]
    sizes = [(math.prod(s), f"{name}.size") for name, s in shapes if len(s) > 1]
    in_params = {d for s in param_shapes for d in s}
    batch = next((n for n, _ in axes if n > 1 and n not in in_params), None)
    found = {}
    for n, what in axes + sizes:
        if n > 1 and n not in found:
            found[n] = f"the batch size: {what}" if n == batch else what
    return list(found.items())


# -- the user's gradients -----------------------------------------------------------------------------
def _user_gradients(grad_fn, problem, data):
    """[(float64 array or None, its dtype)] from ``grad_fn`` on copies of the parameters, by name."""
    copies = problem.rebuild([a.copy() for a in problem.arrays])
    out = grad_fn(copies, *data)
    values = _unflatten(out, problem)
    result = []
    for name, g in zip(problem.names, values):
        if g is None:
            result.append((None, None))
            continue
        arr = g._data if isinstance(g, TensorBase) else np.asarray(g)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"grad_fn's gradient for {name} has dtype {arr.dtype}, not a number")
        result.append((arr.astype(np.float64), arr.dtype))
    return result


def _unflatten(out, problem):
    """``grad_fn``'s result as a list in the parameters' order; an AssertionError for another structure."""
    if isinstance(problem.params, dict):
        if not isinstance(out, dict):
            raise AssertionError(f"grad_fn returned a {type(out).__name__}; params is a dict, so it must "
                                 f"return a dict with the same keys {list(problem.params)}")
        missing = [k for k in problem.params if k not in out]
        extra = [k for k in out if k not in problem.params]
        if missing or extra:
            hint = ""
            if extra and all(f"d{k}" in out for k in missing):
                hint = " (its keys are the parameters' names with a 'd' in front: use the parameters' names)"
            raise AssertionError(f"grad_fn's gradients do not match params: missing {missing}, extra {extra}"
                                 f"{hint}")
        return [out[k] for k in problem.params]
    if not isinstance(out, (list, tuple)):
        raise AssertionError(f"grad_fn returned a {type(out).__name__}; params is a list, so it must return "
                             f"a list of {len(problem.names)} gradients in the same order")
    if len(out) != len(problem.names):
        raise AssertionError(f"grad_fn returned {len(out)} gradients for {len(problem.names)} parameters")
    return list(out)


def _tolerance(dtype, g_dtype, rtol, atol):
    """(rtol, atol): the caller's, else those of the less precise of the parameter's and gradient's dtypes."""
    names = [np.dtype(dtype).name] + ([g_dtype.name] if g_dtype is not None and g_dtype.kind == "f" else [])
    worst = max((TOLERANCES.get(n, TOLERANCES["float64"]) for n in names), key=lambda t: t[0])
    return (worst[0] if rtol is None else rtol), (worst[1] if atol is None else atol)


# -- comparing ----------------------------------------------------------------------------------------
def _excess(g, t, rtol, atol):
    """How far each element is beyond the tolerance (> 0 fails; equal values, nan with nan: -inf)."""
    with np.errstate(invalid="ignore", over="ignore"):
        excess = np.abs(g - t) - (atol + rtol * np.abs(t))
    excess = np.where((g == t) | (np.isnan(g) & np.isnan(t)), -math.inf, excess)
    return np.where(np.isnan(excess), math.inf, excess)


def _close(g, t, rtol, atol):
    return g.shape == t.shape and not (_excess(g, t, rtol, atol) > 0).any()


def _compare(name, shape, t, g, rtol, atol):
    """A ``ParamCheck`` of yours ``g`` against the true ``t`` (either may be None: no gradient)."""
    unused = t is None
    t = np.zeros(shape) if t is None else t
    g_shape = None if g is None else g.shape
    g = np.zeros(shape) if g is None else g
    if g.shape != t.shape:
        return ParamCheck(name, shape, math.nan, math.nan, ok=False, your_shape=g_shape)
    excess = _excess(g, t, rtol, atol)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where(excess == -math.inf, 0.0, np.abs(g - t))
        rel = np.where(diff == 0, 0.0, diff / np.abs(t))
    if g.size == 0:
        return ParamCheck(name, shape, 0.0, 0.0, unused=unused, your_shape=g_shape or shape)
    k = int(np.argmax(excess))
    idx = tuple(int(j) for j in np.unravel_index(k, shape))
    return ParamCheck(name, shape, float(np.max(diff)), float(np.max(rel)), idx, float(g.flat[k]),
                      float(t.flat[k]), ok=not (excess > 0).any(), unused=unused, your_shape=g_shape or shape)


# -- diagnosing ---------------------------------------------------------------------------------------
def _diagnose(problem, i, t, g, rtol, atol):
    """What is wrong with your gradient ``g`` of parameter ``i`` (true: ``t``), or None."""
    shape = problem.arrays[i].shape
    if g is None:
        return "grad_fn returned None, but the loss depends on this parameter"
    if t is None or not np.any(t):
        return ("the true gradient is 0 everywhere" + (" (the loss does not use this parameter)" if t is None
                else "") + ", yours is not")
    bad = ~np.isfinite(g) & np.isfinite(t) if g.shape == shape else ~np.isfinite(g)
    if bad.any():
        return f"your gradient has nan or inf at {int(bad.sum())} elements (a log(0) or a division by 0?)"
    if g.shape == shape and not np.any(np.abs(g) > atol):
        return (f"zero where it should not be: all {g.size} elements are 0, the true gradient is not "
                f"(max |true| {np.max(np.abs(t)):.3g})")
    text = (_view_diagnosis(g, t, problem.lengths, rtol, atol)
            or _reduction_diagnosis(problem, i, g, rtol, atol) or _partial_zero(g, t, rtol, atol))
    if text:
        return text
    return _shape_hint(g.shape, shape, problem.lengths) if g.shape != shape else None


def _views(g, shape):
    """(what was done, ``g`` brought back to ``shape``): as is, transposed, reshaped."""
    if g.shape == shape:
        yield "", g
    if g.ndim == 2 and g.T.shape == shape and g.size > 1:
        yield ("transposed: your gradient's .T matches (for Z = X @ W the weight's gradient is X.T @ dZ, for "
               "Z = W @ X it is dZ @ X.T)"), g.T
    if g.shape != shape and g.size == math.prod(shape):
        yield _reshape_text(g.shape, shape), g.reshape(shape)


def _reshape_text(have, want):
    squeeze = lambda s: tuple(d for d in s if d != 1)  # noqa: E731
    if squeeze(have) == squeeze(want) and len(have) < len(want):
        return f"right values in shape {have} instead of {want}: keepdims=True missing in the reduction"
    if squeeze(have) == squeeze(want) and len(have) > len(want):
        return (f"right values in shape {have} instead of {want}: an extra axis of length 1 (a keepdims=True "
                "too many)")
    return f"right values in shape {have} instead of {want}: reshape it"


def _view_diagnosis(g, t, lengths, rtol, atol):
    """The first view of ``g`` (as is, transposed, reshaped) that is a constant multiple of ``t``."""
    tt = float(np.sum(t * t))
    for what, v in _views(g, t.shape):
        c = float(np.sum(v * t)) / tt
        if c != 0 and _close(v / c, t, rtol, atol):
            factor = "" if math.isclose(c, 1, rel_tol=max(rtol, 1e-9)) else _factor_text(c, lengths, rtol)
            return "; ".join(p for p in (what, factor) if p)
    return None


def _factor_text(c, lengths, rtol):
    """Names ``c`` in ``yours = c * true``: a sign, a missing or extra ``/N`` for a known length ``N``
    (the batch size first, then 2 as in d(x**2)/dx = 2x, then the other lengths)."""
    near = lambda a, b: math.isclose(a, b, rel_tol=max(rtol, 1e-9))  # noqa: E731
    if near(c, -1):
        return "sign flipped: yours is minus the true gradient (of -loss, or y - p where p - y is meant?)"
    sign = "sign flipped and " if c < 0 else ""
    batch = [(n, what) for n, what in lengths if what.startswith("the batch size")]
    for n, what in batch + [(2, None)] + [x for x in lengths if x not in batch]:
        if what is None and (near(abs(c), 2) or near(abs(c), 0.5)):
            return (f"{sign}off by a constant factor: yours is {c:.6g} times the true gradient (the 2 of "
                    "d(x**2)/dx = 2x?)")
        if what is not None and near(abs(c), n):
            return f"{sign}missing /N (N={n}, {what}): yours is {c:.6g} times the true gradient"
        if what is not None and near(abs(c), 1 / n):
            return (f"{sign}extra /N (N={n}, {what}): yours is the true gradient divided by {1 / c:.6g} "
                    "(a mean where a sum is meant?)")
    return f"{sign}off by a constant factor: yours is {c:.6g} times the true gradient"


def _reduction_diagnosis(problem, i, g, rtol, atol):
    """A bias-like parameter whose gradient reduces the upstream gradient over the wrong axis."""
    shape = problem.arrays[i].shape
    for n, what in problem.lengths:
        for axis, wide in _broadcasts(shape, n):
            up = problem.batch_gradient(i, wide)
            for how, r in ([] if up is None else _wrong_reductions(up, axis)):
                if _close(g.reshape(r.shape) if g.size == r.size == 1 else g, r, rtol, atol):
                    return (f"{how} instead of summed over axis {axis} (length {n}, {what}): a bias added "
                            f"along axis {axis} gets the upstream gradient (shape {wide}) summed over that "
                            "axis")
    return None


def _wrong_reductions(up, axis):
    """(what, result) for each sum or mean of ``up`` over another axis than ``axis``, or over all axes."""
    others = [a for a in range(up.ndim) if a != axis] + ([None] if up.ndim > 1 else [])
    for op, verb in (("sum", "summed"), ("mean", "averaged")):
        for other in others:
            where = "all axes" if other is None else f"axis {other}"
            for keepdims in (False, True):
                yield f"{verb} over {where}", getattr(up, op)(axis=other, keepdims=keepdims)


def _broadcasts(shape, n):
    """(axis, shape) for each way a parameter of ``shape`` can be broadcast along an axis of length ``n``."""
    out = [(a, shape[:a] + (n,) + shape[a + 1:]) for a, d in enumerate(shape) if d == 1]
    if len(shape) < 2:
        out.append((0, (n,) + shape))
    return out


def _partial_zero(g, t, rtol, atol):
    """Zero at some elements where the true gradient is not, right everywhere else."""
    if g.shape != t.shape:
        return None
    wrong = _excess(g, t, rtol, atol) > 0
    if wrong.any() and not np.any(g[wrong]):
        return (f"zero where it should not be: {int(wrong.sum())} of {g.size} elements are 0 but the true "
                f"gradient is not (a term or a mask missing there?)")
    return None


def _shape_hint(have, want, lengths):
    """What a wrong shape says: a batch-length axis left in means a reduction is missing."""
    batch = [f"{n} ({what})" for n, what in lengths if n in have and n not in want]
    extra = f": it has an axis of length {batch[0]}, a sum over it missing or on the wrong axis?" if batch \
        else ""
    return f"wrong shape {have} for a parameter of shape {want}{extra}"
