"""``nn.load`` against hostile files made at test time: zip and bzip2 bombs, lying headers, special
files, non-numeric dtypes, pickles that would leave a marker file, every byte flip and truncation.

Every load runs in a subprocess capped by ``RLIMIT_AS`` (``capped_load.py``), so a loader that
inflates a bomb fails the test with ``MemoryError`` instead of exhausting the machine.
"""
import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nn
from hostile_files import (MARKER_V1, bzip2_zeros, deflate_zeros, npy_bytes, pickle_payloads, stored, write,
                           zip_bytes)

CAP_MIB = 1024  # the bombs below inflate to 6 GiB or more
RUNNER = os.path.join(os.path.dirname(__file__), "capped_load.py")
GIB = 1 << 30


def run_capped(job, timeout=120):
    """The runner's JSON answer for ``job``; a hang is a ``TimeoutExpired``, a crash a failed assert."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, RUNNER, str(CAP_MIB), json.dumps(job)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def npy_header(descr, shape):
    """An ``.npy`` version 1.0 header declaring ``descr`` and ``shape`` (nothing checks it is true)."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape})
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


@functools.lru_cache(maxsize=None)
def bombs():
    """bzip2: 4.5 KB inflating to 6.3 GB (and that size); deflate: 6 MB to 6 GiB, 100 KB to 100 MiB."""
    bz, bz_size = bzip2_zeros(140)
    return bz, bz_size, deflate_zeros(6 * 1024), deflate_zeros(100)


def stored_file(name, data):
    """A case: a file with the version-1 marker and one stored member ``w.npy`` holding ``data``."""
    return lambda tmp: write(tmp, name, zip_bytes([MARKER_V1, stored("w.npy", data)]))


def structure_file(name, structure):
    """A case: a version-2 file with only the given ``__structure__.json`` bytes."""
    marker = stored("__chainrule__.npy", npy_bytes(np.array(2)))
    return lambda tmp: write(tmp, name, zip_bytes([marker, stored("__structure__.json", structure)]))


def bomb_file(name, which, method, declared, zip64=False):
    """A case: the marker and a member ``w.npy`` holding ``bombs()[which]``, declaring ``declared``
    bytes (``None``: its true size)."""
    def make(tmp):
        size = bombs()[which + 1] if declared is None else declared
        member = ("w.npy", bombs()[which], method, 0, size)
        return write(tmp, name, zip_bytes([MARKER_V1, member], zip64=zip64))
    return make


def raw_file(name, data):
    return lambda tmp: write(tmp, name, data)


def special(kind):
    """A case: a symlink to /dev/zero, a FIFO or the directory itself."""
    def make(tmp):
        path = os.path.join(tmp, kind)
        if kind == "zero":
            os.symlink("/dev/zero", path)
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            return tmp
        return path
    return make


def encrypted(tmp):
    """The marker-only file with the central directory's "encrypted" flag set."""
    raw = zip_bytes([MARKER_V1])
    at = raw.index(b"PK\x01\x02") + 8
    return write(tmp, "enc.npz", raw[:at] + b"\x01" + raw[at + 1:])


OVER, PAST = "over the limit of max_bytes", "inflates past its declared"
ONLY_NUMERIC = "reads only bool, integer and float arrays"
DTYPES = ["complex128", "<U4", "S3", [("a", "<f8"), ("b", "<i4")], "datetime64[s]", "V8", "O"]
CASES = {  # name: (make(tmp) -> path, nn.load kwargs, what the ValueError's message must contain)
    "bzip2-bomb-honest": (bomb_file("bz.npz", 0, 12, None, zip64=True), {}, OVER),
    "bzip2-bomb-lying": (bomb_file("bzl.npz", 0, 12, 1000), {}, PAST),
    "deflate-bomb-honest": (bomb_file("df.npz", 2, 8, 6 * GIB, zip64=True), {}, OVER),
    "deflate-bomb-lying": (bomb_file("dfl.npz", 2, 8, 4096), {}, PAST),
    "deflate-bomb-over-max_bytes": (bomb_file("dfm.npz", 3, 8, 100 << 20), {"max_bytes": 10 << 20}, OVER),
    "many-members": (lambda tmp: write(tmp, "many.npz", zip_bytes(
        [MARKER_V1] + [(f"m{i}.npy", bombs()[3], 8, 0, 100 << 20) for i in range(64)])), {}, OVER),
    "lying-npy-terabytes": (stored_file("tb.npz", npy_header("<f8", (1 << 40,)) + bytes(16)), {},
                            "declares 8796093022208 bytes"),
    "lying-npy-short": (stored_file("short.npz", npy_header("<f8", (1,)) + bytes(16)), {},
                        "declares 8 bytes"),
    "negative-shape": (stored_file("neg.npz", npy_header("<f8", (-1,))), {}, "shape (-1,)"),
    "file-over-max_bytes": (stored_file("big.npz", npy_bytes(np.zeros(1000))), {"max_bytes": 1000}, OVER),
    "two-bytes-PK": (raw_file("pk.npz", b"PK"), {}, "damaged or truncated"),
    "bad-crc": (lambda tmp: write(tmp, "crc.npz", zip_bytes(
        [MARKER_V1, ("w.npy", npy_bytes(np.ones(3)), 0, 1234, 152)])), {}, "CRC"),
    "encrypted": (encrypted, {}, "encrypted"),
    "lzma-member": (lambda tmp: write(tmp, "lz.npz", zip_bytes([MARKER_V1, ("w.npy", b"xx", 14, 0, 2)])),
                    {}, "compression method 14"),
    "deep-json": (structure_file("deep.npz", b"[" * 100000), {}, "not valid JSON"),
    "deep-structure": (structure_file("deeps.npz", b'{"list":[' * 200 + b'{"none":null}' + b"]}" * 200),
                       {}, "malformed"),
    "json-names-missing-array": (structure_file("miss.npz", b'{"dict":[["w",{"array":"7"}]]}'), {},
                                 "malformed"),
    "json-float-not-a-float": (structure_file("flt.npz", b'{"float":"one"}'), {}, "is not a float"),
    "dev-zero-symlink": (special("zero"), {}, "not a regular file (it is a character device)"),
    "fifo": (special("fifo"), {}, "not a regular file (it is a FIFO)"),
    "directory": (special("dir"), {}, "not a regular file (it is a directory)"),
    **{f"dtype-{np.dtype(dtype)}": (stored_file(f"dtype{i}.npz", npy_bytes(np.zeros(2, dtype=dtype))), {},
                                    ONLY_NUMERIC) for i, dtype in enumerate(DTYPES)},
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """``{case: (path, what the capped loader made of it)}`` for every case, in one subprocess."""
    tmp = str(tmp_path_factory.mktemp("hostile"))
    paths = {name: make(tmp) for name, (make, _, _) in CASES.items()}
    outcomes = run_capped({"load": [[paths[name], kwargs] for name, (_, kwargs, _) in CASES.items()]})
    return {name: (paths[name], got) for name, got in zip(CASES, outcomes)}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_file_is_refused_with_a_value_error(hostile, name):
    path, got = hostile[name]
    assert got["outcome"] == "ValueError", got
    assert CASES[name][2] in got["message"] and path in got["message"], got["message"]


def test_the_bombs_really_inflate():
    bz, bz_size, deflated, _ = bombs()
    assert len(bz) < 5000 and bz_size > 6e9 and len(deflated) < 7e6
    import bz2
    import zlib
    assert bz2.BZ2Decompressor().decompress(bz, 1 << 20) == bytes(1 << 20)
    assert zlib.decompressobj(-15).decompress(deflated, 1 << 20) == bytes(1 << 20)


def test_symlink_to_a_regular_file_loads(tmp_path):
    target = tmp_path / "model.npz"
    nn.save(nn.Linear(2, 2), target)
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    assert list(nn.load(link)) == ["weight", "bias"]


def test_pickle_payloads_never_run(tmp_path):
    marker = str(tmp_path / "PWNED")
    cases = pickle_payloads(str(tmp_path), marker)
    with open(cases["npy-file"], "rb") as f:  # the payload is live: np.load with pickles creates it
        np.load(f, allow_pickle=True)
    assert os.path.exists(marker)
    os.remove(marker)
    outcomes = run_capped({"load": [[path, {}] for path in cases.values()]})
    for case, got in zip(cases, outcomes):
        assert got["outcome"] == "ValueError", (case, got)
    assert not os.path.exists(marker)
    assert "pickled Python objects" in outcomes[0]["message"]


def _small_checkpoint():
    model = nn.Linear(2, 1)
    opt = nn.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    opt.state = {p: {"momentum_buffer": np.ones(p.shape)} for p in model.parameters()}
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": 0.25}


@pytest.mark.parametrize("obj", [nn.Linear(2, 2), _small_checkpoint()], ids=["state-dict", "checkpoint"])
def test_every_byte_flip_and_truncation_loads_identically_or_raises_value_error(tmp_path, obj):
    path = str(tmp_path / "small.npz")
    nn.save(obj, path)
    result = run_capped({"mutate": path})
    assert result["checked"] == 2 * os.path.getsize(path) > 0
    assert result["bad"] == []
