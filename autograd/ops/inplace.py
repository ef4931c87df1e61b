"""In-place operations with torch's rules: the ``_`` form of the elementwise ops (``add_``, ``mul_``,
``clamp_``, ``exp_``...), ``zero_ fill_ copy_ normal_ uniform_``, ``+= -= *= /=`` and ``t[idx] = v``.

- Outside grad mode (``no_grad``) or on a graph nobody differentiates, an in-place op writes into the
  tensor's array and bumps its version counter (shared with views and ``detach()``ed copies).
- A leaf that requires grad may change in place only under ``no_grad``; it stays a leaf.
- Otherwise the change is recorded: the tensor becomes the result's node, and the rule of the op that
  made it keeps its old value where it needs it (as torch saves it). A backward that needs a saved
  tensor changed since raises torch's "modified by an inplace operation" error.
- chainrule's own limitation: a tensor that requires grad and that a recorded op already used, or a
  view of such a tensor, cannot be changed in place in grad mode (torch rewires those graphs); a clear
  RuntimeError says so, never a wrong gradient.
"""
import numpy as np

from ..grad_mode import _state as _grad_state
from ..grad_mode import no_grad
from ..random import generator as _generator
from ..primitive import CHANGES, Primitive, TensorBase, call
from .elementwise import ElementwiseMethods as _E, Where
from ._util import _EXACT, category
from .shape import Index, _index_part


class IndexPut(Primitive):
    """A copy of ``a`` with ``v`` written at ``index`` (the out-of-place form of ``a[index] = v``)."""

    name = "index_put"
    saves_inputs = False

    def forward(self, a, v):
        out = a.copy()
        out[self.index] = v
        return out

    formulas = (("g with zeros where {1} was written", lambda s: _put_back(s)),
                ("g[index], summed to {s1}", lambda s: s.g[s.fn.index]))

    def backward(self, g, out, a, v):
        ga = call(IndexPut, g, np.zeros((), dtype=g.dtype), index=self.index) if self.needs[0] else None
        gv = call(Index, g, index=self.index) if self.needs[1] else None  # summed to v's shape by the engine
        return ga, gv


def mark_changed(*tensors):
    """Record that each tensor's array was changed in place outside ``Tensor``'s own ops (``nn.optim``
    updates the arrays directly): bumps its version, so a backward that saved the old value raises, as
    torch."""
    for t in tensors:
        v = t._vcount
        if v is None:
            t._vcount = [1]
        else:
            v[0] += 1
    CHANGES[0] += 1  # (the version check of every node recorded before now runs)


def foreach_add_grad_(tensors, alpha, work):
    """``t += alpha * t.grad`` in place for each of ``tensors`` that has a ``.grad`` (torch's
    ``_foreach_add_(params, grads, alpha=alpha)``; plain SGD's update, in one loop), through
    ``work(array)``, a work array of the array's shape and dtype (no allocation per step); the versions
    change as ``mark_changed``'s."""
    changed = []
    for t in tensors:
        g = t.grad
        if g is not None:
            a = t._data
            tmp = work(a)
            np.multiply(g._data, alpha, out=tmp)
            a += tmp
            changed.append(t)
    if changed:
        mark_changed(*changed)


def with_grads(tensors):
    """Three lists: the tensors of ``tensors`` whose ``.grad`` is set, their arrays and their gradients'
    arrays (shared: in-place changes are visible), for ``nn.optim``'s updates."""
    have, arrays, grads = [], [], []
    for t in tensors:
        g = t.grad
        if g is not None:
            have.append(t)
            arrays.append(t._data)
            grads.append(g._data)
    return have, arrays, grads


# the ops whose in-place form writes straight into the array when nothing is recorded (_untracked_ufunc)
_UFUNCS = {_E.__add__: np.add, _E.add: np.add, _E.__sub__: np.subtract, _E.sub: np.subtract,
           _E.__mul__: np.multiply, _E.mul: np.multiply}


def _inplace_method(name, doc):
    def method(self, *args, **kwargs):
        return self._inplace(getattr(type(self), name), *args, **kwargs)
    method.__name__ = name + "_"
    method.__qualname__ = f"InplaceMethods.{name}_"
    method.__doc__ = doc or f"In place: ``self`` becomes ``self.{name}(...)``; returns self."
    return method


def _fill(t, value):
    """``t``'s shape and dtype filled with ``value`` (a number or a Tensor, broadcast): the gradient of
    ``t`` is 0 and ``value`` gets the rest (a ``where`` that never picks ``t``)."""
    if not isinstance(value, TensorBase):
        value = t._constant(np.asarray(value, dtype=t.dtype))
    return Where.apply(t._constant(np.zeros(t.shape, dtype=bool)), t, value.to(t.dtype))


class InplaceMethods:
    """``Tensor``'s in-place operations (each returns ``self``; the shape and dtype never change)."""

    __slots__ = ()

    def _inplace(self, op, *args, **kwargs):
        """``self`` becomes ``op(self, *args, **kwargs)``, recorded when it must be."""
        ufunc = _UFUNCS.get(op)
        if ufunc is not None and len(args) == 1 and not kwargs and self._untracked_ufunc(ufunc, args[0]):
            return self
        grad_on = _grad_state.enabled
        if grad_on and self.requires_grad and self._fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        tracked = grad_on and (self.requires_grad or any(
            isinstance(a, TensorBase) and a.requires_grad for a in (*args, *kwargs.values())))
        if not tracked:
            with no_grad():
                out = op(self, *args, **kwargs)
            if out is NotImplemented:
                return NotImplemented
            self._write(out)
            return self
        if self._consumed:
            raise RuntimeError(
                f"chainrule can not change in place a tensor that requires grad after a recorded operation "
                f"used it (here a tensor of shape {list(self.shape)} made by {self._op or 'the user'}); "
                "torch rewires the graph, chainrule does not: use the out-of-place operation instead")
        if self._fn is not None and self._fn.is_view and self._prev[0].requires_grad:
            raise RuntimeError(
                f"chainrule can not change in place a view ({self._op}) of a tensor that requires grad "
                "(torch writes the gradient back through the view, chainrule does not): change the base "
                "tensor, or use out-of-place operations")
        old = self._snapshot()
        out = op(old, *args, **kwargs)
        if out is NotImplemented:
            return NotImplemented
        if out._fn is not None and out._fn.saves_inputs and any(p is old for p in out._prev) and not (
                old._fn is not None and old._fn.saves_output):
            # the rule reads the value before the change: keep it, as torch does (unless the op that made
            # it saved it as its output: then, as in torch, the version check raises at backward)
            old._data = old._data.copy()
            old._vcount = [self._version]
        self._write(out)
        if out._fn is not None:
            self._fn, self._prev, self.requires_grad = out._fn, out._prev, True
            if out._fn.saves_output:
                out._fn._out_version = self._version
        return self

    def _write(self, out):
        """Store ``out`` (broadcast, cast) into this tensor's array and bump its version."""
        arr = out._data if isinstance(out, TensorBase) else np.asarray(out)
        if arr.shape != self.shape:
            try:
                shape = np.broadcast_shapes(arr.shape, self.shape)
            except ValueError:
                shape = None
            if shape != self.shape:
                raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                                   f"{list(shape) if shape else list(arr.shape)}")
        if category(arr.dtype) > category(self.dtype):
            raise RuntimeError(f"result type {arr.dtype} can't be cast to the desired output type "
                               f"{self.dtype}")
        try:
            np.copyto(self._data, arr, casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"unsupported operation: this tensor of shape {list(self.shape)} is a read-only or expanded "
                "view (more than one element refers to a single memory location); .clone() it first"
            ) from None
        mark_changed(self)

    for _name in ("neg", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
                  "clamp", "pow", "mul", "div", "sub", "add"):
        locals()[_name + "_"] = _inplace_method(_name, None)
    del _name

    def _untracked_ufunc(self, ufunc, other):
        """``self = ufunc(self, other)`` written straight into ``self``'s array when nothing is recorded
        and no dtype or shape rule is involved (a float ``self``; ``other`` a Python number or a tensor
        of ``self``'s dtype and shape, or 0-d): ``+= -= *=`` and ``add_ sub_ mul_`` without ``alpha``, as
        the manual update ``p.data -= lr * p.grad``, without a temporary tensor and a copy (about 0.1 M
        instructions per small-MLP step). False otherwise."""
        d = self._data
        if d.dtype.kind != "f" or (_grad_state.enabled and self.requires_grad):
            return False
        if isinstance(other, TensorBase):
            b = other._data
            if b.dtype != d.dtype or (b.shape != d.shape and b.ndim) or (
                    _grad_state.enabled and other.requires_grad):
                return False
        elif not (type(other) is float or (type(other) is int and abs(other) <= _EXACT)):
            return False
        else:
            b = other
        if not d.flags.writeable:
            return False  # the general path names the read-only or expanded view
        ufunc(d, b, out=d)
        mark_changed(self)
        return True

    def __iadd__(self, other):
        """``self += other`` in place."""
        return self._inplace(_E.__add__, other)

    def __isub__(self, other):
        """``self -= other`` in place."""
        return self._inplace(_E.__sub__, other)

    def __imul__(self, other):
        """``self *= other`` in place."""
        return self._inplace(_E.__mul__, other)

    def __itruediv__(self, other):
        """``self /= other`` in place."""
        return self._inplace(type(self).__truediv__, other)

    def __ipow__(self, other):
        """``self **= other`` in place."""
        return self._inplace(type(self).__pow__, other)

    def zero_(self):
        """Fill with zeros in place; returns self."""
        return self._inplace(_fill, 0)

    def fill_(self, value):
        """Fill with ``value`` (a number or a one-element tensor) in place; returns self."""
        return self._inplace(_fill, value)

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape, cast to this dtype) in place; returns self."""
        if not isinstance(src, TensorBase):
            src = self._constant(np.asarray(src))
        return self._inplace(_fill, src.to(self.dtype) if src.dtype.kind == self.dtype.kind else src)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with samples of N(mean, std²) from ``autograd.manual_seed``'s generator; returns self."""
        values = (generator or _generator()).normal(mean, std, self.shape)
        return self._inplace(_fill, values.astype(self.dtype))

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with samples of U(a, b) from ``autograd.manual_seed``'s generator; returns self."""
        values = (generator or _generator()).uniform(a, b, self.shape)
        return self._inplace(_fill, values.astype(self.dtype))

    def __setitem__(self, index, value):
        """``self[index] = value`` (a number, array or Tensor, broadcast): in place, torch's rules."""
        index = tuple(_index_part(p) for p in index) if isinstance(index, tuple) else _index_part(index)
        if not isinstance(value, TensorBase):
            value = self._constant(value)
        grad_on = _grad_state.enabled
        if not (grad_on and (self.requires_grad or value.requires_grad)):
            if category(value.dtype) > category(self.dtype):
                raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                                   f"{self.dtype} for the destination and {value.dtype} for the source.")
            try:
                self._data[index] = value._data
            except IndexError as e:
                raise IndexError(f"index out of range for a tensor of shape {self.shape}: {e}") from None
            except ValueError as e:
                raise RuntimeError(f"shape mismatch: value of shape {value.shape} can not be written to "
                                   f"{self.shape}[index]: {e}") from None
            mark_changed(self)
            return
        self._inplace(lambda t, v: IndexPut.apply(t, v.to(t.dtype), index=index), value)


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _put_back(s):
    """``g`` with zeros where ``t[index] = v`` wrote."""
    z = s.g.copy()
    z[s.fn.index] = 0
    return z
