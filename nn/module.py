"""``Module`` and ``Parameter``: PyTorch's idiom for models (registration by attribute assignment,
``parameters()``, ``state_dict()`` with torch's key names, ``train()``/``eval()``) and the containers
``Sequential`` and ``ModuleList``."""
from collections import OrderedDict, namedtuple

import numpy as np

from autograd import Tensor
from autograd.ops import array as _array
from autograd.tensor import as_dtype


class Parameter(Tensor):
    """A leaf ``Tensor`` with ``requires_grad=True`` that a ``Module`` registers when assigned to it.

    ``Parameter(data, requires_grad=True)``: ``data`` is copied (a ``Tensor``, an array or a list;
    lists and Python floats become ``float32``, NumPy float arrays keep their dtype).
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.zeros((0,), dtype=np.float32)
        super().__init__(_array(data) if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class StateDictError(RuntimeError, ValueError):
    """``load_state_dict`` got missing/unexpected keys or wrong shapes (a ``RuntimeError`` as in torch,
    and a ``ValueError``)."""


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _to_numpy(value):
    """An array from a NumPy array, a chainrule ``Tensor``, a torch tensor or anything array-like."""
    if isinstance(value, Tensor):
        return _array(value)
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        return np.asarray(value.detach().cpu())
    return np.asarray(value)


class Module:
    """Base class of layers and models: subclasses set attributes in ``__init__`` (after calling
    ``super().__init__()``) and define ``forward``; ``model(x)`` calls ``forward(x)``.

    Assigning a ``Parameter`` or a ``Module`` to an attribute registers it; ``register_buffer`` adds
    state that is saved in ``state_dict`` but not trained (BatchNorm's running statistics).
    """

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_modules"] = OrderedDict()
        d["_non_persistent"] = set()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- registration ----------------------------------------------------------------------------
    # Registered parameters, buffers and modules live in ``_parameters``/``_buffers``/``_modules`` (as
    # torch) and are mirrored in the instance ``__dict__`` so that ``self.weight`` is a plain attribute
    # lookup in ``forward``; every assignment and deletion goes through the methods below.
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"cannot assign attribute {name!r} before Module.__init__() call: "
                                 f"call super().__init__() first in {type(self).__name__}.__init__")
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(nn.Parameter or None expected)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} "
                                "(nn.Module or None expected)")
            modules[name] = None
        elif name in buffers:
            value = buffers[name] = None if value is None else _as_buffer(value)
        d[name] = value

    def _forget(self, name):
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            d[key].pop(name, None)

    def __getattr__(self, name):  # only reached when ``name`` is not in ``__dict__``
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            d[key].pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Add ``param`` (a ``Parameter`` or ``None``) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot register {type(param).__name__} as parameter {name!r} "
                            "(nn.Parameter or None expected)")
        self._forget(name)
        self._parameters[name] = self.__dict__[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is not trained (not in ``parameters()``) and, when ``persistent``,
        saved in ``state_dict``."""
        self._forget(name)
        self._buffers[name] = self.__dict__[name] = None if tensor is None else _as_buffer(tensor)
        (self._non_persistent.discard if persistent else self._non_persistent.add)(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        name = str(name)
        self._forget(name)
        self._modules[name] = self.__dict__[name] = module

    register_module = add_module

    # -- traversal -------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(name, module)`` for this module and every descendant, depth first, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, key, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[key].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(name, Parameter)`` pairs with torch's dotted names (``"0.weight"``); shared ones once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on this module; returns ``self``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- training state ----------------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode here and in every submodule (Dropout, BatchNorm behave differently)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's ``.grad`` (to ``None``, as torch's default)."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = Tensor._wrap(np.zeros_like(_array(p)))

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- dtype ---------------------------------------------------------------------------------------
    def to(self, dtype):
        """Convert floating parameters and buffers (and their grads) to ``dtype`` in place; the device
        ``"cpu"`` (the only one) is accepted and changes nothing."""
        if isinstance(dtype, str) and dtype.split(":")[0] == "cpu":
            return self
        dtype = as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to() only accepts floating dtypes, got {dtype}")
        for t in list(self.parameters()) + list(self.buffers()):
            if _array(t).dtype.kind == "f" and _array(t).dtype != dtype:
                t.data = _array(t).astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor._wrap(_array(t.grad).astype(dtype))
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # -- state dict ----------------------------------------------------------------------------------
    def _state_items(self):
        """``(key, tensor)`` for every parameter and buffer, torch's order and names (duplicates kept)."""
        for prefix, mod in self.named_modules(remove_duplicate=False):
            skip = mod._non_persistent
            for key in ("_parameters", "_buffers"):
                for name, t in mod.__dict__[key].items():
                    if t is not None and not (key == "_buffers" and name in skip):
                        yield (f"{prefix}.{name}" if prefix else name), t

    def state_dict(self):
        """``name -> np.ndarray`` (copies) of every parameter and buffer, with torch's key names."""
        return OrderedDict((k, _array(t).copy()) for k, t in self._state_items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays into the parameters and buffers (each keeps its dtype).

        Values may be NumPy arrays, chainrule Tensors or torch tensors (a torch model's ``state_dict()``
        loads directly). With ``strict=True`` the keys must match exactly; missing and unexpected keys
        and shape mismatches raise ``StateDictError`` (a ``RuntimeError`` and ``ValueError``) naming them
        all. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict expects a mapping of names to arrays, got "
                            f"{type(state_dict).__name__}")
        own = OrderedDict(self._state_items())
        given = OrderedDict((str(k), v) for k, v in state_dict.items())
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        errors, updates = [], []
        for key, target in own.items():
            if key not in given:
                continue
            try:
                value = _to_numpy(given[key])
            except Exception as e:  # noqa: BLE001 - report any unconvertible value by its key
                errors.append(f"could not convert {key!r} ({type(given[key]).__name__}) to an array: {e}")
                continue
            if value.shape != _array(target).shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                              f"checkpoint, the shape in current model is {_array(target).shape}.")
                continue
            if value.dtype.kind not in "fiub":
                errors.append(f"{key}: expected a numeric array, got dtype {value.dtype}")
                continue
            updates.append((target, value))
        if strict:
            if unexpected:
                errors.insert(0, f"Unexpected key(s) in state_dict: {_quoted(unexpected)}.")
            if missing:
                errors.insert(0, f"Missing key(s) in state_dict: {_quoted(missing)}.")
        if errors:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                                 + "\n\t".join(errors))
        for target, value in updates:  # all checked first: a failed load changes nothing
            if _array(target).shape == ():
                target.data = np.array(value, dtype=_array(target).dtype)
            else:
                _array(target)[...] = value
        return IncompatibleKeys(missing, unexpected)

    # -- display ---------------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        head = type(self).__name__ + "("
        if not lines:
            return head + ")"
        if len(lines) == 1 and not self._modules:
            return head + lines[0] + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _quoted(keys):
    return ", ".join(f'"{k}"' for k in keys)


def _as_buffer(value):
    if isinstance(value, Tensor):
        return value
    return Tensor._wrap(np.array(value))


class Sequential(Module):
    """Modules applied in order: ``Sequential(m0, m1, ...)`` or ``Sequential(OrderedDict(...))``;
    children are named ``"0"``, ``"1"``... (or by the dict's keys), as in torch."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(mods[idx]))
        return mods[_check_index(idx, len(mods))][1]

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (names ``"0"``, ``"1"``...)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[_check_index(idx, len(mods))]

    def __setitem__(self, idx, module):
        self.add_module(str(_check_index(idx, len(self))), module)

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        mods.insert(index, module)
        for name in list(self._modules):
            self._forget(name)
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList is a container: iterate over it in your forward()")


def _check_index(idx, n):
    idx = int(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range for a container of {n} modules")
    return idx % n
