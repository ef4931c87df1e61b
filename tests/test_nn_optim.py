"""Every optimizer (and its momentum / nesterov / weight-decay variants) for 25 steps from the same start
as torch.optim, gradients computed by each library on the same model and data; schedulers' lr
sequences; param groups, skipped parameters, errors."""
import numpy as np
import pytest
import torch

import autograd
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
    ("SGD", dict(lr=0.05, momentum=0.9, maximize=True, foreach=False, differentiable=False)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.1, capturable=False)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, fused=None)),
    ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, maximize=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, centered=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1, eps=1e-8)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.95), momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),  # rho_t > 5 from step 5 on
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]


NAMES = sorted({name for name, _ in CASES})


def _batch(rng):
    return rng.standard_normal((16, 3)), rng.integers(0, 2, 16)


@pytest.fixture(autouse=True)
def _torch_float64_one_thread():
    """torch keeps some optimizer scalars (NAdam's mu_product) in the default dtype: make it float64.
    One torch thread: on a loaded 2-core machine its pool thrashes (2.9 s a trajectory test, not 0.08 s)."""
    old, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(old)
    torch.set_num_threads(threads)


def _models(seed=0):
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_trajectory_matches_torch(name, kw):
    torch.manual_seed(0)
    ours, theirs = _models()
    opt = getattr(nn.optim, name)(ours.parameters(), **kw)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)
    # torch's option names (torch's AdamW groups also hold decoupled_weight_decay=True, which its
    # constructor does not take: ours hold only constructor options, as autograd.testing requires)
    extra = {"decoupled_weight_decay"} if name == "AdamW" else set()
    assert sorted(opt.param_groups[0]) == sorted(set(topt.param_groups[0]) - extra)
    if not extra:
        assert repr(opt) == repr(topt)
    assert opt.param_groups[0]["maximize"] == kw.get("maximize", False)
    rng = np.random.default_rng(0)
    for step in range(30):
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


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_float32_parameters_stay_float32_and_in_place(name, kw):
    model = nn.Linear(3, 2)
    w = model.weight.detach().numpy()
    opt = getattr(nn.optim, name)(model.parameters(), **kw)
    for _ in range(3):
        model(np.ones((4, 3), dtype=np.float32)).sum().backward()
        opt.step()
        assert model.weight.dtype == np.float32 and model.weight.detach().numpy() is w
        assert all(v.dtype == np.float32 for st in opt.state.values() for v in st.values()
                   if isinstance(v, np.ndarray))
        model.zero_grad()


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_resume_is_bit_identical(name):
    """10 steps straight, or 5 steps, state dicts (model, optimizer, scheduler) copied into fresh
    objects, then 5 more: the parameters are exactly equal."""
    import copy

    def fresh():
        model = nn.MLP([3, 5, 2]).double()
        model.load_state_dict(start)
        opt = getattr(nn.optim, name)(model.parameters(), lr=0.01)
        return model, opt, nn.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)

    def train(model, opt, sched, batches):
        for x, y in batches:
            opt.zero_grad()
            nn.functional.cross_entropy(model(Tensor(x)), y).backward()
            opt.step()
            sched.step()

    start = nn.MLP([3, 5, 2]).double().state_dict()
    rng = np.random.default_rng(6)
    batches = [_batch(rng) for _ in range(10)]
    straight = fresh()
    train(*straight, batches)
    first = fresh()
    train(*first, batches[:5])
    checkpoint = copy.deepcopy({"model": first[0].state_dict(), "optimizer": first[1].state_dict(),
                                "scheduler": first[2].state_dict()})
    resumed = fresh()
    resumed[0].load_state_dict(checkpoint["model"])
    resumed[1].load_state_dict(checkpoint["optimizer"])
    resumed[2].load_state_dict(checkpoint["scheduler"])
    train(*resumed, batches[5:])
    for k, v in straight[0].state_dict().items():
        np.testing.assert_array_equal(resumed[0].state_dict()[k], v, err_msg=k)
    assert resumed[2].get_last_lr() == straight[2].get_last_lr()


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


SCHEDULERS = {
    "step3": lambda m, o: m.StepLR(o, step_size=3),
    "step2-0.5": lambda m, o: m.StepLR(o, step_size=2, gamma=0.5),
    "cos10": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "cos7-min": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "exp": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.5),
    "lambda": lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (1 + e)),
    "lambda-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 + e % 3]),
    "multiplicative": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.05),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=12, power=2.0),
    "chained": lambda m, o: m.ChainedScheduler([m.ExponentialLR(o, gamma=0.95), m.StepLR(o, step_size=5),
                                                m.LinearLR(o, start_factor=0.5, total_iters=4)]),
    "linear": lambda m, o: m.LinearLR(o),
    "linear-down": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=12),
    "constant": lambda m, o: m.ConstantLR(o),
    "constant-0.5": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=8),
    "warm-restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4),
    "warm-restarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "onecycle": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=31),
    "onecycle-linear-3": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 2.0], epochs=4, steps_per_epoch=8,
                                                   anneal_strategy="linear", three_phase=True,
                                                   pct_start=0.25, base_momentum=0.8, max_momentum=0.9),
    "cyclic": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "cyclic-tri2": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3,
                                           step_size_down=5, mode="triangular2", base_momentum=0.7),
    "cyclic-exp": lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=2, mode="exp_range", gamma=0.97,
                                          cycle_momentum=False),
    "cyclic-custom": lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=3, scale_fn=lambda x: 1 / (1 + x),
                                             scale_mode="iterations"),
    "sequential": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=5),
                                                  m.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
    "sequential-3": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, 0.2, total_iters=3),
                                                    m.ExponentialLR(o, gamma=0.8),
                                                    m.StepLR(o, step_size=4)], milestones=[4, 12]),
}


def _two_groups(lib, opt_name="SGD"):
    """An optimizer with two groups of one parameter each, from ``nn`` or ``torch``."""
    if lib is nn:
        a, b = nn.Parameter(np.ones(1)), nn.Parameter(np.ones(1))
    else:
        a, b = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    opt = getattr(lib.optim, opt_name)
    kw = dict(momentum=0.9) if opt_name == "SGD" else {}
    return opt([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **kw)


def _lib(scheduler_module):
    """``torch`` for ``torch.optim.lr_scheduler``, ``nn`` for ``nn.optim.lr_scheduler``."""
    return torch if scheduler_module.__name__.startswith("torch") else nn


def _momenta(opt):
    return [g["momentum"] if "momentum" in g else g["betas"][0] for g in opt.param_groups]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_scheduler_lr_sequences_match_torch(key, opt_name):
    """30 epochs (past T_max: torch's recursive cosine keeps going), two groups; momenta too."""
    opt, topt = _two_groups(nn, opt_name), _two_groups(torch, opt_name)
    sched = SCHEDULERS[key](nn.optim.lr_scheduler, opt)
    tsched = SCHEDULERS[key](torch.optim.lr_scheduler, topt)
    ours, theirs = [sched.get_last_lr() + _momenta(opt)], [tsched.get_last_lr() + _momenta(topt)]
    for _ in range(30):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        ours.append(sched.get_last_lr() + _momenta(opt))
        theirs.append(tsched.get_last_lr() + _momenta(topt))
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=1e-15)
    assert [g["lr"] for g in opt.param_groups] == ours[-1][:2]
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)  # Chained has none


@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_scheduler_state_dict_resumes_the_sequence(key):
    """Stop after 10 epochs; a new optimizer and scheduler load both state dicts and go on as torch."""
    opt, topt = _two_groups(nn), _two_groups(torch)
    sched = SCHEDULERS[key](nn.optim.lr_scheduler, opt)
    tsched = SCHEDULERS[key](torch.optim.lr_scheduler, topt)
    for _ in range(10):
        topt.step()  # torch warns when its scheduler steps before its optimizer
        sched.step()
        tsched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd.get("last_epoch") == tsched.state_dict().get("last_epoch")
    opt2, opt3 = _two_groups(nn), _two_groups(nn)
    sched2 = SCHEDULERS[key](nn.optim.lr_scheduler, opt2)
    sched3 = SCHEDULERS[key](nn.optim.lr_scheduler, opt3)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sd)
    opt3.load_state_dict(topt.state_dict())  # torch's state dicts load too
    sched3.load_state_dict(tsched.state_dict())
    for _ in range(20):
        topt.step()
        sched2.step()
        sched3.step()
        tsched.step()
        np.testing.assert_allclose(sched2.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(sched3.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make", [
    lambda m, o: m.CosineAnnealingLR(o, T_max=10, last_epoch=3),
    lambda m, o: m.StepLR(o, step_size=2, last_epoch=3),
    lambda m, o: m.ExponentialLR(o, gamma=0.5, last_epoch=4),
    lambda m, o: m.LinearLR(o, last_epoch=2),
    lambda m, o: m.MultiStepLR(o, milestones=[4, 6], last_epoch=3),
    lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, last_epoch=5),
], ids=["cosine", "step", "exp", "linear", "multistep", "warm-restarts"])
def test_resuming_with_last_epoch_keeps_the_lr_as_torch(make):
    """Right after construction with ``last_epoch=k`` (groups holding 'initial_lr'), the lr is torch's:
    CosineAnnealingLR(T_max=10, last_epoch=3) keeps 0.1 (a regression: it was 0.0654)."""
    opt, topt = _two_groups(nn), _two_groups(torch)
    for o in (opt, topt):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"]
    sched, tsched = make(nn.optim.lr_scheduler, opt), make(torch.optim.lr_scheduler, topt)
    assert sched.get_last_lr() == tsched.get_last_lr()
    for _ in range(15):
        topt.step()
        sched.step()
        tsched.step()
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)


def test_cosine_resume_regression_and_missing_initial_lr():
    opt = nn.optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    opt.param_groups[0]["initial_lr"] = 0.1
    assert nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=3).get_last_lr() == [0.1]
    fresh = nn.optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        nn.optim.lr_scheduler.CosineAnnealingLR(fresh, T_max=10, last_epoch=3)
    tfresh = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        torch.optim.lr_scheduler.CosineAnnealingLR(tfresh, T_max=10, last_epoch=3)


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.1, threshold_mode="abs", cooldown=2),
    dict(patience=1, cooldown=1, min_lr=[0.02, 0.001], eps=1e-3),
    dict(mode="min", patience=0, threshold_mode="abs", min_lr=0.01),
])
def test_reduce_lr_on_plateau_matches_torch(kw):
    opt, topt = _two_groups(nn), _two_groups(torch)
    sched = nn.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    metrics = np.concatenate([np.linspace(1, 0.5, 6), np.full(8, 0.5), np.linspace(0.5, 0.6, 8),
                              np.random.default_rng(0).uniform(0.4, 0.7, 20)])
    for m in metrics:
        sched.step(m)
        tsched.step(m)
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert (sched.num_bad_epochs, sched.cooldown_counter, sched.best) == \
            (tsched.num_bad_epochs, tsched.cooldown_counter, tsched.best)
    sd = sched.state_dict()
    again = nn.optim.lr_scheduler.ReduceLROnPlateau(opt)
    again.load_state_dict(sd)
    assert again.patience == sched.patience and again.best == sched.best


@pytest.mark.parametrize("make,error,match", [
    (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda m, o: m.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown"),
    (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2"),
    (lambda m, o: m.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
    (lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError, "positive integer total_steps"),
    (lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1), ValueError, "pct_start"),
    (lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"), ValueError,
     "anneal_strategy"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult >= 1"),
    (lambda m, o: m.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
    (lambda m, o: m.ConstantLR(o, factor=2), ValueError, "between 0 and 1"),
    (lambda m, o: m.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
    (lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2)], milestones=[3]), ValueError, "one more than"),
    (lambda m, o: m.SequentialLR(o, [], milestones=[]), ValueError, "at least one scheduler"),
    (lambda m, o: m.ChainedScheduler([]), ValueError, "at least one scheduler to be chained"),
    (lambda m, o: m.ChainedScheduler([m.StepLR(o, 2), m.StepLR(_two_groups(_lib(m)), 2)]), ValueError,
     "same optimizer"),
    (lambda m, o: m.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a function"),
    (lambda m, o: m.CyclicLR(o, 0.1, 1.0, mode="square"), ValueError, "is invalid and scale_fn is None"),
    (lambda m, o: m.StepLR(object(), 2), TypeError, "is not an Optimizer"),
])
def test_scheduler_errors_as_torch(make, error, match):
    for lib in (nn, torch):
        with pytest.raises(error, match=match):
            make(lib.optim.lr_scheduler, _two_groups(lib))


def test_onecycle_past_total_steps_raises_and_sequential_refuses_plateau():
    opt = _two_groups(nn)
    sched = nn.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()
    plateau = nn.optim.lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        nn.optim.lr_scheduler.SequentialLR(opt, [plateau], milestones=[])


# -- every optimizer: closure, state_dict, groups --------------------------------------------------------


def _losses(ours, theirs, x, y):
    return (nn.functional.cross_entropy(ours(Tensor(x)), y),
            torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)))


def _assert_same_params(ours, theirs, what):
    for (n, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"{n} {what}")


@pytest.mark.parametrize("name", NAMES)
def test_step_closure_runs_under_enable_grad_and_returns_its_loss(name):
    ours, theirs = _models()
    opt, topt = getattr(nn.optim, name)(ours.parameters()), getattr(torch.optim, name)(theirs.parameters())
    rng = np.random.default_rng(2)
    for step in range(25):
        x, y = _batch(rng)
        calls = []

        def closure():
            calls.append(autograd.is_grad_enabled())
            opt.zero_grad()
            loss = nn.functional.cross_entropy(ours(Tensor(x)), y)
            loss.backward()
            return loss

        def tclosure():
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
            loss.backward()
            return loss

        with autograd.no_grad():  # as torch, the closure still records (step is called without grad)
            loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert calls == [True]
        assert isinstance(loss, Tensor) and loss.requires_grad
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
        _assert_same_params(ours, theirs, f"after closure step {step + 1}")
    assert opt.step() is None


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_structure_and_resume_like_torch(name):
    """5 steps, then a fresh optimizer loads ours (and another torch's) state dict: 10 more steps equal
    torch's uninterrupted run; the structure (integer ids, state keys, groups) is torch's."""
    ours, theirs = _models()
    opt, topt = getattr(nn.optim, name)(ours.parameters()), getattr(torch.optim, name)(theirs.parameters())
    rng = np.random.default_rng(3)

    def run(opts, steps):
        for _ in range(steps):
            x, y = _batch(rng)
            for o in opts:
                o.zero_grad()
            for loss in _losses(ours, theirs, x, y):
                loss.backward()
            for o in opts:
                o.step()

    run((opt, topt), 5)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == ([] if name == "SGD" else list(range(4)))
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for i in sd["state"]:
        assert sorted(sd["state"][i]) == sorted(tsd["state"][i])
        for k, v in tsd["state"][i].items():
            np.testing.assert_allclose(np.asarray(sd["state"][i][k], dtype=float),
                                       v.detach().numpy() if torch.is_tensor(v) else v, rtol=1e-12)
    resumed = getattr(nn.optim, name)(ours.parameters(), lr=0.123)
    resumed.load_state_dict(sd)
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    run((resumed, topt), 10)
    _assert_same_params(ours, theirs, "after resuming from our state_dict")
    from_torch = getattr(nn.optim, name)(ours.parameters())
    from_torch.load_state_dict(topt.state_dict())  # torch tensors in the state load too
    run((from_torch, topt), 5)
    _assert_same_params(ours, theirs, "after resuming from torch's state_dict")


def test_state_dict_is_a_copy_and_loads_cast_to_the_parameter_dtype():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = nn.optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"][...] = 99.0
    assert not np.any(opt.state[p]["exp_avg"] == 99.0)
    sd["state"][0]["exp_avg"] = np.zeros(3)  # float64 in the dict
    opt.load_state_dict(sd)
    assert opt.state[p]["exp_avg"].dtype == np.float32 and opt.state[p]["step"] == 1.0
    bad = {"state": {}, "param_groups": sd["param_groups"] * 2}
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(bad)
    bad = {"state": {}, "param_groups": [{**sd["param_groups"][0], "params": [0, 1]}]}
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(bad)


def test_add_param_group_and_named_parameters_like_torch():
    ours, theirs = _models()
    opt = nn.optim.Adam(ours[0].named_parameters(), lr=0.01)
    topt = torch.optim.Adam(theirs[0].named_parameters(), lr=0.01)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    rng = np.random.default_rng(4)
    for step in range(25):
        if step == 5:
            opt.add_param_group({"params": ours[2].named_parameters(), "lr": 0.05, "betas": (0.5, 0.9)})
            topt.add_param_group({"params": theirs[2].named_parameters(), "lr": 0.05, "betas": (0.5, 0.9)})
        for o in (opt, topt):
            o.zero_grad()
        for loss in _losses(ours, theirs, *_batch(rng)):
            loss.backward()
        opt.step()
        topt.step()
    _assert_same_params(ours, theirs, "with a group added at step 5")
    assert sorted(opt.param_groups[1]) == sorted(topt.param_groups[1])  # Adam: the same option names
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [ours[0].weight]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([ours[0].weight])
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {ours[0].weight}})


def test_zero_grad_to_none_or_zeros_in_place():
    p = nn.Parameter(np.ones(3))
    opt = nn.optim.SGD([p], lr=0.1)
    (p * 2.0).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.all(g.detach().numpy() == 0)
    opt.zero_grad()
    assert p.grad is None


def test_adagrad_state_exists_before_the_first_step_as_torch():
    p, tp = nn.Parameter(np.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = nn.optim.Adagrad([p], initial_accumulator_value=0.5)
    topt = torch.optim.Adagrad([tp], initial_accumulator_value=0.5)
    assert sorted(opt.state_dict()["state"][0]) == sorted(topt.state_dict()["state"][0]) == ["step", "sum"]
    np.testing.assert_array_equal(opt.state[p]["sum"], [0.5, 0.5])


@pytest.mark.parametrize("make,match", [
    (lambda p: nn.optim.Adagrad([p], lr_decay=-1), "lr_decay"),
    (lambda p: nn.optim.Adadelta([p], rho=1.5), "rho"),
    (lambda p: nn.optim.Adamax([p], betas=(0.9, 1.0)), "beta parameter at index 1"),
    (lambda p: nn.optim.NAdam([p], momentum_decay=-0.1), "momentum_decay"),
    (lambda p: nn.optim.RAdam([p], eps=-1.0), "epsilon"),
    (lambda p: nn.optim.RMSprop([p], alpha=-0.5), "alpha"),
    (lambda p: nn.optim.SGD([p], lr=0.1, momentum=-1), "momentum"),
])
def test_new_optimizer_argument_errors(make, match):
    with pytest.raises(ValueError, match=f"Invalid {match}"):
        make(nn.Parameter(np.ones(2)))
