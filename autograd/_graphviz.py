"""The graphviz-dependent part of drawing, imported only when a graph is drawn."""
import functools

import graphviz

_INSTALL_MSG = (
    "Graphviz's `dot` program was not found on PATH, so the graph can not be rendered (its DOT text is "
    "still available as .source). Install Graphviz: Debian/Ubuntu `sudo apt-get install graphviz`, "
    "Fedora `sudo dnf install graphviz`, macOS `brew install graphviz`, Windows the installer from "
    "https://graphviz.org/download/ (add its bin folder to PATH), or with conda "
    "`conda install -c conda-forge graphviz`.")


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """The Graphviz ``dot`` binary is missing. Also a ``graphviz.ExecutableNotFound`` and a
    ``RuntimeError``, so existing ``except`` clauses keep working."""

    def __init__(self, detail=""):
        RuntimeError.__init__(self, _INSTALL_MSG + (f" ({detail})" if detail else ""))


def _explain_missing_dot(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except GraphvizNotFoundError:
            raise
        except graphviz.ExecutableNotFound as e:
            raise GraphvizNotFoundError(str(e)) from e
    return wrapper


class Digraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering (``render pipe view unflatten``, Jupyter display) says
    how to install Graphviz when the ``dot`` binary is missing (``GraphvizNotFoundError``)."""

    render = _explain_missing_dot(graphviz.Digraph.render)
    pipe = _explain_missing_dot(graphviz.Digraph.pipe)
    view = _explain_missing_dot(graphviz.Digraph.view)
    unflatten = _explain_missing_dot(graphviz.Digraph.unflatten)
    _repr_mimebundle_ = _explain_missing_dot(graphviz.Digraph._repr_mimebundle_)


