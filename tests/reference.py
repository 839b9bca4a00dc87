"""A reference for `Recurrent` built only from the one-timestep cell API.

Each sequence is run alone, for exactly its own number of steps, with `cell.forward` and
`cell.backward`: no padding, no masks, no batching across time. Whatever `Recurrent` does to
be fast must agree with this.
"""
import numpy as np


def _rows(state, b):
    if isinstance(state, tuple):
        return tuple(s[b : b + 1] for s in state)
    return state[b : b + 1]


def _h(state):
    return state[0] if isinstance(state, tuple) else state


def _add_h(dstate, dh):
    if isinstance(dstate, tuple):
        return (dstate[0] + dh, dstate[1])
    return dstate + dh


def loop_reference(cell, xs, state0, lengths, dhs, dstate):
    """(hs, final_state, dxs, dstate0, grads) from a per-sequence loop of the one-timestep API."""
    T, B, _ = xs.shape
    H = cell.hidden_size
    if state0 is None:
        state0 = cell.initial_state(B)
    if dstate is None:
        dstate = cell.initial_state(B)
    cell.zero_grad()
    hs = np.zeros((T, B, H))
    dxs = np.zeros_like(xs)
    finals, dstate0s = [], []
    for b in range(B):
        state = _rows(state0, b)
        caches = []
        for t in range(lengths[b]):
            state, cache = cell.forward(xs[t, b : b + 1], state)
            caches.append(cache)
            hs[t, b] = _h(state)[0]
        finals.append(state)
        d = _rows(dstate, b)
        for t in reversed(range(lengths[b])):
            d = _add_h(d, dhs[t, b : b + 1])
            dx, d = cell.backward(d, caches[t])
            dxs[t, b] = dx[0]
        dstate0s.append(d)
    stack = lambda parts: (  # noqa: E731
        tuple(np.concatenate(p) for p in zip(*parts)) if isinstance(parts[0], tuple) else np.concatenate(parts)
    )
    grads = {k: g.copy() for k, g in cell.grads.items()}
    return hs, stack(finals), dxs, stack(dstate0s), grads
