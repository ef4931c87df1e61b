"""``autograd.functional``: Jacobians, Hessians and their products, as ``torch.autograd.functional``.

    from autograd import functional as AF
    J = AF.jacobian(lambda x, w: (x @ w).tanh(), (x, w))      # J[0]: out.shape + x.shape, J[1]: ...
    out, hv = AF.hvp(lambda x: (x ** 3).sum(), x, v)         # H @ v without forming H

``inputs`` is a Tensor or a tuple of Tensors and ``func(*inputs)`` returns a Tensor or a tuple of
Tensors; the results follow torch's nesting (a tuple wherever the argument or the output was a tuple,
``jacobian[i][j]`` for output ``i`` and input ``j``). Everything is built on ``autograd.grad``: ``vjp``
and ``vhp`` are one and two reverse passes, ``jvp`` and ``hvp`` use the double-vjp trick
(``J^T u`` is linear in ``u``, so differentiating it with respect to ``u`` along ``v`` gives ``J v``
exactly; no finite differences). ``jacobian`` runs one reverse pass per output element.
``create_graph=True`` keeps the results differentiable; ``strict=True`` raises torch's
``RuntimeError`` when an output is independent of an input instead of returning zeros; ``vectorize``
and the strategies are accepted for compatibility (every strategy computes in reverse mode).
"""
import numpy as np

from .engine import grad as _grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

_OUTPUTS = "outputs of the user-provided function"
_STRATEGIES = ("forward-mode", "reverse-mode")
_INPUT_IS = "input to the user-provided function is"


# -- tuples in, tuples out --------------------------------------------------------------------------
def _as_tuple(x, arg_name, fn_name):
    """``(was_a_tuple, tuple_of_tensors)``; anything but a Tensor or a tuple of Tensors is a TypeError."""
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = (f"the value at index {i} has type {type(el).__name__}" if is_tuple
                     else f"the given {arg_name} has type {type(el).__name__}")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                            f"Tensors but {where}.")
    return is_tuple, items


def _unpack(res, is_tuple):
    return res if is_tuple else res[0]


def _unpack2(res, is_outer_tuple, is_inner_tuple):
    """Undo the tuples around a nested result (``res[i][j]``), as torch's ``_tuple_postprocess``."""
    if not is_inner_tuple:
        res = tuple(row[0] for row in res)
    return res if is_outer_tuple else res[0]


def _finish(res, create_graph):
    """Detach the results unless ``create_graph`` (nested tuples too)."""
    if create_graph:
        return res
    return tuple(_finish(r, False) if isinstance(r, tuple) else r.detach() for r in res)


def _prepare(tensors, create_graph, need_graph):
    """Fresh leaves for ``func``; with ``create_graph``, tensors that require grad keep their graph."""
    return tuple(x * 1.0 if create_graph and x.requires_grad else x.detach().requires_grad_(need_graph)
                 for x in tensors)


def _zeros_like(x, requires_grad=False):
    return Tensor(np.zeros(x.shape, dtype=x.dtype), requires_grad=requires_grad)


# -- checks with torch's messages -------------------------------------------------------------------
def _prepare_v(v, like, is_like_tuple, create_graph, fn_name, when_none):
    """``v`` as a tuple matching ``like`` (shapes checked), or ``None`` for a single one-element ``like``."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {when_none} a single Tensor with "
                               "a single element.")
        return None
    _, v = _as_tuple(v, "v", fn_name)
    v = _prepare(v, create_graph, need_graph=False)
    if len(v) != len(like):
        if is_like_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if is_like_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.shape} but got {a.shape}.")
    return v


_INDEPENDENT = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs must "
               "be computed in a differentiable manner from the input when running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with "
                "respect to input {i} is independent of the input. This is not allowed in strict mode. "
                "You should ensure that your function is twice differentiable and that the jacobian "
                "depends on the inputs (this would be violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent of "
               "the input. This is not allowed in strict mode. You should ensure that your function is "
               "thrice differentiable and that the hessian depends on the inputs.",
}


def _check_requires_grad(tensors, kind, strict):
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_INDEPENDENT[kind].format(i=i))


_NONE_IN_STRICT = {
    "back": "The output of the user-provided function is independent of input {i}.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode gradients.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros for the ``None`` gradients (the mathematical value), or torch's error in strict mode."""
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{_NONE_IN_STRICT[stage].format(i=i)} This is not allowed in strict "
                                   "mode.")
            g = _zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _grad_of(outputs, inputs, grad_outputs, create_graph, retain_graph=None):
    """``autograd.grad`` over the outputs that require grad (``None`` for an unreached input)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], list(inputs), grad_outputs=[g for _, g in pairs],
                 retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


def _call(func, inputs, fn_name, strict):
    """``func(*inputs)`` as ``(was_a_tuple, outputs)``, checked."""
    is_tuple, outputs = _as_tuple(func(*inputs), _OUTPUTS, fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_tuple, outputs


# -- products ---------------------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), vᵀJ)``: ``v`` like the outputs, the result like the inputs, as torch's."""
    with enable_grad():
        is_in, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        is_out, outputs = _call(func, inputs, "vjp", strict)
        v = _prepare_v(v, outputs, is_out, create_graph, "vjp", "user-provided function returns")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _fill_in_zeros(_grad_of(outputs, inputs, v, create_graph), inputs, strict, create_graph, "back")
    return _unpack(_finish(outputs, create_graph), is_out), _unpack(_finish(res, create_graph), is_in)


def _double_vjp(outputs, inputs, like, v, create_graph, strict, stage, check):
    """``J v`` for the Jacobian ``J`` of ``outputs`` with respect to ``inputs`` (``like`` gives its row
    shapes): ``u -> J^T u`` is linear in ``u``, so its vjp along ``v`` is ``J v`` (the double-vjp trick).
    ``check(J^T u)`` runs between the two passes (strict mode's check)."""
    with enable_grad():
        u = tuple(_zeros_like(x, requires_grad=True) for x in like)
        back = _grad_of(outputs, inputs, u, create_graph=True)
        check(back)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        return _fill_in_zeros(_grad_of(back, u, v, create_graph), like, strict, create_graph, stage)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``: ``v`` like the inputs, the result like the outputs (double-vjp trick)."""
    with enable_grad():
        is_in, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_in, create_graph, "jvp", _INPUT_IS)
        is_out, outputs = _call(func, inputs, "jvp", strict)
    res = _double_vjp(outputs, inputs, outputs, v, create_graph, strict, "back_trick",
                      lambda back: _check_requires_grad(back, "grad_inputs", strict))
    return _unpack(_finish(outputs, create_graph), is_out), _unpack(_finish(res, create_graph), is_out)


def _scalar_function(func, inputs, v, create_graph, strict, fn_name):
    """The set-up ``vhp`` and ``hvp`` share: fresh inputs, ``v``, the output and its gradient."""
    is_in, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _prepare(inputs, create_graph, need_graph=True)
    v = _prepare_v(v, inputs, is_in, create_graph, fn_name, _INPUT_IS)
    is_out, outputs = _call(func, inputs, fn_name, strict)
    if is_out:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a "
                           "single element")
    jac = _grad_of(outputs, inputs, None, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_in, inputs, v, outputs[0], jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), vᵀH)`` for a scalar ``func``: ``v`` and the result like the inputs."""
    with enable_grad():
        is_in, inputs, v, output, jac = _scalar_function(func, inputs, v, create_graph, strict, "vhp")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _fill_in_zeros(_grad_of(jac, inputs, v, create_graph), inputs, strict, create_graph,
                             "double_back")
    return _finish((output,), create_graph)[0], _unpack(_finish(res, create_graph), is_in)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for a scalar ``func`` (double-vjp trick on the gradient)."""
    with enable_grad():
        is_in, inputs, v, output, jac = _scalar_function(func, inputs, v, create_graph, strict, "hvp")
    res = _double_vjp(jac, inputs, inputs, v, create_graph, strict, "double_back_trick",
                      lambda back: _check_requires_grad(jac, "hessian", strict))  # torch checks jac here
    return _finish((output,), create_graph)[0], _unpack(_finish(res, create_graph), is_in)


# -- full matrices ----------------------------------------------------------------------------------
def _check_strategy(strategy):
    if strategy not in _STRATEGIES:
        raise ValueError(f'Expected strategy to be either "forward-mode" or "reverse-mode", got '
                         f'{strategy!r}.')


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian: ``J[i][j]`` of shape ``outputs[i].shape + inputs[j].shape`` (dtype of input ``j``),
    unnested where ``inputs`` or the output is a single Tensor, as torch's."""
    import autograd

    _check_strategy(strategy)
    with enable_grad():
        is_in, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        is_out, outputs = _call(func, inputs, "jacobian", strict)
        jac = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            for k in range(out.numel()):
                basis = np.zeros(out.numel(), dtype=out.dtype)
                basis[k] = 1
                grads = _grad_of((out,), inputs, (Tensor(basis.reshape(out.shape)),), create_graph,
                                 retain_graph=True)
                for j, (g, x) in enumerate(zip(grads, inputs)):
                    rows[j].append(_jacobian_row(g, x, i, j, strict, create_graph))
            jac.append(tuple(autograd.stack(r).reshape(out.shape + x.shape) if r
                             else Tensor(np.zeros(out.shape + x.shape, dtype=x.dtype))  # an empty output
                             for r, x in zip(rows, inputs)))
    return _unpack2(_finish(tuple(jac), create_graph), is_out, is_in)


def _jacobian_row(g, x, i, j, strict, create_graph):
    if g is None:
        if strict:
            raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                               "This is not allowed in strict mode.")
        return _zeros_like(x)
    if strict and create_graph and not g.requires_grad:
        raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                           "This is not allowed in strict mode when create_graph=True.")
    return g


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: ``H[i][j]`` of shape ``inputs[i].shape + inputs[j].shape``
    (a single Tensor for a single input), as torch's: the Jacobian of the Jacobian."""
    is_in, inputs = _as_tuple(inputs, "inputs", "hessian")
    _check_strategy(outer_jacobian_strategy)

    def scalar_output(*xs):
        is_out, outputs = _call(func, xs, "hessian", strict)
        if is_out:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if outputs[0].numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a "
                               "single element")
        return outputs[0].reshape(())

    def gradient(*xs):
        jac = jacobian(scalar_output, xs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict)
    return _unpack2(res, is_in, is_in)
