"""Grad mode: whether operations are recorded for backpropagation (shared by Value and Tensor).

The flag is per thread, as torch's: a ``no_grad()`` in one thread never switches recording off in
another, and each new thread starts with recording on.
"""
import contextlib
import copy
import threading


class _State(threading.local):
    enabled = True  # the class attribute is every new thread's starting value


_state = _State()


def is_grad_enabled():
    """True when new operations are recorded in the graph (in this thread)."""
    return _state.enabled


class _GradMode(contextlib.ContextDecorator):
    _mode = True

    def _recreate_cm(self):
        # a fresh object per decorated call, so a recursive call does not overwrite the saved mode
        return copy.copy(self)

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
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


class inference_mode(_GradMode):
    """``torch.inference_mode(mode=True)``: accepted; behaves as ``no_grad`` (``mode=False``: no change)."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        self._off = bool(mode)
        if callable(mode):  # used bare as a decorator: ``@inference_mode``
            return self(mode)
        return self

    def __init__(self, mode=True):
        pass

    def __enter__(self):
        self._prev = _state.enabled
        if self._off:
            _state.enabled = False
        return self


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(flag)`` sets grad mode now (as a call), or for a ``with`` block / decorated
    function, as torch's."""

    def __init__(self, mode):
        self._mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, func):
        _state.enabled = self._prev  # as a decorator, nothing changes until the function runs
        return _GradModeCall(self._mode)(func)


class _GradModeCall(_GradMode):
    def __init__(self, mode):
        self._mode = mode
