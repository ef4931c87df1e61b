"""Property tests: random expression DAGs built in parallel with ``Value`` and torch float64 scalars.

Every op is one lambda applied to both engines, to operands drawn from all nodes built so far (so
intermediates are reused, making diamonds). The ops are chosen so that their domain is the whole real
line (``log(1 + a*a)``, ``a / (1 + |b|)``...); examples that still overflow are rejected for both
engines alike. Values and the gradients of every node (inputs and intermediates) are compared.
"""
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value

torch = pytest.importorskip("torch")

UNARY = [
    lambda a: -a,
    lambda a: a * 0.5 + 1.25,
    lambda a: 2.0 - a,
    lambda a: abs(a),
    lambda a: a.relu(),
    lambda a: a.tanh(),
    lambda a: a.sigmoid(),
    lambda a: a.tanh().exp(),
    lambda a: (a * a + 1.0).log(),
    lambda a: (a * a + 0.5).sqrt(),
    lambda a: a ** 2,
    lambda a: a ** 3,
    lambda a: (a * a + 1.0) ** -0.5,
    lambda a: 3.0 / (1.0 + a * a),
    lambda a: 2.0 ** a.tanh(),
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1.0 + abs(b)),
    lambda a, b: (a * a + 1.0) ** b.tanh(),
    lambda a, b: (a * b).tanh() + a,
    lambda a, b: (a - b).sigmoid() * b,
]

# one step: (op index, first operand, second operand); operands index the nodes built so far, modulo
step = st.tuples(st.integers(0, len(UNARY) + len(BINARY) - 1), st.integers(0, 1000), st.integers(0, 1000))
inputs = st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=2, max_size=4)
programs = st.lists(step, min_size=1, max_size=12)


def build(leaves, program):
    """Apply ``program`` to ``leaves`` (Values or tensors); return every node, leaves first."""
    nodes = list(leaves)
    for op, i, j in program:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append(UNARY[op](a) if op < len(UNARY) else BINARY[op - len(UNARY)](a, b))
    return nodes


def output(nodes, n_leaves):
    """The sum of the nodes nothing else consumed would hide unused work; the last three will do."""
    out = nodes[-1]
    for node in nodes[max(n_leaves, len(nodes) - 3):-1]:
        out = out + node
    return out


def close(ours, theirs, rtol=1e-9, atol=1e-12):
    return math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol)


def finite(*xs):
    return all(math.isfinite(x) and abs(x) < 1e12 for x in xs)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs, programs)
def test_random_dag_values_and_gradients_match_torch(xs, program):
    leaves = [Value(x) for x in xs]
    nodes = build(leaves, program)
    out = output(nodes, len(xs))

    tleaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tnodes = build(tleaves, program)
    for t in tnodes[len(xs):]:
        t.retain_grad()
    tout = output(tnodes, len(xs))
    assume(finite(*(t.item() for t in tnodes), tout.item()))
    tout.backward()
    tgrads = [0.0 if t.grad is None else t.grad.item() for t in tnodes]
    assume(finite(*tgrads))

    out.backward()
    assert close(out.data, tout.item())
    for k, (node, tnode) in enumerate(zip(nodes, tnodes)):
        assert close(node.data, tnode.item()), f"value of node {k}"
    for k, (node, tg) in enumerate(zip(nodes, tgrads)):
        assert close(node.grad, tg), f"grad of node {k}: ours {node.grad!r}, torch {tg!r}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs, programs)
def test_random_dag_second_order_matches_torch(xs, program):
    leaves = [Value(x) for x in xs]
    out = output(build(leaves, program), len(xs))
    tleaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tout = output(build(tleaves, program), len(xs))
    assume(finite(tout.item()))

    tgrads = torch.autograd.grad(tout, tleaves, create_graph=True, allow_unused=True)
    used = [k for k, g in enumerate(tgrads) if g is not None and g.requires_grad]
    assume(used)
    # differentiate a weighted sum of the first-order gradients again (a Hessian-vector product)
    weights = [1.0 + 0.5 * k for k in range(len(xs))]
    tsum = sum(weights[k] * tgrads[k] for k in used)
    thvp = torch.autograd.grad(tsum, tleaves, allow_unused=True)
    thvp = [0.0 if g is None else g.item() for g in thvp]
    assume(finite(*(tgrads[k].item() for k in used), *thvp))

    grads = autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    for k in used:
        assert close(grads[k].data, tgrads[k].item())
    total = sum(weights[k] * grads[k] for k in used)
    hvp = autograd.grad(total, leaves, allow_unused=True)
    for k, (h, th) in enumerate(zip(hvp, thvp)):
        assert close(0.0 if h is None else h.data, th, rtol=1e-8, atol=1e-10), f"input {k}"
