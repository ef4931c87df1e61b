"""Linear algebra: the matrix product in every form torch allows (1-D, 2-D, batched), ``linear``,
``einsum`` (the primitive most products here are built from), and ``linalg``'s norms, ``det``, ``inv``,
``solve`` and ``slogdet`` for real float matrices.

``einsum``'s gradient for an operand is another ``einsum``: of the upstream gradient with the other
operands, with an identity matrix for each repeated index and a ones vector for each index only that
operand has; so every order of derivative is an ``einsum`` too.
"""
import collections
import math
import numbers
import string

import numpy as np

from ..primitive import Primitive, TensorBase, call
from ._util import ShapeError, one_dim, operand, reduce_dims
from .elementwise import Where
from .reduce import SumRows
from .shape import Permute, Reshape, function_of, _many

__all__ = ["einsum", "tensordot", "dot", "vdot", "mv", "mm", "bmm", "outer", "inner", "kron", "cross",
           "addmm",
           "addmv", "baddbmm", "matmul", "det", "inverse", "slogdet", "logdet"]


def _rows_times(x, m):
    """``x`` ``(..., k)`` times ``m`` ``(k, n)`` as one 2-D product of all the rows, ``(..., n)``. NumPy's
    ``matmul`` makes a stack of products of it: 25% slower at (20, 32, 16) @ (16, 128), 4.7x slower at
    (64, 8, 512) @ (512, 512)."""
    return np.matmul(x.reshape(_rows(x), x.shape[-1]), m).reshape(x.shape[:-1] + m.shape[1:])


def _rows(x):
    """How many rows ``x`` ``(..., k)`` has: the product of its leading dims (``-1`` is ambiguous when
    ``k`` is 0)."""
    return math.prod(x.shape[:-1])


def _swap_last(x):
    """Matrix transpose of the last two dimensions (batched), of an array or a Tensor."""
    dims = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return call(Permute, x, dims=dims)


class MatMul(Primitive):
    name = "matmul"
    fresh_grads = True

    def forward(self, a, b):
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]:
            return np.matmul(a, b)
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and "
                               f"{b.shape}")
        ka = a.shape[-1]
        kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if ka != kb:
            raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({ka} != {kb})")
        if a.ndim > 2 and b.ndim == 2:  # a batch of rows times one matrix: one 2-D product (as torch)
            return _rows_times(a, b)
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ShapeError(f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot be "
                             "broadcast together") from None

    formulas = (("g·{1}ᵀ  ({sg} · {t1})", lambda s: _mm(s, 0)),
                ("{0}ᵀ·g  ({t0} · {sg})", lambda s: _mm(s, 1)))

    def backward(self, g, out, a, b):
        needs = self.needs
        if a.ndim == 2 and b.ndim == 2:  # the common case: dA = g Bᵀ, dB = Aᵀ g
            ga = g @ b.T if needs[0] else None
            if not needs[1]:
                return ga, None
            if isinstance(b, np.ndarray) and b.flags.f_contiguous and not b.flags.c_contiguous:
                # b is a transposed view (x @ W.T): make gb one too, so that W's gradient is contiguous
                return ga, (g.T @ a).T
            return ga, a.T @ g
        if a.ndim > 2 and b.ndim == 2:  # rows (..., k) times (k, n): 2-D products over all the rows
            rows, (k, n) = _rows(a), b.shape
            g2 = call(Reshape, g, shape=(rows, n))
            ga = call(Reshape, g2 @ b.T, shape=a.shape) if needs[0] else None
            return ga, (call(Reshape, a, shape=(rows, k)).T @ g2 if needs[1] else None)
        # Treat 1-D operands as a row (a) or a column (b) matrix, then undo that.
        a1, b1 = a.ndim == 1, b.ndim == 1
        A = call(Reshape, a, shape=(1,) + a.shape) if a1 else a
        B = call(Reshape, b, shape=b.shape + (1,)) if b1 else b
        if a1 and b1:
            G = call(Reshape, g, shape=(1, 1))
        elif a1:
            G = call(Reshape, g, shape=g.shape[:-1] + (1, g.shape[-1]))
        elif b1:
            G = call(Reshape, g, shape=g.shape + (1,))
        else:
            G = g
        ga = gb = None
        if needs[0]:
            ga = G @ _swap_last(B)
            if a1:
                ga = call(Reshape, ga, shape=ga.shape[:-2] + ga.shape[-1:])
        if needs[1]:
            gb = _swap_last(A) @ G
            if b1:
                gb = call(Reshape, gb, shape=gb.shape[:-1])
        return ga, gb


class Linear(Primitive):
    """``x @ W.T + b`` in one node; ``x`` is ``(..., in)``, ``W`` ``(out, in)``, ``b`` ``(out,)``."""

    name = "linear"
    fresh_grads = True

    def forward(self, x, w, b=None):
        try:
            out = np.matmul(x, w.T) if x.ndim < 3 else _rows_times(x, w.T)
        except ValueError:
            raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} (the "
                             f"input's last dim must be in_features = {w.shape[-1]})") from None
        if b is None:
            return out
        if b.dtype == out.dtype:
            out += b  # out is fresh: add in place
            return out
        return out + b

    formulas = (("g·{1}  ({sg} · {s1})", lambda s: _lin(s, 0)),
                ("gᵀ·{0}  ({tg} · {s0})", lambda s: _lin(s, 1)),
                ("Σ_rows g  ({sg} → {s2})", lambda s: _lin(s, 2)))

    def backward(self, g, out, x, w, b=None):
        needs = self.needs
        n_out, n_in = w.shape
        if g.ndim == 2:
            gx = g @ w if needs[0] else None  # dx = g W
        else:  # a batch (or one sample) as rows: 2-D products, dx back in x's shape
            shape, rows = x.shape, _rows(x)
            g, x = call(Reshape, g, shape=(rows, n_out)), call(Reshape, x, shape=(rows, n_in))
            gx = call(Reshape, g @ w, shape=shape) if needs[0] else None
        gw = g.T @ x if needs[1] else None  # dW = gᵀ x
        if b is None:
            return gx, gw
        return gx, gw, (call(SumRows, g) if needs[2] else None)  # db = column sums of g


class LinalgMethods:
    """``Tensor``'s matrix product: ``@`` and ``matmul``."""

    __slots__ = ()

    def __matmul__(self, other):
        """``self @ other``: ``(n, k) @ (k, m) -> (n, m)``; 1-D operands and batches as torch."""
        b = operand(other, self)
        return NotImplemented if b is None else MatMul.apply(self, b)

    def __rmatmul__(self, other):
        """``other @ self``."""
        a = operand(other, self)
        return NotImplemented if a is None else MatMul.apply(a, self)

    def matmul(self, other):
        """``self @ other``."""
        return self.__matmul__(other)

    def dot(self, other):
        """The inner product of two 1-D tensors of the same size, a 0-d tensor."""
        other = _operand(other, self)
        _expect_dims("dot", (self, 1), (other, 1))
        if self.shape != other.shape:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{self.numel()}] and src "
                               f"[{other.numel()}] to have the same number of elements, but got "
                               f"{self.numel()} and {other.numel()} elements respectively")
        return MatMul.apply(self, other)

    def vdot(self, other):
        """``dot`` (the same for real tensors: nothing to conjugate)."""
        return self.dot(other)

    def mv(self, vec):
        """``(n, m) @ (m,) -> (n,)``."""
        vec = _operand(vec, self)
        _expect_dims("mv", (self, 2), (vec, 1))
        if self.shape[1] != vec.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({self.shape[0]}), mat "
                               f"({self.shape[0]}x{self.shape[1]}), vec ({vec.shape[0]})")
        return MatMul.apply(self, vec)

    def mm(self, mat2):
        """``(n, k) @ (k, m) -> (n, m)``."""
        mat2 = _operand(mat2, self)
        _expect_dims("mm", (self, 2), (mat2, 2))
        if self.shape[1] != mat2.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({self.shape[0]}x{self.shape[1]} "
                               f"and {mat2.shape[0]}x{mat2.shape[1]})")
        return MatMul.apply(self, mat2)

    def bmm(self, mat2):
        """``(b, n, k) @ (b, k, m) -> (b, n, m)`` (no broadcasting)."""
        mat2 = _operand(mat2, self)
        _expect_dims("bmm", (self, 3), (mat2, 3))
        if self.shape[0] != mat2.shape[0] or self.shape[2] != mat2.shape[1]:
            raise RuntimeError(f"bmm: shapes {list(self.shape)} and {list(mat2.shape)} cannot be multiplied "
                               "as batches of matrices")
        return MatMul.apply(self, mat2)

    def outer(self, vec2):
        """``(n,) x (m,) -> (n, m)``: ``self[i] * vec2[j]``."""
        vec2 = _operand(vec2, self)
        _expect_dims("outer", (self, 1), (vec2, 1))
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    def inner(self, other):
        """The sum over the last dims: ``(*a, n), (*b, n) -> (*a, *b)``; a product with a 0-d tensor."""
        other = _operand(other, self)
        if self.ndim == 0 or other.ndim == 0:
            return self * other
        if self.shape[-1] != other.shape[-1]:
            raise RuntimeError("inner() the last dimension must match on both input tensors but got shapes "
                               f"{list(self.shape)} and {list(other.shape)}")
        return tensordot(self, other, ([-1], [-1]))

    def kron(self, other):
        """The Kronecker product: block ``i`` is ``self[i] * other`` (shapes multiply dim by dim)."""
        other = _operand(other, self)
        nd = max(self.ndim, other.ndim)
        sa = (1,) * (nd - self.ndim) + self.shape
        sb = (1,) * (nd - other.ndim) + other.shape
        a = self.reshape(sum(((n, 1) for n in sa), ()))
        b = other.reshape(sum(((1, n) for n in sb), ()))
        return (a * b).reshape(tuple(m * n for m, n in zip(sa, sb)))

    def cross(self, other, dim=None):
        """The cross product of 3-vectors along ``dim`` (None: the first dim of size 3), broadcast."""
        a, b = _broadcast_pair(self, _operand(other, self), "cross")
        if dim is None:
            dim = next((i for i, n in enumerate(a.shape) if n == 3), None)
            if dim is None:
                raise RuntimeError(f"no dimension of size 3 in input of shape {list(a.shape)}")
        d = one_dim(dim, a.ndim)
        if a.ndim == 0 or a.shape[d] != 3:
            raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got shapes "
                               f"{list(self.shape)} and {list(other.shape)}")
        (a0, a1, a2), (b0, b1, b2) = a.unbind(d), b.unbind(d)
        return _stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """``beta * self + alpha * (mat1 @ mat2)`` (``self`` ignored when ``beta`` is 0, as torch)."""
        return _scaled_sum(self, _operand(mat1, self).mm(mat2), beta, alpha, "addmm")

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        """``beta * self + alpha * (mat @ vec)``."""
        return _scaled_sum(self, _operand(mat, self).mv(vec), beta, alpha, "addmv")

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """``beta * self + alpha * bmm(batch1, batch2)``."""
        return _scaled_sum(self, _operand(batch1, self).bmm(batch2), beta, alpha, "baddbmm")

    def det(self):
        """The determinant of each square matrix: ``(*, n, n) -> (*)``."""
        return Det.apply(_square(self, "linalg.det"))

    def inverse(self):
        """The inverse of each square matrix: ``(*, n, n)`` (RuntimeError when singular)."""
        return Inv.apply(_square(self, "linalg.inv"))

    def slogdet(self):
        """``(sign, logabsdet)`` of each square matrix's determinant (a named tuple; ``sign`` has no grad)."""
        a = _square(self, "linalg.slogdet")
        logabs = LogAbsDet.apply(a)
        sign = a._wrap(np.asarray(np.linalg.slogdet(a._data)[0], dtype=a.dtype))
        # in the graph with a zero gradient, as torch's sign
        return SlogdetResult(Where.apply(a._wrap(np.zeros((), dtype=bool)), logabs, sign), logabs)

    def logdet(self):
        """``log(det)``: nan for a negative determinant, as torch."""
        sign, logabs = self.slogdet()
        nan = sign._wrap(np.asarray(np.nan, dtype=self.dtype))
        return Where.apply(sign._wrap(sign._data < 0), nan, logabs)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` in one node: ``(..., in)``, ``(out, in)``, ``(out,)`` -> ``(..., out)``."""
    if not isinstance(weight, TensorBase):
        weight = input._constant(weight)
    if weight._data.ndim != 2 or input._data.ndim == 0:
        raise ValueError("linear: weight must be 2-D (out_features, in_features) and input at least 1-D, "
                         f"got shapes {weight.shape} and {input.shape}")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias if isinstance(bias, TensorBase) else input._constant(bias))


# -- einsum --------------------------------------------------------------------------------------------
def _parse_einsum(equation, shapes):
    """``equation`` for operands of ``shapes`` as explicit letters: ``(inputs, output)``, lists of letters
    (ellipses spelled out; a broadcast size-1 ellipsis dim gets a letter of its own, so it is summed)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation {equation!r} but {len(shapes)} "
                           "given")
    used = set(eq) - set(".,->")
    bad = [c for c in used if c not in string.ascii_letters]
    if bad:
        raise RuntimeError(f"einsum(): invalid subscript {bad[0]!r} in {equation!r}: subscripts are letters")
    free = iter(c for c in string.ascii_letters if c not in used)
    ell_dims = []
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if ("..." in term and named > len(shape)) or ("..." not in term and named != len(shape)):
            raise RuntimeError(f"einsum(): the subscripts {term!r} do not match an operand of shape "
                               f"{tuple(shape)}")
        ell_dims.append(len(shape) - named if "..." in term else 0)
    try:
        ell_shape = np.broadcast_shapes(*[tuple(s[term.index("..."):term.index("...") + k])
                                          for term, s, k in zip(terms, shapes, ell_dims) if "..." in term])
    except ValueError:
        raise RuntimeError(f"einsum(): the ellipsis dims of shapes {[tuple(s) for s in shapes]} cannot be "
                           "broadcast together") from None
    ell = [next(free) for _ in ell_shape]
    inputs = []
    for term, shape, k in zip(terms, shapes, ell_dims):
        head, _, tail = term.partition("...")
        mine = []
        if "..." in term:
            start = len(head)
            for j, letter in enumerate(ell[len(ell) - k:]):
                stretched = shape[start + j] == 1 and ell_shape[len(ell) - k + j] != 1
                mine.append(next(free) if stretched else letter)
        inputs.append(list(head) + mine + list(tail))
    if arrow:
        head, _, tail = rhs.partition("...")
        output = list(head) + (ell if "..." in rhs else []) + list(tail)
    else:
        counts = collections.Counter(c for term in terms for c in term.replace("...", ""))
        output = ell + sorted(c for c in counts if counts[c] == 1)
    _check_einsum_sizes(equation, inputs, output, shapes)
    return inputs, output


def _check_einsum_sizes(equation, inputs, output, shapes):
    sizes = {}
    for letters, shape in zip(inputs, shapes):
        for c, n in zip(letters, shape):
            if sizes.setdefault(c, n) != n:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for an operand of shape "
                                   f"{tuple(shape)} which does not match the previously seen size {sizes[c]} "
                                   f"({equation!r})")
    if len(set(output)) != len(output) or any(c not in sizes for c in output):
        raise RuntimeError(f"einsum(): the output subscripts of {equation!r} must appear once and in an "
                           f"input")


def _spell(inputs, output):
    return ",".join("".join(t) for t in inputs) + "->" + "".join(output)


class Einsum(Primitive):
    """``np.einsum(equation, *operands)``; ``equation`` is explicit (letters only, an output given)."""

    name = "einsum"

    def forward(self, *arrays):
        # NumPy's path search (BLAS for pairwise contractions) pays off for several or large operands
        big = len(arrays) > 2 or any(x.size > 4096 for x in arrays)
        return np.einsum(self.equation, *arrays, optimize=big)

    @staticmethod
    def formulas(n):
        """One formula per operand (``n`` of them): ``g`` contracted with the others."""
        return tuple((f"einsum of g with the other operands onto operand {i}'s indices",
                      lambda s, i=i: _einsum_back(s, i)) for i in range(n))

    def backward(self, g, out, *inputs):
        lhs, rhs = self.equation.split("->")
        terms = lhs.split(",")
        return [self._grad(i, terms, rhs, g, inputs) if self.needs[i] else None for i in range(len(inputs))]

    def _grad(self, i, terms, rhs, g, inputs):
        """The gradient for operand ``i``: an einsum of ``g``, the other operands and constants."""
        sizes = {c: n for t, x in zip(terms, inputs) for c, n in zip(t, x.shape)}
        others = [rhs] + [t for j, t in enumerate(terms) if j != i]
        arrays = [g] + [x for j, x in enumerate(inputs) if j != i]
        have = set("".join(others))
        taken = set("".join(terms) + rhs)
        free = iter(c for c in string.ascii_letters if c not in taken)
        target = []
        for c in terms[i]:
            if c in target:  # a repeated index: a fresh letter, tied to c by an identity matrix
                fresh = next(free)
                others.append(c + fresh)
                arrays.append(np.eye(sizes[c], dtype=g.dtype))
                target.append(fresh)
                continue
            if c not in have:  # an index only this operand has: the gradient is constant along it
                others.append(c)
                arrays.append(np.ones(sizes[c], dtype=g.dtype))
                have.add(c)
            target.append(c)
        return call(Einsum, *arrays, equation=",".join(others) + "->" + "".join(target))


def einsum(equation, *operands):
    """Einstein summation as ``torch.einsum``: ``einsum("ij,jk->ik", a, b)``; ellipses, repeated indices
    and the implicit output (indices seen once, sorted) as torch; operands may be given as one list."""
    tensors = _many(operands)
    inputs, output = _parse_einsum(equation, [t.shape for t in tensors])
    return Einsum.apply(*tensors, equation=_spell(inputs, output))


def tensordot(a, b, dims=2):
    """Sum of products over ``dims``: an int ``n`` (a's last ``n`` dims with b's first ``n``), or two lists
    of dims ``([a dims], [b dims])``."""
    b = _operand(b, a)
    if isinstance(dims, TensorBase):
        dims = dims._data.tolist()
    if isinstance(dims, numbers.Integral):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims between 0 and {min(a.ndim, b.ndim)}, got {dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, numbers.Integral) else list(d) for d in dims)
        da, db = [one_dim(d, a.ndim) for d in da], [one_dim(d, b.ndim) for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db)):
        raise RuntimeError(f"tensordot: contracted dimensions {da} of shape {list(a.shape)} and {db} of "
                           f"shape {list(b.shape)} do not match")
    letters = iter(string.ascii_letters)
    ta = [next(letters) for _ in range(a.ndim)]
    tb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        tb[j] = ta[i]
    out = [c for i, c in enumerate(ta) if i not in da] + [c for j, c in enumerate(tb) if j not in db]
    return Einsum.apply(a, b, equation=_spell([ta, tb], out))


def _operand(x, like):
    t = operand(x, like)
    if t is None:
        raise TypeError(f"expected a Tensor, got {type(x).__name__}")
    return t


def _expect_dims(fn, *pairs):
    for t, n in pairs:
        if t.ndim != n:
            raise RuntimeError(f"{fn}: expected {'-'.join(str(n) for _, n in pairs)}-D tensors, got shapes "
                               f"{[list(t.shape) for t, _ in pairs]}")


def _broadcast_pair(a, b, fn):
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"{fn}: shapes {list(a.shape)} and {list(b.shape)} cannot be broadcast") from None
    return a.expand(shape), b.expand(shape)


def _stack(tensors, dim):
    from .shape import stack
    return stack(tensors, dim)


def _scaled_sum(input, product, beta, alpha, fn):
    """``beta * input + alpha * product``; ``input`` only broadcast to ``product``'s shape, and ignored
    (zero gradient, its nan/inf not propagated) when ``beta`` is 0."""
    input = _operand(input, product)
    try:
        fits = np.broadcast_shapes(input.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{fn}: the input of shape {list(input.shape)} can not be broadcast to the "
                           f"product's shape {list(product.shape)}")
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        zero = input._wrap(np.zeros((), dtype=input.dtype))
        return out + Where.apply(input._wrap(np.zeros((), dtype=bool)), input, zero)
    return out + (input if beta == 1 else input * beta)


def _square(a, fn):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{fn}: A must be batches of square matrices, but got shape {list(a.shape)}")
    if a.dtype.kind != "f":
        raise RuntimeError(f"{fn}: Expected a floating point tensor as input. Got {a.dtype}")
    return a


SlogdetResult = collections.namedtuple("slogdet", ["sign", "logabsdet"])


class Det(Primitive):
    """The determinant of each matrix: ``(*, n, n) -> (*)``; gradient ``g det(A) A⁻ᵀ``."""

    name = "det"
    saves_output = True

    def forward(self, a):
        return np.asarray(np.linalg.det(a))

    formulas = (("g ⊙ o · {0}⁻ᵀ", lambda s: _mat(s.g * s.o) * _mT(np.linalg.inv(s.a))),)

    def backward(self, g, out, a):
        return (call(Reshape, g * out, shape=out.shape + (1, 1)) * _swap_last(call(Inv, a)),)


class LogAbsDet(Primitive):
    """``log|det(A)|`` of each matrix; gradient ``g A⁻ᵀ``."""

    name = "slogdet"

    def forward(self, a):
        return np.asarray(np.linalg.slogdet(a)[1])

    formulas = (("g · {0}⁻ᵀ", lambda s: _mat(s.g) * _mT(np.linalg.inv(s.a))),)

    def backward(self, g, out, a):
        return (call(Reshape, g, shape=g.shape + (1, 1)) * _swap_last(call(Inv, a)),)


class Inv(Primitive):
    """The inverse of each matrix; gradient ``-A⁻ᵀ g A⁻ᵀ``."""

    name = "inverse"
    saves_inputs = False
    saves_output = True

    def forward(self, a):
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise RuntimeError(f"linalg.inv: The input matrix of shape {list(a.shape)} is singular, the "
                               "inversion could not be completed") from None

    formulas = (("−oᵀ · g · oᵀ", lambda s: -_mT(s.o) @ s.g @ _mT(s.o)),)

    def backward(self, g, out, a):
        t = _swap_last(out)
        return (-(t @ g @ t),)


class Solve(Primitive):
    """``X`` with ``A X = B``: ``(*, n, n), (*, n, k) -> (*, n, k)``; ``gB = A⁻ᵀ g``, ``gA = -gB Xᵀ``"""

    name = "solve"
    saves_output = True

    def forward(self, a, b):
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise RuntimeError("linalg.solve: The solver failed because the input matrix of shape "
                               f"{list(a.shape)} is singular.") from None

    formulas = (("−({1}'s gradient) · oᵀ", lambda s: -np.linalg.solve(_mT(s.a), s.g) @ _mT(s.o)),
                ("{0}⁻ᵀ · g  (solve({0}ᵀ, g))", lambda s: np.linalg.solve(_mT(s.a), s.g)))

    def backward(self, g, out, a, b):
        gb = call(Solve, _swap_last(a), g)
        return (-(gb @ _swap_last(out)) if self.needs[0] else None), gb


for _name in ("dot", "vdot", "mv", "mm", "bmm", "outer", "inner", "kron", "cross", "addmm", "addmv",
              "baddbmm",
              "matmul", "det", "inverse", "slogdet", "logdet"):
    globals()[_name] = function_of(getattr(LinalgMethods, _name))
del _name


# -- torch.linalg: norms, det, inv, solve, slogdet ---------------------------------------------------------
def _float(x, dtype, fn):
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{fn}: Expected a floating point tensor as input. Got {x.dtype}")
    return x


def _root(s, p):
    """``s ** (1 / p)`` with a zero gradient where ``s`` is 0 (torch's norm gradient at the zero vector)."""
    zero = s._wrap(s._data == 0)
    if not zero._data.any():
        return s.sqrt() if p == 2 else s ** (1.0 / p)
    one = s._wrap(np.ones((), dtype=s.dtype))
    safe = Where.apply(zero, one, s)
    root = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    return Where.apply(zero, s._wrap(np.zeros((), dtype=s.dtype)), root)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``sum(|x| ** ord) ** (1 / ord)`` over ``dim`` (all dims when None); ``ord`` may be inf, -inf or 0."""
    x = _float(x, dtype, "linalg.vector_norm")
    axes = reduce_dims(dim, x.ndim)
    if ord == float("inf"):
        return x.abs().amax(dim=axes, keepdim=keepdim)
    if ord == float("-inf"):
        return x.abs().amin(dim=axes, keepdim=keepdim)
    if ord == 0:  # the count of non-zeros, with a zero gradient
        zero = Where.apply(x._wrap(np.zeros((), dtype=bool)), x, x._wrap(np.zeros((), dtype=x.dtype)))
        ones = Where.apply(x._wrap(x._data != 0), x._wrap(np.ones((), dtype=x.dtype)), zero)
        return ones.sum(axes, keepdim)
    if ord == 1:
        return x.abs().sum(axes, keepdim)
    if ord == 2:
        return _root((x * x).sum(axes, keepdim), 2)
    return _root((x.abs() ** float(ord)).sum(axes, keepdim), float(ord))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm of the planes ``dim``: ``"fro"``, or ``1``/``-1`` (max/min column sum of ``|A|``),
    ``inf``/``-inf`` (max/min row sum). ``"nuc"`` and ``2``/``-2`` (singular values) are not supported."""
    A = _float(A, dtype, "linalg.matrix_norm")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions, got "
                           f"shape {list(A.shape)}")
    d0, d1 = (one_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    inf = float("inf")
    if ord not in (1, -1, inf, -inf):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} (singular values) is not supported; use "
                                  "'fro', 1, -1, inf or -inf")
    summed, kept = (d0, d1) if ord in (1, -1) else (d1, d0)
    sums = A.abs().sum(summed, keepdim=True)
    out = sums.amax(kept, keepdim=True) if ord > 0 else sums.amin(kept, keepdim=True)
    return out if keepdim else out.squeeze((d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (``dim`` an int, or ``A`` 1-D) or a matrix norm (``dim`` a pair, or ``A`` 2-D); with
    neither ``ord`` nor ``dim``, the 2-norm of the flattened tensor."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                       f"{A.ndim}D")


def inv(A):
    """The inverse of each square matrix ``(*, n, n)``; RuntimeError when one is singular."""
    return A.inverse()


def solve(A, B, *, left=True):
    """``X`` with ``A X = B`` (``X A = B`` when ``left=False``); ``B`` is ``(*, n, k)`` or ``(*, n)``."""
    A = _square(A, "linalg.solve")
    B = _operand(B, A)
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-1]:
        raise RuntimeError("linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({list(A.shape)} and {list(B.shape)})")
    try:
        batch = np.broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dims of A {list(A.shape)} and B {list(B.shape)} cannot "
                           "be broadcast") from None
    A = A.expand(batch + A.shape[-2:])
    X = Solve.apply(A, Bm.expand(batch + Bm.shape[-2:]))
    return X.squeeze(-1) if vector else X


# -- the explorer's formulas (autograd.explore): NumPy evaluations of the rules above, on one step's
# numbers ``s``: ``s.g`` the incoming gradient, ``s.o`` the output, ``s.a``, ``s.b``, ``s.x`` the inputs,
# ``s.fn`` the node


def _mm(s, which):
    """matmul's gradients with 1-D operands treated as a row (a) or a column (b), as torch."""
    a, b, g = s.a, s.b, s.g
    A = a[None, :] if a.ndim == 1 else a
    B = b[:, None] if b.ndim == 1 else b
    G = g.reshape(g.shape[:-1] + (1, g.shape[-1])) if a.ndim == 1 and b.ndim > 1 else g
    G = G[..., None] if b.ndim == 1 else G
    G = G.reshape(1, 1) if a.ndim == 1 and b.ndim == 1 else G
    if which == 0:
        r = G @ np.swapaxes(B, -1, -2)
        return r[..., 0, :] if a.ndim == 1 else r
    r = np.swapaxes(A, -1, -2) @ G
    return r[..., :, 0] if b.ndim == 1 else r


def _lin(s, which):
    """linear's gradients: input ``g·W`` (0), weight ``gᵀ·x`` (1), bias ``Σ_rows g`` (2)."""
    g, w = s.g, s.x[1]
    if which == 0:
        return g @ w
    g2, x2 = g.reshape(-1, w.shape[0]), s.a.reshape(-1, w.shape[1])
    return g2.T @ x2 if which == 1 else g2.sum(0)


def _mT(x):
    """The matrix transpose of the last two dims (batched)."""
    return np.swapaxes(x, -1, -2)


def _mat(g):
    """``g`` ``(*)`` as ``(*, 1, 1)``: a scale for each matrix of a batch."""
    return np.asarray(g)[..., None, None]


def _einsum_back(s, i):
    """Operand ``i``'s gradient: ``g`` contracted with the other operands (NumPy's einsum) onto the letters
    ``i`` shares with them, constant along letters only it has, on the diagonal where a letter repeats."""
    lhs, rhs = s.fn.equation.split("->")
    terms = lhs.split(",")
    mine, others = terms[i], [t for j, t in enumerate(terms) if j != i]
    letters = list(dict.fromkeys(mine))
    kept = [c for c in letters if c in rhs + "".join(others)]
    part = np.einsum(",".join([rhs] + others) + "->" + "".join(kept), s.g,
                     *(x for j, x in enumerate(s.x) if j != i))
    pos = np.indices(s.x[i].shape)
    first = {c: pos[mine.index(c)] for c in letters}
    on_diagonal = np.ones(s.x[i].shape, dtype=bool)
    for k, c in enumerate(mine):
        on_diagonal &= pos[k] == first[c]
    return np.where(on_diagonal, part[tuple(first[c] for c in kept)], 0.0)
