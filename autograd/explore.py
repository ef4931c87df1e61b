"""Watch backpropagation happen: ``backward_steps(root)``, ``explain(root)`` and ``explore(root)``.

``backward_steps`` replays the backward pass of ``root``'s graph one node at a time, in the engine's own
order (Kahn's algorithm from the root, last ready node first, as ``engine.run_backward``), without
touching any ``.grad``: for a ``Value`` graph each node's rule runs on copies of the numbers (its
``_vjp``), for a ``Tensor`` graph ``autograd.grad`` gives every node's total gradient. Each step carries
the local rule as a formula: a ``Value`` rule declares its partial derivatives beside itself in
``value.py`` (``_rule("tanh", "1 - o**2")``); a ``Tensor`` primitive's formula is in
``TENSOR_FORMULAS`` below, keyed by the primitive's ``name`` (text and NumPy evaluation side by side).
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

__all__ = ["Step", "Rule", "TENSOR_FORMULAS", "backward_steps", "explain", "explore", "Explorer"]


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


def _engine_order(parents):
    """Node indices in the order ``engine.run_backward`` processes them (Kahn, LIFO, root first)."""
    deps = [0] * len(parents)
    for ps in parents:
        for j in ps:
            deps[j] += 1
    order, ready = [], [0]
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


def _axes(s):
    """The dims a reduction removed: its ``axes``, else read off the shapes (``(n, k) -> (k,)``: dim 0)."""
    axes = getattr(s.fn, "axes", None)
    if axes is None:
        lead = s.a.ndim - s.o.ndim
        axes = tuple(range(lead)) if 0 < lead and s.o.shape == s.a.shape[lead:] else tuple(range(s.a.ndim))
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    return tuple(ax % s.a.ndim for ax in axes)


def _keepdim(s, g):
    """``g`` of a reduction with its reduced dims put back (size 1), ready to broadcast to the input."""
    if getattr(s.fn, "keepdim", False) or g.ndim == s.a.ndim:
        return g
    return np.expand_dims(g, _axes(s))


def _var_grad(s, g=None):
    """torch's ``var_backward``: ``2 / (n - correction) · g ⊙ (x - mean)``."""
    n = math.prod([s.a.shape[i] for i in s.fn.axes])
    with np.errstate(all="ignore"):
        scale = np.float64(2.0) / np.float64(n - s.fn.correction)
        return scale * _keepdim(s, s.g if g is None else g) * (s.a - s.a.mean(axis=s.fn.axes, keepdims=True))


def _std_grad(s):
    with np.errstate(all="ignore"):
        return _var_grad(s, np.where(s.o == 0, 0.0, s.g / (2 * s.o)))


def _max_grad(s):
    o = _keepdim(s, s.o)
    mask = (s.a == o).astype(s.a.dtype)
    count = mask.sum(axis=_axes(s), keepdims=True)
    return _keepdim(s, s.g) * mask / count


def _ties(x, y):
    return np.where(x == y, 0.5, 1.0)


def _mm(s, which):
    """matmul's gradients with 1-D operands treated as a row (a) or a column (b), as torch."""
    a, b, g = s.a, s.b, s.g
    A = a[None, :] if a.ndim == 1 else a
    B = b[:, None] if b.ndim == 1 else b
    G = g.reshape(g.shape[:-1] + (1, g.shape[-1])) if a.ndim == 1 and b.ndim > 1 else g
    G = G[..., None] if b.ndim == 1 else G
    G = G.reshape(1, 1) if a.ndim == 1 and b.ndim == 1 else G
    if which == 0:
        r = G @ np.swapaxes(B, -1, -2)
        return r[..., 0, :] if a.ndim == 1 else r
    r = np.swapaxes(A, -1, -2) @ G
    return r[..., :, 0] if b.ndim == 1 else r


def _lin(s, which):
    g = s.g * (s.o != 0) if s.fn.name == "linear_relu" else s.g
    w = s.x[1]
    if which == 0:
        return g @ w
    g2, x2 = g.reshape(-1, w.shape[0]), s.a.reshape(-1, w.shape[1])
    return g2.T @ x2 if which == 1 else g2.sum(0)


def _windows(x, kh, kw, stride, padding, dilation=(1, 1)):
    """``x`` ``(N, C, H, W)`` zero-padded, as windows ``(N, C, Ho, Wo, kh, kw)`` (taps ``dilation`` apart)."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = np.lib.stride_tricks.sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    return win[:, :, ::sh, ::sw, ::dh, ::dw]


def _grouped(a, groups):
    """``a`` with its dim 1 split into ``(groups, dim 1 / groups)``."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, *a.shape[2:])


def _conv_windows(x, kernel, fn):
    """``x``'s windows for the convolution ``fn``, by group: ``(N, G, C/G, Ho, Wo, kh, kw)``."""
    return _grouped(_windows(x, *kernel, fn.stride, fn.padding, fn.dilation), fn.groups)


def _kernel_groups(w, groups):
    """A kernel ``(O, C/G, kh, kw)`` by group: ``(G, O/G, C/G, kh, kw)``."""
    return w.reshape(groups, w.shape[0] // groups, *w.shape[1:])


def _conv_out(x, w, fn):
    """conv2d without bias (``fn``'s stride, padding, dilation, groups): ``(N, C, H, W)`` with
    ``(O, C/G, kh, kw)`` -> ``(N, O, Ho, Wo)``."""
    out = np.einsum("ngchwij,gocij->ngohw", _conv_windows(x, w.shape[2:], fn), _kernel_groups(w, fn.groups))
    return out.reshape(out.shape[0], -1, *out.shape[3:])


def _conv_dw(x, g, kernel, fn):
    """The kernel's gradient ``(O, C/G, kh, kw)`` given the input ``x`` and the output's gradient ``g``."""
    gw = np.einsum("ngohw,ngchwij->gocij", _grouped(g, fn.groups), _conv_windows(x, kernel, fn))
    return gw.reshape(-1, *gw.shape[2:])


def _conv_dx(g, w, x_shape, fn):
    """The input's gradient given the output's gradient ``g`` and the kernel ``w`` (a transposed conv)."""
    (sh, sw), (ph, pw), (dh, dw) = fn.stride, fn.padding, fn.dilation
    n, c, h, wd = x_shape
    ho, wo = g.shape[2:]
    gg, wg = _grouped(g, fn.groups), _kernel_groups(w, fn.groups)
    gx = np.zeros((n, fn.groups, c // fn.groups, h + 2 * ph, wd + 2 * pw), dtype=g.dtype)
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            gx[..., rows, cols] += np.einsum("ngohw,goc->ngchw", gg, wg[..., i, j])
    return gx.reshape(n, c, *gx.shape[3:])[:, :, ph:ph + h, pw:pw + wd]


def _conv(s, which):
    """conv2d's gradients: input, kernel, bias."""
    x, w, g, fn = s.a, s.b, s.g, s.fn
    if which == 0:
        return _conv_dx(g, w, x.shape, fn)
    if which == 1:
        return _conv_dw(x, g, w.shape[2:], fn)
    return g.sum((0, 2, 3))


def _pool(s):
    """Each window's gradient goes to its first maximum (torch's tie rule)."""
    (kh, kw), fn = s.fn.kernel, s.fn
    win = _windows(s.a, kh, kw, fn.stride, (0, 0), fn.dilation)
    n, c, ho, wo = win.shape[:4]
    first = np.argmax(win.reshape(n, c, ho, wo, kh * kw) == s.o[..., None], axis=-1)
    hits = [(k // kw, k % kw, (first == k).transpose(0, 2, 3, 1)) for k in range(kh * kw)]
    return _spread(s.g, hits, fn, s.a.shape)


def _window_slices(i, j, fn):
    """The part of an ``(N, C, H, W)`` array that tap ``(i, j)`` of the pooling ``fn`` sees."""
    (sh, sw), (dh, dw), (ho, wo) = fn.stride, fn.dilation, fn.out_hw
    rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
    cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
    return slice(None), slice(None), rows, cols


def _spread(g, hits, fn, x_shape):
    """``g`` ``(N, C, Ho, Wo)`` added at each window's maximum (``hits``: ``(i, j, NHWC mask)``)."""
    gx = np.zeros(x_shape, dtype=g.dtype)
    for i, j, hit in hits:
        gx[_window_slices(i, j, fn)] += g * hit.transpose(0, 3, 1, 2)
    return gx


def _pick(a, hits, fn):
    """The adjoint of ``_spread``: ``a`` ``(N, C, H, W)`` read at each window's maximum."""
    return sum(a[_window_slices(i, j, fn)] * hit.transpose(0, 3, 1, 2) for i, j, hit in hits)


def _softmax_rows(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _cross_entropy(s):
    fn, x = s.fn, s.a
    cdim = 0 if x.ndim == 1 else 1
    onehot = np.zeros_like(x)
    np.put_along_axis(onehot, np.expand_dims(fn.target, cdim), 1, cdim)
    g = s.g
    if fn.reduction == "none":
        g = np.expand_dims(g, cdim)
    elif fn.reduction == "mean":
        g = g / np.size(fn.target)
    return (_softmax_rows(x, cdim) - onehot) * g


def _index(s):
    z = np.zeros_like(s.a)
    np.add.at(z, s.fn.index, s.g)
    return z


def _put_back(s):
    z = s.g.copy()
    z[s.fn.index] = 0
    return z


def _gather_back(s):
    z = np.zeros_like(s.a)
    np.put_along_axis(z, np.expand_dims(s.fn.index, s.fn.dim), np.expand_dims(s.g, s.fn.dim), s.fn.dim)
    return z


def _piece(s, i, stacked):
    dim = s.fn.dim % s.g.ndim
    if stacked:
        return np.take(s.g, i, axis=dim)
    start = sum(t.shape[dim] for t in s.x[:i])
    return np.take(s.g, range(start, start + s.x[i].shape[dim]), axis=dim)


def _clamp_mask(s):
    lo, hi = s.fn.min, s.fn.max
    m = np.ones(s.a.shape, dtype=bool)
    if lo is not None:
        m &= s.a >= lo
    if hi is not None:
        m &= s.a <= hi
    return m


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _bce_logits(s, which):
    x, t, pw = s.a, s.b, s.fn.pos_weight
    if which == 0:
        return s.g * (_sig(x) - t) if pw is None else s.g * ((1 - t) - ((pw - 1) * t + 1) * (1 - _sig(x)))
    soft = np.logaddexp(0, -x)
    return -s.g * x if pw is None else s.g * ((pw - 1) * soft - x)


def _along(s, f):
    """``f(x, ...)`` with the primitive's ``dim`` moved last for every array, moved back after."""
    d = s.fn.dim
    return lambda *arrays: np.moveaxis(f(*(np.moveaxis(x, d, -1) for x in arrays)), -1, d)


def _reverse_cumsum(g, d, reverse=False):
    """``Σ_{j ≥ i} g_j`` along ``d`` (``reverse``: ``Σ_{j ≤ i}``, a plain cumsum)."""
    return np.cumsum(g, d) if reverse else np.flip(np.cumsum(np.flip(g, d), d), d)


def _cumprod_back(s):
    """``Σ_{j ≥ i} g_j · Π_{l ≤ j, l ≠ i} a_l`` (no division: exact where ``a`` holds zeros)."""
    def rule(g, a):
        out = np.empty_like(a)
        for i in range(a.shape[-1]):
            others = a.copy()
            others[..., i] = 1
            out[..., i] = (g * np.cumprod(others, -1))[..., i:].sum(-1)
        return out
    return _along(s, rule)(s.g, s.a)


def _logcumsumexp_back(s):
    """``Σ_{j ≥ i} g_j · exp(a_i − o_j)`` (``reverse``: ``j ≤ i``)."""
    def rule(g, a, o):
        n = a.shape[-1]
        later = np.triu(np.ones((n, n), dtype=bool))  # [i, j]: j ≥ i
        later = later.T if s.fn.reverse else later
        terms = np.where(later, g[..., None, :] * np.exp(a[..., :, None] - o[..., None, :]), 0.0)
        return terms.sum(-1)
    return _along(s, rule)(s.g, s.a, s.o)


def _run(g, c):
    """The recurrence ``s_i = g_i + c_i · s_{i−1}`` along the last axis."""
    s = np.array(g, dtype=np.result_type(g, c))
    for i in range(1, s.shape[-1]):
        s[..., i] += c[..., i] * s[..., i - 1]
    return s


def _recurrence_back(s, which):
    """``s_i = x_i + c_i s_{i−1}``: ``∂x = u`` with ``u_i = g_i + c_{i+1} u_{i+1}``, ``∂c_i = u_i s_{i−1}``
    (``reverse``: the same with the axis flipped)."""
    def rule(g, c, o):
        if s.fn.reverse:
            g, c, o = (np.flip(x, -1) for x in (g, c, o))
        next_c = np.concatenate([c[..., 1:], np.zeros_like(c[..., :1])], -1)
        u = np.flip(_run(np.flip(g, -1), np.flip(next_c, -1)), -1)
        r = u if which == 0 else u * np.concatenate([np.zeros_like(o[..., :1]), o[..., :-1]], -1)
        return np.flip(r, -1) if s.fn.reverse else r
    return _along(s, rule)(s.g, s.b, s.o)


def _along_index(index, dim):
    """Index arrays addressing ``index`` (an array of positions) along ``dim``, every other axis as is."""
    parts = list(np.indices(index.shape, sparse=True))
    parts[dim] = index
    return tuple(parts)


def _take_back(s):
    z = np.zeros_like(s.a)
    np.add.at(z, _along_index(s.fn.index, s.fn.dim), s.g)
    return z


def _written_back(s):
    z = np.array(s.g)
    z[_along_index(s.fn.index, s.fn.dim)] = 0
    return z


def _prod_back(s):
    """``g ⊙ Π_{l ≠ i} a_l`` along ``dim`` (products of the others, exact with zeros)."""
    g = s.g if s.fn.keepdim else np.expand_dims(s.g, s.fn.dim)
    def others(a):
        return np.stack([np.prod(np.delete(a, i, -1), -1) for i in range(a.shape[-1])], -1)
    return g * _along(s, others)(s.a)


def _evenly(s):
    """The gradient of a whole-tensor value shared evenly by the elements equal to it (nans when nan)."""
    mask = np.isnan(s.a) if np.isnan(s.o) else s.a == s.o
    return np.where(mask, s.g / np.count_nonzero(mask), 0.0)


def _logit_back(s):
    x = s.a
    inner = np.where((x == 0) | (x == 1), s.g * np.inf, s.g / (x * (1 - x)))
    return np.where((x < 0) | (x > 1), np.nan, inner)


def _xlogy_back(s):
    x, y = s.a, s.b
    zero = ((x == 0) & (y <= 0)) | ((s.g == 0) & ~np.isnan(y))
    return np.where(zero, 0.0, s.g * np.log(y))


def _fwins(s):
    """Where ``fmax``/``fmin``'s gradient goes to its first input: it wins, or the other is nan."""
    wins = s.a >= s.b if s.fn.name == "fmax" else s.a <= s.b
    return wins | np.isnan(s.b)


def _clamp_bounds(s, which):
    """``clamp(x, lo, hi)`` with tensor bounds: x inside, lo below, hi above (hi wins when lo > hi)."""
    x, lo, hi = s.x
    if which == 0:
        return s.g * ((x >= lo) & (x <= hi))
    both = s.fn.has_min and s.fn.has_max
    if which == 1:
        return s.g * ((x < lo) & (lo < hi) if both else x < lo)
    return s.g * ((x > hi) | (hi < lo) if both else x > hi)


def _zero(s):
    return np.zeros(np.broadcast_shapes(*(x.shape for x in s.x)), dtype=s.g.dtype)


def _quotient(s):
    q = s.a / s.b
    return np.trunc(q) if s.fn.mode == "trunc" else np.floor(q)


def _mT(x):
    """The matrix transpose of the last two dims (batched)."""
    return np.swapaxes(x, -1, -2)


def _mat(g):
    """``g`` ``(*)`` as ``(*, 1, 1)``: a scale for each matrix of a batch."""
    return np.asarray(g)[..., None, None]


def _einsum_back(s, i):
    """Operand ``i``'s gradient: ``g`` contracted with the other operands (NumPy's einsum) onto the letters
    ``i`` shares with them, constant along letters only it has, on the diagonal where a letter repeats."""
    lhs, rhs = s.fn.equation.split("->")
    terms = lhs.split(",")
    mine, others = terms[i], [t for j, t in enumerate(terms) if j != i]
    letters = list(dict.fromkeys(mine))
    kept = [c for c in letters if c in rhs + "".join(others)]
    part = np.einsum(",".join([rhs] + others) + "->" + "".join(kept), s.g,
                     *(x for j, x in enumerate(s.x) if j != i))
    pos = np.indices(s.x[i].shape)
    first = {c: pos[mine.index(c)] for c in letters}
    on_diagonal = np.ones(s.x[i].shape, dtype=bool)
    for k, c in enumerate(mine):
        on_diagonal &= pos[k] == first[c]
    return np.where(on_diagonal, part[tuple(first[c] for c in kept)], 0.0)


def _diagonal_back(s):
    """``g`` (the diagonal as the last dim) written on diagonal ``offset`` of ``(dim1, dim2)`` of zeros."""
    z = np.zeros_like(s.a)
    plane = np.moveaxis(z, (s.fn.dim1, s.fn.dim2), (-2, -1))  # a view: writes land in z
    k = np.arange(s.g.shape[-1])
    plane[..., k + max(-s.fn.offset, 0), k + max(s.fn.offset, 0)] = s.g
    return z


def _scattered(base, s, src, ufunc):
    """A copy of ``base`` with ``src`` reduced into it by ``ufunc`` at the primitive's index along dim."""
    out = np.array(base, dtype=np.result_type(base, src))
    ufunc.at(out, _along_index(s.fn.index, s.fn.dim), src)
    return out


def _scatter_reduce_back(s, which):
    """``scatter_reduce``'s gradient for ``x`` (``which`` 0) or ``src`` (1): sum 1, mean 1 / count,
    prod the product of the others, amax/amin shared evenly by the values equal to the result (``x``'s
    among them even where ``include_self=False`` leaves it out, as torch)."""
    fn, x, src = s.fn, s.a, s.b
    at = _along_index(fn.index, fn.dim)
    hit = _scattered(np.zeros(x.shape, dtype=bool), s, np.ones(src.shape, dtype=bool), np.logical_or)
    own = np.ones(x.shape, dtype=bool) if fn.include_self else ~hit  # where x takes part
    if fn.reduce in ("sum", "mean"):
        count = _scattered(own * 1.0, s, np.ones(src.shape), np.add) if fn.reduce == "mean" else 1.0
        gd = s.g / np.maximum(count, 1.0)
        return np.where(own, gd, 0.0) if which == 0 else gd[at]
    if fn.reduce == "prod":
        base = np.where(own, x, 1.0)
        if which == 0:
            return np.where(own, s.g * _scattered(np.ones_like(x), s, src, np.multiply), 0.0)
        others = s.o[at] / np.where(src == 0, 1.0, src)
        for k in zip(*np.nonzero(src == 0)):  # a zero: the others' product, made again without it
            alone = np.array(src)
            alone[k] = 1.0
            others[k] = _scattered(base, s, alone, np.multiply)[at][k]
        return s.g[at] * others
    x_wins = x == s.o  # counted even where x takes no part (torch's rule, include_self=False)
    src_wins = src == s.o[at]
    gd = s.g / _scattered(x_wins * 1.0, s, src_wins * 1.0, np.add)
    return np.where(own & x_wins, gd, 0.0) if which == 0 else np.where(src_wins, gd[at], 0.0)


def _each(*parts):
    """Several formulas for one primitive: ``_each(("text", fn), ...)`` -> tuple, one per input."""
    return tuple(parts)


# name -> one (text, fn(ctx)) per input, the input's gradient before it is summed back to the
# input's shape (broadcasting is undone in one place, ``_unbroadcast``). In the text ``g`` is the
# incoming gradient, ``o`` the output, ``{0}``, ``{1}``... the inputs; ``⊙`` is the elementwise product.
# "pow" has two forms: ``a ** k`` (one input, ``fn.k``) and ``a ** b`` (two), told apart by arity.
TENSOR_FORMULAS = {
    "add": _each(("g", lambda s: s.g), ("g", lambda s: s.g)),
    "sub": _each(("g", lambda s: s.g), ("−g", lambda s: -s.g)),
    "mul": _each(("g ⊙ {1}", lambda s: s.g * s.b), ("g ⊙ {0}", lambda s: s.g * s.a)),
    "div": _each(("g / {1}", lambda s: s.g / s.b), ("−g ⊙ o / {1}", lambda s: -s.g * s.o / s.b)),
    "pow": _each(("g ⊙ k·{0}^(k−1)", lambda s: s.g * s.fn.k * s.a ** (s.fn.k - 1.0))),
    "pow/2": _each(("g ⊙ {1}·{0}^({1}−1)", lambda s: s.g * s.b * s.a ** (s.b - 1.0)),
                   ("g ⊙ o·log({0})", lambda s: s.g * s.o * np.log(s.a))),
    "neg": _each(("−g", lambda s: -s.g)),
    "exp": _each(("g ⊙ o", lambda s: s.g * s.o)),
    "log": _each(("g / {0}", lambda s: s.g / s.a)),
    "sqrt": _each(("g / (2·o)", lambda s: s.g / (2 * s.o))),
    "abs": _each(("g ⊙ sign({0})", lambda s: s.g * np.sign(s.a))),
    "sin": _each(("g ⊙ cos({0})", lambda s: s.g * np.cos(s.a))),
    "cos": _each(("−g ⊙ sin({0})", lambda s: -s.g * np.sin(s.a))),
    "tanh": _each(("g ⊙ (1 − o²)", lambda s: s.g * (1 - s.o * s.o))),
    "sigmoid": _each(("g ⊙ o ⊙ (1 − o)", lambda s: s.g * s.o * (1 - s.o))),
    "relu": _each(("g ⊙ [o > 0]", lambda s: s.g * (s.o > 0))),
    "leaky_relu": _each(("g ⊙ (1 if {0} > 0 else slope)",
                         lambda s: s.g * np.where(s.a > 0, 1.0, s.fn.slope))),
    "softplus": _each(("g ⊙ σ({0})", lambda s: s.g * _sig(s.a))),
    "erf": _each(("g ⊙ 2/√π · exp(−{0}²)", lambda s: s.g * 2 / math.sqrt(math.pi) * np.exp(-s.a * s.a))),
    "clamp": _each(("g ⊙ [min ≤ {0} ≤ max]", lambda s: s.g * _clamp_mask(s))),
    "maximum": _each(("g ⊙ [{0} ≥ {1}] (½ at ties)", lambda s: s.g * (s.a >= s.b) * _ties(s.a, s.b)),
                     ("g ⊙ [{1} ≥ {0}] (½ at ties)", lambda s: s.g * (s.b >= s.a) * _ties(s.a, s.b))),
    "minimum": _each(("g ⊙ [{0} ≤ {1}] (½ at ties)", lambda s: s.g * (s.a <= s.b) * _ties(s.a, s.b)),
                     ("g ⊙ [{1} ≤ {0}] (½ at ties)", lambda s: s.g * (s.b <= s.a) * _ties(s.a, s.b))),
    "where": _each(("none (a condition)", None), ("g ⊙ [{0}]", lambda s: np.where(s.a, s.g, 0)),
                   ("g ⊙ [not {0}]", lambda s: np.where(s.a, 0, s.g))),
    "to": _each(("g, cast back to {0}'s dtype", lambda s: s.g.astype(s.a.dtype))),
    "clone": _each(("g", lambda s: s.g)),
    "index_put": _each(("g with zeros where {1} was written", _put_back),
                       ("g[index], summed to {s1}", lambda s: s.g[s.fn.index])),
    "sum": _each(("g expanded to {s0}", lambda s: np.broadcast_to(_keepdim(s, s.g), s.a.shape))),
    "mean": _each(("g / n expanded to {s0}",
                   lambda s: np.broadcast_to(_keepdim(s, s.g) * (s.o.size / s.a.size), s.a.shape))),
    "var": _each(("2/(n − correction) · g ⊙ ({0} − mean)", _var_grad)),
    "std": _each(("var's, of g / (2·o) (0 where o = 0)", _std_grad)),
    "max": _each(("g to the maxima of {0} (shared at ties)", _max_grad)),
    "min": _each(("g to the minima of {0} (shared at ties)", _max_grad)),
    "logsumexp": _each(("g ⊙ exp({0} − o)", lambda s: _keepdim(s, s.g) * np.exp(s.a - _keepdim(s, s.o)))),
    "softmax": _each(("o ⊙ (g − Σ g⊙o)",
                      lambda s: s.o * (s.g - (s.g * s.o).sum(axis=s.fn.dim, keepdims=True)))),
    "log_softmax": _each(("g − exp(o) ⊙ Σ g",
                          lambda s: s.g - np.exp(s.o) * s.g.sum(axis=s.fn.dim, keepdims=True))),
    "reshape": _each(("g reshaped to {s0}", lambda s: s.g.reshape(s.a.shape))),
    "permute": _each(("g permuted back", lambda s: np.transpose(s.g, np.argsort(s.fn.dims)))),
    "expand": _each(("g summed back to {s0}", lambda s: s.g)),
    "index": _each(("g added into zeros {s0} at the index", _index)),
    "gather": _each(("g put into zeros {s0} at the index along dim", _gather_back)),
    "scatter": _each(("g gathered at the index along dim", lambda s: np.take_along_axis(
        s.g, np.expand_dims(s.fn.index, s.fn.dim), s.fn.dim).squeeze(s.fn.dim))),
    "index_add": _each(("g[index]", lambda s: s.g[s.fn.index])),
    "cat": lambda n: tuple((f"g[piece {i}]", lambda s, i=i: _piece(s, i, False)) for i in range(n)),
    "stack": lambda n: tuple((f"g[{i}] along dim", lambda s, i=i: _piece(s, i, True)) for i in range(n)),
    "matmul": _each(("g·{1}ᵀ  ({sg} · {t1})", lambda s: _mm(s, 0)),
                    ("{0}ᵀ·g  ({t0} · {sg})", lambda s: _mm(s, 1))),
    "linear": _each(("g·{1}  ({sg} · {s1})", lambda s: _lin(s, 0)),
                    ("gᵀ·{0}  ({tg} · {s0})", lambda s: _lin(s, 1)),
                    ("Σ_rows g  ({sg} → {s2})", lambda s: _lin(s, 2))),
    "linear_relu": _each(("(g ⊙ [o > 0])·{1}  ({sg} · {s1})", lambda s: _lin(s, 0)),
                         ("(g ⊙ [o > 0])ᵀ·{0}  ({tg} · {s0})", lambda s: _lin(s, 1)),
                         ("Σ_rows g ⊙ [o > 0]  ({sg} → {s2})", lambda s: _lin(s, 2))),
    "conv2d": _each(("conv_transpose(g, {1})  → {s0}", lambda s: _conv(s, 0)),
                    ("conv({0}, g)  → {s1}", lambda s: _conv(s, 1)),
                    ("Σ g over (N, H, W)  → {s2}", lambda s: _conv(s, 2))),
    "conv2d_grad_input": _each(("conv(g, {1})  → {s0}",
                                lambda s: _conv_out(s.g, s.b, s.fn)),
                               ("kernel gradient of (g, {0})  → {s1}",
                                lambda s: _conv_dw(s.g, s.a, s.b.shape[2:], s.fn))),
    "conv2d_grad_weight": _each(("conv_transpose({1}, g)  → {s0}",
                                 lambda s: _conv_dx(s.b, s.g, s.a.shape, s.fn)),
                                ("conv({0}, g)  → {s1}",
                                 lambda s: _conv_out(s.a, s.g, s.fn))),
    "max_pool2d": _each(("g to each window's maximum of {0}", _pool)),
    "max_pool2d_grad": _each(("g read at each window's maximum  → {s0}",
                              lambda s: _pick(s.g, s.fn.hits, s.fn))),
    "max_pool2d_pick": _each(("g sent back to each window's maximum  → {s0}",
                              lambda s: _spread(s.g, s.fn.hits, s.fn, s.a.shape))),
    "cross_entropy": _each(("(softmax({0}) − onehot(target)) ⊙ g / N", _cross_entropy)),
    "binary_cross_entropy": _each(
        ("g ⊙ ({0} − {1}) / ({0}(1 − {0}))",
         lambda s: s.g * (s.a - s.b) / np.maximum(s.a * (1 - s.a), 1e-12)),
        ("g ⊙ (log(1 − {0}) − log {0})",
         lambda s: s.g * (np.maximum(np.log(1 - s.a), -100) - np.maximum(np.log(s.a), -100)))),
    "binary_cross_entropy_with_logits": _each(("g ⊙ (σ({0}) − {1})", lambda s: _bce_logits(s, 0)),
                                              ("−g ⊙ {0}", lambda s: _bce_logits(s, 1))),
    "tan": _each(("g ⊙ (1 + o²)", lambda s: s.g * (1 + s.o * s.o))),
    "rsqrt": _each(("−½ g ⊙ o³", lambda s: -0.5 * s.g * s.o ** 3)),
    "asin": _each(("g / √(1 − {0}²)", lambda s: s.g / np.sqrt(1 - s.a * s.a))),
    "acos": _each(("−g / √(1 − {0}²)", lambda s: -s.g / np.sqrt(1 - s.a * s.a))),
    "atan": _each(("g / (1 + {0}²)", lambda s: s.g / (1 + s.a * s.a))),
    "sinh": _each(("g ⊙ cosh({0})", lambda s: s.g * np.cosh(s.a))),
    "cosh": _each(("g ⊙ sinh({0})", lambda s: s.g * np.sinh(s.a))),
    "asinh": _each(("g / √({0}² + 1)", lambda s: s.g / np.sqrt(s.a * s.a + 1))),
    "acosh": _each(("g / √({0}² − 1)", lambda s: s.g / np.sqrt(s.a * s.a - 1))),
    "atanh": _each(("g / (1 − {0}²)", lambda s: s.g / (1 - s.a * s.a))),
    "log2": _each(("g / ({0}·ln 2)", lambda s: s.g / (s.a * math.log(2)))),
    "log10": _each(("g / ({0}·ln 10)", lambda s: s.g / (s.a * math.log(10)))),
    "log1p": _each(("g / (1 + {0})", lambda s: s.g / (1 + s.a))),
    "exp2": _each(("g ⊙ o·ln 2", lambda s: s.g * s.o * math.log(2))),
    "expm1": _each(("g ⊙ (o + 1)", lambda s: s.g * (s.o + 1))),
    "erfc": _each(("−g ⊙ 2/√π · exp(−{0}²)", lambda s: -s.g * 2 / math.sqrt(math.pi) * np.exp(-s.a * s.a))),
    "erfinv": _each(("g ⊙ √π/2 · exp(o²)", lambda s: s.g * math.sqrt(math.pi) / 2 * np.exp(s.o * s.o))),
    "logit": _each(("g / ({0}(1 − {0}))  (±∞ at 0 and 1, nan outside [0, 1])", _logit_back)),
    "nan_to_num": _each(("g ⊙ [{0} finite]", lambda s: np.where(np.isfinite(s.a), s.g, 0.0))),
    **{name: _each(("0 (piecewise constant)", lambda s: np.zeros_like(s.g)))
       for name in ("floor", "ceil", "trunc", "sign", "round")},
    "RoundedDiv": _each(("0 (a rounded quotient is piecewise constant)", _zero),
                        ("0 (a rounded quotient is piecewise constant)", _zero)),
    "atan2": _each(("g ⊙ {1} / ({0}² + {1}²)  (0 at the origin)",
                    lambda s: s.g * np.where((s.a == 0) & (s.b == 0), 0.0, s.b / (s.a ** 2 + s.b ** 2))),
                   ("−g ⊙ {0} / ({0}² + {1}²)  (0 at the origin)",
                    lambda s: -s.g * np.where((s.a == 0) & (s.b == 0), 0.0, s.a / (s.a ** 2 + s.b ** 2)))),
    "hypot": _each(("g ⊙ {0} / o", lambda s: s.g * s.a / s.o), ("g ⊙ {1} / o", lambda s: s.g * s.b / s.o)),
    "copysign": _each(("g ⊙ o / {0}  (0 where {0} = 0)", lambda s: np.where(s.a == 0, 0.0, s.g * s.o / s.a)),
                      ("0 (only its sign is used)", _zero)),
    "logaddexp": _each(("g / (1 + exp({1} − {0}))", lambda s: s.g / (1 + np.exp(s.b - s.a))),
                       ("g / (1 + exp({0} − {1}))", lambda s: s.g / (1 + np.exp(s.a - s.b)))),
    "logaddexp2": _each(("g / (1 + 2^({1} − {0}))", lambda s: s.g / (1 + np.exp2(s.b - s.a))),
                        ("g / (1 + 2^({0} − {1}))", lambda s: s.g / (1 + np.exp2(s.a - s.b)))),
    "xlogy": _each(("g ⊙ log({1})  (0 where {0} = 0 and {1} ≤ 0)", _xlogy_back),
                   ("g ⊙ {0} / {1}", lambda s: s.g * s.a / s.b)),
    "fmod": _each(("g", lambda s: s.g), ("−g ⊙ trunc({0} / {1})", lambda s: -s.g * _quotient(s))),
    "remainder": _each(("g", lambda s: s.g), ("−g ⊙ floor({0} / {1})", lambda s: -s.g * _quotient(s))),
    **{name: _each((f"g ⊙ [{{0}} {op} {{1}} or {{1}} is nan]", lambda s: np.where(_fwins(s), s.g, 0.0)),
                   (f"g ⊙ [not ({{0}} {op} {{1}} or {{1}} is nan)]", lambda s: np.where(_fwins(s), 0.0, s.g)))
       for name, op in (("fmax", "≥"), ("fmin", "≤"))},
    "clamp/3": _each(("g ⊙ [{1} ≤ {0} ≤ {2}]", lambda s: _clamp_bounds(s, 0)),
                     ("g ⊙ [{0} < {1}]  (and {1} < {2})", lambda s: _clamp_bounds(s, 1)),
                     ("g ⊙ [{0} > {2}]  (or {2} < {1})", lambda s: _clamp_bounds(s, 2))),
    "median": _each(("g shared by the elements of {0} equal to o", _evenly)),
    "prod": _each(("g ⊙ Π of the others along dim  (o / {0} without zeros)", _prod_back)),
    "cumsum": _each(("Σ_{{j ≥ i}} g_j  (a reversed cumsum)",
                     lambda s: _reverse_cumsum(s.g, s.fn.dim, s.fn.reverse))),
    "cumprod": _each(("Σ_{{j ≥ i}} g_j · Π_{{l ≤ j, l ≠ i}} {0}_l  (o / {0}, exact at zeros)",
                      _cumprod_back)),
    "logcumsumexp": _each(("Σ_{{j ≥ i}} g_j · exp({0}_i − o_j)", _logcumsumexp_back)),
    "recurrence": _each(("u: u_i = g_i + {1}_(i+1)·u_(i+1)", lambda s: _recurrence_back(s, 0)),
                        ("u ⊙ o shifted by one", lambda s: _recurrence_back(s, 1))),
    "take_along_dim": _each(("g added into zeros {s0} at the index along dim", _take_back)),
    "scatter_add": _each(("g picked at the index along dim", lambda s: np.take_along_axis(
        s.g, s.fn.index, s.fn.dim))),
    "det": _each(("g ⊙ o · {0}⁻ᵀ", lambda s: _mat(s.g * s.o) * _mT(np.linalg.inv(s.a)))),
    "slogdet": _each(("g · {0}⁻ᵀ", lambda s: _mat(s.g) * _mT(np.linalg.inv(s.a)))),
    "inverse": _each(("−oᵀ · g · oᵀ", lambda s: -_mT(s.o) @ s.g @ _mT(s.o))),
    "solve": _each(("−({1}'s gradient) · oᵀ", lambda s: -np.linalg.solve(_mT(s.a), s.g) @ _mT(s.o)),
                   ("{0}⁻ᵀ · g  (solve({0}ᵀ, g))", lambda s: np.linalg.solve(_mT(s.a), s.g))),
    "einsum": lambda n: tuple((f"einsum of g with the other operands onto operand {i}'s indices",
                               lambda s, i=i: _einsum_back(s, i)) for i in range(n)),
    "flip": _each(("g flipped back along dims", lambda s: np.flip(s.g, s.fn.dims))),
    "roll": _each(("g rolled back by −shifts", lambda s: np.roll(s.g, np.negative(s.fn.shifts), s.fn.dims))),
    "diagonal": _each(("g on the diagonal of zeros {s0}", _diagonal_back)),
    "diagonal_scatter": _each(("the diagonal of g", lambda s: np.diagonal(s.g, s.fn.offset, s.fn.dim1,
                                                                          s.fn.dim2))),
    # indexing.py's gather/scatter (``index`` has the input's ndim) share names with shape.py's
    "GatherDim": _each(("g added into zeros {s0} at the index along dim", _take_back)),
    "ScatterFill": _each(("g with zeros where the index wrote", _written_back)),
    "ScatterDim": _each(("g with zeros where the index wrote", _written_back),
                        ("g picked at the index along dim",
                         lambda s: s.g[_along_index(s.fn.index, s.fn.dim)])),
    "scatter_reduce": _each(("g where {0} takes part, ÷ count (mean), ⊙ the others' product (prod), "
                             "shared by the winners (amax/amin)", lambda s: _scatter_reduce_back(s, 0)),
                            ("g picked at the index along dim, as for {0}",
                             lambda s: _scatter_reduce_back(s, 1))),
}


def tensor_formulas(name, arity, fn=None):
    """The formulas of primitive ``name`` with ``arity`` inputs, or ``None`` when none is declared; a
    key naming ``fn``'s class comes first (primitives that share a name, as ``RoundedDiv``'s "div")."""
    entry = (TENSOR_FORMULAS.get(type(fn).__name__) or TENSOR_FORMULAS.get(f"{name}/{arity}")
             or TENSOR_FORMULAS.get(name))
    if callable(entry):
        entry = entry(arity)
    return entry


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
    formulas = tensor_formulas(g.ops[i], len(ps), ctx.fn)
    if formulas is None or slot >= len(formulas) or formulas[slot][1] is None:
        text, local = f"∂{_paren(pname)} = ? (no formula declared for {g.ops[i]!r})", None
    else:
        env = {f"s{n}": _shape(g.nodes[q].shape) for n, q in enumerate(ps)}
        env.update({f"t{n}": _shape(g.nodes[q].shape[::-1]) for n, q in enumerate(ps)})
        env.update(sg=_shape(ctx.g.shape), tg=_shape(ctx.g.shape[::-1]))
        text = f"∂{_paren(pname)} = " + formulas[slot][0].format(*[_paren(g.names[q]) for q in ps], **env)
        with np.errstate(all="ignore"):
            local = _unbroadcast(formulas[slot][1](ctx), parent.shape).astype(parent.dtype)
    before = running.get(j)
    acc = f"{_paren(pname)}.grad += {_shape(parent.shape)}"
    if local is not None:
        running[j] = local if before is None else before + local
        acc += f" {_entries(local)}, norm {_num(_norm(local))}"
        if before is not None:
            acc += f"  (used again: norm now {_num(_norm(running[j]))})"
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
    keeps the nodes nearest the root and folds the rest into one "… K more" node. Laid out by
    Graphviz's ``dot`` when it is installed and the graph has at most ``DOT_LIMIT`` nodes, else by a
    layered layout computed here. No ``.grad`` is changed; the page never touches the network.
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
    cluster = [None] * kept
    if group_modules and g.params:
        cluster = _clusters(g.nodes, kept, g.parents, g.params)
    names = sorted({c for c in cluster if c is not None})
    edges = _drawn_edges(g, kept)
    n_drawn = kept + (kept < total)
    boxes, paths, bbs, engine = _layout(n_drawn, edges, cluster + [None] * (n_drawn - kept), names)
    shown = [k for k, bb in enumerate(bbs) if bb is not None]  # the layered layout drops overlapping ones
    cid = {names[k]: n for n, k in enumerate(shown)}
    by_child = {}
    for k, (_, i) in enumerate(edges):
        by_child.setdefault(i, []).append(k)
    final = {s.node: s.grad for s in steps}
    when = {s.node: s.index + 1 for s in steps}  # the step after which a node's gradient is complete
    nodes, info = [], []
    for i in range(kept):
        role = _role(g, i)
        nodes.append([g.names[i], g.ops[i], role, *boxes[i], cid.get(cluster[i], -1), _data_text(g, i),
                      _forward_text(g, i)])
        info.append(dict(_node_info(g, i, final.get(i)), step=when[i]))
    if kept < total:
        more = total - kept
        nodes.append([f"… {more} more node{'s' if more != 1 else ''}", "", "more", *boxes[kept], -1, "", ""])
        info.append({"more": more})
    data = {
        "kind": "value" if g.is_value else "tensor", "layout": engine, "total": total, "kept": kept,
        "size": _extent(boxes), "nodes": nodes, "info": info,
        "edges": [[j, i, paths[k]] for k, (j, i) in enumerate(edges)],
        "clusters": [[names[k], *bbs[k]] for k in shown], "dropped_clusters": len(names) - len(shown),
        "seed": _grad_text(steps[0].grad) if steps else "",
        "steps": [_step_json(s, by_child) for s in steps if s.node < kept],
        "hidden_steps": sum(s.node >= kept for s in steps),
        "forward": [[i, by_child.get(i, [])] for i in reversed(g.order) if i < kept],
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
    order = _engine_order(parents)  # consumers before producers: every rank is final when reached
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
    paths = []
    for j, i in edges:
        ax, ay = boxes[j][0] + NODE_W, boxes[j][1] + NODE_H / 2
        bx, by = boxes[i][0], boxes[i][1] + NODE_H / 2
        mx = (ax + bx) / 2
        paths.append(f"M{ax},{ay}C{mx},{ay} {mx},{by} {bx},{by}")
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
