"""Every optimizer (and its momentum / nesterov / weight-decay variants) for 25 steps from the same start
as torch.optim, gradients computed by each library on the same model and data; schedulers' lr
sequences; param groups, skipped parameters, errors."""
import numpy as np
import pytest
import torch

import nn
from autograd import Tensor

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, betas=(0.85, 0.95))),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True)),
]


def _models(seed=0):
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    ours.load_state_dict(theirs.state_dict())
    return ours.double(), theirs


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_trajectory_matches_torch(name, kw):
    torch.manual_seed(0)
    ours, theirs = _models()
    opt = getattr(nn.optim, name)(ours.parameters(), **kw)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)
    rng = np.random.default_rng(0)
    for step in range(25):
        x, y = rng.standard_normal((16, 3)), rng.integers(0, 2, 16)
        opt.zero_grad()
        topt.zero_grad()
        nn.functional.cross_entropy(ours(Tensor(x)), y).backward()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        opt.step()
        topt.step()
        for (n, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-9, atol=1e-11,
                                       err_msg=f"{n} after step {step + 1}")


def test_float32_parameters_stay_float32_and_in_place():
    model = nn.Linear(3, 2)
    w = model.weight.detach().numpy()
    for opt in (nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), nn.optim.Adam(model.parameters()),
                nn.optim.RMSprop(model.parameters())):
        model(np.ones((4, 3), dtype=np.float32)).sum().backward()
        opt.step()
        assert model.weight.dtype == np.float32 and model.weight.detach().numpy() is w
        model.zero_grad()


def test_params_without_grad_are_skipped_and_zero_grad():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = nn.optim.Adam([a, b], lr=0.1)
    (a * 3.0).sum().backward()
    opt.step()
    assert np.all(a.detach().numpy() < 1) and np.all(b.detach().numpy() == 1) and b not in opt.state
    opt.zero_grad()
    assert a.grad is None


def test_param_groups_like_torch():
    ours, theirs = _models()
    opt = nn.optim.SGD([{"params": ours[0].parameters()}, {"params": ours[2].parameters(), "lr": 0.5}],
                       lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": theirs[0].parameters()},
                            {"params": theirs[2].parameters(), "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    x = np.random.default_rng(1).standard_normal((5, 3))
    for _ in range(3):
        ours(Tensor(x)).sum().backward()
        theirs(torch.tensor(x)).sum().backward()
        opt.step()
        topt.step()
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-10)


def test_optimizer_state_dict_round_trip():
    model = nn.Linear(2, 2)
    opt = nn.optim.Adam(model.parameters(), lr=0.1)
    model(np.ones((1, 2), dtype=np.float32)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    opt2 = nn.optim.Adam(model.parameters(), lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt2.state[model.weight]["exp_avg"], opt.state[model.weight]["exp_avg"])


def test_optimizer_errors():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        nn.optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        nn.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta"):
        nn.optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        nn.optim.Adam(p)
    with pytest.raises(ValueError, match="non-leaf"):
        nn.optim.SGD([p * 2.0], lr=0.1)
    nn.optim.SGD([Tensor(np.ones(2))], lr=0.1).step()  # frozen (no grad) parameters are allowed, as torch


@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, step_size=3),
    lambda m, o: m.StepLR(o, step_size=2, gamma=0.5),
    lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
], ids=["step3", "step2-0.5", "cos10", "cos7-min"])
def test_scheduler_lr_sequences_match_torch(make):
    p, tp = nn.Parameter(np.ones(1)), torch.nn.Parameter(torch.ones(1))
    opt = nn.optim.SGD([p], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    sched, tsched = make(nn.optim.lr_scheduler, opt), make(torch.optim.lr_scheduler, topt)
    ours, theirs = [sched.get_last_lr()], [tsched.get_last_lr()]
    for _ in range(30):  # past T_max: torch's recursive cosine keeps going
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        ours.append(sched.get_last_lr())
        theirs.append(tsched.get_last_lr())
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=1e-15)
    assert opt.param_groups[0]["lr"] == ours[-1][0]
