"""The Adam family with torch's update rules: ``Adam`` (``amsgrad``, ``decoupled_weight_decay``),
``AdamW``, ``Adamax``, ``NAdam`` and ``RAdam``. ``foreach``/``capturable``/``differentiable``/``fused``
are accepted and change nothing."""
import math

import numpy as np

from .optimizer import Optimizer, check, check_betas


def _moments(state, p, g, b1, b2, tmp):
    """Update and return torch's ``exp_avg`` (``lerp`` to ``g``) and ``exp_avg_sq`` (of ``g^2``), in place
    (``tmp``: a work array of ``p``'s shape)."""
    if "exp_avg" not in state:
        state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(p), np.zeros_like(p)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    _lerp(m, g, 1 - b1, tmp)
    np.multiply(g, g, out=tmp)
    tmp *= 1 - b2
    v *= b2
    v += tmp
    return m, v


def _lerp(m, g, weight, tmp):
    """``m`` moved ``weight`` of the way to ``g`` in place (torch's ``lerp_``: ``m + weight (g - m)``)."""
    np.subtract(g, m, out=tmp)
    tmp *= weight
    m += tmp


def _next_step(state):
    state["step"] = state.get("step", 0.0) + 1.0
    return state["step"]


def _check_common(lr, eps, weight_decay, betas):
    check("learning rate", lr)
    check("epsilon value", eps)
    check("weight_decay value", weight_decay)
    return check_betas(betas)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with torch's bias correction; ``weight_decay`` adds ``wd * p`` to the gradient
    (L2), or decays ``p`` directly with ``decoupled_weight_decay=True`` (AdamW)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        betas = _check_common(lr, eps, weight_decay, betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                                      capturable=capturable, differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _decoupled(self, group):
        return group["decoupled_weight_decay"]

    def _update(self, p, g, state, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        t = _next_step(state)
        tmp = self._scratch(p)
        if group["weight_decay"]:  # (_decayed returns g itself at 0: this skips the _decoupled call too)
            g = self._decayed(p, g, group, self._decoupled(group))
        m, v = _moments(state, p, g, b1, b2, tmp)
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = np.zeros_like(p)
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = np.sqrt(v, out=tmp)
        denom /= math.sqrt(1 - b2 ** t)
        denom += eps
        np.divide(m, denom, out=tmp)
        tmp *= lr / (1 - b1 ** t)
        p -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the step), as torch.
    Its groups hold only its constructor's options (torch's also say ``decoupled_weight_decay=True``)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        betas = _check_common(lr, eps, weight_decay, betas)
        Optimizer.__init__(self, params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                              amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                              capturable=capturable, differentiable=differentiable,
                                              fused=fused))

    def _decoupled(self, group):
        return True


class Adamax(Optimizer):
    """Adam with the infinity norm: ``u = max(beta2 * u, |g| + eps)``, ``p -= lr / (1 - beta1^t) * m / u``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        betas = _check_common(lr, eps, weight_decay, betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, p, g, state, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        t = _next_step(state)
        tmp = self._scratch(p)
        g = self._decayed(p, g, group)
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_inf"] = np.zeros_like(p), np.zeros_like(p)
        m, u = state["exp_avg"], state["exp_inf"]
        _lerp(m, g, 1 - b1, tmp)
        u *= b2
        np.abs(g, out=tmp)
        tmp += eps
        np.maximum(u, tmp, out=u)
        np.divide(m, u, out=tmp)
        tmp *= lr / (1 - b1 ** t)
        p -= tmp


class NAdam(Optimizer):
    """Adam with Nesterov momentum and torch's momentum schedule
    ``mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay))``."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        betas = _check_common(lr, eps, weight_decay, betas)
        check("momentum_decay value", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, foreach=foreach,
                                      maximize=maximize, capturable=capturable,
                                      differentiable=differentiable))

    def _update(self, p, g, state, group):
        lr, (b1, b2), eps, psi = group["lr"], group["betas"], group["eps"], group["momentum_decay"]
        t = _next_step(state)
        tmp, denom = self._scratch(p), self._scratch(p, 2)
        g = self._decayed(p, g, group, group["decoupled_weight_decay"])
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] = mu_product = state.get("mu_product", 1.0) * mu
        m, v = _moments(state, p, g, b1, b2, tmp)
        np.divide(v, 1 - b2 ** t, out=denom)
        np.sqrt(denom, out=denom)
        denom += eps
        np.divide(g, denom, out=tmp)
        tmp *= lr * (1.0 - mu) / (1.0 - mu_product)
        p -= tmp
        np.divide(m, denom, out=tmp)
        tmp *= lr * mu_next / (1.0 - mu_product * mu_next)
        p -= tmp


class RAdam(Optimizer):
    """Rectified Adam: plain momentum SGD while the variance estimate is unreliable (``rho_t <= 5``),
    then Adam scaled by torch's rectification term."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        betas = _check_common(lr, eps, weight_decay, betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, foreach=foreach,
                                      maximize=maximize, capturable=capturable,
                                      differentiable=differentiable))

    def _update(self, p, g, state, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        t = _next_step(state)
        tmp, m_hat = self._scratch(p), self._scratch(p, 2)
        g = self._decayed(p, g, group, group["decoupled_weight_decay"])
        m, v = _moments(state, p, g, b1, b2, tmp)
        bc2 = 1 - b2 ** t
        np.divide(m, 1 - b1 ** t, out=m_hat)
        m_hat *= lr
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * (b2 ** t) / bc2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(bc2 ** 0.5, tmp, out=tmp)
            m_hat *= tmp
            m_hat *= rect
        p -= m_hat
