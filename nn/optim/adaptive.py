"""Per-coordinate adaptive rates with torch's update rules: ``Adagrad``, ``Adadelta`` and ``RMSprop``
(``centered``, ``momentum``). ``foreach``/``capturable``/``differentiable``/``fused`` are accepted
and change nothing."""
import numpy as np

from .optimizer import Optimizer, check


def _add_scaled_square(acc, g, scale, tmp):
    """``acc += scale * (g * g)`` in place (``tmp``: a work array of ``g``'s shape)."""
    np.multiply(g, g, out=tmp)
    tmp *= scale
    acc += tmp


def _step(state):
    state["step"] = state.get("step", 0.0) + 1.0
    return state["step"]


class Adagrad(Optimizer):
    """``sum += g^2``; ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)``. As torch, every
    parameter's state (``step`` 0, ``sum`` = ``initial_accumulator_value``) exists from construction."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check("learning rate", lr)
        check("lr_decay value", lr_decay)
        check("weight_decay value", weight_decay)
        check("initial_accumulator_value value", initial_accumulator_value)
        check("epsilon value", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))

    def _init_group(self, group):
        for p in group["params"]:
            self.state[p] = {"step": 0.0, "sum": np.full(p.shape, group["initial_accumulator_value"],
                                                         dtype=p.dtype)}

    def _update(self, p, g, state, group):
        t = _step(state)
        tmp = self._scratch(p)
        g = self._decayed(p, g, group)
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = state["sum"]
        np.multiply(g, g, out=tmp)
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += group["eps"]
        np.divide(g, tmp, out=tmp)
        tmp *= clr
        p -= tmp


class Adadelta(Optimizer):
    """``v = rho v + (1 - rho) g^2``; ``d = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho u + (1 - rho) d^2``; ``p -= lr * d``."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        check("learning rate", lr)
        check("rho value", rho)
        if rho > 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check("epsilon value", eps)
        check("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      capturable=capturable, maximize=maximize,
                                      differentiable=differentiable))

    def _update(self, p, g, state, group):
        rho, eps = group["rho"], group["eps"]
        _step(state)
        tmp, delta = self._scratch(p), self._scratch(p, 2)
        g = self._decayed(p, g, group)
        if "square_avg" not in state:
            state["square_avg"], state["acc_delta"] = np.zeros_like(p), np.zeros_like(p)
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        _add_scaled_square(v, g, 1 - rho, tmp)
        np.add(u, eps, out=delta)
        np.sqrt(delta, out=delta)
        np.add(v, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        delta /= tmp
        delta *= g
        u *= rho
        _add_scaled_square(u, delta, 1 - rho, tmp)
        np.multiply(delta, group["lr"], out=tmp)
        p -= tmp


class RMSprop(Optimizer):
    """``v = alpha v + (1 - alpha) g^2``; ``p -= lr g / (sqrt(v) + eps)`` (``centered`` subtracts the
    squared mean gradient; ``momentum`` keeps a buffer of the steps). As ``torch.optim.RMSprop``."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check("learning rate", lr)
        check("epsilon value", eps)
        check("momentum value", momentum)
        check("weight_decay value", weight_decay)
        check("alpha value", alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, capturable=capturable,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable))

    def _update(self, p, g, state, group):
        lr, alpha, eps, mom = group["lr"], group["alpha"], group["eps"], group["momentum"]
        _step(state)
        tmp, avg = self._scratch(p), self._scratch(p, 2)
        g = self._decayed(p, g, group)
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(p)
            if mom > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p)
        v = state["square_avg"]
        v *= alpha
        _add_scaled_square(v, g, 1 - alpha, tmp)
        if group["centered"]:
            ga = state["grad_avg"]
            np.subtract(g, ga, out=tmp)
            tmp *= 1 - alpha
            ga += tmp
            np.multiply(ga, ga, out=tmp)
            np.subtract(v, tmp, out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(v, out=avg)
        avg += eps
        np.divide(g, avg, out=tmp)
        if mom > 0:
            buf = state["momentum_buffer"]
            buf *= mom
            buf += tmp
            np.multiply(buf, lr, out=tmp)
        else:
            tmp *= lr
        p -= tmp
