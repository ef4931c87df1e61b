"""``BatchNorm1d`` against torch in every mode: ``track_running_stats`` on and off, train and eval,
(N, C) and (N, C, L) inputs, affine or not; outputs, input and parameter gradients, the buffers.
Without running statistics, eval mode normalises with the batch's statistics, as torch."""
import numpy as np
import pytest
import torch

import nn
from autograd import Tensor


def _pair(track, affine):
    theirs = torch.nn.BatchNorm1d(3, affine=affine, track_running_stats=track).double()
    if affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor([0.5, -2.0, 1.5]))
            theirs.bias.copy_(torch.tensor([1.0, 0.0, -3.0]))
    ours = nn.BatchNorm1d(3, affine=affine, track_running_stats=track).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _step(ours, theirs, x, upstream):
    xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (yo * Tensor(upstream)).sum().backward()
    (yt * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(xo.grad.detach().numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.detach().numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_batchnorm1d_matches_torch_in_train_then_eval(track, affine, shape):
    rng = np.random.default_rng(7)
    ours, theirs = _pair(track, affine)
    for training in (True, True, False, False):
        ours.train(training)
        theirs.train(training)
        x = rng.standard_normal(shape) * 3 + 2  # far from the default running stats (0, 1)
        _step(ours, theirs, x, rng.standard_normal(shape))
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12, err_msg=key)
    assert set(ours.state_dict()) == set(theirs.state_dict())


def test_eval_without_running_stats_uses_the_batch():
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False).eval()
    y = bn(Tensor(np.array([[1.0, 10.0], [3.0, 30.0]]))).detach().numpy()
    scale = 1 / np.sqrt(1 + 1e-5)  # biased batch variance 1 (and 100): (x - mean) / sqrt(var + eps)
    np.testing.assert_allclose(y, [[-scale, -10 / np.sqrt(100 + 1e-5)], [scale, 10 / np.sqrt(100 + 1e-5)]])
    with pytest.raises(ValueError, match="more than 1 value per channel"):  # as torch: batch statistics
        bn(Tensor(np.ones((1, 2))))
