"""``Tensor``: the NumPy-backed engine with PyTorch's autograd semantics.

This file holds what makes a Tensor a graph node (construction, conversion, ``backward``, the engine's
node protocol). The operations are defined, beside their primitives, in the op-family files under
``ops/`` and inherited from the method classes there: ``help(Tensor)`` lists them all.

Construction policy: Python floats and (nested) lists become ``float32``; NumPy float arrays keep
``float32``/``float64``; integer and bool data keep their dtype and cannot require grad. Operations
follow NumPy 2's type promotion (a Python float does not upcast ``float32``).
"""
import copy

import numpy as np

from .dtypes import CPU, as_dtype, check_device, to_array
from .engine import Freed, FreedParents, run_backward
from .grad_mode import _state as _grad_state
from .ops._util import ShapeError, operand, quiet
from .ops.bitwise import BitwiseMethods
from .ops.elementwise import ElementwiseMethods
from .ops.indexing import IndexingMethods
from .ops.inplace import InplaceMethods
from .ops.numpy_api import NumpyMethods
from .ops.linalg import LinalgMethods
from .ops.pointwise import PointwiseMethods
from .ops.reduce import ReduceMethods
from .ops.scan import ScanMethods
from .ops.shape import ShapeMethods
from .ops.sort import SortMethods
from .primitive import CHANGES, TensorBase, sum_to

_new = object.__new__


# TensorBase first: isinstance(t, TensorBase), which primitives use, finds it at once in the MRO
class Tensor(TensorBase, ElementwiseMethods, PointwiseMethods, BitwiseMethods, ReduceMethods, ScanMethods,
             SortMethods, ShapeMethods, IndexingMethods, LinalgMethods, InplaceMethods, NumpyMethods):
    """An n-dimensional array that records operations for backpropagation.

    ``Tensor(data, requires_grad=False, dtype=None)``. ``.data`` is the ``np.ndarray``; ``.grad`` a
    ``Tensor`` or ``None``; only leaves (and tensors that called ``retain_grad()``) keep ``.grad``.
    """

    # _vcount: the version counter, a one-item list shared with views and detach()ed copies (None until
    # first needed: version 0); _consumed: a recorded op used this tensor; _ghost_of: what a freed graph
    # keeps of this tensor (see _release)
    __slots__ = ("_data", "grad", "requires_grad", "label", "_prev", "_fn", "_retains_grad",
                 "_deps", "_g", "_vcount", "_consumed", "_ghost_of", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None, label=""):
        """A leaf holding a copy of ``data`` (see the class docstring for the dtype policy)."""
        self._data = to_array(data, as_dtype(dtype))
        self.grad = None
        self.label = label
        self._prev = ()
        self._fn = None
        self._retains_grad = False
        self._deps = None
        self._vcount = None
        self._consumed = False
        self._ghost_of = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- internal constructors (no copy, no checks) ----------------------------------------------
    @staticmethod
    def _wrap(array):
        t = _new(Tensor)
        t._data = array if type(array) is np.ndarray else np.asarray(array)  # NumPy returns scalars for 0-d
        t.grad = None
        t.requires_grad = False
        t.label = ""
        t._prev = ()
        t._fn = None
        t._retains_grad = False
        t._deps = None
        t._vcount = None
        t._consumed = False
        t._ghost_of = None
        return t

    @staticmethod
    def _node(array, fn, inputs):
        t = _new(Tensor)
        t._data = array if type(array) is np.ndarray else np.asarray(array)
        t.grad = None
        t.requires_grad = True
        t.label = ""
        t._prev = inputs
        t._fn = fn
        t._retains_grad = False
        t._deps = None
        t._vcount = None
        t._consumed = False
        t._ghost_of = None
        return t

    def _snapshot(self):
        """A new node object holding this tensor's current node (same array, counter and parents), so
        that this tensor can become the node of an in-place op."""
        t = Tensor._node(self._data, self._fn, self._prev)
        t.requires_grad, t.label, t._vcount = self.requires_grad, self.label, self._counter()
        return t

    def _constant(self, x):
        """``x`` (a number, array or list) as a Tensor constant beside this one (numbers take its dtype)."""
        return operand(x, self)

    # -- attributes ------------------------------------------------------------------------------
    @property
    def data(self):
        """A tensor sharing this one's array, not requiring grad, whose in-place changes are not
        tracked (torch's ``.data``)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def _version(self):
        """How many in-place changes this tensor's data has seen (torch's ``_version``)."""
        return self._vcount[0] if self._vcount else 0

    def _counter(self):
        """The version counter, made on first use (views and ``detach()`` share it)."""
        if self._vcount is None:
            self._vcount = [0]
        return self._vcount

    @property
    def shape(self):
        """The size of each dimension, a tuple."""
        return self._data.shape

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self):
        """The NumPy dtype of the elements."""
        return self._data.dtype

    def size(self, dim=None):
        """The shape, or the size of dimension ``dim``."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self):
        """The number of elements."""
        return self._data.size

    def dim(self):
        """The number of dimensions."""
        return self._data.ndim

    @property
    def is_leaf(self):
        """True for a tensor no recorded operation made (created by the user, or detached)."""
        return self._fn is None

    @property
    def _op(self):
        """Name of the operation that made this tensor (``""`` for a leaf)."""
        return "" if self._fn is None else self._fn.name

    @property
    def grad_fn(self):
        """The primitive that made this tensor (``None`` for a leaf)."""
        return self._fn

    def __len__(self):
        """The size of dimension 0."""
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    # -- dtype and device --------------------------------------------------------------------------
    @property
    def device(self):
        """Always ``device("cpu")``: chainrule computes on the CPU with NumPy."""
        return CPU

    @property
    def is_cuda(self):
        """Always False."""
        return False

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(other)``: this tensor with that dtype
        (a recorded cast; ``self`` when nothing changes, unless ``copy``); any device but the CPU raises."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) and a.split(":")[0] in _DEVICE_TYPES or type(a).__name__ == "device":
                device = a
            else:
                dtype = a
        check_device(device)
        out = self if dtype is None else self._cast(dtype)
        return out.clone() if copy and out is self else out

    def cpu(self):
        """``self`` (chainrule's tensors live on the CPU)."""
        return self

    def cuda(self, device=None, non_blocking=False):
        """Raises: chainrule computes on the CPU with NumPy."""
        check_device("cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}")

    def type(self, dtype=None):
        """``type(dtype)``: ``to(dtype)``; ``type()``: the type's name, as torch (``"torch.FloatTensor"``)."""
        if dtype is None:
            return _TYPE_NAMES.get(self._data.dtype.name, self._data.dtype.name)
        return self._cast(dtype)

    def float(self):
        """``self.to(float32)``."""
        return self._cast(np.float32)

    def double(self):
        """``self.to(float64)``."""
        return self._cast(np.float64)

    def half(self):
        """``self.to(float16)``."""
        return self._cast(np.float16)

    def long(self):
        """``self.to(int64)`` (no gradient)."""
        return self._cast(np.int64)

    def int(self):
        """``self.to(int32)`` (no gradient)."""
        return self._cast(np.int32)

    def bool(self):
        """``self.to(bool)`` (no gradient)."""
        return self._cast(np.bool_)

    def is_floating_point(self):
        """True for float16/32/64."""
        return self._data.dtype.kind == "f"

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    # -- conversion --------------------------------------------------------------------------------
    def numpy(self):
        """The NumPy array (shared); raises for a tensor that requires grad, as torch."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad; use "
                               "tensor.detach().numpy()")
        return self._data

    def item(self):
        """The one element as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar "
                             f"(item() needs one element, got shape {self.shape})")
        return self._data.item()

    def tolist(self):
        """The elements as nested Python lists."""
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the array (as ``dtype`` when given)."""
        if self.requires_grad and _grad_state.enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self):
        """``float(t)`` of a one-element tensor."""
        return float(self.item())

    def __int__(self):
        """``int(t)`` of a one-element tensor."""
        return int(self.item())

    def __index__(self):
        """An integer one-element tensor as an index (``range(t)``, ``x[t]``)."""
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, "
                            f"got {self.dtype} shape {self.shape}")
        return int(self._data.item())

    def __bool__(self):
        """``bool(t)`` of a one-element tensor."""
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with shape {self.shape} is ambiguous")
        return bool(self._data.item())

    __hash__ = object.__hash__

    # -- autograd --------------------------------------------------------------------------------
    def detach(self):
        """A new leaf sharing this tensor's data (and version counter), without gradient history."""
        t = Tensor._wrap(self._data)
        t._vcount = self._counter()
        return t

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (leaves only); returns ``self``."""
        if requires_grad and self._data.dtype.kind != "f":
            raise ValueError(f"only floating point tensors can require gradients, got dtype {self.dtype}")
        if not requires_grad and self._fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf tensors; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor during ``backward()``."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that does not require grad")
        self._retains_grad = True

    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Accumulate gradients into ``.grad`` of the leaves (and ``retain_grad()`` tensors).

        ``gradient`` is required unless this tensor has one element. The graph's saved state is freed
        afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        with quiet():  # once for the whole pass, so the rules' own quiet() costs nothing
            run_backward([self], [self._root_grad(gradient, create_graph)], retain_graph or create_graph,
                         create_graph)

    def _root_grad(self, gradient, create_graph):
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this tensor "
                                   f"has shape {self.shape}: pass backward(gradient=...)")
            d = self._data  # a 0-d loss: np.array is ~3 k instructions, np.ones_like ~11 k
            g = np.array(1, dtype=d.dtype) if d.ndim == 0 else np.ones_like(d)
        else:
            src = gradient._data if isinstance(gradient, Tensor) else gradient
            if self._fn is None or self._retains_grad:
                # a copy: a leaf keeps its root gradient as its .grad, which must not be the caller's
                g = np.array(src, dtype=self._data.dtype)
            else:  # the rules never write into g, and a leaf copies a g passed on to it (_exclusive)
                g = np.asarray(src, dtype=self._data.dtype)
            if g.shape != self.shape:
                raise RuntimeError(f"gradient has shape {g.shape} but the output has shape {self.shape}")
        if create_graph:
            return gradient if isinstance(gradient, Tensor) and gradient.dtype == self.dtype \
                else Tensor._wrap(g)
        return g

    def _vjp(self, g, create_graph):
        """Gradients for the parents, summed back to each parent's shape: the one unbroadcast."""
        prev = self._prev
        fn = self._fn
        if fn._changes != CHANGES[0]:  # something changed in place since fn was recorded: check
            if fn._versions is not None or (fn.saves_output and self._vcount):
                _check_versions(self, fn, prev)
            elif fn.saves_inputs:  # recorded when no input had a counter: each must still be at version 0
                for p in prev:
                    if p._vcount:
                        _check_versions(self, fn, prev)
                        break
        if create_graph:
            if not isinstance(g, Tensor):
                g = Tensor._wrap(g)
            grads = fn.backward(g, self, *prev)
        else:
            if isinstance(g, Tensor):
                g = g._data
            n = len(prev)  # the common arities spelled out: a list comprehension costs ~2 k more
            if n == 1:
                grads = fn.backward(g, self._data, prev[0]._data)
            elif n == 2:
                grads = fn.backward(g, self._data, prev[0]._data, prev[1]._data)
            elif n == 3:
                grads = fn.backward(g, self._data, prev[0]._data, prev[1]._data, prev[2]._data)
            else:
                grads = fn.backward(g, self._data, *[p._data for p in prev])
        out = []
        for p, pg in zip(prev, grads):
            if pg is None or not p.requires_grad:
                out.append(None)
                continue
            d = p._data
            if pg.shape != d.shape:
                pg = sum_to(pg, d.shape)
                fresh = True  # a new array (or a view of one, see below)
            else:
                fresh = fn.fresh_grads
            if pg.dtype is not d.dtype and pg.dtype != d.dtype:
                pg = pg.to(d.dtype) if isinstance(pg, Tensor) else pg.astype(d.dtype)
            elif p._fn is None and not create_graph and not (fresh and pg.base is None) and not _exclusive(
                    pg, g, self, prev, out):
                pg = pg.copy()  # a leaf keeps what it is given as its .grad: never a shared array
            out.append(pg)
        return out

    def _accumulate(self, g):
        if not self.requires_grad or (self._fn is not None and not self._retains_grad):
            return
        if isinstance(g, Tensor):  # create_graph: the gradient keeps its graph
            self.grad = g if self.grad is None else self.grad + g
            return
        if self.grad is None:
            if self._fn is None:  # a leaf's gradient is its own array (see _exclusive): kept, no copy
                self.grad = Tensor._wrap(g)
            else:  # a retain_grad() tensor's gradient is also passed on to its rule: a copy
                self.grad = Tensor._wrap(np.array(g, dtype=self._data.dtype, copy=True))
        else:
            self.grad = Tensor._wrap(self.grad._data + g)

    def _release(self):
        """Free what backward saved, keep the structure: the op's name, and this node's ``Ghost`` as its
        ``_prev`` (its parents: parameters themselves, the others' ghosts), so the graph can still be
        drawn while the intermediate arrays go."""
        # Runs for every node of every backward: a ghost is one list, made by the first child released
        name = self._fn.name
        try:
            self._fn = _FREED[name]
        except KeyError:
            self._fn = _freed(name)
        kept = []
        for p in self._prev:
            r = p._ghost_of
            if r is None:
                if p._fn is None and p.requires_grad:  # a parameter: itself
                    kept.append(p)
                    continue
                r = p._ghost_of = _ghost(p)
            kept.append(r)
        g = self._ghost_of
        if g is None:  # no child was released before this node (a root)
            g = self._ghost_of = _ghost(self)
        g[_PARENTS] = kept
        self._prev = g

    def _as_grad(self, g, create_graph):
        if isinstance(g, Tensor):
            return g
        return Tensor._wrap(np.array(g, dtype=self._data.dtype, copy=True))

    # -- display ---------------------------------------------------------------------------------
    def __repr__(self):
        """``tensor([...], dtype=..., grad_fn=<...>)``, as torch prints it."""
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = ""
        if self._data.dtype not in (np.float32, np.int64, np.bool_):
            extra += f", dtype={self._data.dtype}"
        if self._fn is not None:
            extra += f", grad_fn=<{self._fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"




_FREED = {}
_DEVICE_TYPES = {"cpu", "cuda", "mps", "xpu", "meta", "xla", "hip", "ipu"}
_TYPE_NAMES = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
               "int64": "torch.LongTensor", "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
               "int8": "torch.CharTensor", "uint8": "torch.ByteTensor", "bool": "torch.BoolTensor"}


class Ghost(FreedParents, list):
    """What a freed graph keeps of a tensor: its op's name, shape, dtype, label, whether it requires
    grad, the data of a tiny one, and its parents (set by its own release); shown as an array-free
    Tensor (``as_tensor()``) when drawn. A list ``[name, shape, dtype, label, requires_grad, tiny,
    parents, tensor]`` (made in one C call on the hot path, see ``_ghost``), read by name here."""

    __slots__ = ()
    __eq__, __ne__, __hash__ = object.__eq__, object.__ne__, object.__hash__  # an object, not a list

    def __repr__(self):
        return f"<ghost of {_item(self, 0) or 'a leaf'} {_item(self, 1)}>"

    def __copy__(self):
        return Ghost(list.__iter__(self))  # (iterating a ghost raises: its fields are read as a list's)

    def __deepcopy__(self, memo):
        g = memo[id(self)] = Ghost(())
        list.extend(g, copy.deepcopy(list(list.__iter__(self)), memo))
        return g

    def kept(self):
        """The parents as Tensors: parameters themselves, the others' ghost Tensors."""
        return tuple(p if isinstance(p, Tensor) else p.as_tensor() for p in _item(self, _PARENTS))

    def as_tensor(self):
        """The array-free Tensor shown for this ghost (made once): its ``_prev`` is this ghost."""
        t = _item(self, _TENSOR)
        if t is None:
            name, shape, dtype, label, requires_grad, tiny = _item(self, slice(_PARENTS))
            t = Tensor._wrap(_placeholder(shape, dtype) if tiny is None else tiny)
            t.label, t.requires_grad, t._prev = label, requires_grad, self
            if name is not None:
                t._fn = _freed(name)
            self[_TENSOR] = t
        return t


_item = list.__getitem__  # Ghost's own fields (its [] gives the parents, as any node's _prev)
_PARENTS, _TENSOR = 6, 7


def _ghost(t):
    """``t``'s ghost (see ``Ghost``)."""
    d, fn = t._data, t._fn
    return Ghost((None if fn is None else fn.name, d.shape, d.dtype, t.label, t.requires_grad,
                  None if d.size > 6 else d if d.base is None else d.copy(), (), None))


def _freed(name):
    """One shared ``Freed`` marker per op name."""
    f = _FREED.get(name)
    if f is None:
        f = _FREED[name] = Freed(name)
    return f


_PLACEHOLDERS = {}


def _placeholder(shape, dtype):
    """A zero-memory broadcast view with ``shape`` and ``dtype`` (one per shape and dtype)."""
    key = (shape, dtype.str)
    p = _PLACEHOLDERS.get(key)
    if p is None:
        if len(_PLACEHOLDERS) > 512:
            _PLACEHOLDERS.clear()
        p = _PLACEHOLDERS[key] = np.broadcast_to(np.zeros((), dtype=dtype), shape)
    return p


def _exclusive(pg, g, node, prev, given):
    """True when the rule of ``node`` returned ``pg`` as a new array nobody else holds: not a view, not
    the upstream gradient ``g``, the output or an input, not ``given`` to another input. A leaf then
    keeps it as its ``.grad`` without the copy (torch steals such a buffer too; the copy was ~5% of the
    small MLP step's instructions)."""
    if pg.base is not None or pg is g or pg is node._data:
        return False
    for x in prev:
        if pg is x._data:
            return False
    for x in given:
        if pg is x:
            return False
    return True


def _check_versions(node, fn, prev):
    """torch's error when a tensor the rule of ``fn`` reads was changed in place after it was saved."""
    if fn.saves_inputs:
        versions = fn._versions
        for i, p in enumerate(prev):
            vc = p._vcount
            if vc and vc[0] != (versions[i] if versions else 0):
                _version_error(p, f"input {i}", fn, versions[i] if versions else 0)
    if fn.saves_output and node._vcount and node._vcount[0] != fn._out_version:
        _version_error(node, "output 0", fn, fn._out_version)


def _version_error(t, what, fn, expected):
    shape = ", ".join(map(str, t.shape))
    raise RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.dtype} tensor of shape [{shape}]], which is {what} of {fn.name}, is at version "
        f"{t._version}; expected version {expected} instead. Hint: use the out-of-place operation, or "
        f".clone() the tensor before changing it in place")


def tensor(data, requires_grad=False, dtype=None):
    """Same as ``Tensor(data, requires_grad, dtype)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
