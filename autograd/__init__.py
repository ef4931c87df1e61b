"""chainrule's automatic differentiation: a scalar engine (``Value``) and a NumPy engine (``Tensor``)."""
from .engine import grad
from .gradcheck import GradcheckError, gradcheck
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .value import Value

__all__ = ["Value", "grad", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled", "gradcheck",
           "GradcheckError"]
