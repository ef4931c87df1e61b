"""Every layer against its ``torch.nn`` twin in float64: torch's weights moved into ours by
``load_state_dict`` (and ours back into a fresh torch layer), then outputs, input and parameter
gradients, second-order gradients, buffers after the step, in train and eval modes; default
initialisation statistics; argument errors with torch's exception types."""
import math

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor

torch = pytest.importorskip("torch")
tnn = torch.nn

R = np.random.default_rng(2013)


def rn(*shape):
    return R.standard_normal(shape)


def distinct(*shape):
    return R.permutation(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) * 0.1 - 1.0


class Const:
    """An input that takes no gradient (targets, masks given as floats)."""

    def __init__(self, a):
        self.a = a


def _inputs(arrays, lib):
    out = []
    for a in arrays:
        if isinstance(a, Const):
            out.append(torch.tensor(a.a) if lib is torch else Tensor(a.a))
        elif isinstance(a, np.ndarray) and a.dtype.kind == "f":
            out.append(torch.tensor(a, requires_grad=True) if lib is torch else Tensor(a, requires_grad=True))
        elif isinstance(a, np.ndarray):
            out.append(torch.tensor(a) if lib is torch else Tensor(a))
        else:
            out.append(a)
    return out


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [] if out is None else [out]


def _np(t):
    if t is None:
        return None
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach().numpy())


def _close(what, ours, theirs, rtol=1e-6, atol=1e-9):
    if theirs is None or ours is None:
        a = np.zeros(1) if ours is None else _np(ours)
        b = np.zeros(1) if theirs is None else _np(theirs)
        assert np.allclose(a, 0) and np.allclose(b, 0), f"{what}: one side has no gradient"
        return
    a, b = _np(ours), _np(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs torch {b.dtype}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def _grads(lib, loss, wrt, create_graph):
    if lib is torch:
        return torch.autograd.grad(loss, wrt, create_graph=create_graph, allow_unused=True)
    return autograd.grad(loss, wrt, create_graph=create_graph, allow_unused=True)


def check_twin(make, *arrays, train=True, second=True, call=None, rtol=1e-6):
    """Build ``make(nn)`` and ``make(torch.nn)``, move torch's weights into ours, run both on
    ``arrays`` and compare everything (see the module docstring)."""
    theirs = make(tnn).double()
    ours = make(nn).double()
    ours.load_state_dict(theirs.state_dict())
    back = make(tnn).double()
    back.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k].numpy(), v.numpy(), err_msg=f"state_dict {k}")
    ours.train(train)
    theirs.train(train)
    results = {}
    for lib, mod in ((torch, theirs), (autograd, ours)):
        xs = _inputs(arrays, lib)
        out = (call or (lambda m, *a: m(*a)))(mod, *xs)
        outs = [o for o in _flat(out) if o.dtype in (torch.float64, np.float64)]
        rng = np.random.default_rng(7)
        vs = [rng.standard_normal(o.shape) for o in outs]
        loss = sum(((o * (torch.tensor(v) if lib is torch else Tensor(v))).sum() for o, v in zip(outs, vs)))
        wrt = [x for x in xs if getattr(x, "requires_grad", False)] + [p for _, p in mod.named_parameters()]
        grads = _grads(lib, loss, wrt, second)
        res = dict(outs=[o for o in _flat(out)], grads=grads, buffers=dict(mod.named_buffers()))
        if second:
            ws = [np.random.default_rng(11 + i).standard_normal(tuple(w.shape)) for i, w in enumerate(wrt)]
            terms = [(g * (torch.tensor(w) if lib is torch else Tensor(w))).sum()
                     for g, w in zip(grads, ws) if g is not None and g.requires_grad]
            res["second"] = _grads(lib, sum(terms), wrt, False) if terms else [None] * len(wrt)
        results[lib] = res
    o, t = results[autograd], results[torch]
    assert len(o["outs"]) == len(t["outs"])
    for i, (a, b) in enumerate(zip(o["outs"], t["outs"])):
        _close(f"output {i}", a, b, rtol)
    names = [f"input {i}" for i in range(len(o["grads"]) - len(list(ours.parameters())))]
    names += [f"parameter {n}" for n, _ in ours.named_parameters()]
    for n, a, b in zip(names, o["grads"], t["grads"]):
        _close(f"gradient of {n}", a, b, rtol)
    if second:
        for n, a, b in zip(names, o["second"], t["second"]):
            _close(f"second-order gradient of {n}", a, b, rtol * 10)
    for k, b in t["buffers"].items():
        _close(f"buffer {k}", o["buffers"][k], b)


LAYERS = []


def layer(name, make, *arrays, **kw):
    LAYERS.append(pytest.param(make, arrays, kw, id=name))


X4 = rn(2, 4, 7, 6)
X3 = rn(2, 4, 9)
layer("Conv2d-groups-dilation", lambda m: m.Conv2d(4, 6, 3, stride=(2, 1), padding=2, dilation=2, groups=2),
      X4)
layer("Conv2d-same", lambda m: m.Conv2d(4, 3, (2, 3), padding="same"), X4)
for mode in ("reflect", "replicate", "circular"):
    layer(f"Conv2d-{mode}",
          lambda m, mode=mode: m.Conv2d(4, 2, 3, padding=1, padding_mode=mode, bias=False), X4)
    layer(f"Conv1d-{mode}-same", lambda m, mode=mode: m.Conv1d(4, 2, 4, padding="same", padding_mode=mode),
          X3)
layer("Conv1d", lambda m: m.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), X3)
layer("Conv1d-unbatched", lambda m: m.Conv1d(4, 2, 3), rn(4, 9))
layer("ConvTranspose2d",
      lambda m: m.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), X4)
layer("ConvTranspose2d-output_size", lambda m: m.ConvTranspose2d(4, 2, 3, stride=2), X4,
      call=lambda mod, x: mod(x, output_size=(16, 14)))
layer("ConvTranspose1d", lambda m: m.ConvTranspose1d(4, 3, 2, stride=3, dilation=2), X3)
layer("MaxPool2d", lambda m: m.MaxPool2d(3, stride=(2, 1), padding=1, ceil_mode=True), distinct(2, 3, 7, 6))
layer("MaxPool2d-indices", lambda m: m.MaxPool2d(2, return_indices=True), distinct(2, 3, 6, 6))
layer("MaxPool1d", lambda m: m.MaxPool1d(3, 2, dilation=2), distinct(2, 3, 11))
layer("AvgPool2d", lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False, ceil_mode=True), X4)
layer("AvgPool2d-divisor", lambda m: m.AvgPool2d(2, divisor_override=5), X4)
layer("AvgPool1d", lambda m: m.AvgPool1d(4, 3, padding=2), X3)
layer("AdaptiveAvgPool2d", lambda m: m.AdaptiveAvgPool2d((3, 4)), X4)
layer("AdaptiveAvgPool2d-global", lambda m: m.AdaptiveAvgPool2d(1), X4)
layer("AdaptiveAvgPool1d", lambda m: m.AdaptiveAvgPool1d(4), X3)
layer("AdaptiveMaxPool2d", lambda m: m.AdaptiveMaxPool2d((4, 4), return_indices=True), distinct(2, 2, 7, 6))
UNPOOL_IDX = ((2 * np.arange(3)[:, None] + R.integers(0, 2, (2, 3, 3, 3))) * 6
              + 2 * np.arange(3)[None, :] + R.integers(0, 2, (2, 3, 3, 3)))  # one place in each 2x2 window
layer("MaxUnpool2d", lambda m: m.MaxUnpool2d(2), rn(2, 3, 3, 3), UNPOOL_IDX)
for train in (True, False):
    layer(f"BatchNorm2d-{train}", lambda m: m.BatchNorm2d(4, momentum=0.3), X4, train=train)
    layer(f"BatchNorm2d-cumulative-{train}", lambda m: m.BatchNorm2d(4, momentum=None, affine=False), X4,
          train=train)
    layer(f"BatchNorm2d-untracked-{train}", lambda m: m.BatchNorm2d(4, track_running_stats=False), X4,
          train=train)
    layer(f"InstanceNorm2d-{train}", lambda m: m.InstanceNorm2d(4, affine=True, track_running_stats=True), X4,
          train=train)
    layer(f"InstanceNorm1d-{train}", lambda m: m.InstanceNorm1d(4), X3, train=train)
    layer(f"LSTM-{train}", lambda m: m.LSTM(3, 4, num_layers=2, bidirectional=True), rn(5, 2, 3), train=train)
layer("Dropout1d-eval", lambda m: m.Sequential(m.Dropout1d(0.3), m.AlphaDropout(0.1)), X3, train=False)
layer("Dropout2d-eval", lambda m: m.Dropout2d(0.3), X4, train=False)
layer("InstanceNorm2d-unbatched", lambda m: m.InstanceNorm2d(4), rn(4, 5, 6))
layer("GroupNorm", lambda m: m.GroupNorm(2, 4), X4)
layer("GroupNorm-noaffine", lambda m: m.GroupNorm(4, 4, eps=1e-3, affine=False), X3)
layer("LayerNorm", lambda m: m.LayerNorm((7, 6)), X4)
for name, args in (("ELU", (0.7,)), ("SELU", ()), ("CELU", (1.2,)), ("SiLU", ()), ("Mish", ()),
                   ("Softplus", (2.0, 1.0)), ("Softsign", ()), ("Hardtanh", (-0.5, 0.7)), ("ReLU6", ()),
                   ("Hardswish", ()), ("LogSigmoid", ()), ("GLU", (1,)), ("RReLU", (0.1, 0.3)),
                   ("Softmin", (1,)), ("Tanhshrink", ()), ("Softshrink", (0.3,)), ("Hardshrink", (0.3,)),
                   ("Threshold", (0.1, 2.0))):
    layer(name, lambda m, name=name, args=args: getattr(m, name)(*args), rn(3, 4, 5) * 3, train=False)
layer("Hardsigmoid", lambda m: m.Hardsigmoid(), rn(3, 4) * 3, second=False)
layer("PReLU", lambda m: m.PReLU(), rn(3, 4, 5))
layer("PReLU-channels", lambda m: m.PReLU(4, init=0.1), rn(3, 4, 5))
layer("Embedding-padding_idx", lambda m: m.Embedding(6, 3, padding_idx=2), np.array([[0, 2, 5], [2, 1, 1]]))
layer("Embedding-max_norm", lambda m: m.Embedding(6, 3, max_norm=0.5), np.array([[0, 2, 5], [2, 1, 1]]))
layer("Upsample-nearest", lambda m: m.Upsample(scale_factor=2), X4)
layer("Upsample-bilinear", lambda m: m.Upsample(size=(5, 9), mode="bilinear", align_corners=True), X4)
layer("Unflatten", lambda m: m.Unflatten(1, (2, 2)), X3)
layer("Unfold-Fold", lambda m: m.Sequential(m.Unfold(3, padding=1), m.Fold((7, 6), 3, padding=1)), X4)
layer("Bilinear", lambda m: m.Bilinear(3, 4, 5), rn(2, 6, 3), rn(2, 6, 4))
for pad in ("ZeroPad2d", "ReflectionPad2d", "ReplicationPad2d", "CircularPad2d"):
    layer(pad, lambda m, pad=pad: getattr(m, pad)((1, 2, 2, 1)), X4)
    layer(pad.replace("2d", "1d"), lambda m, pad=pad: getattr(m, pad.replace("2d", "1d"))(2), X3)
layer("ConstantPad2d", lambda m: m.ConstantPad2d(1, 0.5), X4)
layer("CosineSimilarity", lambda m: m.CosineSimilarity(dim=-1), rn(3, 5), rn(3, 5))
layer("PairwiseDistance", lambda m: m.PairwiseDistance(p=1.5), rn(3, 5), rn(3, 5))
# recurrent
for kw in (dict(), dict(batch_first=True), dict(num_layers=2, bidirectional=True, batch_first=True),
           dict(bias=False)):
    for cls in ("RNN", "LSTM", "GRU"):
        xs = rn(2, 5, 3) if kw.get("batch_first") else rn(5, 2, 3)
        layer(f"{cls}-{kw}", lambda m, cls=cls, kw=kw: getattr(m, cls)(3, 4, **kw), xs)
layer("RNN-relu", lambda m: m.RNN(3, 4, nonlinearity="relu", num_layers=2), rn(4, 2, 3))
layer("GRU-unbatched-h0", lambda m: m.GRU(3, 4, num_layers=2), rn(5, 3), rn(2, 4))
layer("LSTM-h0c0", lambda m: m.LSTM(3, 4, bidirectional=True), rn(5, 2, 3), rn(2, 2, 4), rn(2, 2, 4),
      call=lambda mod, x, h, c: mod(x, (h, c)))
layer("LSTM-dropout-eval", lambda m: m.LSTM(3, 4, num_layers=3, dropout=0.5), rn(4, 2, 3), train=False)
layer("LSTMCell", lambda m: m.LSTMCell(3, 4), rn(2, 3), rn(2, 4), rn(2, 4),
      call=lambda mod, x, h, c: mod(x, (h, c)))
layer("GRUCell", lambda m: m.GRUCell(3, 4), rn(2, 3), rn(2, 4))
layer("RNNCell-relu-unbatched", lambda m: m.RNNCell(3, 4, nonlinearity="relu"), rn(3))
layer("LSTMCell-nohx", lambda m: m.LSTMCell(3, 4, bias=False), rn(2, 3))
# attention
KPM = np.array([[False, False, True, False, True], [False] * 5])
AMASK = np.triu(np.ones((4, 5), dtype=bool), 2)
layer("MultiheadAttention", lambda m: m.MultiheadAttention(8, 2), rn(4, 2, 8), rn(5, 2, 8), rn(5, 2, 8))
layer("MultiheadAttention-batch_first-masks", lambda m: m.MultiheadAttention(8, 4, batch_first=True),
      rn(2, 4, 8), rn(2, 5, 8), rn(2, 5, 8), KPM, AMASK,
      call=lambda mod, q, k, v, kpm, am: mod(q, k, v, key_padding_mask=kpm, attn_mask=am,
                                              average_attn_weights=False))
layer("MultiheadAttention-float-mask-noweights", lambda m: m.MultiheadAttention(6, 3, bias=False),
      rn(4, 2, 6),
      rn(4, 2, 6), rn(4, 2, 6), Const(rn(4, 4)),
      call=lambda mod, q, k, v, am: mod(q, k, v, attn_mask=am, need_weights=False),
      second=False)  # torch's fused attention has no second order
layer("MultiheadAttention-self-unbatched", lambda m: m.MultiheadAttention(4, 2), rn(3, 4),
      call=lambda mod, x: mod(x, x, x))
for norm_first in (False, True):
    for act in ("relu", "gelu"):
        layer(f"TransformerEncoderLayer-{norm_first}-{act}", lambda m, nf=norm_first, act=act:
              m.TransformerEncoderLayer(8, 2, 16, activation=act, norm_first=nf, batch_first=True),
              rn(2, 5, 8),
              KPM, call=lambda mod, x, kpm: mod(x, src_key_padding_mask=kpm), train=False, second=False)
layer("TransformerEncoderLayer-causal", lambda m: m.TransformerEncoderLayer(8, 4, 12, dropout=0.0),
      rn(5, 2, 8),
      call=lambda mod, x: mod(x, src_mask=np.triu(np.ones((5, 5), dtype=bool), 1) if isinstance(x, Tensor)
                              else torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)), second=False)
# losses
SIGN = np.where(R.random(6) > 0.5, 1.0, -1.0)
layer("SmoothL1Loss", lambda m: m.SmoothL1Loss(beta=0.5), rn(4, 3), rn(4, 3))
layer("HuberLoss", lambda m: m.HuberLoss(reduction="sum", delta=0.5), rn(4, 3), rn(4, 3))
layer("KLDivLoss", lambda m: m.KLDivLoss(reduction="batchmean", log_target=True), rn(4, 3), rn(4, 3))
layer("CosineEmbeddingLoss", lambda m: m.CosineEmbeddingLoss(0.2), rn(6, 3), rn(6, 3), Const(SIGN))
layer("MarginRankingLoss", lambda m: m.MarginRankingLoss(0.1), rn(6), rn(6), Const(SIGN))
layer("HingeEmbeddingLoss", lambda m: m.HingeEmbeddingLoss(0.5, reduction="none"), rn(6), Const(SIGN))
layer("SoftMarginLoss", lambda m: m.SoftMarginLoss(), rn(6), Const(SIGN))
layer("MultiMarginLoss", lambda m: m.MultiMarginLoss(p=2), rn(4, 3), np.array([0, 2, 1, 1]), second=False)
layer("PoissonNLLLoss", lambda m: m.PoissonNLLLoss(full=True), rn(4, 3), Const(R.uniform(0, 3, (4, 3))))
layer("GaussianNLLLoss", lambda m: m.GaussianNLLLoss(full=True), rn(4, 3), rn(4, 3),
      R.uniform(0.5, 2, (4, 3)))
layer("CrossEntropyLoss-NCd", lambda m: m.CrossEntropyLoss(label_smoothing=0.1), rn(2, 3, 4),
      np.array([[0, 1, 2, 1], [2, 2, 0, 1]]))
layer("CrossEntropyLoss-NCd-fused", lambda m: m.CrossEntropyLoss(reduction="none"), rn(2, 3, 4, 2),
      R.integers(0, 3, (2, 4, 2)))


@pytest.mark.parametrize("make, arrays, kw", LAYERS)
def test_layer_matches_torch(make, arrays, kw):
    check_twin(make, *arrays, **kw)


# -- default initialisation: torch's distributions ----------------------------------------------------
def _bound_check(p, bound):
    a = p.detach().numpy()
    assert np.abs(a).max() <= bound + 1e-7
    assert np.abs(a).max() > 0.9 * bound  # fills the range (thousands of draws)
    assert abs(a.std() - bound / math.sqrt(3)) < 0.1 * bound


INITS = [
    ("Conv2d-groups", lambda: nn.Conv2d(8, 64, 5, groups=4), {"weight": 1 / math.sqrt(2 * 25),
                                                             "bias": 1 / math.sqrt(2 * 25)}),
    ("Conv1d", lambda: nn.Conv1d(6, 200, 3), {"weight": 1 / math.sqrt(18), "bias": 1 / math.sqrt(18)}),
    ("ConvTranspose2d", lambda: nn.ConvTranspose2d(40, 60, 3, groups=2),
     {"weight": 1 / math.sqrt(30 * 9), "bias": 1 / math.sqrt(30 * 9)}),
    ("LSTM", lambda: nn.LSTM(10, 20, num_layers=2), {n: 1 / math.sqrt(20) for n in
                                                    ("weight_ih_l0", "weight_hh_l1", "bias_ih_l1")}),
    ("GRUCell", lambda: nn.GRUCell(10, 30), {"weight_ih": 1 / math.sqrt(30), "bias_hh": 1 / math.sqrt(30)}),
    ("Bilinear", lambda: nn.Bilinear(9, 20, 30), {"weight": 1 / 3, "bias": 1 / 3}),
    ("MultiheadAttention", lambda: nn.MultiheadAttention(64, 4),
     {"in_proj_weight": math.sqrt(6 / (64 + 192))}),
]


@pytest.mark.parametrize("make, bounds", [pytest.param(m, b, id=n) for n, m, b in INITS])
def test_default_initialisation(make, bounds):
    autograd.manual_seed(0)
    mod = make()
    params = dict(mod.named_parameters())
    for name, bound in bounds.items():
        if params[name].numel() >= 30:
            _bound_check(params[name], bound)


def test_constant_initialisation():
    mha = nn.MultiheadAttention(8, 2)
    assert not mha.in_proj_bias.detach().numpy().any() and not mha.out_proj.bias.detach().numpy().any()
    assert (nn.PReLU(3).weight.detach().numpy() == np.float32(0.25)).all()
    emb = nn.Embedding(5, 3, padding_idx=-2)
    assert emb.padding_idx == 3 and not emb.weight.detach().numpy()[3].any()
    gn = nn.GroupNorm(2, 4)
    assert (gn.weight.detach().numpy() == 1).all() and not gn.bias.detach().numpy().any()
    assert nn.InstanceNorm2d(3).weight is None and nn.InstanceNorm2d(3).running_mean is None
    assert list(nn.LSTM(2, 3, bidirectional=True).state_dict()) == list(
        tnn.LSTM(2, 3, bidirectional=True).state_dict())
    assert list(nn.TransformerEncoderLayer(8, 2, 16).state_dict()) == list(
        tnn.TransformerEncoderLayer(8, 2, 16).state_dict())


# -- random layers in training mode -------------------------------------------------------------------
def test_feature_dropout_zeroes_whole_channels():
    autograd.manual_seed(3)
    x = np.ones((64, 16, 5, 4))
    y = nn.Dropout2d(0.25)(x).detach().numpy()
    per_channel = y.reshape(64, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 1 / 0.75).all(-1))
    assert abs((per_channel[..., 0] == 0).mean() - 0.25) < 0.05
    y1 = nn.Dropout1d(0.5)(np.ones((32, 8, 7))).detach().numpy()
    assert np.all((y1 == 0).all(-1) | (y1 == 2.0).all(-1))


def test_alpha_dropout_keeps_selu_statistics():
    autograd.manual_seed(4)
    x = Tensor(R.standard_normal((200, 500)))
    y = nn.AlphaDropout(0.2)(nn.SELU()(x)).detach().numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert nn.AlphaDropout(0.2).eval()(x) is x


def test_rrelu_training_slopes_in_range():
    autograd.manual_seed(5)
    x = -np.ones((1000,))
    y = -nn.RReLU(0.1, 0.3)(x).detach().numpy()
    assert y.min() >= 0.1 and y.max() <= 0.3 and y.std() > 0.04


def test_lstm_dropout_between_layers_only_in_training():
    autograd.manual_seed(6)
    m = nn.LSTM(3, 5, num_layers=2, dropout=0.9)
    x = R.standard_normal((4, 2, 3))
    a, b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    assert not np.allclose(a, b)
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), m(x)[0].detach().numpy())


# -- errors: torch's exception types, messages naming the shapes ----------------------------------------
ERRORS = [
    ("conv2d-rank", lambda: nn.Conv2d(2, 3, 3)(np.ones((2, 5, 5, 5, 1))), RuntimeError,
     r"4-D.*\(2, 5, 5, 5, 1\)"),
    ("conv1d-rank", lambda: nn.Conv1d(2, 3, 3)(np.ones((5,))), RuntimeError, r"3-D.*\(5,\)"),
    ("conv2d-kernel-too-large", lambda: nn.Conv2d(1, 1, 4)(np.ones((1, 1, 3, 5))), RuntimeError,
     r"larger than the padded input \(3, 5\)"),
    ("conv2d-channels", lambda: nn.Conv2d(3, 6, 3, groups=3)(np.ones((1, 6, 5, 5))), RuntimeError,
     "groups=3"),
    ("conv-kernel-0", lambda: nn.Conv2d(1, 1, 0)(np.ones((1, 1, 4, 4))), RuntimeError,
     r"greater than zero.*\(1, 1, 0, 0\)"),
    ("conv-stride-0", lambda: nn.Conv1d(1, 1, 2, stride=0)(np.ones((1, 1, 4))), RuntimeError, "stride"),
    ("conv-groups", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "divisible by groups"),
    ("conv-same-strided", lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), ValueError, "strided"),
    ("f-conv-stride-0", lambda: nn.functional.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), stride=0),
     RuntimeError, "stride"),
    ("maxpool-kernel-0", lambda: nn.MaxPool2d(0)(np.ones((1, 1, 4, 4))), RuntimeError, "kernel_size"),
    ("maxpool-stride-0", lambda: nn.functional.max_pool1d(np.ones((1, 1, 4)), 2, stride=0), RuntimeError,
     "stride"),
    ("maxpool-too-large", lambda: nn.MaxPool2d(5)(np.ones((1, 1, 4, 6))), RuntimeError, "too small"),
    ("maxpool-pad", lambda: nn.MaxPool2d(2, padding=2)(np.ones((1, 1, 4, 4))), RuntimeError, "half of"),
    ("maxpool-rank", lambda: nn.MaxPool1d(2)(np.ones((1, 1, 4, 4))), RuntimeError, r"\(1, 1, 4, 4\)"),
    ("avgpool-too-large", lambda: nn.AvgPool1d(5)(np.ones((1, 1, 4))), RuntimeError, "too small"),
    ("embedding-negative", lambda: nn.Embedding(4, 2)(np.array([0, -1])), IndexError,
     "index -1 .*4 embeddings"),
    ("embedding-too-big", lambda: nn.Embedding(4, 2)(np.array([4])), IndexError, "index 4"),
    ("batchnorm2d-rank", lambda: nn.BatchNorm2d(3)(np.ones((2, 3, 4))), ValueError,
     r"expected 4D input \(got 3D"),
    ("batchnorm2d-one-value", lambda: nn.BatchNorm2d(3)(np.ones((1, 3, 1, 1))), ValueError,
     "more than 1 value"),
    ("groupnorm", lambda: nn.GroupNorm(3, 4), ValueError, "divisible"),
    ("lstm-input-size", lambda: nn.LSTM(3, 4)(np.ones((5, 2, 2))), RuntimeError, "Expected 3, got 2"),
    ("lstm-rank", lambda: nn.LSTM(3, 4)(np.ones((5,))), ValueError, "2D or 3D"),
    ("gru-h0", lambda: nn.GRU(3, 4)(np.ones((5, 2, 3)), np.zeros((1, 3, 4))), RuntimeError,
     r"Expected hidden size \(1, 2, 4\)"),
    ("mha-heads", lambda: nn.MultiheadAttention(6, 4), AssertionError, "divisible"),
    ("pad-reflect", lambda: nn.functional.pad(np.ones((1, 1, 3)), (3, 0), mode="reflect"), RuntimeError,
     r"padding \(3, 0\)"),
    ("pad-odd", lambda: nn.functional.pad(np.ones((1, 3)), (1,)), RuntimeError, "divisible by 2"),
    ("interpolate-mode", lambda: nn.functional.interpolate(np.ones((1, 1, 3)), size=4, mode="bilinear"),
     ValueError, "4-D"),
    ("dropout1d-rank", lambda: nn.functional.dropout1d(np.ones((1, 2, 3, 4))), RuntimeError,
     r"\(1, 2, 3, 4\)"),
    ("glu-odd", lambda: nn.GLU()(np.ones((2, 3))), RuntimeError, "even"),
    ("one_hot-negative", lambda: nn.functional.one_hot(np.array([1, -1])), RuntimeError, "non-negative"),
    ("unpool-indices",
     lambda: nn.functional.max_unpool2d(np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 16), 2),
     RuntimeError, "invalid max index 16"),
]


@pytest.mark.parametrize("fn, exc, match", [pytest.param(f, e, m, id=n) for n, f, e, m in ERRORS])
def test_errors_as_torch(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


TORCH_ERRORS = [  # the same calls raise the same exception type in torch
    lambda m, F: m.Conv2d(1, 1, 0)(torch.ones((1, 1, 4, 4)) if m is tnn else np.ones((1, 1, 4, 4))),
    lambda m, F: m.Conv1d(1, 1, 2, stride=0)(torch.ones((1, 1, 4)) if m is tnn else np.ones((1, 1, 4))),
    lambda m, F: m.MaxPool2d(0)(torch.ones((1, 1, 4, 4)) if m is tnn else np.ones((1, 1, 4, 4))),
    lambda m, F: m.Conv2d(1, 1, 4)(torch.ones((1, 1, 3, 5)) if m is tnn else np.ones((1, 1, 3, 5))),
    lambda m, F: m.Embedding(4, 2)(torch.tensor([0, -1]) if m is tnn else np.array([0, -1])),
    lambda m, F: m.MaxPool2d(5)(torch.ones((1, 1, 4, 6)) if m is tnn else np.ones((1, 1, 4, 6))),
    lambda m, F: m.LSTM(3, 4)(torch.ones((5, 2, 2)) if m is tnn else np.ones((5, 2, 2))),
    lambda m, F: F.pad(torch.ones((1, 1, 3)) if m is tnn else np.ones((1, 1, 3)), (3, 0), mode="reflect"),
    lambda m, F: F.one_hot(torch.tensor([1, -1]) if m is tnn else np.array([1, -1])),
]


@pytest.mark.parametrize("call", TORCH_ERRORS)
def test_error_types_match_torch(call):
    with pytest.raises(Exception) as theirs:
        call(tnn, TF)
    with pytest.raises(type(theirs.value)):
        call(nn, nn.functional)


TF = torch.nn.functional
