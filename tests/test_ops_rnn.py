"""The fused recurrence (autograd/ops/rnn.py): one graph node per layer direction, and every mode,
direction and bias setting against torch in float64 (outputs, gradients of inputs, initial states and
weights, second order through ``create_graph``), with frozen weights, and torch's error when a saved
weight is changed in place before backward."""
import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor
from test_nn_layers2 import Const, check_twin

torch = pytest.importorskip("torch")

R = np.random.default_rng(1818)


def rn(*shape):
    return R.standard_normal(shape)


def _call_with_state(mod, x, *state):
    return mod(x, tuple(state) if len(state) == 2 else state[0])


TWINS = [  # (name, make(lib) -> module, arrays: input and initial states, call)
    ("lstm-nobias-h0c0", lambda m: m.LSTM(3, 4, bias=False, bidirectional=True), (rn(5, 2, 3), rn(2, 2, 4),
                                                                                  rn(2, 2, 4))),
    ("gru-nobias-bidirectional", lambda m: m.GRU(3, 4, bias=False, num_layers=2, bidirectional=True),
     (rn(4, 2, 3),)),
    ("rnn-tanh-h0-batch-first", lambda m: m.RNN(3, 4, batch_first=True, bidirectional=True),
     (rn(2, 6, 3), rn(2, 2, 4))),
    ("rnn-relu-unbatched", lambda m: m.RNN(3, 5, nonlinearity="relu", num_layers=2), (rn(4, 3),)),
    ("lstm-constant-input", lambda m: m.LSTM(2, 3, num_layers=2), (Const(rn(3, 1, 2)),)),
    ("gru-one-step", lambda m: m.GRU(2, 3), (rn(1, 4, 2), rn(1, 4, 3))),
]


@pytest.mark.parametrize("make, arrays", [pytest.param(m, a, id=n) for n, m, a in TWINS])
def test_recurrence_matches_torch_to_second_order(make, arrays):
    check_twin(make, *arrays, call=_call_with_state if len(arrays) > 1 else None)


def _nodes(t):
    """Every node of ``t``'s graph (by identity)."""
    seen, stack = {}, [t]
    while stack:
        n = stack.pop()
        if id(n) not in seen:
            seen[id(n)] = n
            stack.extend(n._prev)
    return list(seen.values())


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_one_recurrence_node_per_layer_direction(cls):
    m = getattr(nn, cls)(3, 4, num_layers=3, bidirectional=True).double()
    out, _ = m(rn(7, 2, 3))
    names = [n.grad_fn.name for n in _nodes(out.sum()) if n.grad_fn is not None]
    assert names.count("recurrence") == 3 * 2
    assert len(names) < 40  # no node per time step: 7 steps x 6 directions would be hundreds


def test_frozen_recurrent_weights_get_no_gradient():
    ours, theirs = nn.LSTM(3, 4).double(), torch.nn.LSTM(3, 4).double()
    ours.load_state_dict(theirs.state_dict())
    for m in (ours, theirs):
        m.weight_hh_l0.requires_grad_(False)
    x = rn(5, 2, 3)
    ours(Tensor(x))[0].sum().backward()
    theirs(torch.tensor(x))[0].sum().backward()
    assert ours.weight_hh_l0.grad is None
    for name, p in theirs.named_parameters():
        if p.requires_grad:
            np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), rtol=1e-10,
                                       err_msg=name)


def test_weight_changed_in_place_before_backward_raises_as_torch():
    for lib, m in ((autograd, nn.GRU(3, 4)), (torch, torch.nn.GRU(3, 4))):
        out, _ = m(lib.tensor(rn(5, 2, 3).astype(np.float32)))
        with lib.no_grad():
            m.weight_hh_l0.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
