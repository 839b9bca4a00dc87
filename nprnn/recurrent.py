"""`Recurrent`: run a cell over a whole sequence, and backpropagate through time.

Only the recurrence depends on time, so only the recurrence runs one timestep at a time:

    forward:   xp = x @ Wx + b for all T steps in one matmul         (cell.input_projection)
               for t = 0 .. T-1:  state = cell.step(xp[t], state)    (h_prev @ Wh, the gates)
    backward:  for t = T-1 .. 0:  dxp[t], dstate = cell.step_backward(dstate, cache[t])  (into dxps[t])
               dWx, dWh, db for all steps in one matmul each          (cell.accumulate_grads)
               dx = dxp @ Wx.T for all steps in one matmul

The per-step code is the very code of the one-timestep API (`cell.forward` is
`cell.step(cell.input_projection(x), state)`), and a test holds the two equal to 1e-12.

Padding: sequence b has ``lengths[b]`` real steps. Past its end its state is frozen, so the
final state is the state after its own last real step, and its outputs are zero; no gradient
reaches a padded step.

The recurrent-state helpers live here too: a state is h (B, H) for an RNN or GRU and the pair
(h, c) for an LSTM, and a stack of layers holds a list of them. `map_state` applies a function
to every array of one or more such states (of the same form); `hidden` takes a state's h.

Imports: checks, cells, module.
"""
import numpy as np

from .cells import Cell
from .checks import check_array, check_lengths
from .module import Module

ROWS_FOR_WH_T = 256  # from this many rows (T * B) on, backward multiplies by a copy of Wh.T (see there)

def hidden(state):
    """The hidden output h of a state: h itself, or the first of an LSTM's (h, c)."""
    return state[0] if isinstance(state, tuple) else state


def map_state(fn, *states):
    """fn applied to the arrays of one or more states of the same form, keeping that form.

    A state is an array h, a pair (h, c), or a list of either (one per layer), so
    ``map_state(lambda a: a[rows], states)`` picks rows of every layer's h and c.
    """
    if isinstance(states[0], (tuple, list)):
        return type(states[0])(map_state(fn, *parts) for parts in zip(*states))
    return fn(*states)


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
                hs[t] = hidden(state)
            else:  # some sequences have ended: keep their state, output zeros
                m = active[t][:, None]
                state = map_state(lambda new, old: np.where(m, new, old), new_state, state)
                hs[t] = np.where(m, hidden(new_state), 0.0)
        self._tape = (xs, active, caches)
        return hs, state

    def backward(self, dhs, dstate=None):
        """dhs (T, B, H), the gradient of the outputs; dstate, that of the final state (None: 0).

        Returns (dxs (T, B, D), dstate0), the gradients of the inputs and of the initial state,
        and adds the weight gradients into ``self.cell.grads``.
        """
        xs, active, caches = self._pop_tape()
        cell = self.cell
        T, B, _ = xs.shape
        check_array("dhs", dhs, (T, B, cell.hidden_size), cell.dtype)
        dstate = cell.initial_state(B) if dstate is None else cell.check_state("dstate", dstate, B)

        GH = cell.num_gates * cell.hidden_size
        dxps = np.empty((T, B, GH), dtype=cell.dtype)  # each step writes its dxp here (out=)
        dahs = None  # a buffer only for cells whose dah differs from dxp (the reset-after GRU)
        # Every step multiplies by Wh.T. BLAS does that about a third faster with Wh.T laid out
        # row by row than with the transposed view; the copy (a transpose, slow itself) pays for
        # itself from about 200 rows (T * B) on, so only then is it made, once for all T steps.
        Wh_T = np.ascontiguousarray(cell.params["Wh"].T) if T * B >= ROWS_FOR_WH_T else None
        for t in reversed(range(T)):  # backprop through time
            dh = hidden(dstate) + dhs[t]  # from the output at t, and from step t+1
            dnew = (dh, dstate[1]) if isinstance(dstate, tuple) else dh
            if active is None or active[t].all():
                dxp, dah, dstate = cell.step_backward(dnew, caches[t], out=dxps[t], Wh_T=Wh_T)
            else:  # ended sequences: their state was copied forward, their output was zero
                m = active[t][:, None]
                dnew = map_state(lambda d: np.where(m, d, 0.0), dnew)
                dxp, dah, dprev = cell.step_backward(dnew, caches[t], out=dxps[t], Wh_T=Wh_T)
                dstate = map_state(lambda dp, dc: dp + np.where(m, 0.0, dc), dprev, dstate)
            if dah is not None:
                if dahs is None:
                    dahs = np.empty((T, B, GH), dtype=cell.dtype)
                dahs[t] = dah
        cell.accumulate_grads(xs, caches, dxps, dahs)
        return cell.input_projection_backward(dxps), dstate
