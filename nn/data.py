"""Data utilities: ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``, the
samplers, ``DataLoader`` with torch's ``default_collate``, toy data sets, ``train_test_split``,
``Standardizer`` and ``load_csv``.

Randomness: every function takes ``seed``; ``seed=None`` draws from ``autograd``'s generator, so
``autograd.manual_seed(n)`` makes a whole run reproducible. Toy data sets return ``float32`` features
and ``int64`` class labels (``float32`` targets for regression).
"""
import bisect
import csv
import itertools
import math
import os
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from autograd import Tensor
from autograd.ops import generator
from autograd.ops import as_array


def _rng(seed):
    if seed is None:
        return generator()
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _array(a):
    return as_array(a)


# -- datasets ------------------------------------------------------------------------------------------
class Dataset:
    """Base class of map-style datasets: ``__getitem__(index)`` and ``__len__``; ``a + b`` concatenates."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} should implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples ``(a[i], b[i], ...)`` (a tuple, as torch) of arrays or Tensors sharing their first dim."""

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


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """The datasets one after the other; ``cumulative_sizes`` holds their running lengths."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError(f"absolute value of index {idx} should not exceed dataset length "
                                 f"{len(self)}")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of length {len(self)}")
        offset = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - offset]


def _is_torch_generator(generator):
    return hasattr(generator, "manual_seed") and hasattr(generator, "initial_seed")


def _randperm(n, generator):
    """A permutation of ``range(n)`` as a list: from ``torch.randperm`` for a ``torch.Generator`` (so the
    order is torch's), else from a NumPy generator (``None``: autograd's, an int: a fresh seeded one)."""
    if _is_torch_generator(generator):
        import torch
        return torch.randperm(n, generator=generator).tolist()
    return _rng(generator).permutation(n).tolist()


def _randint(n, size, generator):
    if _is_torch_generator(generator):
        import torch
        return torch.randint(high=n, size=(size,), dtype=torch.int64, generator=generator).tolist()
    return _rng(generator).integers(0, n, size).tolist()


def random_split(dataset, lengths, generator=None):
    """``Subset``s of the given lengths (counts summing to ``len(dataset)``, or fractions summing to 1,
    rounded down with the remainder handed out round-robin, as torch) over a random permutation."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
                         f"dataset ({n})!")
    order = _randperm(n, generator)
    ends = list(itertools.accumulate(lengths))
    return [Subset(dataset, order[end - k:end]) for end, k in zip(ends, lengths)]


# -- samplers --------------------------------------------------------------------------------------------
class SequentialSampler:
    """Indices ``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler:
    """A new random order each epoch (``replacement=True``: ``num_samples`` independent draws), from
    ``generator`` (a NumPy or torch generator, or ``None`` for autograd's), as ``torch``'s."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            for _ in range(k // 32):
                yield from _randint(n, 32, self.generator)
            yield from _randint(n, k % 32, self.generator)
        else:
            for _ in range(k // n):
                yield from _randperm(n, self.generator)
            if k % n or _is_torch_generator(self.generator):  # torch draws (and drops) this one too
                yield from _randperm(n, self.generator)[:k % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler:
    """The given indices in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        for i in _randperm(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


def _check_batch_size(batch_size):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
    return int(batch_size)


class BatchSampler:
    """Lists of ``batch_size`` indices drawn from ``sampler`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = _check_batch_size(batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.drop_last = sampler, drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# -- collation -------------------------------------------------------------------------------------------
_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_text_or_object(array):
    return array.dtype.kind in "USOV"


def _stack(arrays):
    try:
        return np.stack(arrays)
    except ValueError:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got shapes "
                           f"{sorted({a.shape for a in arrays})}") from None


def _rebuild(elem, values):
    """``values`` (a dict or a list) in the container type of ``elem`` when it can be rebuilt, as torch."""
    if type(elem) in (dict, list):
        return values
    try:
        return type(elem)(values)
    except TypeError:
        return values


def default_collate(batch):
    """Stack a list of samples as torch's ``default_collate``: arrays and Tensors -> one Tensor with a new
    first dim; Python floats -> float64, ints -> int64, bools -> bool Tensors; NumPy scalars keep their
    dtype; strings stay a list; dicts, named tuples and sequences are collated field by field (a tuple
    sample gives a list)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        from autograd import stack
        return stack(list(batch))
    if isinstance(elem, (np.ndarray, np.generic)) or _is_torch_tensor(elem):
        arrays = [_array(b) for b in batch]
        if _is_text_or_object(arrays[0]):
            raise TypeError(_ERR.format(arrays[0].dtype))
        return Tensor(_stack(arrays) if isinstance(elem, np.ndarray) or _is_torch_tensor(elem)
                      else np.array(arrays))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return _rebuild(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuild(elem, fields)
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """One sample to Tensors without batching (``batch_size=None``), as torch's ``default_convert``:
    arrays and NumPy scalars -> Tensors, containers converted inside (a tuple gives a list), the rest
    unchanged."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        return data if _is_text_or_object(np.asarray(data)) else Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return _rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data


def _is_torch_tensor(x):
    return not isinstance(x, Tensor) and hasattr(x, "detach") and hasattr(x, "cpu")


# -- loading ---------------------------------------------------------------------------------------------
class DataLoader:
    """Mini-batches of a map-style dataset, as ``torch.utils.data.DataLoader`` in the main process.

    Each batch is ``collate_fn([dataset[i] for i in batch_indices])`` (``default_collate``: a dataset of
    single arrays gives a Tensor per batch, of tuples a list of Tensors, of dicts a dict). ``shuffle``
    draws a new order each epoch from ``generator`` (a NumPy or ``torch.Generator``: then the order is
    torch's) or, with ``seed``, from a generator seeded once (reproducible epochs), else from autograd's
    generator. ``batch_size=None`` yields single samples (``default_convert``). ``num_workers`` must be 0:
    chainrule has no worker processes. ``pin_memory`` is accepted and changes nothing (no GPU).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, num_workers=0, collate_fn=None,
                 pin_memory=False, drop_last=False, generator=None, seed=None, *, batch_sampler=None,
                 timeout=0, worker_init_fn=None, prefetch_factor=None, persistent_workers=False):
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        if isinstance(sampler, bool):
            raise TypeError(f"sampler must be an iterable of indices, got {sampler}: pass drop_last= by "
                            "keyword (the 4th argument is sampler, in torch's order)")
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: give either generator= or seed=, not both")
            generator = np.random.default_rng(seed)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn = worker_init_fn
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        if _is_torch_generator(self.generator):  # torch's loader draws its workers' base seed first
            import torch
            torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        if self.batch_sampler is None:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])
            return
        fast = type(self.dataset) is TensorDataset and self.collate_fn is default_collate
        for indices in self.batch_sampler:
            if fast:  # index every array at once: the same batch as collating the samples
                idx = np.asarray(indices, dtype=np.int64)
                yield [Tensor(a[idx]) for a in self.dataset.arrays]
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])


def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers):
    """torch's checks, and a clear error for worker processes (there are none)."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                         "multiprocessing.")
    if num_workers > 0:
        raise ValueError(f"num_workers={num_workers} is not supported: chainrule's DataLoader loads batches "
                         "in the main process (NumPy indexing is fast); use num_workers=0")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing. let num_workers "
                         "> 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
    if persistent_workers:
        raise ValueError("persistent_workers option needs num_workers > 0")


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


__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "BatchSampler", "default_collate", "default_convert",
           "DataLoader", "train_test_split", "Standardizer", "make_moons",
           "make_circles", "make_spiral", "make_regression", "load_csv"]
