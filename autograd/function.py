"""``autograd.Function``: an op with a hand-written backward, torch's ``torch.autograd.Function``.

    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    y = Cube.apply(x)

Each subclass gets a node class ``<Name>Backward`` (a ``Primitive``): its instance is both the ``ctx``
and ``y.grad_fn``, as in torch, and ``Function.apply`` records it through ``Primitive.apply``, the one
place that records nodes. The node's ``forward`` runs the user's forward on the Tensors themselves with
grad mode off; its ``backward`` runs the user's backward on Tensors wrapping the upstream gradients, with
grad mode on under ``create_graph=True``: a backward written with Tensor operations is then recorded,
so gradients of gradients come for free (torch's double backward through a custom op).

chainrule's nodes have one output each, torch's several: an op with two or more differentiable outputs
records one node whose output is all of them, flattened and concatenated (drawn as "<Name> outputs"),
and each output is a ``<Name>[k]`` node reading its part, so ``backward`` runs once with every gradient.
"""
import inspect
import weakref

import numpy as np

from .grad_mode import _state as _grad_state
from .grad_mode import no_grad, set_grad_enabled
from .ops.shape import IndexAdd
from .primitive import Primitive, call
from .tensor import Tensor, _version_error
from .value import Value

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """What ``forward`` tells ``backward``: ``save_for_backward``, the ``mark_*`` calls, any attribute
    (``ctx.k = 3``); ``needs_input_grad`` is a tuple of bools, one per argument of ``forward``."""

    _saved = ()
    _saved_versions = ()
    _saved_outputs = ()      # per saved tensor: None, or (k, a weak reference to the node output k became)
    _non_differentiable = ()
    _dirty = ()
    _materialize = True
    needs_input_grad = ()

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (Tensors or None) for ``backward``, which reads them as ``ctx.saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._saved = tensors

    @property
    def saved_tensors(self):
        """The tensors ``save_for_backward`` kept (an output as the graph node it became); raises torch's
        error when one was changed in place since."""
        out = []
        for i, t in enumerate(self._saved):
            if t is None:
                out.append(None)
                continue
            output = self._saved_outputs[i] if self._saved_outputs else None
            if t._version != self._saved_versions[i]:
                _version_error(t, f"saved tensor {i}" if output is None else f"output {output[0]}", self,
                               self._saved_versions[i])
            node = output and output[1]()
            out.append(node if node is not None else t)
        return tuple(out)

    def mark_non_differentiable(self, *tensors):
        """These outputs do not require grad (``backward`` still gets a gradient for each: zeros)."""
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        """These inputs were changed in place by ``forward`` and are returned: they become its outputs."""
        self._dirty = tensors

    def set_materialize_grads(self, value):
        """``False``: ``backward`` gets ``None`` instead of zeros for an output that got no gradient."""
        self._materialize = bool(value)


class BackwardFunction(FunctionCtx, Primitive):
    """The node of a custom op (``<Name>Backward``); its instance is the op's ``ctx``.

    ``Primitive.apply`` calls ``forward`` with the inputs' arrays; the user's forward gets the Tensors
    (``self._args``). The saved tensors are checked when ``backward`` reads them, as torch does.
    """

    saves_inputs = False
    _function = None  # the user's Function subclass
    _shapes = ()      # per forward argument: a Tensor's shape, or None for a non-tensor argument
    _parts = {}       # with several differentiable outputs: output k -> its slice of the node's array
    _positions = ()   # the positions of forward's parameters, which the class's ``formulas`` describe
    formulas = ()     # the explorer's (text, fn) per Tensor input (a call with non-tensor arguments: its own)

    def forward(self, *arrays):
        """The user's forward, grad mode off; the array of the node's output (see ``_primary_array``)."""
        args, kwargs = self._args, self._kwargs
        del self._args, self._kwargs  # keep no reference to the arguments
        with no_grad():
            self._result = self._function._forward(self, args, kwargs)
        self._shapes = tuple(a.shape if isinstance(a, Tensor) else None for a in args)
        positions = tuple(i for i, shape in enumerate(self._shapes) if shape is not None)
        if positions != self._positions:  # the class's formulas assume every parameter is a Tensor
            self.formulas = _formulas(self.name, positions)
        self._inputs = args
        return self._primary_array()

    def _outputs(self):
        """The forward's outputs as a tuple."""
        return self._result if isinstance(self._result, tuple) else (self._result,)

    def _primary_array(self):
        """One differentiable output: its array; several: all of them flattened and concatenated."""
        outs = self._outputs()
        inputs = self._inputs
        for t in self._dirty:
            if not any(t is o for o in outs) or not any(t is a for a in inputs):
                raise RuntimeError(
                    "Some elements marked as dirty during the forward method were not returned as output. "
                    "The inputs that are modified inplace must all be outputs of the Function.")
        self._diff = tuple(k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.dtype.kind == "f"
                           and not any(o is t for t in self._non_differentiable))
        if len(self._diff) == 1:
            return outs[self._diff[0]]._data
        return np.concatenate([outs[k]._data.reshape(-1) for k in self._diff]) if self._diff else np.zeros(0)

    def _finish(self, node, consumed):
        """What ``apply`` returns: the forward's outputs, the differentiable ones as graph nodes."""
        outs = list(self._outputs())
        for k, o in enumerate(outs):
            if isinstance(o, Tensor) and k not in self._diff and o.requires_grad:
                outs[k] = o.detach()  # a non-differentiable output never requires grad
        if len(self._diff) == 1:
            outs[self._diff[0]] = self._adopt(node, node, outs[self._diff[0]], consumed)
        elif self._diff:
            node.label = f"{self.name} outputs"
            self._parts, start = {}, 0
            for k in self._diff:
                o = outs[k]
                self._parts[k] = index = slice(start, start + o._data.size)
                part = OutputPart.apply(node, name=f"{self.name}[{k}]", part=k, ctx=self, value=o._data,
                                        index=index)
                outs[k] = self._adopt(part, node, o, consumed)
                start = index.stop
        self._received = set()
        self._record_saved(outs)
        del self._inputs
        return tuple(outs) if isinstance(self._result, tuple) else outs[0]

    def _adopt(self, node, primary, t, consumed):
        """The graph node for output ``t``: ``node``, sharing ``t``'s version counter; a dirty input ``t``
        itself becomes the node (its old node goes in its place among the parents of ``primary``)."""
        if not any(t is d for d in self._dirty):
            node._vcount = t._counter()
            return node
        if t.requires_grad and t._fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        if id(t) in consumed:
            raise RuntimeError(
                f"chainrule can not change in place a tensor that requires grad after a recorded operation "
                f"used it (here an input of {self.name} of shape {list(t.shape)} marked dirty): torch "
                "rewires the graph, chainrule does not: return a new tensor instead")
        old = t._snapshot()
        primary._prev = tuple(old if p is t else p for p in primary._prev)
        t._fn, t._prev, t.requires_grad = node._fn, node._prev, True
        return t

    def _record_saved(self, outs):
        """The saved tensors' versions now (the check in ``saved_tensors``), and which of them are outputs
        (``saved_tensors`` gives those as their graph nodes, as torch, for second order through them)."""
        self._saved_versions = tuple(0 if t is None else t._version for t in self._saved)
        forward_outs = self._outputs()
        nodes = []
        for t in self._saved:
            k = next((k for k in self._diff if forward_outs[k] is t), None)
            is_input = any(t is a for a in self._inputs)
            nodes.append(None if k is None or is_input or outs[k] is t else (k, weakref.ref(outs[k])))
        self._saved_outputs = tuple(nodes)

    def backward(self, g, out, *inputs):
        """The user's backward: one gradient per Tensor input (arrays; Tensors under ``create_graph``)."""
        create_graph = isinstance(g, Tensor)
        grad_outputs = self._grad_outputs(g if create_graph else Tensor._wrap(g))
        with set_grad_enabled(create_graph):
            grads = self._function._backward(self, *grad_outputs)
        return self._checked(grads, create_graph)

    def _grad_outputs(self, g):
        """One gradient per forward output, from the node's gradient ``g`` (a Tensor)."""
        grads = []
        for k, o in enumerate(self._outputs()):
            if not isinstance(o, Tensor):
                grads.append(None)
            elif self._diff == (k,):
                grads.append(g)
            elif k in self._parts and (self._materialize or k in self._received):
                grads.append(g[self._parts[k]].reshape(o.shape).to(o.dtype))
            else:  # a non-differentiable output, or one no gradient reached (set_materialize_grads(False))
                grads.append(Tensor._wrap(np.zeros(o.shape, o.dtype)) if self._materialize else None)
        self._received = set()
        return grads

    def _checked(self, grads, create_graph):
        """The user's gradients checked as torch checks them, one per Tensor input."""
        if not isinstance(grads, tuple):
            grads = (grads,)
        name, n = type(self).__name__, len(self._shapes)
        if len(grads) < n or any(gr is not None for gr in grads[n:]):
            raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected {n}, "
                               f"got {len(grads)})")
        result = []
        for i, (shape, gr) in enumerate(zip(self._shapes, grads)):
            if shape is None:
                if gr is not None:
                    raise RuntimeError(f"function {name} returned a gradient different than None at position "
                                       f"{i + 1}, but the corresponding forward input was not a Variable")
                continue
            if gr is not None:
                if not isinstance(gr, Tensor):
                    raise RuntimeError(f"expected Variable or None (got {type(gr).__name__})")
                if not _expandable(shape, gr.shape):
                    raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - got "
                                       f"{list(gr.shape)} but expected shape compatible with {list(shape)}")
                if not create_graph:
                    gr = gr._data
            result.append(gr)
        return result


class OutputPart(Primitive):
    """Output ``part`` of a custom op with several differentiable outputs: its array ``value``, read from
    the node holding all of them (at ``index``, a slice of that flat array)."""

    name = ""  # each is named for its op and output (``Two[0]``)
    saves_inputs = False
    formulas = (("g flattened into zeros {s0} at this output's slice", lambda s: call(
        IndexAdd, np.ravel(s.g), shape=s.a.shape, index=s.fn.index, dtype=s.a.dtype)),)

    def forward(self, flat):
        return self.value

    def backward(self, g, out, flat):
        self.ctx._received.add(self.part)  # for set_materialize_grads(False): this output got a gradient
        return (call(IndexAdd, g.reshape(-1), shape=flat.shape, index=self.index, dtype=flat.dtype),)


def _expandable(shape, grad_shape):
    """True when ``shape`` broadcasts to ``grad_shape`` (the engine then sums the gradient back)."""
    if shape == grad_shape:
        return True
    try:
        return np.broadcast_shapes(tuple(shape), tuple(grad_shape)) == tuple(grad_shape)
    except ValueError:
        return False


def _formulas(name, positions):
    """The explorer's formula for each Tensor input (``positions``: where each is among the arguments):
    the user's backward, run on the step's numbers (``s.fn`` the node, ``s.g`` its gradient)."""
    return tuple((f"{name}.backward(ctx, g)[{i}]", _rerun(slot)) for slot, i in enumerate(positions))


def _rerun(slot):
    def gradient(s):
        node = s.fn
        node._received = set(node._parts)  # every output's part of s.g, zeros where none arrived
        gr = node.backward(np.asarray(s.g), None)[slot]
        return np.zeros([sh for sh in node._shapes if sh is not None][slot]) if gr is None else gr
    return gradient


def _parameter_positions(forward, with_ctx):
    """The positions of ``forward``'s positional parameters (after ``ctx``); none for ``*args``."""
    try:
        params = list(inspect.signature(forward).parameters.values())[1 if with_ctx else 0:]
    except (TypeError, ValueError):
        return ()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return () if any(p.kind == p.VAR_POSITIONAL for p in params) else tuple(
        i for i, p in enumerate(params) if p.kind in kinds)


class Function:
    """Base class of a custom op: static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    (or ``forward(*args)`` with ``setup_context(ctx, inputs, output)``); call it as ``MyOp.apply(*args)``.

    ``backward`` gets one gradient per output of ``forward`` and returns one per argument (``None``:
    no gradient; a non-tensor argument must get ``None``).
    """

    _backward_cls = BackwardFunction

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        positions = _parameter_positions(cls.forward, not cls._has_setup_context())
        cls._backward_cls = type(f"{cls.__name__}Backward", (BackwardFunction,), {
            "name": cls.__name__, "_function": cls, "__module__": cls.__module__,
            "_positions": positions, "formulas": _formulas(cls.__name__, positions),
            "__doc__": f"The node of the custom op ``{cls.__qualname__}``; its instance is the op's ctx."})

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style "
            "autograd function with static forward method: MyOp.apply(...)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """The op on Tensors (grad mode is off); returns a Tensor or a tuple."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """With a ``forward`` without ``ctx``: save what ``backward`` needs from ``inputs`` and ``output``."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """One gradient per output in, one per argument of ``forward`` out (``None`` for none)."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op; record it when grad mode is on and a Tensor argument requires grad."""
        if cls is Function:
            raise RuntimeError("Function.apply: subclass autograd.Function and call MyOp.apply(...)")
        if any(isinstance(a, Value) for a in (*args, *kwargs.values())):
            raise TypeError(f"{cls.__name__}.apply: autograd.Function works on Tensors, not on Values "
                            "(wrap the numbers in autograd.Tensor)")
        if kwargs or cls._has_setup_context():
            args, kwargs = cls._bind(args, kwargs)
        tensors = [a for a in args if isinstance(a, Tensor)]
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)  # grad mode aside, as torch
        node_cls = cls._backward_cls
        if True not in needs or not _grad_state.enabled:
            ctx = node_cls()
            ctx.needs_input_grad = needs
            with no_grad():
                return cls._forward(ctx, args, kwargs)
        consumed = {id(t) for t in tensors if t._consumed}
        node = node_cls.apply(*tensors, _args=args, _kwargs=kwargs, needs_input_grad=needs)
        return node._fn._finish(node, consumed)

    @classmethod
    def _has_setup_context(cls):
        return cls.setup_context is not Function.setup_context

    @classmethod
    def _bind(cls, args, kwargs):
        """Keyword arguments bound to their positions (and, with ``setup_context``, defaults), as torch."""
        sig = inspect.signature(cls.forward)
        if not cls._has_setup_context():
            sig = sig.replace(parameters=list(sig.parameters.values())[1:])  # without ctx
        bound = sig.bind(*args, **kwargs)
        if cls._has_setup_context():
            bound.apply_defaults()
        return bound.args, bound.kwargs

    @classmethod
    def _forward(cls, ctx, args, kwargs):
        """The user's forward (and ``setup_context``) with ``ctx``."""
        if not cls._has_setup_context():
            return cls.forward(ctx, *args, **kwargs)
        output = cls.forward(*args, **kwargs)
        cls.setup_context(ctx, args, output)
        return output

    @classmethod
    def _backward(cls, ctx, *grad_outputs):
        """The user's ``backward`` (or ``vjp``)."""
        if cls.vjp is Function.vjp:
            return cls.backward(ctx, *grad_outputs)
        if cls.backward is not Function.backward:
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not allowed. "
                               "You should only implement one of them.")
        return cls.vjp(ctx, *grad_outputs)

