"""Linear algebra: the matrix product in every form torch allows (1-D, 2-D, batched) and ``linear``."""
import numpy as np

from ..primitive import Primitive, TensorBase, call
from ._util import operand
from .reduce import SumRows
from .shape import Permute, Reshape


def _swap_last(x):
    """Matrix transpose of the last two dimensions (batched), of an array or a Tensor."""
    dims = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return call(Permute, x, dims=dims)


class MatMul(Primitive):
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
        if a.ndim == 2 and b.ndim == 2:  # the common case: dA = g Bᵀ, dB = Aᵀ g
            ga = g @ b.T if needs[0] else None
            if not needs[1]:
                return ga, None
            if isinstance(b, np.ndarray) and b.flags.f_contiguous and not b.flags.c_contiguous:
                # b is a transposed view (x @ W.T): make gb one too, so that W's gradient is contiguous
                return ga, (g.T @ a).T
            return ga, a.T @ g
        # Treat 1-D operands as a row (a) or a column (b) matrix, then undo that.
        a1, b1 = a.ndim == 1, b.ndim == 1
        A = call(Reshape, a, shape=(1,) + a.shape) if a1 else a
        B = call(Reshape, b, shape=b.shape + (1,)) if b1 else b
        if a1 and b1:
            G = call(Reshape, g, shape=(1, 1))
        elif a1:
            G = call(Reshape, g, shape=g.shape[:-1] + (1, g.shape[-1]))
        elif b1:
            G = call(Reshape, g, shape=g.shape + (1,))
        else:
            G = g
        ga = gb = None
        if needs[0]:
            ga = G @ _swap_last(B)
            if a1:
                ga = call(Reshape, ga, shape=ga.shape[:-2] + ga.shape[-1:])
        if needs[1]:
            gb = _swap_last(A) @ G
            if b1:
                gb = call(Reshape, gb, shape=gb.shape[:-1])
        return ga, gb


class Linear(Primitive):
    """``x @ W.T + b`` in one node; ``x`` is ``(..., in)``, ``W`` ``(out, in)``, ``b`` ``(out,)``."""

    name = "linear"

    def forward(self, x, w, b=None):
        try:
            out = np.matmul(x, w.T)
        except ValueError:
            raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
                             f"(the input's last dim must be in_features = {w.shape[-1]})") from None
        if b is None:
            return out
        if b.dtype == out.dtype:
            out += b  # out is fresh: add in place
            return out
        return out + b

    def backward(self, g, out, x, w, b=None):
        needs = self.needs
        n_out, n_in = w.shape
        gx = g @ w if needs[0] else None  # dx = g W
        if g.ndim != 2:
            g, x = call(Reshape, g, shape=(-1, n_out)), call(Reshape, x, shape=(-1, n_in))
        gw = g.T @ x if needs[1] else None  # dW = gᵀ x
        if b is None:
            return gx, gw
        return gx, gw, (call(SumRows, g) if needs[2] else None)  # db = column sums of g


class LinalgMethods:
    """``Tensor``'s matrix product: ``@`` and ``matmul``."""

    __slots__ = ()

    def __matmul__(self, other):
        """``self @ other``: ``(n, k) @ (k, m) -> (n, m)``; 1-D operands and batches as torch."""
        b = operand(other, self)
        return NotImplemented if b is None else MatMul.apply(self, b)

    def __rmatmul__(self, other):
        """``other @ self``."""
        a = operand(other, self)
        return NotImplemented if a is None else MatMul.apply(a, self)

    def matmul(self, other):
        """``self @ other``."""
        return self.__matmul__(other)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` in one node: ``(..., in)``, ``(out, in)``, ``(out,)`` -> ``(..., out)``."""
    if not isinstance(weight, TensorBase):
        weight = input._constant(weight)
    if weight._data.ndim != 2 or input._data.ndim == 0:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features) and input at least 1-D, "
                         f"got shapes {weight.shape} and {input.shape}")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias if isinstance(bias, TensorBase) else input._constant(bias))
