# nprnn exercise: gru_step_backward
"""One timestep of a GRU, backward. Lesson: lessons/04_gru_cell.py.

Forward (given below), PyTorch's form, the reset gate applied after the hidden matmul:

    ax = x @ Wx + bx,  ah = h_prev @ Wh + bh  (B, 3H) each, blocks r, z, n
    r = sigmoid(ax_r + ah_r)                  reset gate
    z = sigmoid(ax_z + ah_z)                  update gate
    n = tanh(ax_n + r * ah_n)                 the candidate state
    h = (1 - z) * n + z * h_prev

Backward: given dh (B, H),

    dn = dh * (1 - z)       dz = dh * (h_prev - n)       dh_prev gets dh * z directly
    dax_n = dn * (1 - n**2)                   the gradient of n's pre-activation
    dr = dax_n * ah_n       dah_n = dax_n * r            (r scales ah_n: ah_n's gradient is scaled too)
    dax_r = dah_r = dr * r(1-r)               dax_z = dah_z = dz * z(1-z)
    dax = [dax_r, dax_z, dax_n]               dah = [dax_r, dax_z, dah_n]   (B, 3H) each
    dx = dax @ Wx.T   dWx = x.T @ dax   dbx = sum of dax over the batch
    dh_prev += dah @ Wh.T   dWh = h_prev.T @ dah   dbh = sum of dah over the batch

Shapes: dx (B, D), dh_prev (B, H), dWx (D, 3H), dWh (H, 3H), dbx and dbh (3H,).

Where it usually goes wrong: the direct path dh * z into dh_prev, forgotten beside the path
through Wh; the n block of dah left unscaled by r, which makes dWh, dbh and dh_prev wrong but
dx, dWx and dbx right; dz with the sign of (n - h_prev).

Grade it:  nprnn exercise check gru_step_backward.py
"""
import numpy as np


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)); nprnn's own version never overflows."""
    return 1 / (1 + np.exp(-z))


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One GRU step: x (B, D), h_prev (B, H) -> (h (B, H), cache)."""
    H = h_prev.shape[1]
    ax = x @ Wx + bx  # (B, 3H): the input's share of every gate
    ah = h_prev @ Wh + bh  # (B, 3H): the previous state's share
    r = sigmoid(ax[:, 0:H] + ah[:, 0:H])
    z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    ah_n = ah[:, 2 * H : 3 * H]
    n = np.tanh(ax[:, 2 * H : 3 * H] + r * ah_n)  # the reset gate scales h_prev's share of n
    h = (1 - z) * n + z * h_prev
    cache = (x, h_prev, Wx, Wh, r, z, n, ah_n)
    return h, cache


def gru_step_backward(dh, cache):
    """Back through one GRU step: dh (B, H) -> (dx, dh_prev, dWx, dWh, dbx, dbh)."""
    x, h_prev, Wx, Wh, r, z, n, ah_n = cache
    dn = dh * (1 - z)  # h = (1 - z) * n + z * h_prev
    dz = dh * (h_prev - n)
    dh_prev = dh * z
    dax_n = dn * (1 - n * n)  # n = tanh(ax_n + r * ah_n)
    dr = dax_n * ah_n
    dah_n = dax_n * r
    dax_r = dr * r * (1 - r)  # r = sigmoid(ax_r + ah_r): both shares get the same gradient
    dax_z = dz * z * (1 - z)  # z = sigmoid(ax_z + ah_z)
    dax = np.concatenate([dax_r, dax_z, dax_n], axis=1)  # (B, 3H), the gradient of ax
    dah = np.concatenate([dax_r, dax_z, dah_n], axis=1)  # (B, 3H), the gradient of ah
    dx = dax @ Wx.T  # ax = x @ Wx + bx
    dWx = x.T @ dax
    dbx = dax.sum(axis=0)
    dh_prev = dh_prev + dah @ Wh.T  # ah = h_prev @ Wh + bh
    dWh = h_prev.T @ dah
    dbh = dah.sum(axis=0)
    return dx, dh_prev, dWx, dWh, dbx, dbh
