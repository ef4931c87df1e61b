"""nn.data: DataLoader coverage, shuffling and drop_last; toy data sets' shapes, dtypes and seeding;
train_test_split; Standardizer; load_csv and its one-line errors."""
import numpy as np
import pytest

import autograd
from autograd import Tensor
from nn.data import (DataLoader, Standardizer, TensorDataset, load_csv, make_circles, make_moons,
                     make_regression, make_spiral, train_test_split)


def _ids(loader):
    return np.concatenate([b[0].detach().numpy() for b in loader])


def test_tensor_dataset():
    ds = TensorDataset(np.arange(5), Tensor(np.ones((5, 2))))
    assert len(ds) == 5
    a, b = ds[3]
    assert a == 3 and b.shape == (2,)
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.arange(5), np.arange(4))


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n,bs", [(10, 3), (12, 4), (5, 8), (7, 1)])
def test_each_sample_once_per_epoch(shuffle, n, bs):
    ds = TensorDataset(np.arange(n), np.arange(n) * 10.0)
    loader = DataLoader(ds, batch_size=bs, shuffle=shuffle, seed=1)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader) == -(-n // bs)
        ids = _ids(batches)
        assert sorted(ids.tolist()) == list(range(n))
        assert all(isinstance(t, Tensor) for b in batches for t in b)
        for x, y in batches:  # fields stay aligned
            np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy() * 10.0)
    if not shuffle:
        np.testing.assert_array_equal(_ids(loader), np.arange(n))


def test_shuffle_is_seeded_and_differs_between_epochs():
    ds = TensorDataset(np.arange(100))
    a, b = DataLoader(ds, 10, shuffle=True, seed=3), DataLoader(ds, 10, shuffle=True, seed=3)
    ea1, ea2 = _ids(a), _ids(a)
    np.testing.assert_array_equal(ea1, _ids(b))
    np.testing.assert_array_equal(ea2, _ids(b))
    assert not np.array_equal(ea1, ea2)
    assert not np.array_equal(ea1, np.arange(100))
    assert not np.array_equal(ea1, _ids(DataLoader(ds, 10, shuffle=True, seed=4)))
    autograd.manual_seed(5)  # seed=None: the autograd generator decides
    first = _ids(DataLoader(ds, 10, shuffle=True))
    autograd.manual_seed(5)
    np.testing.assert_array_equal(first, _ids(DataLoader(ds, 10, shuffle=True)))


def test_drop_last():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=3, drop_last=True, shuffle=True, seed=0)
    batches = list(loader)
    assert len(batches) == len(loader) == 3 and all(len(b[0]) == 3 for b in batches)
    assert len(set(_ids(batches).tolist())) == 9
    assert len(DataLoader(TensorDataset(np.arange(2)), batch_size=3, drop_last=True)) == 0
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(np.arange(2)), batch_size=0)


def test_any_indexable_dataset():
    class Squares:
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return np.float32(i), np.array([i * i, -i])

    batches = list(DataLoader(Squares(), batch_size=3))
    assert [b[0].shape for b in batches] == [(3,), (3,), (1,)]
    np.testing.assert_array_equal(batches[1][1].detach().numpy(), [[9, -3], [16, -4], [25, -5]])
    single = list(DataLoader(list(range(5)), batch_size=2))  # single samples: a Tensor per batch
    assert all(isinstance(b, Tensor) for b in single)
    np.testing.assert_array_equal(single[0].detach().numpy(), [0, 1])


@pytest.mark.parametrize("make,kw,classes", [
    (make_moons, dict(noise=0.1), 2), (make_circles, dict(noise=0.05, factor=0.4), 2),
    (make_spiral, dict(classes=4, noise=0.1), 4),
])
def test_classification_generators(make, kw, classes):
    x, y = make(101, seed=7, **kw)
    assert x.shape == (101, 2) and x.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y).tolist()) == set(range(classes))
    assert np.bincount(y).max() - np.bincount(y).min() <= 1  # balanced
    x2, y2 = make(101, seed=7, **kw)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(101, seed=8, **kw)[0], x)
    autograd.manual_seed(1)
    a = make(20, **kw)[0]
    autograd.manual_seed(1)
    np.testing.assert_array_equal(a, make(20, **kw)[0])


def test_generator_geometry():
    x, y = make_circles(400, noise=0.0, factor=0.5, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.5, rtol=1e-6)
    x, y = make_spiral(300, classes=3, noise=0.0, seed=0)
    assert np.hypot(x[:, 0], x[:, 1]).max() <= 1.0 + 1e-6
    x, y = make_moons(200, noise=0.0, seed=0)
    assert x[y == 0, 1].min() >= -1e-6 and x[y == 1, 1].max() <= 0.5 + 1e-6


def test_make_regression():
    x, y = make_regression(200, n_features=3, noise=0.0, seed=2)
    assert x.shape == (200, 3) and y.shape == (200,) and x.dtype == y.dtype == np.float32
    assert np.all(np.abs(x) <= 3)
    x1, y1 = make_regression(300, noise=0.0, seed=0)
    np.testing.assert_allclose(y1, np.sin(1.5 * x1[:, 0]) + 0.2 * x1[:, 0], rtol=1e-5, atol=1e-6)
    noisy = make_regression(5000, noise=0.5, seed=0)
    residual = noisy[1] - (np.sin(1.5 * noisy[0][:, 0]) + 0.2 * noisy[0][:, 0])
    assert abs(residual.std() - 0.5) < 0.03


def test_train_test_split():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, seed=0)
    assert len(xtr) == 7 and len(xte) == 3
    np.testing.assert_array_equal(xtr[:, 0] // 2, ytr)  # rows stay aligned
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(10))
    again = train_test_split(x, y, test_size=0.3, seed=0)
    np.testing.assert_array_equal(again[3], yte)
    assert len(train_test_split(x, test_size=4, seed=0)[1]) == 4
    np.testing.assert_array_equal(train_test_split(y, test_size=2, shuffle=False)[1], [0, 1])
    with pytest.raises(ValueError, match="different lengths"):
        train_test_split(x, y[:5])
    with pytest.raises(ValueError, match="both must be at least 1"):
        train_test_split(y, test_size=10)


def test_standardizer():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((500, 3)) * [1.0, 5.0, 0.0] + [2.0, -3.0, 7.0]).astype(np.float32)
    s = Standardizer().fit(x)
    z = s.transform(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), [1, 1, 0], atol=1e-5)  # a constant column stays finite
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(Standardizer().fit_transform(Tensor(x)), z)
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().transform(x)


def test_load_csv(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,label\n1,2.5,0\n3,-4e1,1\n\n5, 6 ,2\n")
    x, y, names = load_csv(p, "label")
    assert names == ["a", "b"] and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x, [[1, 2.5], [3, -40], [5, 6]])
    np.testing.assert_array_equal(y, [0, 1, 2])
    x, y, names = load_csv(p, "b")
    assert names == ["a", "label"] and y.dtype == np.float32
    assert load_csv(p, 0)[2] == ["b", "label"]


@pytest.mark.parametrize("content,target,match", [
    (None, "y", "no such file"),
    ("", "y", "is empty"),
    ("x,y\n", "y", "has a header but no data rows"),
    ("x,y\n1,2\n", "z", "column 'z' not found in .*; columns are x, y"),
    ("x,y\n1,2\n3,abc\n", "y", r"line 3, column 'y': 'abc' is not a number"),
    ("x,y\n1,2\n\n,4\n", "y", r"line 4, column 'x': '' is not a number"),
    ("x,y\n1,2\n3\n", "y", "line 3 has 1 cells but the header has 2 columns"),
    ("x,y\n1,2\n", 5, "index 5 is out of range"),
])
def test_load_csv_errors(tmp_path, content, target, match):
    p = tmp_path / "bad.csv"
    if content is not None:
        p.write_text(content)
    with pytest.raises(ValueError, match=match) as info:
        load_csv(p, target)
    assert "\n" not in str(info.value)


# -- torch's Dataset / DataLoader semantics ----------------------------------------------------------------
import collections  # noqa: E402

import torch  # noqa: E402
import torch.utils.data as tud  # noqa: E402

from nn.data import (BatchSampler, ConcatDataset, Dataset, RandomSampler, SequentialSampler,  # noqa: E402
                     Subset, SubsetRandomSampler, default_collate, default_convert, random_split)

Point = collections.namedtuple("Point", ["x", "label"])


def _plain(batch):
    """A batch as nested Python containers of (dtype name, array), for ours and torch's alike."""
    if isinstance(batch, Tensor):
        return ("tensor", str(batch.dtype), batch.detach().numpy().tolist())
    if isinstance(batch, torch.Tensor):
        return ("tensor", str(batch.dtype).replace("torch.", ""), batch.numpy().tolist())
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return (type(batch).__name__, [_plain(v) for v in batch])
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [_plain(v) for v in batch])
    return batch


SAMPLES = {
    "arrays": lambda i: np.array([i, -i], dtype=np.float32),
    "tuples": lambda i: (np.full((2, 2), i, dtype=np.float64), i),
    "dicts": lambda i: {"x": np.arange(3) * i, "y": float(i) / 2, "ok": i % 2 == 0, "name": f"s{i}"},
    "numpy-scalars": lambda i: (np.float32(i) / 3, np.int16(i)),
    "namedtuples": lambda i: Point(np.ones(2) * i, i),
    "lists": lambda i: [i, [float(i), np.float64(i)]],
    "floats": lambda i: i / 7.0,
    "ints": lambda i: i,
}


class _Map(Dataset):
    def __init__(self, make, n=7):
        self.make, self.n = make, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.make(i)


class _TorchMap(tud.Dataset):
    __init__, __len__, __getitem__ = _Map.__init__, _Map.__len__, _Map.__getitem__


@pytest.mark.parametrize("kind", list(SAMPLES))
@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (1, False), (None, False)])
def test_default_collation_matches_torch(kind, batch_size, drop_last):
    ours = DataLoader(_Map(SAMPLES[kind]), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(_TorchMap(SAMPLES[kind]), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = [_plain(b) for b in ours], [_plain(b) for b in theirs]
    assert got == want


@pytest.mark.parametrize("arrays", [
    (np.arange(10.0).reshape(5, 2),),
    (np.arange(10.0).reshape(5, 2), np.arange(5)),
    (np.arange(5, dtype=np.float32), np.arange(5) % 2 == 0, np.ones((5, 2, 2))),
])
def test_tensor_dataset_batches_match_torch(arrays):
    """A TensorDataset of one array gives a list of one Tensor, as torch (its samples are 1-tuples);
    a plain dataset of single arrays gives the Tensor itself (fixed: it was a 1-tuple)."""
    ours = DataLoader(TensorDataset(*arrays), batch_size=2)
    theirs = tud.DataLoader(tud.TensorDataset(*[torch.tensor(a) for a in arrays]), batch_size=2)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]
    assert isinstance(TensorDataset(*arrays)[0], tuple)
    single = DataLoader(_Map(lambda i: arrays[0][i], 5), batch_size=2)
    assert all(isinstance(b, Tensor) for b in single)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffle_with_a_torch_generator_gives_torch_order(seed, drop_last):
    ds, tds = TensorDataset(np.arange(23)), tud.TensorDataset(torch.arange(23))
    g, tg = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    ours = DataLoader(ds, batch_size=4, shuffle=True, generator=g, drop_last=drop_last)
    theirs = tud.DataLoader(tds, batch_size=4, shuffle=True, generator=tg, drop_last=drop_last)
    for _ in range(3):  # epochs differ, and each is torch's
        assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]


def test_random_sampler_with_replacement_and_num_samples_as_torch():
    for kw in (dict(replacement=True), dict(replacement=True, num_samples=70), dict(num_samples=30)):
        g, tg = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
        ours = list(RandomSampler(range(10), generator=g, **kw))
        assert ours == list(tud.RandomSampler(range(10), generator=tg, **kw))
        assert len(RandomSampler(range(10), **kw)) == len(ours)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(10), num_samples=0)
    g, tg = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    assert list(SubsetRandomSampler([5, 6, 9], g)) == list(tud.SubsetRandomSampler([5, 6, 9], tg))


@pytest.mark.parametrize("lengths", [[3, 7], [0.5, 0.5], [0.3, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [10]])
def test_random_split_matches_torch(lengths):
    ds = list(range(10, 20))
    ours = random_split(ds, lengths, generator=torch.Generator().manual_seed(1))
    theirs = tud.random_split(ds, lengths, generator=torch.Generator().manual_seed(1))
    assert [s.indices for s in ours] == [s.indices for s in theirs]
    assert [[s[i] for i in range(len(s))] for s in ours] == [[s[i] for i in range(len(s))] for s in theirs]
    parts = random_split(ds, lengths, generator=0)  # a NumPy seed: the same sizes, a reproducible order
    assert [len(p) for p in parts] == [len(s) for s in theirs]
    assert [p.indices for p in parts] == [p.indices for p in random_split(ds, lengths, generator=0)]
    assert sorted(i for p in parts for i in p.indices) == list(range(10))


def test_random_split_errors_and_empty_split_warning():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        tud.random_split(range(10), [3, 3])
    with pytest.warns(UserWarning) as record:
        random_split(range(2), [0.9, 0.05, 0.05], generator=0)
    assert [str(w.message)[:29] for w in record] == [f"Length of split at index {i} is" for i in (1, 2)]


def test_subset_concat_and_dataset_add():
    a, b = _Map(lambda i: i, 3), _Map(lambda i: 10 + i, 4)
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7 and both.cumulative_sizes == [3, 7]
    assert [both[i] for i in range(7)] == [0, 1, 2, 10, 11, 12, 13] and both[-1] == 13 and both[-7] == 0
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        both[-8]
    with pytest.raises(IndexError, match="out of range"):
        both[7]
    with pytest.raises(ValueError, match="empty iterable"):
        ConcatDataset([])
    sub = Subset(both, [6, 0, 3])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [13, 0, 10]
    assert _plain(next(iter(DataLoader(sub, batch_size=3)))) == ("tensor", "int64", [13, 0, 10])
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_samplers_batch_samplers_and_collate_fn():
    ds = TensorDataset(np.arange(6) * 10)
    loader = DataLoader(ds, batch_size=2, sampler=[5, 0, 3])
    assert [b[0].tolist() for b in loader] == [[50, 0], [30]] and len(loader) == 2
    loader = DataLoader(ds, batch_sampler=[[1, 2, 3], [0]])
    assert [b[0].tolist() for b in loader] == [[10, 20, 30], [0]]
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=True)) == [[0, 1], [2, 3]]
    loader = DataLoader(ds, batch_size=4, collate_fn=lambda samples: len(samples))
    assert list(loader) == [4, 2]
    assert DataLoader(ds, pin_memory=True, num_workers=0).pin_memory
    assert [x.tolist() for (x,) in DataLoader(ds, batch_size=None)][:2] == [0, 10]
    assert _plain(default_convert((np.ones(2), 3))) == ("list", [("tensor", "float64", [1.0, 1.0]), 3])
    assert _plain(default_collate([{"a": 1}, {"a": 2}])) == {"a": ("tensor", "int64", [1, 2])}


@pytest.mark.parametrize("kw,error,match", [
    (dict(num_workers=2), ValueError, "num_workers=2 is not supported"),
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative"),
    (dict(batch_size=2.5), ValueError, "batch_size should be a positive integer value"),
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value"),
    (dict(batch_size=-3), ValueError, "batch_size should be a positive integer value"),
    (dict(batch_size="4"), ValueError, "batch_size should be a positive integer value"),
    (dict(batch_size=None, drop_last=True), ValueError, "mutually exclusive with drop_last"),
    (dict(sampler=[0, 1], shuffle=True), ValueError, "mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually exclusive"),
    (dict(drop_last="yes"), ValueError, "drop_last should be a boolean"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers > 0"),
])
def test_loader_argument_errors(kw, error, match):
    """The same error as torch for each bad argument (but workers, which chainrule does not have)."""
    with pytest.raises(error, match=match):
        DataLoader(TensorDataset(np.arange(4)), **kw)
    if "num_workers=2" not in match:  # torch raises the same (it has workers)
        with pytest.raises(error):
            tud.DataLoader(tud.TensorDataset(torch.arange(4)), **kw)


def test_a_positional_drop_last_of_the_old_signature_is_a_clear_error():
    with pytest.raises(TypeError, match="pass drop_last= by keyword"):
        DataLoader(TensorDataset(np.arange(4)), 2, False, True)


@pytest.mark.parametrize("bad,match", [
    ([np.array(["a", "b"])], "default_collate: batch must contain"),
    ([object()], "default_collate: batch must contain"),
])
def test_collate_refuses_what_torch_refuses(bad, match):
    with pytest.raises(TypeError, match=match):
        default_collate(bad * 2)
    with pytest.raises(TypeError, match=match):
        tud.default_collate(bad * 2)


def test_collate_unequal_sizes_raise_runtime_error():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([np.ones(2), np.ones(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([(1, 2), (1,)])
