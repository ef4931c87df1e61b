"""Every ``Tensor`` op in API.md against PyTorch float64, and against finite differences.

Each case is one function run through ``assert_grads_match_torch`` (outputs, gradients under a random
upstream gradient, and second-order gradients along random directions) and through ``gradcheck``.
Where torch spells an op differently (``amax`` for our ``max(dim)``, a required ``dim``), the case
function picks the spelling from the type of its argument.
"""
import numpy as np
import pytest

from autograd import Tensor, gradcheck
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

R = np.random.default_rng(20240601)


def rn(*shape):
    return R.standard_normal(shape)


def pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def away(*shape):
    """Values with |x| in [0.2, 2]: away from the kinks of abs and relu."""
    return R.uniform(0.2, 2.0, shape) * R.choice([-1.0, 1.0], shape)


def is_torch(x):
    return isinstance(x, torch.Tensor)


class Case:
    def __init__(self, name, fn, *arrays, second=True, check_fd=True, rtol=1e-6):
        self.name, self.fn, self.arrays = name, fn, arrays
        self.second, self.check_fd, self.rtol = second, check_fd, rtol


CASES = []


def case(name, fn, *arrays, **kw):
    CASES.append(Case(name, fn, *arrays, **kw))


# -- arithmetic, with broadcasting and reversed forms ------------------------------------------------
case("add", lambda a, b: a + b, rn(3, 4), rn(4))
case("add-3d", lambda a, b: a + b, rn(2, 1, 3), rn(4, 3))
case("sub", lambda a, b: a - b, rn(2, 1, 3), rn(4, 3))
case("mul", lambda a, b: a * b, rn(3, 1), rn(1, 4))
case("div", lambda a, b: a / b, rn(3, 4), away(4))
case("div-both", lambda a, b: a / b, away(3, 1), away(1, 4))
case("pow-tensor", lambda a, b: a ** b, pos(3, 4), rn(3, 4))
case("pow-tensor-broadcast", lambda a, b: a ** b, pos(2, 3), rn(3))
case("pow-tensor-0d", lambda a, b: a ** b, pos(2, 3), np.array(1.7))
for k in (2, 3, 0.5, -1.5, -1, 0, 1):
    case(f"pow-scalar-{k}", lambda a, k=k: a ** k, pos(3, 2))
case("pow-scalar-2-negative-base", lambda a: a ** 2, rn(3, 2))
case("pow-scalar-3-negative-base", lambda a: a ** 3, rn(3, 2))
case("radd", lambda a: 2 + a, rn(3))
case("rsub", lambda a: 2 - a, rn(3))
case("rmul", lambda a: 2.5 * a, rn(3))
case("rdiv", lambda a: 2 / a, away(3))
case("rpow", lambda a: 2 ** a, rn(3))
case("rpow-fraction", lambda a: 0.5 ** a, rn(2, 2))
case("scalar-right", lambda a: (a + 2.5 - 1) * 3 / 4, rn(3))
case("neg", lambda a: -a, rn(2, 3))
case("chain", lambda a, b: (a * b + a / (b * b + 1)) ** 2 - b.exp() * a, rn(3, 2), rn(2))

# -- matmul in every form ---------------------------------------------------------------------------
MATMUL = {
    "1d@1d": ((4,), (4,)),
    "2d@1d": ((3, 4), (4,)),
    "1d@2d": ((4,), (4, 2)),
    "2d@2d": ((3, 4), (4, 2)),
    "batched-broadcast": ((2, 1, 3, 4), (5, 4, 2)),
    "1d@batched": ((4,), (2, 4, 3)),
    "batched@1d": ((2, 3, 4), (4,)),
    "batched@batched": ((2, 3, 4), (2, 4, 5)),
    "2d@batched": ((3, 4), (2, 4, 5)),
    "batched@2d": ((2, 2, 3, 4), (4, 1)),
}
for name, (sa, sb) in MATMUL.items():
    case(f"matmul-{name}", lambda a, b: a @ b, rn(*sa), rn(*sb))
case("matmul-method", lambda a, b: a.matmul(b), rn(3, 4), rn(4, 2))
case("matmul-squared", lambda a, b: (a @ b) * (a @ b), rn(3, 4), rn(4, 2))

# -- elementwise ------------------------------------------------------------------------------------
case("exp", lambda a: a.exp(), rn(3, 4))
case("log", lambda a: a.log(), pos(3, 4))
case("sqrt", lambda a: a.sqrt(), pos(3, 4))
case("abs", lambda a: a.abs(), away(3, 4))
case("abs-builtin", lambda a: abs(a), away(3, 4))
case("sin", lambda a: a.sin(), rn(3, 4))
case("cos", lambda a: a.cos(), rn(3, 4))
case("tanh", lambda a: a.tanh(), rn(3, 4))
case("sigmoid", lambda a: a.sigmoid(), rn(3, 4))
case("relu", lambda a: a.relu(), away(3, 4))
case("clamp-both", lambda a: a.clamp(min=-0.5, max=0.5), away(4, 5))
case("clamp-min", lambda a: a.clamp(min=0.3), away(4, 5))
case("clamp-max", lambda a: a.clamp(max=-0.3), away(4, 5))
case("clamp-positional", lambda a: a.clamp(-0.5, 0.5), away(4, 5))


# -- reductions -------------------------------------------------------------------------------------
def reduction(op, dim, keepdim):
    """``op(dim=..., keepdim=...)``; on torch, ``max``/``min`` are ``amax``/``amin`` and ``dim=None`` is
    spelled as all the dimensions."""
    def fn(x):
        if is_torch(x):
            d = tuple(range(x.ndim)) if dim is None else dim
            return getattr(x, {"max": "amax", "min": "amin"}.get(op, op))(dim=d, keepdim=keepdim)
        return getattr(x, op)(dim=dim, keepdim=keepdim)
    return fn


for op in ("sum", "mean", "max", "min", "var", "std", "logsumexp"):
    for dim in (None, 1, -1, (0, 2), (-1, 0, 1)):
        for keepdim in (False, True):
            case(f"{op}-dim{dim}-keepdim{keepdim}", reduction(op, dim, keepdim), rn(2, 3, 4))
for op in ("sum", "mean", "max", "min", "var", "std"):
    case(f"{op}-no-args", lambda a, op=op: getattr(a, op)(), rn(3, 4))
    for dim in ((), []):  # torch: an empty dim reduces every dimension (NumPy would reduce none)
        # torch's var/std backward divides by 0 for an empty dim (an inf gradient for a finite value
        # it computes over all dimensions), so those two are checked against torch's all-dims call
        torch_dim = None if op in ("var", "std") else dim
        case(f"{op}-dim{dim!r}", lambda a, op=op, dim=dim, torch_dim=torch_dim:
             reduction(op, torch_dim if is_torch(a) else dim, False)(a), rn(3, 4))
case("sum-1d-dim0", lambda a: a.sum(0), rn(5))
case("var-unbiased-false", lambda a: a.var(1, unbiased=False) if is_torch(a) else a.var(1, unbiased=False),
     rn(3, 4))
case("var-correction0", lambda a: a.var(dim=0, correction=0), rn(3, 4))
case("std-keepdim", lambda a: a.std(dim=1, keepdim=True), rn(3, 4))
case("std-constant-row", lambda a: a.std(dim=1), np.array([[2.0, 2.0, 2.0], [1.0, -1.0, 3.0]]),
     check_fd=False)  # torch's gradient is 0 where the std is 0; |x| has no derivative there
case("std-constant-all", lambda a: a.std(), np.full((2, 2), 0.5), check_fd=False)
case("amax-alias", lambda a: a.amax(dim=1), rn(3, 4))
case("amin-alias", lambda a: a.amin(dim=(0, 1)), rn(3, 4))
# ties share the gradient evenly (torch.amax/amin); two-way ties agree with central differences too
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, 0.0], [5.0, -1.0, 4.0, 5.0]])
case("max-ties-dim1", lambda a: a.amax(dim=1) if is_torch(a) else a.max(dim=1), TIES)
case("min-ties-dim1", lambda a: a.amin(dim=1) if is_torch(a) else a.min(dim=1), TIES)
case("max-ties-all", lambda a: a.amax() if is_torch(a) else a.max(), np.array([[1.0, 5.0], [5.0, 0.0]]))
case("max-ties-3way", lambda a: a.amax(dim=0) if is_torch(a) else a.max(dim=0), np.ones((3, 2)),
     check_fd=False)  # one-sided bumps see 1/2, the subgradient is 1/3
for op in ("sum", "mean", "max", "min", "logsumexp"):  # a 0-d tensor takes dim 0 and -1, as in torch
    for dim in (0, -1, None):
        case(f"{op}-0d-dim{dim}", reduction(op, dim, dim == -1), np.array(1.3))
case("softmax-0d", lambda a: a.softmax(0), np.array(0.7))
case("log_softmax-0d", lambda a: a.log_softmax(-1) * a, np.array(0.7))
case("0d-arithmetic", lambda a, b: (a * b + a) / b - a ** 2, np.array(0.7), np.array(-1.2))
for dim in (0, 1, -1):
    case(f"softmax-dim{dim}", lambda a, d=dim: a.softmax(d), rn(3, 4, 2))
    case(f"log_softmax-dim{dim}", lambda a, d=dim: a.log_softmax(d), rn(3, 4, 2))
case("softmax-1d", lambda a: a.softmax(0), rn(5))
case("log_softmax-1d", lambda a: a.log_softmax(-1), rn(5))

# -- shape ------------------------------------------------------------------------------------------
case("reshape", lambda a: a.reshape(4, 6), rn(2, 3, 4))
case("reshape-tuple-minus1", lambda a: a.reshape((2, -1)), rn(2, 3, 4))
case("reshape-scalar", lambda a: a.reshape(()), rn(1, 1))
case("view", lambda a: a.view(-1), rn(2, 3, 4))
case("view-2", lambda a: a.view(3, 8), rn(2, 3, 4))
case("transpose", lambda a: a.transpose(0, 2), rn(2, 3, 4))
case("transpose-negative", lambda a: a.transpose(-1, -2), rn(2, 3, 4))
case("permute", lambda a: a.permute(2, 0, 1), rn(2, 3, 4))
case("permute-tuple", lambda a: a.permute((1, 2, 0)), rn(2, 3, 4))
case("flatten", lambda a: a.flatten(), rn(2, 3, 4))
case("flatten-1", lambda a: a.flatten(1), rn(2, 3, 4))
case("flatten-0-1", lambda a: a.flatten(0, 1), rn(2, 3, 4))
case("flatten-neg", lambda a: a.flatten(start_dim=-2, end_dim=-1), rn(2, 3, 4))
case("squeeze", lambda a: a.squeeze(), rn(1, 3, 1, 2))
case("squeeze-0", lambda a: a.squeeze(0), rn(1, 3, 1, 2))
case("squeeze-2", lambda a: a.squeeze(2), rn(1, 3, 1, 2))
case("squeeze-not-one", lambda a: a.squeeze(1), rn(1, 3, 1, 2))
case("squeeze-tuple", lambda a: a.squeeze((0, 2)), rn(1, 3, 1, 2))
case("unsqueeze-0", lambda a: a.unsqueeze(0), rn(3, 2))
case("unsqueeze-1", lambda a: a.unsqueeze(1), rn(3, 2))
case("unsqueeze-last", lambda a: a.unsqueeze(-1), rn(3, 2))
case("expand", lambda a: a.expand(3, 4), rn(1, 4))
case("expand-new-dims", lambda a: a.expand(2, 3, 4), rn(3, 1))
case("expand-minus1", lambda a: a.expand(2, -1, 4), rn(3, 1))
case("expand-tuple", lambda a: a.expand((2, 3)), rn(3))
case("T-2d", lambda a: a.T, rn(3, 4))
case("T-1d", lambda a: (a if is_torch(a) else a.T) * 1.0, rn(3))
case("T-3d", lambda a: a.permute(2, 1, 0) if is_torch(a) else a.T, rn(2, 3, 4))  # torch deprecates .T here
case("reshape-after-transpose", lambda a: a.transpose(0, 1).reshape(-1), rn(2, 3))

# -- indexing ---------------------------------------------------------------------------------------
X = rn(4, 5, 3)
INDEXES = {
    "int": 1,
    "negative-int": -1,
    "two-ints": (1, 2),
    "three-ints": (1, 2, 0),
    "slice": slice(1, 3),
    "slice-step": slice(None, None, 2),
    "slices-steps": (slice(1, None, 2), slice(0, 5, 3)),
    "none": None,
    "ellipsis-int": (Ellipsis, 1),
    "none-slice-int": (slice(None), None, slice(1, None), 1),
    "ellipsis-none": (Ellipsis, None),
    "int-array-repeated": np.array([0, 2, 2, 0, 2]),
    "list-repeated": [0, 0, 1],
    "empty-list": [],
    "int-array-2d": np.array([[0, 1], [1, 1]]),
    "array-in-dim1": (slice(None), np.array([1, 1, 4])),
    "two-arrays-pairs": (np.array([0, 1, 1]), np.array([2, 2, 2])),
    "arrays-separated": (np.array([0, 2]), slice(None), np.array([1, 1])),
    "slice-then-array": (slice(1, None), np.array([0, 0, 2])),
    "ellipsis-array": (Ellipsis, np.array([2, 0, 2])),
    "int-and-array": (1, np.array([3, 3, 0])),
    "bool-mask-first-dim": np.array([True, False, True, True]),
    "bool-mask-2d": X[:, :, 0] > 0,
    "bool-mask-full": X > 0.3,
    "bool-mask-and-int": (np.array([True, False, True, False]), 2),
}
for name, index in INDEXES.items():
    case(f"index-{name}", lambda a, index=index: a[index], X)
case("index-with-tensor", lambda a, i: a[i], X, np.array([3, 3, 1]))
case("index-with-mask-tensor", lambda a, m: a[m], X, X > 0)
case("index-twice", lambda a: a[1:][:, [0, 0]] * a[0, 0, 0], X)

# -- joining, selecting -----------------------------------------------------------------------------
case("cat-0", lambda a, b: module_of(a).cat([a, b], dim=0), rn(2, 3), rn(4, 3))
case("cat-1", lambda a, b: module_of(a).cat([a, b, a], dim=1), rn(2, 3), rn(2, 1))
case("cat-negative", lambda a, b: module_of(a).cat((a, b), dim=-1), rn(2, 2, 3), rn(2, 2, 1))
for dim in (0, 1, -1):
    case(f"stack-{dim}", lambda a, b, c, d=dim: module_of(a).stack([a, b, c], dim=d), rn(2, 3), rn(2, 3),
         rn(2, 3))
case("where", lambda c, a, b: module_of(a).where(c, a, b), rn(3, 4) > 0, rn(3, 4), rn(3, 4))
case("where-broadcast", lambda c, a, b: module_of(a).where(c, a, b), rn(3, 1) > 0, rn(4), rn(3, 4))
case("where-scalar-other", lambda c, a: module_of(a).where(c, a, 0.0), rn(3, 4) > 0, rn(3, 4))
case("where-same-input", lambda a: module_of(a).where(a > 0, a * a, -a), away(3, 4))
case("maximum", lambda a, b: module_of(a).maximum(a, b), rn(3, 4), rn(3, 4))
case("minimum", lambda a, b: module_of(a).minimum(a, b), rn(3, 4), rn(3, 4))
case("maximum-broadcast", lambda a, b: module_of(a).maximum(a, b), rn(3, 1), rn(4))
case("maximum-ties", lambda a, b: module_of(a).maximum(a, b), np.array([1.0, 2.0, 3.0, 4.0]),
     np.array([1.0, 0.0, 3.0, 5.0]))
case("minimum-ties", lambda a, b: module_of(a).minimum(a, b), np.array([1.0, 2.0, 3.0, 4.0]),
     np.array([1.0, 0.0, 3.0, 5.0]))
case("maximum-self", lambda a: module_of(a).maximum(a, a), rn(3))

# -- dtype conversions (finite differences through float32 are noise: torch only) -----------------------
case("float-double", lambda a: (a.float() * 2.0).double(), rn(3, 4), check_fd=False)
case("double-noop", lambda a: a.double() * a, rn(3, 4))
case("to-float64", lambda a: a.to(torch.float64 if is_torch(a) else "float64") * a, rn(3))
case("to-float32-out", lambda a: a.to(torch.float32 if is_torch(a) else np.float32), rn(3, 4),
     check_fd=False)


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_matches_torch(c):
    assert_grads_match_torch(c.fn, *c.arrays, rtol=c.rtol, second_order=c.second)


def _tensors(arrays):
    return [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_array_is_an_ndarray(c):
    # NumPy hands back scalars for 0-d results; the array a tensor holds must still be an np.ndarray
    out = c.fn(*_tensors(c.arrays))
    assert type(out.detach().numpy()) is np.ndarray and type(out.data) is Tensor
    if out.requires_grad:
        xs = _tensors(c.arrays)
        c.fn(*xs).sum().backward()
        assert all(type(x.grad.numpy()) is np.ndarray for x in xs if x.requires_grad and x.grad is not None)


FD_CASES = [c for c in CASES if c.check_fd]


@pytest.mark.parametrize("c", FD_CASES, ids=[c.name for c in FD_CASES])
def test_gradcheck(c):
    assert gradcheck(c.fn, _tensors(c.arrays))


# -- no-gradient ops --------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(op, dim, keepdim):
    x = rn(3, 4)
    out = getattr(Tensor(x, requires_grad=True), op)(dim=dim, keepdim=keepdim)
    expected = getattr(torch.tensor(x), op)(dim=dim, keepdim=keepdim)
    assert out.dtype == np.int64 and not out.requires_grad
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.data, expected.numpy())


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons(op):
    x = np.array([[1.0, 2.0, 3.0], [0.0, 2.0, -1.0]])
    y = np.array([2.0, 2.0, 1.0])
    fn = eval(f"lambda a, b: a {op} b")  # noqa: S307 (the six operators, written once)
    assert_grads_match_torch(fn, x, y)
    assert_grads_match_torch(lambda a: fn(a, 2.0), x)
    out = fn(Tensor(x, requires_grad=True), Tensor(y, requires_grad=True))
    assert out.dtype == np.bool_ and not out.requires_grad


# -- stability and IEEE corners ---------------------------------------------------------------------
BIG = np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0]])


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("dim", [0, 1])
def test_stable_for_huge_inputs(op, dim):
    fn = lambda a: getattr(a, op)(dim)  # noqa: E731
    out = fn(Tensor(BIG, requires_grad=True))
    assert np.isfinite(out.data).all()
    assert_grads_match_torch(fn, BIG, second_order=True)


def test_logsumexp_with_an_empty_dim_reduces_everything():
    # torch's own logsumexp rejects dim=() (a shape error), so compare with our dim=None, which the
    # cases above check against torch
    x = Tensor(np.random.default_rng(3).standard_normal((3, 4)))
    np.testing.assert_array_equal(x.logsumexp(dim=()).data, x.logsumexp().data)
    assert x.logsumexp(dim=[], keepdim=True).shape == (1, 1)


def test_logsumexp_all_and_huge_values():
    assert_grads_match_torch(lambda a: a.logsumexp(dim=(0, 1)), BIG)
    x = Tensor(np.array([1000.0, 1000.0]), requires_grad=True)
    out = x.logsumexp(0)
    out.backward()
    assert out.item() == pytest.approx(1000.0 + np.log(2.0))
    np.testing.assert_allclose(x.grad.data, [0.5, 0.5])


@pytest.mark.parametrize("op", ["sigmoid", "tanh", "exp", "relu"])
def test_large_magnitudes_match_torch(op):
    x = np.array([-1000.0, -50.0, -1.0, 0.5, 50.0, 1000.0])
    assert_grads_match_torch(lambda a: getattr(a, op)(), x)


def test_ieee_corners_match_torch():
    x = np.array([0.0, -1.0, 4.0])
    assert_grads_match_torch(lambda a: a.log(), x)
    assert_grads_match_torch(lambda a: a.sqrt(), x)
    assert_grads_match_torch(lambda a: 1.0 / a, x)
    assert_grads_match_torch(lambda a: a ** -1.5, x)
    assert_grads_match_torch(lambda a, b: a ** b, np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.0]))
    assert_grads_match_torch(lambda a: a.abs() + a.relu(), np.array([0.0, 1.0]))  # subgradient 0 at 0
    assert_grads_match_torch(lambda a: a.clamp(-1.0, 1.0), np.array([-1.0, 1.0, 0.0, 2.0]))


def test_nan_inputs_pass_their_gradient_on_like_torch():
    x = np.array([np.nan, 1.0, 2.0, 3.0])
    y = np.array([0.0, np.nan, 2.0, 1.0])
    assert_grads_match_torch(lambda a: a.relu(), x)
    assert_grads_match_torch(lambda a: a.clamp(-1.0, 1.0), x)
    assert_grads_match_torch(lambda a, b: module_of(a).maximum(a, b), x, y)
    assert_grads_match_torch(lambda a, b: module_of(a).minimum(a, b), x, y)
    assert_grads_match_torch(lambda a: a.amax(0) if is_torch(a) else a.max(0), x)


def test_index_negative_step_against_numpy():
    # torch has no negative slice steps; numpy semantics, checked by finite differences
    x = Tensor(X, requires_grad=True)
    out = x[::-1, 1:4:2, ::-2]
    np.testing.assert_array_equal(out.data, X[::-1, 1:4:2, ::-2])
    assert gradcheck(lambda a: a[::-1, 1:4:2, ::-2] ** 2, [x])


def test_repeated_indices_accumulate():
    x = Tensor(np.arange(5.0), requires_grad=True)
    x[np.array([1, 1, 1, 4])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 3, 0, 0, 1])


def test_ndarray_on_the_left():
    x = Tensor(rn(3), requires_grad=True)
    a = rn(3)
    out = a * x + a
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, a)


def test_ops_on_int_tensors_match_torch():
    a = np.array([[1, 2], [3, 4]])
    assert_grads_match_torch(lambda t: (t + 1) * 2, a)
    assert_grads_match_torch(lambda t: t @ t, a)
    assert_grads_match_torch(lambda t: t.sum(dim=0), a)
