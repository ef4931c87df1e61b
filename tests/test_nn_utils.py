"""nn.utils against torch.nn.utils in float64 (and float32): clip_grad_norm_ for every norm type, with
its returned total norm, error_if_nonfinite, clip_grad_value_, parameters_to_vector and
vector_to_parameters."""
import math

import numpy as np
import pytest
import torch

import nn
from autograd import Tensor


def _params_with_grads(dtype=np.float64, scale=1.0, seed=0, missing=False):
    """Three parameters (one without a grad when ``missing``) in ours and torch's, the same grads."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), ()]
    ours, theirs = [], []
    for i, shape in enumerate(shapes):
        w, g = rng.standard_normal(shape).astype(dtype), (scale * rng.standard_normal(shape)).astype(dtype)
        p, tp = nn.Parameter(w), torch.nn.Parameter(torch.tensor(w))
        if not (missing and i == 1):
            p.grad, tp.grad = Tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(tp)
    return ours, theirs


def _assert_grads_equal(ours, theirs, rtol=1e-12):
    for p, tp in zip(ours, theirs):
        if tp.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.detach().numpy(), tp.grad.numpy(), rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, -math.inf, 0, "inf"])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 1.0), (100.0, 1.0), (0.5, 1e-3), (2.0, 1e3)])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm, scale):
    ours, theirs = _params_with_grads(dtype, scale, missing=True)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=rtol)
    _assert_grads_equal(ours, theirs, rtol)


def test_clip_grad_norm_single_tensor_generator_and_no_grads():
    ours, theirs = _params_with_grads()
    total = nn.utils.clip_grad_norm_(ours[0], 0.1)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    _assert_grads_equal(ours, theirs)
    total = nn.utils.clip_grad_norm_((p for p in ours), 0.01)
    torch.nn.utils.clip_grad_norm_((p for p in theirs), 0.01)
    _assert_grads_equal(ours, theirs)
    none = nn.utils.clip_grad_norm_([nn.Parameter(np.ones(2))], 1.0)
    tnone = torch.nn.utils.clip_grad_norm_([torch.nn.Parameter(torch.ones(2))], 1.0)
    assert none.item() == tnone.item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_clip_grad_norm_nonfinite(bad):
    ours, theirs = _params_with_grads()
    ours[0].grad.detach().numpy()[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(ours, 1.0)  # scaled by the non-finite norm anyway, as torch
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_equal(total.item(), ttotal.item())
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(p.grad.detach().numpy()), np.isnan(tp.grad.numpy()))


def test_clip_grad_norm_then_a_step_trains_like_torch():
    theirs = torch.nn.Linear(4, 3).double()
    ours = nn.Linear(4, 3).double()
    ours.load_state_dict(theirs.state_dict())
    opt, topt = nn.optim.SGD(ours.parameters(), lr=0.5), torch.optim.SGD(theirs.parameters(), lr=0.5)
    x = np.random.default_rng(1).standard_normal((8, 4)) * 10
    for _ in range(25):
        opt.zero_grad()
        topt.zero_grad()
        ((ours(Tensor(x)) ** 2).sum()).backward()
        ((theirs(torch.tensor(x)) ** 2).sum()).backward()
        nn.utils.clip_grad_norm_(ours.parameters(), 1.0)
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("clip", [0.1, 1, 10.0])
def test_clip_grad_value_matches_torch(clip):
    ours, theirs = _params_with_grads(missing=True)
    ours[0].grad.detach().numpy()[0, 0] = theirs[0].grad[0, 0] = math.nan
    assert nn.utils.clip_grad_value_(ours, clip) is None
    torch.nn.utils.clip_grad_value_(theirs, clip)
    for p, tp in zip(ours, theirs):
        if tp.grad is not None:
            np.testing.assert_array_equal(p.grad.detach().numpy(), tp.grad.numpy())


def test_parameters_to_vector_and_back():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).double()
    ours.load_state_dict(theirs.state_dict())
    vec = nn.utils.parameters_to_vector(ours.parameters())
    tvec = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), tvec.detach().numpy())
    weights = np.arange(vec.shape[0], dtype=np.float64)
    (vec * Tensor(weights)).sum().backward()  # differentiable, as torch's
    (tvec * torch.tensor(weights)).sum().backward()
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.grad.detach().numpy(), tp.grad.numpy())
    new = Tensor(np.linspace(-1, 1, vec.shape[0]))
    params = list(ours.parameters())
    nn.utils.vector_to_parameters(new, ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new.detach().numpy()), theirs.parameters())
    assert list(ours.parameters()) == params or all(a is b for a, b in zip(ours.parameters(), params))
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())
    new.detach().numpy()[0] = 42.0  # the parameters are views of the vector, as torch's
    assert ours[0].weight.detach().numpy()[0, 0] == 42.0
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters(np.zeros(3), ours.parameters())
    with pytest.raises(RuntimeError, match="too few"):
        nn.utils.vector_to_parameters(Tensor(np.zeros(3)), ours.parameters())
