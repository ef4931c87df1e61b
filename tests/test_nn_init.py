"""nn.init: torch's gains and fans, each initialiser's distribution (bounds and moments with a fixed
seed), in place under no_grad, reproducible with manual_seed; every layer's default initialisation."""
import math

import numpy as np
import pytest
import torch

import autograd
import nn
from nn import init


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("selu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5))])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args), rel=1e-12)


def test_fans_match_torch():
    for shape in [(3, 4), (5, 2, 3, 3), (2, 7, 4)]:
        ours = init._calculate_fan_in_and_fan_out(nn.Parameter(np.zeros(shape)))
        assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(nn.Parameter(np.zeros((3, 3))), mode="fan_avg")


SHAPE = (400, 250)  # fan_in 250, fan_out 400; 100000 samples
FAN_IN, FAN_OUT = 250, 400


@pytest.mark.parametrize("fn,kw,bound,std,mean", [
    (init.uniform_, dict(a=-2.0, b=3.0), (-2.0, 3.0), 5 / math.sqrt(12), 0.5),
    (init.normal_, dict(mean=1.0, std=0.5), None, 0.5, 1.0),
    (init.xavier_uniform_, dict(gain=2.0), 2 * math.sqrt(6 / (FAN_IN + FAN_OUT)),
     2 * math.sqrt(2 / (FAN_IN + FAN_OUT)), 0.0),
    (init.xavier_normal_, dict(), None, math.sqrt(2 / (FAN_IN + FAN_OUT)), 0.0),
    (init.kaiming_uniform_, dict(a=math.sqrt(5)), 1 / math.sqrt(FAN_IN), 1 / math.sqrt(3 * FAN_IN), 0.0),
    (init.kaiming_uniform_, dict(mode="fan_out", nonlinearity="relu"), math.sqrt(6 / FAN_OUT),
     math.sqrt(2 / FAN_OUT), 0.0),
    (init.kaiming_normal_, dict(), None, math.sqrt(2 / (1 + 0.01 ** 2)) / math.sqrt(FAN_IN), 0.0),
    (init.kaiming_normal_, dict(mode="fan_out", nonlinearity="tanh"), None, 5 / 3 / math.sqrt(FAN_OUT), 0.0),
])
def test_distributions(fn, kw, bound, std, mean):
    autograd.manual_seed(0)
    p = nn.Parameter(np.zeros(SHAPE, dtype=np.float32))
    data = p.detach().numpy()
    assert fn(p, **kw) is p
    assert p.detach().numpy() is data and p.dtype == np.float32 and p.is_leaf and p.grad is None  # in place
    x = p.detach().numpy().astype(np.float64)
    if bound is not None:
        lo, hi = bound if isinstance(bound, tuple) else (-bound, bound)
        assert x.min() >= lo and x.max() <= hi
        assert x.min() < lo + 0.01 * (hi - lo) and x.max() > hi - 0.01 * (hi - lo)  # fills the range
    se = std / math.sqrt(x.size)
    assert abs(x.mean() - mean) < 5 * se
    assert abs(x.std() / std - 1) < 0.02
    # the same statistics as torch's own initialiser on the same shape
    t = torch.zeros(SHAPE)
    getattr(torch.nn.init, fn.__name__)(t, **kw)
    assert abs(t.std().item() / std - 1) < 0.02


def test_constants_and_seeding():
    p = nn.Parameter(np.zeros((3, 4)))
    init.ones_(p)
    assert np.all(p.detach().numpy() == 1)
    init.constant_(p, 2.5)
    assert np.all(p.detach().numpy() == 2.5)
    init.zeros_(p)
    assert np.all(p.detach().numpy() == 0)
    autograd.manual_seed(3)
    a = init.normal_(nn.Parameter(np.zeros(5))).detach().numpy().copy()
    autograd.manual_seed(3)
    np.testing.assert_array_equal(init.normal_(nn.Parameter(np.zeros(5))).data, a)


def test_default_layer_initialisation_is_torchs():
    autograd.manual_seed(0)
    lin = nn.Linear(300, 200)
    k = 1 / math.sqrt(300)
    for t in (lin.weight.detach().numpy(), lin.bias.detach().numpy()):
        assert t.dtype == np.float32 and np.abs(t).max() <= k and np.abs(t).max() > 0.97 * k
    assert abs(lin.weight.detach().numpy().std() / (k / math.sqrt(3)) - 1) < 0.02
    conv = nn.Conv2d(4, 64, 5)
    k = 1 / math.sqrt(4 * 25)
    assert np.abs(conv.weight.detach().numpy()).max() <= k and np.abs(conv.bias.detach().numpy()).max() <= k
    assert abs(conv.weight.detach().numpy().std() / (k / math.sqrt(3)) - 1) < 0.03
    emb = nn.Embedding(1000, 50).weight.detach().numpy()
    assert abs(emb.mean()) < 0.02 and abs(emb.std() - 1) < 0.02
    ln, bn = nn.LayerNorm(6), nn.BatchNorm1d(6)
    for m in (ln, bn):
        assert np.all(m.weight.detach().numpy() == 1) and np.all(m.bias.detach().numpy() == 0)
    assert np.all(bn.running_mean.detach().numpy() == 0) and np.all(bn.running_var.detach().numpy() == 1)
    autograd.manual_seed(0)
    # reproducible
    np.testing.assert_array_equal(nn.Linear(300, 200).weight.detach().numpy(), lin.weight.detach().numpy())
