"""Draw the graph that produced a ``Value`` or a ``Tensor`` with Graphviz: ``draw_graph(root)``.

Every value/tensor is a box (a record); every operation a small ellipse; edges run parent -> op ->
result, in operand order. The walk is iterative and breadth-first from the root and node ids number
the nodes in that order, so a graph of any depth is drawn in O(nodes) and the same graph always gives
the same DOT source, byte for byte.
"""
import html
import math
import re
import warnings

import numpy as np

from .engine import FreedParents
from .value import Value

__all__ = ["draw_dot", "draw_graph"]  # and, imported on first use, Digraph and GraphvizNotFoundError

# role -> (fill, border). Documented in draw_graph's docstring.
ROLE_COLORS = {
    "input": ("#dbeafe", "#1d4ed8"),         # light blue
    "parameter": ("#dcfce7", "#15803d"),     # light green
    "constant": ("#f3f4f6", "#6b7280"),      # light grey
    "output": ("#fde68a", "#b45309"),        # amber
    "intermediate": ("#ffffff", "#374151"),  # white
}
OP_COLORS = ("#f3f4f6", "#6b7280")
# ColorBrewer YlOrRd: pale (small gradient) to strong (large gradient)
GRAD_COLORMAP = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c",
                 "#fc4e2a", "#e31a1c", "#bd0026", "#800026")
NONFINITE_COLOR = "#d946ef"  # magenta: nan or inf gradient
BIG_GRAPH = 5000             # warn above this many drawn nodes: dot gets very slow
SMALL_TENSOR = 6             # show the data of tensors with at most this many elements

_PIP_MSG = ("draw_graph needs the Python package graphviz (and Graphviz's `dot` program to render): "
            "pip install graphviz")


def _digraph_class():
    """``Digraph``, imported on first use: ``autograd`` works without the graphviz package."""
    try:
        from ._graphviz import Digraph
    except ImportError as e:
        raise ImportError(f"{_PIP_MSG} ({e})") from None
    return Digraph


def __getattr__(name):
    if name in ("Digraph", "GraphvizNotFoundError"):
        from . import _graphviz
        return getattr(_graphviz, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def draw_graph(root, format="svg", rankdir="LR", params=None, *, color_grads=False, group_modules=False,
               max_nodes=None, show_data=True):
    """The graph that produced ``root`` (a ``Value`` or a ``Tensor``) as a ``graphviz.Digraph``.

    ``format`` (``"svg"``, ``"png"``, ``"pdf"``...) and ``rankdir`` (``"LR"``, ``"TB"``...) go to the
    Digraph; display it in Jupyter, or ``.render(path)`` / ``.pipe()``; ``.source`` is the DOT text and
    needs no Graphviz install. ``params`` maps names to leaves (``dict(model.named_parameters())``).

    Nodes: a ``Value`` shows its name (the ``params`` name, else ``.label``), data and grad; a ``Tensor``
    its name (``params`` name, else ``.label``, else its role), shape, dtype, data when it has at most
    6 elements, and the gradient (its L2 norm ``grad norm``) when ``.grad`` is set. Each op is an ellipse.
    Roles and their colours (fill / border): input, a leaf requiring grad that is not in ``params`` or
    a data leaf with more than one element: light blue ``#dbeafe``/``#1d4ed8``; parameter (in
    ``params``): light green ``#dcfce7``/``#15803d``; constant, a tensor leaf without grad holding one
    element (the ``2`` of ``x * 2``): light grey ``#f3f4f6``/``#6b7280``; output (``root``): amber
    ``#fde68a``/``#b45309``; intermediate: white. ``Value`` leaves outside ``params`` are inputs.

    ``color_grads=True`` fills each node by gradient magnitude (``|grad|``, or the norm for tensors) on
    a log10 scale over the graph's range, from pale yellow (smallest) to dark red (largest) (ColorBrewer
    YlOrRd), so vanishing and exploding gradients stand out; zero gradients are white and dashed,
    nan/inf magenta ``#d946ef``, nodes without a gradient white; roles then show as the border colour.
    A legend is added as the graph label.

    ``group_modules=True`` (needs ``params`` with dotted names such as ``"0.weight"``, ``"fc1.bias"``)
    draws each submodule (the name before the last dot) as a ``cluster_<name>`` holding its
    parameters, the ops that consume them and what lies between them (say ``transpose`` and ``matmul``
    in ``x @ W.T + b``). A node that fits two modules goes to the first in ``params`` order; top-level
    parameters (no dot) are not grouped.

    ``max_nodes=N`` draws the N values/tensors nearest the root (breadth-first over ``_prev``) with
    their ops, and one node "... K more nodes" with an edge into every kept op that lost a parent.
    ``show_data=False`` leaves the data out of the labels.
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                  or max_nodes < 1):
        raise ValueError(f"max_nodes must be None or a positive int, got {max_nodes!r}")
    is_value = isinstance(root, Value)
    if not is_value and not hasattr(root, "shape"):
        raise TypeError(f"draw_graph needs a Value or a Tensor, got {type(root).__name__}")
    params = {} if params is None else dict(params)
    if group_modules and not params:
        raise ValueError("group_modules=True needs params, e.g. params=dict(model.named_parameters())")
    names = {}
    for name, p in params.items():
        names.setdefault(id(p), str(name))

    nodes, parents, ops = _walk(root)
    total = len(nodes)
    kept = total if max_nodes is None else min(max_nodes, total)
    if kept > BIG_GRAPH:
        warnings.warn(f"drawing {kept} nodes: Graphviz's dot may take minutes on a graph this big; pass "
                      "max_nodes=200 to draw the part nearest the output", stacklevel=2)

    roles = [_role(nodes[i], i, parents[i], ops[i], names, is_value) for i in range(kept)]
    mags = [_grad_magnitude(nodes[i], is_value) for i in range(kept)]
    scale = _log_range(mags) if color_grads else None

    dot = _digraph_class()(format=format, graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
                  node_attr={"fontname": "Helvetica", "fontsize": "11"},
                  edge_attr={"arrowsize": "0.7"})
    cluster = _clusters(nodes, kept, parents, params) if group_modules else [None] * kept

    lines = {}  # cluster name (None: top level) -> node statements, in traversal order
    for i in range(kept):
        node = nodes[i]
        name = names.get(id(node)) or (getattr(node, "label", "") or "")
        if is_value:
            fields = _value_fields(node, name, show_data)
        else:
            fields = _tensor_fields(node, name, roles[i], show_data)
        fill, border = ROLE_COLORS[roles[i]]
        attrs = {"shape": "record", "style": "filled,rounded", "fillcolor": fill, "color": border}
        if color_grads:
            attrs.update(_grad_style(mags[i], scale))
            if roles[i] != "intermediate":
                attrs["penwidth"] = "2.5"
        body = lines.setdefault(cluster[i], [])
        body.append(_node_line(f"v{i}", "{ " + " | ".join(_escape_record(f) for f in fields) + " }", attrs))
        if ops[i] or parents[i]:
            body.append(_node_line(f"o{i}", _escape_text(ops[i] or "?"), {
                "shape": "ellipse", "style": "filled",
                "fillcolor": OP_COLORS[0], "color": OP_COLORS[1], "fontsize": "10",
                "height": "0.3", "margin": "0.04,0.02"}))

    for line in lines.get(None, ()):
        dot.body.append(line)
    for mod, body in lines.items():
        if mod is None:
            continue
        with dot.subgraph(name=f"cluster_{mod}") as sub:
            sub.attr(label=mod, style="rounded,dashed", color="#15803d", fontname="Helvetica",
                     fontsize="12", fontcolor="#15803d")
            sub.body.extend(body)

    lost = []  # kept ops with a parent beyond max_nodes
    edges = []
    for i in range(kept):
        if not (ops[i] or parents[i]):
            continue
        dropped = False
        for j in parents[i]:
            if j < kept:
                edges.append(f"\tv{j} -> o{i}\n")
            else:
                dropped = True
        if dropped:
            lost.append(i)
        edges.append(f"\to{i} -> v{i}\n")
    if kept < total:
        more = total - kept
        dot.body.append(_node_line("more", f"\u2026 {more} more node{'s' if more != 1 else ''}", {
            "shape": "box", "style": "dashed,rounded", "color": "#6b7280", "fontcolor": "#374151"}))
        edges.extend(f"\tmore -> o{i} [style=dashed color=\"#6b7280\"]\n" for i in lost)
    dot.body.extend(edges)
    if color_grads:
        dot.attr(label=_legend(scale, is_value), labelloc="b", labeljust="l")
    return dot


draw_dot = draw_graph


# -- traversal -------------------------------------------------------------------------------------
def _walk(root):
    """Breadth-first from ``root`` over ``_prev``: nodes, and parent indices and op name per node.

    Raises ``RuntimeError`` for a ``Value`` graph freed by ``backward(retain_graph=False)`` (a Tensor
    graph keeps its structure after backward and can be drawn)."""
    nodes, parents, ops = [root], [], []
    index = {id(root): 0}
    i = 0
    while i < len(nodes):
        node = nodes[i]
        prev = getattr(node, "_prev", ())
        prev = prev.kept() if isinstance(prev, FreedParents) else tuple(prev)
        op = getattr(node, "_op", "") or ""
        if op == "freed":  # a Value graph freed by backward(retain_graph=False) keeps nothing
            where = "" if i == 0 else f" (at a {type(node).__name__} {i} nodes from the root)"
            raise RuntimeError(
                f"draw_graph: this graph was freed by backward(){where}: backward(retain_graph=False) "
                "drops the graph it walked, so it can not be drawn any more. Call draw_graph before "
                "backward(), or pass retain_graph=True to backward()")
        ids = []
        for p in prev:
            j = index.get(id(p))
            if j is None:
                j = index[id(p)] = len(nodes)
                nodes.append(p)
            ids.append(j)
        parents.append(ids)
        ops.append(op)
        i += 1
    return nodes, parents, ops


def _role(node, i, prev, op, names, is_value):
    if i == 0:
        return "output"
    if id(node) in names:
        return "parameter"
    if prev or op:
        return "intermediate"
    if is_value or getattr(node, "requires_grad", False):
        return "input"
    return "input" if node._data.size > 1 else "constant"


# -- labels ------------------------------------------------------------------------------------------
def _fmt(x):
    """Compact number: 4 decimals in [1e-4, 1e4), else 4 significant digits."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0 or 1e-4 <= abs(x) < 1e4:
        return f"{x:.4f}"
    return f"{x:.4g}"


def _short(x):
    """4 significant digits, no padding (array elements in tensor labels)."""
    return f"{float(x):.4g}"


def _value_fields(node, name, show_data):
    fields = [name] if name else []
    if show_data:
        fields.append(f"data {_fmt(node.data)}")
    g = node.grad
    fields.append(f"grad {_fmt(g.data if isinstance(g, Value) else g)}")
    return fields


def _tensor_fields(node, name, role, show_data):
    if not name and role != "intermediate":
        name = role
    fields = [name] if name else []
    shape = tuple(node.shape)
    fields.append(f"{shape if shape else 'scalar'} {getattr(node, 'dtype', '')}".strip())
    data = node._data
    if show_data and data.size <= SMALL_TENSOR:
        if data.size == 1 and data.dtype.kind == "f":
            fields.append(f"data {_fmt(data.reshape(-1)[0])}")
        else:
            text = np.array2string(data, separator=", ", formatter={"float_kind": _short})
            fields.append("data " + " ".join(text.split()))
    grad = getattr(node, "grad", None)
    if grad is not None:
        g = np.asarray(getattr(grad, "data", grad))
        if g.size == 1:
            fields.append(f"grad {_fmt(g.reshape(-1)[0])}")
        else:
            fields.append(f"grad norm {_fmt(_norm(g))}")
    return fields


_RECORD_SPECIAL = re.compile(r'([\\{}|<>"])')


def _escape_record(text):
    """Make user text literal inside a record label (backslash-escape its field syntax)."""
    return _RECORD_SPECIAL.sub(r"\\\1", str(text).replace("\n", " ")).strip() or " "


def _escape_text(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def _node_line(name, label, attrs):
    parts = [f'label="{label}"'] + [f'{k}="{v}"' for k, v in attrs.items()]
    return f"\t{name} [{' '.join(parts)}]\n"


# -- gradient colours ----------------------------------------------------------------------------------
def _norm(g):
    g = np.asarray(g, dtype=np.float64).ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.linalg.norm(g)) if g.size else 0.0


def _grad_magnitude(node, is_value):
    """|grad| for a Value, the gradient's L2 norm for a Tensor, None when there is no gradient."""
    g = node.grad if is_value else getattr(node, "grad", None)
    if g is None:
        return None
    if is_value:
        return abs(float(g.data if isinstance(g, Value) else g))
    return _norm(getattr(g, "_data", g))


def _log_range(mags):
    logs = [math.log10(m) for m in mags if m is not None and m > 0 and math.isfinite(m)]
    return (min(logs), max(logs)) if logs else None


def _colormap(t):
    t = min(max(t, 0.0), 1.0) * (len(GRAD_COLORMAP) - 1)
    k = min(int(t), len(GRAD_COLORMAP) - 2)
    f = t - k
    a, b = GRAD_COLORMAP[k], GRAD_COLORMAP[k + 1]
    rgb = [round(int(a[s:s + 2], 16) * (1 - f) + int(b[s:s + 2], 16) * f) for s in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _grad_color(m, scale):
    lo, hi = scale
    return _colormap(0.5 if hi == lo else (math.log10(m) - lo) / (hi - lo))


def _grad_style(m, scale):
    if m is None:
        return {"fillcolor": "#ffffff"}
    if not math.isfinite(m):
        return {"fillcolor": NONFINITE_COLOR, "fontcolor": "#ffffff"}
    if m == 0:
        return {"fillcolor": "#ffffff", "style": "filled,rounded,dashed"}
    color = _grad_color(m, scale)
    r, g, b = (int(color[s:s + 2], 16) for s in (1, 3, 5))
    dark = 0.299 * r + 0.587 * g + 0.114 * b < 128
    return {"fillcolor": color, "fontcolor": "#ffffff" if dark else "#000000"}


def _legend(scale, is_value):
    what = "|grad|" if is_value else "gradient norm (|grad| for one element)"
    rows = [f'<tr><td colspan="5" align="left"><b>fill: {html.escape(what)}, log10 scale</b></td></tr>']
    if scale is None:
        rows.append('<tr><td colspan="5">no nonzero gradient in the graph (run backward() first?)</td></tr>')
    else:
        lo, hi = scale
        cells = []
        for k in range(5):
            e = lo + (hi - lo) * k / 4
            style = _grad_style(10 ** e, scale)
            cells.append(f'<td bgcolor="{style["fillcolor"]}"><font color="{style["fontcolor"]}">'
                         f'{10 ** e:.1e}</font></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append(f'<tr><td>zero: white, dashed</td><td bgcolor="{NONFINITE_COLOR}">nan/inf</td>'
                '<td colspan="3">white: no grad kept</td></tr>')
    roles = "".join(f'<td><font color="{ROLE_COLORS[r][1]}"><b>{r}</b></font></td>'
                    for r in ("input", "parameter", "constant", "output"))
    rows.append(f"<tr>{roles}<td>(border colour)</td></tr>")
    return '<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">' + "".join(rows) + "</table>>"


# -- module clusters -------------------------------------------------------------------------------------
def _clusters(nodes, kept, parents, params):
    """Cluster name per kept node (None: top level): each submodule's parameters, the ops consuming
    them, and the nodes between (downstream of its parameters and upstream of those ops)."""
    where = {id(nodes[i]): i for i in range(kept)}
    modules = {}  # module name -> kept indices of its parameters, in params order
    for name, p in params.items():
        mod = str(name).rpartition(".")[0]
        i = where.get(id(p))
        if mod and i is not None:
            modules.setdefault(mod, []).append(i)
    if not modules:
        return [None] * kept
    children = [[] for _ in range(kept)]
    for i in range(kept):
        for j in parents[i]:
            if j < kept:
                children[j].append(i)
    cluster = [None] * kept
    for mod, pidx in modules.items():
        down = set(pidx)  # everything downstream of the module's parameters
        stack = list(pidx)
        while stack:
            for c in children[stack.pop()]:
                if c not in down:
                    down.add(c)
                    stack.append(c)
        seeds = [c for j in pidx for c in children[j]]
        members = set(pidx) | set(seeds)
        stack = list(seeds)  # walk up from the consuming ops, staying downstream of the parameters
        while stack:
            for j in parents[stack.pop()]:
                if j < kept and j in down and j not in members:
                    members.add(j)
                    stack.append(j)
        for i in sorted(members):
            if cluster[i] is None:
                cluster[i] = mod
    return cluster
