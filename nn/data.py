"""Data utilities: ``TensorDataset``, ``DataLoader``, toy data sets, ``train_test_split``,
``Standardizer`` and ``load_csv``.

Randomness: every function takes ``seed``; ``seed=None`` draws from ``autograd``'s generator, so
``autograd.manual_seed(n)`` makes a whole run reproducible. Toy data sets return ``float32`` features
and ``int64`` class labels (``float32`` targets for regression).
"""
import csv
import math
import os

import numpy as np

from autograd import Tensor
from autograd.dtypes import as_array
from autograd.creation import generator


def _rng(seed):
    if seed is None:
        return generator()
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _array(a):
    return as_array(a)


# -- datasets and loading -----------------------------------------------------------------------------
class TensorDataset:
    """Samples ``(a[i], b[i], ...)`` of arrays (or Tensors) that share their first dimension."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = [_array(a) for a in arrays]
        n = {len(a) if a.ndim else -1 for a in self.arrays}
        if len(n) != 1 or -1 in n:
            raise ValueError("TensorDataset: all arrays must have the same first dimension, got shapes "
                             f"{[a.shape for a in self.arrays]}")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Mini-batches of a dataset as tuples of ``Tensor``s (one per field).

    ``shuffle`` draws a new order each epoch from a generator seeded once with ``seed`` (so the
    sequence of epochs is reproducible), or from ``autograd``'s generator when ``seed=None``.
    ``drop_last`` drops a final batch smaller than ``batch_size``. Works with a ``TensorDataset``
    (batches are sliced at once) or any dataset with ``__len__`` and ``__getitem__`` returning a
    sample or a tuple of fields (stacked with NumPy).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last, self.seed = shuffle, drop_last, seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return None
        return (self._rng or generator()).permutation(n)

    def __iter__(self):
        n, bs = len(self.dataset), self.batch_size
        order = self._order()
        stop = n - n % bs if self.drop_last else n
        fast = isinstance(self.dataset, TensorDataset)
        for start in range(0, stop, bs):
            idx = slice(start, min(start + bs, n)) if order is None else order[start:start + bs]
            if fast:
                fields = [a[idx] for a in self.dataset.arrays]
            else:
                fields = _collate([self.dataset[int(i)] for i in np.arange(n)[idx]])
            yield tuple(Tensor._wrap(np.ascontiguousarray(f)) for f in fields)


def _collate(samples):
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return [np.stack([_array(s[k]) for s in samples]) for k in range(len(first))]
    return [np.stack([_array(s) for s in samples])]


def train_test_split(*arrays, test_size=0.25, seed=None, shuffle=True):
    """Split arrays (same first dim) into train and test parts: returns
    ``a_train, a_test, b_train, b_test, ...`` as scikit-learn. ``test_size``: a fraction or a count."""
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrays = [_array(a) for a in arrays]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"train_test_split: arrays have different lengths {[len(a) for a in arrays]}")
    if isinstance(test_size, float):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size as a fraction must be in (0, 1), got {test_size}")
        n_test = int(math.ceil(test_size * n))
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size} leaves {n_test} test and {n - n_test} training samples "
                         f"out of {n}; both must be at least 1")
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    test, train = order[:n_test], order[n_test:]
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return out


class Standardizer:
    """Zero mean, unit variance per feature (column): ``fit`` learns ``mean`` and ``std`` (constant
    columns get std 1), ``transform`` applies them, ``inverse_transform`` undoes them."""

    def __init__(self):
        self.mean = self.std = None

    def fit(self, x):
        x = _float(x)
        if x.shape[0] == 0:
            raise ValueError("Standardizer.fit: got an empty array")
        self.mean = x.mean(axis=0)
        std = x.std(axis=0)
        self.std = np.where(std > 0, std, 1.0).astype(x.dtype)
        return self

    def _check(self):
        if self.mean is None:
            raise RuntimeError("Standardizer is not fitted yet: call fit(x) first")

    def transform(self, x):
        self._check()
        x = _float(x)
        return ((x - self.mean) / self.std).astype(x.dtype, copy=False)

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def inverse_transform(self, x):
        self._check()
        x = _float(x)
        return (x * self.std + self.mean).astype(x.dtype, copy=False)


def _float(x):
    x = _array(x)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


# -- toy data sets ------------------------------------------------------------------------------------
def make_moons(n_samples=100, noise=0.1, seed=None):
    """Two interleaving half circles: ``X`` ``(n, 2)`` float32, ``y`` ``(n,)`` int64 in {0, 1}."""
    rng = _rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if noise:
        x = x + rng.normal(0.0, noise, x.shape)
    return _shuffled(rng, x.astype(np.float32), y)


def make_circles(n_samples=100, noise=0.05, factor=0.5, seed=None):
    """A small circle (label 1, radius ``factor``) inside a large one (label 0)."""
    if not 0 <= factor < 1:
        raise ValueError(f"factor has to be in [0, 1), got {factor}")
    rng = _rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if noise:
        x = x + rng.normal(0.0, noise, x.shape)
    return _shuffled(rng, x.astype(np.float32), y)


def make_spiral(n_samples=300, classes=3, noise=0.2, seed=None):
    """``classes`` interleaved spiral arms (cs231n's data set): radius grows from 0 to 1 along each arm,
    the angle gets N(0, noise^2) jitter. ``X`` ``(n, 2)`` float32, ``y`` int64 in ``0..classes-1``."""
    rng = _rng(seed)
    counts = [n_samples // classes + (k < n_samples % classes) for k in range(classes)]
    xs, ys = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) + rng.normal(0.0, noise, m)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(m, k, np.int64))
    return _shuffled(rng, np.concatenate(xs).astype(np.float32), np.concatenate(ys))


def make_regression(n_samples=100, n_features=1, noise=0.1, seed=None):
    """A smooth nonlinear target: ``X`` ``(n, n_features)`` float32 uniform in [-3, 3] and
    ``y = sum_j w_j sin(1.5 x_j) + 0.2 x_j`` + N(0, noise^2), ``(n,)`` float32 (``w`` from the seed)."""
    rng = _rng(seed)
    x = rng.uniform(-3.0, 3.0, (n_samples, n_features))
    w = np.ones(n_features) if n_features == 1 else rng.uniform(0.5, 1.5, n_features)
    y = (np.sin(1.5 * x) + 0.2 * x) @ w
    if noise:
        y = y + rng.normal(0.0, noise, n_samples)
    return x.astype(np.float32), y.astype(np.float32)


def _shuffled(rng, x, y):
    order = rng.permutation(len(x))
    return x[order], y[order]


# -- CSV ----------------------------------------------------------------------------------------------
def load_csv(path, target, dtype=np.float32, target_dtype=None):
    """Read a numeric CSV with a header row: returns ``(X, y, feature_names)``.

    ``target`` names the column for ``y`` (or is its index); the other columns, in file order, form
    ``X`` (``dtype``). ``target_dtype=None``: int64 when every target is a whole number (class labels),
    else float32. A missing file or column, a non-numeric cell (its row and column are named), a ragged
    row or an empty file raise ``ValueError`` with one clear line.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"load_csv: no such file: {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)  # (file line, cells) of the non-blank rows
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"load_csv: {path} is not a readable CSV text file ({e})") from None
    if not rows:
        raise ValueError(f"load_csv: {path} is empty (expected a header row and data rows)")
    header = [h.strip() for h in rows[0][1]]
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -len(header) <= target < len(header):
            raise ValueError(f"load_csv: target column index {target} is out of range for {len(header)} "
                             f"columns in {path}")
        col = int(target) % len(header)
    elif target in header:
        col = header.index(target)
    else:
        raise ValueError(f"load_csv: column {target!r} not found in {path}; columns are "
                         f"{', '.join(header)}")
    if len(rows) == 1:
        raise ValueError(f"load_csv: {path} has a header but no data rows")
    values = np.empty((len(rows) - 1, len(header)), dtype=np.float64)
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"load_csv: {path} line {line} has {len(row)} cells but the header has "
                             f"{len(header)} columns")
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise ValueError(f"load_csv: {path} line {line}, column {header[j]!r}: {cell!r} is not a "
                                 "number") from None
    y = values[:, col]
    if target_dtype is None:
        target_dtype = np.int64 if np.all(np.isfinite(y)) and np.all(y == np.round(y)) else np.float32
    names = header[:col] + header[col + 1:]
    x = np.delete(values, col, axis=1).astype(dtype)
    return x, y.astype(target_dtype), names


__all__ = ["TensorDataset", "DataLoader", "train_test_split", "Standardizer", "make_moons",
           "make_circles", "make_spiral", "make_regression", "load_csv"]
