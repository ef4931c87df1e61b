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
        for x, y in batches:
            np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy() * 10.0)  # fields stay aligned
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
    single = list(DataLoader(list(range(5)), batch_size=2))
    np.testing.assert_array_equal(single[0][0].detach().numpy(), [0, 1])


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
