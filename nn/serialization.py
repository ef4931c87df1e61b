"""``nn.save`` / ``nn.load``: state dicts and checkpoints as ``.npz`` files; nothing is ever unpickled.

A file is a zip of ``.npy`` members plus a marker member, ``__chainrule__``, whose value is the format
version:

- version 1, a state dict (``name -> array``): one member per key, in order; ``np.load`` reads it too.
- version 2, a checkpoint (nested dicts, lists and tuples of arrays, ``int``/``float``/``bool``/``None``
  and ``str``, e.g. ``{"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``): the
  arrays as members ``0.npy``, ``1.npy``... and the structure as a JSON member, ``__structure__.json``,
  that names them. Numbers come back with their exact Python type and value (floats through ``repr``).

``load`` reads only regular files, checks every member's declared and actual size against
``max_bytes`` before and while it decompresses, parses each ``.npy`` header itself and accepts only
bool, integer and float arrays; every other file raises one ``ValueError`` naming the file and why.
"""
import bz2
import json
import math
import os
import stat
import struct
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

MARKER = "__chainrule__"
STRUCTURE = "__structure__.json"
FORMAT_VERSION = 2  # the newest version this code reads; plain state dicts are still written as 1
MAX_BYTES = 4 << 30  # 4 GiB
MAX_DEPTH = 64  # nesting of a checkpoint's structure
_CHUNK = 1 << 16
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_LOADABLE_KINDS = "biuf"  # bool, int, uint, float: never object, string, structured or complex


class _Bad(Exception):
    """A reason a file is refused; ``load`` turns it into one ``ValueError`` naming the file."""


# -- save -------------------------------------------------------------------------------------------
def save(obj, path):
    """Write ``obj`` to ``path`` exactly (no extension is added): a ``Module`` (its ``state_dict()``),
    a state dict ``name -> array``, or a checkpoint dict of state dicts, numbers, strings and lists."""
    state = obj.state_dict() if hasattr(obj, "state_dict") and callable(obj.state_dict) else obj
    if not hasattr(state, "items"):
        raise TypeError(f"save: expected a Module or a mapping of names to arrays, got {type(obj).__name__}")
    if MARKER in state:
        raise ValueError(f"save: the key {MARKER!r} is reserved")
    if all(isinstance(k, str) and _is_array(v) for k, v in state.items()):
        members = {k: _numeric(v, k) for k, v in state.items()}
        version, structure = 1, None
    else:
        members = {}
        structure = _encode(state, members, "")
        version = 2
    with open(os.fspath(path), "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        for name, arr in members.items():
            _write_npy(zf, name, arr)
        _write_npy(zf, MARKER, np.array(version, dtype=np.int64))
        if structure is not None:
            zf.writestr(STRUCTURE, json.dumps(structure, separators=(",", ":")))


def _write_npy(zf, name, arr):
    with zf.open(name + ".npy", "w", force_zip64=True) as fh:
        np.lib.format.write_array(fh, arr, allow_pickle=False)


def _is_array(value):
    return isinstance(value, np.ndarray) or hasattr(value, "detach")  # NumPy, chainrule or torch


def _numeric(value, where):
    """``value`` (a NumPy array or scalar, a chainrule or torch tensor) as a NumPy array."""
    arr = np.asarray(value.detach().numpy() if hasattr(value, "detach") else value)
    if arr.dtype.kind not in _LOADABLE_KINDS:
        raise TypeError(f"save: {where!r} has dtype {arr.dtype}; only numeric arrays can be saved")
    return arr


def _encode(value, members, where):
    """The JSON node for ``value``; arrays go into ``members`` under the next free index."""
    kind = type(value)
    if value is None:
        return {"none": None}
    if kind is bool or kind is int or kind is str:
        return {kind.__name__: value}
    if kind is float:
        return {"float": repr(value)}  # repr round-trips every float, nan, inf and -0.0 included
    if isinstance(value, np.generic) or _is_array(value):
        name = str(len(members))
        members[name] = _numeric(value, where)
        return {"scalar" if isinstance(value, np.generic) else "array": name}
    if kind is list or kind is tuple:
        return {kind.__name__: [_encode(v, members, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if type(k) is not str and type(k) is not int:
                raise TypeError(f"save: dict keys must be str or int, got {k!r} at {where or 'the top'}")
            items.append([k, _encode(v, members, f"{where}[{k!r}]")])
        return {"dict": items}
    raise TypeError(f"save: cannot save {kind.__name__} at {where or 'the top'}: a checkpoint holds dicts, "
                    "lists, tuples, arrays, int, float, bool, None and str")


# -- load -------------------------------------------------------------------------------------------
def load(path, max_bytes=MAX_BYTES):
    """Read a file written by ``save``: a state dict as an ``OrderedDict`` ``name -> np.ndarray`` in
    saved order (pass it to ``model.load_state_dict``), or the checkpoint that was saved.

    ``max_bytes`` bounds the file and the total size of its arrays once decompressed. Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` for anything else it will not read:
    not a regular file, damaged, truncated, foreign, oversized, or holding non-numeric arrays."""
    path = os.fspath(path)
    try:
        with _open_regular(path, max_bytes) as f:
            return _read(f, max_bytes)
    except _Bad as e:
        raise ValueError(f"load: {path} {e}") from None


def _open_regular(path, max_bytes):
    """A binary file object for ``path``, refused unless it is a regular file of at most ``max_bytes``."""
    try:
        st = os.stat(path)  # follows symlinks: a link to a regular file is fine
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: {path}") from None
    _check_regular(st, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO swapped in: no hang
    except OSError as e:
        raise _Bad(f"cannot be opened ({e.strerror})") from None
    f = os.fdopen(fd, "rb")
    try:
        _check_regular(os.fstat(fd), max_bytes)
    except BaseException:
        f.close()
        raise
    return f


def _check_regular(st, max_bytes):
    if not stat.S_ISREG(st.st_mode):
        raise _Bad(f"is not a regular file (it is {_file_kind(st.st_mode)}); nn.load reads only files "
                   "written by nn.save")
    if st.st_size > max_bytes:
        raise _Bad(f"is {st.st_size} bytes, over the limit of max_bytes={max_bytes}")


def _file_kind(mode):
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


# Every way the standard library reports a malformed zip, zlib or bz2 stream or npy header.
_PARSE_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError,
                 KeyError, IndexError, TypeError, struct.error, NotImplementedError, RuntimeError,
                 OverflowError, SyntaxError)


def _read(f, max_bytes):
    head = f.read(6)
    if not head.startswith(b"PK"):
        kind = "a .npy array" if head.startswith(b"\x93NUMPY") else "not a zip/.npz archive"
        raise _Bad(f"is not a chainrule state-dict file ({kind}; empty or damaged?)")
    try:
        zf = zipfile.ZipFile(f)
    except _PARSE_ERRORS as e:
        raise _Bad(f"is damaged or truncated ({type(e).__name__}: {e})") from None
    with zf:
        infos = _members(zf, max_bytes)
        try:
            arrays = OrderedDict((name, _read_npy(f, info)) for name, info in infos.items()
                                 if name != STRUCTURE)
            structure = _read_member(f, infos[STRUCTURE]) if STRUCTURE in infos else None
        except _PARSE_ERRORS as e:
            raise _Bad(f"is damaged: {type(e).__name__}: {e}") from None
    version = _version(arrays.pop(MARKER))
    if version == 1:
        if structure is not None:
            raise _Bad(f"is damaged: format version 1 with a {STRUCTURE} member")
        return arrays
    if structure is None:
        raise _Bad(f"is damaged: format version 2 without its {STRUCTURE} member")
    return _decode_structure(structure, arrays)


def _members(zf, max_bytes):
    """``name -> ZipInfo`` (``.npy`` dropped from names), checked before anything is decompressed."""
    infos, total = {}, 0
    for info in zf.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if name in infos:
            raise _Bad(f"is damaged: the member {info.filename!r} appears twice")
        if info.flag_bits & 0x1:
            raise _Bad(f"is damaged: the member {info.filename!r} is encrypted")
        total += info.file_size
        if total > max_bytes:
            raise _Bad(f"declares {total} or more bytes of data once decompressed (member "
                       f"{info.filename!r}: {info.file_size}), over the limit of max_bytes={max_bytes}")
        infos[name] = info
    if MARKER not in infos:
        raise _Bad(f"is an .npz file but not one written by nn.save (no {MARKER!r} marker key)")
    strays = [i.filename for n, i in infos.items() if n != STRUCTURE and not i.filename.endswith(".npy")]
    if strays:
        raise _Bad(f"is damaged: its members {strays} are neither arrays nor its {STRUCTURE}")
    return infos


def _read_member(f, info):
    """The member's bytes, inflated in bounded steps: never more than its declared size."""
    decompressor = _decompressor(info)
    out = bytearray()
    for chunk in _raw_chunks(f, info):
        out += decompressor.decompress(chunk, info.file_size + 1 - len(out))
        while len(out) <= info.file_size and not decompressor.eof and not decompressor.needs_input:
            out += decompressor.decompress(b"", info.file_size + 1 - len(out))
        if len(out) > info.file_size:
            raise _Bad(f"is damaged: the member {info.filename!r} inflates past its declared "
                       f"{info.file_size} bytes")
        if decompressor.eof:
            break
    if len(out) != info.file_size or not decompressor.eof:
        raise _Bad(f"is damaged or truncated: the member {info.filename!r} holds {len(out)} of its "
                   f"declared {info.file_size} bytes")
    if zlib.crc32(out) != info.CRC:
        raise _Bad(f"is damaged: the member {info.filename!r} fails its CRC check")
    return out


def _raw_chunks(f, info):
    """The member's compressed bytes, read from its local header on, in chunks."""
    f.seek(info.header_offset)
    header = f.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise _Bad(f"is damaged: bad local header for the member {info.filename!r}")
    fields = _LOCAL_HEADER.unpack(header)
    name = f.read(fields[-2]).decode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if name != info.orig_filename:
        raise _Bad(f"is damaged: the member {info.filename!r} is named {name!r} in its local header")
    f.seek(fields[-1], os.SEEK_CUR)  # the extra field
    left = info.compress_size
    while left > 0:
        chunk = f.read(min(left, _CHUNK))
        if not chunk:
            raise _Bad(f"is truncated inside the member {info.filename!r}")
        left -= len(chunk)
        yield chunk


class _Stored:
    """A decompressor for stored (uncompressed) members, with the interface of ``bz2.BZ2Decompressor``."""

    def __init__(self, size):
        self._left, self._tail = size, b""

    def decompress(self, data, max_length):
        data = self._tail + data
        out, self._tail = data[:max_length], data[max_length:]
        self._left -= len(out)
        return out

    needs_input = property(lambda self: not self._tail)
    eof = property(lambda self: self._left <= 0 and not self._tail)


class _Inflate:
    """Raw deflate with the interface of ``bz2.BZ2Decompressor`` (input beyond ``max_length`` is kept)."""

    def __init__(self):
        self._d, self._tail = zlib.decompressobj(-15), b""

    def decompress(self, data, max_length):
        out = self._d.decompress(self._tail + data, max_length)
        self._tail = self._d.unconsumed_tail
        return out

    needs_input = property(lambda self: not self._tail)
    eof = property(lambda self: self._d.eof)


def _decompressor(info):
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise _Bad(f"is damaged: the stored member {info.filename!r} has two different sizes")
        return _Stored(info.file_size)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return _Inflate()
    if info.compress_type == zipfile.ZIP_BZIP2:
        return bz2.BZ2Decompressor()
    raise _Bad(f"uses compression method {info.compress_type} for the member {info.filename!r}; "
               "nn.load reads stored, deflate and bzip2 members")


def _read_npy(f, info):
    """The array in an ``.npy`` member, its header checked against the member's real size first."""
    buf = memoryview(_read_member(f, info))
    reader = _BytesReader(buf)
    major, _ = np.lib.format.read_magic(reader)
    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(reader)
    where = f"the member {info.filename!r}"
    if dtype.kind not in _LOADABLE_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        pickled = " (pickled Python objects, which are never loaded)" if dtype.hasobject else ""
        raise _Bad(f"holds {where} of dtype {dtype}{pickled}; nn.load reads only bool, integer and "
                   "float arrays")
    if any(n < 0 for n in shape):
        raise _Bad(f"is damaged: {where} declares the shape {shape}")
    need = math.prod(shape) * dtype.itemsize
    if need != len(buf) - reader.pos:
        raise _Bad(f"is damaged: {where} declares {need} bytes of data ({shape} {dtype}) but holds "
                   f"{len(buf) - reader.pos}")
    arr = np.frombuffer(buf, dtype=dtype, offset=reader.pos, count=math.prod(shape))
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


class _BytesReader:
    """Just enough of a file over a buffer for NumPy's header readers (``read``), without copying it."""

    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def read(self, n):
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += len(out)
        return out


def _version(marker):
    if marker.shape != () or marker.dtype.kind not in "iu":
        raise _Bad(f"has a malformed {MARKER!r} marker")
    version = int(marker)
    if version > FORMAT_VERSION:
        raise _Bad(f"uses format version {version}, newer than this chainrule's {FORMAT_VERSION}; "
                   "upgrade chainrule")
    if version < 1:
        raise _Bad(f"has a malformed {MARKER!r} marker (version {version})")
    return version


def _decode_structure(raw, arrays):
    try:
        node = json.loads(bytes(raw).decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise _Bad(f"is damaged: its {STRUCTURE} is not valid JSON ({e})") from None
    used = set()
    value = _decode(node, arrays, used, 0)
    if used != set(arrays):
        raise _Bad(f"is damaged: arrays {sorted(set(arrays) - used)} are not named by its {STRUCTURE}")
    return value


def _decode(node, arrays, used, depth):
    """The value a JSON node of ``_encode`` stands for; anything malformed raises ``_Bad``."""
    if depth > MAX_DEPTH or type(node) is not dict or len(node) != 1:
        raise _Bad(f"is damaged: malformed {STRUCTURE} (at depth {depth}: {str(node)[:60]})")
    (tag, body), = node.items()
    leaf_types = {"none": type(None), "bool": bool, "int": int, "str": str}
    if tag in leaf_types and type(body) is leaf_types[tag]:
        return body
    if tag == "float" and type(body) is str:
        return _float(body)
    if tag in ("array", "scalar") and body in arrays and body not in used:
        used.add(body)
        return arrays[body][()] if tag == "scalar" else arrays[body]
    if tag in ("list", "tuple") and type(body) is list:
        items = [_decode(v, arrays, used, depth + 1) for v in body]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and type(body) is list and all(_is_item(kv) for kv in body):
        return {k: _decode(v, arrays, used, depth + 1) for k, v in body}
    raise _Bad(f"is damaged: malformed {STRUCTURE} (at depth {depth}: {str(node)[:60]})")


def _is_item(kv):
    return type(kv) is list and len(kv) == 2 and type(kv[0]) in (str, int)


def _float(text):
    try:
        return float(text)
    except ValueError:
        raise _Bad(f"is damaged: {text[:40]!r} in its {STRUCTURE} is not a float") from None


__all__ = ["save", "load"]
