"""dtype names and the conversions of user data to NumPy arrays (one copy of each rule).

Construction policy: Python floats and (nested) lists become ``float32``; NumPy float arrays keep
``float32``/``float64``; integer and bool data keep their dtype.
"""
import numpy as np

from .primitive import TensorBase

_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32,
           "bool": np.bool_, "float": np.float32, "double": np.float64, "long": np.int64}


def as_dtype(dtype):
    """NumPy dtype for ``dtype`` (a NumPy dtype or one of the strings "float32", "float64", ...)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)}")
        return np.dtype(_DTYPES[dtype])
    return np.dtype(dtype)


def is_torch_tensor(x):
    """True for a ``torch.Tensor`` (recognised without importing torch)."""
    return hasattr(x, "detach") and hasattr(x, "cpu") and not isinstance(x, TensorBase)


def as_array(x, dtype=None):
    """``x`` (a Tensor, a torch tensor, an array or anything ``np.asarray`` takes) as an ndarray,
    shared where possible."""
    if isinstance(x, TensorBase):
        x = x._data
    elif is_torch_tensor(x):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def to_array(data, dtype=None):
    """A fresh array following the construction policy (the caller's data is never shared)."""
    if isinstance(data, TensorBase):
        data = data._data
    elif is_torch_tensor(data):
        data = data.detach().cpu().numpy()
    if isinstance(data, (np.ndarray, np.generic)):  # NumPy data (np.float64(2.0) too) keeps its dtype
        arr = np.array(data, dtype=dtype, copy=True)
    else:
        try:
            arr = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"cannot make a Tensor from {type(data).__name__}: {e}") from None
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"Tensor data must be numeric, got dtype {arr.dtype} from {type(data).__name__}")
    if arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    return arr
