"""Gradient clipping as ``torch.nn.utils``: ``clip_grad_norm_`` (= ``get_total_norm`` then
``clip_grads_with_norm_``) and ``clip_grad_value_``, in place on ``.grad``."""
import math
import warnings

import numpy as np

from autograd import Tensor


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grad_arrays(parameters):
    """The NumPy arrays of the parameters' ``.grad``s (shared, so in-place changes reach them)."""
    return [p.grad.detach().numpy() for p in _tensors(parameters) if p.grad is not None]


def _vector_norm(x, ord):
    """``torch.linalg.vector_norm`` of an array's elements: ``inf``, ``-inf``, ``0`` (count) or a p-norm."""
    a = np.abs(x.ravel())
    if ord == math.inf:
        return a.max(initial=0.0).astype(x.dtype)
    if ord == -math.inf:
        return a.min(initial=math.inf).astype(x.dtype)
    if ord == 0:
        return np.asarray(np.count_nonzero(a), dtype=x.dtype)
    if ord == 2:
        return np.sqrt(np.dot(a, a))
    if ord == 1:
        return a.sum()
    return (a ** ord).sum() ** (1.0 / ord)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type`` norm of the norms of ``tensors`` (as if concatenated): a 0-d Tensor of their
    dtype (``tensor(0.)`` for none). ``error_if_nonfinite``: ``RuntimeError`` for a nan/inf total.
    ``foreach`` is accepted and changes nothing."""
    arrays = [t.detach().numpy() for t in _tensors(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(np.array(0.0, dtype=np.float32))
    norms = np.stack([_vector_norm(a, norm_type) for a in arrays]).astype(np.result_type(*arrays))
    total = np.asarray(_vector_norm(norms, norm_type), dtype=norms.dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and scale the "
                           "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every ``.grad`` by ``min(1, max_norm / (total_norm + 1e-6))`` in place."""
    grads = _grad_arrays(parameters)
    if not grads:
        return
    total = np.asarray(total_norm)
    coef = np.minimum(float(max_norm) / (total + total.dtype.type(1e-6)), total.dtype.type(1.0))
    with np.errstate(invalid="ignore", over="ignore"):  # a nan/inf norm scales to nan, as torch
        for g in grads:
            g *= coef.astype(g.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients so their total ``norm_type`` norm is at most ``max_norm`` (in place);
    returns the total norm before clipping as a 0-d Tensor. As ``torch.nn.utils.clip_grad_norm_``."""
    is_generator = not isinstance(parameters, (Tensor, list, tuple))
    parameters = _tensors(parameters)
    if is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every ``.grad`` to ``[-clip_value, clip_value]`` in place (nan stays nan)."""
    clip_value = float(clip_value)
    for g in _grad_arrays(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
