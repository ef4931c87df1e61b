"""Module against torch.nn.Module: buffers, traversal names and order, requires_grad_ (a regression:
freezing must stop recording), to()/cpu()/half()/float()/double(), forward hooks and their handles,
apply, get_submodule, extra_repr, and the containers ModuleDict, ParameterList, ParameterDict."""
import numpy as np
import pytest
import torch

import nn
from autograd import Tensor


def _build(self, lib):
    """A buffer, a non-persistent buffer, a shared child and a nested container (``lib``: nn or torch)."""
    self.lin = lib.Linear(3, 4)
    self.act = lib.Tanh()
    self.heads = lib.ModuleDict({"a": lib.Linear(4, 2), "b": lib.Sequential(lib.ReLU(), lib.Linear(4, 1))})
    self.again = self.lin  # shared: listed once by named_modules/parameters
    self.scale = lib.Parameter(_tensor(lib, np.ones(4)))
    self.register_buffer("count", _tensor(lib, np.zeros(2)))
    self.register_buffer("scratch", _tensor(lib, np.ones(1)), persistent=False)


def _forward(self, x):
    h = self.act(self.lin(x)) * self.scale
    return self.heads["a"](h) + self.heads["b"](h)


class Block(nn.Module):
    def __init__(self, lib):
        super().__init__()
        _build(self, lib)

    forward = _forward


class TorchBlock(torch.nn.Module):
    def __init__(self, lib):
        super().__init__()
        _build(self, lib)

    forward = _forward


def _tensor(lib, a):
    return Tensor(a) if lib is nn else torch.tensor(a)


def _pair():
    theirs = TorchBlock(torch.nn).double()
    ours = Block(nn).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def test_traversal_names_and_order_equal_torch():
    ours, theirs = _pair()
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(ours, method)()] == [n for n, _ in getattr(theirs, method)()], method
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers(prefix="m", recurse=False)] == \
        [n for n, _ in theirs.named_buffers(prefix="m", recurse=False)]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["scale"]
    assert len(list(ours.buffers())) == len(list(theirs.buffers())) == 2
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__.replace("Torch", "")
                                                           for m in theirs.modules()]


def test_requires_grad_false_freezes_and_a_later_forward_records_nothing():
    """Regression: ``Module.requires_grad_(False)`` must reach every parameter (the fused Linear+ReLU
    path of Sequential included), and the output of a forward pass must not require grad."""
    models = [nn.MLP([3, 8, 8, 2]), nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), Block(nn),
              nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten())]
    inputs = [np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), np.ones((1, 1, 4, 4))]
    for model, x in zip(models, inputs):
        x = Tensor(x.astype(np.float32))
        assert model.requires_grad_(False) is model
        assert all(not p.requires_grad for p in model.parameters())
        out = model(x)
        assert not out.requires_grad and out.grad_fn is None
        model.requires_grad_()
        assert all(p.requires_grad for p in model.parameters())
        out = model(x)
        assert out.requires_grad
        out.sum().backward()
        assert all(p.grad is not None for p in model.parameters())


def test_frozen_part_gets_no_grad_while_the_rest_trains():
    ours, theirs = _pair()
    ours.lin.requires_grad_(False)
    theirs.lin.requires_grad_(False)
    x = np.random.default_rng(0).standard_normal((5, 3))
    ours(Tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    for (n, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        assert (p.grad is None) == (tp.grad is None), n
        if tp.grad is not None:
            np.testing.assert_allclose(p.grad.detach().numpy(), tp.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("args,kwargs,dtype", [
    ((np.float64,), {}, np.float64),
    (("float64",), {}, np.float64),
    ((torch.float64,), {}, np.float64),
    ((torch.float16,), {}, np.float16),
    (("half",), {}, np.float16),
    (("cpu",), {}, np.float32),
    (("cpu:0", np.float64), {}, np.float64),
    ((torch.device("cpu"),), {"dtype": np.float64}, np.float64),
    ((), {"device": "cpu"}, np.float32),
    ((Tensor(np.zeros(1)),), {}, np.float64),
    ((torch.zeros(1, dtype=torch.float64),), {}, np.float64),
])
def test_to_forms(args, kwargs, dtype):
    model = nn.BatchNorm1d(3)
    weight = model.weight
    model(Tensor(np.ones((4, 3), dtype=np.float32))).sum().backward()
    assert model.to(*args, **kwargs) is model
    assert model.weight is weight and model.weight.dtype == dtype and model.weight.grad.dtype == dtype
    assert model.running_mean.dtype == dtype and model.num_batches_tracked.dtype == np.int64


def test_half_float_double_cpu_and_bad_to():
    model = nn.Linear(2, 2)
    assert model.half().weight.dtype == np.float16
    assert model.double().weight.dtype == np.float64
    assert model.float().weight.dtype == np.float32
    assert model.cpu() is model
    with pytest.raises(RuntimeError, match="CPU"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match="CPU"):
        model.to(torch.device("cuda:0"), np.float64)
    assert model.weight.dtype == np.float32  # nothing changed by the failed call
    with pytest.raises(TypeError, match="floating point"):
        model.to(np.int64)
    with pytest.raises(TypeError, match="floating point"):
        torch.nn.Linear(2, 2).to(torch.int64)


def test_forward_hooks_like_torch():
    ours, theirs = _pair()
    log = {nn: [], torch: []}
    handles = []
    for lib, model in ((nn, ours), (torch, theirs)):
        seen = log[lib]

        def pre(module, args, seen=seen):
            seen.append(("pre", tuple(args[0].shape)))
            return args[0] * 2.0  # one value: becomes the 1-tuple of arguments

        def first(module, args, seen=seen):
            seen.append(("first",))

        def post(module, args, output, seen=seen):
            seen.append(("post", tuple(output.shape)))
            return output + 1.0

        handles.append(model.lin.register_forward_pre_hook(pre))
        model.lin.register_forward_pre_hook(first, prepend=True)
        handles.append(model.register_forward_hook(post))
    x = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(ours(Tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)
    assert log[nn] == log[torch] == [("first",), ("pre", (5, 3)), ("post", (5, 2))]
    for h in handles:
        h.remove()
    np.testing.assert_allclose(ours(Tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)
    assert log[nn] == log[torch]
    assert log[nn][-1] == ("first",)


def test_hooks_with_kwargs_and_handle_as_context_manager():
    lin = nn.Linear(2, 2)
    x = Tensor(np.ones((1, 2), dtype=np.float32))

    def pre(module, args, kwargs):
        return (args[0] * 0.0,), kwargs

    def post(module, args, kwargs, output):
        return output * 0.0 + 7.0

    with lin.register_forward_pre_hook(pre, with_kwargs=True):
        np.testing.assert_array_equal(lin(x).detach().numpy(), lin.bias.detach().numpy()[None])
    with lin.register_forward_hook(post, with_kwargs=True):
        assert np.all(lin(x).detach().numpy() == 7.0)
    assert not np.all(lin(x).detach().numpy() == 7.0)
    lin.register_forward_pre_hook(lambda m, a, k: "bad", with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        lin(x)


def test_hook_on_a_linear_inside_a_fused_sequential_fires():
    """Sequential fuses Linear+ReLU into one node; a hook on either must still run, as in torch."""
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    ours.double().load_state_dict(theirs.state_dict())
    acts = {}
    ours[0].register_forward_hook(lambda m, a, out: acts.__setitem__("ours", out.detach().numpy().copy()))
    theirs[0].register_forward_hook(lambda m, a, out: acts.__setitem__("theirs", out.detach().numpy().copy()))
    ours[1].register_forward_hook(lambda m, a, out: -out)
    theirs[1].register_forward_hook(lambda m, a, out: -out)
    x = np.random.default_rng(2).standard_normal((6, 3))
    np.testing.assert_allclose(ours(Tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(acts["ours"], acts["theirs"], rtol=1e-12)


def test_apply_order_get_submodule_and_extra_repr():
    ours, theirs = _pair()
    order = {nn: [], torch: []}
    ours.apply(lambda m: order[nn].append(type(m).__name__))
    theirs.apply(lambda m: order[torch].append(type(m).__name__.replace("Torch", "")))
    assert order[nn] == order[torch]
    assert ours.get_submodule("heads.b.1") is ours.heads["b"][1]
    assert ours.get_submodule("") is ours
    assert ours.get_parameter("heads.a.weight") is ours.heads["a"].weight
    assert ours.get_buffer("count") is ours.count
    for lib_model in (ours, theirs):
        with pytest.raises(AttributeError, match="has no attribute `nope`"):
            lib_model.get_submodule("heads.nope")
        with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
            lib_model.get_submodule("lin.weight")
        with pytest.raises(AttributeError, match="`act` is not an nn.Parameter"):
            lib_model.get_parameter("act")

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.k = 3
            self.inner = nn.ReLU()

        def extra_repr(self):
            return f"k={self.k}"

    assert repr(Scaled()) == "Scaled(\n  k=3\n  (inner): ReLU()\n)"


def test_module_dict_like_torch():
    ours, theirs = _pair()
    assert list(ours.heads) == list(theirs.heads) == ["a", "b"]
    assert repr(ours.heads["a"]) == repr(theirs.heads["a"])
    for md, lib in ((ours.heads, nn), (theirs.heads, torch.nn)):
        md["c"] = lib.Linear(4, 3)
        md.update([("d", lib.Tanh())])
        assert "c" in md and len(md) == 4
        assert isinstance(md.pop("c"), lib.Linear) and "c" not in md
        del md["d"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert not hasattr(ours.heads, "c") and not hasattr(theirs.heads, "c")
    md = nn.ModuleDict({"x": nn.ReLU()})
    md.clear()
    assert len(md) == 0 and list(md.keys()) == []
    with pytest.raises(KeyError):
        del md["x"]
    with pytest.raises(TypeError, match="iterable of key/value pairs"):
        md.update(3)


def test_parameter_list_like_torch():
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in ((2, 3), (3,), ())]
    ours = nn.ParameterList([nn.Parameter(a) for a in arrays[:2]])
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(a)) for a in arrays[:2]])
    ours.append(Tensor(arrays[2]))  # a plain Tensor becomes a Parameter, as torch
    theirs.append(torch.tensor(arrays[2]))
    assert isinstance(ours[2], nn.Parameter) and ours[2].requires_grad
    names = [n for n, _ in ours.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()] == ["0", "1", "2"]
    assert len(ours) == 3 and len(ours[1:]) == 2 and ours[-1] is ours[2]
    ours.load_state_dict(theirs.state_dict())
    ours[0] = nn.Parameter(np.zeros((2, 3)))
    assert list(ours.state_dict()) == ["0", "1", "2"] and not ours.state_dict()["0"].any()
    ours += [nn.Parameter(np.ones(1))]
    assert len(ours) == 4
    assert repr(nn.ParameterList([nn.Parameter(np.ones((2, 3)))])) == \
        "ParameterList((0): Parameter containing: [float64 of size 2x3])"
    with pytest.raises(IndexError, match="out of range"):
        ours[7]
    with pytest.raises(RuntimeError, match="should not be called"):
        ours(1)


def test_parameter_dict_like_torch():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal(3), rng.standard_normal((2, 2))
    ours = nn.ParameterDict({"a": nn.Parameter(a)})
    theirs = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.tensor(a))})
    ours["b"] = Tensor(b)
    theirs["b"] = torch.tensor(b)
    assert isinstance(ours["b"], nn.Parameter)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a", "b"]
    assert list(ours.keys()) == ["a", "b"] and "a" in ours and ours.get("zz") is None
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours["b"].detach().numpy(), b)
    assert ours.pop("a") is not None and list(ours) == ["b"] and not hasattr(ours, "a")
    ours.setdefault("c", nn.Parameter(np.zeros(1)))
    assert [k for k, _ in ours.items()] == ["b", "c"]
    ours.clear()
    assert len(ours) == 0 and list(ours.parameters()) == []
    with pytest.raises(TypeError, match="not a string"):
        ours[1] = nn.Parameter(np.ones(1))
    with pytest.raises(KeyError):
        ours["nope"]


def test_containers_train_with_an_optimizer_as_torch():
    ours, theirs = _pair()
    opt, topt = nn.optim.Adam(ours.parameters(), lr=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)
    rng = np.random.default_rng(5)
    for _ in range(25):
        x = rng.standard_normal((8, 3))
        opt.zero_grad()
        topt.zero_grad()
        (ours(Tensor(x)) ** 2).mean().backward()
        (theirs(torch.tensor(x)) ** 2).mean().backward()
        opt.step()
        topt.step()
    for (n, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-9, err_msg=n)
