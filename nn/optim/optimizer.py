"""``Optimizer``: the base class of ``nn.optim`` (parameter groups, ``state``, ``zero_grad``,
``step(closure)``, ``state_dict``/``load_state_dict`` in torch's structure).

A subclass sets its defaults and writes ``_update(p, g, state, group)``: ``p`` and ``g`` are the NumPy
arrays of a parameter and its gradient (``g`` already negated under ``maximize``), updated in place.
``_update_group`` runs it for each parameter of a group that has a gradient (a subclass may handle
common cases of a whole group at once: plain ``SGD``).
Updates allocate nothing per step: NumPy ufuncs write with ``out=`` into the state buffers and into
``self._scratch(p)``, work arrays of ``p``'s shape shared by the parameters of that shape (not state).
"""
import copy
from collections import defaultdict

import numpy as np

from autograd import Tensor, enable_grad, ops

from ..module import reset_grads

# options torch accepts for its fused / foreach / CUDA-graph / differentiable implementations; NumPy has
# one implementation, so they are kept in the groups (torch's keys) and change nothing
IGNORED = ("foreach", "differentiable", "capturable", "fused")


_array = ops.array  # the NumPy array of a Tensor, shared (in-place changes are visible)
mark_changed, with_grads = ops.mark_changed, ops.with_grads


def check(name, value, low=0.0, high=None):
    """Raise torch's ``ValueError`` unless ``low <= value`` (and ``value < high`` when given)."""
    if not value >= low or (high is not None and not value < high):
        raise ValueError(f"Invalid {name}: {value}")


def check_betas(betas):
    for i, b in enumerate(betas):
        check(f"beta parameter at index {i}", b, 0.0, 1.0)
    return tuple(betas)


class Optimizer:
    """``params``: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter groups,
    each a ``"params"`` entry and per-group options overriding ``defaults``)."""

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            f"dicts, but got {type(params).__name__}")
        self.defaults = dict(defaults)
        self._work = {}  # (shape, dtype char, k) -> a work array (see _scratch)
        self.state = defaultdict(dict)  # parameter -> its state (empty until its first update), as torch
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group):
        """Append a group (a dict with ``"params"``); missing options come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list "
                            "instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are "
                                 "missing")
            group["param_names"] = names
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._init_group(group)

    def _init_group(self, group):
        """Hook for optimizers whose state exists before the first step (``Adagrad``)."""

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad``: to ``None`` (torch's default) or to zeros in place."""
        for group in self.param_groups:
            reset_grads(group["params"], set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a ``.grad``. ``closure`` (re-evaluates the model and
        returns the loss) is called first, with gradients enabled; its loss is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        """The update of one group's parameters that have a ``.grad``."""
        params, arrays, grads = with_grads(group["params"])
        if params:
            self._update_group(group, params, arrays, grads)
            mark_changed(*params)  # as torch's in-place update: a graph that saved p can't backward

    def _update_group(self, group, params, arrays, grads):
        """``_update`` for each of ``params`` (Tensors that have a ``.grad``), given their arrays and
        their gradients' arrays."""
        update, states, maximize = self._update, self.state, group.get("maximize", False)
        for p, a, g in zip(params, arrays, grads):
            state = states.get(p) or {}
            if maximize:
                g = np.negative(g, out=self._scratch(g, 3))
            update(a, g, state, group)
            if state:  # as torch, a parameter gets a state entry only when its update keeps one
                states[p] = state

    def _update(self, p, g, state, group):
        raise NotImplementedError

    def _scratch(self, p, k=0):
        """Work array ``k`` of ``p``'s shape and dtype, kept between steps (its contents are garbage)."""
        key = (p.shape, p.dtype.char, k)  # (one key per call: shared by the parameters of one shape)
        buf = self._work.get(key)
        if buf is None:
            buf = self._work[key] = np.empty_like(p)
        return buf

    def _decayed(self, p, g, group, decoupled=False):
        """Weight decay: ``g + wd * p`` (L2, torch's default; in work array 1), or ``g`` after
        ``p *= 1 - lr * wd`` when decoupled."""
        weight_decay = group["weight_decay"]
        if not weight_decay:
            return g
        if decoupled:
            p *= 1 - group["lr"] * weight_decay
            return g
        out = np.multiply(p, weight_decay, out=self._scratch(p, 1))
        out += g
        return out

    # -- checkpoints ---------------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {name: array or number}}, "param_groups": [{..., "params": [index]}]}``,
        parameters numbered in group order from 0, as torch (values are copies)."""
        index, groups = {}, []
        for g in self.param_groups:
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            groups.append({**{k: copy.deepcopy(v) for k, v in g.items() if k != "params"},
                           "params": [index[id(p)] for p in g["params"]]})
        state = {index[id(p)]: {k: _copy_value(v) for k, v in st.items()}
                 for p, st in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore ``state_dict()`` output (ours or torch's): options per group and per-parameter state,
        arrays cast to each parameter's dtype (``step`` kept as a number)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, saved in zip(self.param_groups, saved_groups):
            if len(g["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size "
                                 "of optimizer's group")
        id_map = {int(i): p for g, saved in zip(self.param_groups, saved_groups)
                  for i, p in zip(saved["params"], g["params"])}
        state = defaultdict(dict)
        for i, st in state_dict["state"].items():
            p = id_map[int(i)]
            state[p] = {k: _load_value(v, p.dtype, k) for k, v in st.items()}
        for g, saved in zip(self.param_groups, saved_groups):
            params = g["params"]
            g.clear()
            for k, v in saved.items():
                if k != "params":
                    g[k] = tuple(v) if isinstance(self.defaults.get(k), tuple) else copy.deepcopy(v)
            g["params"] = params
        self.state = state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _copy_value(v):
    return np.array(v, copy=True) if isinstance(v, np.ndarray) else v


def _load_value(value, dtype, key):
    """A state entry from a state dict: tensors (ours, torch's) and arrays become arrays of the
    parameter's dtype; ``step`` and other 0-d numbers become Python floats."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and not isinstance(value, Tensor):  # torch
        value = value.detach().cpu().numpy()
    elif isinstance(value, Tensor):
        value = value.detach().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        if key == "step" or (value.ndim == 0 and key in _SCALAR_STATE):
            return float(value)
        return np.array(value, dtype=dtype if np.dtype(dtype).kind == "f" else value.dtype, copy=True)
    return value


_SCALAR_STATE = ("step", "mu_product")
