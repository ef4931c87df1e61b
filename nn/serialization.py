"""``nn.save`` / ``nn.load``: state dicts as ``.npz`` files, read back with ``allow_pickle=False``.

A file holds one array per key plus a marker key, ``__chainrule__``, whose value is the format
version; a file without it (some other ``.npz``), a damaged or truncated file, or one from a newer
version raises ``ValueError`` saying which.
"""
import io
import os
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

MARKER = "__chainrule__"
FORMAT_VERSION = 1


def save(obj, path):
    """Write ``obj`` (a ``Module``, whose ``state_dict()`` is saved, or a mapping ``name -> array``)
    to ``path`` exactly (no extension is added)."""
    state = obj.state_dict() if hasattr(obj, "state_dict") and callable(obj.state_dict) else obj
    if not hasattr(state, "items"):
        raise TypeError(f"save: expected a Module or a mapping of names to arrays, got {type(obj).__name__}")
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"save: keys must be strings, got {key!r}")
        if key == MARKER:
            raise ValueError(f"save: the key {MARKER!r} is reserved")
        arr = _as_array(value)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"save: {key!r} has dtype {arr.dtype}; only numeric arrays can be saved")
        arrays[key] = arr
    arrays[MARKER] = np.array(FORMAT_VERSION, dtype=np.int64)
    with open(os.fspath(path), "wb") as f:
        np.savez(f, **arrays)


def _as_array(value):
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        return np.asarray(value.detach().cpu())
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray):  # a chainrule Tensor
        return data
    return np.asarray(value)


def load(path):
    """Read a state dict written by ``save``: an ``OrderedDict`` ``name -> np.ndarray`` in saved order
    (pass it to ``model.load_state_dict``). Raises ``FileNotFoundError`` for a missing file and
    ``ValueError`` for a damaged, truncated or foreign one."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(b"PK"):
        kind = "a .npy array" if raw.startswith(b"\x93NUMPY") else "not a zip/.npz archive"
        raise ValueError(f"load: {path} is not a chainrule state-dict file ({kind}; empty or damaged?)")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            keys = list(npz.files)
            if MARKER not in keys:
                raise ValueError(f"load: {path} is an .npz file but not one written by nn.save (no "
                                 f"{MARKER!r} marker key)")
            state = OrderedDict((k, npz[k]) for k in keys if k != MARKER)
            marker = npz[MARKER]
    except ValueError as e:
        if str(e).startswith("load:"):
            raise
        if "allow_pickle" in str(e):
            raise ValueError(f"load: {path} holds pickled Python objects, which are never loaded "
                             "(allow_pickle=False); it was not written by nn.save") from None
        raise ValueError(f"load: {path} is damaged: {e}") from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise ValueError(f"load: {path} is damaged or truncated ({type(e).__name__}: {e})") from None
    if marker.shape != () or marker.dtype.kind not in "iu":
        raise ValueError(f"load: {path} has a malformed {MARKER!r} marker")
    version = int(marker)
    if version > FORMAT_VERSION:
        raise ValueError(f"load: {path} uses format version {version}, newer than this chainrule's "
                         f"{FORMAT_VERSION}; upgrade chainrule")
    return state


__all__ = ["save", "load"]
