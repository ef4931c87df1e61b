"""autograd.draw_graph: DOT source of Value and Tensor graphs, roles, gradient shading, module clusters,
max_nodes, determinism, rendering with (and without) Graphviz's dot binary, freed graphs."""
import random
import re
import shutil
import time
import warnings

import graphviz
import numpy as np
import pytest

import nn
from autograd import Tensor, Value, draw_graph
from autograd.creation import manual_seed
from autograd.graph import ROLE_COLORS, Digraph, GraphvizNotFoundError, draw_dot

NODE = re.compile(r"^\s*(\w+) \[label=(\".*?\"|<.*>) (.*)\]$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)")
HAS_DOT = shutil.which("dot") is not None


# ------------------------------------------------------------------------------------- helpers
def parse(dot):
    """{node name: (label, attribute text)} and the list of (tail, head) edges, from ``dot.body``."""
    nodes, edges = {}, []
    for line in dot.body:
        line = line.rstrip("\n")
        m = EDGE.match(line)
        if m:
            edges.append(m.groups())
            continue
        m = NODE.match(line)
        if m:
            assert m.group(1) not in nodes, line
            nodes[m.group(1)] = (m.group(2), m.group(3))
    return nodes, edges


def walk(root):
    """Every value/tensor reachable from ``root`` over ``_prev``, each once."""
    seen, stack, out = {id(root)}, [root], []
    while stack:
        node = stack.pop()
        out.append(node)
        for p in node._prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return out


def expected_counts(root):
    """(nodes, edges) draw_graph should draw: a node per value plus one per op; an edge per operand
    plus op -> result."""
    values = walk(root)
    ops = [v for v in values if v._op]
    return len(values) + len(ops), sum(len(tuple(v._prev)) for v in values) + len(ops)


def node_with(nodes, text):
    """The (name, label, attrs) of the one node whose label contains ``text``."""
    found = [(k, lab, attrs) for k, (lab, attrs) in nodes.items() if text in lab]
    assert len(found) == 1, (text, found)
    return found[0]


def fill_of(attrs):
    return re.search(r'fillcolor="(#[0-9a-f]{6})"', attrs).group(1)


def border_of(attrs):
    return re.search(r'(?<![a-z])color="(#[0-9a-f]{6})"', attrs).group(1)


def micrograd_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def small_model(seed=0):
    manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(4, 2)).astype(np.float32))
    y = Tensor(rng.normal(size=(4, 1)).astype(np.float32), label="target")
    loss = ((model(x) - y) ** 2).mean()
    return model, x, loss


def scalar_mlp(points=32, sizes=(2, 16, 16, 1), seed=0):
    """micrograd's MLP of Values and its mean squared error over ``points`` points, after backward."""
    rnd = random.Random(seed)
    layers = [[([Value(rnd.uniform(-1, 1)) for _ in range(a)], Value(0.0)) for _ in range(b)]
              for a, b in zip(sizes, sizes[1:])]

    def forward(x):
        for k, layer in enumerate(layers):
            x = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            if k < len(layers) - 1:
                x = [v.tanh() for v in x]
        return x[0]

    total = Value(0.0)
    for _ in range(points):
        a, c = rnd.uniform(-2, 2), rnd.uniform(-2, 2)
        total = total + (forward([Value(a), Value(c)]) - (1.0 if a * c > 0 else -1.0)) ** 2
    loss = total * (1 / points)
    loss.backward()
    return loss


# ------------------------------------------------------------------------------------- Value graphs
def test_value_graph_nodes_edges_labels_data_grads():
    o = micrograd_neuron()
    dot = draw_graph(o)
    assert isinstance(dot, graphviz.Digraph) and isinstance(dot, Digraph)
    nodes, edges = parse(dot)
    assert (len(nodes), len(edges)) == expected_counts(o) == (15, 14)
    for name, data, grad in [("x1", "2.0000", "-1.5000"), ("x2", "0.0000", "0.5000"),
                             ("w1", "-3.0000", "1.0000"), ("w2", "1.0000", "0.0000"),
                             ("b", "6.8814", "0.5000"), ("n", "0.8814", "0.5000"),
                             ("o", "0.7071", "1.0000")]:
        _, label, _ = node_with(nodes, f"{{ {name} |")
        assert f"data {data}" in label and f"grad {grad}" in label, label
    ops = sorted(lab for k, (lab, _) in nodes.items() if k.startswith("o"))
    assert ops == ['"*"', '"*"', '"+"', '"+"', '"tanh"']


def test_value_graph_edges_in_operand_order_and_repeated_operands():
    a, b = Value(3.0, label="a"), Value(4.0, label="b")
    c = b - a  # operand order b, a
    nodes, edges = parse(draw_graph(c))
    va, vb = node_with(nodes, "{ a |")[0], node_with(nodes, "{ b |")[0]
    into_op = [t for t, h in edges if h.startswith("o")]
    assert into_op == [vb, va]
    sq = a * a  # the same operand twice: two edges
    nodes, edges = parse(draw_graph(sq))
    assert (len(nodes), len(edges)) == expected_counts(sq) == (3, 3)


def test_value_roles_and_params_names():
    o = micrograd_neuron()
    leaves = {v.label: v for v in walk(o) if not v._prev}
    nodes, _ = parse(draw_graph(o, params={"weight_1": leaves["w1"], "bias": leaves["b"]}))
    _, label, attrs = node_with(nodes, "weight_1")
    assert fill_of(attrs) == ROLE_COLORS["parameter"][0]
    assert fill_of(node_with(nodes, "bias")[2]) == ROLE_COLORS["parameter"][0]
    assert fill_of(node_with(nodes, "{ x1 |")[2]) == ROLE_COLORS["input"][0]
    assert fill_of(node_with(nodes, "{ o |")[2]) == ROLE_COLORS["output"][0]
    assert fill_of(node_with(nodes, "{ n |")[2]) == ROLE_COLORS["intermediate"][0]
    assert len({ROLE_COLORS[r][0] for r in ROLE_COLORS}) == len(ROLE_COLORS)  # all told apart


def test_record_special_characters_are_escaped():
    a = Value(1.0, label='a|b{c}<d>"e"')
    nodes, _ = parse(draw_graph(a * 2))
    label = node_with(nodes, "a\\|b")[1]
    assert '\\{c\\}' in label and '\\<d\\>' in label and '\\"e\\"' in label


# ------------------------------------------------------------------------------------- Tensor graphs
def test_tensor_graph_names_shapes_dtypes_ops():
    model, x, loss = small_model()
    x.label = "x"
    params = dict(model.named_parameters())
    dot = draw_graph(loss, params=params)
    nodes, edges = parse(dot)
    assert (len(nodes), len(edges)) == expected_counts(loss)
    assert "{ 0.weight | (3, 2) float32" in node_with(nodes, "0.weight")[1]
    assert "(3,) float32" in node_with(nodes, "0.bias")[1]
    assert "(1, 3) float32" in node_with(nodes, "2.weight")[1]
    assert "(4, 2) float32" in node_with(nodes, "{ x |")[1]          # .label
    assert "(4, 1) float32" in node_with(nodes, "{ target |")[1]
    assert "{ output | scalar float32" in node_with(nodes, "output")[1]  # role when no name
    ops = sorted(lab.strip('"') for k, (lab, _) in nodes.items() if k.startswith("o"))
    assert ops == sorted(v._op for v in walk(loss) if v._op)
    assert "tanh" in ops and "mean" in ops
    assert "grad" not in dot.source  # no backward yet
    for name in params:
        assert fill_of(node_with(nodes, name)[2]) == ROLE_COLORS["parameter"][0]
    assert fill_of(node_with(nodes, "{ x |")[2]) == ROLE_COLORS["input"][0]
    assert fill_of(node_with(nodes, "output")[2]) == ROLE_COLORS["output"][0]


def test_tensor_grad_norm_after_backward_retain_graph():
    model, x, loss = small_model()
    loss.backward(retain_graph=True)
    nodes, _ = parse(draw_graph(loss, params=dict(model.named_parameters())))
    w = model[0].weight
    label = node_with(nodes, "0.weight")[1]
    assert f"grad norm {float(np.linalg.norm(w.grad.data)):.4f}" in label
    assert "grad" not in node_with(nodes, "output")[1]  # non-leaf: no .grad kept


def test_tensor_constant_and_input_roles():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = (a * 2.0 + Tensor([[1.0], [2.0]])).sum()
    nodes, _ = parse(draw_graph(out))
    assert fill_of(node_with(nodes, "{ constant |")[2]) == ROLE_COLORS["constant"][0]
    inputs = [k for k, (lab, _) in nodes.items() if "{ input |" in lab]
    assert len(inputs) == 2
    assert "data [1, 2, 3]" in node_with(nodes, "input | (3,) float")[1]


def test_group_modules_clusters():
    model, _, loss = small_model()
    dot = draw_graph(loss, params=dict(model.named_parameters()), group_modules=True)
    src = dot.source
    assert "subgraph cluster_0 {" in src and "subgraph cluster_2 {" in src
    assert "cluster_1" not in src  # Tanh has no parameters
    clusters, current = {}, None
    for line in dot.body:
        m = re.match(r"\s*subgraph (cluster_\w+) \{", line)
        if m:
            current = m.group(1)
        elif line.strip() == "}":
            current = None
        elif current and NODE.match(line.rstrip("\n")):
            clusters.setdefault(current, []).append(NODE.match(line.rstrip("\n")).group(2))
    for mod in ("0", "2"):
        labels = " ".join(clusters[f"cluster_{mod}"])
        assert f"{mod}.weight" in labels and f"{mod}.bias" in labels and "linear" in labels
    assert re.search(r"label=0\b", src) and re.search(r"label=2\b", src)
    # same node and edge counts as without clusters
    assert tuple(map(len, parse(dot))) == expected_counts(loss)
    with pytest.raises(ValueError, match="params"):
        draw_graph(loss, group_modules=True)


# ------------------------------------------------------------------------------------- options
def test_max_nodes_summary_node():
    loss = scalar_mlp(points=2, sizes=(2, 4, 1))
    values = len(walk(loss))
    dot = draw_graph(loss, max_nodes=20)
    nodes, edges = parse(dot)
    drawn = [k for k in nodes if k.startswith("v")]
    assert len(drawn) == 20
    assert f"{values - 20} more nodes" in nodes["more"][0]
    assert any(t == "more" for t, _ in edges)
    assert all(t in nodes and h in nodes for t, h in edges)
    full = draw_graph(loss, max_nodes=values)  # exactly all: no summary
    assert "more" not in parse(full)[0]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError):
            draw_graph(loss, max_nodes=bad)


def test_deterministic_source():
    o1, o2 = micrograd_neuron(), micrograd_neuron()
    assert draw_graph(o1).source == draw_graph(o1).source == draw_graph(o2).source
    m1, _, l1 = small_model()
    m2, _, l2 = small_model()
    for loss in (l1, l2):
        loss.backward(retain_graph=True)
    kw = dict(color_grads=True, group_modules=True)
    s1 = draw_graph(l1, params=dict(m1.named_parameters()), **kw).source
    assert s1 == draw_graph(l1, params=dict(m1.named_parameters()), **kw).source
    assert s1 == draw_graph(l2, params=dict(m2.named_parameters()), **kw).source


def test_rankdir_format_show_data():
    o = micrograd_neuron()
    assert "rankdir=LR" in draw_graph(o).source
    dot = draw_graph(o, format="png", rankdir="TB")
    assert dot.format == "png" and "rankdir=TB" in dot.source
    assert "data " not in draw_graph(o, show_data=False).source
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(o, rankdir="XY")
    with pytest.raises(TypeError):
        draw_graph(3.0)
    assert draw_dot is draw_graph


def test_color_grads_legend_and_shading():
    a, b = Value(1e-3, label="a"), Value(10.0, label="b")
    z = Value(5.0, label="z")
    out = a * b + z * 0.0
    out.label = "out"
    out.backward()  # a.grad 10, b.grad 1e-3, z.grad 0
    plain = draw_graph(out).source
    assert "log10" not in plain
    dot = draw_graph(out, color_grads=True)
    assert "log10 scale" in dot.source and "nan/inf" in dot.source
    # legend swatches: readable text on the dark end (white on dark red, black on pale)
    assert '<td bgcolor="#800026"><font color="#ffffff">' in dot.source
    assert '<td bgcolor="#ffffcc"><font color="#000000">' in dot.source
    nodes, _ = parse(dot)
    fa, fb = fill_of(node_with(nodes, "{ a |")[2]), fill_of(node_with(nodes, "{ b |")[2])
    assert fa != fb and fa == "#800026" and fb == "#ffffcc"  # largest dark red, smallest pale
    assert "dashed" in node_with(nodes, "{ z |")[2]  # zero gradient
    assert border_of(node_with(nodes, "{ a |")[2]) == ROLE_COLORS["input"][1]  # role as border
    bad = Value(float("nan"), label="bad") * 2.0
    bad.backward()
    assert "#d946ef" in draw_graph(bad, color_grads=True).source


# ------------------------------------------------------------------------------------- rendering
@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot binary is not installed")
def test_render_svg_with_dot(tmp_path):
    dot = draw_graph(micrograd_neuron())
    svg = dot.pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ("x1", "w2", "tanh", "data 0.7071", "grad &#45;1.5000"):
        assert text in svg, text
    path = dot.render(tmp_path / "neuron", cleanup=True)
    assert path.endswith(".svg") and "x1*w1" in open(path).read()
    bundle = dot._repr_mimebundle_()
    assert "x1" in bundle["image/svg+xml"]
    model, _, loss = small_model()
    loss.backward(retain_graph=True)
    svg = draw_graph(loss, params=dict(model.named_parameters()), color_grads=True,
                     group_modules=True).pipe(format="svg").decode()
    assert "0.weight" in svg and "linear" in svg and "grad norm" in svg


def test_missing_dot_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None
    dot = draw_graph(micrograd_neuron())
    assert "x1" in dot.source  # building and .source need no binary
    for call in (lambda: dot.pipe(), lambda: dot.render(tmp_path / "g"), lambda: dot._repr_mimebundle_()):
        with pytest.raises(GraphvizNotFoundError) as e:
            call()
        assert isinstance(e.value, RuntimeError) and isinstance(e.value, graphviz.ExecutableNotFound)
        assert "Install Graphviz" in str(e.value) and "apt-get install graphviz" in str(e.value)


# ------------------------------------------------------------------------------------- scale
def test_big_scalar_mlp_graph():
    loss = scalar_mlp(points=32)
    values, edges = expected_counts(loss)
    assert values >= 20_000
    t0 = time.perf_counter()
    dot = draw_graph(loss, max_nodes=200)
    src = dot.source
    assert time.perf_counter() - t0 < 5
    nodes, _ = parse(dot)
    assert sum(k.startswith("v") for k in nodes) == 200 and "more nodes" in src
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dot = draw_graph(loss, color_grads=True)
        src = dot.source
    elapsed = time.perf_counter() - t0
    assert elapsed < 10, elapsed
    assert any("max_nodes" in str(w.message) for w in caught)  # the warning that dot will be slow
    assert tuple(map(len, parse(dot))) == (values, edges)
    assert len(src) > 1_000_000


# ------------------------------------------------------------------------------------- freed graphs
def test_tensor_graph_drawable_after_backward():
    # as torchviz users expect: backward() frees the saved arrays, not the structure
    model, _, before = small_model()
    expected = parse(draw_graph(before, params=dict(model.named_parameters())))[0]
    model, _, loss = small_model()
    loss.backward()
    nodes, edges = parse(draw_graph(loss, params=dict(model.named_parameters())))
    assert len(nodes) == len(expected)
    w = model[0].weight
    assert f"grad norm {float(np.linalg.norm(w.grad.numpy())):.4f}" in node_with(nodes, "0.weight")[1]
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()  # the saved arrays are gone
    _, _, loss = small_model()
    loss.backward(retain_graph=True)
    assert "linear" in draw_graph(loss).source


def test_tensor_freed_graph_copies():
    """A tensor whose graph backward freed can be copied and deep-copied; the copy draws the same."""
    import copy
    model, _, loss = small_model()
    loss.backward()
    params = dict(model.named_parameters())
    copied = copy.deepcopy(loss)
    assert len(parse(draw_graph(copied))[0]) == len(parse(draw_graph(loss))[0]) > 1
    assert copy.copy(loss._prev) is not loss._prev and copy.copy(loss._prev).kept() == loss._prev.kept()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        copied.backward()
    assert len(parse(draw_graph(loss, params=params))[0]) == len(parse(draw_graph(copied))[0])


def test_freed_value_graph_error():
    a = Value(2.0, label="a")
    out = (a * a).tanh()
    out.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match=r"freed by backward.*retain_graph=True"):
        draw_graph(out)
