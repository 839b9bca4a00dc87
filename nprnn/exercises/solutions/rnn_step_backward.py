# nprnn exercise: rnn_step_backward
"""One timestep of a plain RNN, backward. Lesson: lessons/01_one_timestep.py.

Forward (given below):

    a = x @ Wx + bx + h_prev @ Wh + bh        (B, H)
    h = tanh(a)

Backward: given dh = dL/dh (B, H), walk the two lines in reverse:

    da      = dh * (1 - h**2)                 tanh'(a) = 1 - tanh(a)**2, written with the output h
    dx      = da @ Wx.T      (B, D)           dh_prev = da @ Wh.T   (B, H)
    dWx     = x.T @ da       (D, H)           dWh     = h_prev.T @ da   (H, H)
    dbx     = dbh = da summed over the batch  (H,)

Every weight gradient is a sum over the batch: the matmul x.T @ da does that sum for you.

Where it usually goes wrong: 1 - a**2 instead of 1 - h**2 (tanh' is written with the output);
h.T @ da instead of h_prev.T @ da (Wh met h_prev, not h); a bias gradient left as (B, H)
instead of summed over the batch.

Grade it:  nprnn exercise check rnn_step_backward.py
"""
import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One RNN step: x (B, D), h_prev (B, H) -> (h (B, H), cache)."""
    a = x @ Wx + bx + h_prev @ Wh + bh  # (B, H)
    h = np.tanh(a)
    cache = (x, h_prev, Wx, Wh, h)
    return h, cache


def rnn_step_backward(dh, cache):
    """Back through one RNN step: dh (B, H) -> (dx, dh_prev, dWx, dWh, dbx, dbh).

    Shapes: dx (B, D), dh_prev (B, H), dWx (D, H), dWh (H, H), dbx (H,), dbh (H,).
    """
    x, h_prev, Wx, Wh, h = cache
    da = dh * (1 - h * h)  # h = tanh(a)
    dx = da @ Wx.T  # a = x @ Wx + ...
    dh_prev = da @ Wh.T  # a = ... + h_prev @ Wh
    dWx = x.T @ da  # a = x @ Wx + ...: the matmul sums over the batch
    dWh = h_prev.T @ da  # a = ... + h_prev @ Wh
    dbx = da.sum(axis=0)  # a = ... + bx, the same bx for every row
    dbh = da.sum(axis=0)  # a = ... + bh
    return dx, dh_prev, dWx, dWh, dbx, dbh
