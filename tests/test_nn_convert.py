"""nn.to_torch / nn.from_torch: every registered layer and container, in float64 and float32, train and
eval modes: outputs, input and parameter gradients equal the twin's; round trips keep the structure,
weights, buffers, dtypes, requires_grad flags and modes; unsupported modules raise TypeError naming them."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import nn
from autograd import Tensor

rng = np.random.default_rng(0)
X2 = rng.standard_normal((6, 8))
IMG = rng.standard_normal((2, 3, 8, 8))
SEQ = rng.standard_normal((4, 8, 5))

CASES = {  # name: (module factory, input)
    "linear": (lambda: nn.Linear(8, 5), X2),
    "linear-nobias": (lambda: nn.Linear(8, 5, bias=False), X2),
    "conv": (lambda: nn.Conv2d(3, 4, 3), IMG),
    "conv-stride-pad": (lambda: nn.Conv2d(3, 2, (3, 2), stride=(2, 1), padding=(1, 2), bias=False), IMG),
    "maxpool": (lambda: nn.MaxPool2d(2), IMG),
    "maxpool-stride": (lambda: nn.MaxPool2d(3, stride=2), IMG),
    "flatten": (lambda: nn.Flatten(), IMG),
    "flatten-dims": (lambda: nn.Flatten(0, 2), IMG),
    "dropout": (lambda: nn.Dropout(0.3), X2),
    "layernorm": (lambda: nn.LayerNorm(8), X2),
    "layernorm-2d-noaffine": (lambda: nn.LayerNorm((8, 8), eps=1e-3, elementwise_affine=False), IMG),
    "layernorm-nobias": (lambda: nn.LayerNorm(8, bias=False), X2),
    "batchnorm": (lambda: nn.BatchNorm1d(8), X2),
    "batchnorm-3d": (lambda: nn.BatchNorm1d(8, momentum=None, eps=1e-3), SEQ),
    "batchnorm-noaffine": (lambda: nn.BatchNorm1d(8, affine=False), X2),
    "batchnorm-nostats": (lambda: nn.BatchNorm1d(8, track_running_stats=False), X2),
    "identity": (lambda: nn.Identity(), X2),
    "relu": (lambda: nn.ReLU(), X2),
    "tanh": (lambda: nn.Tanh(), X2),
    "sigmoid": (lambda: nn.Sigmoid(), X2),
    "gelu": (lambda: nn.GELU(), X2),
    "gelu-tanh": (lambda: nn.GELU(approximate="tanh"), X2),
    "leaky": (lambda: nn.LeakyReLU(0.2), X2),
    "softmax": (lambda: nn.Softmax(dim=1), X2),
    "logsoftmax": (lambda: nn.LogSoftmax(dim=0), X2),
    "mlp": (lambda: nn.MLP([8, 16, 16, 3], activation="tanh"), X2),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(64, 10), nn.LayerNorm(10), nn.Dropout(0.1), nn.Linear(10, 2)),
            IMG),
    "nested": (lambda: nn.Sequential(nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8)), nn.GELU(),
                                     nn.Sequential(nn.Linear(8, 4), nn.LogSoftmax(dim=1))), X2),
}


def _run(module, x, lib):
    """Output, input gradient and parameter gradients (by name) of ``(module(x) * w).sum()``."""
    module.zero_grad()
    xt = Tensor(x.copy(), requires_grad=True) if lib is nn else torch.tensor(x.copy(), requires_grad=True)
    out = module(xt)
    w = np.cos(np.arange(out.numel()).reshape(tuple(out.shape)))
    (out * (Tensor(w.astype(x.dtype)) if lib is nn else torch.tensor(w.astype(x.dtype)))).sum().backward()
    grads = {n: p.grad.detach().numpy().copy() for n, p in module.named_parameters() if p.grad is not None}
    return out.detach().numpy().copy(), xt.grad.detach().numpy().copy(), grads


def _assert_same_run(a, b, rtol):
    np.testing.assert_allclose(a[0], b[0], rtol=rtol, atol=rtol * 1e-2, err_msg="output")
    np.testing.assert_allclose(a[1], b[1], rtol=rtol, atol=rtol * 1e-2, err_msg="input grad")
    assert sorted(a[2]) == sorted(b[2])
    for k in a[2]:
        np.testing.assert_allclose(a[2][k], b[2][k], rtol=rtol, atol=rtol * 1e-2, err_msg=k)


def _assert_same_state(ours, theirs, rtol=0.0):
    """Same keys and dtypes; values equal (within ``rtol`` after each library ran its own arithmetic)."""
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        assert sd[k].dtype == tsd[k].numpy().dtype, k
        np.testing.assert_allclose(sd[k], tsd[k].numpy(), rtol=rtol, atol=0, err_msg=k)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("key", list(CASES))
def test_to_torch_and_back_give_the_same_function(key, mode, dtype):
    make, x = CASES[key]
    ours = make().to(dtype)
    if mode == "eval" or "dropout" in key or key == "cnn":  # dropout masks differ between the libraries
        with_stats = ours.train()  # a few training batches first, so running statistics are not trivial
        for _ in range(2):
            with_stats(Tensor(x.astype(dtype)))
        ours.eval()
    theirs = nn.to_torch(ours)
    assert isinstance(theirs, torch.nn.Module) and theirs.training == ours.training
    assert [m.training for m in theirs.modules()] == [m.training for m in ours.modules()]
    _assert_same_state(ours, theirs)
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    x = x.astype(dtype)
    _assert_same_run(_run(ours, x, nn), _run(theirs, x, torch), rtol)
    _assert_same_state(ours, theirs, rtol)  # the training pass updated both running statistics alike
    back = nn.from_torch(theirs)
    assert repr(back) == repr(ours).replace("MLP(", "Sequential(", 1)  # an MLP comes back as a Sequential
    assert type(back) is (nn.Sequential if isinstance(ours, nn.MLP) else type(ours))
    _assert_same_state(back, theirs)
    _assert_same_run(_run(back, x, nn), _run(theirs, x, torch), rtol)
    _assert_same_state(back, theirs, rtol)


def test_embedding_round_trip():
    ours = nn.Embedding(10, 4).double()
    idx = np.array([[1, 2, 9], [0, 0, 3]])
    theirs = nn.to_torch(ours)
    out = ours(idx)
    tout = theirs(torch.tensor(idx))
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(ours.weight.grad.detach().numpy(), theirs.weight.grad.numpy())
    assert repr(nn.from_torch(theirs)) == repr(ours)


def test_containers_and_flags_round_trip():
    ours = nn.ModuleList([nn.Linear(2, 3), nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(3, 1)}),
                          nn.ParameterList([nn.Parameter(np.ones(2)), nn.Parameter(np.zeros((1, 3)))]),
                          nn.ParameterDict({"w": nn.Parameter(np.arange(3.0))})])
    ours[0].requires_grad_(False)
    ours[1]["b"].eval()
    theirs = nn.to_torch(ours)
    assert isinstance(theirs[1], torch.nn.ModuleDict) and isinstance(theirs[2], torch.nn.ParameterList)
    assert [p.requires_grad for p in theirs.parameters()] == [p.requires_grad for p in ours.parameters()]
    assert [m.training for m in theirs.modules()] == [m.training for m in ours.modules()]
    _assert_same_state(ours, theirs)
    back = nn.from_torch(theirs)
    assert [type(m).__name__ for m in back.modules()] == [type(m).__name__ for m in ours.modules()]
    assert [p.requires_grad for p in back.parameters()] == [p.requires_grad for p in ours.parameters()]
    assert [m.training for m in back.modules()] == [m.training for m in ours.modules()]
    _assert_same_state(back, theirs)
    assert np.shares_memory(back[2][0].detach().numpy(), theirs[2][0].detach().numpy()) is False


def test_a_model_prototyped_here_trains_on_torch_and_comes_back():
    ours = nn.MLP([8, 16, 2]).double()
    theirs = nn.to_torch(ours)
    opt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    x, y = torch.tensor(X2), torch.tensor([0, 1, 1, 0, 1, 0])
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(theirs(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    back = nn.from_torch(theirs)
    np.testing.assert_allclose(back(Tensor(X2)).detach().numpy(), theirs(x).detach().numpy(), rtol=1e-12)
    assert back[0].weight.dtype == np.float64


def test_torch_built_modules_convert():
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3, stride=2), torch.nn.ReLU(inplace=False),
                                 torch.nn.Flatten(), torch.nn.Linear(18, 4), torch.nn.BatchNorm1d(4)).double()
    ours = nn.from_torch(theirs)
    assert ours[0].stride == (2, 2) and ours[4].num_features == 4
    _assert_same_run(_run(ours, IMG, nn), _run(theirs, IMG, torch), 1e-10)


class Custom(nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize("make,match", [
    (lambda: nn.to_torch(nn.Sequential(nn.Linear(2, 2), Custom())),
     r"Custom \(at '1'\) has no registered torch"),
    (lambda: nn.from_torch(torch.nn.Conv3d(1, 1, 3)),
     r"torch\.nn\.modules\.conv\.Conv3d has no registered chainrule"),
    (lambda: nn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2),
                                               torch.nn.Sequential(torch.nn.Conv3d(1, 1, 1)))),
     r"Conv3d \(at '1\.0'\)"),
    (lambda: nn.from_torch(torch.nn.Dropout(inplace=True)), "inplace"),
    (lambda: nn.from_torch(nn.Linear(2, 2)), "expects a torch.nn.Module"),
])
def test_unsupported_modules_raise_type_error_naming_them(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_register_makes_a_new_layer_convert_in_one_line():
    class Softmax2d(nn.Module):  # stands for a layer added later: its torch twin has the same name
        def forward(self, x):
            return x.softmax(-3)

    with pytest.raises(TypeError):
        nn.to_torch(Softmax2d())
    nn.convert.register(Softmax2d)
    try:
        assert isinstance(nn.to_torch(Softmax2d()), torch.nn.Softmax2d)
        assert isinstance(nn.from_torch(torch.nn.Softmax2d()), Softmax2d)
    finally:
        del nn.convert._TO_TORCH[Softmax2d], nn.convert._FROM_TORCH["Softmax2d"]


def test_import_does_not_load_torch():
    code = "import sys, nn; m = nn.MLP([2, 3]); assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
