"""`Recurrent`: run a cell over a whole sequence, and backpropagate through time.

Only the recurrence depends on time, so only the recurrence runs one timestep at a time:

    forward:   xp = x @ Wx + b for all T steps in one matmul         (cell.input_projection)
               for t = 0 .. T-1:  state = cell.step(xp[t], state)    (h_prev @ Wh, the gates)
    backward:  for t = T-1 .. 0:  dxp[t], dstate = cell.step_backward(dstate, cache[t])
               dWx, dWh, db for all steps in one matmul each          (cell.accumulate_grads)
               dx = dxp @ Wx.T for all steps in one matmul

The per-step code is the very code of the one-timestep API (`cell.forward` is
`cell.step(cell.input_projection(x), state)`), and a test holds the two equal to 1e-12.

Padding: sequence b has ``lengths[b]`` real steps. Past its end its state is frozen, so the
final state is the state after its own last real step, and its outputs are zero; no gradient
reaches a padded step.
"""
import numpy as np

from .cells import Cell
from .module import Module, check_array


def _h(state):
    """The hidden output h of a state: h itself, or the first of an LSTM's (h, c)."""
    return state[0] if isinstance(state, tuple) else state


def _map(fn, *states):
    """Apply fn to the arrays of one or more states of the same form (h, or (h, c))."""
    if isinstance(states[0], tuple):
        return tuple(fn(*parts) for parts in zip(*states))
    return fn(*states)


def check_lengths(lengths, T, B):
    """lengths as an int array (B,) with values in 0..T, or a ValueError/TypeError naming it."""
    arr = np.asarray(lengths)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"lengths must be integers, got dtype {arr.dtype}")
    if arr.shape != (B,):
        raise ValueError(f"lengths must have shape ({B},) (one per sequence), got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > T):
        raise ValueError(f"lengths must be in 0..{T} (the number of timesteps), got values in {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)


class Recurrent(Module):
    """Runs ``cell`` over time-major sequences: xs (T, B, D) -> hs (T, B, H), final state.

    ``forward`` keeps what ``backward`` needs (the tape) on the object until ``backward`` uses
    it; a second ``backward`` needs a new ``forward``.
    """

    def __init__(self, cell):
        super().__init__()
        if not isinstance(cell, Cell):
            raise TypeError(f"cell must be an RNNCell, LSTMCell or GRUCell, got {type(cell).__name__}")
        self.cell = self.add_module("cell", cell)
        self._tape = None

    def __repr__(self):
        return f"Recurrent({self.cell!r})"

    def forward(self, xs, state=None, lengths=None):
        """xs (T, B, D); state: initial state or None (zeros); lengths (B,) or None (all T).

        Returns hs (T, B, H), zero past each sequence's end, and the final state (each
        sequence's state after its own last step).
        """
        cell = self.cell
        check_array("xs", xs, (None, None, cell.input_size), cell.dtype)
        T, B, _ = xs.shape
        if B == 0:
            raise ValueError("xs must hold at least one sequence (B >= 1), got shape " f"{xs.shape}")
        state = cell.initial_state(B) if state is None else cell.check_state("state", state, B)
        active = None
        if lengths is not None:
            lengths = check_lengths(lengths, T, B)
            active = np.arange(T)[:, None] < lengths[None, :]  # (T, B): is step t real for b?

        xps = cell.input_projection(xs)  # (T, B, G*H): every timestep in one matmul
        hs = np.empty((T, B, cell.hidden_size), dtype=cell.dtype)
        caches = []
        for t in range(T):
            new_state, cache = cell.step(xps[t], state)
            caches.append(cache)
            if active is None or active[t].all():
                state = new_state
                hs[t] = _h(state)
            else:  # some sequences have ended: keep their state, output zeros
                m = active[t][:, None]
                state = _map(lambda new, old: np.where(m, new, old), new_state, state)
                hs[t] = np.where(m, _h(new_state), 0.0)
        self._tape = (xs, active, caches)
        return hs, state

    def backward(self, dhs, dstate=None):
        """dhs (T, B, H), the gradient of the outputs; dstate, that of the final state (None: 0).

        Returns (dxs (T, B, D), dstate0), the gradients of the inputs and of the initial state,
        and adds the weight gradients into ``self.cell.grads``.
        """
        if self._tape is None:
            raise RuntimeError("Recurrent.backward needs a forward first (each forward allows one backward)")
        xs, active, caches = self._tape
        cell = self.cell
        T, B, _ = xs.shape
        check_array("dhs", dhs, (T, B, cell.hidden_size), cell.dtype)
        dstate = cell.initial_state(B) if dstate is None else cell.check_state("dstate", dstate, B)
        self._tape = None

        GH = cell.num_gates * cell.hidden_size
        dxps = np.empty((T, B, GH), dtype=cell.dtype)
        dahs = None  # a separate buffer only for cells whose dah differs from dxp (the GRU)
        for t in reversed(range(T)):  # backprop through time
            dh = _h(dstate) + dhs[t]  # from the output at t, and from step t+1
            dnew = (dh, dstate[1]) if isinstance(dstate, tuple) else dh
            if active is None or active[t].all():
                dxp, dah, dstate = cell.step_backward(dnew, caches[t])
            else:  # ended sequences: their state was copied forward, their output was zero
                m = active[t][:, None]
                dnew = _map(lambda d: np.where(m, d, 0.0), dnew)
                dxp, dah, dprev = cell.step_backward(dnew, caches[t])
                dstate = _map(lambda dp, dc: dp + np.where(m, 0.0, dc), dprev, dstate)
            dxps[t] = dxp
            if dah is not dxp:
                if dahs is None:
                    dahs = np.zeros((T, B, GH), dtype=cell.dtype)
                dahs[t] = dah
        cell.accumulate_grads(xs, caches, dxps, dxps if dahs is None else dahs)
        dxs = (dxps.reshape(T * B, GH) @ cell._params["Wx"].T).reshape(T, B, -1)  # xp = x @ Wx + b
        return dxs, dstate
