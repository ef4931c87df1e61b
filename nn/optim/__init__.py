"""``nn.optim``: SGD, Adam, AdamW and RMSprop with torch's update rules, so the same settings give
the same trajectory as ``torch.optim``.

Parameters are updated in place (their arrays) with vectorised NumPy; a parameter whose ``.grad`` is
``None`` is skipped. ``param_groups`` is a list of dicts (``"params"``, ``"lr"``, ...) as in torch, so
per-group settings and the schedulers of ``nn.optim.lr_scheduler`` work.
"""
import math

import numpy as np

from autograd import Tensor
from autograd.ops import array as _array

from . import lr_scheduler  # noqa: F401  (nn.optim.lr_scheduler)


class Optimizer:
    """Base class: ``params`` is an iterable of Tensors or of dicts (parameter groups)."""

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            "dicts, but got a Tensor")
        self.defaults = defaults
        self.state = {}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group):
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if id(p) in seen:
                raise ValueError("some parameters appear in more than one parameter group")
            seen.add(id(p))
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad`` (to ``None``, as torch's default)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = Tensor._wrap(np.zeros_like(_array(p)))

    def _params_with_grad(self, group):
        for p in group["params"]:
            if p.grad is not None:
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = {}
                yield _array(p), _array(p.grad), st

    def step(self, closure=None):
        loss = None
        if closure is not None:
            from autograd import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update(group)
        return loss

    def _update(self, group):
        raise NotImplementedError

    def state_dict(self):
        """``{"state": {index: {name: array}}, "param_groups": [...]}`` with parameters as indices."""
        index, groups = {}, []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: np.array(v, copy=True) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        params = [p for g in self.param_groups for p in g["params"]]
        if len(state_dict["param_groups"]) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, saved in zip(self.param_groups, state_dict["param_groups"]):
            if len(g["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size "
                                 "of optimizer's group")
            g.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {params[int(i)]: {k: np.array(v, copy=True) for k, v in st.items()}
                      for i, st in state_dict["state"].items()}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _check(name, value, low=0.0):
    if not value >= low:
        raise ValueError(f"Invalid {name} value: {value}")


class SGD(Optimizer):
    """``p -= lr * d`` with ``d = grad + weight_decay * p``, through a momentum buffer
    ``b = momentum * b + (1 - dampening) * d`` (``b = d`` at the first step); ``nesterov`` uses
    ``d + momentum * b``. As ``torch.optim.SGD``."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        _check("learning rate", lr)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, group):
        lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
        wd, nesterov = group["weight_decay"], group["nesterov"]
        if not mom and not wd:  # plain SGD: no state
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    d = _array(p)
                    d -= lr * _array(g)
            return
        for p, g, st in self._params_with_grad(group):
            if wd:
                g = g + wd * p
            if mom:
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = np.array(g, copy=True)
                else:
                    buf *= mom
                    buf += (1 - damp) * g if damp else g
                g = g + mom * buf if nesterov else buf
            p -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba) with torch's bias correction; ``weight_decay`` adds ``wd * p`` to the
    gradient (L2, as ``torch.optim.Adam``)."""

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        _check("learning rate", lr)
        _check("epsilon", eps)
        _check("weight_decay", weight_decay)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _update(self, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        wd, amsgrad = group["weight_decay"], group["amsgrad"]
        for p, g, st in self._params_with_grad(group):
            if not st:
                st["step"] = 0
                st["exp_avg"] = np.zeros_like(p)
                st["exp_avg_sq"] = np.zeros_like(p)
                if amsgrad:
                    st["max_exp_avg_sq"] = np.zeros_like(p)
            st["step"] += 1
            t = st["step"]
            if wd:
                if self.decoupled:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
            m, v = st["exp_avg"], st["exp_avg_sq"]
            m += (g - m) * (1 - b1)  # torch's lerp
            v *= b2
            v += (1 - b2) * (g * g)
            bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
            if amsgrad:
                np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
                v = st["max_exp_avg_sq"]
            denom = np.sqrt(v)
            denom /= math.sqrt(bc2)
            denom += eps
            p -= (lr / bc1) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the step), as torch."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class RMSprop(Optimizer):
    """``v = alpha v + (1 - alpha) g^2``; ``p -= lr g / (sqrt(v) + eps)`` (``centered`` subtracts the
    squared mean gradient; ``momentum`` keeps a buffer of the steps). As ``torch.optim.RMSprop``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        _check("learning rate", lr)
        _check("epsilon", eps)
        _check("alpha", alpha)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, group):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        wd, mom, centered = group["weight_decay"], group["momentum"], group["centered"]
        for p, g, st in self._params_with_grad(group):
            if not st:
                st["step"] = 0
                st["square_avg"] = np.zeros_like(p)
                if mom > 0:
                    st["momentum_buffer"] = np.zeros_like(p)
                if centered:
                    st["grad_avg"] = np.zeros_like(p)
            st["step"] += 1
            if wd:
                g = g + wd * p
            v = st["square_avg"]
            v *= alpha
            v += (1 - alpha) * (g * g)
            if centered:
                ga = st["grad_avg"]
                ga += (g - ga) * (1 - alpha)
                avg = np.sqrt(v - ga * ga)
            else:
                avg = np.sqrt(v)
            avg += eps
            if mom > 0:
                buf = st["momentum_buffer"]
                buf *= mom
                buf += g / avg
                p -= lr * buf
            else:
                p -= lr * (g / avg)


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
