"""Every loss and reduction against torch in float64 (value, input gradient, target gradient where torch
has one), at extreme logits, with class weights, ignore_index, label smoothing and probability targets;
second order through the fused primitives; errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd
import nn
import nn.functional as F
from autograd import Tensor

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(99)


def _compare(ours_fn, torch_fn, x, target, *, target_grad=False, atol=1e-10, rtol=1e-7):
    xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if target_grad:
        to, tt = Tensor(target, requires_grad=True), torch.tensor(target, requires_grad=True)
    else:
        to, tt = target, torch.tensor(target)
    out, tout = ours_fn(xo, to), torch_fn(xt, tt)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    go = rng.standard_normal(out.shape) if out.ndim else np.array(1.7)
    out.backward(go)
    tout.backward(torch.tensor(go))
    np.testing.assert_allclose(xo.grad.detach().numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    if target_grad:
        np.testing.assert_allclose(to.grad.detach().numpy(), tt.grad.numpy(), rtol=rtol, atol=atol)
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction):
    x, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    x[0, 0] = t[0, 0]  # |0|: torch's zero subgradient
    _compare(nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), x, t, target_grad=True)
    _compare(nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction), x, t, target_grad=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction):
    p = rng.uniform(0.01, 0.99, (5, 2))
    t = rng.uniform(0, 1, (5, 2))
    _compare(nn.BCELoss(reduction=reduction), torch.nn.BCELoss(reduction=reduction), p, t, target_grad=True)
    w = rng.uniform(0.5, 2, (5, 2))
    _compare(nn.BCELoss(weight=w, reduction=reduction),
             torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction), p, t)


def test_bce_clamps_log_at_minus_100_like_torch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-300, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.5])
    out = _compare(nn.BCELoss(reduction="none"), torch.nn.BCELoss(reduction="none"), p, t)
    assert out.detach().numpy()[0] == 100.0 and out.detach().numpy()[1] == 100.0
    assert np.all(np.isfinite(out.detach().numpy()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction):
    x, t = rng.standard_normal((6, 3)) * 3, rng.uniform(0, 1, (6, 3))
    _compare(nn.BCEWithLogitsLoss(reduction=reduction), torch.nn.BCEWithLogitsLoss(reduction=reduction), x, t,
             target_grad=True)
    pw, w = rng.uniform(0.5, 3, 3), rng.uniform(0.5, 2, (6, 3))
    _compare(nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction),
             torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw),
                                        reduction=reduction),
             x, t, target_grad=True)


@pytest.mark.parametrize("pos_weight", [None, np.array([2.5])])
def test_bce_with_logits_extreme_logits(pos_weight):
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0])
    for t in (np.zeros(7), np.ones(7), np.full(7, 0.3)):
        ours = nn.BCEWithLogitsLoss(reduction="none", pos_weight=pos_weight)
        theirs = torch.nn.BCEWithLogitsLoss(
            reduction="none", pos_weight=None if pos_weight is None else torch.tensor(pos_weight))
        out = _compare(ours, theirs, x, t, target_grad=True, atol=1e-12)
        assert np.all(np.isfinite(out.detach().numpy()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (4,), (3, 5, 2, 2)])
def test_cross_entropy_and_nll(reduction, shape):
    x = rng.standard_normal(shape) * 2
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, n_classes, tshape)
    _compare(nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction), x, t)
    cdim = 0 if len(shape) == 1 else 1
    _compare(lambda a, b: nn.NLLLoss(reduction=reduction)(a.log_softmax(cdim), b),
             lambda a, b: torch.nn.NLLLoss(reduction=reduction)(a.log_softmax(cdim), b), x, t)
    _compare(nn.NLLLoss(reduction=reduction), torch.nn.NLLLoss(reduction=reduction), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_weight_ignore_index_label_smoothing(reduction):
    x = rng.standard_normal((8, 5))
    t = rng.integers(0, 5, 8)
    t[[1, 4]] = -100
    w = rng.uniform(0.2, 2.0, 5)
    for kw in (dict(weight=w), dict(ignore_index=-100), dict(weight=w, label_smoothing=0.2),
               dict(label_smoothing=0.1), dict(ignore_index=3), dict(weight=w, ignore_index=-100)):
        tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        tt = np.where(t == -100, kw.get("ignore_index", -100), t)  # the ignored targets
        _compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **kw),
                 lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **tkw), x, tt)
        _compare(lambda a, b: F.nll_loss(a, b, reduction=reduction, weight=kw.get("weight")),
                 lambda a, b: TF.nll_loss(a, b, reduction=reduction, weight=tkw.get("weight")), x, tt)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(reduction):
    x = rng.standard_normal((5, 4))
    p = rng.uniform(0, 1, (5, 4))
    p /= p.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2.0, 4)
    for kw in (dict(), dict(label_smoothing=0.2), dict(weight=w)):
        tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        _compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **kw),
                 lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **tkw), x, p, target_grad=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits(reduction):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [0.0, 0.0, -1000.0],
                  [500.0, 500.0, 500.0]])
    t = np.array([1, 2, 2, 0])
    out = _compare(nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction),
                   x, t)
    assert np.all(np.isfinite(out.detach().numpy()))
    out = _compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1),
                   lambda a, b: TF.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1), x, t)
    assert np.all(np.isfinite(out.detach().numpy()))


def test_float32_cross_entropy_matches_torch_and_keeps_dtype():
    x = (rng.standard_normal((16, 10)) * 5).astype(np.float32)
    t = rng.integers(0, 10, 16)
    xo = Tensor(x, requires_grad=True)
    loss = F.cross_entropy(xo, Tensor(t))  # targets may be Tensors
    loss.backward()
    xt = torch.tensor(x, requires_grad=True)
    tl = TF.cross_entropy(xt, torch.tensor(t))
    tl.backward()
    assert loss.dtype == np.float32 and xo.grad.dtype == np.float32
    np.testing.assert_allclose(loss.item(), tl.item(), rtol=1e-6)
    np.testing.assert_allclose(xo.grad.detach().numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_targets_are_cast_to_the_input_dtype():
    x = Tensor(np.ones((3, 1), dtype=np.float32), requires_grad=True)
    assert nn.MSELoss()(x, np.zeros((3, 1), dtype=np.int64)).dtype == np.float32
    assert nn.BCEWithLogitsLoss()(x, np.ones((3, 1))).dtype == np.float32


def _second(fn_ours, fn_torch, x, t):
    xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = autograd.grad(fn_ours(xo, t), [xo], create_graph=True)
    (tg,) = torch.autograd.grad(fn_torch(xt, torch.tensor(t)), [xt], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-7, atol=1e-12)
    v = rng.standard_normal(x.shape)
    (h,) = autograd.grad((g * g * v).sum(), [xo])
    (th,) = torch.autograd.grad((tg * tg * torch.tensor(v)).sum(), [xt])
    np.testing.assert_allclose(h.detach().numpy(), th.numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_second_order(reduction):
    x = rng.standard_normal((4, 3))
    _second(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
            lambda a, b: TF.cross_entropy(a, b, reduction=reduction), x, rng.integers(0, 3, 4))
    _second(lambda a, b: F.nll_loss(a.log_softmax(1), b, reduction=reduction),
            lambda a, b: TF.nll_loss(a.log_softmax(1), b, reduction=reduction), x, rng.integers(0, 3, 4))
    t = rng.uniform(0, 1, (4, 3))
    _second(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction), x, t)
    _second(lambda a, b: F.binary_cross_entropy(a.sigmoid(), b, reduction=reduction),
            lambda a, b: TF.binary_cross_entropy(a.sigmoid(), b, reduction=reduction), x, t)
    _second(lambda a, b: F.mse_loss(a * a, b, reduction=reduction),
            lambda a, b: TF.mse_loss(a * a, b, reduction=reduction), x, t)


def test_loss_errors():
    x = Tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.mse_loss(x, x, reduction="max")
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.nll_loss(x, np.array([0, 1, 2, -1]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) does not match input of shape \(4, 3\)"):
        F.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(x, np.array([0.5, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"target shape \(4,\) differs from input shape \(4, 1\)"):
        F.binary_cross_entropy_with_logits(Tensor(np.zeros((4, 1))), np.zeros(4))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), np.array([1.0]))
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(Tensor(np.zeros((4, 1))), np.zeros(4))
