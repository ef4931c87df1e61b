"""Primitives of the tensor engine, and the one place where broadcasting is undone.

A primitive is a ``Function`` subclass with two methods side by side:
  ``forward(*arrays) -> array``           NumPy arrays in, NumPy array out
  ``backward(g, out, *inputs) -> grads``  one gradient per input (``None`` for no gradient)
``backward`` is written with operators and the helpers below, which accept NumPy arrays *or* Tensors:
a plain ``backward()`` runs it on arrays (fast), ``create_graph=True`` runs it on Tensors, so it is
recorded and gradients of gradients come for free. Gradients may have the broadcast shape of the
output: ``Tensor._vjp`` sums them back to each input's shape with ``sum_to``.
"""
import numpy as np

from .grad_mode import _state as _grad_state

_new = object.__new__
Tensor = None  # set by tensor.py (avoids an import cycle)


class _AllNeeded:
    """``needs`` of a node whose every input requires grad: ``needs[i]`` is True for any ``i``."""

    def __getitem__(self, i):
        return True

    def __repr__(self):
        return "ALL_NEEDED"


ALL_NEEDED = _AllNeeded()


class Function:
    """Base class of primitives; non-tensor arguments (``dim``, ``shape``...) are attributes.

    ``self.needs[i]`` tells a rule whether input ``i`` requires grad, so it can skip work nobody wants
    (``apply`` sets it when some inputs do not; an unneeded gradient may be returned as ``None``).
    """

    name = ""
    needs = ALL_NEEDED

    def __init__(self, **attrs):
        self.__dict__.update(attrs)

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run ``forward`` on the inputs' arrays; record the node when any input requires grad."""
        # The hot path of every operation: the common arities are spelled out, and the instance is made
        # without a call to the base __init__ (it only stores attrs).
        if cls.__init__ is _base_init:
            fn = _new(cls)
            if attrs:
                fn.__dict__.update(attrs)
        else:
            fn = cls(**attrs)
        n = len(inputs)
        if n == 1:
            a = inputs[0]
            out = fn.forward(a.data)
            if a.requires_grad and _grad_state["enabled"]:
                return Tensor._node(out, fn, inputs)
            return Tensor._wrap(out)
        if n == 2:
            a, b = inputs
            out = fn.forward(a.data, b.data)
            ra, rb = a.requires_grad, b.requires_grad
            if (ra or rb) and _grad_state["enabled"]:
                if not (ra and rb):
                    fn.needs = (ra, rb)
                return Tensor._node(out, fn, inputs)
            return Tensor._wrap(out)
        out = fn.forward(*[t.data for t in inputs])
        if _grad_state["enabled"]:
            needs = tuple(t.requires_grad for t in inputs)
            if any(needs):
                if not all(needs):
                    fn.needs = needs
                return Tensor._node(out, fn, inputs)
        return Tensor._wrap(out)

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, g, out, *inputs):
        raise NotImplementedError

    def __repr__(self):
        return f"<{self.name}>"


_base_init = Function.__init__


# -- helpers for backward rules: each takes NumPy arrays or Tensors --------------------------------
def is_tensor(x):
    return isinstance(x, Tensor)


def data(x):
    """The raw array (masks and indices in rules are constants, computed from data)."""
    return x.data if isinstance(x, Tensor) else x


def sum_to(x, shape):
    """Sum ``x`` over the dimensions NumPy broadcasting added or stretched to reach ``shape``."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead > 0 and x.shape[lead:] == shape and not isinstance(x, Tensor):  # a bias: sum the batch
        return np.add.reduce(x, axis=0 if lead == 1 else tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    if isinstance(x, Tensor):
        return x.sum(dim=axes, keepdim=True).reshape(shape) if axes else x.reshape(shape)
    return np.add.reduce(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


def broadcast_to(x, shape):
    if isinstance(x, Tensor):
        return x.expand(*shape)
    return np.broadcast_to(x, shape)


def where(cond, a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from .ops.elementwise import where as twhere
        return twhere(cond, a, b)
    return np.where(cond, a, b)


def swap_last(x):
    """Matrix transpose of the last two dimensions (batched)."""
    if isinstance(x, Tensor):
        return x.transpose(-1, -2)
    return np.swapaxes(x, -1, -2)


def reduce_sum(x, axes, keepdims):
    if isinstance(x, Tensor):
        return x.sum(dim=axes, keepdim=keepdims)
    return x.sum(axis=axes, keepdims=keepdims)


def unary(name, x):
    """``exp``, ``log``, ``sin``... of an array or a Tensor."""
    return getattr(x, name)() if isinstance(x, Tensor) else getattr(np, name)(x)
