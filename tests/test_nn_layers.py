"""Every nn layer against its torch twin with the same weights (copied with load_state_dict): outputs,
input gradients and parameter gradients in float64, train and eval; second order for the fused
primitives; Module mechanics (registration, traversal, train/eval, repr, dtype)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
import nn.functional as F
from autograd import Tensor

TNN = torch.nn


def _np(t):
    return t.detach().numpy()


def twin(ours, theirs):
    """``ours`` loaded from torch's ``theirs``, both in float64."""
    theirs.double()
    ours.load_state_dict(theirs.state_dict())
    return ours.double(), theirs


def check(ours, theirs, x, *, train=True, atol=1e-10, rtol=1e-7, grad_input=True, seed=0):
    """Forward and backward of both modules on ``x``; compare output, input grad and param grads."""
    ours.train(train)
    theirs.train(train)
    xo = Tensor(x, requires_grad=grad_input and x.dtype.kind == "f")
    xt = torch.tensor(x, requires_grad=grad_input and x.dtype.kind == "f")
    out, tout = ours(xo), theirs(xt)
    np.testing.assert_allclose(out.detach().numpy(), _np(tout), rtol=rtol, atol=atol)
    go = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(go)
    tout.backward(torch.tensor(go))
    if xo.requires_grad:
        np.testing.assert_allclose(xo.grad.detach().numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.detach().numpy(), theirs_params[name].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)
    return out, tout


rng = np.random.default_rng(1234)


# -- layers vs torch ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    ours, theirs = twin(nn.Linear(4, 3, bias=bias), TNN.Linear(4, 3, bias=bias))
    check(ours, theirs, rng.standard_normal(shape))
    assert (ours.bias is None) == (not bias)


@pytest.mark.parametrize("cfg", [
    dict(c=1, o=4, k=3, s=1, p=1, hw=(8, 8)),
    dict(c=3, o=2, k=3, s=2, p=0, hw=(9, 7)),
    dict(c=2, o=3, k=(2, 3), s=(1, 2), p=(1, 0), hw=(6, 7)),
    dict(c=2, o=2, k=1, s=1, p=0, hw=(3, 3)),
    dict(c=4, o=5, k=5, s=3, p=2, hw=(10, 11)),
])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(cfg, bias):
    ours, theirs = twin(nn.Conv2d(cfg["c"], cfg["o"], cfg["k"], cfg["s"], cfg["p"], bias=bias),
                        TNN.Conv2d(cfg["c"], cfg["o"], cfg["k"], cfg["s"], cfg["p"], bias=bias))
    check(ours, theirs, rng.standard_normal((3, cfg["c"]) + cfg["hw"]))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(3, 8),
       w=st.integers(3, 8), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1))
def test_conv2d_random_shapes(n, c, o, h, w, k, s, p):
    ours, theirs = twin(nn.Conv2d(c, o, k, s, p), TNN.Conv2d(c, o, k, s, p))
    check(ours, theirs, np.random.default_rng(n * 100 + h).standard_normal((n, c, h, w)))


def test_conv2d_unbatched_input():
    ours, theirs = twin(nn.Conv2d(2, 3, 3, padding=1), TNN.Conv2d(2, 3, 3, padding=1))
    check(ours, theirs, rng.standard_normal((2, 5, 5)))


@pytest.mark.parametrize("k,s,hw", [(2, None, (8, 8)), (2, None, (7, 9)), (3, 1, (6, 5)), (3, 2, (7, 7)),
                                    ((2, 3), (1, 2), (6, 7)), (1, 1, (3, 4))])
def test_maxpool2d(k, s, hw):
    ours, theirs = nn.MaxPool2d(k, s), TNN.MaxPool2d(k, s)
    check(ours, theirs, rng.standard_normal((2, 3) + hw))


def test_maxpool2d_ties_go_to_the_first_maximum_like_torch():
    x = np.zeros((1, 2, 4, 4))
    x[0, 1, :2, :2] = 1.0  # a window with four equal maxima
    x[0, 0, 2:, 2:] = [[0.0, 3.0], [3.0, 3.0]]
    check(nn.MaxPool2d(2), TNN.MaxPool2d(2), x)
    check(nn.MaxPool2d(3, 1), TNN.MaxPool2d(3, 1), x)


def test_maxpool2d_propagates_nan_like_torch():
    x = rng.standard_normal((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    out, tout = nn.MaxPool2d(2)(Tensor(x)), TNN.MaxPool2d(2)(torch.tensor(x))
    np.testing.assert_array_equal(np.isnan(out.detach().numpy()), np.isnan(_np(tout)))
    np.testing.assert_allclose(out.detach().numpy(), _np(tout))


def test_flatten():
    check(nn.Flatten(), TNN.Flatten(), rng.standard_normal((2, 3, 4, 5)))
    check(nn.Flatten(0, 2), TNN.Flatten(0, 2), rng.standard_normal((2, 3, 4, 5)))


@pytest.mark.parametrize("shape,norm", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((3, 6), [6])])
def test_layernorm(shape, norm):
    ours, theirs = twin(nn.LayerNorm(norm), TNN.LayerNorm(norm))
    with torch.no_grad():  # non-trivial affine parameters
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours.load_state_dict(theirs.state_dict())
    check(ours, theirs, rng.standard_normal(shape) * 3 + 1)


@pytest.mark.parametrize("shape", [(6, 4), (5, 4, 3)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm1d_train_eval_and_running_stats(shape, momentum):
    ours, theirs = twin(nn.BatchNorm1d(4, momentum=momentum), TNN.BatchNorm1d(4, momentum=momentum))
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours.load_state_dict(theirs.state_dict())
    for step in range(3):
        for p in ours.parameters():
            p.grad = None
        theirs.zero_grad()
        check(ours, theirs, rng.standard_normal(shape) * 2 + step, train=True, seed=step)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(sd[key], tsd[key].numpy(), rtol=1e-10, err_msg=key)
    assert sd["num_batches_tracked"] == 3
    ours.zero_grad()
    theirs.zero_grad()
    check(ours, theirs, rng.standard_normal(shape), train=False)
    # eval does not touch the running statistics
    np.testing.assert_array_equal(ours.state_dict()["running_mean"], sd["running_mean"])


def test_batchnorm1d_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(autograd.randn(1, 3))
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 3\)"):
        nn.BatchNorm1d(3)(autograd.randn(4, 2))
    nn.BatchNorm1d(3).eval()(autograd.randn(1, 3))  # one sample is fine in eval mode


def test_embedding_with_repeated_indices():
    ours, theirs = twin(nn.Embedding(10, 3), TNN.Embedding(10, 3))
    idx = np.array([[1, 2, 1], [9, 1, 0]])
    out, tout = ours(idx), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out.detach().numpy(), _np(tout))
    go = rng.standard_normal(out.shape)
    out.backward(go)
    tout.backward(torch.tensor(go))
    np.testing.assert_allclose(ours.weight.grad.detach().numpy(), theirs.weight.grad.numpy())
    with pytest.raises(IndexError, match="out of range for 10 embeddings"):
        ours(np.array([10]))
    with pytest.raises(TypeError, match="integer"):
        ours(np.array([0.5]))


@pytest.mark.parametrize("ours,theirs", [
    (nn.ReLU(), TNN.ReLU()), (nn.Tanh(), TNN.Tanh()), (nn.Sigmoid(), TNN.Sigmoid()),
    (nn.GELU(), TNN.GELU()), (nn.GELU("tanh"), TNN.GELU("tanh")), (nn.LeakyReLU(), TNN.LeakyReLU()),
    (nn.LeakyReLU(0.2), TNN.LeakyReLU(0.2)), (nn.Softmax(1), TNN.Softmax(1)),
    (nn.Softmax(-1), TNN.Softmax(-1)), (nn.LogSoftmax(1), TNN.LogSoftmax(1)), (nn.Identity(), TNN.Identity()),
], ids=lambda m: repr(m))
def test_activations(ours, theirs):
    x = rng.standard_normal((4, 5, 3)) * 4
    x[0, 0, 0] = 0.0  # the kink of relu / leaky_relu: torch's subgradient
    check(ours, theirs, x)


def test_activations_at_extremes():
    x = np.array([-1000.0, -40.0, -6.0, 0.0, 6.0, 40.0, 1000.0])
    for ours, theirs in [(nn.GELU(), TNN.GELU()), (nn.Sigmoid(), TNN.Sigmoid()), (nn.Tanh(), TNN.Tanh())]:
        check(ours, theirs, x)


def test_erf_accuracy():
    xs = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 1, 200), [0.0, -0.0]])
    ref = np.array([math.erf(v) for v in xs])
    got = F.erf(Tensor(xs)).data
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=0)
    assert np.signbit(F.erf(Tensor(np.array(-0.0))).data)
    special = F.erf(Tensor(np.array([np.inf, -np.inf, np.nan]))).data
    np.testing.assert_array_equal(special[:2], [1.0, -1.0])
    assert np.isnan(special[2])
    assert F.erf(Tensor(np.float32([0.5]))).dtype == np.float32


def test_dropout_eval_is_identity_and_train_scales_survivors():
    autograd.manual_seed(0)
    drop = nn.Dropout(0.3)
    x = Tensor(np.ones((200, 500)), requires_grad=True)
    assert drop.eval()(x) is x
    y = drop.train()(x)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01  # 100000 Bernoulli(0.7) draws: sd 0.0014
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), kept / 0.7)  # gradient flows through survivors only
    autograd.manual_seed(0)
    # the seeded generator makes it reproducible
    np.testing.assert_array_equal(drop(x).detach().numpy(), y.detach().numpy())
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).detach().numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_cnn_model_end_to_end():
    def make(m):
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
                            m.Conv2d(4, 6, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Flatten(),
                            m.Linear(36, 10), m.LogSoftmax(1))
    ours, theirs = twin(make(nn), make(TNN))
    check(ours, theirs, rng.standard_normal((5, 1, 8, 12)))


@pytest.mark.parametrize("bias", [True, False])
def test_sequential_runs_each_module_as_written(bias):
    def make(m):
        return m.Sequential(m.Linear(4, 6, bias=bias), m.ReLU(), m.Linear(6, 5), m.ReLU(), m.ReLU(),
                            m.Linear(5, 2))
    ours, theirs = twin(make(nn), make(TNN))
    x = rng.standard_normal((7, 4))
    check(ours, theirs, x)
    out = ours(Tensor(x))
    # no hidden rewriting: the graph has one node per module call, in order
    ops = []
    node = out
    while node._prev:
        ops.append(node.grad_fn.name)
        node = node._prev[0]
    assert ops == ["linear", "relu", "relu", "linear", "relu", "linear"]
    ours[0].forward = lambda x: nn.functional.linear(x, ours[0].weight, ours[0].bias) * 0.0
    assert np.all(ours[:2](Tensor(x)).data == 0)  # an instance's own forward is respected


def test_mlp_is_a_sequential_of_linears():
    mlp = nn.MLP([2, 8, 8, 3], activation="tanh")
    assert [type(m).__name__ for m in mlp] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert list(mlp.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    theirs = TNN.Sequential(TNN.Linear(2, 8), TNN.Tanh(), TNN.Linear(8, 8), TNN.Tanh(), TNN.Linear(8, 3))
    ours, theirs = twin(mlp, theirs)
    check(ours, theirs, rng.standard_normal((7, 2)))
    assert isinstance(nn.MLP([3, 4], activation=nn.GELU)[0], nn.Linear)
    assert [type(m).__name__ for m in nn.MLP([3, 4, 5])] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP([2, 3], activation="swish")


# -- second order through the fused primitives ---------------------------------------------------------
def _second_order(fn_ours, fn_torch, *arrays, atol=1e-9):
    """d/dinputs of sum(grad(sum(f * v), inputs)^2): exercises every backward rule's own backward."""
    v = np.random.default_rng(7)
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn_ours(*ours), fn_torch(*theirs)
    w = v.standard_normal(out.shape)
    g1 = autograd.grad((out * w).sum(), ours, create_graph=True)
    t1 = torch.autograd.grad((tout * torch.tensor(w)).sum(), theirs, create_graph=True)
    for a, b in zip(g1, t1):
        np.testing.assert_allclose(a.detach().numpy(), _np(b), atol=atol, rtol=1e-7)
    s = sum((g * g).sum() for g in g1)
    ts = sum((g * g).sum() for g in t1)
    g2 = autograd.grad(s, ours, allow_unused=True)
    t2 = torch.autograd.grad(ts, theirs, allow_unused=True)
    for a, b in zip(g2, t2):
        if b is None or a is None:  # unused: one library may say None where the other has zeros
            assert (a is None or np.allclose(a.detach().numpy(), 0)) and (b is None or np.allclose(_np(b), 0))
        else:
            np.testing.assert_allclose(a.detach().numpy(), _np(b), atol=atol, rtol=1e-7)


def test_second_order_linear():
    _second_order(lambda x, w, b: F.linear(x, w, b), torch.nn.functional.linear,
                  rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5))


@pytest.mark.parametrize("s,p", [(1, 1), (2, 0)])
def test_second_order_conv2d(s, p):
    _second_order(lambda x, w, b: F.conv2d(x, w, b, s, p).tanh(),
                  lambda x, w, b: torch.nn.functional.conv2d(x, w, b, s, p).tanh(),
                  rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3)),
                  rng.standard_normal(3))


@pytest.mark.parametrize("k,s", [(2, 2), (3, 1)])
def test_second_order_max_pool2d(k, s):
    _second_order(lambda x: F.max_pool2d(x * x, k, s), lambda x: torch.nn.functional.max_pool2d(x * x, k, s),
                  rng.standard_normal((2, 2, 6, 6)))


def test_second_order_gelu_leaky_relu_and_layer_norm():
    x = rng.standard_normal((3, 4)) * 2
    _second_order(F.gelu, torch.nn.functional.gelu, x)
    _second_order(lambda a: F.leaky_relu(a * a * a, 0.1),
                  lambda a: torch.nn.functional.leaky_relu(a ** 3, 0.1), x)
    _second_order(lambda a: F.layer_norm(a, (4,)), lambda a: torch.nn.functional.layer_norm(a, (4,)), x)


# -- Module mechanics ------------------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 1)])
        self.scale = nn.Parameter(np.ones(1))
        self.shared = self.heads[0]  # the same module twice: its parameters count once
        self.note = "plain attribute"

    def forward(self, x):
        h = self.body(x)
        return [head(h) * self.scale for head in self.heads]


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "heads.0.weight", "heads.0.bias",
                     "heads.1.weight", "heads.1.bias"]
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.named_children()] == ["body", "heads", "shared"]  # as torch
    assert len(list(net.modules())) == 7  # net, body, Linear, ReLU, heads, Linear, Linear
    assert net.note == "plain attribute" and "note" not in dict(net.named_parameters())
    assert all(isinstance(p, autograd.Tensor) and p.requires_grad and p.is_leaf for p in net.parameters())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        net.missing
    del net.note
    net.scale = nn.Parameter(np.zeros(2))
    assert net.scale.shape == (2,)


def test_assignment_before_init_and_wrong_types():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign"):
        lin.weight = Tensor(np.ones((2, 2)))
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_zero_grad_train_eval():
    net = Net()
    sum(o.sum() for o in net(autograd.randn(5, 3))).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.training and net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_repr_matches_torch():
    def make(m):
        return m.Sequential(m.Conv2d(1, 16, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
                            m.Conv2d(16, 8, (3, 2), 2), m.Flatten(), m.Dropout(0.25),
                            m.Linear(8, 4, bias=False), m.LayerNorm(4),
                            m.BatchNorm1d(4), m.GELU(), m.LeakyReLU(), m.Softmax(dim=1), m.LogSoftmax(dim=1),
                            m.Tanh(), m.Sigmoid(), m.Embedding(10, 3), m.Sequential(m.Linear(2, 2)))
    assert repr(make(nn)) == repr(make(TNN))
    assert repr(nn.Conv2d(2, 3, 3, bias=False)) == repr(TNN.Conv2d(2, 3, 3, bias=False))
    assert repr(nn.ModuleList([nn.ReLU()])) == repr(TNN.ModuleList([TNN.ReLU()]))
    assert repr(nn.Parameter(np.zeros(2))).startswith("Parameter containing:\ntensor(")


def test_dtype_conversion():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.double()
    assert all(t.dtype == np.float64 for t in list(net.parameters()) + [net[1].running_mean])
    assert net[1].num_batches_tracked.dtype == np.int64
    out = net(np.ones((4, 2)))
    assert out.dtype == np.float64
    net.to("float32")
    assert net(np.ones((4, 2), dtype=np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        net.to("int64")
    assert net.to("cpu") is net


def test_layer_input_errors():
    with pytest.raises(ValueError, match=r"input of shape \(2, 5\) does not fit weight of shape \(3, 4\)"):
        nn.Linear(4, 3)(np.ones((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="expects \\(O, 3, kh, kw\\)"):
        nn.Conv2d(2, 4, 3)(np.ones((1, 3, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="larger than the padded input"):
        nn.Conv2d(1, 1, 5)(np.ones((1, 1, 3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="4-D"):
        nn.MaxPool2d(2)(np.ones((3, 3), dtype=np.float32))
    with pytest.raises(RuntimeError, match="groups=3"):
        F.conv2d(np.ones((1, 2, 3, 3)), np.ones((2, 1, 1, 1)), groups=3)


def test_sequential_and_modulelist_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    seq.append(nn.Sigmoid())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="out of range"):
        seq[7]
    ml = nn.ModuleList()
    ml.append(nn.Linear(1, 1)).extend([nn.ReLU()])
    ml.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in ml] == ["Tanh", "Linear", "ReLU"]
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias"]
