"""Scans along one dimension: cumsum, cumprod, cummax, cummin, logcumsumexp (``dim`` required, as torch).

Every rule is built from primitives whose own rules exist, so second order comes for free: the gradient
of a cumsum is a reversed cumsum, of a cumprod a reversed cumsum divided by the input (or, where the
input holds zeros, the products before each element times a reversed linear recurrence, torch's exact
formula in O(n)), of logcumsumexp a reversed logcumsumexp of
the gradient's positive and negative parts (torch's stable formula), and cummax/cummin pick their values
with ``TakeAlong``, so the gradient goes to the element each running extreme came from.
"""
import numpy as np

from ..dtypes import as_dtype
from ..primitive import Primitive, array, call
from ._util import keepdim_shape, one_dim, quiet
from .elementwise import Abs, Exp, Log, Where
from .shape import Cat, Index
from .sort import mirror, numpy_names, return_type, select_along
from ._formulas import along

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]

CUMMAX = return_type("cummax")
CUMMIN = return_type("cummin")


def _flip(a, dim, reverse):
    return np.flip(a, dim) if reverse else a


class Cumsum(Primitive):
    """Running sum along ``dim`` (``reverse=True``: from the end)."""

    name = "cumsum"
    reverse = False

    def forward(self, a):
        d, r = self.dim, self.reverse
        return np.ascontiguousarray(_flip(np.cumsum(_flip(a, d, r), axis=d), d, r))

    formulas = (("Σ_{{j ≥ i}} g_j  (a reversed cumsum)",
                 lambda s: _reverse_cumsum(s.g, s.fn.dim, s.fn.reverse)),)

    def backward(self, g, out, a):
        return (call(Cumsum, g, dim=self.dim, reverse=not self.reverse),)


class Cumprod(Primitive):
    """Running product along ``dim``; the gradient is exact where the input holds zeros."""

    name = "cumprod"

    def forward(self, a):
        return np.cumprod(a, axis=self.dim)

    formulas = (("Σ_{{j ≥ i}} g_j · Π_{{l ≤ j, l ≠ i}} {0}_l  (o / {0}, exact at zeros)",
                 lambda s: _cumprod_back(s)),)

    def backward(self, g, out, a):
        if (array(a) != 0).all():
            with quiet():
                return (call(Cumsum, g * out, dim=self.dim, reverse=True) / a,)
        return (_cumprod_grad_with_zeros(g, a, self.dim),)


def _cumprod_grad_with_zeros(g, a, dim):
    """``grad_i = sum_{j >= i} g_j * prod_{l <= j, l != i} a_l`` with no division, in O(n):
    ``(prod_{l < i} a_l) * s_i`` where ``s_i = g_i + a_{i+1} * s_{i+1}``. An identity of polynomials,
    so its own gradient is exact at the zeros too (second order)."""
    before = call(Cumprod, _shift(a, dim, forward=True, fill=1.0), dim=dim)
    return before * call(Recurrence, g, _shift(a, dim, forward=False), dim=dim, reverse=True)


def _shift(x, dim, forward, fill=0.0):
    """``x`` moved one place along ``dim`` (``forward``: ``x_{i-1}`` at ``i``), ``fill`` in the gap."""
    n = x.shape[dim]
    lead = (slice(None),) * dim
    gap = np.full(keepdim_shape(x.shape, (dim,)), fill, dtype=x.dtype)
    if forward:
        return call(Cat, gap, call(Index, x, index=lead + (slice(0, n - 1),)), dim=dim)
    return call(Cat, call(Index, x, index=lead + (slice(1, n),)), gap, dim=dim)


class Recurrence(Primitive):
    """The linear recurrence ``s_i = g_i + c_i * s_{i-1}`` along ``dim`` (``reverse``:
    ``s_i = g_i + c_i * s_{i+1}``); its adjoint is the same recurrence run the other way."""

    name = "recurrence"
    reverse = False

    def forward(self, g, c):
        d, r = self.dim, self.reverse
        s = np.array(_flip(g, d, r), dtype=np.result_type(g, c))
        sv, cv = np.moveaxis(s, d, 0), np.moveaxis(_flip(c, d, r), d, 0)
        for i in range(1, sv.shape[0]):
            sv[i] += cv[i] * sv[i - 1]
        return np.ascontiguousarray(_flip(s, d, r))

    formulas = (("u: u_i = g_i + {1}_(i+1)·u_(i+1)", lambda s: _recurrence_back(s, 0)),
                ("u ⊙ o shifted by one", lambda s: _recurrence_back(s, 1)))

    def backward(self, h, s, g, c):
        d, r = self.dim, self.reverse
        u = call(Recurrence, h, _shift(c, d, forward=r), dim=d, reverse=not r)
        return u, (u * _shift(s, d, forward=not r) if self.needs[1] else None)


class LogCumSumExp(Primitive):
    """``log(cumsum(exp(x)))`` along ``dim``, stable (``np.logaddexp.accumulate``)."""

    name = "logcumsumexp"
    reverse = False

    def forward(self, a):
        d, r = self.dim, self.reverse
        with quiet():
            return np.ascontiguousarray(_flip(np.logaddexp.accumulate(_flip(a, d, r), axis=d), d, r))

    formulas = (("Σ_{{j ≥ i}} g_j · exp({0}_i − o_j)", lambda s: _logcumsumexp_back(s)),)

    def backward(self, g, out, a):
        # torch's (TensorFlow's) formula: split g by sign so every log is of a positive number
        gd = array(g)
        lowest = np.finfo(gd.dtype).min
        with quiet():
            log_abs = call(Log, call(Abs, g))
            parts = []
            for sign in (gd > 0, gd < 0):
                lg = call(Where, sign, log_abs, lowest)
                back = call(LogCumSumExp, lg - out, dim=self.dim, reverse=not self.reverse)
                parts.append(call(Exp, back + a))
            return (parts[0] - parts[1],)


def _running_index(x, axis, extreme):
    """Where each running max (``extreme=np.maximum``) or min came from: the latest index whose
    element equals the running value (a nan, once met, stays: its latest index), as torch."""
    run = extreme.accumulate(x, axis=axis)
    hit = x == run
    if x.dtype.kind == "f":
        hit |= np.isnan(x) & np.isnan(run)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    pos = np.arange(x.shape[axis]).reshape(shape)
    return np.maximum.accumulate(np.where(hit, pos, -1), axis=axis)


def _scan(t, prim, dim, **attrs):
    """Apply scan primitive ``prim`` along ``dim`` (a 0-d tensor scans as one element)."""
    if t.ndim == 0:
        return prim.apply(t.reshape(1), dim=0, **attrs).reshape(())
    return prim.apply(t, dim=one_dim(dim, t.ndim), **attrs)


def with_dtype(t, dtype):
    """``t`` cast to ``dtype`` first (torch's ``dtype=`` argument of sums, products and scans)."""
    return t if dtype is None else t.to(as_dtype(dtype))


def _running(t, dim, extreme, result):
    d = one_dim(dim, t.ndim) if t.ndim else 0
    x = t._data.reshape(1) if t.ndim == 0 else t._data
    index = _running_index(x, d, extreme).reshape(t.shape)
    return result(select_along(t, index, d, unique=False), t._wrap(index.astype(np.int64)))


class ScanMethods:
    """``Tensor``'s scans along one dimension ``dim`` (required, as torch); same shape as the input."""

    __slots__ = ()

    @numpy_names
    def cumsum(self, dim, *, dtype=None):
        """Running sum along ``dim`` (integers and bools give int64, as torch; ``dtype`` casts first)."""
        return _scan(with_dtype(self, dtype), Cumsum, dim)

    @numpy_names
    def cumprod(self, dim, *, dtype=None):
        """Running product along ``dim``; the gradient is exact with zeros in the input."""
        return _scan(with_dtype(self, dtype), Cumprod, dim)

    @numpy_names
    def logcumsumexp(self, dim):
        """``log(cumsum(exp(x)))`` along ``dim``, stable for huge and tiny inputs."""
        return _scan(self, LogCumSumExp, dim)

    @numpy_names
    def cummax(self, dim):
        """``return_types.cummax(values, indices)``: the running maximum along ``dim`` and where it came
        from (the latest index on ties, as torch); gradient through ``values``."""
        return _running(self, dim, np.maximum, CUMMAX)

    @numpy_names
    def cummin(self, dim):
        """``return_types.cummin(values, indices)``: the running minimum, as ``cummax``."""
        return _running(self, dim, np.minimum, CUMMIN)


cumsum = mirror("cumsum")
cumprod = mirror("cumprod")
cummax = mirror("cummax")
cummin = mirror("cummin")
logcumsumexp = mirror("logcumsumexp")


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _reverse_cumsum(g, d, reverse=False):
    """``Σ_{j ≥ i} g_j`` along ``d`` (``reverse``: ``Σ_{j ≤ i}``, a plain cumsum)."""
    return np.cumsum(g, d) if reverse else np.flip(np.cumsum(np.flip(g, d), d), d)


def _cumprod_back(s):
    """``Σ_{j ≥ i} g_j · Π_{l ≤ j, l ≠ i} a_l`` (no division: exact where ``a`` holds zeros)."""
    def rule(g, a):
        out = np.empty_like(a)
        for i in range(a.shape[-1]):
            others = a.copy()
            others[..., i] = 1
            out[..., i] = (g * np.cumprod(others, -1))[..., i:].sum(-1)
        return out
    return along(s, rule)(s.g, s.a)


def _logcumsumexp_back(s):
    """``Σ_{j ≥ i} g_j · exp(a_i − o_j)`` (``reverse``: ``j ≤ i``)."""
    def rule(g, a, o):
        n = a.shape[-1]
        later = np.triu(np.ones((n, n), dtype=bool))  # [i, j]: j ≥ i
        later = later.T if s.fn.reverse else later
        terms = np.where(later, g[..., None, :] * np.exp(a[..., :, None] - o[..., None, :]), 0.0)
        return terms.sum(-1)
    return along(s, rule)(s.g, s.a, s.o)


def _run(g, c):
    """The recurrence ``s_i = g_i + c_i · s_{i−1}`` along the last axis."""
    s = np.array(g, dtype=np.result_type(g, c))
    for i in range(1, s.shape[-1]):
        s[..., i] += c[..., i] * s[..., i - 1]
    return s


def _recurrence_back(s, which):
    """``s_i = x_i + c_i s_{i−1}``: ``∂x = u`` with ``u_i = g_i + c_{i+1} u_{i+1}``, ``∂c_i = u_i s_{i−1}``
    (``reverse``: the same with the axis flipped)."""
    def rule(g, c, o):
        if s.fn.reverse:
            g, c, o = (np.flip(x, -1) for x in (g, c, o))
        next_c = np.concatenate([c[..., 1:], np.zeros_like(c[..., :1])], -1)
        u = np.flip(_run(np.flip(g, -1), np.flip(next_c, -1)), -1)
        r = u if which == 0 else u * np.concatenate([np.zeros_like(o[..., :1]), o[..., :-1]], -1)
        return np.flip(r, -1) if s.fn.reverse else r
    return along(s, rule)(s.g, s.b, s.o)
