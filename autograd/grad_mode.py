"""Grad mode: whether operations are recorded for backpropagation (shared by Value and Tensor)."""
import contextlib
import copy

_state = {"enabled": True}


def is_grad_enabled():
    """True when new operations are recorded in the graph."""
    return _state["enabled"]


class _GradMode(contextlib.ContextDecorator):
    _mode = True

    def _recreate_cm(self):
        # a fresh object per decorated call, so a recursive call does not overwrite the saved mode
        return copy.copy(self)

    def __enter__(self):
        self._prev = _state["enabled"]
        _state["enabled"] = self._mode
        return self

    def __exit__(self, *exc):
        _state["enabled"] = self._prev
        return False


class _BareDecorator(_GradMode):
    """Also usable without parentheses, as torch allows: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is None:
            return self
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {func!r}")
        return self(func)


class no_grad(_BareDecorator):
    """Context manager and decorator: operations inside are not recorded (like ``torch.no_grad``)."""

    _mode = False


class enable_grad(_BareDecorator):
    """Context manager and decorator: operations inside are recorded, even within ``no_grad``."""

    _mode = True


class set_grad_enabled(_GradMode):
    """``with set_grad_enabled(flag):`` records operations only when ``flag`` is true."""

    def __init__(self, mode):
        self._mode = bool(mode)
