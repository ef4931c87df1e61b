"""Check a function's outputs and gradients against PyTorch: ``assert_grads_match_torch``.

    from autograd.testing import assert_grads_match_torch
    assert_grads_match_torch(lambda x, w: (x @ w).tanh().sum(dim=0), x_array, w_array)

``fn`` is called once with ``autograd.Tensor``s and once with ``torch.Tensor``s made from the same
arrays (float arrays as ``float64`` with ``requires_grad=True``; integer and bool arrays as they are,
for indices and masks), so it must use only operators and methods both libraries share;
``module_of(x)`` gives ``autograd`` or ``torch`` for functions such as ``cat`` and ``where``.
torch is imported only when a check runs.

``assert_module_matches_torch(module, torch_module, *inputs, steps=0, optimizer=None)`` does the same
for a whole ``nn`` model and its torch twin: weights copied from ours to theirs, then outputs, input
and parameter gradients and, with ``steps``, the parameters after each optimizer step compared.

``check_manual_gradients(loss_fn, grad_fn, params, *data)`` checks a from-scratch NumPy network's
hand-derived gradients and says what is wrong with them (``autograd/manual_check.py``).
"""
import math

import numpy as np

from .manual_check import ManualCheckReport, ManualGradientError, check_manual_gradients

__all__ = ["assert_grads_match_torch", "assert_module_matches_torch", "check_manual_gradients", "module_of",
           "ManualCheckReport", "ManualGradientError"]


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
        vs = [np.ones(ours_out[k].shape) if _np(ours_out[k]).size == 1
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


def assert_module_matches_torch(module, torch_module, *inputs, steps=0, optimizer=None, rtol=1e-6, atol=1e-8,
                                seed=0):
    """Check that an ``nn`` module computes what its torch twin computes, gradients and training too.

    Works on float64 deep copies of both modules (neither module, nor its ``.grad``, is changed): the
    chainrule module's ``state_dict()`` is loaded into the torch copy, both run on the same ``inputs``
    (float arrays as float64 requiring grad, integer and bool arrays as they are), and the outputs,
    the buffers, the input gradients and every parameter's gradient are compared; the gradients are
    those of ``sum_i <out_i, v_i>`` with random normal ``v_i`` (``np.random.default_rng(seed)``).
    With ``steps``, ``optimizer`` (an ``nn.optim`` class, or a factory ``lambda params: ...``) and the
    same-named ``torch.optim`` class with the same hyper-parameters take that many steps on that loss,
    and the parameters are compared after each. Put modules with dropout in ``eval()`` mode first.
    Raises ``AssertionError`` naming the parameter (or output, input, buffer) and the element.
    """
    import copy

    import torch

    import autograd

    ours, theirs = copy.deepcopy(module).double(), copy.deepcopy(torch_module).double()
    ours.zero_grad()  # gradients the caller's modules hold are not ours to compare
    theirs.zero_grad(set_to_none=True)
    _load_into_torch(ours, theirs, torch)
    arrays = [_as_array(a) for a in inputs]
    ours_in = [_leaf(a, autograd) for a in arrays]
    theirs_in = [_leaf(a, torch) for a in arrays]
    rng = np.random.default_rng(seed)
    ours_out, theirs_out, vs = _forward_backward(ours, theirs, ours_in, theirs_in, rng, None)
    checks = [(_output_name(k, len(ours_out)), _np(o), _np(t))
              for k, (o, t) in enumerate(zip(ours_out, theirs_out))]
    checks += _buffer_checks(ours, theirs, "after the forward pass")
    checks += [(f"the gradient of input {i}", _grad_np(o.grad, a), _grad_np(t.grad, a))
               for i, (a, o, t) in enumerate(zip(arrays, ours_in, theirs_in)) if _is_float(a)]
    checks += _param_checks(ours, theirs, "the gradient of parameter {!r}", lambda p: p.grad)
    _check_layout(checks)
    _check_values(checks, rtol, atol)
    if steps:
        _compare_training(ours, theirs, ours_in, theirs_in, vs, steps, optimizer, rtol, atol, torch)


def _output_name(k, n):
    return "the output" if n == 1 else f"output {k}"


def _leaf(a, lib):
    """A tensor of ``lib`` (autograd or torch) from ``a``; float data requires grad."""
    return lib.tensor(a, requires_grad=_is_float(a))


def _load_into_torch(ours, theirs, torch):
    """Copy our state dict into the torch module, after checking that names and shapes agree."""
    mine, their_sd = ours.state_dict(), theirs.state_dict()
    only_ours = [k for k in mine if k not in their_sd]
    only_theirs = [k for k in their_sd if k not in mine]
    if only_ours or only_theirs:
        raise AssertionError(f"the modules' state_dict keys differ: only in the chainrule module "
                             f"{only_ours}, only in the torch module {only_theirs}")
    for k, v in mine.items():
        if tuple(their_sd[k].shape) != v.shape:
            raise AssertionError(f"{k!r}: shape {v.shape} in the chainrule module but "
                                 f"{tuple(their_sd[k].shape)} in the torch module")
    theirs.load_state_dict({k: torch.tensor(v) for k, v in mine.items()})
    names_ours = [n for n, _ in ours.named_parameters()]
    names_theirs = [n for n, _ in theirs.named_parameters()]
    if names_ours != names_theirs:
        raise AssertionError(f"the modules' parameters differ: {names_ours} in the chainrule module, "
                             f"{names_theirs} in the torch module")


def _forward_backward(ours, theirs, ours_in, theirs_in, rng, vs):
    """Run both modules, backpropagate ``sum_i <out_i, v_i>`` into ``.grad``; return outputs and ``vs``."""
    import torch

    import autograd

    with autograd.enable_grad():
        ours_out, _ = _outputs(ours(*ours_in))
    with torch.enable_grad():
        theirs_out, _ = _outputs(theirs(*theirs_in))
    if len(ours_out) != len(theirs_out):
        raise AssertionError(f"the chainrule module returned {len(ours_out)} outputs but the torch module "
                             f"{len(theirs_out)}")
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        if _requires_grad(o) != _requires_grad(t):
            raise AssertionError(f"{_output_name(k, len(ours_out))}: requires_grad is {_requires_grad(o)} on "
                                 f"autograd but {_requires_grad(t)} on torch")
    diff = [k for k, o in enumerate(ours_out) if _requires_grad(o)]
    if vs is None:
        vs = {k: np.ones(ours_out[k].shape) if _np(ours_out[k]).size == 1
              else rng.standard_normal(ours_out[k].shape) for k in diff}
    if diff:
        ours_loss = sum((ours_out[k] * autograd.tensor(vs[k])).sum() for k in diff)
        theirs_loss = sum((theirs_out[k] * torch.tensor(vs[k])).sum() for k in diff)
        ours_loss.backward()
        theirs_loss.backward()
    return ours_out, theirs_out, vs


def _param_checks(ours, theirs, what, get):
    """``(what, ours, theirs)`` for every parameter, by name (``get`` gives a tensor or ``None``)."""
    checks = []
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        a, b = get(p), get(q)
        if (a is None) != (b is None):
            side = "the chainrule" if a is None else "the torch"
            raise AssertionError(f"{what.format(name)} is None in {side} module only")
        if a is not None:
            checks.append((what.format(name), _np(a), _np(b)))
    return checks


def _buffer_checks(ours, theirs, when):
    theirs_buffers = dict(theirs.named_buffers())
    return [(f"buffer {name!r} {when}", _np(b), _np(theirs_buffers[name]))
            for name, b in ours.named_buffers() if name in theirs_buffers]


def _compare_training(ours, theirs, ours_in, theirs_in, vs, steps, optimizer, rtol, atol, torch):
    """``steps`` optimizer steps on both sides (the first on the gradients already there)."""
    ours_opt = _our_optimizer(optimizer, ours)
    theirs_opt = _torch_twin(ours_opt, ours, theirs, torch)
    for step in range(1, steps + 1):
        if step > 1:
            ours_opt.zero_grad()
            theirs_opt.zero_grad()
            _forward_backward(ours, theirs, ours_in, theirs_in, None, vs)
        ours_opt.step()
        theirs_opt.step()
        checks = _param_checks(ours, theirs, f"parameter {{!r}} after optimizer step {step} of {steps}",
                               lambda p: p)
        checks += _buffer_checks(ours, theirs, f"after optimizer step {step} of {steps}")
        _check_values(checks, rtol, atol)


def _our_optimizer(optimizer, ours):
    import nn

    if optimizer is None:
        raise ValueError("assert_module_matches_torch: steps needs an optimizer (an nn.optim class or a "
                         "factory such as lambda params: nn.optim.Adam(params, lr=0.1))")
    if isinstance(optimizer, type) and issubclass(optimizer, nn.optim.Optimizer):
        return optimizer(ours.parameters())
    opt = optimizer(list(ours.parameters()))
    if not isinstance(opt, nn.optim.Optimizer):
        raise TypeError(f"assert_module_matches_torch: optimizer must be an nn.optim class or a factory "
                        f"returning an nn.optim optimizer, got {type(opt).__name__}")
    return opt


def _torch_twin(ours_opt, ours, theirs, torch):
    """The same-named ``torch.optim`` class over the torch parameters, group by group, same settings."""
    import inspect

    name = type(ours_opt).__name__
    cls = getattr(torch.optim, name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f"assert_module_matches_torch: torch.optim has no optimizer named {name!r}")
    accepted = inspect.signature(cls).parameters
    by_id = {id(p): n for n, p in ours.named_parameters()}
    theirs_params = dict(theirs.named_parameters())
    groups = []
    for g in ours_opt.param_groups:
        settings = {k: v for k, v in g.items() if k != "params"}
        unknown = [k for k in settings if k not in accepted]
        if unknown:
            raise ValueError(f"assert_module_matches_torch: torch.optim.{name} has no setting(s) {unknown}")
        groups.append({"params": [theirs_params[by_id[id(p)]] for p in g["params"]], **settings})
    return cls(groups, **{k: v for k, v in groups[0].items() if k != "params"})


# -- helpers ----------------------------------------------------------------------------------------
def _as_array(a):
    if hasattr(a, "detach") and hasattr(a, "numpy") and not isinstance(a, np.ndarray):  # a tensor
        a = a.detach().numpy()
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
    return np.asarray(t.detach().numpy() if hasattr(t, "requires_grad") else t)


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
    return [(f"the second-order gradient of input {i}", _grad_np(og, x), _grad_np(tg, x))
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
