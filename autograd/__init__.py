"""chainrule's automatic differentiation: a scalar engine (``Value``) and a NumPy engine (``Tensor``)."""
from .creation import arange, full, manual_seed, ones, ones_like, rand, randn, zeros, zeros_like
from .engine import grad
from .functions import *  # noqa: F401,F403 (torch.NAME functions, dtypes, devices)
from . import functional
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .explore import backward_steps, explain, explore
from .function import Function
from .graph import draw_dot, draw_graph
from . import linalg
from .ops.indexing import *  # noqa: F401,F403 (gather, scatter, index_select, masked_fill...: __all__ there)
from .ops.linalg import *  # noqa: F401,F403 (einsum, mm, bmm, tensordot, kron...: __all__ there)
from .ops.elementwise import maximum, minimum, where
from .ops.pointwise import *; from .ops.bitwise import *  # noqa: E702,F401,F403 (torch.NAME functions)
from .ops.shape import *  # noqa: F401,F403 (cat, stack, flip, split, meshgrid...: __all__ there)
from .ops import reduce as _reduce, scan as _scan, sort as _sort
from .ops.reduce import *  # noqa: F401,F403  (torch.NAME functions: reductions, scans, sorting)
from .ops.scan import *  # noqa: F401,F403
from .ops.sort import *  # noqa: F401,F403  (its where() also takes one argument)
from .tensor import Tensor, tensor
from .value import Value

__all__ = ["Value", "Tensor", "tensor", "grad", "no_grad", "enable_grad", "is_grad_enabled",
           "set_grad_enabled", "inference_mode", "cat", "stack", "where", "maximum", "minimum", "zeros",
           "ones", "full", "zeros_like", "ones_like", "randn", "rand", "arange", "manual_seed",
           "gradcheck", "gradgradcheck", "GradcheckError", "functional", "draw_graph", "draw_dot",
           "backward_steps", "explain", "explore", "Function"]
__all__ += [n for n in _reduce.__all__ + _scan.__all__ + _sort.__all__ if n not in __all__]
