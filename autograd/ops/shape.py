"""Shape and indexing ops: reshape, permute/transpose, expand, indexing, gather/scatter, cat, stack."""
import math

import numpy as np

from ..primitive import Primitive, TensorBase, call
from ._util import first_tensor, norm_dims, one_dim, shape_args


class Reshape(Primitive):
    name = "reshape"
    saves_inputs = False

    def forward(self, a):
        self.in_shape = a.shape
        try:
            out = a.reshape(self.shape)
            self.is_view = out.base is not None
            return out
        except ValueError:
            raise ValueError(f"reshape: shape {tuple(self.shape)} is invalid for input of shape "
                             f"{a.shape} (size {a.size})") from None

    def backward(self, g, out, a):
        return (call(Reshape, g, shape=self.in_shape),)


class Permute(Primitive):
    name = "permute"
    saves_inputs = False
    is_view = True

    def forward(self, a):
        return a.transpose(self.dims)

    def backward(self, g, out, a):
        dims = self.dims
        inverse = dims if len(dims) == 2 else tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return (call(Permute, g, dims=inverse),)


_SMALL = 1 << 16  # elements: below this an expanded gradient is materialised (cheaper than a view)


class Expand(Primitive):
    """Broadcast to a larger shape; the engine sums the gradient back (the one unbroadcast).
    ``materialize=True`` (used by gradient rules) copies small results instead of returning a view."""

    name = "expand"
    saves_inputs = False
    materialize = False

    def forward(self, a):
        if self.materialize and a.dtype.kind == "f" and math.prod(self.shape) <= _SMALL:
            out = np.empty(self.shape, dtype=a.dtype)
            out[...] = a
            return out
        self.is_view = True
        return np.broadcast_to(a, self.shape)

    def backward(self, g, out, a):
        return (g,)


def _is_basic(index):
    """True when ``index`` has only ints, slices, None and Ellipsis: no element is selected twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def _is_bool_mask(index):
    return isinstance(index, np.ndarray) and index.dtype == np.bool_


def _show(index):
    return repr(index) if not isinstance(index, np.ndarray) else f"array of shape {index.shape}"


class Index(Primitive):
    """``a[index]``: basic and advanced indexing; repeated integer indices accumulate gradient."""

    name = "index"
    saves_inputs = False

    def forward(self, a):
        self.in_shape = a.shape
        self.is_view = _is_basic(self.index)
        try:
            return a[self.index]
        except IndexError as e:
            raise IndexError(f"index {_show(self.index)} is out of range for a tensor of shape {a.shape}: "
                             f"{e}") from None

    def backward(self, g, out, a):
        return (call(IndexAdd, g, shape=self.in_shape, index=self.index, dtype=g.dtype),)


class IndexAdd(Primitive):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate unless
    ``unique=True`` says none repeats)."""

    name = "index_add"
    saves_inputs = False
    unique = False

    def forward(self, g):
        z = np.zeros(self.shape, dtype=self.dtype)
        if self.unique or _is_basic(self.index) or _is_bool_mask(self.index):
            z[self.index] = g
        else:
            np.add.at(z, self.index, g)
        return z

    def backward(self, gg, out, g):
        return (call(Index, gg, index=self.index),)


class Gather(Primitive):
    """``x`` picked along ``dim`` at ``index`` (``index`` has ``x``'s shape without ``dim``)."""

    name = "gather"
    saves_inputs = False

    def forward(self, x):
        self.shape = x.shape
        return np.take_along_axis(x, np.expand_dims(self.index, self.dim), self.dim).squeeze(self.dim)

    def backward(self, g, out, x):
        return (call(Scatter, g, index=self.index, dim=self.dim, shape=self.shape),)


class Scatter(Primitive):
    """Zeros of ``shape`` holding ``g`` at ``index`` along ``dim`` (the adjoint of ``Gather``)."""

    name = "scatter"
    saves_inputs = False

    def forward(self, g):
        z = np.zeros(self.shape, dtype=g.dtype)
        np.put_along_axis(z, np.expand_dims(self.index, self.dim), np.expand_dims(g, self.dim), self.dim)
        return z

    def backward(self, gg, out, g):
        return (call(Gather, gg, index=self.index, dim=self.dim),)


class Cat(Primitive):
    name = "cat"
    saves_inputs = False

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


class Stack(Primitive):
    name = "stack"
    saves_inputs = False

    def forward(self, *arrays):
        self.n = len(arrays)
        return np.stack(arrays, axis=self.dim)

    def backward(self, g, out, *inputs):
        lead = (slice(None),) * self.dim
        return [g[lead + (i,)] for i in range(self.n)]


def _index_part(p):
    if isinstance(p, TensorBase):
        p = p._data
    if isinstance(p, list):
        p = np.asarray(p) if p else np.zeros(0, dtype=np.int64)  # [] selects nothing, as in torch
    if isinstance(p, np.ndarray) and p.dtype.kind not in "iub":
        raise IndexError(f"tensors used as indices must be integer or bool, got {p.dtype}")
    return p


class ShapeMethods:
    """``Tensor``'s shape and indexing methods."""

    __slots__ = ()

    def reshape(self, *shape):
        """``reshape(2, 3)`` or ``reshape((2, 3))``; one size may be -1; same number of elements."""
        shape = shape_args(shape)
        if shape == self.shape:
            return self
        return Reshape.apply(self, shape=shape)

    def view(self, *shape):
        """Same as ``reshape`` (NumPy decides whether the data is shared)."""
        return self.reshape(*shape)

    def permute(self, *dims):
        """Dimensions reordered: ``permute(2, 0, 1)`` of ``(a, b, c)`` is ``(c, a, b)``."""
        dims = shape_args(dims)
        if len(dims) != self.ndim:
            raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor with {self.ndim} dimensions")
        axes = tuple(norm_dims(d, self.ndim)[0] for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of {self.ndim} dimensions")
        return Permute.apply(self, dims=axes)

    def transpose(self, dim0, dim1):
        """Dimensions ``dim0`` and ``dim1`` swapped."""
        axes = list(range(self.ndim))
        d0, d1 = one_dim(dim0, self.ndim), one_dim(dim1, self.ndim)
        axes[d0], axes[d1] = axes[d1], axes[d0]
        return Permute.apply(self, dims=tuple(axes))

    @property
    def T(self):
        """Dimensions reversed (the matrix transpose for 2-D)."""
        nd = self._data.ndim
        return self if nd < 2 else Permute.apply(self, dims=(1, 0) if nd == 2 else tuple(range(nd))[::-1])

    @property
    def mT(self):
        """The last two dimensions swapped (a batch of matrix transposes)."""
        return self.transpose(-2, -1)

    def flatten(self, start_dim=0, end_dim=-1):
        """Dimensions ``start_dim..end_dim`` merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = one_dim(start_dim, self.ndim), one_dim(end_dim, self.ndim)
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def squeeze(self, dim=None):
        """Size-1 dimensions removed (only those in ``dim`` when given)."""
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            axes = norm_dims(dim, self.ndim)
            shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim):
        """A size-1 dimension inserted at ``dim``."""
        d = one_dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *shape):
        """Broadcast to ``shape`` (``-1`` keeps a size); new dimensions go in front, as in torch."""
        shape = shape_args(shape)
        if len(shape) < self.ndim:
            raise ValueError(f"expand: the target shape {shape} has fewer dimensions than the tensor's "
                             f"{self.shape}")
        lead = len(shape) - self.ndim
        target = []
        for i, n in enumerate(shape):
            own = self.shape[i - lead] if i >= lead else None
            if n == -1:
                if own is None:
                    raise ValueError(f"expand: -1 is not allowed for a new leading dimension in {shape}")
                n = own
            if own is not None and own != n and own != 1:
                raise ValueError(f"expand: the size {own} of dimension {i - lead} of shape {self.shape} must "
                                 f"match {n} in the target {shape}, or be 1")
            target.append(n)
        target = tuple(target)
        if target == self.shape:
            return self
        return Expand.apply(self, shape=target)

    def __getitem__(self, index):
        """Basic and advanced indexing with gradient (repeated integer indices accumulate)."""
        if isinstance(index, tuple):
            index = tuple(_index_part(p) for p in index)
        else:
            index = _index_part(index)
        return Index.apply(self, index=index)

    def __iter__(self):
        """The sub-tensors along dimension 0."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))


def _tensors(tensors, fn):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{fn}: expected a non-empty list of tensors")
    like = first_tensor(tensors, fn)
    return [t if isinstance(t, TensorBase) else like._constant(t) for t in tensors]


def cat(tensors, dim=0):
    """Concatenate along an existing dimension ``dim``: shapes must match elsewhere."""
    tensors = _tensors(tensors, "cat")
    d = one_dim(dim, tensors[0].ndim)
    shapes = [t.shape for t in tensors]
    for s in shapes:
        if len(s) != len(shapes[0]) or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != d):
            raise ValueError(f"cat: shapes {shapes} must match except in dimension {dim}")
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    """Join along a new dimension ``dim``; all tensors must have the same shape."""
    tensors = _tensors(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    return Stack.apply(*tensors, dim=one_dim(dim, tensors[0].ndim + 1))
