"""``Module`` and ``Parameter``: PyTorch's idiom for models (registration by attribute assignment,
``parameters()``, ``state_dict()`` with torch's key names, ``train()``/``eval()``, forward hooks,
``to(dtype)``) and the containers ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList`` and
``ParameterDict``."""
import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from autograd import Tensor
from autograd.ops import array as _array  # a Tensor's NumPy array, shared
from autograd.ops import as_dtype


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



def reset_grads(params, set_to_none=True):
    """Each ``p.grad`` set to None, or zeroed in place (a fresh zero tensor when it is part of a graph)."""
    if set_to_none:
        for p in params:
            p.grad = None
        return
    for p in params:
        g = p.grad
        if g is None:
            continue
        if g.grad_fn is not None or g.requires_grad:
            p.grad = Tensor(np.zeros(g.shape, dtype=g.dtype))
        else:
            _array(g)[...] = 0

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
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if d["_forward_pre_hooks"] or d["_forward_hooks"]:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # -- hooks ---------------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` runs before ``forward``; a non-``None`` result replaces the positional
        arguments (a tuple, or one value). ``with_kwargs=True``: ``hook(module, args, kwargs)`` returns
        ``None`` or ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
        return _add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args, output)`` runs after ``forward``; a non-``None`` result replaces the
        output. ``with_kwargs=True``: ``hook(module, args, kwargs, output)``. Returns a removable handle."""
        return _add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook, with_kwargs in list(self._forward_pre_hooks.values()):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                           f"new_kwargs), but got {result!r}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook, with_kwargs in list(self._forward_hooks.values()):
            result = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        return output

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
            self._forget(name, keep="_parameters")
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
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

    def _forget(self, name, keep=None):
        """Drop ``name`` from the attributes and registries (but ``keep``'s: a replaced entry keeps its
        place in the order, as torch)."""
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key != keep:
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
        self._forget(name, keep="_parameters")
        self._parameters[name] = self.__dict__[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state that is not trained (not in ``parameters()``) and, when ``persistent``,
        saved in ``state_dict``."""
        self._forget(name, keep="_buffers")
        self._buffers[name] = self.__dict__[name] = None if tensor is None else _as_buffer(tensor)
        (self._non_persistent.discard if persistent else self._non_persistent.add)(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        name = str(name)
        self._forget(name, keep="_modules")
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

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` (``""`` is this module), as torch."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` (``"0.weight"``)."""
        return self._get_member(target, "_parameters", "nn.Parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``)."""
        return self._get_member(target, "_buffers", "buffer")

    def _get_member(self, target, key, kind):
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if name not in mod.__dict__[key]:
            if name in mod.__dict__ or name in mod._modules:
                raise AttributeError(f"`{name}` is not an {kind}")
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        return mod.__dict__[key][name]

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
        """Reset every parameter's ``.grad``: to ``None`` (torch's default) or to zeros in place."""
        reset_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter (``False`` freezes the module: forward passes then
        record nothing for it). Returns ``self``."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- dtype and device ------------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` or keywords ``device=``,
        ``dtype=``: floating parameters and buffers (and their grads) become ``dtype`` in place (the same
        Parameter objects, as torch). The only device is the CPU; CUDA raises ``RuntimeError``."""
        device, dtype = _parse_to(args, kwargs)
        if device is not None:
            _check_device(device)
        if dtype is None:
            return self
        dtype = _as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.dtype.kind == "f" and t.dtype != dtype:
                t.data = _array(t).astype(dtype)
                if t.grad is not None:  # the same grad Tensor, its data converted (as torch)
                    t.grad.data = _array(t.grad).astype(dtype)
        return self

    def cpu(self):
        """The CPU is chainrule's only device: returns ``self``."""
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def half(self):
        return self.to(np.float16)

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
            if value.shape != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                              f"checkpoint, the shape in current model is {tuple(target.shape)}.")
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


class RemovableHandle:
    """Returned by ``register_forward_hook``/``register_forward_pre_hook``: ``remove()`` unregisters the
    hook (also as a context manager: removed on exit)."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self.hooks_dict = hooks
        self.id = next(self._ids)

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks, hook, prepend, with_kwargs):
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = (hook, with_kwargs)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "mtia", "privateuseone")


def _is_device(x):
    """A device: an object with a ``.type`` (``autograd.device``, ``torch.device``) or a device string."""
    if isinstance(x, str):
        return x.split(":")[0] in _DEVICE_TYPES
    return isinstance(getattr(x, "type", None), str) and not isinstance(x, Tensor)


def _parse_to(args, kwargs):
    """``(device, dtype)`` from the argument forms of ``Module.to``."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    if len(args) > 2:
        raise TypeError(f"to() takes at most 2 positional arguments, got {len(args)}")
    for a in args:
        if isinstance(a, Tensor) or (not isinstance(a, type) and hasattr(a, "dtype")
                                     and hasattr(a, "device")):  # a tensor (ours, torch's): its dtype
            dtype = a.dtype
        elif _is_device(a):
            device = a
        else:
            dtype = a
    if dtype is not None and str(dtype).startswith("torch."):  # torch.float64 -> "float64"
        dtype = str(dtype)[len("torch."):]
    return device, dtype


def _as_dtype(dtype):
    """A NumPy dtype from autograd's names, NumPy dtypes or names NumPy knows ("float16", "half")."""
    try:
        return as_dtype(dtype)
    except TypeError:
        return np.dtype(dtype)


def _check_device(device):
    kind = device if isinstance(device, str) else device.type
    if kind.split(":")[0] != "cpu":
        raise RuntimeError(f"device {str(device)!r} is not available: chainrule computes on the CPU with "
                           "NumPy (use nn.to_torch(module) to move a model to PyTorch)")


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


def _pairs(name, items):
    """``(key, value)`` pairs from a mapping or an iterable of pairs (torch's ``update`` rules)."""
    if hasattr(items, "items"):
        return list(items.items())
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"{name}.update should be called with an iterable of key/value pairs, but got "
                        f"{type(items).__name__}") from None
    for j, pair in enumerate(items):
        if not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"{name} update sequence element #{j} should be a (key, value) pair, got "
                             f"{pair!r}")
    return items


class ModuleDict(Module):
    """An ordered dict of modules whose parameters are registered (keys are the state-dict names)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        if key not in self._modules:
            raise KeyError(key)
        self._forget(key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def clear(self):
        for key in list(self._modules):
            self._forget(key)

    def update(self, modules):
        for key, module in _pairs("ModuleDict", modules):
            self[key] = module


def _as_parameter(value):
    """As torch: a plain Tensor stored in a parameter container becomes a ``Parameter``."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


def _parameter_repr(p):
    """torch's line for a container entry: ``Parameter containing: [float64 of size 2x3]``."""
    if not isinstance(p, Tensor):
        return f"Object of type: {type(p).__name__}"
    size = "x".join(str(n) for n in p.shape)
    return f"{'Parameter' if isinstance(p, Parameter) else 'Tensor'} containing: [{p.dtype} of size {size}]"


class ParameterList(Module):
    """A list of parameters registered under ``"0"``, ``"1"``...; Tensors appended become Parameters."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _index(self, idx):
        idx = int(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range for a ParameterList of {len(self)}")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(*idx.indices(len(self)))])
        return getattr(self, self._index(idx))

    def __setitem__(self, idx, param):
        setattr(self, self._index(idx), _as_parameter(param))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(f"({i}): {_parameter_repr(p)}" for i, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """An ordered dict of parameters registered under their (string) keys; Tensors become Parameters."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _check_key(key):
        if not isinstance(key, str):
            raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not a string "
                            f"(type is '{type(key).__name__}')")
        return key

    def __getitem__(self, key):
        if self._check_key(key) not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[self._check_key(key)] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[self._check_key(key)]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def clear(self):
        for key in list(self._keys):
            del self[key]

    def update(self, parameters):
        for key, value in _pairs("ParameterDict", parameters):
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({k}): {_parameter_repr(p)}" for k, p in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
