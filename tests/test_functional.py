"""``autograd.functional`` against ``torch.autograd.functional``: random functions, every argument form
(single and tuple inputs and outputs, ``v`` given or not, ``create_graph``, ``strict``, ``vectorize``,
strategies), results' nesting, shapes, dtypes, values and ``requires_grad``; and the errors."""
import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional

UNARY = [lambda a: a.tanh(), lambda a: a.sin(), lambda a: (0.5 * a).exp(), lambda a: a.sigmoid(),
         lambda a: a * a, lambda a: a.cos() * a]


def random_function(seed, n_inputs, tuple_out):
    """A random composition of smooth ops of ``n_inputs`` same-shaped tensors (seeded)."""
    rng = np.random.default_rng(seed)
    plan = [(rng.integers(len(UNARY)), rng.integers(n_inputs), rng.integers(n_inputs), rng.standard_normal())
            for _ in range(3)]

    def f(*xs):
        terms = [UNARY[u](xs[i]) * xs[j] + c for u, i, j, c in plan]
        out = terms[0] * terms[1] + terms[2]
        return (out, terms[1].sum(0)) if tuple_out else out
    return f


def both(arrays):
    """The same float64 arrays as autograd and as torch tensors (no grad: the functions add it)."""
    return tuple(Tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


def assert_same(ours, theirs, where="result"):
    """Same nesting, shapes, dtypes, requires_grad and values (to rounding)."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{where}: nesting differs"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            assert_same(o, t, f"{where}[{k}]")
        return
    assert isinstance(ours, Tensor), f"{where}: {type(ours).__name__} instead of a Tensor"
    assert ours.shape == tuple(theirs.shape), f"{where}: shape {ours.shape} vs {tuple(theirs.shape)}"
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), f"{where}: dtype"
    assert ours.requires_grad == theirs.requires_grad, f"{where}: requires_grad"
    rtol = 1e-10 if ours.dtype == np.float64 else 1e-6
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=rtol / 100,
                               err_msg=where)


def pack(xs, as_tuple):
    return xs if as_tuple else xs[0]


SHAPE = (2, 3)
FORMS = [(n, t) for n in (1, 2) for t in (False, True)]  # (inputs, tuple output)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n, tuple_out", FORMS)
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_jvp_jacobian(seed, n, tuple_out, create_graph):
    rng = np.random.default_rng(seed)
    f = random_function(seed, n, tuple_out)
    ours, theirs = both([rng.standard_normal(SHAPE) for _ in range(n)])
    as_tuple = n > 1 or seed % 2 == 1  # a one-element tuple of inputs is a tuple too
    out_shapes = [SHAPE, SHAPE[1:]] if tuple_out else [SHAPE]
    vo, vt = both([rng.standard_normal(s) for s in out_shapes])
    vi, vit = both([rng.standard_normal(SHAPE) for _ in range(n)])
    kw = dict(create_graph=create_graph)
    assert_same(AF.vjp(f, pack(ours, as_tuple), pack(vo, tuple_out), **kw),
                TF.vjp(f, pack(theirs, as_tuple), pack(vt, tuple_out), **kw), "vjp")
    assert_same(AF.jvp(f, pack(ours, as_tuple), pack(vi, as_tuple), **kw),
                TF.jvp(f, pack(theirs, as_tuple), pack(vit, as_tuple), **kw), "jvp")
    assert_same(AF.jacobian(f, pack(ours, as_tuple), **kw), TF.jacobian(f, pack(theirs, as_tuple), **kw),
                "jacobian")


def scalar_function(seed, n):
    g = random_function(seed, n, False)
    return lambda *xs: (g(*xs) ** 2).sum()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian_vhp_hvp(seed, n, create_graph):
    rng = np.random.default_rng(10 + seed)
    f = scalar_function(seed, n)
    ours, theirs = both([rng.standard_normal(SHAPE) for _ in range(n)])
    vi, vit = both([rng.standard_normal(SHAPE) for _ in range(n)])
    as_tuple = n > 1 or seed % 2 == 1
    kw = dict(create_graph=create_graph)
    assert_same(AF.hessian(f, pack(ours, as_tuple), **kw), TF.hessian(f, pack(theirs, as_tuple), **kw),
                "hessian")
    assert_same(AF.vhp(f, pack(ours, as_tuple), pack(vi, as_tuple), **kw),
                TF.vhp(f, pack(theirs, as_tuple), pack(vit, as_tuple), **kw), "vhp")
    assert_same(AF.hvp(f, pack(ours, as_tuple), pack(vi, as_tuple), **kw),
                TF.hvp(f, pack(theirs, as_tuple), pack(vit, as_tuple), **kw), "hvp")


def test_create_graph_results_differentiate_like_torch():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(4)
    v = rng.standard_normal(4)
    f = scalar_function(2, 1)
    ours_x, theirs_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    results = []
    for lib, fn, xx in ((autograd, AF, ours_x), (torch, TF, theirs_x)):
        vv = lib.tensor(v)
        _, hv = fn.hvp(f, xx, vv, create_graph=True)
        _, jv = fn.jvp(lambda a: a.tanh() * a, xx, vv, create_graph=True)
        h = fn.hessian(f, xx, create_graph=True)
        results.append(lib.autograd.grad((hv.sum() + jv.sum() + h.sum()), xx) if lib is torch
                       else autograd.grad(hv.sum() + jv.sum() + h.sum(), xx))
    assert_same(results[0], results[1], "third derivatives")


def test_v_may_be_omitted_for_one_element():
    x = np.array([0.7])
    s = np.array(1.3)
    (o, t) = both([x])
    for name, fn in (("vjp", lambda a: (a.exp() * 2).sum()), ("jvp", lambda a: a.tanh() * a),
                     ("vhp", lambda a: (a ** 3).sum()), ("hvp", lambda a: (a.sin() * a).sum())):
        assert_same(getattr(AF, name)(fn, o[0]), getattr(TF, name)(fn, t[0]), name)
    assert_same(AF.jvp(lambda a: a * a, Tensor(s)), TF.jvp(lambda a: a * a, torch.tensor(s)), "0-d jvp")
    assert_same(AF.hessian(lambda a: a ** 3, Tensor(s)), TF.hessian(lambda a: a ** 3, torch.tensor(s)))


def test_independent_outputs_and_inputs_give_zeros_unless_strict():
    rng = np.random.default_rng(1)
    (x, y), (tx, ty) = both([rng.standard_normal(3), rng.standard_normal(3)])
    f = lambda a, b: (a.exp(), a.detach() * 2)  # noqa: E731  (b unused, the second output constant)
    linear = lambda a, b: (a * 2 + b).sum()  # noqa: E731  (a zero, input-independent Hessian)
    cases = [
        ("vjp", f, ((x, y), (Tensor(np.ones(3)),) * 2),
         ((tx, ty), (torch.ones(3, dtype=torch.float64),) * 2)),
        ("jvp", f, ((x, y), (x, y)), ((tx, ty), (tx, ty))),
        ("jacobian", f, ((x, y),), ((tx, ty),)),
        ("hessian", linear, ((x, y),), ((tx, ty),)),
        ("vhp", linear, ((x, y), (x, y)), ((tx, ty), (tx, ty))),
        ("hvp", linear, ((x, y), (x, y)), ((tx, ty), (tx, ty))),
    ]
    for name, fn, ours_args, theirs_args in cases:
        assert_same(getattr(AF, name)(fn, *ours_args), getattr(TF, name)(fn, *theirs_args), name)
        with pytest.raises(RuntimeError) as theirs:
            getattr(TF, name)(fn, *theirs_args, strict=True)
        with pytest.raises(RuntimeError) as ours:
            getattr(AF, name)(fn, *ours_args, strict=True)
        assert str(ours.value) == str(theirs.value), name


def test_strict_passes_on_a_function_of_every_input():
    (x, y), (tx, ty) = both([np.array([0.3, 0.9]), np.array([1.1, -0.4])])
    f = lambda a, b: (a * b).tanh() * b  # noqa: E731
    assert_same(AF.jacobian(f, (x, y), strict=True), TF.jacobian(f, (tx, ty), strict=True))
    g = lambda a, b: ((a * b) ** 3).sum()  # noqa: E731
    assert_same(AF.hessian(g, (x, y), strict=True), TF.hessian(g, (tx, ty), strict=True))


def test_vectorize_and_strategies_are_accepted():
    # every strategy computes in reverse mode here: the results are torch's reverse-mode ones (torch's
    # own vectorized path is slow to start, and its forward-mode results require grad, a quirk)
    (x,), (tx,) = both([np.array([0.3, 0.9, -1.2])])
    f = lambda a: a.sin() * a.sum()  # noqa: E731
    expected = TF.jacobian(f, tx)
    assert_same(AF.jacobian(f, x, vectorize=True, strategy="forward-mode"), expected)
    assert_same(AF.jacobian(f, x, vectorize=True), expected)
    g = lambda a: (a.sin() * a.sum()).sum()  # noqa: E731
    assert_same(AF.hessian(g, x, vectorize=True, outer_jacobian_strategy="forward-mode"), TF.hessian(g, tx))
    with pytest.raises(ValueError, match="strategy"):
        AF.jacobian(f, x, strategy="sideways")
    with pytest.raises(ValueError, match="strategy"):
        AF.hessian(g, x, outer_jacobian_strategy="sideways")


def test_float32_dtypes_follow_torch():
    x32 = np.array([0.3, -0.8], dtype=np.float32)
    f = lambda a: (a * 2.0).tanh()  # noqa: E731
    assert_same(AF.jacobian(f, Tensor(x32)), TF.jacobian(f, torch.tensor(x32)))
    assert_same(AF.vjp(f, Tensor(x32), Tensor(x32)), TF.vjp(f, torch.tensor(x32), torch.tensor(x32)))
    assert_same(AF.jvp(f, Tensor(x32), Tensor(x32)), TF.jvp(f, torch.tensor(x32), torch.tensor(x32)))


def test_inputs_are_not_changed_and_keep_their_graph_only_with_create_graph():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    out, g = AF.vjp(lambda a: a * a, x, Tensor(np.ones(2)))
    assert x.grad is None and not out.requires_grad and not g.requires_grad
    _, g = AF.vjp(lambda a: a * a, x, Tensor(np.ones(2)), create_graph=True)
    (gg,) = autograd.grad(g.sum(), x)  # the result is connected to the caller's x
    np.testing.assert_array_equal(gg.numpy(), [2.0, 2.0])


@pytest.mark.parametrize("call", [
    lambda f, x: AF.vjp(f, x),                              # v needed for a non-scalar output
    lambda f, x: AF.jvp(f, x),                              # v needed for a non-scalar input
    lambda f, x: AF.jvp(f, x, Tensor(np.ones(3))),          # wrong size
    lambda f, x: AF.jvp(f, (x, x), (Tensor(np.ones(2)),)),  # wrong count
    lambda f, x: AF.hessian(f, x),                          # a non-scalar function
    lambda f, x: AF.vhp(lambda a: (a, a.sum()), x, x),      # a tuple output
])
def test_errors_match_torch(call):
    f = lambda a: a * 2  # noqa: E731
    with pytest.raises(RuntimeError) as theirs:
        _torch_twin(call)(f, torch.tensor(np.array([1.0, 2.0])))
    with pytest.raises(RuntimeError) as ours:
        call(f, Tensor(np.array([1.0, 2.0])))
    assert str(ours.value).replace("(2,)", "torch.Size([2])").replace("(3,)", "torch.Size([3])") \
        == str(theirs.value)


def _torch_twin(call):
    """Run ``call`` with ``AF`` and ``Tensor`` swapped for torch's."""
    def run(f, x):
        g = dict(call.__globals__, AF=TF, Tensor=lambda a: torch.tensor(a))
        twin = type(call)(call.__code__, g)
        return twin(f, x)
    return run


def test_type_errors_match_torch():
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple"):
        AF.jacobian(lambda a: a, np.ones(2))
    with pytest.raises(TypeError, match="value at index 1 has type list"):
        AF.vjp(lambda a, b: a, (Tensor(np.ones(2)), [1.0]))
    with pytest.raises(TypeError, match="outputs of the user-provided function"):
        AF.jacobian(lambda a: [a], Tensor(np.ones(2)))


def test_works_under_no_grad_as_torch():
    (x,), (tx,) = both([np.array([0.3, 0.9, -1.2])])
    f = lambda a: (a.sin() * a).sum()  # noqa: E731
    with autograd.no_grad(), torch.no_grad():
        for name in ("jacobian", "hessian"):
            assert_same(getattr(AF, name)(f, x), getattr(TF, name)(f, tx), name)
        for name in ("vjp", "vhp", "hvp"):
            v = (x,) if name != "vjp" else ()
            tv = (tx,) if name != "vjp" else ()
            assert_same(getattr(AF, name)(f, x, *v), getattr(TF, name)(f, tx, *tv), name)
        assert_same(AF.jvp(f, x, x), TF.jvp(f, tx, tx), "jvp")
