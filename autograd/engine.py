"""The one backward algorithm, shared by ``Value`` and ``Tensor``.

A node is any object with:
  ``_prev``                       tuple of parent nodes, in operand order (empty for a leaf)
  ``_vjp(g, create_graph)``       gradients for each parent, given the gradient ``g`` of the node
  ``_accumulate(g)``              store ``g`` into ``.grad`` when the node keeps a gradient
  ``_release()``                  drop what the backward step saved (``retain_graph=False``) and
                                  make ``_prev`` a ``FreedParents``, the one marker of a freed graph
                                  (``FREED``, or a subclass that keeps the structure for drawing)
  ``_deps``, ``_g``              scratch slots this module uses during one backward pass
                                  (``_deps`` is ``None`` outside a pass)
Gradients are whatever the engine adds with ``+``: floats or arrays on the plain path, ``Value``s or
``Tensor``s when ``create_graph=True`` (then every rule is itself recorded, so gradients of gradients
come for free).

Order: Kahn's algorithm. A first sweep counts, for every node reachable from the roots, how many
edges lead into it; a node is processed once all its consumers have passed their gradient down.
Both sweeps use an explicit stack, so depth is limited by memory only, not by the recursion limit.
"""
from .grad_mode import _state as _grad_state


FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved values after they "
    "have already been freed): the first backward() freed them; pass retain_graph=True to it if you "
    "need to backward through the graph again")


class FreedParents:
    """A node's ``_prev`` after ``backward(retain_graph=False)`` freed its graph: iterating it (as a
    backward pass does) raises the one message, so a second pass fails before it changes anything;
    ``kept()`` gives what the node keeps of its parents (for drawing; nothing here, see ``Tensor``'s)."""

    __slots__ = ()

    def __iter__(self):
        raise RuntimeError(FREED_MESSAGE)

    def __bool__(self):
        return True

    def __getitem__(self, i):
        return self.kept()[i]

    def __len__(self):
        return len(self.kept())

    def kept(self):
        return ()


FREED = FreedParents()


class Freed:
    """The gradient rule of a node after backward freed what it saved: it keeps the op's ``name`` (so
    the graph can still be drawn) and raises the one message when called."""

    __slots__ = ("name",)
    saves_inputs = saves_output = is_view = False  # nothing saved is left to check

    def __init__(self, name="freed"):
        self.name = name

    @property
    def op(self):
        return self.name

    def backward(self, *args):
        raise RuntimeError(FREED_MESSAGE)

    __call__ = backward

    def __repr__(self):
        return f"<{self.name} (freed)>"


freed_rule = Freed()


def _count_dependencies(roots, nodes):
    """Count, for every node reachable from ``roots``, how many edges lead into it (iterative).

    Appends every node reached to ``nodes``, roots first, as it goes (so the caller can undo a sweep an
    error stopped half-way). Outside a backward pass a node's ``_deps`` is ``None``;
    the pass sets it to a count here and back to ``None`` when it processes (or abandons) the node.
    """
    for root in roots:
        if root._deps is None:
            root._deps, root._g = 0, None
            nodes.append(root)
    push = nodes.append
    for node in nodes:  # the list grows while we walk it: breadth first
        for parent in node._prev:
            if parent._deps is None:
                parent._deps, parent._g = 1, None
                push(parent)
            else:
                parent._deps += 1


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None):
    """Backpropagate ``root_grads`` from ``roots``.

    With ``inputs=None`` every node's ``_accumulate`` is called (``.backward()``); otherwise nothing is
    accumulated and the total gradient of each node in ``inputs`` is returned in a list
    (``None`` for an input the roots do not depend on), as ``autograd.grad`` needs.
    """
    nodes = []
    try:
        _count_dependencies(roots, nodes)
        for root, g in zip(roots, root_grads):
            root._g = g if root._g is None else root._g + g
        wanted = None
        if inputs is not None:
            wanted = {id(x): None for x in inputs}
        ready = []
        for root in roots:
            if root._deps == 0:
                root._deps = -1  # queued once even if listed twice
                ready.append(root)
        push = ready.append
        # grad mode is create_graph during the pass: set directly (a context manager object per
        # backward costs ~2 k instructions, 3% of one recorded op's backward)
        was_enabled, _grad_state.enabled = _grad_state.enabled, create_graph
        try:
            while ready:
                node = ready.pop()
                g, node._g, node._deps = node._g, None, None
                if g is None:  # no consumer sent a gradient: release the parents' counts
                    for parent in node._prev:
                        parent._deps -= 1
                        if parent._deps == 0:
                            push(parent)
                    if not retain_graph and node._prev:
                        node._release()
                    continue
                if wanted is None:
                    node._accumulate(g)
                elif id(node) in wanted:
                    wanted[id(node)] = g
                parents = node._prev
                if not parents:
                    continue
                grads = node._vjp(g, create_graph)
                for parent, pg in zip(parents, grads):
                    if pg is not None:
                        old = parent._g
                        parent._g = pg if old is None else old + pg
                    parent._deps -= 1
                    if parent._deps == 0:
                        push(parent)
                if not retain_graph:
                    node._release()
        finally:
            _grad_state.enabled = was_enabled
    except BaseException:
        for node in nodes:  # an error stopped us half-way: leave every node as it was found
            node._deps = node._g = None
        raise
    if wanted is not None:
        return [wanted[id(x)] for x in inputs]
    return None


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, like ``torch.autograd.grad``.

    Returns a tuple with one gradient per input (a ``Value`` or ``Tensor``); ``.grad`` attributes are not
    touched. With ``create_graph=True`` the gradients are part of a graph and can be differentiated again.
    """
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    if retain_graph is None:  # a Value graph is kept unless asked (as Value.backward); a Tensor graph freed
        retain_graph = create_graph or any(getattr(out, "_keeps_graph", False) for out in outputs)
    for i, x in enumerate(inputs):
        if not getattr(x, "requires_grad", True):
            raise RuntimeError(f"grad: input {i} does not require grad")
    root_grads = [out._root_grad(g, create_graph) for out, g in zip(outputs, grad_outputs)]
    found = run_backward(outputs, root_grads, retain_graph, create_graph, inputs)
    result = []
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} is not used to compute the outputs; pass allow_unused=True to get "
                "None for it")
        result.append(None if g is None else x._as_grad(g, create_graph))
    return tuple(result)
