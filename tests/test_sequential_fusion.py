"""``Sequential`` runs a plain ``Linear`` followed by a ``ReLU`` as one ``linear_relu`` node: the same bits
as the two modules run one by one (forward, gradients, second order), torch's values, and no fusion
wherever a user could see the difference (hooks, a subclass, a ``forward`` set on the instance)."""
import numpy as np
import pytest
import torch

import nn
from autograd import Tensor, grad, no_grad
from autograd.ops.linalg import LinearRelu

rng = np.random.default_rng(0)


def mlp(dtype=np.float64, bias=True, seed=0):
    torch.manual_seed(seed)
    T = torch.nn
    ref = T.Sequential(T.Linear(5, 7, bias=bias), T.ReLU(), T.Linear(7, 6, bias=bias), T.ReLU(),
                       T.Linear(6, 3, bias=bias)).double()
    ours = nn.Sequential(nn.Linear(5, 7, bias=bias), nn.ReLU(), nn.Linear(7, 6, bias=bias), nn.ReLU(),
                         nn.Linear(6, 3, bias=bias))
    ours.double().load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    if dtype == np.float32:
        ours.float()
        ref.float()
    return ours, ref


def one_by_one(model, x):
    """The modules called one at a time (``m(x)``, never through ``Sequential.forward``)."""
    for m in model:
        x = m(x)
    return x


def grads(model, x, out, g):
    out.backward(g)
    gs = [x.grad.detach().numpy().copy()] + [p.grad.detach().numpy().copy() for p in model.parameters()]
    x.grad = None
    model.zero_grad()
    return gs


def inputs(dtype, special=False):
    x = rng.standard_normal((4, 5)).astype(dtype)
    if special:  # pre-activations at exactly 0 (-0.0 too), nan and inf, and an inf upstream gradient
        x[0] = 0.0
        x[1, 0] = np.nan
        x[2, 1] = np.inf
    g = rng.standard_normal((4, 3)).astype(dtype)
    if special:
        g[3, 2] = np.inf
    return x, g


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("special", [False, True])
def test_fused_step_has_the_bits_of_the_modules_one_by_one(dtype, bias, special):
    model, _ = mlp(dtype, bias)
    xa, g = inputs(dtype, special)
    x = Tensor(xa, requires_grad=True)
    fused, plain = model(x), one_by_one(model, x)
    assert fused.grad_fn.name == "linear" and fused._prev[0].grad_fn.name == "linear_relu"
    assert plain._prev[0].grad_fn.name == "relu"
    np.testing.assert_array_equal(fused.detach().numpy(), plain.detach().numpy())
    for a, b in zip(grads(model, x, fused, g), grads(model, x, plain, g)):
        np.testing.assert_array_equal(a, b)


def test_fused_values_gradients_and_second_order_match_torch():
    model, ref = mlp()
    xa, g = inputs(np.float64)
    x, tx = Tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    out, tout = model(x), ref(tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    gx, = grad(out, x, Tensor(g), create_graph=True)
    tgx, = torch.autograd.grad(tout, tx, torch.tensor(g), create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), tgx.detach().numpy(), rtol=1e-12)
    # second order: through the fused node's rule, recorded (relu's mask is piecewise constant)
    w = rng.standard_normal(xa.shape)
    params, tparams = list(model.parameters()), list(ref.parameters())
    second = grad((gx * Tensor(w)).sum(), params, allow_unused=True)
    tsecond = torch.autograd.grad((tgx * torch.tensor(w)).sum(), tparams, allow_unused=True)
    for a, b in zip(second, tsecond):  # the biases: no path (ours None; torch's zeros, or None for the last)
        if b is None:
            assert a is None
        else:
            ours = 0 if a is None else a.detach().numpy()
            np.testing.assert_allclose(ours, b.numpy(), rtol=1e-11, atol=1e-14)


def test_linear_relu_primitive_passes_gradcheck_to_second_order():
    x = torch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = torch.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    b = torch.tensor(rng.standard_normal(5), requires_grad=True)
    import autograd
    ours = [autograd.Tensor(t.detach().numpy(), requires_grad=True) for t in (x, w, b)]
    out = LinearRelu.apply(*ours)
    tout = torch.relu(torch.nn.functional.linear(x, w, b))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-14)
    assert autograd.gradcheck(lambda *a: LinearRelu.apply(*a), ours)
    assert autograd.gradgradcheck(lambda *a: LinearRelu.apply(*a), ours)


def _hook_on_linear(model):
    seen = []
    model[0].register_forward_hook(lambda m, args, out: seen.append(out))
    return seen


def _hook_on_relu(model):
    model[1].register_forward_pre_hook(lambda m, args: None)


def _forward_on_instance(model):
    model[0].forward = lambda x: nn.functional.linear(x, model[0].weight, model[0].bias)


def _subclass(model):
    class MyLinear(nn.Linear):
        pass
    m = MyLinear(5, 7).double()
    m.load_state_dict(model[0].state_dict())
    model._modules["0"] = m


@pytest.mark.parametrize("change", [_hook_on_linear, _hook_on_relu, _forward_on_instance, _subclass])
def test_no_fusion_where_the_user_could_see_it(change):
    model, _ = mlp()
    xa, g = inputs(np.float64)
    x = Tensor(xa, requires_grad=True)
    expected = one_by_one(model, x)
    seen = change(model)
    out = model(x)
    first = out._prev[0]
    while first.grad_fn.name != "linear":  # walk down to the first layer's node
        first = first._prev[0]
    assert first._prev[0] is x
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    if seen is not None:  # the hook saw the Linear's output, before the ReLU
        assert len(seen) == 1 and (seen[0].detach().numpy() < 0).any()


def test_fused_output_changed_in_place_fails_backward_as_torchs_relu():
    model, ref = mlp()
    xa, g = inputs(np.float64)
    short = nn.Sequential(model[0], model[1])
    out = short(Tensor(xa, requires_grad=True))
    assert out.grad_fn.name == "linear_relu"
    out.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    tout = torch.nn.Sequential(ref[0], ref[1])(torch.tensor(xa, requires_grad=True))
    tout.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tout.sum().backward()


def test_fused_under_no_grad_records_nothing_and_keeps_the_values():
    model, _ = mlp()
    x = Tensor(inputs(np.float64)[0])
    with no_grad():
        out = model(x)
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_array_equal(out.detach().numpy(), one_by_one(model, x).detach().numpy())


def test_bad_shapes_give_linears_error():
    model, _ = mlp()
    with pytest.raises(ValueError, match="in_features"):
        model(Tensor(np.zeros((2, 4))))
