"""Shape ops: reshape, permute/transpose, expand, indexing, flip/roll, diagonals, splitting, cat, stack.

Most ops are compositions of a few primitives (``Index`` for slicing, ``Reshape``, ``Permute``,
``Expand``, ``Cat``); ``Flip``, ``Roll``, ``Diagonal`` and its adjoint ``DiagonalScatter`` have their own
rules. Results that share memory with the input (slices, ``diagonal``, ``permute``...) are views, as
in torch; ``flip``, ``roll``, ``repeat`` and ``tril``/``triu`` copy.
"""
import math
import numbers

import numpy as np

from ..primitive import Primitive, TensorBase, call
from ._util import ShapeError, first_tensor, norm_dims, one_dim, shape_args
from .elementwise import Clone, Where

__all__ = ["cat", "stack", "broadcast_tensors", "meshgrid", "hstack", "vstack", "dstack", "column_stack",
           "atleast_1d", "atleast_2d", "atleast_3d"]


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
            raise ValueError(f"reshape: shape {tuple(self.shape)} is invalid for input of shape {a.shape} "
                             f"(size {a.size})") from None

    formulas = (("g reshaped to {s0}", lambda s: s.g.reshape(s.a.shape)),)

    def backward(self, g, out, a):
        return (call(Reshape, g, shape=self.in_shape),)


class Permute(Primitive):
    name = "permute"
    saves_inputs = False
    is_view = True

    def forward(self, a):
        return a.transpose(self.dims)

    formulas = (("g permuted back", lambda s: np.transpose(s.g, np.argsort(s.fn.dims))),)

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

    formulas = (("g summed back to {s0}", lambda s: s.g),)

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

    formulas = (("g added into zeros {s0} at the index", lambda s: _index(s)),)

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

    formulas = (("g[index]", lambda s: s.g[s.fn.index]),)

    def backward(self, gg, out, g):
        return (call(Index, gg, index=self.index),)


class Gather(Primitive):
    """``x`` picked along ``dim`` at ``index`` (``index`` has ``x``'s shape without ``dim``)."""

    name = "gather"
    saves_inputs = False

    def forward(self, x):
        self.shape = x.shape
        return np.take_along_axis(x, np.expand_dims(self.index, self.dim), self.dim).squeeze(self.dim)

    formulas = (("g put into zeros {s0} at the index along dim", lambda s: _gather_back(s)),)

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

    formulas = (("g gathered at the index along dim",
                 lambda s: np.take_along_axis(s.g, np.expand_dims(s.fn.index, s.fn.dim),
                                              s.fn.dim).squeeze(s.fn.dim)),)

    def backward(self, gg, out, g):
        return (call(Gather, gg, index=self.index, dim=self.dim),)


class Flip(Primitive):
    """A copy with the order of the elements reversed along ``dims``."""

    name = "flip"
    saves_inputs = False

    def forward(self, a):
        return np.flip(a, self.dims).copy()

    formulas = (("g flipped back along dims", lambda s: np.flip(s.g, s.fn.dims)),)

    def backward(self, g, out, a):
        return (call(Flip, g, dims=self.dims),)


class Roll(Primitive):
    """A copy rolled by ``shifts`` along ``dims`` (the flattened tensor when ``dims`` is None)."""

    name = "roll"
    saves_inputs = False

    def forward(self, a):
        return np.roll(a, self.shifts, self.dims)

    formulas = (("g rolled back by −shifts", lambda s: np.roll(s.g, np.negative(s.fn.shifts), s.fn.dims)),)

    def backward(self, g, out, a):
        back = -self.shifts if self.dims is None else tuple(-s for s in self.shifts)
        return (call(Roll, g, shifts=back, dims=self.dims),)


def _diagonal_view(a, offset, dim1, dim2):
    """The (writable) view of ``a``'s diagonal ``offset`` in the plane ``(dim1, dim2)``, as the last dim."""
    b = np.moveaxis(a, (dim1, dim2), (-2, -1))
    b = b[..., :, offset:] if offset >= 0 else b[..., -offset:, :]
    n = max(min(b.shape[-2], b.shape[-1]), 0)
    strides = b.strides[:-2] + (b.strides[-2] + b.strides[-1],)
    return np.lib.stride_tricks.as_strided(b, b.shape[:-2] + (n,), strides,
                                           writeable=b.flags.writeable)


class Diagonal(Primitive):
    """The diagonal ``offset`` of the plane ``(dim1, dim2)``, a view, as the last dimension."""

    name = "diagonal"
    saves_inputs = False
    is_view = True

    def forward(self, a):
        self.shape = a.shape
        return _diagonal_view(a, self.offset, self.dim1, self.dim2)

    formulas = (("g on the diagonal of zeros {s0}", lambda s: _diagonal_back(s)),)

    def backward(self, g, out, a):
        return (call(DiagonalScatter, g, shape=self.shape, offset=self.offset, dim1=self.dim1,
                     dim2=self.dim2),)


class DiagonalScatter(Primitive):
    """Zeros of ``shape`` with ``g`` on diagonal ``offset`` of ``(dim1, dim2)`` (``Diagonal``'s adjoint)."""

    name = "diagonal_scatter"
    saves_inputs = False

    def forward(self, g):
        z = np.zeros(self.shape, dtype=g.dtype)
        _diagonal_view(z, self.offset, self.dim1, self.dim2)[...] = g
        return z

    formulas = (("the diagonal of g", lambda s: np.diagonal(s.g, s.fn.offset, s.fn.dim1, s.fn.dim2)),)

    def backward(self, gg, out, g):
        return (call(Diagonal, gg, offset=self.offset, dim1=self.dim1, dim2=self.dim2),)


class Cat(Primitive):
    name = "cat"
    saves_inputs = False

    def forward(self, *arrays):
        self.sizes = [a.shape[self.dim] for a in arrays]
        return np.concatenate(arrays, axis=self.dim)

    @staticmethod
    def formulas(n):
        """One formula per input (``n`` of them): its piece of ``g``."""
        return tuple((f"g[piece {i}]", lambda s, i=i: _piece(s, i, False)) for i in range(n))

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

    @staticmethod
    def formulas(n):
        """One formula per input (``n`` of them): its slice of ``g``."""
        return tuple((f"g[{i}] along dim", lambda s, i=i: _piece(s, i, True)) for i in range(n))

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
        """Dimensions ``dim0`` and ``dim1`` swapped (a view; a 0-d tensor accepts ``transpose(0, 0)``)."""
        axes = list(range(self.ndim))
        d0, d1 = one_dim(dim0, self.ndim), one_dim(dim1, self.ndim)
        if axes:
            axes[d0], axes[d1] = axes[d1], axes[d0]
        return Permute.apply(self, dims=tuple(axes))

    @property
    def T(self):
        """Dimensions reversed (the matrix transpose for 2-D; a view of itself for 0-d and 1-D)."""
        nd = self._data.ndim
        return Permute.apply(self, dims=(1, 0) if nd == 2 else tuple(range(nd))[::-1])

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

    # -- reordering: flip, roll, rot90, movedim, swapaxes, t ------------------------------------------
    def flip(self, *dims):
        """A copy with the elements reversed along ``dims`` (an int or a tuple); same shape."""
        return Flip.apply(self, dims=norm_dims(shape_args(dims), self.ndim))

    def fliplr(self):
        """``flip(1)`` of a tensor with at least 2 dimensions."""
        _need_dims(self, 2, "fliplr")
        return self.flip(1)

    def flipud(self):
        """``flip(0)`` of a tensor with at least 1 dimension."""
        _need_dims(self, 1, "flipud")
        return self.flip(0)

    def roll(self, shifts, dims=None):
        """A copy rolled by ``shifts`` along ``dims`` (ints or tuples; None: the flattened tensor)."""
        if dims is not None and self.ndim == 0:
            raise IndexError(f"Dimension specified as {dims} but tensor has no dimensions")
        if dims is None:
            if not isinstance(shifts, numbers.Integral):
                shifts, = shifts
            return Roll.apply(self, shifts=int(shifts), dims=None)
        shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
        dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts and dimensions must align, got shifts={shifts} and dims={dims}")
        return Roll.apply(self, shifts=tuple(int(s) for s in shifts),
                          dims=tuple(one_dim(d, self.ndim) for d in dims))

    def rot90(self, k=1, dims=(0, 1)):
        """Rotated by 90 degrees ``k`` times in the plane ``dims``, from the first towards the second."""
        dims = tuple(dims)
        if len(dims) != 2:
            raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
        _need_dims(self, 2, "rot90")
        d0, d1 = one_dim(dims[0], self.ndim), one_dim(dims[1], self.ndim)
        if d0 == d1:
            raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {d0} and dim1 "
                               f"= {d1}")
        k %= 4
        if k == 1:
            return self.flip(d1).transpose(d0, d1)
        if k == 2:
            return self.flip(d0, d1)
        if k == 3:
            return self.flip(d0).transpose(d0, d1)
        return self.clone()

    def movedim(self, source, destination):
        """Dimensions ``source`` (an int or a tuple) moved to positions ``destination``; a view."""
        src = (source,) if isinstance(source, numbers.Integral) else tuple(source)
        dst = (destination,) if isinstance(destination, numbers.Integral) else tuple(destination)
        if len(src) != len(dst):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) "
                               f"should contain the same number of dims as destination ({list(dst)} dims)")
        src = [one_dim(d, self.ndim) for d in src]
        dst = [one_dim(d, self.ndim) for d in dst]
        if len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise RuntimeError(f"movedim: repeated dim in source {source} or destination {destination}")
        if self.ndim == 0:
            return Permute.apply(self, dims=())
        order = [d for d in range(self.ndim) if d not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return Permute.apply(self, dims=tuple(order))

    def moveaxis(self, source, destination):
        """Same as ``movedim``."""
        return self.movedim(source, destination)

    def swapaxes(self, axis0, axis1):
        """Same as ``transpose(axis0, axis1)``."""
        return self.transpose(axis0, axis1)

    def swapdims(self, dim0, dim1):
        """Same as ``transpose(dim0, dim1)``."""
        return self.transpose(dim0, dim1)

    def t(self):
        """The transpose of a matrix; a 0-d or 1-D tensor as it is (a view)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.T

    # -- triangles and diagonals ---------------------------------------------------------------------
    def tril(self, diagonal=0):
        """A copy with the elements above diagonal ``diagonal`` of the last two dims set to 0."""
        _need_dims(self, 2, "tril")
        return _keep(self, np.tri(*self.shape[-2:], k=diagonal, dtype=bool))

    def triu(self, diagonal=0):
        """A copy with the elements below diagonal ``diagonal`` of the last two dims set to 0."""
        _need_dims(self, 2, "triu")
        return _keep(self, ~np.tri(*self.shape[-2:], k=diagonal - 1, dtype=bool))

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The diagonal ``offset`` of the plane ``(dim1, dim2)`` as the last dimension (a view)."""
        _need_dims(self, 2, "diagonal")
        d1, d2 = one_dim(dim1, self.ndim), one_dim(dim2, self.ndim)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return Diagonal.apply(self, offset=int(offset), dim1=d1, dim2=d2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        """``(*, n)`` -> a tensor whose planes ``(dim1, dim2)`` hold the last dim on diagonal ``offset``."""
        nd = self.ndim + 1
        d1, d2 = one_dim(dim1, nd), one_dim(dim2, nd)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        n = (self.shape[-1] if self.ndim else 1) + abs(int(offset))
        shape = list(self.shape[:-1])
        for d in sorted((d1, d2)):
            shape.insert(d, n)
        x = self if self.ndim else self.reshape(1)
        return DiagonalScatter.apply(x, shape=tuple(shape), offset=int(offset), dim1=d1, dim2=d2)

    def diag(self, diagonal=0):
        """A 1-D tensor as a matrix with it on diagonal ``diagonal``; a matrix's diagonal as a 1-D tensor."""
        if self.ndim == 1:
            return self.diag_embed(diagonal, 0, 1)
        if self.ndim == 2:
            return self.diagonal(diagonal)
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D")

    def trace(self):
        """The sum of the main diagonal of a matrix, a 0-d tensor."""
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
        return self.diagonal().sum()

    # -- repeating ---------------------------------------------------------------------------------------
    def repeat(self, *sizes):
        """A copy tiled ``sizes[i]`` times along dim ``i`` (``sizes`` may add leading dims)."""
        sizes = shape_args(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(f"Number of dimensions of repeat dims {sizes} can not be smaller than number "
                               f"of dimensions of tensor {self.shape}")
        if any(r < 0 for r in sizes):
            raise RuntimeError(f"Trying to create tensor with negative dimension: repeat{sizes}")
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        ones = sum(((1, n) for n in shape), ())
        both = sum(((r, n) for r, n in zip(sizes, shape)), ())
        target = tuple(r * n for r, n in zip(sizes, shape))
        if all(r == 1 for r in sizes):
            return self.reshape(target).clone()
        return self.reshape(ones).expand(both).reshape(target)

    def tile(self, *dims):
        """``repeat`` with ``dims`` padded with leading 1s to the number of dimensions."""
        dims = shape_args(dims)
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Each element repeated ``repeats`` times (an int, or a count each) along ``dim`` (None: flat)."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else one_dim(dim, x.ndim)
        n = x.shape[d] if x.ndim else 1
        reps = np.asarray(repeats._data if isinstance(repeats, TensorBase) else repeats)
        if reps.dtype.kind not in "iu" or reps.ndim > 1 or (reps.ndim == 1 and reps.size not in (1, n)):
            raise RuntimeError(f"repeat_interleave: repeats must be an int or a 1-D integer tensor of {n} "
                               f"elements, got {repeats!r}")
        if (reps < 0).any():
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        index = np.repeat(np.arange(n), reps.reshape(-1) if reps.size != 1 else int(reps.reshape(-1)[0]))
        if output_size is not None and index.size != output_size:
            raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match {index.size}")
        if x.ndim == 0:
            x = x.reshape(1)
        return x[(slice(None),) * d + (index,)]

    # -- splitting ---------------------------------------------------------------------------------------
    def select(self, dim, index):
        """The slice at ``index`` along ``dim`` (that dim removed); a view."""
        d = one_dim(dim, self.ndim)
        if self.ndim == 0:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        n = self.shape[d]
        if not -n <= index < n:
            raise IndexError(f"select(): index {index} out of range for tensor of size {list(self.shape)} at "
                             f"dimension {dim}")
        return self[(slice(None),) * d + (int(index),)]

    def narrow(self, dim, start, length):
        """Elements ``start .. start + length - 1`` along ``dim``; a view."""
        d = one_dim(dim, self.ndim)
        _need_dims(self, 1, "narrow")
        n = self.shape[d]
        start = int(start)
        if not -n <= start <= n:
            raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
        start %= n if n else 1
        if length < 0 or start + length > n:
            raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
        return self[(slice(None),) * d + (slice(start, start + int(length)),)]

    def _pieces(self, sizes, d):
        """The views of consecutive pieces of ``sizes`` along dim ``d``."""
        starts = np.cumsum((0,) + tuple(sizes))
        return tuple(self[(slice(None),) * d + (slice(int(a), int(b)),)] for a, b in zip(starts, starts[1:]))

    def split(self, split_size_or_sections, dim=0):
        """Pieces of ``split_size`` along ``dim`` (the last smaller), or of the given sizes; views."""
        _need_dims(self, 1, "split")
        d = one_dim(dim, self.ndim)
        n = self.shape[d]
        if isinstance(split_size_or_sections, numbers.Integral):
            s = int(split_size_or_sections)
            if s < 0 or (s == 0 and n):
                raise RuntimeError("split expects split_size be non-negative (and positive for a non-empty "
                                   f"dim), but got split_size={s}")
            k = max(-(-n // s) if s else 1, 1)
            return self._pieces([s] * (k - 1) + [n - s * (k - 1)], d)
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                               f"size at dimension {dim}), but got split_sizes={sizes}")
        return self._pieces(sizes, d)

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` pieces of equal size ``ceil(n / chunks)`` (the last smaller) along ``dim``."""
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        _need_dims(self, 1, "chunk")
        n = self.shape[one_dim(dim, self.ndim)]
        if n == 0:
            return self.split([0] * chunks, dim)
        return self.split(-(-n // chunks), dim)

    def tensor_split(self, indices_or_sections, dim=0):
        """``sections`` pieces of near-equal size (the first ones larger), or pieces cut at ``indices``."""
        _need_dims(self, 1, "tensor_split")
        d = one_dim(dim, self.ndim)
        n = self.shape[d]
        cut = indices_or_sections
        if isinstance(cut, TensorBase):
            cut = cut._data.item() if cut.ndim == 0 else cut._data.tolist()
        if isinstance(cut, numbers.Integral):
            if cut <= 0:
                raise RuntimeError(f"number of sections must be larger than 0, got {cut}")
            q, r = divmod(n, int(cut))
            return self._pieces([q + 1] * r + [q] * (int(cut) - r), d)
        bounds = [0] + [min(max(int(i) + n if i < 0 else int(i), 0), n) for i in cut] + [n]
        return tuple(self[(slice(None),) * d + (slice(a, max(a, b)),)] for a, b in zip(bounds, bounds[1:]))

    def unbind(self, dim=0):
        """The slices along ``dim`` (that dim removed), a tuple of views."""
        _need_dims(self, 1, "unbind")
        d = one_dim(dim, self.ndim)
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    # -- shapes of others --------------------------------------------------------------------------------
    def unflatten(self, dim, sizes):
        """Dimension ``dim`` split into ``sizes`` (one may be -1)."""
        _need_dims(self, 1, "unflatten")
        d = one_dim(dim, self.ndim)
        sizes = tuple(int(s) for s in sizes)
        n = self.shape[d] if self.ndim else 1
        if not sizes or (-1 not in sizes and math.prod(sizes) != n):
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of "
                               f"dim {dim} ({n}) in the input tensor")
        return self.reshape(self.shape[:d] + sizes + self.shape[d + 1:])

    def expand_as(self, other):
        """``expand(other.shape)``."""
        return self.expand(other.shape)

    def view_as(self, other):
        """``view(other.shape)``."""
        return self.view(other.shape)

    def reshape_as(self, other):
        """``reshape(other.shape)``."""
        return self.reshape(other.shape)

    def broadcast_to(self, size):
        """Same as ``expand(size)``."""
        return self.expand(size)

    def contiguous(self):
        """``self`` when its data is C-contiguous, else a contiguous copy (in the graph)."""
        return self if self._data.flags.c_contiguous else Clone.apply(self)

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
            raise ShapeError(f"cat: shapes {shapes} must match except in dimension {dim}")
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    """Join along a new dimension ``dim``; all tensors must have the same shape."""
    tensors = _tensors(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}")
    return Stack.apply(*tensors, dim=one_dim(dim, tensors[0].ndim + 1))


def _need_dims(t, n, fn):
    if t.ndim < n:
        raise RuntimeError(f"{fn}: expected a tensor with at least {n} dimensions, got shape "
                           f"{tuple(t.shape)}")


def _keep(t, mask):
    """``t`` where ``mask`` (broadcast) is True, else 0: a copy."""
    return Where.apply(t._wrap(mask), t, t._wrap(np.zeros((), dtype=t.dtype)))


def function_of(method):
    """The module function ``autograd.NAME(input, *args, **kwargs)`` of the Tensor method ``NAME``."""
    def function(input, *args, **kwargs):
        if not isinstance(input, TensorBase):
            raise TypeError(f"{method.__name__}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return method(input, *args, **kwargs)
    function.__name__ = function.__qualname__ = method.__name__
    function.__doc__ = method.__doc__
    return function


def _many(tensors):
    """``f(a, b)`` or ``f([a, b])`` as a list of Tensors."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return _tensors(tensors, "tensors")


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views)."""
    tensors = _many(tensors)
    try:
        shape = np.broadcast_shapes(*[t.shape for t in tensors])
    except ValueError:
        raise RuntimeError(f"broadcast_tensors: shapes {[tuple(t.shape) for t in tensors]} cannot be "
                           "broadcast together") from None
    return tuple(t.expand(shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Grids from 1-D tensors: with ``indexing="ij"`` output ``i`` varies along dim ``i``; ``"xy"`` swaps
    the first two dims (Cartesian)."""
    tensors = _many(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f'meshgrid: indexing must be "ij" or "xy", got {indexing!r}')
    if any(t.ndim > 1 for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have 0 or 1 dimensions, got "
                           f"{[tuple(t.shape) for t in tensors]}")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors = [tensors[1], tensors[0]] + tensors[2:]
    shape = tuple(t.numel() for t in tensors)
    k = len(tensors)
    grids = [t.reshape((1,) * i + (-1,) + (1,) * (k - i - 1)).expand(shape) for i, t in enumerate(tensors)]
    if swap:
        grids = [grids[1], grids[0]] + grids[2:]
    return tuple(grids)


def _at_least(tensors, shape_of):
    tensors = tensors[0] if len(tensors) == 1 else tensors
    if isinstance(tensors, TensorBase):
        return tensors.reshape(shape_of(tensors.shape))
    return tuple(t.reshape(shape_of(t.shape)) for t in _tensors(tensors, "atleast"))


def atleast_1d(*tensors):
    """A 0-d tensor as shape ``(1,)``, others as they are (one tensor, or a tuple for several)."""
    return _at_least(tensors, lambda s: s or (1,))


def atleast_2d(*tensors):
    """A 0-d tensor as ``(1, 1)``, a 1-D one ``(n,)`` as ``(1, n)``, others as they are."""
    return _at_least(tensors, lambda s: (1,) * (2 - len(s)) + s if len(s) < 2 else s)


def atleast_3d(*tensors):
    """``()`` as ``(1, 1, 1)``, ``(n,)`` as ``(1, n, 1)``, ``(m, n)`` as ``(m, n, 1)``, others as they are."""
    return _at_least(tensors, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s))


def hstack(tensors):
    """Concatenated along dim 1 (dim 0 for 1-D tensors), after ``atleast_1d``."""
    tensors = atleast_1d(*_tensors(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenated along dim 0 after ``atleast_2d``."""
    return cat(atleast_2d(*_tensors(tensors, "vstack")), 0)


def dstack(tensors):
    """Concatenated along dim 2 after ``atleast_3d``."""
    return cat(atleast_3d(*_tensors(tensors, "dstack")), 2)


def column_stack(tensors):
    """0-d and 1-D tensors as columns ``(n, 1)``, then concatenated along dim 1."""
    tensors = [t.reshape(t.numel(), 1) if t.ndim < 2 else t for t in _tensors(tensors, "column_stack")]
    return cat(tensors, 1)


_METHODS = ("flip fliplr flipud roll rot90 tril triu diag diagonal diag_embed trace tile repeat_interleave "
            "chunk split tensor_split unbind narrow select movedim moveaxis swapaxes swapdims unflatten "
            "broadcast_to squeeze unsqueeze t transpose permute reshape flatten").split()
for _name in _METHODS:
    globals()[_name] = function_of(getattr(ShapeMethods, _name))
__all__ += _METHODS
del _name


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _index(s):
    """``g`` added into zeros shaped like the input at the index."""
    z = np.zeros_like(s.a)
    np.add.at(z, s.fn.index, s.g)
    return z


def _gather_back(s):
    """``g`` put into zeros shaped like the input at the index along ``dim``."""
    z = np.zeros_like(s.a)
    np.put_along_axis(z, np.expand_dims(s.fn.index, s.fn.dim), np.expand_dims(s.g, s.fn.dim), s.fn.dim)
    return z


def _diagonal_back(s):
    """``g`` (the diagonal as the last dim) written on diagonal ``offset`` of ``(dim1, dim2)`` of zeros."""
    z = np.zeros_like(s.a)
    plane = np.moveaxis(z, (s.fn.dim1, s.fn.dim2), (-2, -1))  # a view: writes land in z
    k = np.arange(s.g.shape[-1])
    plane[..., k + max(-s.fn.offset, 0), k + max(s.fn.offset, 0)] = s.g
    return z


def _piece(s, i, stacked):
    """Input ``i``'s part of ``g``: its slice along ``dim`` (``stacked``) or its piece (cat)."""
    dim = s.fn.dim % s.g.ndim
    if stacked:
        return np.take(s.g, i, axis=dim)
    start = sum(t.shape[dim] for t in s.x[:i])
    return np.take(s.g, range(start, start + s.x[i].shape[dim]), axis=dim)
