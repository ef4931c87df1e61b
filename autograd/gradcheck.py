"""``gradcheck`` and ``gradgradcheck``: the engine's gradients against finite differences.

How a check runs:

- ``fn`` is called on the inputs themselves, one element moved at a time and restored exactly
  afterwards, even when ``fn`` raises (as torch's; so ``fn`` may also reach them through a closure,
  e.g. a module's parameters). ``float32`` inputs are checked in float64 copies, with a warning (so
  ``fn`` must use its arguments for those). ``.grad`` attributes and graphs are left alone.
- The outputs are reduced to the scalar ``phi = sum_k <out_k, v_k>`` with fixed random ``v_k``
  (``v = 1`` for a one-element output): the gradient of ``phi`` is the vector-Jacobian product ``vᵀJ``
  (as in PyTorch's and HIPS autograd's checkers).
- Full mode: for every element ``x[k]`` of every input, ``d phi / d x[k]`` from ``autograd.grad``
  against the central difference ``(phi(x[k] + eps) - phi(x[k] - eps)) / (2 eps)``.
- ``fast_mode=True``: one random unit direction ``u`` over all inputs, ``vᵀJu`` against the central
  difference of ``phi`` along ``u`` (two calls of ``fn`` instead of two per element); on a mismatch the
  full mode runs to name the element.
- Kinks: a failing element whose finite differences disagree between step sizes (left and right
  differences at ``eps / 16`` that differ, or a central difference at ``eps / 16`` that agrees with
  the analytical value while the one at ``eps`` does not) is reported as "not differentiable at this
  point", not as a wrong gradient.
- ``nondet_tol``: the backward pass runs twice on the same graph; the results must agree within it.
- ``order=N``: after the gradient, the gradient of (the gradient along a fixed random ``v``), and so on
  up to order ``N`` (as JAX's ``check_grads(order=)``), through ``create_graph=True``.

A nan or an inf, analytical or numerical, never passes.
"""
import math
import warnings

import numpy as np

from . import grad_mode
from .engine import grad as _grad
from .value import Value

_SMALL = 16  # the second step size is eps / _SMALL


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytical gradient differs from the finite difference.

    Attributes: ``input_index``, ``label``, ``element_index``, ``analytical``, ``numerical``,
    ``reason`` (``"wrong gradient"``, ``"not differentiable"``, ``"nondeterministic"``) and ``order``.
    """

    def __init__(self, message, input_index=None, label="", element_index=None, analytical=None,
                 numerical=None, reason="wrong gradient", order=1):
        super().__init__(message)
        self.input_index = input_index
        self.label = label
        self.element_index = element_index
        self.analytical = analytical
        self.numerical = numerical
        self.reason = reason
        self.order = order


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, fast_mode=False, nondet_tol=0.0, order=1,
              raise_exception=True):
    """Check ``fn``'s gradients with respect to ``inputs`` by central finite differences.

    ``inputs``: a ``Value``, a float ``Tensor``, or a list/tuple of them (all of one kind); ``fn`` is
    called as ``fn(*inputs)`` and returns a ``Value`` or a ``Tensor`` (or a tuple of them; integer and
    bool outputs are skipped). Tensors that do not require grad are passed to ``fn`` as they are and not
    checked. An element passes when ``|analytical - numerical| <= atol + rtol * |numerical|``.
    ``fast_mode``: one random projection ``vᵀJu`` instead of every element (the full check runs on a
    failure, to name the element); ``nondet_tol``: how far two backward passes on the same graph may
    differ; ``order``: check every derivative up to this order. Returns ``True``, or raises
    ``GradcheckError`` naming the input (index and label), the element index and both values, and its
    ``reason`` (``raise_exception=False``: returns ``False`` instead).
    """
    points, checked, names, note = _prepare(inputs, eps, order, nondet_tol)
    settings = _Settings(eps, atol, rtol, fast_mode, nondet_tol, note)

    def run():
        level = fn
        for k in range(1, order + 1):
            case = _Case(level, points, checked, names, settings, k)
            case.check()
            level = case.derivative()
    return _run(run, raise_exception)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, *, fast_mode=False,
                  nondet_tol=0.0, raise_exception=True):
    """Check the second-order gradients of ``fn`` by finite differences of its gradients, as torch's.

    The function checked is ``(inputs, grad_outputs) -> autograd.grad(fn(*inputs), inputs,
    grad_outputs, create_graph=True)``, with respect to both the inputs and ``grad_outputs`` (one per
    floating output of ``fn``, its shape; random normal when ``None``). Arguments as ``gradcheck``.
    """
    points, checked, names, note = _prepare(inputs, eps, 1, nondet_tol)
    settings = _Settings(eps, atol, rtol, fast_mode, nondet_tol, note)

    def run():
        first = _Case(fn, points, checked, names, settings, 2)  # for the outputs' shapes and directions
        vs = first.vs if grad_outputs is None else _given_grad_outputs(grad_outputs, first.outs)
        extra = [Value(float(v)) if first.is_value else _tensor_type()(v, requires_grad=True) for v in vs]
        n = len(points)
        dfn = _derivative(fn, checked, first.is_value, None, n)
        case = _Case(dfn, points + extra, checked + list(range(n, n + len(vs))),
                     names + [f"grad_outputs[{k}]" for k in range(len(vs))], settings, 2)
        case.check()
    return _run(run, raise_exception)


# -- set-up ---------------------------------------------------------------------------------------
class _Settings:
    """The tolerances and options of one ``gradcheck`` call; ``note`` is appended to its messages."""

    def __init__(self, eps, atol, rtol, fast_mode, nondet_tol, note):
        self.eps, self.atol, self.rtol = eps, atol, rtol
        self.fast_mode, self.nondet_tol, self.note = fast_mode, nondet_tol, note


def _run(check, raise_exception):
    try:
        with grad_mode.enable_grad():
            check()
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _tensor_type():
    from .tensor import Tensor
    return Tensor


def _is_tensor(x):
    return isinstance(x, _tensor_type())


def _prepare(inputs, eps, order, nondet_tol):
    """``(points, checked, names, note)``: what ``fn`` is called on (the inputs, float64 copies of
    float32 ones), the indices of those checked, the inputs' names and a note for the messages."""
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if not inputs:
        raise ValueError("gradcheck: no inputs to check")
    if not eps > 0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps!r}")
    if not (isinstance(order, int) and order >= 1):
        raise ValueError(f"gradcheck: order must be an integer >= 1, got {order!r}")
    if not nondet_tol >= 0:
        raise ValueError(f"gradcheck: nondet_tol must be >= 0, got {nondet_tol!r}")
    names = [_name(i, x) for i, x in enumerate(inputs)]
    if all(isinstance(x, Value) for x in inputs):
        return inputs, list(range(len(inputs))), names, ""
    if any(isinstance(x, Value) for x in inputs):
        raise TypeError("gradcheck: inputs mix Values and other types; pass all Values or all Tensors")
    for i, x in enumerate(inputs):
        if not _is_tensor(x):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}; expected a Value or a Tensor")
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    low = [i for i in checked if inputs[i].dtype != np.float64]
    points = [_tensor_type()(np.array(x.detach().numpy(), dtype=np.float64), requires_grad=True)
              if i in low else x for i, x in enumerate(inputs)]
    note = ""
    if low:
        note = (f" (input(s) {', '.join(map(str, low))} of dtype {inputs[low[0]].dtype} were checked in "
                "float64 copies)")
        warnings.warn(f"gradcheck: {inputs[low[0]].dtype} input(s) {low} are checked in float64 copies: "
                      "finite differences in single precision are noise", UserWarning, stacklevel=3)
    return points, checked, names, note


def _name(i, x):
    label = getattr(x, "label", "") or ""
    return f"input {i}" + (f" ({label!r})" if label else "")


def _given_grad_outputs(grad_outputs, outs):
    """``grad_outputs`` for ``gradgradcheck`` as float64 arrays, one per floating output."""
    given = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
    if len(given) != len(outs):
        raise ValueError(f"gradgradcheck: got {len(given)} grad_outputs for {len(outs)} outputs")
    arrays = [np.array(g.detach().numpy() if _is_tensor(g) else getattr(g, "data", g), dtype=np.float64)
              for g in given]
    for k, (a, o) in enumerate(zip(arrays, outs)):
        if a.shape != _numbers(o).shape:
            raise ValueError(f"gradgradcheck: grad_outputs[{k}] has shape {a.shape}, output {k} has shape "
                             f"{_numbers(o).shape}")
    return arrays


# -- outputs --------------------------------------------------------------------------------------
def _outputs(out, is_value):
    """The floating outputs of ``fn`` as a list (integer and bool Tensors are not differentiable)."""
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    kept = []
    for o in outs:
        if is_value:
            if not isinstance(o, Value):
                raise TypeError(f"gradcheck: fn must return a Value for Value inputs, got {type(o).__name__}")
            kept.append(o)
            continue
        if not _is_tensor(o):
            raise TypeError(f"gradcheck: fn must return a Tensor for Tensor inputs, got {type(o).__name__}")
        if o.dtype.kind == "f":
            if o.dtype != np.float64:
                raise TypeError(f"gradcheck: fn returned a {o.dtype} Tensor; it must be float64")
            kept.append(o)
    if not kept:
        raise ValueError("gradcheck: fn has no floating-point output to check")
    return kept


def _numbers(o):
    """A float64 array of an output's values."""
    if isinstance(o, Value):
        return np.array(o.data, dtype=np.float64)
    return np.asarray(o.detach().numpy(), dtype=np.float64)


def _differentiable(o):
    return isinstance(o, Value) or o.requires_grad


def _as_grad_output(v, o):
    """``v`` as ``autograd.grad``'s ``grad_outputs`` entry for ``o`` (Values and Tensors as they are)."""
    if isinstance(v, Value) or _is_tensor(v):
        return v
    return float(v) if isinstance(o, Value) else _tensor_type()(np.asarray(v, dtype=np.float64))


def _vjp(outs, vs, wrt, create_graph):
    """The gradients of ``sum_k <out_k, v_k>`` with respect to ``wrt`` (``None`` for one not reached)."""
    pairs = [(o, v) for o, v in zip(outs, vs) if _differentiable(o)]
    if not pairs:
        return [None] * len(wrt)
    return list(_grad([o for o, _ in pairs], wrt, grad_outputs=[_as_grad_output(v, o) for o, v in pairs],
                      retain_graph=True, create_graph=create_graph, allow_unused=True))


def _derivative(fn, checked, is_value, vs, n_inputs):
    """``fn``'s gradients with respect to the inputs ``checked``, along ``vs`` (a function of the
    inputs; ``vs=None``: the directions are the arguments after the first ``n_inputs``)."""
    def dfn(*args):
        outs = _outputs(fn(*args[:n_inputs]), is_value)
        wrt = [args[i] for i in checked]
        grads = _vjp(outs, vs if vs is not None else args[n_inputs:], wrt, create_graph=True)
        return tuple(_zero_like(x) if g is None else g for g, x in zip(grads, wrt))
    return dfn


def _zero_like(x):
    if isinstance(x, Value):
        return Value(0.0)
    return _tensor_type()(np.zeros(x.shape, dtype=np.float64))


# -- one check --------------------------------------------------------------------------------------
class _Case:
    """One function checked at one point: ``fn(*points)``, the checked points moved one at a time."""

    def __init__(self, fn, points, checked, names, settings, order):
        self.fn, self.points, self.checked, self.names = fn, points, checked, names
        self.s, self.order = settings, order
        self.is_value = isinstance(points[0], Value)
        self.shapes = {i: _values(points[i]).shape for i in checked}
        self.outs = _outputs(fn(*points), self.is_value)
        rng = np.random.default_rng(order - 1)
        self.vs = [np.ones(_numbers(o).shape) if _numbers(o).size == 1
                   else rng.standard_normal(_numbers(o).shape) for o in self.outs]
        self.phi0 = self._project(self.outs)
        self.projected = any(v.size > 1 for v in self.vs) or len(self.vs) > 1

    # evaluation
    def _project(self, outs):
        total = 0.0
        for o, v in zip(outs, self.vs):
            values = _numbers(o)
            if values.shape != v.shape:
                raise ValueError(f"gradcheck: fn's output changed shape from {v.shape} to {values.shape} "
                                 "between calls")
            total += float(np.sum(values * v))
        return total

    def phi_at(self, moves):
        """``sum_k <out_k, v_k>`` with the points moved (``{index: new values}``), then put back."""
        saved = {i: _values(self.points[i]) for i in moves}
        try:
            for i, values in moves.items():
                _set_values(self.points[i], values)
            return self._project(_outputs(self.fn(*self.points), self.is_value))
        finally:
            for i, values in saved.items():
                _set_values(self.points[i], values)

    def phi_moved(self, i, idx, delta):
        """``phi`` with element ``idx`` of input ``i`` moved by ``delta``."""
        moved = _values(self.points[i])
        moved[idx] += delta
        return self.phi_at({i: moved})

    def analytical(self):
        """``vᵀJ`` for every checked input, as float64 arrays of the inputs' shapes."""
        grads = _vjp(self.outs, self.vs, [self.points[i] for i in self.checked], create_graph=False)
        result = []
        for i, g in zip(self.checked, grads):
            a = np.zeros(self.shapes[i]) if g is None else _numbers(g)
            if a.shape != self.shapes[i]:
                raise GradcheckError(f"gradcheck: the gradient of {self.names[i]} has shape {a.shape}, the "
                                     f"input has shape {self.shapes[i]}", input_index=i, order=self.order)
            result.append(a)
        return result

    # the checks
    def check(self):
        analytical = self.analytical()
        self._check_reentrant(analytical)
        if self.s.fast_mode:
            self._fast(analytical)
        else:
            self._full(analytical)

    def _tol(self, numerical):
        return self.s.atol + self.s.rtol * np.abs(numerical)

    def _close(self, analytical, numerical):
        with np.errstate(invalid="ignore"):
            return np.abs(analytical - numerical) <= self._tol(numerical)  # False for nan and inf

    def _check_reentrant(self, analytical):
        again = self.analytical()
        for i, a, b in zip(self.checked, analytical, again):
            with np.errstate(invalid="ignore"):
                diff = np.where((a == b) | (np.isnan(a) & np.isnan(b)), 0.0, np.abs(a - b))
            diff = np.where(np.isnan(diff), math.inf, diff)
            if (diff > self.s.nondet_tol).any():
                idx = np.unravel_index(int(np.argmax(diff)), a.shape)
                raise GradcheckError(
                    f"gradcheck: the backward pass is not reentrant: running it twice on the same graph "
                    f"gave {float(a[idx])!r} and {float(b[idx])!r} for the {self._what()} of "
                    f"{self.names[i]}, element {self._element(idx)} (|difference| > "
                    f"nondet_tol={self.s.nondet_tol:g}){self.s.note}", input_index=i,
                    label=self._label(i), element_index=self._element(idx), analytical=float(a[idx]),
                    numerical=float(b[idx]), reason="nondeterministic", order=self.order)

    def _full(self, analytical):
        kinks = []
        for i, a in zip(self.checked, analytical):
            plus, minus = self._one_sided(i, self.s.eps)
            numerical = (plus - minus) / (2.0 * self.s.eps)
            bad = ~self._close(a, numerical)
            if not bad.any():
                continue
            with np.errstate(invalid="ignore"):
                excess = np.where(bad, np.abs(a - numerical), -1.0)
            excess[np.isnan(excess)] = math.inf  # nan differences are the worst of all
            for k in np.argsort(-excess, axis=None, kind="stable")[:int(bad.sum())]:
                idx = np.unravel_index(int(k), a.shape)
                kink = self._kink(i, idx, a[idx], numerical[idx], plus[idx], minus[idx])
                if kink is None:
                    self._fail(i, idx, a[idx], numerical[idx])
                kinks.append(kink)
        if kinks:
            raise kinks[0]

    def _one_sided(self, i, h):
        """``phi`` with each element of input ``i`` moved by ``+h`` and by ``-h``, as two arrays."""
        shape = self.shapes[i]
        plus, minus = np.empty(shape), np.empty(shape)
        for k in range(plus.size):
            idx = np.unravel_index(k, shape)
            plus[idx] = self.phi_moved(i, idx, h)
            minus[idx] = self.phi_moved(i, idx, -h)
        return plus, minus

    def _fast(self, analytical):
        rng = np.random.default_rng(1000 + self.order)
        u = [rng.standard_normal(self.shapes[i]) for i in self.checked]
        norm = math.sqrt(sum(float(np.sum(x * x)) for x in u))
        u = [x / norm for x in u]
        with np.errstate(invalid="ignore"):
            projected = float(sum(np.sum(a * x) for a, x in zip(analytical, u)))
        eps = self.s.eps

        start = {i: _values(self.points[i]) for i in self.checked}

        def along(t):
            return self.phi_at({i: start[i] + t * x for i, x in zip(self.checked, u)})
        numerical = (along(eps) - along(-eps)) / (2.0 * eps)
        if self._close(projected, numerical):
            return
        self._full(analytical)  # raises naming the element
        raise GradcheckError(
            f"gradcheck (fast mode): the {self._what()} along a random direction is wrong: analytical vᵀJu "
            f"{projected!r} vs numerical {numerical!r} (eps={eps:g}, atol={self.s.atol:g}, "
            f"rtol={self.s.rtol:g}), but no single element fails in full mode: the error is within the "
            f"tolerances element by element{self.s.note}", analytical=projected, numerical=numerical,
            order=self.order)

    def _kink(self, i, idx, analytical, central, plus, minus):
        """A "not differentiable" error when the finite differences disagree between step sizes."""
        h = self.s.eps / _SMALL
        f0 = self.phi0
        plus_h, minus_h = self.phi_moved(i, idx, h), self.phi_moved(i, idx, -h)
        right, left, small = (plus_h - f0) / h, (f0 - minus_h) / h, (plus_h - minus_h) / (2.0 * h)
        if not all(math.isfinite(x) for x in (analytical, central, right, left)):
            return None
        gap_small, gap_eps = abs(right - left), abs(plus + minus - 2.0 * f0) / self.s.eps
        sides_differ = gap_small > self._tol(max(abs(right), abs(left))) and gap_small > gap_eps / 4
        steps_differ = self._close(analytical, small) and not self._close(small, central)
        if not (sides_differ or steps_differ):
            return None
        element = self._element(idx)
        return GradcheckError(
            f"gradcheck: fn is not differentiable at this point: {self.names[i]}, element {element}: the "
            f"finite differences disagree between step sizes (central difference {float(central)!r} with "
            f"eps={self.s.eps:g}, {small!r} with eps/{_SMALL}; at eps/{_SMALL} the right difference is "
            f"{right!r}, the left {left!r}); the analytical {self._what()} is {float(analytical)!r}. fn has "
            f"a kink (relu, abs, max, ...) at or within eps of this point: this is not reported as a wrong "
            f"gradient; check at another point{self._notes()}", input_index=i, label=self._label(i),
            element_index=element, analytical=float(analytical), numerical=float(central),
            reason="not differentiable", order=self.order)

    def _fail(self, i, idx, analytical, numerical):
        element = self._element(idx)
        analytical, numerical = float(analytical), float(numerical)
        raise GradcheckError(
            f"gradcheck: wrong {self._what()} for {self.names[i]}, element {element}: analytical "
            f"{analytical!r} vs numerical {numerical!r} (central difference, eps={self.s.eps:g}; allowed "
            f"|difference| <= atol + rtol * |numerical| with atol={self.s.atol:g}, rtol={self.s.rtol:g}; "
            f"a nan or inf never passes){self._notes()}", input_index=i, label=self._label(i),
            element_index=element, analytical=analytical, numerical=numerical, order=self.order)

    # naming
    def _notes(self):
        projected = (" (the values are those of sum_k <output_k, v_k> for fixed random v_k: a row of "
                     "vᵀJ)" if self.projected else "")
        return projected + self.s.note

    def _what(self):
        return {1: "gradient", 2: "second-order gradient"}.get(self.order, f"order-{self.order} gradient")

    def _element(self, idx):
        return 0 if self.is_value else tuple(int(j) for j in idx)

    def _label(self, i):
        return getattr(self.points[i], "label", "") or ""

    def derivative(self):
        """The next order's function: the gradients along this check's ``vs``."""
        return _derivative(self.fn, self.checked, self.is_value, self.vs, len(self.points))


def _values(x):
    """A float64 copy of a point's values (a 0-d array for a ``Value``)."""
    return np.array(x.data if isinstance(x, Value) else x.detach().numpy(), dtype=np.float64)


def _set_values(x, values):
    """Write ``values`` into a point in place (``Value.data``, or the Tensor's own array)."""
    if isinstance(x, Value):
        x.data = float(values)
    else:
        x.detach().numpy()[...] = values
