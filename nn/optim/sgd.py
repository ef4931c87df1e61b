"""``SGD`` with momentum, dampening, Nesterov, weight decay and ``maximize``, as ``torch.optim.SGD``."""
import numpy as np

from autograd import ops

from .optimizer import Optimizer, check


class SGD(Optimizer):
    """``p -= lr * d`` with ``d = grad + weight_decay * p``, through a momentum buffer
    ``b = momentum * b + (1 - dampening) * d`` (``b = d`` at the first step); ``nesterov`` uses
    ``d + momentum * b``. ``foreach``/``differentiable``/``fused`` are accepted and change nothing."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check("learning rate", lr)
        check("momentum value", momentum)
        check("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      foreach=foreach, differentiable=differentiable, fused=fused))

    def _step_group(self, group):
        if group["momentum"] or group["weight_decay"] or group.get("maximize", False):
            return super()._step_group(group)
        # plain SGD, the common case, in one loop: p += (-lr) * g (the bits of p -= lr * g, as _update's)
        ops.foreach_add_grad_(group["params"], -group["lr"], self._scratch)

    def _update(self, p, g, state, group):
        lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
        tmp = self._scratch(p)
        g = self._decayed(p, g, group)
        if mom:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= mom
                if damp:
                    np.multiply(g, 1 - damp, out=tmp)
                    buf += tmp
                else:  # (1 - 0) * g is g
                    buf += g
            if group["nesterov"]:
                np.multiply(buf, mom, out=tmp)
                tmp += g
                g = tmp
            else:
                g = buf
        if g is tmp:
            tmp *= lr
        else:
            np.multiply(g, lr, out=tmp)
        p -= tmp
