"""``autograd.linalg``: torch.linalg's norms, determinants, inverse and solver for real float tensors."""
from .ops.linalg import det, inv, matrix_norm, norm, slogdet, solve, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "det", "inv", "solve", "slogdet"]
