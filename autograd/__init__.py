"""chainrule's automatic differentiation: a scalar engine (``Value``) and a NumPy engine (``Tensor``)."""
from .creation import arange, full, manual_seed, ones, ones_like, rand, randn, zeros, zeros_like
from .engine import grad
from . import functional
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .graph import draw_dot, draw_graph
from .ops.elementwise import maximum, minimum, where
from .ops.pointwise import *; from .ops.bitwise import *  # noqa: E702,F401,F403 (torch.NAME functions)
from .ops.shape import cat, stack
from .tensor import Tensor, tensor
from .value import Value

__all__ = ["Value", "Tensor", "tensor", "grad", "no_grad", "enable_grad", "is_grad_enabled",
           "set_grad_enabled", "inference_mode", "cat", "stack", "where", "maximum", "minimum", "zeros",
           "ones", "full", "zeros_like", "ones_like", "randn", "rand", "arange", "manual_seed",
           "gradcheck", "gradgradcheck", "GradcheckError", "functional", "draw_graph", "draw_dot"]
