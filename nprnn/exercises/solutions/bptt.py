# nprnn exercise: bptt
"""Backpropagation through time over a padded batch. Lesson: lessons/05_backprop_through_time.py.

Forward (given below): a plain RNN over xs (T, B, D) from h0 (B, H). Sequence b has
lengths[b] real steps (0..T); past its end its state is frozen and its output is zero:

    mask[t, b] = t < lengths[b]
    h_new      = rnn_step(xs[t], h_{t-1})
    h_t        = where(mask[t], h_new, h_{t-1})    the final state is each sequence's own last
    hs[t]      = where(mask[t], h_new, 0)

Backward: dhs (T, B, H) is dL/dhs, dh_final (B, H) is dL/dh_final. Walk t = T-1 .. 0 with dh,
the gradient reaching h_t from later on (it starts as dh_final):

    dh_new   = where(mask[t], dh + dhs[t], 0)      h_new reached the loss through h_t and hs[t]
    dx_t, dh_prev, dWx_t, ... = rnn_step_backward(dh_new, cache_t)
    dh       = dh_prev + where(mask[t], 0, dh)     a finished sequence passes its gradient through
    dWx, dWh, dbx, dbh: the sum over t of each step's

and dh0 is dh after step 0. Shapes: dxs (T, B, D) (zero at padding), dh0 (B, H), dWx (D, H),
dWh (H, H), dbx, dbh (H,).

Where it usually goes wrong: forgetting that dh from step t+1 and dhs[t] both reach h_t; letting
the padding's dhs (which never mattered: the output there is a constant 0) into the gradient;
dropping the gradient of a finished sequence instead of passing it through to its last real
step; overwriting the weight gradients at each step instead of adding them up.

Grade it:  nprnn exercise check bptt.py
"""
import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One RNN step: x (B, D), h_prev (B, H) -> (h (B, H), cache)."""
    h = np.tanh(x @ Wx + bx + h_prev @ Wh + bh)
    return h, (x, h_prev, Wx, Wh, h)


def rnn_step_backward(dh, cache):
    """Back through one RNN step: dh (B, H) -> (dx, dh_prev, dWx, dWh, dbx, dbh)."""
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - h * h)  # h = tanh(a)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0), da.sum(axis=0)


def rnn_forward(xs, h0, Wx, Wh, bx, bh, lengths):
    """A padded batch: xs (T, B, D), h0 (B, H), lengths (B,) ints in 0..T
    -> (hs (T, B, H), h_final (B, H), cache)."""
    T = xs.shape[0]
    mask = np.arange(T)[:, None] < np.asarray(lengths)[None, :]  # (T, B): is step t real for b?
    h = h0
    hs = np.zeros((T, *h0.shape))
    caches = []
    for t in range(T):
        h_new, cache = rnn_step_forward(xs[t], h, Wx, Wh, bx, bh)
        caches.append(cache)
        m = mask[t][:, None]
        hs[t] = np.where(m, h_new, 0.0)  # past the end: output zeros
        h = np.where(m, h_new, h)  # past the end: keep the state
    return hs, h, (mask, caches)


def rnn_backward(dhs, dh_final, cache):
    """Back through rnn_forward: dhs (T, B, H), dh_final (B, H)
    -> (dxs (T, B, D), dh0 (B, H), dWx, dWh, dbx, dbh)."""
    mask, caches = cache
    x, h_prev, Wx, Wh, h = caches[0]
    dxs = np.zeros((len(caches), *x.shape))
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    dbx, dbh = np.zeros(Wx.shape[1]), np.zeros(Wx.shape[1])
    dh = dh_final  # dL/dh_t from everything after step t
    for t in reversed(range(len(caches))):  # backprop through time
        m = mask[t][:, None]
        dh_new = np.where(m, dh + dhs[t], 0.0)  # h_t = where(m, h_new, h_prev), hs[t] = where(m, h_new, 0)
        dxs[t], dh_prev, dWx_t, dWh_t, dbx_t, dbh_t = rnn_step_backward(dh_new, caches[t])
        dh = dh_prev + np.where(m, 0.0, dh)  # h_t = where(m, ..., h_prev): the frozen state's path
        dWx += dWx_t  # the same weights serve every step: their gradients add up
        dWh += dWh_t
        dbx += dbx_t
        dbh += dbh_t
    return dxs, dh, dWx, dWh, dbx, dbh
