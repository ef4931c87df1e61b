"""Grad mode: whether operations are recorded for backpropagation (shared by Value and Tensor)."""
import contextlib

_state = {"enabled": True}


def is_grad_enabled():
    """True when new operations are recorded in the graph."""
    return _state["enabled"]


class _GradMode(contextlib.ContextDecorator):
    _mode = True

    def __enter__(self):
        self._prev = _state["enabled"]
        _state["enabled"] = self._mode
        return self

    def __exit__(self, *exc):
        _state["enabled"] = self._prev
        return False


class no_grad(_GradMode):
    """Context manager and decorator: operations inside are not recorded (like ``torch.no_grad``)."""

    _mode = False


class enable_grad(_GradMode):
    """Context manager and decorator: operations inside are recorded, even within ``no_grad``."""

    _mode = True


class set_grad_enabled(_GradMode):
    """``with set_grad_enabled(flag):`` records operations only when ``flag`` is true."""

    def __init__(self, mode):
        self._mode = bool(mode)
