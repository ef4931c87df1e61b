"""Linear algebra against PyTorch float64: einsum in every form (ellipses, repeated indices, implicit
output, several operands), the matrix products, tensordot, kron, cross, addmm and friends, and
``autograd.linalg`` (norms, det, inv, solve, slogdet): values, gradients, second order, gradcheck;
torch's errors; Hypothesis over random shapes with size-0 dims (inputs not mutated, grads not aliased)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
import nn.functional as _F
from autograd.testing import assert_grads_match_torch, module_of
from test_ops_shape import SETTINGS, Case, check_error, check_fresh_grads, run_case

torch = pytest.importorskip("torch")

R = np.random.default_rng(20261203)


def rn(*shape):
    return R.standard_normal(shape)


def well_conditioned(*shape):
    """Random square matrices kept away from singular (``n * I`` added)."""
    n = shape[-1]
    return rn(*shape) + n * np.eye(n)


def M(x):
    return module_of(x)


def is_torch(x):
    return isinstance(x, torch.Tensor)


def L(x):
    return M(x).linalg


EINSUM = {
    "ij,jk->ik": [(2, 3), (3, 4)],
    "ij,jk": [(2, 3), (3, 4)],
    "ii->i": [(3, 3)],
    "ii": [(3, 3)],
    "iij->j": [(2, 2, 3)],
    "i...i->...": [(3, 2, 3)],
    "ij->": [(2, 3)],
    "ij->ji": [(2, 3)],
    "ba": [(2, 3)],
    "ij->i": [(2, 3)],
    "i,i": [(4,), (4,)],
    "i,j->ij": [(2,), (3,)],
    "...ij,...jk": [(2, 1, 2, 3), (4, 3, 2)],
    "...ij,...jk->...ik": [(3, 2, 3), (3, 2)],
    "i...,j->...j": [(3,), (2,)],
    "...,...->...": [(2, 1), (1, 3)],
    "bij,bjk,bkl->bil": [(2, 2, 3), (2, 3, 4), (2, 4, 2)],
    "ijk,jil->kl": [(2, 3, 4), (3, 2, 5)],
    "i,i,i->": [(3,), (3,), (3,)],
    "": [()],
    ",->": [(), ()],
    "i,i->": [(0,), (0,)],
    "ij,jk->ik ": [(2, 0), (0, 3)],
    "a b, b c -> a c": [(2, 2), (2, 2)],
}
CASES = [Case(f"einsum[{eq}]", lambda *xs, eq=eq: M(xs[0]).einsum(eq, *xs), *[rn(*s) for s in shapes])
         for eq, shapes in EINSUM.items()]
CASES += [
    Case("einsum-list", lambda a, b: M(a).einsum("ij,j->i", [a, b]), rn(2, 3), rn(3)),
    Case("dot", lambda a, b: a.dot(b), rn(4), rn(4)),
    Case("vdot", lambda a, b: M(a).vdot(a, b), rn(4), rn(4)),
    Case("mv", lambda a, b: a.mv(b), rn(2, 4), rn(4)),
    Case("mm", lambda a, b: M(a).mm(a, b), rn(2, 4), rn(4, 3)),
    Case("mm-empty", lambda a, b: a.mm(b), rn(2, 0), rn(0, 3)),
    Case("bmm", lambda a, b: a.bmm(b), rn(2, 2, 4), rn(2, 4, 3)),
    # a batch of rows times one matrix (computed as one 2-D product), size-0 dims included
    Case("matmul-rows", lambda a, b: a @ b, rn(2, 3, 4), rn(4, 5)),
    Case("matmul-rows-4d", lambda a, b: M(a).matmul(a, b), rn(2, 1, 3, 4), rn(4, 2)),
    Case("matmul-rows-k0", lambda a, b: a @ b, rn(2, 3, 0), rn(0, 4)),
    Case("matmul-rows-n0", lambda a, b: a @ b, rn(2, 3, 4), rn(4, 0)),
    Case("matmul-rows-empty-batch", lambda a, b: a @ b, rn(0, 3, 4), rn(4, 2)),
    Case("linear-rows", lambda x, w, b: M(x).nn.functional.linear(x, w, b) if is_torch(x)
         else _F.linear(x, w, b), rn(2, 3, 4), rn(5, 4), rn(5)),
    Case("linear-rows-k0", lambda x, w: M(x).nn.functional.linear(x, w) if is_torch(x) else _F.linear(x, w),
         rn(2, 3, 0), rn(5, 0)),
    Case("outer", lambda a, b: M(a).outer(a, b), rn(3), rn(2)),
    Case("inner", lambda a, b: a.inner(b), rn(2, 3), rn(4, 3)),
    Case("inner-0d", lambda a, b: M(a).inner(a, b), rn(), rn(2)),
    Case("kron", lambda a, b: a.kron(b), rn(2, 3), rn(3, 2)),
    Case("kron-ranks", lambda a, b: M(a).kron(a, b), rn(2), rn(2, 3)),
    Case("tensordot-int", lambda a, b: M(a).tensordot(a, b, dims=2), rn(2, 3, 4), rn(3, 4, 2)),
    Case("tensordot-0", lambda a, b: M(a).tensordot(a, b, 0), rn(2), rn(3)),
    Case("tensordot-pairs", lambda a, b: M(a).tensordot(a, b, dims=([0, 2], [1, 0])), rn(2, 3, 4),
         rn(4, 2, 5)),
    Case("cross", lambda a, b: a.cross(b, dim=1), rn(2, 3), rn(2, 3)),
    Case("cross-broadcast", lambda a, b: M(a).cross(a, b, dim=-1), rn(2, 1, 3), rn(1, 4, 3)),
    Case("addmm", lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0), rn(2, 3), rn(2, 4), rn(4, 3)),
    Case("addmm-broadcast", lambda c, a, b: M(a).addmm(c, a, b), rn(3), rn(2, 4), rn(4, 3)),
    Case("addmm-beta-0", lambda c, a, b: c.addmm(a, b, beta=0), np.full((2, 3), np.nan), rn(2, 4), rn(4, 3)),
    Case("addmv", lambda c, a, b: c.addmv(a, b, alpha=-1), rn(2), rn(2, 4), rn(4)),
    Case("baddbmm", lambda c, a, b: M(a).baddbmm(c, a, b, beta=2), rn(2, 2, 3), rn(2, 2, 4), rn(2, 4, 3)),
    Case("det", lambda a: L(a).det(a), well_conditioned(3, 3)),
    Case("det-batched", lambda a: a.det(), well_conditioned(2, 3, 3)),
    Case("det-1x1", lambda a: M(a).det(a), rn(1, 1)),
    Case("inv", lambda a: L(a).inv(a), well_conditioned(3, 3)),
    Case("inverse-batched", lambda a: a.inverse(), well_conditioned(2, 3, 3)),
    Case("slogdet", lambda a: tuple(L(a).slogdet(a)), well_conditioned(3, 3) * [[-1], [1], [1]]),
    Case("slogdet-batched", lambda a: L(a).slogdet(a).logabsdet, well_conditioned(2, 3, 3)),
    Case("logdet", lambda a: a.logdet(), well_conditioned(2, 3, 3)),
    Case("logdet-negative-is-nan", lambda a: M(a).logdet(a),
         well_conditioned(2, 3, 3) * [[[-1], [1], [1]], [[1], [1], [1]]],
         check_fd=False),
    Case("solve", lambda a, b: L(a).solve(a, b), well_conditioned(3, 3), rn(3, 2)),
    Case("solve-vector", lambda a, b: L(a).solve(a, b), well_conditioned(3, 3), rn(3)),
    Case("solve-batched-vector", lambda a, b: L(a).solve(a, b), well_conditioned(2, 3, 3), rn(2, 3)),
    Case("solve-broadcast", lambda a, b: L(a).solve(a, b), well_conditioned(3, 3), rn(2, 3, 2)),
    Case("solve-right", lambda a, b: L(a).solve(a, b, left=False), well_conditioned(3, 3), rn(2, 3)),
]
ORDS = [2, 1, 3, 0.5, float("inf"), float("-inf")]
CASES += [Case(f"vector-norm-{p}", lambda a, p=p: L(a).vector_norm(a, ord=p), rn(3, 4)) for p in ORDS]
CASES += [
    Case("vector-norm-0", lambda a: L(a).vector_norm(a, 0, dim=1), rn(3, 4), check_fd=False),
    Case("vector-norm-dim-keepdim", lambda a: L(a).vector_norm(a, 2, dim=(0, 2), keepdim=True), rn(2, 3, 4)),
    Case("vector-norm-at-zero", lambda a: L(a).vector_norm(a, dim=1), np.vstack([np.zeros(4), rn(4)]),
         second=False, check_fd=False),
    Case("vector-norm-ties", lambda a: L(a).vector_norm(a, float("inf")), np.array([1.0, -2.0, 2.0, 0.5])),
]
MATRIX_ORDS = ["fro", 1, -1, float("inf"), float("-inf")]
CASES += [Case(f"matrix-norm-{p}", lambda a, p=p: L(a).matrix_norm(a, ord=p),
               rn(2, 3, 4)) for p in MATRIX_ORDS]
CASES += [
    Case("matrix-norm-dims-keepdim", lambda a: L(a).matrix_norm(a, 1, dim=(2, 0), keepdim=True), rn(2, 3, 4)),
    Case("norm-flat", lambda a: L(a).norm(a), rn(2, 3, 4)),
    Case("norm-vector-dim", lambda a: L(a).norm(a, 3, dim=1), rn(2, 3)),
    Case("norm-matrix-dims", lambda a: L(a).norm(a, dim=(0, 1), keepdim=True), rn(2, 3, 4)),
    Case("norm-1d-ord", lambda a: L(a).norm(a, 1), rn(5)),
    Case("norm-2d-ord", lambda a: L(a).norm(a, float("inf")), rn(3, 4)),
]


@pytest.mark.parametrize("c", CASES, ids=repr)
def test_matches_torch(c):
    run_case(c)


def test_slogdet_is_a_named_tuple():
    a = autograd.tensor(well_conditioned(3, 3) * [[-1], [1], [1]])
    sign, logabsdet = autograd.linalg.slogdet(a)
    theirs = torch.linalg.slogdet(torch.tensor(a.numpy()))
    assert autograd.linalg.slogdet(a).sign is not None and sign.item() == theirs.sign.item()
    assert np.isclose(logabsdet.item(), theirs.logabsdet.item())


def test_third_order_einsum():
    x = autograd.tensor(rn(3, 3), requires_grad=True)
    y = autograd.einsum("ij,jk,ki->", x, x, x)  # trace(x^3): third derivative is a constant
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    ty = torch.einsum("ij,jk,ki->", tx, tx, tx)
    ours, theirs = y, ty
    for _ in range(3):
        ours = autograd.grad(ours, x, create_graph=True)[0].sum()
        theirs = torch.autograd.grad(theirs, tx, create_graph=True)[0].sum()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


ERRORS = {
    "einsum-bad-size": (lambda a, b: M(a).einsum("ij,jk", a, b), rn(2, 3), rn(4, 2)),
    "einsum-operand-count": (lambda a: M(a).einsum("ij,jk", a), rn(2, 3)),
    "einsum-subscripts-rank": (lambda a: M(a).einsum("ijk", a), rn(2, 3)),
    "dot-2d": (lambda a, b: a.dot(b), rn(2, 2), rn(2)),
    "dot-sizes": (lambda a, b: a.dot(b), rn(3), rn(2)),
    "mv-sizes": (lambda a, b: a.mv(b), rn(2, 3), rn(2)),
    "mm-sizes": (lambda a, b: a.mm(b), rn(2, 3), rn(2, 3)),
    "mm-1d": (lambda a, b: a.mm(b), rn(3), rn(3, 2)),
    "bmm-batch": (lambda a, b: a.bmm(b), rn(2, 2, 3), rn(3, 3, 2)),
    "outer-2d": (lambda a, b: a.outer(b), rn(2, 2), rn(2)),
    "inner-sizes": (lambda a, b: a.inner(b), rn(2, 3), rn(2)),
    "tensordot-sizes": (lambda a, b: M(a).tensordot(a, b, dims=1), rn(2, 3), rn(2, 3)),
    "cross-size": (lambda a, b: a.cross(b, dim=1), rn(2, 4), rn(2, 4)),
    "addmm-input-shape": (lambda c, a, b: c.addmm(a, b), rn(3, 3), rn(2, 4), rn(4, 3)),
    "det-not-square": (lambda a: L(a).det(a), rn(2, 3)),
    "inv-singular": (lambda a: L(a).inv(a), np.ones((2, 2))),
    "solve-shapes": (lambda a, b: L(a).solve(a, b), well_conditioned(3, 3), rn(2, 2)),
    "matrix-norm-1d": (lambda a: L(a).matrix_norm(a), rn(3)),
    "norm-3d-ord": (lambda a: L(a).norm(a, 2), rn(2, 2, 2)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_are_torchs(name):
    fn, *arrays = ERRORS[name]
    check_error(fn, *arrays)


# -- Hypothesis ----------------------------------------------------------------------------------------
SIDE = st.integers(0, 3)


@SETTINGS
@given(data=st.data())
def test_random_einsum_products_match_torch(data):
    """A random batched product ``b?ij,b?jk->b?ik`` (or its transpose) with sizes from 0."""
    b, i, j, k = (data.draw(SIDE) for _ in range(4))
    batch = data.draw(st.booleans())
    sa, sb = ((b, i, j), (b, j, k)) if batch else ((i, j), (j, k))
    a = data.draw(hnp.arrays(np.float64, sa, elements=st.floats(-3, 3, width=64)))
    c = data.draw(hnp.arrays(np.float64, sb, elements=st.floats(-3, 3, width=64)))
    eq = data.draw(st.sampled_from(["...ij,...jk->...ik", "...ij,...jk->...ki", "...ij,...jk->...",
                                    "...ij,...jk"]))

    def fn(x, y):
        return module_of(x).einsum(eq, x, y)
    assert_grads_match_torch(fn, a, c, second_order=True)
    check_fresh_grads(fn, a, c)


@SETTINGS
@given(data=st.data())
def test_random_kron_and_norms_match_torch(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0.25, 3, width=64)))
    y = data.draw(hnp.arrays(np.float64, shape[::-1], elements=st.floats(-3, 3, width=64)))
    p = data.draw(st.sampled_from([1, 2, 3]))

    def fn(a, b):
        return a.kron(b), module_of(a).linalg.vector_norm(a, p)
    assert_grads_match_torch(fn, x, y, second_order=True)
    check_fresh_grads(fn, x, y)


@SETTINGS
@given(data=st.data())
def test_random_det_inv_solve_match_torch(data):
    """Batches (possibly empty) of well-conditioned ``n x n`` matrices, ``n`` from 0."""
    n = data.draw(st.integers(0, 3))
    batch = data.draw(st.sampled_from([(), (0,), (2,), (2, 1)]))
    noise = data.draw(hnp.arrays(np.float64, batch + (n, n), elements=st.floats(-1, 1, width=64)))
    a = noise + 3.0 * np.eye(n)
    b = data.draw(hnp.arrays(np.float64, batch + (n, 2), elements=st.floats(-3, 3, width=64)))

    def fn(x, y):
        la = module_of(x).linalg
        return la.det(x), la.inv(x), la.solve(x, y), la.slogdet(x).logabsdet
    assert_grads_match_torch(fn, a, b, second_order=True)
    check_fresh_grads(fn, a, b)
