"""Reductions against torch float64: values, gradients under a random upstream gradient, second order
and finite differences (table-driven); torch's named tuples; size-0 and 0-d inputs; errors; Hypothesis
over random shapes. ``Cases`` is shared with test_ops_scan.py and test_ops_sort.py."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor, gradcheck
from autograd.testing import assert_grads_match_torch, module_of

torch = pytest.importorskip("torch")

R = np.random.default_rng(1212)
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)


def rn(*shape):
    return R.standard_normal(shape)


def is_torch(x):
    return isinstance(x, torch.Tensor)


def q_of(x, q):
    """``q`` as a tensor of ``x``'s library (torch wants a float64 tensor beside a float64 input)."""
    return torch.tensor(q, dtype=torch.float64) if is_torch(x) else autograd.tensor(np.asarray(q))


class Cases:
    """A table of cases ``name -> fn(*tensors)`` run on torch and on autograd: ``run`` compares values,
    gradients and second order; ``gradcheck`` checks the first output against finite differences."""

    def __init__(self):
        self.table = {}

    def add(self, name, fn, *arrays, second=True, fd=True, rtol=1e-6):
        assert name not in self.table, name
        self.table[name] = (fn, arrays, second, fd, rtol)

    def names(self):
        return list(self.table)

    def fd_names(self):
        return [n for n, c in self.table.items() if c[3]]

    def run(self, name):
        fn, arrays, second, _, rtol = self.table[name]
        assert_grads_match_torch(fn, *arrays, second_order=second, rtol=rtol)

    def gradcheck(self, name):
        fn, arrays, *_ = self.table[name]
        first = lambda *xs: (lambda out: out[0] if isinstance(out, tuple) else out)(fn(*xs))  # noqa: E731
        assert gradcheck(first, [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays])

    def tests(self):
        """A module's two tests over the table, once it is complete:
        ``test_matches_torch, test_gradcheck = C.tests()``."""
        @pytest.mark.parametrize("name", self.names())
        def test_matches_torch(name):
            self.run(name)

        @pytest.mark.parametrize("name", self.fd_names())
        def test_gradcheck(name):
            self.gradcheck(name)
        return test_matches_torch, test_gradcheck


C = Cases()
X = rn(3, 4, 5)
ZEROS1 = np.array([[1.5, 0.0, -2.0, 3.0], [0.5, 2.0, -1.0, 4.0], [0.0, 0.0, 3.0, 1.0]])  # 1, 0, 2 zeros
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [2.0, 2.0, 0.0, 0.0], [5.0, -1.0, 4.0, 5.0]])
NANS = np.array([[1.0, np.nan, 3.0, -1.0, 2.0], [np.nan, np.nan, np.nan, np.nan, np.nan],
                 [0.5, 2.0, np.nan, -3.0, 1.0]])

# -- sum, mean, prod with dtype and NumPy's names ----------------------------------------------------
C.add("sum-axis-keepdims", lambda a: a.sum(axis=1, keepdims=True), X)
C.add("sum-axis-tuple", lambda a: a.sum(axis=(0, 2)), X)
C.add("mean-axis", lambda a: a.mean(axis=-1), X)
C.add("sum-dtype", lambda a: a.float().sum(1, dtype=torch.float64 if is_torch(a) else np.float64), X,
      fd=False)
C.add("mean-dtype", lambda a: a.float().mean(dtype=torch.float64 if is_torch(a) else "float64"), X, fd=False)
for dim in (None, 0, 1, -1):
    for keepdim in (False, True):
        if dim is None and keepdim:
            continue  # torch's prod() takes no keepdim
        kw = {} if dim is None else dict(dim=dim, keepdim=keepdim)
        C.add(f"prod-dim{dim}-keepdim{keepdim}", lambda a, kw=kw: a.prod(**kw), X)
        C.add(f"prod-zeros-dim{dim}-keepdim{keepdim}", lambda a, kw=kw: a.prod(**kw), ZEROS1)
C.add("prod-one-zero-all", lambda a: a.prod(), np.array([[1.5, 2.0], [0.0, -3.0]]))
C.add("prod-two-zeros-all", lambda a: a.prod(), np.array([[1.5, 0.0], [0.0, -3.0]]))
C.add("prod-all-zeros", lambda a: a.prod(1), np.zeros((2, 3)))
C.add("prod-0d", lambda a: a.prod(), np.array(1.7))
C.add("prod-0d-dim", lambda a: a.prod(0), np.array(-1.7))
C.add("prod-axis", lambda a: a.prod(axis=2, keepdims=True), X)
C.add("prod-module", lambda a: module_of(a).prod(a, 1), ZEROS1)

# -- max/min: named tuples, maximum, ties to the first -------------------------------------------------
for op in ("max", "min"):
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            C.add(f"{op}-dim{dim}-keepdim{keepdim}",
                  lambda a, op=op, d=dim, k=keepdim: getattr(a, op)(d, k), X)
    C.add(f"{op}-ties-first-index", lambda a, op=op: getattr(a, op)(dim=1), TIES, fd=False)  # a kink
    C.add(f"{op}-keepdim-keyword", lambda a, op=op: getattr(a, op)(dim=0, keepdim=True), TIES)
    C.add(f"{op}-values-field", lambda a, op=op: getattr(a, op)(1).values * 2.0, X[0])
    C.add(f"{op}-other", lambda a, b, op=op: getattr(a, op)(b), rn(3, 4), rn(4))
    C.add(f"{op}-module-two-tensors", lambda a, b, op=op: getattr(module_of(a), op)(a, b), rn(3, 4), rn(3, 4))
    C.add(f"{op}-module-dim", lambda a, op=op: getattr(module_of(a), op)(a, 1), X[0])
    C.add(f"{op}-all-ties", lambda a, op=op: getattr(a, op)(), TIES, fd=False)  # ties split: a kink
    C.add(f"{op}-0d-dim", lambda a, op=op: getattr(a, op)(0), np.array(0.3))
    C.add(f"{op}-nan", lambda a, op=op: getattr(a, op)(1), NANS, fd=False)
    C.add(f"{op}-nan-all", lambda a, op=op: getattr(a, op)(), NANS[0], fd=False)  # the nans share it
    C.add(f"a{op}-nan", lambda a, op=op: getattr(a, f"a{op}")(1), NANS, fd=False)
C.add("aminmax-dim", lambda a: a.aminmax(dim=1), X)
C.add("aminmax-keepdim", lambda a: a.aminmax(dim=-1, keepdim=True), X)
C.add("aminmax-all", lambda a: a.aminmax(), X)
C.add("aminmax-0d", lambda a: a.aminmax(), np.array(2.0))

# -- median, nanmedian, mode, kthvalue ---------------------------------------------------------------
C.add("median-all-odd", lambda a: a.median(), rn(3, 5))
C.add("median-all-even", lambda a: a.median(), rn(4, 2))  # the lower of the two middle values
C.add("median-all-ties", lambda a: a.median(), np.array([1.0, 2.0, 2.0, 3.0, 2.0, 7.0]), fd=False)
C.add("median-all-nan", lambda a: a.median(), NANS[0], fd=False)
C.add("nanmedian-all", lambda a: a.nanmedian(), NANS[0])
C.add("nanmedian-all-nan", lambda a: a.nanmedian(), NANS[1], fd=False)
for dim in (0, 1, -1):
    for keepdim in (False, True):
        C.add(f"median-dim{dim}-keepdim{keepdim}", lambda a, d=dim, k=keepdim: a.median(d, k), X)
        C.add(f"kthvalue-dim{dim}-keepdim{keepdim}", lambda a, d=dim, k=keepdim: a.kthvalue(2, d, k), X)
C.add("median-dim-nan", lambda a: a.median(1), NANS, fd=False)
C.add("nanmedian-dim", lambda a: a.nanmedian(1), NANS, fd=False)
C.add("nanmedian-dim-keepdim", lambda a: a.nanmedian(dim=1, keepdim=True), NANS, fd=False)
C.add("median-0d", lambda a: a.median(0), np.array(0.5))
C.add("kthvalue-last", lambda a: a.kthvalue(5), X)
C.add("kthvalue-module", lambda a: module_of(a).kthvalue(a, 1, 0), X)
MODES = np.array([[1.0, 2.0, 2.0, 3.0, 2.0, 1.0], [4.0, 4.0, 1.0, 1.0, 0.0, 5.0],
                  [3.0, 2.0, 1.0, 0.0, -1.0, 6.0]])
C.add("mode-last-dim", lambda a: a.mode(), MODES, fd=False)  # gradient to the last occurrence, as torch
C.add("mode-dim0-keepdim", lambda a: a.mode(0, True), MODES.T.copy(), fd=False)
C.add("mode-module", lambda a: module_of(a).mode(a, 1), MODES, fd=False)

# -- quantiles ------------------------------------------------------------------------------------------
Q = [0.0, 0.1, 0.25, 0.5, 0.8, 1.0]
for interpolation in ("linear", "lower", "higher", "midpoint", "nearest"):
    smooth = interpolation == "linear"
    C.add(f"quantile-{interpolation}-float", lambda a, i=interpolation: a.quantile(0.3, interpolation=i),
          X, fd=smooth)
    C.add(f"quantile-{interpolation}-tensor-dim1",
          lambda a, i=interpolation: a.quantile(q_of(a, Q), dim=1, interpolation=i), X, fd=smooth)
    C.add(f"quantile-{interpolation}-keepdim",
          lambda a, i=interpolation: a.quantile(q_of(a, [0.5, 0.75]), dim=-1, keepdim=True, interpolation=i),
          X, fd=smooth)
    C.add(f"nanquantile-{interpolation}",
          lambda a, i=interpolation: a.nanquantile(q_of(a, Q), dim=1, interpolation=i), NANS, fd=False)
C.add("quantile-nearest-half", lambda a: a.quantile(q_of(a, [0.5, 0.25, 0.75]), interpolation="nearest"),
      rn(5), fd=False)  # ranks 2.5, 1.25.. (5 elements: 0.5 * 4 = 2; 4 elements below)
C.add("quantile-nearest-even", lambda a: a.quantile(q_of(a, [0.5, 1 / 6]), interpolation="nearest"), rn(4),
      fd=False)  # ranks 1.5 and 0.5 round half to even, as torch
C.add("quantile-all-keepdim", lambda a: a.quantile(q_of(a, [0.2, 0.9]), keepdim=True), X)
C.add("quantile-scalar-all-keepdim", lambda a: a.quantile(0.6, keepdim=True), X)
C.add("quantile-nan", lambda a: a.quantile(0.5, dim=1), NANS, fd=False)
C.add("quantile-0d", lambda a: a.quantile(0.5), np.array(1.5))
C.add("quantile-module", lambda a: module_of(a).quantile(a, 0.4, dim=0), X)
C.add("nanquantile-module", lambda a: module_of(a).nanquantile(a, 0.4), NANS[0], fd=False)

# -- nan-ignoring sums, counts, any/all ------------------------------------------------------------------
for dim in (None, 1, (0, 1)):
    C.add(f"nansum-dim{dim}", lambda a, d=dim: a.nansum(dim=d), NANS, fd=False)
    C.add(f"nanmean-dim{dim}", lambda a, d=dim: a.nanmean(dim=d), NANS[[0, 2]], fd=False)
C.add("nansum-keepdim-axis", lambda a: a.nansum(axis=0, keepdims=True), NANS, fd=False)
C.add("nansum-no-nans", lambda a: a.nansum(1), X)
C.add("nanmean-no-nans", lambda a: a.nanmean(), X)
C.add("count_nonzero", lambda a: a.count_nonzero(), ZEROS1, fd=False)  # these have no gradient
C.add("count_nonzero-dims", lambda a: a.count_nonzero(dim=(0, 1)), ZEROS1, fd=False)
C.add("count_nonzero-dim", lambda a: module_of(a).count_nonzero(a, dim=1), ZEROS1, fd=False)
for op in ("any", "all"):
    C.add(f"{op}", lambda a, op=op: getattr(a != 0, op)(), ZEROS1, fd=False)
    C.add(f"{op}-dim", lambda a, op=op: getattr(a != 0, op)(1), ZEROS1, fd=False)
    C.add(f"{op}-dim-keepdim", lambda a, op=op: getattr(a != 0, op)(dim=0, keepdim=True), ZEROS1, fd=False)
    C.add(f"{op}-float", lambda a, op=op: getattr(a, op)(dim=(0, 1)), ZEROS1, fd=False)

# -- norms --------------------------------------------------------------------------------------------------
for p in ("fro", 2, 1, 3, 0.5, 1.5, math.inf, -math.inf, 0):
    C.add(f"norm-p{p}", lambda a, p=p: a.norm(p=p), rn(3, 4), fd=p != 0)
    C.add(f"norm-p{p}-dim", lambda a, p=p: a.norm(p, dim=1, keepdim=True), rn(3, 4), fd=p != 0)
    C.add(f"norm-p{p}-with-zeros", lambda a, p=p: a.norm(p, dim=1), ZEROS1, fd=False, second=p in (2, 1, 3))
C.add("norm-zero-row", lambda a: a.norm(dim=1), np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]]),
      fd=False, second=False)  # gradient 0 where the norm is 0 (torch); a kink
C.add("norm-dims", lambda a: a.norm(dim=(0, 2)), X)
C.add("norm-module", lambda a: module_of(a).norm(a, 3), X)
C.add("dist", lambda a, b: a.dist(b), rn(3, 4), rn(4))
C.add("dist-p1", lambda a, b: module_of(a).dist(a, b, p=1), rn(3, 4), rn(3, 4))
C.add("dist-inf", lambda a, b: a.dist(b, math.inf), rn(3, 4), rn(3, 4))

# -- var/std with their means ------------------------------------------------------------------------------
C.add("var_mean", lambda a: module_of(a).var_mean(a, 1), X)
C.add("std_mean", lambda a: module_of(a).std_mean(a, dim=(0, 2), keepdim=True), X)
C.add("var_mean-correction0", lambda a: module_of(a).var_mean(a, correction=0), X)
C.add("std-correction2", lambda a: a.std(dim=1, correction=2), X)
C.add("var-axis", lambda a: a.var(axis=1, keepdims=True), X)
# std and var by torch's formulas (std_backward, var_backward), so second order rounds as torch does: at
# a tiny variance the composite sqrt(sum(d * d) / n) left a 1e-17 residue that 1 / std**2 made 2e62
STATS_DATA = {"tiny-variance": np.array([[1.3e-79, 0.0], [2.0, -1.0]]), "scale-1e-150": X[0] * 1e-150,
              "scale-1e150": X[0] * 1e150, "zero-variance": np.array([[2.0, 2.0, 2.0], [1.0, 0.0, 3.0]]),
              "one-element-rows": X[0, :, :1]}  # n = 1 over dim 1: inf/nan where n <= correction
for data_name, data in STATS_DATA.items():
    for op in ("std", "var"):
        for dim, keepdim in ((None, False), (1, False), (0, True), ((0, 1), False)):
            for correction in (0, 1):
                fn = lambda a, op=op, d=dim, k=keepdim, c=correction: getattr(a, op)(  # noqa: E731
                    d, keepdim=k, correction=c)
                name = f"{op}-{data_name}-dim{dim}-keepdim{keepdim}-correction{correction}"
                C.add(name, fn, data, fd=False)
C.add("std-0d", lambda a: a.std(correction=0), np.array(1.5), fd=False)
C.add("var-0d-correction1", lambda a: a.var(0), np.array(1.5), fd=False)
C.add("std-unbiased-false", lambda a: a.std(1, unbiased=False), X[0])
C.add("var-empty-dim", lambda a: a.var(1), np.zeros((2, 0)), fd=False)
# torch's positional order (dim, unbiased, keepdim), and var(unbiased) over every dim
C.add("var-positional-unbiased-false", lambda a: a.var(1, False), X[0])
C.add("std-positional-unbiased-keepdim", lambda a: a.std(0, True, True), X[0])
C.add("std-positional-bool-only", lambda a: a.std(False), X[0])
C.add("var_mean-positional", lambda a: module_of(a).var_mean(a, 1, False, True), X[0])
C.add("std_mean-bool-only", lambda a: module_of(a).std_mean(a, False), X[0])
C.add("logsumexp-axis", lambda a: a.logsumexp(axis=0), X)
C.add("argmax-axis", lambda a: a.argmax(axis=1, keepdims=True), X, fd=False)
for name, fn in {  # torch takes NumPy's axis=/keepdims= wherever an op has dim=/keepdim=
    "max": lambda a: a.max(axis=0, keepdims=True), "median": lambda a: a.median(axis=1),
    "mode": lambda a: a.mode(axis=0), "kthvalue": lambda a: a.kthvalue(2, axis=1),
    "quantile": lambda a: a.quantile(0.5, axis=2, keepdims=True),
    "nanquantile": lambda a: a.nanquantile(0.5, axis=0),
    "aminmax": lambda a: a.aminmax(axis=1), "softmax": lambda a: a.softmax(axis=1),
    "log_softmax": lambda a: a.log_softmax(axis=0), "nansum": lambda a: a.nansum(axis=1),
    "std_mean": lambda a: module_of(a).std_mean(a, axis=1), "sort": lambda a: a.sort(axis=0),
    "argsort": lambda a: a.argsort(axis=0), "topk": lambda a: a.topk(2, axis=1),
    "cumsum": lambda a: a.cumsum(axis=1), "cumprod": lambda a: a.cumprod(axis=0),
    "logcumsumexp": lambda a: a.logcumsumexp(axis=2), "cummax": lambda a: a.cummax(axis=1),
    "cummin": lambda a: a.cummin(axis=0), "count_nonzero": lambda a: a.count_nonzero(axis=1),
}.items():
    C.add(f"{name}-numpy-axis", fn, X, fd=name not in ("argsort", "count_nonzero"))
C.add("sum-module", lambda a: module_of(a).sum(a, 1), X)
C.add("mean-module", lambda a: module_of(a).mean(a, dim=(0, 1)), X)
C.add("amax-module", lambda a: module_of(a).amax(a, dim=(0, 1)), X)
C.add("argmin-module", lambda a: module_of(a).argmin(a, dim=1, keepdim=True), X, fd=False)
C.add("softmax-module", lambda a: module_of(a).softmax(a, 1), X)


test_matches_torch, test_gradcheck = C.tests()


# -- named tuples --------------------------------------------------------------------------------------------
RESULTS = {
    "max": lambda x: x.max(1), "min": lambda x: x.min(1), "median": lambda x: x.median(1),
    "nanmedian": lambda x: x.nanmedian(1), "mode": lambda x: x.mode(1),
    "kthvalue": lambda x: x.kthvalue(2, 1),
    "sort": lambda x: x.sort(1), "topk": lambda x: x.topk(2), "cummax": lambda x: x.cummax(1),
    "cummin": lambda x: x.cummin(1), "aminmax": lambda x: x.aminmax(dim=1),
}


@pytest.mark.parametrize("name", list(RESULTS))
def test_named_tuples_as_torch(name):
    x = rn(3, 4)
    ours, theirs = RESULTS[name](Tensor(x, requires_grad=True)), RESULTS[name](torch.tensor(x))
    assert isinstance(ours, tuple) and type(ours).__name__ == type(theirs).__name__ == name
    assert isinstance(ours, getattr(autograd.return_types, name))
    fields = ("min", "max") if name == "aminmax" else ("values", "indices")
    assert ours._fields == fields and len(ours) == 2
    first, second = ours  # unpacks
    assert first is getattr(ours, fields[0]) and second is getattr(ours, fields[1])
    assert repr(ours).startswith(f"autograd.return_types.{name}(\n{fields[0]}=tensor(")
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.detach().numpy(), t.numpy())
        assert o.dtype == t.numpy().dtype
    if name != "aminmax":
        assert first.requires_grad and not second.requires_grad and second.dtype == np.int64


def test_max_without_dim_is_0d_and_max_of_two_is_maximum():
    x = Tensor(rn(3, 4), requires_grad=True)
    assert x.max().shape == () and x.min().shape == () and x.max().requires_grad
    y = Tensor(rn(3, 4))
    expected = np.maximum(x.detach().numpy(), y.numpy())
    np.testing.assert_array_equal(autograd.max(x, y).detach().numpy(), expected)
    assert autograd.max(x, 1).indices.shape == (3,)
    _, pred = x.max(1)  # the classic line
    np.testing.assert_array_equal(pred.numpy(), x.detach().numpy().argmax(1))


def test_gradient_flows_through_values_only_to_the_first_maximum():
    x = Tensor(np.array([[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]]), requires_grad=True)
    values, indices = x.max(dim=1)
    (values * Tensor(np.array([3.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 3.0, 0.0], [4.0, 0.0, 0.0]])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])


@pytest.mark.parametrize("op", [lambda x: x.median(1), lambda x: x.nanmedian(1), lambda x: x.kthvalue(3, 1),
                                lambda x: x.mode(1), lambda x: x.max(1), lambda x: x.min(1)],
                         ids=["median", "nanmedian", "kthvalue", "mode", "max", "min"])
def test_ties_pick_one_element_and_its_gradient(op):
    # torch leaves the index among equal elements unspecified for median/kthvalue: the values match torch,
    # the index points at an element holding the value, and the gradient goes to that element only
    a = np.array([[1.0, 2.0, 2.0, 3.0, 2.0, 1.0], [5.0, 5.0, 5.0, 4.0, 4.0, 4.0]])
    x = Tensor(a, requires_grad=True)
    values, indices = op(x)
    np.testing.assert_array_equal(values.detach().numpy(), op(torch.tensor(a)).values.numpy())
    idx = indices.numpy()
    np.testing.assert_array_equal(a[np.arange(2), idx], values.detach().numpy())
    values.sum().backward()
    expected = np.zeros_like(a)
    expected[np.arange(2), idx] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_nanmean_of_only_nans_has_gradient_zero_not_nan():
    # torch multiplies by a mask (0 * inf = nan); chainrule selects, so no nan leaks into the gradient
    x = Tensor(np.array([[np.nan, np.nan], [1.0, np.nan]]), requires_grad=True)
    out = x.nanmean(1)
    np.testing.assert_array_equal(out.detach().numpy(), [np.nan, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0], [1.0, 0.0]])


@pytest.mark.parametrize("op", ["std", "var"])
def test_var_over_an_empty_dim_tuple_is_over_every_dim_with_its_true_gradient(op):
    # a documented difference: torch's var(dim=()) reduces every element but its backward divides by
    # n = 1 (torch's own gradcheck fails); chainrule's gradient is the one of dim=None, as in torch
    x = rn(3, 2)
    ours = Tensor(x, requires_grad=True)
    getattr(ours, op)(dim=(), correction=0).backward()
    t = torch.tensor(x, requires_grad=True)
    getattr(t, op)(correction=0).backward()
    np.testing.assert_allclose(ours.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert gradcheck(lambda a: getattr(a, op)(dim=(), correction=0), [Tensor(x, requires_grad=True)])
    tt = torch.tensor(x, requires_grad=True)
    assert not torch.autograd.gradcheck(lambda a: getattr(a, op)(dim=(), correction=0), (tt,),
                                        raise_exception=False)


def test_prod_gradient_with_zeros_is_exact():
    # the product of the others, with no division: one zero gets it, two zeros give all zeros
    x = Tensor(np.array([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0]]), requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])


# -- dtypes --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.int64, np.uint8, np.float32])
@pytest.mark.parametrize("op", ["sum", "prod", "nansum"])
def test_sum_and_prod_dtypes_as_torch(op, dtype):
    a = np.array([[1, 0, 1], [1, 1, 1]]).astype(dtype)
    ours, theirs = getattr(Tensor(a), op)(), getattr(torch.tensor(a), op)()
    assert ours.dtype == theirs.numpy().dtype
    assert ours.item() == theirs.item()


def test_any_all_count_nonzero_dtypes():
    x = Tensor(np.array([[0.0, 1.0], [0.0, 0.0]]))
    assert x.any().dtype == np.bool_ and x.all(1).dtype == np.bool_ and x.count_nonzero().dtype == np.int64


# -- size 0 and 0-d ------------------------------------------------------------------------------------------
EMPTY_OPS = {
    "sum": lambda x: x.sum(), "sum-dim1": lambda x: x.sum(1), "prod": lambda x: x.prod(),
    "prod-dim1": lambda x: x.prod(1), "mean": lambda x: x.mean(), "mean-dim0": lambda x: x.mean(0),
    "nansum": lambda x: x.nansum(), "nanmean": lambda x: x.nanmean(1), "logsumexp": lambda x: x.logsumexp(1),
    "any": lambda x: x.any(1), "all": lambda x: x.all(), "count_nonzero": lambda x: x.count_nonzero(0),
    "norm": lambda x: x.norm(), "norm-dim": lambda x: x.norm(dim=1), "median": lambda x: x.median(),
    "amax-other-dim": lambda x: x.amax(0), "max-other-dim": lambda x: x.max(0),
    "median-other-dim": lambda x: x.median(0), "mode-other-dim": lambda x: x.mode(0),
    "kthvalue-other-dim": lambda x: x.kthvalue(1, 0), "argmax-other-dim": lambda x: x.argmax(0),
    "max": lambda x: x.max(), "amax": lambda x: x.amax(), "amax-dim1": lambda x: x.amax(1),
    "max-dim1": lambda x: x.max(1), "median-dim1": lambda x: x.median(1), "mode-dim1": lambda x: x.mode(1),
    "argmax": lambda x: x.argmax(), "argmax-dim1": lambda x: x.argmax(1), "aminmax": lambda x: x.aminmax(),
    "quantile": lambda x: x.quantile(0.5), "norm-inf-dim1": lambda x: x.norm(math.inf, dim=1),
}


def _outcome(fn, x):
    """The result as NumPy arrays, or the exception type (IndexError and RuntimeError, as torch)."""
    try:
        out = fn(x)
    except (IndexError, RuntimeError) as e:
        return type(e)
    out = out if isinstance(out, tuple) else (out,)
    return [o.detach().numpy() if hasattr(o, "detach") else o for o in out]


@pytest.mark.parametrize("name", list(EMPTY_OPS))
def test_empty_inputs_as_torch(name):
    a = np.zeros((2, 0))
    ours, theirs = _outcome(EMPTY_OPS[name], Tensor(a)), _outcome(EMPTY_OPS[name], torch.tensor(a))
    if isinstance(theirs, type):
        assert ours is theirs, f"raised {ours}, torch raises {theirs}"
        return
    assert not isinstance(ours, type), f"raised {ours}, torch gives {theirs}"
    for o, t in zip(ours, theirs):
        assert o.shape == t.shape and o.dtype == t.dtype
        np.testing.assert_array_equal(o, t)


# -- errors --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, pattern", [
    (lambda x: x.max(dim=(0, 1)), TypeError, r"max\(\): dim must be an int, got \(0, 1\)"),
    (lambda x: x.prod(dim=(0, 1)), TypeError, r"prod\(\): dim must be an int"),
    (lambda x: x.max(5), IndexError, r"Dimension out of range"),
    (lambda x: x.median(-3), IndexError, r"Dimension out of range"),
    (lambda x: x.kthvalue(5, 1), RuntimeError, r"k=5 out of range for dimension 1 of size 4"),
    (lambda x: x.kthvalue(0), RuntimeError, r"k=0 out of range"),
    (lambda x: x.quantile(1.5), RuntimeError, r"q values must be in the range \[0, 1\]"),
    (lambda x: x.quantile(np.ones((2, 2)) / 2), RuntimeError, r"q must be a scalar or 1D tensor"),
    (lambda x: x.quantile(0.5, interpolation="cubic"), RuntimeError, r"interpolation must be one of"),
    (lambda x: x.long().quantile(0.5), RuntimeError, r"must be either float or double"),
    (lambda x: x.norm(p="nuc"), ValueError, r"nuclear norms are not supported"),
    (lambda x: x.sum(dim=1, axis=1), TypeError, r"both dim= and its alias axis="),
    (lambda x: autograd.max([1.0, 2.0]), TypeError, r"argument 'input' must be a Tensor"),
    (lambda x: x.long().nanmean(), TypeError, r"floating point"),
    (lambda x: x.long().std(1), RuntimeError, r"std and var only support floating point dtypes, got int64"),
    (lambda x: x.var(1, True, correction=0), TypeError, r"var\(\): pass correction=0 or unbiased=True, not"),
    (lambda x: x.std(True, unbiased=False), TypeError, r"std\(\): got unbiased twice"),
])
def test_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call(Tensor(rn(3, 4)))


# -- Hypothesis: random shapes with 0-d and size-0 dims ------------------------------------------------------
def shapes(min_side=0):
    return hnp.array_shapes(min_dims=0, max_dims=3, min_side=min_side, max_side=4)


ANY = st.floats(-3, 3, width=64)


def arrays(shape, elements=ANY, unique=False):
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique)


WITH_ZEROS = st.one_of(st.just(0.0), st.floats(-2, 2, width=64))

RANDOM = {  # name -> (fn(x, dim, keepdim), needs a non-empty dim, unique elements, elements)
    "sum": (lambda x, d, k: x.sum(d, k), False, False, None),
    "mean": (lambda x, d, k: x.mean(d, k), False, False, None),
    "prod": (lambda x, d, k: x.prod(d, k), False, False, WITH_ZEROS),
    "nansum": (lambda x, d, k: x.nansum(d, k), False, False, None),
    "norm": (lambda x, d, k: x.norm(3, d, k), False, False, st.floats(0.2, 3, width=64)),
    "std": (lambda x, d, k: x.std(d, keepdim=k), False, False, WITH_ZEROS),
    "var": (lambda x, d, k: x.var(d, keepdim=k, correction=0), False, False, WITH_ZEROS),
    "max": (lambda x, d, k: x.max(d, k), True, False, None),
    "min": (lambda x, d, k: x.min(d, k), True, False, None),
    "median": (lambda x, d, k: x.median(d, k), True, True, None),
    "kthvalue": (lambda x, d, k: x.kthvalue(1, d, k), True, True, None),
    "quantile": (lambda x, d, k: x.quantile(0.35, d, k), True, True, None),
}


@pytest.mark.parametrize("name", list(RANDOM))
@SETTINGS
@given(data=st.data())
def test_random_shapes_match_torch(name, data):
    fn, nonempty, unique, elements = RANDOM[name]
    shape = data.draw(shapes(min_side=1 if nonempty else 0))
    x = data.draw(arrays(shape, st.floats(-3, 3, width=64) if elements is None else elements, unique=unique))
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    keepdim = data.draw(st.booleans())
    assert_grads_match_torch(lambda t: fn(t, dim, keepdim), x, second_order=True)


@SETTINGS
@given(data=st.data())
def test_inputs_unchanged_and_grads_fresh(data):
    x0 = data.draw(arrays(data.draw(shapes(min_side=1)), WITH_ZEROS))
    x = Tensor(x0, requires_grad=True)
    outs = [x.prod(0), x.max(0).values, x.median(0).values, x.quantile(0.5), x.sort(0).values,
            x.cumprod(0), x.nansum(), x.norm()]
    for out in outs:
        out.backward(gradient=np.ones(out.shape))
    np.testing.assert_array_equal(x.detach().numpy(), x0)
    assert not np.shares_memory(x.grad.numpy(), x0) and x.grad.numpy().flags.writeable
