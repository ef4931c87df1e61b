"""Check a function's outputs and gradients against PyTorch: ``assert_grads_match_torch``.

    from autograd.testing import assert_grads_match_torch
    assert_grads_match_torch(lambda x, w: (x @ w).tanh().sum(dim=0), x_array, w_array)

``fn`` is called once with ``autograd.Tensor``s and once with ``torch.Tensor``s made from the same
arrays (float arrays as ``float64`` with ``requires_grad=True``; integer and bool arrays as they are,
for indices and masks), so it must use only operators and methods both libraries share;
``module_of(x)`` gives ``autograd`` or ``torch`` for functions such as ``cat`` and ``where``.
torch is imported only when a check runs.
"""
import math

import numpy as np

__all__ = ["assert_grads_match_torch", "module_of"]


def module_of(x):
    """``torch`` for a ``torch.Tensor``, else ``autograd``: ``module_of(a).cat([a, b])`` runs on both."""
    import autograd

    if type(x).__module__.startswith("torch"):
        import torch
        return torch
    return autograd


def assert_grads_match_torch(fn, *arrays, rtol=1e-6, atol=1e-8, seed=0, second_order=False):
    """Run ``fn(*arrays)`` on autograd and on torch; compare the outputs and every input's gradient.

    ``fn`` returns a tensor or a tuple/list of tensors. The gradients are those of
    ``sum_i <out_i, v_i>``, with ``v_i = 1`` for a one-element output and a random normal array
    (``np.random.default_rng(seed)``) otherwise, so every entry of every Jacobian takes part.
    With ``second_order=True`` the gradients are differentiated once more (along random directions,
    ``create_graph=True``) and compared too. Values pass when ``|ours - torch| <= atol + rtol * |torch|``
    (nan matches nan, inf matches the same inf). Raises ``AssertionError`` naming the worst mismatch:
    which output or input gradient, the index and both values.
    """
    import torch

    import autograd

    arrays = [_as_array(a) for a in arrays]
    ours_in = [autograd.Tensor(a, requires_grad=_is_float(a)) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=_is_float(a)) for a in arrays]
    wrt = [i for i, a in enumerate(arrays) if _is_float(a)]

    with autograd.enable_grad():
        ours_out, single = _outputs(fn(*ours_in))
    with torch.enable_grad():
        theirs_out, _ = _outputs(fn(*theirs_in))
    if len(ours_out) != len(theirs_out):
        raise AssertionError(f"fn returned {len(ours_out)} outputs on autograd but {len(theirs_out)} on "
                             "torch")

    checks = []  # (what, ours, theirs) as NumPy arrays
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        what = "the output" if single else f"output {k}"
        checks.append((what, _np(o), _np(t)))
        if _requires_grad(o) != _requires_grad(t):
            raise AssertionError(f"{what}: requires_grad is {_requires_grad(o)} on autograd but "
                                 f"{_requires_grad(t)} on torch")
    _check_layout(checks)

    diff = [k for k, o in enumerate(ours_out) if _requires_grad(o)]
    if diff and wrt:
        rng = np.random.default_rng(seed)
        vs = [np.ones(ours_out[k].shape) if ours_out[k].data.size == 1
              else rng.standard_normal(ours_out[k].shape) for k in diff]
        ours_g = autograd.grad([ours_out[k] for k in diff], [ours_in[i] for i in wrt],
                               grad_outputs=[autograd.Tensor(v, dtype=ours_out[k].dtype)
                                             for k, v in zip(diff, vs)],
                               create_graph=second_order, allow_unused=True)
        theirs_g = torch.autograd.grad([theirs_out[k] for k in diff], [theirs_in[i] for i in wrt],
                                       grad_outputs=[torch.tensor(v, dtype=theirs_out[k].dtype)
                                                     for k, v in zip(diff, vs)],
                                       create_graph=second_order, allow_unused=True)
        for i, og, tg in zip(wrt, ours_g, theirs_g):
            checks.append((f"the gradient of input {i}", _grad_np(og, arrays[i]), _grad_np(tg, arrays[i])))
        if second_order:
            checks += _second_order(ours_g, theirs_g, [ours_in[i] for i in wrt],
                                    [theirs_in[i] for i in wrt], wrt, rng, autograd, torch)
    _check_layout(checks)
    _check_values(checks, rtol, atol)


# -- helpers ----------------------------------------------------------------------------------------
def _as_array(a):
    if hasattr(a, "detach") and hasattr(a, "numpy") and not isinstance(a, np.ndarray):  # a tensor
        a = a.detach().numpy() if type(a).__module__.startswith("torch") else a.data
    a = np.array(a, copy=True)
    if a.dtype.kind == "f":
        return a.astype(np.float64)
    if a.dtype.kind not in "iub":
        raise TypeError(f"assert_grads_match_torch: cannot make tensors from an array of dtype {a.dtype}")
    return a.astype(np.int64) if a.dtype.kind in "iu" else a


def _is_float(a):
    return a.dtype.kind == "f"


def _outputs(out):
    if isinstance(out, (tuple, list)):
        return list(out), False
    return [out], True


def _requires_grad(t):
    return bool(getattr(t, "requires_grad", False))


def _np(t):
    if type(t).__module__.startswith("torch"):
        return t.detach().numpy(force=True)  # force: torch may hand back a ZeroTensor
    return np.asarray(t.data if hasattr(t, "requires_grad") else t)


def _grad_np(g, like):
    return np.zeros(like.shape) if g is None else _np(g)


def _second_order(ours_g, theirs_g, ours_in, theirs_in, wrt, rng, autograd, torch):
    """Gradients of ``sum_i <grad_i, w_i>``, with random ``w_i``, on both libraries."""
    ws = [rng.standard_normal(x.shape) for x in ours_in]
    ours_s = [(g * autograd.Tensor(w)).sum() for g, w in zip(ours_g, ws) if _requires_grad(g)]
    theirs_s = [(g * torch.tensor(w)).sum() for g, w in zip(theirs_g, ws) if _requires_grad(g)]
    ours_gg = [None] * len(ours_in)
    theirs_gg = [None] * len(theirs_in)
    if ours_s:
        ours_gg = autograd.grad(sum(ours_s[1:], ours_s[0]), ours_in, allow_unused=True)
    if theirs_s:
        theirs_gg = torch.autograd.grad(sum(theirs_s[1:], theirs_s[0]), theirs_in, allow_unused=True)
    return [(f"the second-order gradient of input {i}", _grad_np(og, x.data), _grad_np(tg, x.data))
            for i, x, og, tg in zip(wrt, ours_in, ours_gg, theirs_gg)]


def _check_layout(checks):
    for what, ours, theirs in checks:
        if ours.shape != theirs.shape:
            raise AssertionError(f"{what}: shape {ours.shape} on autograd but {theirs.shape} on torch")
        if ours.dtype != theirs.dtype:
            raise AssertionError(f"{what}: dtype {ours.dtype} on autograd but {theirs.dtype} on torch")


def _check_values(checks, rtol, atol):
    """Raise on the worst mismatch of the earliest failing stage (outputs, then gradients, then second
    order): a wrong output usually explains wrong gradients, so it is the one to report."""
    failed = []  # (stage, excess, what, index, ours, theirs, n_bad, size)
    for what, ours, theirs in checks:
        a = ours.astype(np.float64)
        b = theirs.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            excess = np.abs(a - b) - (atol + rtol * np.abs(b))
        same = (a == b) | (np.isnan(a) & np.isnan(b))  # also equal infinities
        excess = np.where(same, -math.inf, excess)
        excess = np.where(np.isnan(excess), math.inf, excess)  # nan vs a number, inf vs a number
        bad = excess > 0
        if bad.any():
            k = int(np.argmax(excess))
            idx = tuple(int(j) for j in np.unravel_index(k, a.shape)) if a.ndim else ()
            stage = 2 if "second-order" in what else 1 if "gradient" in what else 0
            failed.append((stage, excess.flat[k], what, idx, ours.flat[k].item(), theirs.flat[k].item(),
                           int(bad.sum()), a.size))
    if not failed:
        return
    first = min(f[0] for f in failed)
    _, _, what, idx, o, t, n_bad, size = max((f for f in failed if f[0] == first), key=lambda f: f[1])
    others = [f[2] for f in failed if f[2] != what]
    also = f"; also differ: {', '.join(others)}" if others else ""
    raise AssertionError(
        f"{what} differs from torch at index {idx}: autograd {o!r} vs torch {t!r} "
        f"(|difference| {abs(o - t):.3g} > atol + rtol * |torch| with rtol={rtol:g}, atol={atol:g}; "
        f"{n_bad} of {size} elements differ{also})")
