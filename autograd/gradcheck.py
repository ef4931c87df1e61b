"""``gradcheck``: the engine's gradients against central finite differences.

For every element ``x[k]`` of every input, the analytical gradient from ``autograd.grad`` is compared
with ``(f(x[k] + eps) - f(x[k] - eps)) / (2 * eps)``. A ``Value`` function is checked directly; a
``Tensor`` function with a non-scalar output is reduced to the scalar ``<out, v>`` with a fixed random
``v`` (a vector-Jacobian product against finite differences, as in PyTorch's and HIPS autograd's
checkers). Tensors must be ``float64``: ``float32`` finite differences are noise.

The check uses ``autograd.grad`` with ``retain_graph=True``, so ``.grad`` attributes and the caller's
graph are left alone; every perturbed ``.data`` is restored, even when ``fn`` raises.
"""
import math

from .engine import grad as _grad
from .value import Value


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytical gradient differs from the finite difference.

    Attributes: ``input_index``, ``label``, ``element_index``, ``analytical``, ``numerical``.
    """

    def __init__(self, message, input_index=None, label="", element_index=None, analytical=None,
                 numerical=None):
        super().__init__(message)
        self.input_index = input_index
        self.label = label
        self.element_index = element_index
        self.analytical = analytical
        self.numerical = numerical


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check ``fn``'s gradients with respect to ``inputs`` by central finite differences.

    ``inputs``: a ``Value``, a float64 ``Tensor``, or a list/tuple of them (all of one kind); ``fn`` is
    called as ``fn(*inputs)`` and returns a ``Value`` (or a ``Tensor``). Tensors that do not require grad
    are passed to ``fn`` but not checked. An element passes when
    ``|analytical - numerical| <= atol + rtol * |numerical|`` (non-finite values never pass).
    Returns ``True``, or raises ``GradcheckError`` naming the input (index and label), the element
    index and both values.
    """
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if not inputs:
        raise ValueError("gradcheck: no inputs to check")
    if not eps > 0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps!r}")
    if all(isinstance(x, Value) for x in inputs):
        return _check_values(fn, inputs, eps, atol, rtol)
    if any(isinstance(x, Value) for x in inputs):
        raise TypeError("gradcheck: inputs mix Values and other types; pass all Values or all Tensors")
    for i, x in enumerate(inputs):
        if not _is_tensor(x):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}; expected a Value or a Tensor")
    return _check_tensors(fn, inputs, eps, atol, rtol)


def _is_tensor(x):
    """A Tensor by its surface (``.data`` an ndarray, ``.requires_grad``), without importing tensor.py."""
    data = getattr(x, "data", None)
    return hasattr(x, "requires_grad") and type(data).__module__ == "numpy" and hasattr(data, "shape")


def _close(analytical, numerical, atol, rtol):
    return abs(analytical - numerical) <= atol + rtol * abs(numerical)  # False for nan/inf


def _fail(i, x, element, analytical, numerical, eps, atol, rtol):
    label = getattr(x, "label", "") or ""
    name = f"input {i}" + (f" ({label!r})" if label else "")
    raise GradcheckError(
        f"gradcheck: wrong gradient for {name}, element {element}: analytical {analytical!r} vs "
        f"numerical {numerical!r} (central difference, eps={eps:g}; allowed |difference| <= "
        f"atol + rtol * |numerical| with atol={atol:g}, rtol={rtol:g})",
        input_index=i, label=label, element_index=element, analytical=analytical, numerical=numerical)


# -- Value ----------------------------------------------------------------------------------------
def _value_output(fn, inputs):
    out = fn(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value for Value inputs, got {type(out).__name__}")
    return out


def _check_values(fn, inputs, eps, atol, rtol):
    out = _value_output(fn, inputs)
    grads = _grad(out, inputs, retain_graph=True, allow_unused=True)
    for i, (x, g) in enumerate(zip(inputs, grads)):
        analytical = 0.0 if g is None else g.data
        saved = x.data
        try:
            x.data = saved + eps
            plus = _value_output(fn, inputs).data
            x.data = saved - eps
            minus = _value_output(fn, inputs).data
        finally:
            x.data = saved
        numerical = (plus - minus) / (2.0 * eps)
        if not _close(analytical, numerical, atol, rtol):
            _fail(i, x, 0, analytical, numerical, eps, atol, rtol)
    return True


# -- Tensor ---------------------------------------------------------------------------------------
def _tensor_output(fn, inputs):
    out = fn(*inputs)
    if not _is_tensor(out):
        raise TypeError(f"gradcheck: fn must return a Tensor for Tensor inputs, got {type(out).__name__}")
    if out.data.dtype.name != "float64":
        raise TypeError(f"gradcheck: fn returned a {out.data.dtype} Tensor; it must be float64")
    return out


def _check_tensors(fn, inputs, eps, atol, rtol):
    import numpy as np

    for i, x in enumerate(inputs):
        if x.requires_grad and x.data.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {x.data.dtype}; finite differences need "
                            "float64 (create it with dtype='float64')")
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")

    out = _tensor_output(fn, inputs)
    # a fixed random direction: <out, v> is a scalar whose gradient is the vector-Jacobian product
    v = np.random.default_rng(0).standard_normal(out.data.shape) if out.data.size != 1 \
        else np.ones(out.data.shape)
    grads = _grad(out, [inputs[i] for i in checked], grad_outputs=type(out)(v), retain_graph=True,
                  allow_unused=True)

    def project():
        return float(np.sum(_tensor_output(fn, inputs).data * v))

    for i, g in zip(checked, grads):
        x = inputs[i]
        saved = x.data
        analytical = np.zeros(saved.shape) if g is None else np.asarray(g.data, dtype=np.float64)
        if analytical.shape != saved.shape:
            raise GradcheckError(f"gradcheck: gradient of input {i} has shape {analytical.shape}, "
                                 f"the input has shape {saved.shape}", input_index=i)
        numerical = np.empty(saved.shape)
        try:
            for k in range(saved.size):
                idx = np.unravel_index(k, saved.shape)
                bumped = np.array(saved, dtype=np.float64, copy=True)
                bumped[idx] = saved[idx] + eps
                x.data = bumped
                plus = project()
                bumped[idx] = saved[idx] - eps
                minus = project()
                numerical[idx] = (plus - minus) / (2.0 * eps)
        finally:
            x.data = saved
        bad = ~(np.abs(analytical - numerical) <= atol + rtol * np.abs(numerical))
        if bad.any():
            excess = np.where(bad, np.abs(analytical - numerical), -1.0)
            excess[np.isnan(excess)] = math.inf  # nan differences are the worst of all
            idx = np.unravel_index(int(np.argmax(excess)), saved.shape)
            element = tuple(int(j) for j in idx)
            _fail(i, x, element, float(analytical[idx]), float(numerical[idx]), eps, atol, rtol)
    return True
