"""Primitives of the tensor engine: the base class, the one ``apply``, ``call`` and ``sum_to``.

A primitive is a ``Primitive`` subclass with two methods side by side, in the file of its op family
(``autograd/ops/``):
  ``forward(*arrays) -> array``           NumPy arrays in, a fresh NumPy array out
  ``backward(g, out, *inputs) -> grads``  one gradient per input (``None`` for no gradient)
``backward`` is written once, with operators and ``call(OtherPrimitive, ...)``: a plain ``backward()``
runs it on arrays (fast), ``create_graph=True`` runs it on Tensors, so it is recorded and gradients of
gradients come for free. A gradient may have the broadcast shape of the output: the engine sums it back
to the input's shape with ``sum_to``, the one place broadcasting is undone.

This module knows Tensors only through ``TensorBase`` (the class every Tensor derives from), so the op
files can import it without importing ``tensor.py``, which imports them.
"""
import numpy as np

from .grad_mode import _state as _grad_state

_new = object.__new__


class TensorBase:
    """The base of ``Tensor``: lets primitives and ops recognise a Tensor without importing it."""

    __slots__ = ()


# How many in-place changes any tensor's data has seen (``inplace.mark_changed`` counts them). A node
# records the count (``Primitive._changes``); if it is the same at backward, nothing the rule saved can
# have changed, and the version check is skipped (it costs ~5% of a small MLP's step).
CHANGES = [0]

# ``needs`` when every input requires grad (a plain tuple: indexing it costs no Python call)
ALL_NEEDED = (True,) * 64


class Primitive:
    """Base class of primitives; non-tensor arguments (``dim``, ``shape``...) are attributes.

    ``self.needs[i]`` tells a rule whether input ``i`` requires grad, so it can skip work nobody wants
    (an unneeded gradient may be returned as ``None``). Class attributes say what the rule reads, so
    that a tensor changed in place after it was saved is caught (torch's version check):
    ``saves_inputs`` (the rule reads its inputs), ``saves_output`` (it reads its output), and
    ``is_view`` (the output shares the input's memory, and so its version counter). ``fresh_grads``:
    each gradient the plain rule returns is a new array or a view of one, never an input, the output,
    ``g`` or another gradient (a leaf then keeps it as its ``.grad`` without the check for that).
    """

    name = ""
    needs = ALL_NEEDED
    saves_inputs = True
    saves_output = False
    is_view = False
    fresh_grads = False
    _changes = None     # CHANGES[0] when recorded (None: unknown, always check)
    _versions = None    # the saved inputs' versions when recorded (None: all 0)
    _out_version = 0    # the output's version when recorded

    def __init__(self, **attrs):
        self.__dict__.update(attrs)

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run ``forward`` on the Tensors' arrays; record a node when grad mode is on and an input
        requires grad. The one place that decides what is recorded."""
        # The hot path of every operation: the common arities are spelled out, and the instance is made
        # without a call to the base __init__ (it only stores attrs).
        if cls.__init__ is _base_init:
            fn = _new(cls)
            if attrs:
                fn.__dict__.update(attrs)
        else:
            fn = cls(**attrs)
        a = inputs[0]
        n = len(inputs)
        if n == 1:
            out = fn.forward(a._data)
            if a.requires_grad and _grad_state.enabled:
                fn._changes = CHANGES[0]
                a._consumed = True
                if a._vcount and cls.saves_inputs:
                    fn._versions = (a._vcount[0],)
                t = a._node(out, fn, inputs)
            else:
                t = a._wrap(out)
        elif n == 2:
            b = inputs[1]
            out = fn.forward(a._data, b._data)
            ra, rb = a.requires_grad, b.requires_grad
            if (ra or rb) and _grad_state.enabled:
                fn._changes = CHANGES[0]
                if not (ra and rb):
                    fn.needs = (ra, rb)
                a._consumed = ra
                b._consumed = rb
                if (a._vcount or b._vcount) and cls.saves_inputs:
                    fn._versions = (a._vcount[0] if a._vcount else 0, b._vcount[0] if b._vcount else 0)
                return a._node(out, fn, inputs)
            return a._wrap(out)
        elif n == 3:  # linear(x, W, b), where(cond, a, b): the generic path below costs ~5 k more
            b, c = inputs[1], inputs[2]
            out = fn.forward(a._data, b._data, c._data)
            ra, rb, rc = a.requires_grad, b.requires_grad, c.requires_grad
            if (ra or rb or rc) and _grad_state.enabled:
                fn._changes = CHANGES[0]
                if not (ra and rb and rc):
                    fn.needs = (ra, rb, rc)
                a._consumed, b._consumed, c._consumed = ra, rb, rc
                va, vb, vc = a._vcount, b._vcount, c._vcount
                if (va or vb or vc) and cls.saves_inputs:
                    fn._versions = (va[0] if va else 0, vb[0] if vb else 0, vc[0] if vc else 0)
                return a._node(out, fn, inputs)
            return a._wrap(out)
        else:
            out = fn.forward(*[t._data for t in inputs])
            needs = [t.requires_grad for t in inputs] if _grad_state.enabled else ()
            if True in needs:
                fn._changes = CHANGES[0]
                if False in needs:
                    fn.needs = needs
                for x in inputs:
                    if x.requires_grad:
                        x._consumed = True
                if cls.saves_inputs:
                    for x in inputs:
                        if x._vcount:
                            fn._versions = tuple([v[0] if (v := y._vcount) else 0 for y in inputs])
                            break
                return a._node(out, fn, inputs)
            return a._wrap(out)
        if fn.is_view:
            t._vcount = a._counter()
        return t

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, g, out, *inputs):
        raise NotImplementedError

    def __repr__(self):
        return f"<{self.name}>"


_base_init = Primitive.__init__


def call(prim, *args, **attrs):
    """Run primitive ``prim`` on arrays (its ``forward``), or on Tensors as a recorded op (``apply``).

    This is how a backward rule uses another primitive: the same line serves the plain backward
    (arrays) and ``create_graph=True`` (Tensors). Arrays and numbers next to a Tensor are constants.
    """
    for like in args:
        if isinstance(like, TensorBase):
            return prim.apply(*[x if isinstance(x, TensorBase) else like._constant(x) for x in args], **attrs)
    if prim.__init__ is not _base_init:
        return prim(**attrs).forward(*args)
    fn = _new(prim)  # as in apply: no call to the base __init__ on the hot path
    if attrs:
        fn.__dict__.update(attrs)
    return fn.forward(*args)


def array(x):
    """The NumPy array of a Tensor, or ``x`` itself (masks and indices in rules are constants)."""
    return x._data if isinstance(x, TensorBase) else x


def sum_to(x, shape):
    """Sum ``x`` (array or Tensor) over the dimensions broadcasting added or stretched to reach
    ``shape``: the one place where broadcasting is undone."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    is_array = not isinstance(x, TensorBase)
    if is_array and lead > 0 and x.shape[lead:] == shape:  # a bias: sum the batch
        return np.add.reduce(x, axis=0 if lead == 1 else tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    if not is_array:
        return x.sum(dim=axes, keepdim=True).reshape(shape) if axes else x.reshape(shape)
    return np.add.reduce(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)
