"""``autograd.Function`` against ``torch.autograd.Function`` in float64.

Every custom op here is written once (``twin``): the same ``forward``/``backward`` bodies become a
chainrule Function and a torch Function, so each check runs the very same user code on both libraries:
values, gradients and second order (``create_graph``) through ``assert_grads_match_torch``, finite
differences through ``gradcheck``/``gradgradcheck``, and what ``backward`` receives, the errors, the
version check, graph freeing, drawing and the explorer.
"""
import types
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor, gradcheck, gradgradcheck
from autograd.gradcheck import GradcheckError
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

R = np.random.default_rng(15)


def rn(*shape):
    return R.standard_normal(shape)


def twin(name, forward, backward=None, **statics):
    """One custom op as a chainrule and a torch Function with the same bodies; calling it applies the
    one that matches its Tensor arguments."""
    body = {"forward": staticmethod(forward), **{k: staticmethod(v) for k, v in statics.items()}}
    if backward is not None:
        body["backward"] = staticmethod(backward)
    ours = type(name, (autograd.Function,), dict(body))
    theirs = type(name, (torch.autograd.Function,), dict(body))

    def apply(*args, **kwargs):
        torch_args = any(isinstance(a, torch.Tensor) for a in (*args, *kwargs.values()))
        return (theirs if torch_args else ours).apply(*args, **kwargs)
    apply.ours, apply.theirs = ours, theirs
    return apply


def both(fn, *arrays, requires_grad=True):
    """``fn`` run on chainrule and on torch float64 leaves made from ``arrays``: (ours, theirs) results
    and inputs."""
    ours = [Tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad) for a in arrays]
    theirs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad) for a in arrays]
    return fn(*ours), fn(*theirs), ours, theirs


def outcome(fn):
    """``fn()``'s result, or its exception as (type name, message)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
        return type(e).__name__, str(e)


# -- the custom ops --------------------------------------------------------------------------------------
def _cube_forward(ctx, x):
    ctx.save_for_backward(x)
    return x ** 3


def _cube_backward(ctx, g):
    x, = ctx.saved_tensors
    return 3 * x ** 2 * g


CUBE = twin("Cube", _cube_forward, _cube_backward)


def _mul_forward(ctx, a, b):
    ctx.save_for_backward(a, b)
    return a * b


def _mul_backward(ctx, g):
    a, b = ctx.saved_tensors
    return g * b, g * a  # in the broadcast shape: both libraries sum it back to each input's shape


MUL = twin("Mul", _mul_forward, _mul_backward)


def _two_forward(ctx, x, y):
    ctx.save_for_backward(x, y)
    return x * y, x.exp()


def _two_backward(ctx, g_prod, g_exp):
    x, y = ctx.saved_tensors
    return g_prod * y + g_exp * x.exp(), g_prod * x


TWO = twin("Two", _two_forward, _two_backward)


def _exp_forward(ctx, x):
    y = x.exp()
    ctx.save_for_backward(y)  # an output: read back as the graph node, so second order flows through it
    return y


EXP = twin("Exp", _exp_forward, lambda ctx, g: g * ctx.saved_tensors[0])


def _scale_forward(ctx, x, k, power=2):
    ctx.save_for_backward(x)
    ctx.k, ctx.power = k, power
    return k * x ** power


def _scale_backward(ctx, g):
    x, = ctx.saved_tensors
    return g * ctx.k * ctx.power * x ** (ctx.power - 1), None, None


SCALE = twin("Scale", _scale_forward, _scale_backward)


def _sort_forward(ctx, x):
    values, indices = x.sort(dim=-1)
    ctx.mark_non_differentiable(indices)
    ctx.save_for_backward(indices)
    return values, indices


def _sort_backward(ctx, g_values, g_indices):
    indices, = ctx.saved_tensors
    return module_of(g_values).zeros_like(g_values).scatter(-1, indices, g_values)


SORT = twin("Sort", _sort_forward, _sort_backward)


def _first_only_forward(ctx, x, w):
    ctx.save_for_backward(x, w)
    return x * w


FIRST_ONLY = twin("FirstOnly", _first_only_forward, lambda ctx, g: (g * ctx.saved_tensors[1], None))


def _sin_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[0])
    ctx.k = inputs[1]


SIN = twin("Sin", lambda x, k=2.0: x.sin() * k,
           lambda ctx, g: (g * ctx.k * ctx.saved_tensors[0].cos(), None), setup_context=_sin_setup)


def _double_inplace(ctx, x):
    x.mul_(2)
    ctx.mark_dirty(x)
    return x


DOUBLE_ = twin("Double_", _double_inplace, lambda ctx, g: 2 * g)


def _double_and_exp_inplace(ctx, x):
    x.mul_(2)
    ctx.mark_dirty(x)
    ctx.save_for_backward(x)  # the changed input: it is an output now, saved after the change
    return x, x.exp()


DOUBLE_EXP_ = twin("DoubleExp_", _double_and_exp_inplace,
                   lambda ctx, g, g_exp: 2 * g + 2 * g_exp * ctx.saved_tensors[0].exp())
IDENTITY = twin("Identity", lambda ctx, x: x, lambda ctx, g: g)
HALF = twin("Half", lambda ctx, x: x * 0.5, lambda ctx, g: g * 0.5)  # saves nothing


def _tanh_forward(ctx, x):
    y = x.tanh()
    ctx.save_for_backward(y)
    return y


TANH_VJP = twin("TanhVjp", _tanh_forward, vjp=lambda ctx, g: g * (1 - ctx.saved_tensors[0] ** 2))
GRAD = {autograd: autograd.grad, torch: torch.autograd.grad}
LIBS = (autograd, torch)


# name -> (fn, arrays): each through assert_grads_match_torch (second order) and gradcheck/gradgradcheck
CASES = {
    "cube": (lambda x: CUBE(x), [rn(3, 2)]),
    "cube-0d": (lambda x: CUBE(x), [np.array(1.3)]),
    "cube-empty": (lambda x: CUBE(x), [np.zeros((0, 3))]),
    "mul-broadcast": (lambda a, b: MUL(a, b), [rn(3, 1), rn(4)]),
    "two-outputs": (lambda x, y: TWO(x, y), [rn(2, 3), rn(2, 3)]),
    "two-outputs-one-used": (lambda x, y: TWO(x, y)[1], [rn(4), rn(4)]),
    "two-outputs-combined": (lambda x, y: (lambda p, e: (p * e).sum())(*TWO(x, y)), [rn(3), rn(3)]),
    "saved-output": (lambda x: EXP(x), [rn(2, 2)]),
    "non-tensor-args": (lambda x: SCALE(x, 1.5, power=3), [rn(5)]),
    "non-differentiable-output": (lambda x: SORT(x)[0] * SORT(x)[1], [rn(3, 4)]),
    "none-for-an-input": (lambda x, w: FIRST_ONLY(x, w) + w * w, [rn(3), rn(3)]),
    "setup-context": (lambda x: SIN(x, 0.5), [rn(3)]),
    "setup-context-default": (lambda x: SIN(x), [rn(3)]),
    "mark-dirty": (lambda x: DOUBLE_(x * 1).sin(), [rn(3)]),
    "mark-dirty-two-outputs": (lambda x: (lambda d, e: d * e)(*DOUBLE_EXP_(x * 1)), [rn(3)]),
    "input-returned": (lambda x: IDENTITY(x) * x, [rn(3)]),
    "vjp-method": (lambda x: TANH_VJP(x), [rn(4)]),
    "chain": (lambda x, w: CUBE(MUL(x, w).tanh()).sum() + EXP(x).sum(), [rn(2, 3), rn(3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_custom_op_matches_torch_custom_op(name):
    fn, arrays = CASES[name]
    assert_grads_match_torch(fn, *arrays, second_order=True)


@pytest.mark.parametrize("name", list(CASES))
def test_custom_op_passes_gradcheck_and_gradgradcheck(name):
    fn, arrays = CASES[name]
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    if name == "none-for-an-input":  # its rule drops w's share on purpose: gradcheck says so, as torch's
        assert not gradcheck(fn, inputs, raise_exception=False)
        assert not torch.autograd.gradcheck(fn, [torch.tensor(a, requires_grad=True) for a in arrays],
                                            raise_exception=False)
        return
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=st.data())
def test_random_shapes_match_torch_and_do_not_mutate(data):
    (sa, sb), _ = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                              min_side=0, max_side=3))
    elements = st.floats(-3, 3, allow_nan=False, width=64)
    a, b = data.draw(hnp.arrays(np.float64, sa, elements=elements)), data.draw(hnp.arrays(np.float64, sb,
                                                                                   elements=elements))
    kept = a.copy(), b.copy()
    assert_grads_match_torch(lambda x, y: CUBE(MUL(x, y)), a, b, second_order=True)
    assert_grads_match_torch(lambda x: TWO(x, x * 2), a, second_order=True)
    assert np.array_equal(a, kept[0]) and np.array_equal(b, kept[1])
    x = Tensor(a, requires_grad=True)
    y = CUBE(x)
    assert y.shape == a.shape and not np.shares_memory(y._data, a)
    (y * 1.0).sum().backward()
    assert x.grad is not None and not np.shares_memory(x.grad._data, y._data)


# -- what forward and backward see -----------------------------------------------------------------------
def _recording(name, forward_outputs, backward, materialize=True):
    """A Function whose forward and backward record what they receive into ``seen``."""
    seen = []

    def forward(ctx, x, w, k):
        seen.append(("forward", ctx.needs_input_grad, _grad_mode(x)))
        ctx.set_materialize_grads(materialize)
        return forward_outputs(ctx, x, w, k)

    def record(ctx, *grads):
        seen.append(("backward", [None if g is None else (tuple(g.shape), str(g.dtype).replace("torch.", ""),
                                                          g.tolist(), g.requires_grad) for g in grads],
                     _grad_mode(next(g for g in grads if g is not None))))
        return backward(ctx, *grads)
    return twin(name, forward, record), seen


def _grad_mode(x):
    return module_of(x).is_grad_enabled()


def _three_outputs(ctx, x, w, k):
    values, indices = x.sort()
    ctx.mark_non_differentiable(indices)
    return x * w * k, x.exp(), indices, "not a tensor"


def _three_backward(ctx, g_prod, g_exp, g_indices, g_str):
    return g_prod, None, None


@pytest.mark.parametrize("materialize", [True, False])
@pytest.mark.parametrize("use", ["first", "second", "both"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_receives_what_torch_passes(materialize, use, create_graph):
    op, seen = _recording("Rec", _three_outputs, _three_backward, materialize)
    results = []
    for lib in LIBS:
        seen.clear()
        x = lib.tensor([3.0, 1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
        out = op(x, w, 2.0)
        loss = {"first": out[0].sum(), "second": out[1].sum(), "both": out[0].sum() + out[1].sum()}[use]
        GRAD[lib](loss, x, create_graph=create_graph, allow_unused=True)
        results.append((list(seen), [o.requires_grad if hasattr(o, "requires_grad") else o for o in out]))
    assert results[0] == results[1]


def test_needs_input_grad_and_no_grad_match_torch():
    op, seen = _recording("Needs", lambda ctx, x, w, k: x * w * k, lambda ctx, g: (g, g, None))
    found = []
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([3.0, 4.0], dtype=lib.float64)
        seen.clear()
        y = op(x, w, 2.0)
        with lib.no_grad():
            z = op(x, w, 2.0)
        found.append((list(seen), y.requires_grad, z.requires_grad, z.grad_fn is None, z.tolist()))
    assert found[0] == found[1]
    assert found[0][0][0] == found[0][0][1] == ("forward", (True, False, False), False)


def test_grad_fn_is_the_ctx_named_as_torch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = SCALE(x, 3.0)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = SCALE(tx, 3.0)
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__ == "ScaleBackward"
    assert y.grad_fn.k == ty.grad_fn.k == 3.0 and y.grad_fn.needs_input_grad == ty.grad_fn.needs_input_grad
    assert y.grad_fn.name == "Scale" and repr(y).endswith("grad_fn=<Scale>)")
    assert SCALE.ours._backward_cls is type(y.grad_fn)


# -- a wrong backward is caught --------------------------------------------------------------------------
WRONG_CUBE = twin("WrongCube", _cube_forward, lambda ctx, g: 2 * ctx.saved_tensors[0] ** 2 * g)


def test_gradcheck_catches_a_wrong_backward():
    x = Tensor(rn(4), requires_grad=True)
    with pytest.raises(GradcheckError):
        gradcheck(WRONG_CUBE, [x])
    assert gradcheck(WRONG_CUBE, [x], raise_exception=False) is False
    assert gradcheck(CUBE, [x])
    tx = torch.tensor(x._data, requires_grad=True)  # the planted bug is a bug for torch too
    assert torch.autograd.gradcheck(WRONG_CUBE, (tx,), raise_exception=False) is False


# -- errors with torch's types and messages --------------------------------------------------------------
def _bad(name, backward):
    return twin(name, _scale_forward, backward)


BAD_BACKWARDS = {
    "too-few": _bad("TooFew", lambda ctx, g: g),
    "too-many": _bad("TooMany", lambda ctx, g: (g, None, None, g)),
    "extra-nones-are-fine": _bad("ExtraNones", lambda ctx, g: (g, None, None, None, None)),
    "wrong-shape": _bad("WrongShape", lambda ctx, g: (g[:1], None, None)),
    "0-d-for-a-vector": _bad("ZeroD", lambda ctx, g: (g.sum(), None, None)),
    "bigger-is-reduced": _bad("Bigger", lambda ctx, g: (g * module_of(g).ones(2, 3, dtype=g.dtype), None,
                                                        None)),
    "not-a-tensor": _bad("NotTensor", lambda ctx, g: (1.0, None, None)),
    "gradient-for-a-number": _bad("ForNumber", lambda ctx, g: (g, g, None)),
}


@pytest.mark.parametrize("name", list(BAD_BACKWARDS))
def test_invalid_gradients_raise_as_torch(name):
    op = BAD_BACKWARDS[name]
    found = []
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        found.append(outcome(lambda: (op(x, 2.0).sum().backward(), x.grad.tolist())[1]))
    assert found[0] == found[1]


def test_forward_errors_match_torch():
    def save_number(ctx, x):
        ctx.save_for_backward(x, 3)
        return x * 1

    def dirty_not_returned(ctx, x):
        y = x.clone()
        ctx.mark_dirty(y)
        return x * 2

    for op in (twin("SaveNumber", save_number, lambda ctx, g: g),
               twin("DirtyLost", dirty_not_returned, lambda ctx, g: g)):
        found = [outcome(lambda: op(lib.tensor([1.0, 2.0], requires_grad=True) * 1)) for lib in LIBS]
        assert found[0] == found[1] and isinstance(found[0], tuple)
    found = [outcome(lambda: DOUBLE_(lib.tensor([1.0, 2.0], requires_grad=True))) for lib in LIBS]
    leaf = "a leaf Variable that requires grad has been used in an in-place operation."
    assert found[0] == found[1] == ("RuntimeError", leaf)


def test_a_non_differentiable_input_returned_is_detached_as_torch():
    def forward(ctx, x):
        ctx.mark_non_differentiable(x)
        return x, x * 2

    op = twin("Detached", forward, lambda ctx, g, g2: 2 * g2)
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        same, double = op(x)
        assert same is not x and not same.requires_grad and same.grad_fn is None and double.requires_grad
        assert same.tolist() == [1.0, 2.0]


def test_misuse_raises():
    with pytest.raises(TypeError, match="Tensors, not on Values"):
        CUBE.ours.apply(autograd.Value(2.0))
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        CUBE.ours()(Tensor([1.0], requires_grad=True))
    no_forward = type("NoForward", (autograd.Function,), {})
    with pytest.raises(NotImplementedError, match="forward"):
        no_forward.apply(Tensor([1.0], requires_grad=True))
    no_backward = type("NoBackward", (autograd.Function,), {"forward": staticmethod(lambda ctx, x: x * 2)})
    y = no_backward.apply(Tensor([1.0], requires_grad=True))
    with pytest.raises(NotImplementedError, match="backward or vjp"):
        y.sum().backward()


def test_chainrule_refuses_a_dirty_input_another_op_already_used():
    x = Tensor([1.0, 2.0], requires_grad=True)
    z = x * 1
    z.exp()  # exp recorded z: torch would rewire that graph, chainrule refuses with a clear message
    with pytest.raises(RuntimeError, match="marked dirty"):
        DOUBLE_(z)


def test_mark_dirty_returns_the_input_as_torch():
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        z = x * 1
        y = DOUBLE_(z)
        assert y is z and z.tolist() == [2.0, 4.0] and type(z.grad_fn).__name__ == "Double_Backward"
        (z * x).sum().backward()
        assert x.grad.tolist() == [4.0, 8.0]  # d/dx (2x * x) = 4x


# -- a custom rule returning None ------------------------------------------------------------------------
NOTHING = twin("Nothing", lambda ctx, x, w: x * w, lambda ctx, g: (None, None))


def test_none_gradient_leaves_grad_none_as_torch():
    found = []
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        NOTHING(x, w).sum().backward()
        grad = GRAD[lib]
        found.append((x.grad, w.grad, outcome(lambda: grad(NOTHING(x, w).sum(), x)),
                      grad(NOTHING(x, w).sum(), x, allow_unused=True)))
        (NOTHING(x, w) + x).sum().backward()
        found.append(x.grad.tolist())
    assert found[0][:2] == found[2][:2] == (None, None)
    assert found[0][2][0] == found[2][2][0] == "RuntimeError"
    assert found[0][3] == found[2][3] == (None,)
    assert found[1] == found[3] == [1.0, 1.0]


# -- saved tensors: the version check --------------------------------------------------------------------
def _modify(which, lib):
    """Change one tensor in place after the op, then backward: the gradient or the error."""
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    z = x * 1
    y = {"saved": lambda t: SCALE(t, 3.0), "output": EXP, "unsaved": HALF}[which](z)
    with lib.no_grad():
        (y if which == "output" else z).add_(1)
    return outcome(lambda: (y.sum().backward(), x.grad.tolist())[1])


@pytest.mark.parametrize("which", ["saved", "output", "unsaved"])
def test_saved_tensor_version_check_as_torch(which):
    ours, theirs = _modify(which, autograd), _modify(which, torch)
    if which == "unsaved":
        assert ours == theirs == [0.5, 0.5]
    else:
        assert ours[0] == theirs[0] == "RuntimeError"
        assert all("modified by an inplace operation" in message for message in (ours[1], theirs[1]))


# -- graph freeing, retain_graph, autograd.grad ----------------------------------------------------------
def test_retain_graph_and_freeing_as_torch():
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        a, b = TWO(x, x)
        loss = (a + b).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        assert np.allclose(x.grad.tolist(), 2 * (2 * np.array([1.0, 2.0]) + np.exp([1.0, 2.0])))  # x*x + e^x
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()


def test_backward_frees_the_ctx_and_what_it_saved():
    x = Tensor(rn(3), requires_grad=True)
    y = CUBE(x)
    ctx = weakref.ref(y.grad_fn)
    parts = TWO(x, x)
    hub = weakref.ref(parts[0]._prev[0]._fn)
    y.sum().backward()
    (parts[0].sum() + parts[1].sum()).backward()
    assert ctx() is None and hub() is None  # freed by reference counting: the ctx is in no cycle


# -- drawing and the explorer ----------------------------------------------------------------------------
def test_draw_graph_shows_the_class_name():
    x = Tensor(rn(3), requires_grad=True)
    source = autograd.draw_graph(CUBE(x).sum()).source
    assert 'label="Cube"' in source
    p, e = TWO(x, x)
    source = autograd.draw_graph((p * e).sum()).source
    assert 'label="Two"' in source and 'label="Two[0]"' in source and 'label="Two[1]"' in source
    assert "Two outputs" in source


def test_explain_and_backward_steps_run():
    x = Tensor(rn(3), requires_grad=True)
    p, e = TWO(x, CUBE(x))
    root = (p * e).sum()
    steps = autograd.backward_steps(root, params={"x": x})
    assert {"Cube", "Two", "Two[0]", "Two[1]"} <= {s.op for s in steps}
    total, = autograd.grad(root, [x], retain_graph=True)
    assert np.allclose(next(s for s in steps if s.name == "x").grad, total._data)
    text = autograd.explain(root, params={"x": x})
    assert "Cube" in text and "Two" in text
    assert "Two[0]" in autograd.explore(root, params={"x": x}).html


def test_formulas_evaluate_the_users_backward():
    x, w = Tensor(rn(3), requires_grad=True), Tensor(rn(3), requires_grad=True)
    y = SCALE(x, 2.0)
    assert [t for t, _ in type(y.grad_fn).formulas] == [f"Scale.backward(ctx, g)[{i}]" for i in range(3)]
    (text, fn), = y.grad_fn.formulas  # this call's only Tensor argument
    g = rn(3)
    assert text == "Scale.backward(ctx, g)[0]"
    assert np.allclose(fn(types.SimpleNamespace(g=g, fn=y.grad_fn)), g * 2.0 * 2 * x._data)
    z = FIRST_ONLY(x, w)
    (_, fx), (tw, fw) = z.grad_fn.formulas
    assert tw == "FirstOnly.backward(ctx, g)[1]"
    step = types.SimpleNamespace(g=g, fn=z.grad_fn)
    assert np.allclose(fx(step), g * w._data) and np.array_equal(fw(step), np.zeros(3))
    assert z.grad_fn.formulas is type(z.grad_fn).formulas  # every parameter a Tensor: the class's
    p, e = TWO(x, w)
    (_, fx), (_, fw) = type(p._prev[0]._fn).formulas
    step = types.SimpleNamespace(g=np.concatenate([g, 2 * g]), fn=p._prev[0]._fn)  # the node of both
    assert np.allclose(fx(step), g * w._data + 2 * g * np.exp(x._data)) and np.allclose(fw(step), g * x._data)
    (text, f1), = e.grad_fn.formulas
    flat = p._prev[0]._data
    step = types.SimpleNamespace(g=g, fn=e.grad_fn, a=flat)
    assert text == "g flattened into zeros {s0} at this output's slice"
    assert np.array_equal(f1(step), np.concatenate([np.zeros(3), g]))


# -- dtypes --------------------------------------------------------------------------------------------------
def _mixed_forward(ctx, x):
    return x.float() * 2, x * 3


def test_several_output_dtypes_as_torch():
    op, seen = _recording("Mixed", lambda ctx, x, w, k: _mixed_forward(ctx, x),
                          lambda ctx, a, b: (a.double() * 2 + b * 3, None, None))
    found = []
    for lib in LIBS:
        seen.clear()
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        a, b = op(x, x, 0)
        (a.sum() + b.sum()).backward()
        found.append((list(seen), str(a.dtype).replace("torch.", ""), str(x.grad.dtype).replace("torch.", ""),
                      x.grad.tolist()))
    assert found[0] == found[1]
