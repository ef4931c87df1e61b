"""A way up to PyTorch: ``to_torch(module)`` builds the equivalent ``torch.nn`` module with the same
weights, buffers, dtypes, ``requires_grad`` flags and train/eval modes; ``from_torch(torch_module)`` the
reverse. torch is imported only when they are called.

A layer converts when it is registered here (``register(nn.Linear)``: one line per layer): its
constructor arguments are read from the module's attributes of the same names, which chainrule's layers
share with torch's. An argument that one side has and the other lacks must hold torch's default, or the
conversion raises ``TypeError`` naming it. Containers (``Sequential``, ``ModuleList``, ``ModuleDict``,
``ParameterList``, ``ParameterDict``; ``MLP`` becomes a ``Sequential``) convert child by child.
"""
import inspect
from collections import OrderedDict

import numpy as np

from . import layers
from .module import ModuleDict, ModuleList, Parameter, ParameterDict, ParameterList, Sequential

_TO_TORCH = {}  # chainrule layer class -> torch.nn class name
_FROM_TORCH = {}  # torch.nn class name -> chainrule layer class


def register(cls, torch_name=None):
    """Make the chainrule layer ``cls`` convert to and from ``torch.nn.<torch_name>`` (its own name by
    default)."""
    name = torch_name or cls.__name__
    _TO_TORCH[cls] = name
    _FROM_TORCH.setdefault(name, cls)
    return cls


# every layer of nn.layers (its torch twin has the same name and argument names)
for _cls in list(vars(layers).values()):
    if isinstance(_cls, type) and issubclass(_cls, layers.Module) and _cls.__module__ == layers.__name__ \
            and not _cls.__name__.startswith("_") and _cls is not layers.MLP:
        register(_cls)


# -- constructor arguments -------------------------------------------------------------------------------
_SKIP = {"self", "device", "dtype"}
_MISSING = object()


def _arguments(cls):
    """``name -> default`` of the constructor arguments that configure a layer."""
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.name not in _SKIP and not p.name.startswith("_")
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _value(module, name, default):
    """The module's setting for constructor argument ``name`` (a ``bias=True`` flag from the presence of
    its ``bias`` parameter)."""
    value = getattr(module, name, _MISSING)
    if isinstance(default, bool) and (value is None or _is_tensor(value)):
        return value is not None
    return value


def _is_tensor(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (bool, int, float))


def _same(value, default):
    """``value`` is the default (``(1, 1)`` counts as ``1``, as torch normalises tuples)."""
    if isinstance(value, (tuple, list)) and not isinstance(default, (tuple, list)):
        return all(v == default for v in value)
    return value == default


def _build(src, dst_cls, src_name, dst_name):
    """``dst_cls(**args)`` with the arguments of ``src`` that ``dst_cls`` takes; any other argument of
    ``src``'s class must be at its default."""
    dst_args = _arguments(dst_cls)
    kwargs = {}
    for name, default in _arguments(type(src)).items():
        value = _value(src, name, default)
        if value is _MISSING:
            continue
        if name in dst_args:
            kwargs[name] = value
        elif not _same(value, default):
            raise TypeError(f"cannot convert {src_name}({name}={value!r}): {dst_name} has no {name!r} "
                            "argument")
    return dst_cls(**kwargs)


# -- weights, flags and modes ----------------------------------------------------------------------------
def _tensors(module, recurse=True):
    """``name -> tensor`` of every parameter and buffer (non-persistent buffers too)."""
    return OrderedDict(list(module.named_parameters(recurse=recurse))
                       + list(module.named_buffers(recurse=recurse)))


def _copy_state(src, dst, read, write):
    """Copy every parameter and buffer of ``src`` into the same-named one of ``dst`` (values, dtype,
    ``requires_grad``), and each submodule's ``training`` flag."""
    theirs = _tensors(dst)
    mine = _tensors(src)
    if list(mine) != list(theirs):
        raise TypeError(f"cannot convert {type(src).__name__}: its parameters and buffers {list(mine)} do "
                        f"not match the converted module's {list(theirs)}")
    for name, t in mine.items():
        write(theirs[name], read(t))
        if t.requires_grad != theirs[name].requires_grad:
            theirs[name].requires_grad_(t.requires_grad)
    for name, m in src.named_modules():
        dst.get_submodule(name).training = m.training


# -- to torch --------------------------------------------------------------------------------------------
def to_torch(module):
    """The ``torch.nn`` module equivalent to ``module`` (same structure, names, weights, dtypes, flags and
    modes). ``TypeError`` names a module without a registered torch twin."""
    import torch

    tm = _to_torch_tree(module, torch.nn, "")
    _copy_state(module, tm, lambda t: torch.from_numpy(t.detach().numpy().copy()), _set_data)
    return tm


def _set_data(t, value):
    """Replace a tensor's values (and dtype) in place: the same Parameter object, as ``p.data = v``."""
    t.data = value


def _to_torch_tree(m, tnn, path):
    where = f" (at {path!r})" if path else ""
    if isinstance(m, ParameterList):
        return tnn.ParameterList([_torch_placeholder(tnn, p) for p in m])
    if isinstance(m, ParameterDict):
        return tnn.ParameterDict({k: _torch_placeholder(tnn, p) for k, p in m.items()})
    if isinstance(m, (Sequential, ModuleList, ModuleDict)):
        children = OrderedDict((k, _to_torch_tree(c, tnn, f"{path}.{k}" if path else k))
                               for k, c in m._modules.items())
        if isinstance(m, Sequential):
            return tnn.Sequential(children)
        return tnn.ModuleList(children.values()) if isinstance(m, ModuleList) else tnn.ModuleDict(children)
    name = _TO_TORCH.get(type(m))
    if name is None:
        raise TypeError(f"to_torch: {type(m).__name__}{where} has no registered torch.nn equivalent "
                        "(chainrule layers convert after nn.convert.register(cls); a custom Module needs its "
                        "torch twin written by hand)")
    return _build(m, getattr(tnn, name), f"nn.{type(m).__name__}", f"torch.nn.{name}")


def _torch_placeholder(tnn, p):
    import torch
    return tnn.Parameter(torch.zeros(tuple(p.shape)))


# -- from torch ------------------------------------------------------------------------------------------
def from_torch(torch_module):
    """The chainrule module equivalent to a ``torch.nn`` module (same structure, names, weights, dtypes,
    flags and modes). ``TypeError`` names a module without a registered chainrule twin."""
    import torch

    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module, got {type(torch_module).__name__}")
    ours = _from_torch_tree(torch_module, torch.nn, "")
    _copy_state(torch_module, ours, lambda t: t.detach().cpu().numpy().copy(), _set_data)
    return ours


def _from_torch_tree(tm, tnn, path):
    where = f" (at {path!r})" if path else ""
    cls = type(tm)
    if cls is tnn.ParameterList:
        return ParameterList([Parameter(np.zeros(tuple(p.shape))) for p in tm])
    if cls is tnn.ParameterDict:
        return ParameterDict({k: Parameter(np.zeros(tuple(p.shape))) for k, p in tm.items()})
    if cls in (tnn.Sequential, tnn.ModuleList, tnn.ModuleDict):
        children = OrderedDict((k, _from_torch_tree(c, tnn, f"{path}.{k}" if path else k))
                               for k, c in tm._modules.items())
        if cls is tnn.Sequential:
            return Sequential(children)
        return ModuleList(children.values()) if cls is tnn.ModuleList else ModuleDict(children)
    ours = _FROM_TORCH.get(cls.__name__)
    if ours is None or getattr(tnn, cls.__name__, None) is not cls:
        raise TypeError(f"from_torch: {cls.__module__}.{cls.__qualname__}{where} has no registered chainrule "
                        "equivalent (register one in nn/convert.py; a custom torch Module needs its "
                        "chainrule twin written by hand)")
    return _build(tm, ours, f"torch.nn.{cls.__name__}", f"nn.{ours.__name__}")


__all__ = ["to_torch", "from_torch", "register"]
