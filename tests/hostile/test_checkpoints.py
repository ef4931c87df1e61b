"""``nn.save``/``nn.load`` of checkpoints: nested state dicts, numbers and strings come back with their
exact types and values, so training resumed from a file continues bit for bit."""
import math

import numpy as np
import pytest

import nn
from autograd import Tensor


def _train(model, opt, sched, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = Tensor(rng.standard_normal((8, 3)))
        y = Tensor(rng.standard_normal((8, 1)))
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        sched.step()


def _setup(optimizer):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    opt = optimizer(model.parameters())
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7)
    return model, opt, sched


ADAM_STEP = ("nn.optim's state_dict() turns Adam's Python-int step into a 0-d int64 array, so after a "
             "resume b1 ** step is NumPy's power, not Python's, and differs in the last bit (optimizer bug)")


@pytest.mark.parametrize("optimizer", [
    lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: nn.optim.Adam(ps, lr=0.05),
], ids=["SGD", "Adam"])
def test_resumed_training_is_bit_identical(tmp_path, optimizer):
    model, opt, sched = _setup(optimizer)
    _train(model, opt, sched, 3, seed=0)
    nn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
             "epoch": 3}, tmp_path / "ck.npz")
    _train(model, opt, sched, 4, seed=1)

    fresh, fresh_opt, fresh_sched = _setup(optimizer)
    ck = nn.load(tmp_path / "ck.npz")
    fresh.load_state_dict(ck["model"])
    fresh_opt.load_state_dict(ck["optimizer"])
    fresh_sched.load_state_dict(ck["scheduler"])
    assert ck["epoch"] == 3 and type(ck["epoch"]) is int
    _train(fresh, fresh_opt, fresh_sched, 4, seed=1)
    for (k, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        assert a.tobytes() == b.tobytes(), k
    assert fresh_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


VALUES = [0, -1, 2**70, True, False, None, 0.1, -0.0, math.inf, -math.inf, 5e-324, 1.7976931348623157e308,
          "", "lr ü", [0.1, 2, [3.5]], (0.9, 0.999), {0: 1.5, "a": [None]}, np.float64(0.3), np.int32(-7),
          np.float32(1.5), np.bool_(True)]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v) for v in VALUES])
def test_every_leaf_comes_back_with_its_type_and_value(tmp_path, value):
    nn.save({"x": value, "w": np.ones(2)}, tmp_path / "c.npz")
    back = nn.load(tmp_path / "c.npz")["x"]
    assert type(back) is type(value) and repr(back) == repr(value)


def test_nan_and_arrays_in_nested_structures(tmp_path):
    ck = {"state": {0: {"buf": np.arange(6, dtype=np.float32).reshape(2, 3).T}, 1: {}}, "f": math.nan,
          "t": Tensor(np.ones(2)), "list": [np.zeros((0, 2))]}
    nn.save(ck, tmp_path / "c.npz")
    back = nn.load(tmp_path / "c.npz")
    assert list(back["state"]) == [0, 1] and back["state"][1] == {}
    np.testing.assert_array_equal(back["state"][0]["buf"], ck["state"][0]["buf"])
    assert math.isnan(back["f"]) and back["t"].dtype == np.float64 and back["list"][0].shape == (0, 2)


def test_a_plain_state_dict_is_still_format_version_1(tmp_path):
    nn.save(nn.Linear(2, 3), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as npz:  # readable by NumPy alone, one member per key
        assert npz.files == ["weight", "bias", "__chainrule__"] and int(npz["__chainrule__"]) == 1


@pytest.mark.parametrize("bad,match", [
    ({"x": object()}, "cannot save object at \\['x'\\]"),
    ({"x": {1.5: 2}}, "dict keys must be str or int"),
    ({"x": [np.array(["s"])]}, "only numeric arrays"),
    ({"x": 1 + 2j}, "cannot save complex"),
    ({"__chainrule__": 1}, "reserved"),
])
def test_unsavable_checkpoints_raise(tmp_path, bad, match):
    with pytest.raises((TypeError, ValueError), match=match):
        nn.save(bad, tmp_path / "x.npz")
