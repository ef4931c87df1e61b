"""Watch backpropagation happen: ``backward_steps(root)``, ``explain(root)`` and ``explore(root)``.

``backward_steps`` replays the backward pass of ``root``'s graph one node at a time, in the engine's own
order (Kahn's algorithm from the root, last ready node first, as ``engine.run_backward``), without
touching any ``.grad``: for a ``Value`` graph each node's rule runs on copies of the numbers (its
``_vjp``), for a ``Tensor`` graph ``autograd.grad`` gives every node's total gradient. Each step carries
the local rule as a formula: a ``Value`` rule declares its partial derivatives beside itself in
``value.py`` (``_rule("tanh", "1 - o**2")``); a ``Tensor`` primitive declares its formulas beside its
``backward`` in ``autograd/ops/`` (``formulas = (("g ⊙ o", lambda s: s.g * s.o),)``: per input, the text
and its NumPy evaluation on the step's numbers; ``formulas_of`` finds them along the class's MRO).
Tests evaluate every formula on its step's numbers and compare with the engine's gradients.

``explore`` writes all this into one self-contained HTML page (graph, step slider, formula panel,
node inspector, forward mode); see ``explore_assets/`` for its script and style.
"""
import math
import re
from dataclasses import dataclass, field

import numpy as np

from .graph import _clusters, _walk
from .value import Value

__all__ = ["Step", "Rule", "formulas_of", "backward_steps", "explain", "explore", "Explorer"]


# -- steps --------------------------------------------------------------------------------------------
@dataclass
class Rule:
    """One edge of a step: the gradient the node sends to one parent, with its formula.

    ``local`` is the formula's value: d(node)/d(parent) for a ``Value``, the parent's gradient
    contribution (an array) for a ``Tensor``; ``contribution`` is what the engine sends along the edge
    (``None`` when the parent needs no gradient); ``grad_after`` the parent's running gradient after it.
    """

    parent: int
    name: str
    formula: str
    numbers: str
    local: object
    contribution: object
    grad_after: object
    accumulate: str


@dataclass
class Step:
    """The backward step at one node: its forward value, the gradient it received, its rules.

    ``node`` is the node's index in breadth-first order from the root (``draw_graph``'s ``v<i>``).
    """

    index: int
    node: int
    name: str
    op: str
    value: object
    grad: object
    forward: str
    rules: list = field(default_factory=list)

    def lines(self):
        """The step as text lines (what ``explain`` prints and the explorer's formula panel shows)."""
        out = [f"step {self.index + 1}: {self.name}" + (f" ({self.op})" if self.op else " (leaf)"),
               f"  forward  {self.forward}", f"  grad     {_paren(self.name)}.grad = {_show(self.grad)}"]
        if self.grad is None:
            out[-1] = f"  grad     no gradient flows into {self.name}"
        for r in self.rules:
            out.append(f"  rule     {r.formula}" + (f" = {r.numbers}" if r.numbers else ""))
            out.append(f"           {r.accumulate}")
        if not self.rules and self.grad is not None:
            out.append(f"  leaf     {self.name}.grad = {_show(self.grad)} (stays: nothing to pass on)")
        return out


def _engine_order(parents, roots=(0,)):
    """Node indices in the order ``engine.run_backward`` processes them (Kahn, LIFO, root first);
    ``roots``: the nodes ready at the start (the last one goes first)."""
    deps = [0] * len(parents)
    for ps in parents:
        for j in ps:
            deps[j] += 1
    order, ready = [], list(roots)
    while ready:
        i = ready.pop()
        order.append(i)
        for j in parents[i]:
            deps[j] -= 1
            if deps[j] == 0:
                ready.append(j)
    return order


def _names(nodes, params):
    """A display name per node: its ``params`` name, else its label, else ``v<i>``."""
    given = {}
    for name, p in (params or {}).items():
        given.setdefault(id(p), str(name))
    return [given.get(id(n)) or getattr(n, "label", "") or f"v{i}" for i, n in enumerate(nodes)]


def backward_steps(root, params=None):
    """The backward pass of ``root``'s graph as a list of ``Step`` s, in the engine's order.

    ``root`` is a ``Value`` or a ``Tensor`` (one element, or its gradient seeded with ones); ``params``
    maps names to leaves (``dict(model.named_parameters())``). No ``.grad`` is changed.
    """
    graph = _Graph(root, params)
    return graph.steps()


class _Graph:
    """The walked graph of ``root``: nodes (breadth-first), parent indices, names, engine order."""

    def __init__(self, root, params=None):
        self.is_value = isinstance(root, Value)
        if not self.is_value and not hasattr(root, "grad_fn"):
            raise TypeError(f"backward_steps needs a Value or a Tensor, got {type(root).__name__}")
        try:
            self.nodes, self.parents, self.ops = _walk(root)
        except RuntimeError as e:  # a freed graph: say it in our words
            raise RuntimeError(
                "backward_steps/explore: this graph was freed by backward(retain_graph=False); call them "
                "before backward(), or pass retain_graph=True to backward()") from e
        self.names = _names(self.nodes, params)
        self.order = _engine_order(self.parents)
        self.params = dict(params or {})

    def steps(self):
        return _value_steps(self) if self.is_value else _tensor_steps(self)


def _paren(name):
    return name if re.fullmatch(r"[\w.]+", name) else f"({name})"


def _num(x):
    """A number in a formula: 4 significant digits, ints without a point."""
    x = float(x)
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def _show(x):
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        if x.size == 1:
            return _num(x.ravel()[0])
        return f"{_shape(x.shape)} tensor, norm {_num(_norm(x))}"
    return _num(x)


# -- Value formulas ----------------------------------------------------------------------------------
_INFIX = {"+", "-", "*", "/", "**"}
_TOKEN = re.compile(r"\*\*|[<>=!]=|[A-Za-z_]\w*|\d+\.?\d*|\S")
_SPACED = {"+": " + ", "-": " − ", "*": " · ", "/": " / ", "if": " if ", "else": " else ", ">": " > ",
           "<": " < ", ">=": " ≥ ", "<=": " ≤ ", "==": " = "}


def _render(expr, env):
    """The expression ``expr`` typeset, its names replaced by ``env[name]`` (text: a name or a number;
    a negative number gets parentheses where it needs them)."""
    toks = _TOKEN.findall(expr)
    out = []
    for n, tok in enumerate(toks):
        prev = toks[n - 1] if n else None
        nxt = toks[n + 1] if n + 1 < len(toks) else None
        if tok in env:
            text = env[tok]
            alone = (prev == "(" and nxt == ")") or (prev is None and nxt != "**")
            out.append(f"({text})" if text.startswith("-") and not alone else text)
        elif tok == "**":
            out.append("^")
        elif tok == "-" and (prev is None or prev == "(" or prev in _SPACED):
            out.append("−")  # unary minus
        else:
            out.append(_SPACED.get(tok, tok))
    return re.sub(r"\^2(?![\d.])", "²", "".join(out))


def _evaluate(expr, env):
    """``expr`` evaluated on float64 numbers with IEEE results (our own rule strings, never user text)."""
    scope = {"__builtins__": {}, "log": np.log, "sign": np.sign, "exp": np.exp}
    scope.update({k: np.float64(v) for k, v in env.items()})
    with np.errstate(all="ignore"):
        return float(eval(expr, scope))  # noqa: S307 - the expressions are value.py's rule formulas


def _value_rule_env(node, parents):
    """Symbols of a Value rule: a, b (the parents), o (the output), k (a constant exponent)."""
    env = {"o": node.data}
    for sym, p in zip("ab", parents):
        env[sym] = p.data
    if node._op.startswith("**") and len(parents) == 1:
        env["k"] = node._b  # value.py keeps the constant exponent of ``**k`` in ``_b``
    return env


def _value_forward(g, i):
    """``o = tanh(n) = tanh(0.8814) = 0.7071`` for node ``i``."""
    node, name = g.nodes[i], g.names[i]
    ps = g.parents[i]
    if not ps:
        return f"{name} = {_num(node.data)} (a leaf)"
    pn = [_paren(g.names[j]) for j in ps]
    pv = [_num(g.nodes[j].data) for j in ps]
    op = g.ops[i]
    if op in _INFIX and len(ps) == 2:
        sym, num = f"{pn[0]} {op} {pn[1]}", f"{pv[0]} {op} {pv[1]}"
    elif op.startswith("**"):
        sym, num = f"{pn[0]}{op}", f"{pv[0]}{op}"
    elif op == "neg":
        sym, num = f"−{pn[0]}", f"−{pv[0]}"
    else:
        sym, num = f"{op}({', '.join(pn)})", f"{op}({', '.join(pv)})"
    return f"{name} = {sym} = {num} = {_num(node.data)}"


def _value_steps(g):
    """Replay the pass: each node's rule (its ``_vjp``, on floats) in the engine's order."""
    grads = {0: 1.0}
    steps = []
    for k, i in enumerate(g.order):
        node, gi = g.nodes[i], grads.get(i)
        step = Step(k, i, g.names[i], g.ops[i], node.data, gi, _value_forward(g, i))
        ps = g.parents[i]
        if ps and gi is not None:
            for slot, (j, pg) in enumerate(zip(ps, node._vjp(gi, False))):
                before = grads.get(j)
                grads[j] = pg if before is None else before + pg
                step.rules.append(_value_rule(g, i, slot, gi, pg, before, grads[j]))
        steps.append(step)
    return steps


def _value_rule(g, i, slot, gi, pg, before, after):
    """The ``Rule`` for the edge from node ``i`` to its parent number ``slot`` (which receives ``pg``)."""
    node, name, ps = g.nodes[i], g.names[i], g.parents[i]
    j = ps[slot]
    pname = g.names[j]
    partials = getattr(node._rule, "partials", ())
    d = f"∂{_paren(name)}/∂{_paren(pname)}"
    if slot >= len(partials):
        formula, numbers, local = f"{d} = ? (no formula declared for {g.ops[i]!r})", "", None
    else:
        env = _value_rule_env(node, [g.nodes[q] for q in ps])
        texts = {"o": _paren(name), "k": _num(env.get("k", 0))}
        texts.update({sym: _paren(g.names[q]) for sym, q in zip("ab", ps)})
        nums = {key: _num(v) for key, v in env.items()}
        expr = partials[slot]
        local = _evaluate(expr, env)
        symbolic, shown, value = _render(expr, texts), _render(expr, nums), _num(local)
        formula = f"{d} = {symbolic}"
        if shown.replace("−", "-") == value:  # nothing to work out: "1", "-1", "w1" = "-3"
            numbers = "" if symbolic == shown else value
        else:
            numbers = f"{shown} = {value}"
    lv = "?" if local is None else _num(local)
    acc = f"{_paren(pname)}.grad += {lv} × {_paren(name)}.grad = {lv} × {_num(gi)} = {_num(pg)}"
    if before is not None:
        acc += f"  (used again: {_num(before)} + {_num(pg)} = {_num(after)})"
    return Rule(j, pname, formula, numbers, local, pg, after, acc)


# -- Tensor formulas -----------------------------------------------------------------------------------
class _Ctx:
    """The numbers of one tensor step: ``g`` (incoming gradient), ``o`` (output), ``x`` (inputs), ``fn``."""

    def __init__(self, g, o, x, fn):
        self.g, self.o, self.x, self.fn = g, o, x, fn

    @property
    def a(self):
        return self.x[0]

    @property
    def b(self):
        return self.x[1]


def formulas_of(fn, arity):
    """The formulas of node ``fn`` with ``arity`` inputs: its class's ``formulas`` (inherited along the
    MRO; a node may carry its own, as a custom Function's call with non-tensor arguments), called with
    ``arity`` when it is a function of it; ``None`` when none is declared."""
    entry = getattr(fn, "formulas", None)
    return entry(arity) if callable(entry) else entry


def _unbroadcast(x, shape):
    """``x`` summed over the dimensions broadcasting added or stretched to reach ``shape``."""
    x = np.asarray(x)
    lead = x.ndim - len(shape)
    if lead > 0:
        x = x.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    return x.sum(axis=axes, keepdims=True) if axes else x


def _shape(shape):
    return "×".join(map(str, shape)) if len(shape) else "scalar"


def _array(t):
    return np.asarray(t.detach().numpy())


def _tensor_totals(g):
    """Every node's total gradient (``autograd.grad`` over all nodes that require grad), or None."""
    from . import grad  # the public autograd.grad: it touches no .grad
    root = g.nodes[0]
    if not root.requires_grad:
        raise RuntimeError("backward_steps: the root does not require grad, so there is no backward pass")
    wanted = [i for i, n in enumerate(g.nodes) if n.requires_grad]
    seed = None if int(np.prod(root.shape)) == 1 else np.ones(root.shape, dtype=root.dtype)
    found = grad(root, [g.nodes[i] for i in wanted], grad_outputs=seed, retain_graph=True,
                 allow_unused=True)
    totals = [None] * len(g.nodes)
    for i, t in zip(wanted, found):
        totals[i] = None if t is None else _array(t)
    return totals


def _tensor_forward(g, i):
    node, name, ps = g.nodes[i], g.names[i], g.parents[i]
    if not ps:
        kind = "parameter" if node.requires_grad else "data"
        return f"{name} = {kind} {_shape(node.shape)} {node.dtype}"
    args = ", ".join(_paren(g.names[j]) for j in ps)
    shapes = ", ".join(_shape(g.nodes[j].shape) for j in ps)
    return f"{name} = {g.ops[i]}({args})  ({shapes} → {_shape(node.shape)})"


def _tensor_steps(g):
    """The steps of a Tensor graph: the engine's totals, each edge's share from its formula."""
    totals = _tensor_totals(g)
    running = {}  # node -> the gradient the formulas sent it so far
    steps = []
    for k, i in enumerate(g.order):
        node, ps, gi = g.nodes[i], g.parents[i], totals[i]
        step = Step(k, i, g.names[i], g.ops[i], _array(node), gi, _tensor_forward(g, i))
        if ps and gi is not None:
            ctx = _Ctx(gi, step.value, [_array(g.nodes[j]) for j in ps], node.grad_fn)
            for slot, j in enumerate(ps):
                if g.nodes[j].requires_grad:
                    step.rules.append(_tensor_rule(g, i, slot, ctx, running))
        steps.append(step)
    return steps


def _tensor_rule(g, i, slot, ctx, running):
    """The ``Rule`` for the edge from node ``i`` to its parent number ``slot``; updates ``running``."""
    ps = g.parents[i]
    j = ps[slot]
    parent, pname = g.nodes[j], g.names[j]
    formulas = formulas_of(ctx.fn, len(ps))
    local = None
    if formulas is None or slot >= len(formulas):
        text = f"∂{_paren(pname)} = ? (no formula declared for {g.ops[i]!r})"
    else:
        env = {f"s{n}": _shape(g.nodes[q].shape) for n, q in enumerate(ps)}
        env.update({f"t{n}": _shape(g.nodes[q].shape[::-1]) for n, q in enumerate(ps)})
        env.update(sg=_shape(ctx.g.shape), tg=_shape(ctx.g.shape[::-1]))
        shown, fn = formulas[slot]
        try:
            shown = shown.format(*[_paren(g.names[q]) for q in ps], **env)
        except (IndexError, KeyError, ValueError):  # braces of its own (a user's Function): as written
            pass
        text = f"∂{_paren(pname)} = {shown}"
        if fn is not None:  # None: a text only (a custom Function's), nothing to evaluate
            with np.errstate(all="ignore"):
                local = _unbroadcast(fn(ctx), parent.shape).astype(parent.dtype)
    before = running.get(j)
    acc = f"{_paren(pname)}.grad += {_shape(parent.shape)}"
    if local is not None:
        running[j] = local if before is None else before + local
        acc += f" {_entries(local)}, norm {_num(_norm(local))}"
        if before is not None:
            acc += f"  (used again: norm now {_num(_norm(running[j]))})"
    else:
        acc += " tensor (no numbers: the formula has no NumPy form)"
    return Rule(j, pname, text, "", local, local, running.get(j), acc)


def _entries(a, n=3):
    """``[0.06, -0.1, 0.2, …]``: the first ``n`` entries of an array."""
    flat = np.asarray(a).ravel()
    more = ", …" if flat.size > n else ""
    return "[" + ", ".join(_num(v) for v in flat[:n]) + more + "]"


def _norm(x):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        return float(np.sqrt((x * x).sum())) if x.size else 0.0


def explain(root, params=None):
    """The backward pass of ``root``'s graph as text, one step after another (``print(explain(y))``)."""
    steps = backward_steps(root, params)
    return "\n".join(line for s in steps for line in s.lines())


def explore(root, path=None, params=None, max_nodes=None, group_modules=True):
    """A self-contained interactive HTML explorer of ``root``'s backward (and forward) pass.

    Returns an ``Explorer`` (shows inline in Jupyter, ``.save(path)``, ``.html``); ``path`` also writes
    the file. ``params`` names leaves (``dict(model.named_parameters())``); with dotted names
    (``"0.weight"``) each submodule is a cluster that collapses and expands on click. ``max_nodes``
    keeps the nodes nearest the root and folds the rest into one "… K more" node, which unfolds them
    on click (drawn left of the rest; they are in the page when the graph has at most ``BIG_PAGE``
    nodes, else left out). Laid out by Graphviz's ``dot`` when it is installed and the part has at most
    ``DOT_LIMIT`` nodes, else by a layered layout computed here. No ``.grad`` is changed; the page never
    touches the network.
    """
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                  or max_nodes < 1):
        raise ValueError(f"max_nodes must be None or a positive int, got {max_nodes!r}")
    result = Explorer(_page(_Graph(root, params), max_nodes, group_modules))
    if path is not None:
        result.save(path)
    return result


class Explorer:
    """The explorer page: ``.html`` (text), ``.save(path)``, inline display in Jupyter."""

    def __init__(self, html_text):
        self.html = html_text

    def save(self, path):
        """Write the page to ``path`` (UTF-8); returns ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return path

    def _repr_html_(self):
        import html
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width:100%;height:640px;'
                'border:1px solid #ddd" sandbox="allow-scripts"></iframe>')

    def __repr__(self):
        return f"<Explorer: {len(self.html)} bytes of HTML; .save(path) or display in Jupyter>"


# -- the page -------------------------------------------------------------------------------------------
DOT_LIMIT = 1500   # above this many drawn nodes the layered layout replaces dot (dot takes minutes)
BIG_PAGE = 20000   # warn above this many drawn nodes: about 500 bytes each, and a slow first load
HEAT = 16          # heat-map cells per side in the node inspector
FIRST = 8          # first entries of a tensor shown in the inspector
NODE_W, NODE_H, GAP_X, GAP_Y = 136.0, 50.0, 44.0, 14.0  # points


def _role(g, i):
    node = g.nodes[i]
    if i == 0:
        return "output"
    if g.parents[i]:
        return "intermediate"
    if any(p is node for p in g.params.values()):
        return "parameter"
    if g.is_value or node.requires_grad:
        return "input"
    return "constant" if int(np.prod(node.shape)) == 1 else "input"


def _summary(a):
    """What the inspector shows of an array: shape, dtype, first entries, norms, a small heat-map."""
    a = np.asarray(a)
    flat = a.astype(np.float64).ravel()
    out = {"shape": list(a.shape), "dtype": str(a.dtype), "size": int(a.size),
           "first": [_round(v) for v in flat[:FIRST]]}
    if a.size:
        with np.errstate(all="ignore"):
            out.update(norm=_round(_norm(flat)), max_abs=_round(np.abs(flat).max()),
                       mean=_round(flat.mean()), min=_round(flat.min()), max=_round(flat.max()))
        out["heat"] = _heat(flat.reshape(-1, a.shape[-1]) if a.ndim >= 2 else flat.reshape(1, -1))
    return out


def _heat(m):
    """A matrix averaged over blocks down to at most ``HEAT`` x ``HEAT`` cells: ``{rows, cols, v}``."""
    r, c = m.shape
    rows, cols = min(r, HEAT), min(c, HEAT)
    ri = np.linspace(0, r, rows + 1).astype(int)
    ci = np.linspace(0, c, cols + 1).astype(int)
    with np.errstate(all="ignore"):
        cells = [[m[ri[y]:ri[y + 1], ci[x]:ci[x + 1]].mean() for x in range(cols)] for y in range(rows)]
    return {"rows": rows, "cols": cols, "blocked": bool(r > rows or c > cols),
            "v": [_round(v) for row in cells for v in row]}


def _round(x):
    x = float(x)
    return float(f"{x:.5g}") if math.isfinite(x) else str(x)


def _grad_text(x):
    if x is None:
        return ""
    if isinstance(x, np.ndarray) and x.size != 1:
        return f"grad norm {_num(_norm(x))}"
    return f"grad {_num(np.asarray(x).ravel()[0] if isinstance(x, np.ndarray) else x)}"


def _data_text(g, i):
    node = g.nodes[i]
    if g.is_value:
        return f"data {_num(node.data)}"
    a = _array(node)
    if a.size == 1:
        return f"data {_num(a.ravel()[0])}"
    return f"{_shape(a.shape)} {a.dtype}"


def _page(g, max_nodes, group_modules):
    """The explorer's HTML for graph ``g``."""
    import json
    steps = g.steps()
    total = len(g.nodes)
    kept = total if max_nodes is None else min(max_nodes, total)
    if kept > BIG_PAGE:
        import warnings
        warnings.warn(f"explore: {kept} nodes make a page of ~{kept // 2000} MB that loads slowly; pass "
                      "max_nodes=5000 to keep the part nearest the root", stacklevel=3)
    # the folded nodes come in the page (hidden until the "… K more" node is clicked) when all fit in one
    end = total if kept < total and total <= BIG_PAGE else kept
    cluster = [None] * kept
    if group_modules and g.params:
        cluster = _clusters(g.nodes, kept, g.parents, g.params)
    names = sorted({c for c in cluster if c is not None})
    edges = _drawn_edges(g, kept)
    n_drawn = kept + (kept < total)
    boxes, paths, bbs, engine = _layout(n_drawn, edges, cluster + [None] * (n_drawn - kept), names)
    shown = [k for k, bb in enumerate(bbs) if bb is not None]  # the layered layout drops overlapping ones
    cid = {names[k]: n for n, k in enumerate(shown)}
    edges = [(end if j == kept else j, i) for j, i in edges]  # the "more" node: after the folded ones
    far = _far_part(g, kept, end, boxes[:kept], _extent(boxes)) if end > kept else None
    if far:
        edges += far["edges"]
        paths += far["paths"]
    by_child = {}
    for k, (_, i) in enumerate(edges):
        by_child.setdefault(i, []).append(k)
    final = {s.node: s.grad for s in steps}
    when = {s.node: s.index + 1 for s in steps}  # the step after which a node's gradient is complete
    nodes, info = [], []
    for i in range(end):
        box = boxes[i] if i < kept else far["boxes"][i - kept]
        c = cid.get(cluster[i], -1) if i < kept else -1
        nodes.append([g.names[i], g.ops[i], _role(g, i), *box, c, _data_text(g, i), _forward_text(g, i)])
        info.append(dict(_node_info(g, i, final.get(i)), step=when[i]))
    if kept < total:
        more = total - kept
        nodes.append([f"… {more} more node{'s' if more != 1 else ''}", "", "more", *boxes[kept], -1, "", ""])
        info.append({"more": more, "opens": end > kept})
    data = {
        "kind": "value" if g.is_value else "tensor", "layout": engine, "total": total, "kept": kept,
        "far": end - kept, "far_box": far and far["frame"], "far_layout": far and far["layout"],
        "size": _extent(boxes), "nodes": nodes, "info": info,
        "edges": [[j, i, paths[k]] for k, (j, i) in enumerate(edges)],
        "clusters": [[names[k], *bbs[k]] for k in shown], "dropped_clusters": len(names) - len(shown),
        "seed": _grad_text(steps[0].grad) if steps else "",
        "steps": [_step_json(s, by_child) for s in steps if s.node < end],
        "hidden_steps": sum(s.node >= end for s in steps),
        "forward": [[i, by_child.get(i, [])] for i in reversed(g.order) if i < end],
    }
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")
    return _TEMPLATE.format(csp=_CSP, title=f"chainrule explorer: {g.names[0]}", css=_asset("explore.css"),
                            js=_asset("explore.js"), data=text)


def _drawn_edges(g, kept):
    """(parent, child) pairs among the first ``kept`` nodes, then from the "... K more" node (index
    ``kept``) to every kept node that lost a parent."""
    edges, lost = [], set()
    for i in range(kept):
        for j in g.parents[i]:
            if j < kept:
                edges.append((j, i))
            else:
                lost.add(i)
    return edges + [(kept, i) for i in sorted(lost)]


def _far_part(g, kept, end, near, size):
    """The folded nodes ``kept .. end - 1``, laid out on their own left of the drawn part (its boxes
    ``near``, its extent ``size``): their ``boxes``, their ``edges`` (among them, and to or from the
    drawn part) with SVG ``paths``, the ``frame`` around them (room for its name on top), the ``layout``."""
    n = end - kept
    inner = [(j - kept, i - kept) for i in range(kept, end) for j in g.parents[i] if j >= kept]
    boxes, paths, _, engine = _layout(n, inner, [None] * n, [])
    w, h = _extent(boxes)
    dx, dy = -w - GAP_X, round((size[1] - h) / 2, 1)
    boxes = [[round(x + dx, 1), round(y + dy, 1), bw, bh] for x, y, bw, bh in boxes]
    edges = [(j + kept, i + kept) for j, i in inner]
    paths = [_shifted(d, dx, dy) for d in paths]
    box = lambda i: near[i] if i < kept else boxes[i - kept]  # noqa: E731
    for i in range(end):
        for j in g.parents[i]:
            if j < end and (i < kept) != (j < kept):
                edges.append((j, i))
                paths.append(_curve(box(j), box(i)))
    return {"boxes": boxes, "edges": edges, "paths": paths, "frame": [dx, dy - 24, w, h + 24],
            "layout": engine}


def _shifted(path, dx, dy):
    """The SVG path ``path`` (``x,y`` pairs) moved by ``(dx, dy)``."""
    return re.sub(r"(-?[\d.]+),(-?[\d.]+)",
                  lambda m: f"{round(float(m[1]) + dx, 1)},{round(float(m[2]) + dy, 1)}", path)


def _curve(a, b):
    """An SVG curve from the right side of box ``a`` to the left side of box ``b`` (``[x, y, w, h]``)."""
    ax, ay = round(a[0] + a[2], 1), round(a[1] + a[3] / 2, 1)
    bx, by = b[0], round(b[1] + b[3] / 2, 1)
    mx = round((ax + bx) / 2, 1)
    return f"M{ax},{ay}C{mx},{ay} {mx},{by} {bx},{by}"


def _forward_text(g, i):
    return _value_forward(g, i) if g.is_value else _tensor_forward(g, i)


def _step_json(s, by_child):
    """A step for the page: node, text lines, the edges its gradient flows along, the parents' new grads."""
    updates = [[r.parent, _grad_text(r.grad_after)] for r in s.rules]
    lines = s.lines()
    return [s.node, lines[:1] + lines[2:], by_child.get(s.node, []), updates]  # forward: in the node


def _node_info(g, i, grad):
    node = g.nodes[i]
    out = {}
    if g.is_value:
        out.update(data=_round(node.data), grad=None if grad is None else _round(grad))
    else:
        out.update(value=_summary(_array(node)), grad=None if grad is None else _summary(grad),
                   requires_grad=bool(node.requires_grad))
    return out


def _extent(boxes):
    right = max((b[0] + b[2] for b in boxes), default=0)
    bottom = max((b[1] + b[3] for b in boxes), default=0)
    return [right + 20, bottom + 20]


def _asset(name):
    from importlib.resources import files
    return files("autograd").joinpath("explore_assets", name).read_text(encoding="utf-8")


# -- layout: Graphviz's dot, or layers computed here -------------------------------------------------
def _layout(n, edges, cluster, names):
    """Boxes ``[x, y, w, h]`` per node, an SVG path per edge, a box per cluster, and the engine's name."""
    if n <= DOT_LIMIT:
        try:
            return _dot_layout(n, edges, cluster, names) + ("dot",)
        except Exception:  # noqa: BLE001 - dot missing or failing: the layered layout always works
            pass
    return _layer_layout(n, edges, cluster, names) + ("layers",)


def _dot_layout(n, edges, cluster, names):
    import json

    import graphviz
    w, h = NODE_W / 72, NODE_H / 72
    lines = ["digraph G {", "rankdir=LR; nodesep=0.2; ranksep=0.45;",
             f'node [shape=box fixedsize=true label="" width={w:.3f} height={h:.3f}];']
    members = {}
    for i in range(n):
        members.setdefault(cluster[i], []).append(i)
    for c, idx in members.items():
        body = " ".join(f"n{i};" for i in idx)
        if c is None:
            lines.append(body)
        else:
            k = names.index(c)
            lines.append(f'subgraph cluster_{k} {{ label="{k}"; fontsize=14; margin=12; {body} }}')
    lines += [f'n{j} -> n{i} [id="e{k}"];' for k, (j, i) in enumerate(edges)]
    lines.append("}")
    out = json.loads(graphviz.Source("\n".join(lines)).pipe(format="json0", engine="dot"))
    x0, y0, x1, y1 = map(float, out["bb"].split(","))
    flip = lambda x, y: (round(float(x) - x0 + 10, 1), round(y1 - float(y) + 10, 1))  # noqa: E731
    boxes = [None] * n
    bbs = [None] * len(names)
    for obj in out.get("objects", []):
        name = obj.get("name", "")
        if name.startswith("cluster_"):
            a, b, c, d = map(float, obj["bb"].split(","))
            (ax, ay), (cx, cy) = flip(a, d), flip(c, b)
            bbs[int(name[8:])] = [ax, ay, round(cx - ax, 1), round(cy - ay, 1)]
        elif name.startswith("n") and "pos" in obj:
            x, y = flip(*obj["pos"].split(","))
            boxes[int(name[1:])] = [round(x - NODE_W / 2, 1), round(y - NODE_H / 2, 1), NODE_W, NODE_H]
    paths = [""] * len(edges)
    for e in out.get("edges", []):
        k = int(e["id"][1:])
        paths[k] = _spline(e.get("pos", ""), flip)
    return boxes, paths, bbs


def _spline(pos, flip):
    """dot's edge ``pos`` (``e,x,y p0 p1 ...``: cubic B-spline control points) as an SVG path."""
    end, pts = None, []
    for part in pos.split():
        bits = part.split(",")
        if bits[0] == "e":
            end = flip(bits[1], bits[2])
        elif bits[0] != "s":
            pts.append(flip(bits[0], bits[1]))
    if not pts:
        return ""
    d = [f"M{pts[0][0]},{pts[0][1]}"]
    for k in range(1, len(pts) - 2, 3):
        d.append("C" + " ".join(f"{x},{y}" for x, y in pts[k:k + 3]))
    if end:
        d.append(f"L{end[0]},{end[1]}")
    return "".join(d)


def _layer_layout(n, edges, cluster, names):
    """Columns by distance from the root (longest path), rows ordered by the children's mean row."""
    children = [[] for _ in range(n)]
    parents = [[] for _ in range(n)]
    for j, i in edges:
        children[j].append(i)
        parents[i].append(j)
    rank = [0] * n
    # consumers before producers, from every node nobody consumes: each rank is final when reached
    order = _engine_order(parents, [i for i in reversed(range(n)) if not children[i]])
    seen = set(order)
    order += [i for i in range(n) if i not in seen]  # the "more" node may be unreachable in the cut
    for i in order:
        for j in parents[i]:
            rank[j] = max(rank[j], rank[i] + 1)
    top = max(rank) if rank else 0
    columns = [[] for _ in range(top + 1)]
    for i in order:
        columns[rank[i]].append(i)
    row = [0.0] * n
    for col in columns:
        col.sort(key=lambda i: sum(row[c] for c in children[i]) / len(children[i]) if children[i] else 0.0)
        for k, i in enumerate(col):
            row[i] = k - (len(col) - 1) / 2
    low = min(row) if row else 0.0
    boxes = [[round((top - rank[i]) * (NODE_W + GAP_X) + 10, 1),
              round((row[i] - low) * (NODE_H + GAP_Y) + 10, 1), NODE_W, NODE_H] for i in range(n)]
    paths = [_curve(boxes[j], boxes[i]) for j, i in edges]
    bbs = []
    for c in names:
        idx = [i for i in range(n) if cluster[i] == c]
        x0 = min(boxes[i][0] for i in idx) - 8
        y0 = min(boxes[i][1] for i in idx) - 22
        x1 = max(boxes[i][0] + NODE_W for i in idx) + 8
        y1 = max(boxes[i][1] + NODE_H for i in idx) + 8
        bbs.append([round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)])
    return boxes, paths, _without_overlaps(bbs)


def _without_overlaps(bbs):
    """The cluster boxes, ``None`` for each that overlaps another (layers ignore modules; dot does not)."""
    def meet(a, b):
        return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
    bad = {k for k, a in enumerate(bbs) for q, b in enumerate(bbs) if k != q and meet(a, b)}
    return [None if k in bad else bb for k, bb in enumerate(bbs)]


# nothing may load from anywhere: scripts and styles are the page's own, images only data: URLs
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style></head>
<body>
<div id="bar">
  <span class="modes"><label><input type="radio" name="mode" value="backward" checked> backward</label>
  <label><input type="radio" name="mode" value="forward"> forward</label></span>
  <button id="first" title="to the start (Home)">|◀</button>
  <button id="back" title="one step back (←)">◀ back</button>
  <button id="play" title="play / pause (space)">▶ play</button>
  <button id="step" title="one step (→)">step ▶</button>
  <button id="last" title="to the end (End)">▶|</button>
  <input id="slider" type="range" min="0" value="0" step="1">
  <span id="counter"></span>
  <button id="fit" title="fit the graph in the window">fit</button>
</div>
<div id="main">
  <svg id="graph" xmlns="http://www.w3.org/2000/svg"><g id="viewport"></g></svg>
  <div id="side">
    <div id="current-node" data-node=""></div>
    <pre id="formula"></pre>
    <div id="inspector"><p class="hint">Click a node to see its value and gradient.</p></div>
    <p id="note"></p>
  </div>
</div>
<script id="explore-data" type="application/json">{data}</script>
<script>{js}</script>
</body></html>
"""
