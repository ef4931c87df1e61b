"""Matrix product in every form torch allows: 1-D, 2-D and batched (broadcast) operands."""
import numpy as np

from ..function import Function, is_tensor, swap_last


class MatMul(Function):
    name = "matmul"

    def forward(self, a, b):
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]:
            return np.matmul(a, b)
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} "
                               f"and {b.shape}")
        ka = a.shape[-1]
        kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if ka != kb:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                             f"({ka} != {kb})")
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot be "
                             "broadcast together") from None

    def backward(self, g, out, a, b):
        needs = self.needs
        if a.ndim == 2 and b.ndim == 2 and not is_tensor(g):  # the common case, on arrays
            ga = g @ b.T if needs[0] else None
            if not needs[1]:
                return ga, None
            if b.flags.f_contiguous and not b.flags.c_contiguous:
                # b is a transposed view (x @ W.T): make gb one too, so that W's gradient is contiguous
                return ga, (g.T @ a).T
            return ga, a.T @ g
        # Treat 1-D operands as a row (a) or a column (b) matrix, then undo that.
        a1, b1 = a.ndim == 1, b.ndim == 1
        A = a.reshape((1,) + a.shape) if a1 else a
        B = b.reshape(b.shape + (1,)) if b1 else b
        if a1 and b1:
            G = g.reshape((1, 1))
        elif a1:
            G = g.reshape(g.shape[:-1] + (1, g.shape[-1]))
        elif b1:
            G = g.reshape(g.shape + (1,))
        else:
            G = g
        ga = gb = None
        if needs[0]:
            ga = G @ swap_last(B)
            if a1:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if needs[1]:
            gb = swap_last(A) @ G
            if b1:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb
