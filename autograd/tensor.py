"""``Tensor``: the NumPy-backed engine with PyTorch's autograd semantics.

Construction policy: Python floats and (nested) lists become ``float32``; NumPy float arrays keep
``float32``/``float64``; integer and bool data keep their dtype and cannot require grad. Operations
follow NumPy 2's type promotion (a Python float does not upcast ``float32``).
"""
import numpy as np

from . import function
from .engine import FREED, run_backward

_new = object.__new__
_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32,
           "bool": np.bool_, "float": np.float32, "double": np.float64, "long": np.int64}


def _freed_backward(*args):
    raise RuntimeError("Trying to backward through the graph a second time: the first backward() "
                       "freed it; pass retain_graph=True to it")


class _Freed(function.Function):
    name = "freed"
    backward = staticmethod(_freed_backward)


_FREED_FN = _Freed()


def as_dtype(dtype):
    """NumPy dtype for ``dtype`` (a NumPy dtype or one of the strings "float32", "float64", ...)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)}")
        return np.dtype(_DTYPES[dtype])
    return np.dtype(dtype)


def _to_array(data, dtype=None):
    """A fresh array following the construction policy (the caller's data is never shared)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (np.ndarray, np.generic)):  # NumPy data (np.float64(2.0) too) keeps its dtype
        arr = np.array(data, dtype=dtype, copy=True)
    else:
        try:
            arr = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot make a Tensor from {type(data).__name__}: {e}") from None
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"Tensor data must be numeric, got dtype {arr.dtype} from {type(data).__name__}")
    if arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    return arr


class Tensor:
    """An n-dimensional array that records operations for backpropagation.

    ``Tensor(data, requires_grad=False, dtype=None)``. ``.data`` is the ``np.ndarray``; ``.grad`` a
    ``Tensor`` or ``None``; only leaves (and tensors that called ``retain_grad()``) keep ``.grad``.
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_prev", "_fn", "_retains_grad",
                 "_deps", "_g", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators (ndarray * Tensor -> Tensor)
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None, label=""):
        self.data = _to_array(data, as_dtype(dtype))
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
        t.data = array if type(array) is np.ndarray else np.asarray(array)  # NumPy returns scalars for 0-d
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
        t.data = array if type(array) is np.ndarray else np.asarray(array)
        t.grad = None
        t.requires_grad = True
        t.label = ""
        t._prev = inputs
        t._fn = fn
        t._retains_grad = False
        t._deps = None
        return t

    # -- attributes ------------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    def dim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        return self._fn is None

    @property
    def _op(self):
        """Name of the operation that made this tensor (``""`` for a leaf)."""
        return "" if self._fn is None else self._fn.name

    @property
    def grad_fn(self):
        return self._fn

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    # -- conversion --------------------------------------------------------------------------------
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad; use "
                               "tensor.detach().numpy()")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, "
                            f"got {self.dtype} shape {self.shape}")
        return int(self.data.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with shape {self.shape} is ambiguous")
        return bool(self.data.item())

    __hash__ = object.__hash__

    # -- autograd --------------------------------------------------------------------------------
    def detach(self):
        """A new leaf sharing this tensor's data, without gradient history."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind != "f":
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
            if self.data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; this tensor "
                                   f"has shape {self.shape}: pass backward(gradient=...)")
            g = np.ones_like(self.data)
        else:
            g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient, dtype=self.dtype)
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
                g = g.data
            n = len(prev)  # 0 for a freed graph: the general call below raises the clear error
            if n == 1:
                grads = self._fn.backward(g, self.data, prev[0].data)
            elif n == 2:
                grads = self._fn.backward(g, self.data, prev[0].data, prev[1].data)
            else:
                grads = self._fn.backward(g, self.data, *[p.data for p in prev])
        out = []
        for p, pg in zip(prev, grads):
            if pg is None or not p.requires_grad:
                out.append(None)
                continue
            d = p.data
            if pg.shape != d.shape:
                pg = function.sum_to(pg, d.shape)
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
            if type(g) is np.ndarray and g.dtype is self.data.dtype:
                self.grad = Tensor._wrap(g.copy(order="K"))
            else:
                self.grad = Tensor._wrap(np.array(g, dtype=self.data.dtype, copy=True))
        else:
            self.grad = Tensor._wrap(self.grad.data + g)

    def _release(self):
        self._prev = FREED
        self._fn = _FREED_FN

    def _as_grad(self, g, create_graph):
        if isinstance(g, Tensor):
            return g
        return Tensor._wrap(np.array(g, dtype=self.data.dtype, copy=True))

    # -- display ---------------------------------------------------------------------------------
    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extra += f", dtype={self.data.dtype}"
        if self._fn is not None:
            extra += f", grad_fn=<{self._fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"


function.Tensor = Tensor


def tensor(data, requires_grad=False, dtype=None):
    """Same as ``Tensor(data, requires_grad, dtype)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


from . import tensor_methods  # noqa: E402,F401  (operators and methods, defined with the ops)
