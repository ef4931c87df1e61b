"""Hostile files for ``nn.load``, made at test time (never committed): bombs, lying headers, pickles.

Each ``make_*`` function writes one file (or special file) under a directory and returns its path.
The zips are built byte by byte by ``zip_bytes`` so that sizes, methods and CRCs can lie.
"""
import bz2
import io
import os
import struct
import zlib

import numpy as np

MIB = 1 << 20


def zip_bytes(members, zip64=False):
    """A zip archive of ``members``: ``(name, payload, method, crc, declared_size)`` each, ``payload``
    already compressed. ``zip64`` writes the sizes in zip64 extra fields (needed past 4 GiB)."""
    out, central = io.BytesIO(), []
    for name, payload, method, crc, size in members:
        name = name.encode()
        offset = out.tell()
        extra = struct.pack("<HHQQ", 1, 16, size, len(payload)) if zip64 else b""
        small = (0xFFFFFFFF, 0xFFFFFFFF) if zip64 else (len(payload), size)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 45, 0, method, 0, 0x21, crc, *small,
                              len(name), len(extra)) + name + extra + payload)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 45, 45, 0, method, 0, 0x21, crc, *small,
                                   len(name), len(extra), 0, 0, 0, 0, offset) + name + extra)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    return out.getvalue()


def npy_bytes(arr):
    """``arr`` as the bytes of a ``.npy`` file (pickled if it holds objects)."""
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def stored(name, data):
    """A truthful stored member."""
    return name, data, 0, zlib.crc32(data), len(data)


MARKER_V1 = stored("__chainrule__.npy", npy_bytes(np.array(1, dtype=np.int64)))


def deflate_zeros(n_mib):
    """A raw deflate stream of ``n_mib`` MiB of zeros (~1 KB per MiB, made in microseconds): a 1 MiB
    piece after a full flush is the same bytes every time, so the stream is that piece repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = c.compress(bytes(MIB)) + c.flush(zlib.Z_FULL_FLUSH)
    return piece * n_mib + c.flush()


def bzip2_zeros(n_blocks):
    """A bzip2 stream of ``n_blocks`` identical blocks of zeros and its decompressed size. One block
    holds ~45 MB of zeros in 32 bytes; the blocks are byte-aligned, so the stream is one block repeated
    with the end-of-stream CRC recombined (bzip2's rule: rotate left by one, xor the block's CRC)."""
    sample = bz2.compress(bytes(160 * MIB), 9)
    eos = bytes.fromhex("177245385090")
    start, size = 4, 32
    block = sample[start + size:start + 2 * size]  # the second block: same bytes as the ones after it
    assert block[:6] == bytes.fromhex("314159265359") and sample[start + 2 * size:][:6] == block[:6]
    block_crc = int.from_bytes(block[6:10], "big")

    def stream(n):
        combined = 0
        for _ in range(n):
            combined = (((combined << 1) | (combined >> 31)) & 0xFFFFFFFF) ^ block_crc
        return b"BZh9" + block * n + eos + combined.to_bytes(4, "big")

    per_block = len(bz2.decompress(stream(1)))
    return stream(n_blocks), per_block * n_blocks


def write(directory, name, data):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


class MarkerMaker:
    """Unpickling this creates the file ``path``: the proof that a loader executed pickled code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, "w")


def pickle_payloads(directory, marker):
    """Files whose loading with pickle enabled would create ``marker``: ``{case: path}``."""
    arr = np.empty(1, dtype=object)
    arr[0] = MarkerMaker(marker)
    evil = npy_bytes(arr)
    raw_pickle = evil[evil.index(b"\n") + 1:]  # the pickle stream after the npy header
    return {
        "object-member": write(directory, "obj.npz", zip_bytes([MARKER_V1, stored("w.npy", evil)])),
        "object-marker": write(directory, "objm.npz", zip_bytes([stored("__chainrule__.npy", evil)])),
        "raw-pickle-member": write(directory, "rawm.npz",
                                   zip_bytes([MARKER_V1, stored("w.npy", raw_pickle)])),
        "raw-pickle-file": write(directory, "raw.npz", raw_pickle),
        "npy-file": write(directory, "evil.npy", evil),
        "torch-style": write(directory, "model.pt", zip_bytes([stored("archive/data.pkl", raw_pickle),
                                                                MARKER_V1])),
    }
