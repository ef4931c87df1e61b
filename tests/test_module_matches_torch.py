"""``autograd.testing.assert_module_matches_torch``: passes for twin models (Linear, MLP, Conv2d,
BatchNorm, Embedding; with and without optimizer steps) and names the parameter and the element on a
planted mismatch (forward, gradient, optimizer step, state-dict keys and shapes)."""
import subprocess
import sys

import numpy as np
import pytest

import nn
from autograd.testing import assert_module_matches_torch

torch = pytest.importorskip("torch")
tnn = torch.nn

RNG = np.random.default_rng(11)
X = RNG.standard_normal((5, 4))
IMAGES = RNG.standard_normal((2, 2, 4, 4))


def twins():
    """(name, chainrule module, torch module, inputs)."""
    return [
        ("linear", nn.Linear(4, 3), tnn.Linear(4, 3), (X,)),
        ("mlp", nn.MLP([4, 8, 8, 2], activation="tanh"),
         tnn.Sequential(tnn.Linear(4, 8), tnn.Tanh(), tnn.Linear(8, 8), tnn.Tanh(), tnn.Linear(8, 2)), (X,)),
        ("conv", nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(48, 2)),
         tnn.Sequential(tnn.Conv2d(2, 3, 3, padding=1), tnn.ReLU(), tnn.Flatten(), tnn.Linear(48, 2)),
         (IMAGES,)),
        ("batchnorm (train mode: running statistics compared)",
         nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)),
         tnn.Sequential(tnn.Linear(4, 3), tnn.BatchNorm1d(3)),
         (X,)),
        ("embedding (integer input)", nn.Embedding(6, 3), tnn.Embedding(6, 3),
         (np.array([[0, 5, 5], [2, 1, 0]]),)),
    ]


OPTIMIZERS = [
    None,
    nn.optim.SGD,
    lambda params: nn.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda params: nn.optim.Adam(params, lr=0.05, betas=(0.8, 0.9), weight_decay=1e-2),
    lambda params: nn.optim.AdamW(params, lr=0.05),
    lambda params: nn.optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True),
]


@pytest.mark.parametrize("k", range(len(twins())), ids=[t[0] for t in twins()])
@pytest.mark.parametrize("opt", range(len(OPTIMIZERS)))
def test_twins_match(k, opt):
    _, ours, theirs, inputs = twins()[k]
    steps = 0 if OPTIMIZERS[opt] is None else 3
    assert_module_matches_torch(ours, theirs, *inputs, steps=steps, optimizer=OPTIMIZERS[opt])


def test_neither_module_is_changed():
    ours, theirs = nn.Linear(4, 3), tnn.Linear(4, 3)
    before_ours, before_theirs = ours.state_dict(), {k: v.clone() for k, v in theirs.state_dict().items()}
    assert_module_matches_torch(ours, theirs, X, steps=2, optimizer=nn.optim.Adam)
    assert ours.weight.dtype == np.float32 and ours.weight.grad is None
    assert theirs.weight.dtype == torch.float32 and theirs.weight.grad is None
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, before_ours[key])
        assert torch.equal(theirs.state_dict()[key], before_theirs[key])


def test_gradients_the_modules_already_hold_are_ignored():
    ours, theirs = nn.Linear(4, 3), tnn.Linear(4, 3)
    ours(X.astype(np.float32)).sum().backward()  # a stale gradient on our side only
    assert ours.weight.grad is not None and theirs.weight.grad is None
    assert_module_matches_torch(ours, theirs, X, steps=1, optimizer=nn.optim.SGD)


def test_parameter_groups_are_mirrored():
    ours, theirs = nn.MLP([4, 8, 2]), tnn.Sequential(tnn.Linear(4, 8), tnn.ReLU(), tnn.Linear(8, 2))

    def factory(params):
        return nn.optim.SGD([{"params": params[:2], "lr": 0.5}, {"params": params[2:]}], lr=0.01,
                            momentum=0.9)
    assert_module_matches_torch(ours, theirs, X, steps=3, optimizer=factory)


# -- planted mismatches --------------------------------------------------------------------------------
class ScaledLinear(nn.Module):
    """``Linear``'s parameters with a planted bug: a wrong forward pass (``scale=1.001``), a wrong
    gradient only (``wrong_grad``), or an output cut from the graph (``scale=0``)."""

    def __init__(self, scale=1.0, wrong_grad=False):
        super().__init__()
        self.weight = nn.Parameter(np.zeros((3, 4), dtype=np.float32))
        self.bias = nn.Parameter(np.zeros(3, dtype=np.float32))
        self.scale, self.wrong_grad = scale, wrong_grad

    def forward(self, x):
        out = x @ self.weight.T * self.scale + self.bias
        if self.wrong_grad:  # the value stays, the weight's gradient doubles
            extra = x @ self.weight.T
            out = out + (extra - extra.detach())
        return out.detach() if self.scale == 0 else out


def test_wrong_forward_names_the_output():
    theirs = tnn.Linear(4, 3)
    ours = ScaledLinear(scale=1.001)
    ours.load_state_dict(theirs.state_dict())
    with pytest.raises(AssertionError, match=r"^the output differs from torch at index \(\d, \d\): autograd"):
        assert_module_matches_torch(ours, theirs, X)


def test_wrong_gradient_names_the_parameter_and_the_element():
    theirs = tnn.Linear(4, 3)
    ours = ScaledLinear(wrong_grad=True)
    ours.load_state_dict(theirs.state_dict())
    with pytest.raises(AssertionError) as info:
        assert_module_matches_torch(ours, theirs, X)
    msg = str(info.value)
    # the input's and the weight's gradients are off (the weight's by most), the bias's is right
    assert msg.startswith("the gradient of parameter 'weight' differs from torch at index (")
    assert "12 of 12 elements differ; also differ: the gradient of input 0)" in msg


def test_an_output_cut_from_the_graph_is_named():
    with pytest.raises(AssertionError, match="^the output: requires_grad is False on autograd but True"):
        assert_module_matches_torch(ScaledLinear(scale=0.0), tnn.Linear(4, 3), X)


class DriftingSGD(nn.optim.SGD):
    """SGD that moves the first parameter's first element a little extra from its second step on."""

    calls = 0

    def step(self, closure=None):
        super().step(closure)
        DriftingSGD.calls += 1
        if DriftingSGD.calls % 3 == 2:
            self.param_groups[0]["params"][0].detach().numpy()[(0,) * 2] += 1e-3


DriftingSGD.__name__ = "SGD"


def test_wrong_optimizer_step_names_the_step_the_parameter_and_the_element():
    DriftingSGD.calls = 0
    with pytest.raises(AssertionError, match=r"^parameter 'weight' after optimizer step 2 of 3 differs from "
                                             r"torch at index \(0, 0\)"):
        assert_module_matches_torch(nn.Linear(4, 3), tnn.Linear(4, 3), X, steps=3,
                                    optimizer=lambda p: DriftingSGD(p, lr=0.1))


def test_state_dict_keys_and_shapes_must_agree():
    with pytest.raises(AssertionError, match=r"keys differ: only in the chainrule module \['bias'\]"):
        assert_module_matches_torch(nn.Linear(4, 3), tnn.Linear(4, 3, bias=False), X)
    with pytest.raises(AssertionError, match=r"'weight': shape \(3, 4\) in the chainrule module but "
                                             r"\(4, 3\)"):
        assert_module_matches_torch(nn.Linear(4, 3), tnn.Linear(3, 4), X)


def test_optimizer_errors():
    with pytest.raises(ValueError, match="steps needs an optimizer"):
        assert_module_matches_torch(nn.Linear(4, 3), tnn.Linear(4, 3), X, steps=1)

    class Mine(nn.optim.SGD):
        pass
    with pytest.raises(ValueError, match="torch.optim has no optimizer named 'Mine'"):
        assert_module_matches_torch(nn.Linear(4, 3), tnn.Linear(4, 3), X, steps=1, optimizer=Mine)
    with pytest.raises(TypeError, match="factory returning an nn.optim optimizer"):
        assert_module_matches_torch(nn.Linear(4, 3), tnn.Linear(4, 3), X, steps=1, optimizer=lambda p: p)


def test_torch_is_imported_only_when_called():
    code = ("import sys, autograd.testing\n"
            "from autograd.testing import assert_module_matches_torch\n"
            "assert 'torch' not in sys.modules, 'torch imported too early'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
