"""``Tensor``'s autograd semantics (PyTorch's): which tensors keep ``.grad``, accumulation, ``detach``,
grad mode, freed graphs, higher order, ``autograd.grad``, and the construction and dtype policy."""
import gc
import weakref

import numpy as np
import pytest

import autograd
from autograd import Tensor, enable_grad, is_grad_enabled, no_grad, tensor

torch = pytest.importorskip("torch")


def leaf(*shape, seed=0, dtype=np.float64):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


# -- which tensors keep .grad -----------------------------------------------------------------------
def test_only_leaves_keep_grad():
    x = leaf(3)
    y = x * 2
    z = (y * y).sum()
    z.backward()
    assert x.is_leaf and not y.is_leaf and not z.is_leaf
    np.testing.assert_allclose(x.grad.detach().numpy(), 8 * x.detach().numpy())
    assert y.grad is None and z.grad is None


def test_retain_grad_keeps_an_intermediate_grad():
    x = leaf(3)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.detach().numpy(), 2 * y.detach().numpy())
    np.testing.assert_allclose(x.grad.detach().numpy(), 8 * x.detach().numpy())


def test_leaf_without_requires_grad_gets_no_grad():
    x, c = leaf(3), Tensor(np.ones(3))
    (x * c).sum().backward()
    assert c.grad is None and not c.requires_grad


def test_grads_accumulate_over_backward_calls():
    x = leaf(3)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * x.detach().numpy() + 3)


def test_retain_graph_allows_a_second_backward_and_accumulates():
    x = leaf(3)
    y = (x.exp()).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * np.exp(x.detach().numpy()))


def test_second_backward_through_a_freed_graph_raises():
    x = leaf(3)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_shared_subgraph_is_freed_by_the_first_backward():
    x = leaf(3)
    h = x * x
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * 2).sum().backward()


def test_freed_graph_message_and_intact_grads_after_the_error():
    x = leaf(3)
    y = (x * 2).sum()
    y.backward()
    before = x.grad.detach().numpy().copy()
    with pytest.raises(RuntimeError):
        y.backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), before)


def test_a_failed_pass_leaves_no_tensor_half_counted():
    # the pass fails in its first sweep (h's graph was freed) after it had counted w; a later pass
    # through w must see w as untouched, or w would never receive its gradient
    x = leaf(3)
    h = x * x
    h.sum().backward()
    w = leaf(3)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * w).sum().backward()
    assert w._deps is None and w._g is None
    (w * 5).sum().backward()
    np.testing.assert_array_equal(w.grad.detach().numpy(), np.full(3, 5.0))


def test_backward_of_a_non_scalar_needs_gradient():
    x = leaf(2, 3)
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(gradient=np.ones((2, 3)))
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * np.ones((2, 3)))


def test_backward_gradient_as_tensor_and_one_element_without_gradient():
    x = leaf(2, 3)
    (x * x).backward(gradient=Tensor(np.full((2, 3), 0.5)))
    np.testing.assert_allclose(x.grad.detach().numpy(), x.detach().numpy())
    y = leaf(1, 1)
    (y * 3).backward()  # one element: no gradient needed
    np.testing.assert_allclose(y.grad.detach().numpy(), [[3.0]])


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(3)).sum().backward()


# -- detach, requires_grad_ -------------------------------------------------------------------------
def test_detach_shares_data_and_cuts_the_graph():
    x = leaf(3)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    x2 = x.detach()
    assert np.shares_memory(x2.detach().numpy(), x.detach().numpy())  # torch: detach() shares storage
    out = (x * d).sum()
    out.backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), d.detach().numpy())


def test_requires_grad_():
    x = Tensor(np.ones(3))
    assert x.requires_grad_() is x and x.requires_grad
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), 2.0)
    x.requires_grad_(False)
    assert not (x * 2).requires_grad
    y = leaf(3) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_numpy_needs_detach_when_requiring_grad():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy() is x.detach().numpy()


# -- grad mode --------------------------------------------------------------------------------------
def test_no_grad_context_manager():
    x = leaf(3)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
        with enable_grad():
            assert is_grad_enabled()
            z = x * 2
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses():
    x = leaf(3)

    @no_grad()
    def f(t):
        return t * 2

    @no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert g.__name__ == "g" and is_grad_enabled()


def test_enable_grad_decorator_inside_no_grad():
    x = leaf(3)

    @enable_grad()
    def f(t):
        return t * 2

    @enable_grad
    def g(t):
        return t * 2

    with no_grad():
        assert f(x).requires_grad and g(x).requires_grad
        assert not is_grad_enabled()


def test_recursive_decorated_function_restores_the_mode():
    @no_grad()
    def f(n):
        return f(n - 1) if n else is_grad_enabled()

    assert f(3) is False
    assert is_grad_enabled()


def test_set_grad_enabled():
    x = leaf(3)
    with autograd.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with autograd.set_grad_enabled(True):
        assert (x * 2).requires_grad


# -- higher order, autograd.grad --------------------------------------------------------------------
def test_create_graph_second_and_third_order():
    x = leaf(4)
    y = (x ** 4).sum()
    y.backward(create_graph=True)
    g1 = x.grad
    assert g1.requires_grad
    np.testing.assert_allclose(g1.detach().numpy(), 4 * x.detach().numpy() ** 3)
    (g2,) = autograd.grad(g1.sum(), x, create_graph=True)
    np.testing.assert_allclose(g2.detach().numpy(), 12 * x.detach().numpy() ** 2)
    (g3,) = autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.detach().numpy(), 24 * x.detach().numpy())


def test_higher_order_matches_torch():
    a = np.random.default_rng(1).standard_normal((3, 4))
    w = np.random.default_rng(2).standard_normal((4, 2))

    def third(lib, x, w):
        y = ((x @ w).tanh() * (x @ w).sigmoid()).sum()
        (g,) = lib.grad(y, x, create_graph=True)
        (gg,) = lib.grad((g * g).sum(), x, create_graph=True)
        (ggg,) = lib.grad((gg.sin()).sum(), x)
        return g, gg, ggg

    ours = third(autograd, Tensor(a, requires_grad=True), Tensor(w, requires_grad=True))
    theirs = third(torch.autograd, torch.tensor(a, requires_grad=True), torch.tensor(w))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_grad_does_not_touch_dot_grad():
    x, w = leaf(3, seed=1), leaf(3, seed=2)
    y = (x * w).sum()
    gx, gw = autograd.grad(y, [x, w])
    np.testing.assert_allclose(gx.detach().numpy(), w.detach().numpy())
    np.testing.assert_allclose(gw.detach().numpy(), x.detach().numpy())
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad


def test_grad_allow_unused():
    x, unused = leaf(3), leaf(2)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = autograd.grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.detach().numpy(), 2 * x.detach().numpy())


def test_grad_with_grad_outputs_and_several_outputs():
    x = leaf(3)
    a, b = x * 2, x.exp()
    v = np.array([1.0, -1.0, 0.5])
    (g,) = autograd.grad([a, b], x, grad_outputs=[Tensor(v), Tensor(np.ones(3))])
    np.testing.assert_allclose(g.detach().numpy(), 2 * v + np.exp(x.detach().numpy()))


def test_grad_of_an_intermediate():
    x = leaf(3)
    h = x * 3
    y = (h * h).sum()
    (gh,) = autograd.grad(y, h)
    np.testing.assert_allclose(gh.detach().numpy(), 2 * h.detach().numpy())


# -- memory: the graph is freed ---------------------------------------------------------------------
def test_graph_is_freed_after_backward():
    w = leaf(8, 8)
    x = Tensor(np.random.default_rng(3).standard_normal((4, 8)))
    refs = []
    for _ in range(50):  # a training-loop-like sequence: only the loss is kept each step
        h = (x @ w).tanh()
        refs.append(weakref.ref(h))
        loss = (h * h).mean()
        del h
        loss.backward()
        w.grad = None
    gc.disable()
    try:  # reference counting alone must free them: the graph holds no cycles
        assert all(r() is None for r in refs[:-1])
        assert refs[-1]() is None
    finally:
        gc.enable()


def test_retained_graph_is_freed_with_its_root():
    x = leaf(3)
    h = x * 2
    r = weakref.ref(h)
    loss = (h * h).sum()
    del h
    loss.backward(retain_graph=True)
    assert r() is not None  # still needed by a second backward
    del loss
    assert r() is None


# -- construction and dtype policy ------------------------------------------------------------------
def test_lists_and_python_floats_become_float32():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor([[1, 2.5]]).dtype == np.float32
    assert Tensor(1.5).dtype == np.float32 and Tensor(1.5).shape == ()
    assert tensor([1.0]).dtype == np.float32


def test_numpy_float_arrays_keep_their_dtype():
    assert Tensor(np.ones(3)).dtype == np.float64
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32


def test_data_is_copied_on_construction():
    a = np.ones(3)
    t = Tensor(a)
    a[0] = 5.0
    assert t.detach().numpy()[0] == 1.0


def test_integer_and_bool_data_keep_their_dtype_and_cannot_require_grad():
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor(np.arange(3)).dtype == np.int64
    assert Tensor([True, False]).dtype == np.bool_
    with pytest.raises(ValueError, match="int64"):
        Tensor([1, 2], requires_grad=True)
    with pytest.raises(ValueError, match="bool"):
        Tensor([True], requires_grad=True)
    with pytest.raises(ValueError):
        Tensor([1, 2]).requires_grad_()


@pytest.mark.parametrize("name,expected", [("float32", np.float32), ("float64", np.float64),
                                           ("int64", np.int64), ("bool", np.bool_)])
def test_dtype_strings(name, expected):
    assert Tensor([1, 0], dtype=name).dtype == expected
    assert Tensor(np.array([1.0, 0.0]), dtype=np.dtype(expected)).dtype == expected


def test_python_float_keeps_float32():
    x = Tensor([1.0, 2.0], requires_grad=True)
    for y in (x * 2.0, 2.0 * x, x + 1, x / 3.0, x ** 2.0, 2.0 ** x, x - 0.5, 1.0 - x):
        assert y.dtype == np.float32
    (x * 2.0).sum().backward()
    assert x.grad.dtype == np.float32


def test_torch_promotion_and_grad_dtype_follows_the_parameter():
    x32 = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    x64 = Tensor(np.ones(3), requires_grad=True)
    y = x32 * x64
    assert y.dtype == np.float64  # float32 * float64 -> float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64
    i = Tensor([1, 2, 3])
    assert (i * 2).dtype == np.int64 and (i * 0.5).dtype == np.float32  # torch: int * float -> float32
    assert (x32 * i).dtype == np.float32  # torch: the float operand's dtype wins over int64
    assert (i / i).dtype == np.float32  # true division of integers
    assert (x32 * Tensor(np.array(2.0))).dtype == np.float32  # a 0-d tensor does not widen


def test_float32_ops_stay_float32_through_a_network():
    w = Tensor(np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x = Tensor([[1.0, 2.0, 3.0]])
    out = ((x @ w).tanh().softmax(-1).log() * 2.0).mean()
    assert out.dtype == np.float32
    out.backward()
    assert w.grad.dtype == np.float32


def test_to_float_double():
    x = Tensor([1.0, 2.0], requires_grad=True)
    d = x.double()
    assert d.dtype == np.float64 and d.requires_grad
    assert x.float() is x and d.double() is d
    assert x.to("float64").dtype == np.float64 and x.to(np.float64).dtype == np.float64
    (d * d).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.detach().numpy(), [2.0, 4.0])


def test_attributes():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and len(x) == 2 and x.T.shape == (3, 2)
    assert x.sum().item() == 0.0 and x.tolist() == [[0.0] * 3] * 2
    x.data = np.ones((2, 3))
    assert x.sum().item() == 6.0


def test_numpy_scalars_keep_their_dtype():
    # like torch.tensor(np.float64(2.0)): NumPy data keeps its dtype, scalars included
    assert Tensor(np.float64(2.0)).dtype == np.float64
    assert Tensor(np.float32(2.0)).dtype == np.float32
    assert Tensor(np.int64(2)).dtype == np.int64
    assert Tensor(2.0).dtype == np.float32


# -- constructors ----------------------------------------------------------------------------------
def test_constructors_follow_the_policy():
    assert autograd.zeros(2, 3).shape == (2, 3) and autograd.zeros((2, 3)).dtype == np.float32
    assert autograd.ones([2]).detach().numpy().tolist() == [1.0, 1.0]
    z = autograd.zeros(2, dtype="float64", requires_grad=True)
    assert z.dtype == np.float64 and z.requires_grad and z.is_leaf
    assert autograd.arange(4).dtype == np.int64 and autograd.arange(4).tolist() == [0, 1, 2, 3]
    assert autograd.arange(0, 1, 0.25).dtype == np.float32
    assert autograd.arange(3, dtype="float64").dtype == np.float64
    r = autograd.rand(100)
    assert r.dtype == np.float32 and (r.detach().numpy() >= 0).all() and (r.detach().numpy() < 1).all()


def test_manual_seed_makes_randn_reproducible():
    autograd.manual_seed(123)
    a = autograd.randn(2, 3, requires_grad=True)
    autograd.manual_seed(123)
    b = autograd.randn(2, 3)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert a.dtype == np.float32 and a.requires_grad and not b.requires_grad
    assert not np.array_equal(autograd.randn(2, 3).detach().numpy(), b.detach().numpy())


# -- gradcheck and draw_graph on Tensors (the shared functions) -------------------------------------
def test_gradcheck_catches_a_wrong_tensor_gradient():
    from autograd.primitive import Primitive as Function

    class WrongCube(Function):
        name = "wrong_cube"

        def forward(self, a):
            return a ** 3

        def backward(self, g, out, a):
            return (g * 3.0 * a * a * 1.01,)

    x = leaf(2, 3, seed=5)
    assert autograd.gradcheck(lambda a: a ** 3, [x])
    with pytest.raises(autograd.GradcheckError, match=r"input 0.*element \(\d, \d\)"):
        autograd.gradcheck(lambda a: WrongCube.apply(a), [x])
    with pytest.warns(UserWarning, match="float64 copies"):  # API.md: float32 is checked in float64
        assert autograd.gradcheck(lambda a: a * 2, [leaf(3, dtype=np.float32)])
    assert x.grad is None


def test_draw_graph_of_a_tensor():
    x, w = leaf(2, 3, seed=1), leaf(3, 1, seed=2)
    y = (x @ w).tanh().sum()
    dot = autograd.draw_graph(y, params={"w": w})
    assert "matmul" in dot.source and "tanh" in dot.source


def test_numpy_conversion_of_a_tensor_that_requires_grad_raises_as_torch():
    """``np.asarray`` (and so an ndarray's own methods, ``X.dot(w)``) on a tensor that requires grad
    raises torch's RuntimeError in grad mode instead of silently dropping the gradient; NumPy's functions
    (``np.dot``, ``@``) are differentiated; under ``no_grad`` and after ``detach()`` the array is given."""
    import torch
    X, w = np.ones((2, 3)), np.arange(3.0)
    for t in (autograd.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)):
        with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
            X.dot(t)
        np.testing.assert_array_equal(X.dot(t.detach()), X @ w)
    t = autograd.tensor(w, requires_grad=True)
    (X @ t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), X.sum(0))
    with autograd.no_grad():
        np.testing.assert_array_equal(np.asarray(t), w)
