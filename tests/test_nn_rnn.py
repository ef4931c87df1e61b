"""Recurrent layers beyond the twin table of test_nn_layers2.py: torch's repr, the layout of outputs
and final states (which direction and layer is where), and float32 runs matching torch."""
import numpy as np
import pytest

import nn

torch = pytest.importorskip("torch")

R = np.random.default_rng(77)

CONFIGS = [("LSTM", dict()), ("GRU", dict(num_layers=2, batch_first=True)),
           ("RNN", dict(nonlinearity="relu", bidirectional=True, dropout=0.2, num_layers=2)),
           ("LSTM", dict(bias=False, bidirectional=True))]


@pytest.mark.parametrize("cls, kw", CONFIGS)
def test_repr_as_torch(cls, kw):
    assert repr(getattr(nn, cls)(3, 5, **kw)) == repr(getattr(torch.nn, cls)(3, 5, **kw))


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_final_state_layout(cls):
    m = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    out, state = m(R.standard_normal((2, 6, 3)))
    h = (state[0] if cls == "LSTM" else state).detach().numpy()
    out = out.detach().numpy()
    assert out.shape == (2, 6, 8) and h.shape == (4, 2, 4)
    np.testing.assert_array_equal(h[2], out[:, -1, :4])  # last layer, forward: its last step
    np.testing.assert_array_equal(h[3], out[:, 0, 4:])  # last layer, reverse: its first step


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_float32_matches_torch(cls):
    theirs = getattr(torch.nn, cls)(5, 7, num_layers=2)
    ours = getattr(nn, cls)(5, 7, num_layers=2)
    ours.load_state_dict(theirs.state_dict())
    x = R.standard_normal((9, 3, 5)).astype(np.float32)
    a = ours(x)[0]
    assert a.dtype == np.float32
    np.testing.assert_allclose(a.detach().numpy(), theirs(torch.tensor(x))[0].detach().numpy(), atol=2e-6)
