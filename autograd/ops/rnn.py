"""Recurrences: one direction of an RNN/LSTM/GRU layer over a whole sequence as one node.

``Recurrence`` takes the input projections of every time step, ``xg = x W_ih^T + b_ih`` ``(L, N, G*H)``,
the recurrent weights and the initial state, and loops over time inside its forward (torch's gate
order: LSTM i f g o, GRU r z n). Its backward is backpropagation through time written with the cells'
own operations and the gate primitives' own gradient rules (``call``): a plain ``backward()`` runs it on
arrays with the activations the forward saved; ``create_graph=True`` first reruns the cells on the
Tensors, so gradients of any order come from the same lines.
"""
import numpy as np

from ..primitive import Primitive, TensorBase, _new, call
from .elementwise import Relu, Sigmoid, Tanh
from .linalg import Linear
from .reduce import SumRows
from .shape import Cat, Reshape, Stack

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


_RULES = {prim: _new(prim) for prim in (Relu, Sigmoid, Tanh)}  # their rules read only g and out


def _grad(prim, g, out):
    """``g`` through the elementwise primitive ``prim`` whose output was ``out`` (its own rule)."""
    return _RULES[prim].backward(g, out, None)[0]


# -- the cells: (xg, hg, h, c) -> (h', c', saved); hg = h W_hh^T + b_hh ------------------------------
def _elman(act):
    def cell(xg, hg, h, c):
        out = call(act, xg + hg)
        return out, None, out

    def backward(dh, dc, saved, h, c):
        d = _grad(act, dh, saved)
        return d, d, None, None
    return cell, backward


def lstm_cell(xg, hg, h, c):
    """The LSTM cell: ``c' = f c + i g``, ``h' = o tanh(c')``; saves the sigmoid of all four gates'
    pre-activations, ``g`` and ``tanh(c')``."""
    pre, n = xg + hg, h.shape[-1]
    s = call(Sigmoid, pre)  # all four gates in one call (g's part unused): fewer, larger array ops
    i, f, g, o = s[:, :n], s[:, n:2 * n], call(Tanh, pre[:, 2 * n:3 * n]), s[:, 3 * n:]
    c = f * c + i * g
    tc = call(Tanh, c)
    return o * tc, c, (s, g, tc)


def _lstm_backward(dh, dc, saved, h, c):
    """Gradients of the pre-activations (x and h sides alike) and of ``c`` from those of ``h'``, ``c'``:
    sigmoid's rule over all four gates at once, then tanh's for the g gate's part."""
    s, g, tc = saved
    n = g.shape[-1]
    i, f, o = s[:, :n], s[:, n:2 * n], s[:, 3 * n:]
    dc = dc + _grad(Tanh, dh * o, tc)
    dg = dc * i
    d = _grad(Sigmoid, call(Cat, dc * g, dc * c, dg, dh * tc, dim=1), s)
    d = call(Cat, d[:, :2 * n], _grad(Tanh, dg, g), d[:, 3 * n:], dim=1)
    return d, d, None, dc * f


def gru_cell(xg, hg, h, c):
    """The GRU cell: ``n = tanh(x_n + r h_n)``, ``h' = (1 - z) n + z h``; saves r, z, n and ``h_n``."""
    n = h.shape[-1]
    r = call(Sigmoid, xg[:, :n] + hg[:, :n])
    z = call(Sigmoid, xg[:, n:2 * n] + hg[:, n:2 * n])
    hn = hg[:, 2 * n:]
    cand = call(Tanh, xg[:, 2 * n:] + r * hn)
    return cand + z * (h - cand), None, (r, z, cand, hn)


def _gru_backward(dh, dc, saved, h, c):
    """Gradients of the x-side and h-side pre-activations, and the direct one of ``h``."""
    r, z, cand, hn = saved
    dn = _grad(Tanh, dh - dh * z, cand)
    dr, dz = _grad(Sigmoid, dn * hn, r), _grad(Sigmoid, dh * (h - cand), z)
    return call(Cat, dr, dz, dn, dim=1), call(Cat, dr, dz, dn * r, dim=1), dh * z, None


CELLS = {"RNN_TANH": _elman(Tanh), "RNN_RELU": _elman(Relu), "LSTM": (lstm_cell, _lstm_backward),
         "GRU": (gru_cell, _gru_backward)}


def step(mode, xg, h, c, w_hh, b_hh):
    """One time step of ``mode`` on arrays or Tensors: ``xg`` ``(N, G*H)``, ``h``/``c`` ``(N, H)`` ->
    ``h'``, ``c'`` (None but for LSTM) and what the cell saves."""
    hg = call(Linear, h, w_hh) if b_hh is None else call(Linear, h, w_hh, b_hh)
    return CELLS[mode][0](xg, hg, h, c)


class Recurrence(Primitive):
    """``(xg (L, N, G*H), w_hh (G*H, H), h0 (N, H)[, c0 (N, H)][, b_hh (G*H,)])`` -> every step's ``h``
    ``(L, N, H)``, for LSTM followed by the final ``c`` ``(L + 1, N, H)``; ``reverse`` runs from the last
    step. Attributes: ``mode`` (``GATES``' keys), ``reverse``, ``bias``."""

    name = "recurrence"

    def _inputs(self, xg, w_hh, h0, *rest):
        lstm = self.mode == "LSTM"
        return xg, w_hh, h0, rest[0] if lstm else None, rest[lstm] if self.bias else None

    def _order(self, steps):
        return range(steps - 1, -1, -1) if self.reverse else range(steps)

    def _run(self, xg, w_hh, h, c, b_hh):
        """Every step's (state before it, new ``h``, new ``c``, saved), in time order."""
        runs = [None] * xg.shape[0]
        if not isinstance(w_hh, TensorBase) and w_hh.size <= 1 << 16 and len(runs) >= 4:
            # a small w_hh copied column-major once: each step's h @ w_hh.T is then BLAS's plain product
            # (3.2 against 5.8 µs at (32, 32) @ (32, 128)); a big one's transposed copy costs more than
            # the steps save (8 ms for hidden size 512, 27 steps' savings at batch 8)
            w_hh = np.asfortranarray(w_hh)
        for t in self._order(xg.shape[0]):
            h2, c2, saved = step(self.mode, xg[t], h, c, w_hh, b_hh)
            runs[t] = (h, c, h2, c2, saved)
            h, c = h2, c2
        return runs

    def forward(self, *arrays):
        self._runs = runs = self._run(*self._inputs(*arrays))
        last = runs[self._order(len(runs))[-1]]
        return np.stack([r[2] for r in runs] + ([last[3]] if self.mode == "LSTM" else []))

    @staticmethod
    def formulas(n):
        """One per input (xg, w_hh, h0[, c0][, b_hh]): backpropagation through time, the rule below."""
        return tuple((f"{{{i}}}'s gradient through every step back in time (each cell's own rules)",
                      lambda s, i=i: s.fn.backward(s.g, s.o, *s.x)[i]) for i in range(n))

    def backward(self, g, out, *inputs):
        xg, w_hh, h0, c0, b_hh = args = self._inputs(*inputs)
        runs = self._run(*args) if isinstance(g, TensorBase) else self._runs  # create_graph: rerun on Tensors
        lstm, back = self.mode == "LSTM", CELLS[self.mode][1]
        steps = len(runs)
        dxs, dhgs, dh, dc = [None] * steps, [None] * steps, None, g[steps] if lstm else None
        for t in reversed(self._order(steps)):
            h, c, _, _, saved = runs[t]
            dh = g[t] if dh is None else g[t] + dh
            dxs[t], dhgs[t], direct, dc = back(dh, dc, saved, h, c)
            dh = dhgs[t] @ w_hh  # through hg = h W_hh^T + b_hh
            if direct is not None:
                dh = dh + direct
        # W_hh and b_hh: every step's (N, G*H) gradient and state at once, one product and one sum
        dx = call(Stack, *dxs, dim=0)
        dhg = dx if all(a is b for a, b in zip(dhgs, dxs)) else call(Stack, *dhgs, dim=0)
        n_gates = dhg.shape[-1]
        dhg = call(Reshape, dhg, shape=(-1, n_gates))
        hs = call(Reshape, call(Stack, *[r[0] for r in runs], dim=0), shape=(-1, h0.shape[-1]))
        d_w = dhg.T @ hs
        return [dx, d_w, dh] + ([dc] if lstm else []) + ([call(SumRows, dhg)] if self.bias else [])
