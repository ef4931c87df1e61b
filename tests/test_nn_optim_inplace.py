"""``nn.optim`` updates allocate nothing per step: after the first steps (which create the state and
the work arrays), a step of every optimizer, in every mode, allocates less than one parameter's worth
of memory (tracemalloc sees NumPy's buffers), and the work arrays stay out of ``state_dict()``."""
import tracemalloc

import numpy as np
import pytest

import autograd
import nn

SHAPE = (300, 200)  # 480 kB in float64: any temporary of the parameter's size shows
CASES = [
    ("SGD", {}), ("SGD", dict(momentum=0.9, dampening=0.1, weight_decay=0.1)),
    ("SGD", dict(momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", {}), ("Adam", dict(amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(decoupled_weight_decay=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(amsgrad=True)),
    ("Adamax", dict(weight_decay=0.1)), ("NAdam", dict(weight_decay=0.1)), ("RAdam", dict(weight_decay=0.1)),
    ("Adagrad", dict(lr_decay=0.1, weight_decay=0.1)), ("Adadelta", dict(weight_decay=0.1)),
    ("RMSprop", {}), ("RMSprop", dict(centered=True, momentum=0.9, weight_decay=0.1)),
]
TORCH_KEYS = {"SGD": {"momentum_buffer"}, "Adam": {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
              "Adamax": {"step", "exp_avg", "exp_inf"},
              "NAdam": {"step", "mu_product", "exp_avg", "exp_avg_sq"},
              "RAdam": {"step", "exp_avg", "exp_avg_sq"}, "Adagrad": {"step", "sum"},
              "Adadelta": {"step", "square_avg", "acc_delta"},
              "RMSprop": {"step", "square_avg", "momentum_buffer", "grad_avg"}}
TORCH_KEYS["AdamW"] = TORCH_KEYS["Adam"]


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{sorted(o)}" for n, o in CASES])
def test_step_allocates_no_parameter_sized_array(name, options):
    rng = np.random.default_rng(0)
    p = autograd.tensor(rng.standard_normal(SHAPE), requires_grad=True)
    p.grad = autograd.tensor(rng.standard_normal(SHAPE))
    opt = getattr(nn.optim, name)([p], lr=1e-3, **options)
    for _ in range(8):  # past RAdam's first steps too (its update changes form at step 6)
        opt.step()
    before = p.detach().numpy().copy()
    tracemalloc.start()
    try:
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < p.numel() * 8 // 4, f"{name} {options}: a step allocated {peak} bytes"
    assert not np.array_equal(before, p.detach().numpy())  # the step did update the parameter
    state = opt.state_dict()["state"].get(0, {})
    assert set(state) <= TORCH_KEYS[name]
