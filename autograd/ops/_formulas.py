"""NumPy helpers that the explorer's formulas (``formulas`` beside each primitive's ``backward``) of
more than one op family share. ``s`` is one step's numbers: ``s.g`` the incoming gradient, ``s.o`` the
output, ``s.a``/``s.b``/``s.x`` the inputs, ``s.fn`` the node (``autograd.explore``)."""
import numpy as np


def sig(x):
    """The logistic sigmoid of an array."""
    return 1.0 / (1.0 + np.exp(-x))


def zero(s):
    """A zero gradient in the inputs' broadcast shape (a piecewise-constant rule)."""
    return np.zeros(np.broadcast_shapes(*(x.shape for x in s.x)), dtype=s.g.dtype)


def along(s, f):
    """``f(x, ...)`` with the primitive's ``dim`` moved last for every array, moved back after."""
    d = s.fn.dim
    return lambda *arrays: np.moveaxis(f(*(np.moveaxis(x, d, -1) for x in arrays)), -1, d)


def along_index(index, dim):
    """Index arrays addressing ``index`` (an array of positions) along ``dim``, every other axis as is."""
    parts = list(np.indices(index.shape, sparse=True))
    parts[dim] = index
    return tuple(parts)


def take_back(s):
    """``g`` added into zeros shaped like the input at the index along ``dim`` (a gather's gradient)."""
    z = np.zeros_like(s.a)
    np.add.at(z, along_index(s.fn.index, s.fn.dim), s.g)
    return z


def pick_along(s):
    """``g`` read at the index along ``dim`` (the gradient of a scatter-add's source)."""
    return np.take_along_axis(s.g, s.fn.index, s.fn.dim)
