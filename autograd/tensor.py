"""``Tensor``: the NumPy-backed engine with PyTorch's autograd semantics.

This file holds what makes a Tensor a graph node (construction, conversion, ``backward``, the engine's
node protocol). The operations are defined, beside their primitives, in the op-family files under
``ops/`` and inherited from the method classes there: ``help(Tensor)`` lists them all.

Construction policy: Python floats and (nested) lists become ``float32``; NumPy float arrays keep
``float32``/``float64``; integer and bool data keep their dtype and cannot require grad. Operations
follow NumPy 2's type promotion (a Python float does not upcast ``float32``).
"""
import numpy as np

from .dtypes import as_dtype, to_array
from .engine import FREED, run_backward
from .ops._util import operand
from .ops.elementwise import ElementwiseMethods
from .ops.linalg import LinalgMethods
from .ops.reduce import ReduceMethods
from .ops.scan import ScanMethods
from .ops.shape import ShapeMethods
from .ops.sort import SortMethods
from .primitive import TensorBase, sum_to

_new = object.__new__


class Tensor(ElementwiseMethods, ReduceMethods, ScanMethods, SortMethods, ShapeMethods, LinalgMethods,
             TensorBase):
    """An n-dimensional array that records operations for backpropagation.

    ``Tensor(data, requires_grad=False, dtype=None)``. ``.data`` is the ``np.ndarray``; ``.grad`` a
    ``Tensor`` or ``None``; only leaves (and tensors that called ``retain_grad()``) keep ``.grad``.
    """

    __slots__ = ("_data", "grad", "requires_grad", "label", "_prev", "_fn", "_retains_grad",
                 "_deps", "_g", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators (ndarray * Tensor -> Tensor)
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
        return t

    def _constant(self, x):
        """``x`` (a number, array or list) as a Tensor constant beside this one (numbers take its dtype)."""
        return operand(x, self)

    # -- attributes ------------------------------------------------------------------------------
    @property
    def data(self):
        """The NumPy array this tensor holds (shared)."""
        return self._data

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

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
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        """The elements as nested Python lists."""
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the array (as ``dtype`` when given)."""
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
        """A new leaf sharing this tensor's data, without gradient history."""
        return Tensor._wrap(self._data)

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
        run_backward([self], [self._root_grad(gradient, create_graph)], retain_graph or create_graph,
                     create_graph)

    def _root_grad(self, gradient, create_graph):
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this tensor "
                                   f"has shape {self.shape}: pass backward(gradient=...)")
            g = np.ones_like(self._data)
        else:
            g = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient, dtype=self.dtype)
            if g.shape != self.shape:
                raise RuntimeError(f"gradient has shape {g.shape} but the output has shape {self.shape}")
            if g.dtype != self.dtype:
                g = g.astype(self.dtype)
        if create_graph:
            return gradient if isinstance(gradient, Tensor) and gradient.dtype == self.dtype \
                else Tensor._wrap(g)
        return g

    def _vjp(self, g, create_graph):
        """Gradients for the parents, summed back to each parent's shape: the one unbroadcast."""
        prev = self._prev
        if create_graph:
            if not isinstance(g, Tensor):
                g = Tensor._wrap(g)
            grads = self._fn.backward(g, self, *prev)
        else:
            if isinstance(g, Tensor):
                g = g._data
            n = len(prev)  # 0 for a freed graph: the general call below raises the clear error
            if n == 1:
                grads = self._fn.backward(g, self._data, prev[0]._data)
            elif n == 2:
                grads = self._fn.backward(g, self._data, prev[0]._data, prev[1]._data)
            else:
                grads = self._fn.backward(g, self._data, *[p._data for p in prev])
        out = []
        for p, pg in zip(prev, grads):
            if pg is None or not p.requires_grad:
                out.append(None)
                continue
            d = p._data
            if pg.shape != d.shape:
                pg = sum_to(pg, d.shape)
            if pg.dtype is not d.dtype and pg.dtype != d.dtype:
                pg = pg.to(d.dtype) if isinstance(pg, Tensor) else pg.astype(d.dtype)
            out.append(pg)
        return out

    def _accumulate(self, g):
        if not self.requires_grad or (self._fn is not None and not self._retains_grad):
            return
        if isinstance(g, Tensor):  # create_graph: the gradient keeps its graph
            self.grad = g if self.grad is None else self.grad + g
            return
        if self.grad is None:
            # a fresh copy: the array may be shared with another gradient, a view, or the user's
            if type(g) is np.ndarray and g.dtype is self._data.dtype:
                self.grad = Tensor._wrap(g.copy(order="K"))
            else:
                self.grad = Tensor._wrap(np.array(g, dtype=self._data.dtype, copy=True))
        else:
            self.grad = Tensor._wrap(self.grad._data + g)

    def _release(self):
        self._prev = FREED
        self._fn.release()

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




def tensor(data, requires_grad=False, dtype=None):
    """Same as ``Tensor(data, requires_grad, dtype)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
