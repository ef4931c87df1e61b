"""State dicts: torch's key names, loading a torch model's state_dict directly, every bad state dict's
error; nn.save / nn.load round trips and every bad file's ValueError."""
import zipfile

import numpy as np
import pytest
import torch

import nn
from autograd import Tensor


def _pair():
    def make(m):
        return m.Sequential(m.Conv2d(1, 2, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Flatten(),
                            m.Linear(8, 6), m.BatchNorm1d(6), m.Tanh(), m.LayerNorm(6), m.Dropout(0.1),
                            m.Sequential(m.Linear(6, 3), m.Linear(3, 2, bias=False)))
    return make(nn), make(torch.nn)


class Tower(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.emb = m.Embedding(5, 4)
        self.blocks = m.ModuleList([m.Linear(4, 4), m.BatchNorm1d(4)])

    def forward(self, idx):
        h = self.emb(idx)
        for b in self.blocks:
            h = b(h)
        return h


class TorchTower(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.emb = m.Embedding(5, 4)
        self.blocks = m.ModuleList([m.Linear(4, 4), m.BatchNorm1d(4)])


def test_keys_shapes_and_dtypes_equal_torch():
    ours, theirs = _pair()
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        assert isinstance(sd[k], np.ndarray) and sd[k].shape == tuple(tsd[k].shape), k
        assert sd[k].dtype == tsd[k].numpy().dtype, k
    assert list(Tower(nn).state_dict()) == list(TorchTower(torch.nn).state_dict())


def test_non_persistent_buffers_are_not_saved():
    class WithBuffers(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("kept", np.ones(2))
            self.register_buffer("scratch", np.zeros(3), persistent=False)

    m = WithBuffers()
    assert list(m.state_dict()) == ["kept"] and len(list(m.buffers())) == 2
    m.load_state_dict({"kept": np.full(2, 5.0)})
    assert np.all(m.kept.detach().numpy() == 5.0)


def test_state_dict_values_are_copies():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    sd["weight"][...] = 42.0
    assert not np.any(lin.weight.detach().numpy() == 42.0)


def test_load_torch_state_dict_directly_and_outputs_agree():
    ours, theirs = _pair()
    x = np.random.default_rng(0).standard_normal((4, 1, 4, 4)).astype(np.float32)
    theirs.train()
    theirs(torch.tensor(x))  # move the BatchNorm running statistics away from their defaults
    theirs.eval()
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    assert ours[5].num_batches_tracked.detach().numpy() == 1
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # and back: torch loads ours (arrays as tensors)
    _, fresh = _pair()
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    fresh.eval()
    np.testing.assert_allclose(fresh(torch.tensor(x)).detach().numpy(), ours(Tensor(x)).data, rtol=1e-5,
                               atol=1e-6)


def test_loading_keeps_parameter_dtype_and_identity():
    lin = nn.Linear(2, 2)
    w = lin.weight
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": [1, 2]})  # float64 and a list
    assert lin.weight is w and w.dtype == np.float32
    np.testing.assert_array_equal(lin.bias.detach().numpy(), [1, 2])


def test_bad_state_dicts():
    lin = nn.Sequential(nn.Linear(2, 3))
    good = lin.state_dict()
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.bias"'):
        lin.load_state_dict({"0.weight": good["0.weight"]})
    with pytest.raises(ValueError, match=r'Unexpected key\(s\) in state_dict: "0.scale", "extra"'):
        lin.load_state_dict({**good, "0.scale": np.ones(1), "extra": np.ones(1)})
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: copying a param with shape \(2, 3\) "
                                           r"from checkpoint, the shape in current model is \(3, 2\)"):
        lin.load_state_dict({**good, "0.weight": np.ones((2, 3))})
    with pytest.raises(nn.StateDictError) as info:  # every problem in one message
        lin.load_state_dict({"0.weight": np.ones((2, 3)), "junk": 1})
    assert all(s in str(info.value) for s in ("Missing", "Unexpected", "size mismatch"))
    with pytest.raises(TypeError, match="mapping"):
        lin.load_state_dict([1, 2])
    before = lin.state_dict()
    with pytest.raises(RuntimeError):
        lin.load_state_dict({"0.weight": np.zeros((3, 2)), "0.bias": np.zeros(4)})
    np.testing.assert_array_equal(lin.state_dict()["0.weight"], before["0.weight"])  # nothing half-loaded
    result = lin.load_state_dict({"0.weight": np.zeros((3, 2)), "other": 1}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["other"]
    assert np.all(lin[0].weight.detach().numpy() == 0)
    with pytest.raises(RuntimeError, match="size mismatch"):
        lin.load_state_dict({"0.weight": np.zeros((1, 1))}, strict=False)


def test_save_load_round_trip(tmp_path):
    ours, _ = _pair()
    path = tmp_path / "model.chk"
    nn.save(ours, path)
    assert path.exists()  # the exact path, no extension added
    loaded = nn.load(path)
    assert list(loaded) == list(ours.state_dict())
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(loaded[k], v)
        assert loaded[k].dtype == v.dtype
    other, _ = _pair()
    other.load_state_dict(nn.load(path))
    nn.save({"a": np.arange(3), "b": Tensor(np.ones(2)), "c": torch.ones(1)}, tmp_path / "d.npz")
    d = nn.load(str(tmp_path / "d.npz"))
    assert list(d) == ["a", "b", "c"] and d["a"].dtype == np.int64


def _saved(tmp_path):
    path = tmp_path / "ok.npz"
    nn.save(nn.Linear(30, 20), path)
    return path, path.read_bytes()


@pytest.mark.parametrize("make,match", [
    (lambda p, raw: p.write_bytes(raw[: len(raw) // 2]), "damaged or truncated"),
    (lambda p, raw: p.write_bytes(raw[:-30]), "damaged or truncated"),
    (lambda p, raw: p.write_bytes(b"\x00garbage bytes" * 50), "not a zip/.npz archive"),
    (lambda p, raw: p.write_bytes(b""), "not a zip/.npz archive"),
    (lambda p, raw: np.save(p.open("wb"), np.ones(3)), "a .npy array"),
    (lambda p, raw: np.savez(p.open("wb"), weight=np.ones(3)), "no '__chainrule__' marker"),
    (lambda p, raw: zipfile.ZipFile(p, "w").writestr("notes.txt", "hello"), "no '__chainrule__' marker"),
    (lambda p, raw: np.savez(p.open("wb"), __chainrule__=np.array(99), w=np.ones(1)), "format version 99"),
    (lambda p, raw: np.savez(p.open("wb"), __chainrule__=np.ones(2)), "malformed '__chainrule__' marker"),
    (lambda p, raw: np.savez(p.open("wb"), __chainrule__=np.array(1), w=np.array([{}], dtype=object)),
     "pickled Python objects"),
], ids=["truncated-half", "truncated-tail", "garbage", "empty", "npy", "foreign-npz", "foreign-zip",
        "newer-version", "bad-marker", "pickled-object"])
def test_bad_files_raise_value_error(tmp_path, make, match):
    _, raw = _saved(tmp_path)
    bad = tmp_path / "bad.npz"
    make(bad, raw)
    with pytest.raises(ValueError, match=match):
        nn.load(bad)


def test_corrupted_member_bytes(tmp_path):
    path, raw = _saved(tmp_path)
    data = bytearray(raw)
    start = raw.index(b"\x93NUMPY") + 200  # inside the first array's data
    data[start:start + 50] = b"\xff" * 50
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged"):
        nn.load(path)


def test_missing_file_and_bad_save_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        nn.load(tmp_path / "nope.npz")
    with pytest.raises(TypeError, match="Module or a mapping"):
        nn.save(3, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="reserved"):
        nn.save({"__chainrule__": np.ones(1)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="only numeric arrays"):
        nn.save({"s": np.array(["text"])}, tmp_path / "x.npz")
