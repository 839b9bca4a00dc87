# nprnn exercise: lstm_step_backward
"""One timestep of an LSTM, backward. Lesson: lessons/03_lstm_cell.py.

Forward (given below), gates in PyTorch's order i, f, g, o:

    a = x @ Wx + bx + h_prev @ Wh + bh        (B, 4H)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g
    h = o * tanh(c)

Backward: dh and dc arrive from above (the output) and from the next timestep. Walk the lines
in reverse; c reaches the loss twice, directly (dc) and through h:

    dc_total = dc + dh * o * (1 - tanh(c)**2)             h = o * tanh(c)
    di, df, dg = dc_total * g, dc_total * c_prev, dc_total * i
    do = dh * tanh(c)
    dc_prev = dc_total * f                                the memory's gradient flows through f alone
    da = [di * i(1-i), df * f(1-f), dg * (1-g**2), do * o(1-o)]   (B, 4H), blocks in a's order
    dx = da @ Wx.T    dh_prev = da @ Wh.T    dWx = x.T @ da    dWh = h_prev.T @ da
    dbx = dbh = da summed over the batch

Shapes: dh, dc (B, H) -> dx (B, D), dh_prev (B, H), dc_prev (B, H), dWx (D, 4H), dWh (H, 4H),
dbx (4H,), dbh (4H,).

Where it usually goes wrong: forgetting dc (the memory's gradient from the next step) or the
path from h into c; h.T @ da for dWh (Wh met h_prev); the blocks of da in another order than
a's; sigmoid' written with the pre-activation instead of the gate, i * (1 - i).

Grade it:  nprnn exercise check lstm_step_backward.py
"""
import numpy as np


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)); nprnn's own version never overflows."""
    return 1 / (1 + np.exp(-z))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, bx, bh):
    """One LSTM step: x (B, D), h_prev and c_prev (B, H) -> (h (B, H), c (B, H), cache)."""
    H = h_prev.shape[1]
    a = x @ Wx + bx + h_prev @ Wh + bh  # (B, 4H), blocks i, f, g, o
    i = sigmoid(a[:, 0:H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H : 4 * H])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)
    return h, c, cache


def lstm_step_backward(dh, dc, cache):
    """Back through one LSTM step: dh, dc (B, H) -> (dx, dh_prev, dc_prev, dWx, dWh, dbx, dbh).

    dh is dL/dh (from this step's output and from the next step); dc is dL/dc from the next step.
    """
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c = cache
    dc_total = dc + dh * o * (1 - tanh_c * tanh_c)  # h = o * tanh(c): c reaches the loss through h too
    di = dc_total * g  # c = f * c_prev + i * g
    df = dc_total * c_prev
    dg = dc_total * i
    do = dh * tanh_c  # h = o * tanh(c)
    dc_prev = dc_total * f  # c = f * c_prev + ...
    da = np.concatenate(
        [
            di * i * (1 - i),  # i = sigmoid(a_i)
            df * f * (1 - f),  # f = sigmoid(a_f)
            dg * (1 - g * g),  # g = tanh(a_g)
            do * o * (1 - o),  # o = sigmoid(a_o)
        ],
        axis=1,
    )  # (B, 4H), the blocks in a's order
    dx = da @ Wx.T  # a = x @ Wx + ...
    dh_prev = da @ Wh.T  # a = ... + h_prev @ Wh
    dWx = x.T @ da
    dWh = h_prev.T @ da
    dbx = da.sum(axis=0)  # a = ... + bx + ... + bh
    dbh = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dWx, dWh, dbx, dbh
