"""Shape primitives: reshape, permute, expand, indexing, concatenation."""
import numpy as np

from ..function import Function, is_tensor


def permute_any(x, dims):
    return x.permute(*dims) if is_tensor(x) else x.transpose(dims)


class Reshape(Function):
    name = "reshape"

    def forward(self, a):
        self.in_shape = a.shape
        try:
            return a.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: shape {tuple(self.shape)} is invalid for input of shape "
                             f"{a.shape} (size {a.size})") from None

    def backward(self, g, out, a):
        return (g.reshape(self.in_shape),)


class Permute(Function):
    name = "permute"

    def forward(self, a):
        return a.transpose(self.dims)

    def backward(self, g, out, a):
        dims = self.dims
        inverse = dims if len(dims) == 2 else tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return (permute_any(g, inverse),)


class Expand(Function):
    """Broadcast to a larger shape; ``Tensor._vjp`` sums the gradient back (the one unbroadcast)."""

    name = "expand"

    def forward(self, a):
        return np.broadcast_to(a, self.shape)

    def backward(self, g, out, a):
        return (g,)


def _is_basic(index):
    """True when ``index`` has only ints, slices, None and Ellipsis: no element is selected twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


class Index(Function):
    name = "index"

    def forward(self, a):
        self.in_shape = a.shape
        try:
            return a[self.index]
        except IndexError as e:
            raise IndexError(f"index {_show(self.index)} is out of range for a tensor of shape {a.shape}: "
                             f"{e}") from None

    def backward(self, g, out, a):
        if is_tensor(g):
            return (IndexAdd.apply(g, shape=self.in_shape, index=self.index, dtype=g.dtype),)
        return (IndexAdd(shape=self.in_shape, index=self.index, dtype=g.dtype).forward(g),)


class IndexAdd(Function):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""

    name = "index_add"

    def forward(self, g):
        z = np.zeros(self.shape, dtype=self.dtype)
        if _is_basic(self.index) or _is_bool_mask(self.index):
            z[self.index] = g
        else:
            np.add.at(z, self.index, g)
        return z

    def backward(self, gg, out, g):
        return (gg[self.index],)


def _is_bool_mask(index):
    return isinstance(index, np.ndarray) and index.dtype == np.bool_


def _show(index):
    return repr(index) if not isinstance(index, np.ndarray) else f"array of shape {index.shape}"


class Cat(Function):
    name = "cat"

    def forward(self, *arrays):
        self.sizes = [a.shape[self.dim] for a in arrays]
        return np.concatenate(arrays, axis=self.dim)

    def backward(self, g, out, *inputs):
        grads, start = [], 0
        lead = (slice(None),) * self.dim
        for n in self.sizes:
            grads.append(g[lead + (slice(start, start + n),)])
            start += n
        return grads


class Stack(Function):
    name = "stack"

    def forward(self, *arrays):
        self.n = len(arrays)
        return np.stack(arrays, axis=self.dim)

    def backward(self, g, out, *inputs):
        lead = (slice(None),) * self.dim
        return [g[lead + (i,)] for i in range(self.n)]
