"""dtype names and the conversions of user data to NumPy arrays (one copy of each rule).

Construction policy: Python floats and (nested) lists become ``float32``; NumPy float arrays keep
``float16``/``float32``/``float64``; integer and bool data keep their dtype; complex data is refused.
"""
import numpy as np

from .primitive import TensorBase

_DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
           "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_,
           "float": np.float32, "double": np.float64, "half": np.float16, "long": np.int64}

# torch's names for dtypes, as NumPy types (``autograd.float32``, ``autograd.long``, ``autograd.int``...)
DTYPE_NAMES = {name: np.dtype(t).type for name, t in {**_DTYPES, "int": np.int32}.items()}


def as_dtype(dtype):
    """NumPy dtype for ``dtype`` (a NumPy dtype or one of the strings "float32", "float64", ...)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        dtype = dtype.removeprefix("torch.")
        if dtype not in _DTYPES:
            raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)}")
        return np.dtype(_DTYPES[dtype])
    if dtype is float:
        return np.dtype(np.float32)  # a Python type means torch's default of its kind
    if dtype is int:
        return np.dtype(np.int64)
    if hasattr(dtype, "is_floating_point") and not isinstance(dtype, type):  # a torch dtype
        return as_dtype(str(dtype))
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)}") from None


class device:
    """``autograd.device("cpu")``: chainrule computes on the CPU with NumPy, so that is the one device a
    tensor can be on (a CUDA device can be named, not used)."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        type = str(type)
        if ":" in type:
            type, _, idx = type.partition(":")
            index = int(idx)
        self.type, self.index = type, index

    def __eq__(self, other):
        other = device(other) if isinstance(other, str) else other
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self):
        return self.type + (f":{self.index}" if self.index is not None else "")


CPU = device("cpu")


def check_device(d):
    """The CPU device for ``d`` (None, "cpu", a device), or a clear error for any other device."""
    if d is None:
        return CPU
    d = device(d) if not isinstance(d, device) else d
    if d.type != "cpu":
        raise RuntimeError(f"chainrule computes on the CPU with NumPy: device {str(d)!r} is not available "
                           "(autograd.cuda.is_available() is False); use 'cpu', or carry the model to "
                           "PyTorch with nn.to_torch(model)")
    return CPU


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
    if arr.dtype.kind == "c":
        raise TypeError(f"chainrule tensors are real-valued: complex data ({arr.dtype}) is not supported")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"Tensor data must be numeric, got dtype {arr.dtype} from {type(data).__name__}")
    if arr.dtype.kind == "f" and arr.dtype not in (np.float16, np.float32, np.float64):
        arr = arr.astype(np.float64)  # long double: the widest float torch has
    return arr
