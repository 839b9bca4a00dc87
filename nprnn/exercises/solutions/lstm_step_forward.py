# nprnn exercise: lstm_step_forward
"""One timestep of an LSTM, forward. Lesson: lessons/03_lstm_cell.py.

    a = x @ Wx + bx + h_prev @ Wh + bh        (B, 4H): four blocks of H columns, i f g o
    i = sigmoid(a[:, 0:H])                    input gate: how much of the candidate to write
    f = sigmoid(a[:, H:2H])                   forget gate: how much of the old memory to keep
    g = tanh(a[:, 2H:3H])                     the candidate memory
    o = sigmoid(a[:, 3H:4H])                  output gate: how much of the memory to show
    c = f * c_prev + i * g                    (B, H) the new memory
    h = o * tanh(c)                           (B, H) the new state, and this step's output

Shapes: x (B, D), h_prev and c_prev (B, H), Wx (D, 4H), Wh (H, 4H), bx and bh (4H,). The gate
order i, f, g, o is PyTorch's (and nprnn's LSTMCell); other texts use i, f, o, g, so weights
from them need their blocks reordered.

Where it usually goes wrong: the gate order (CS231n's is i, f, o, g); tanh for a sigmoid gate
or the reverse (g is the only tanh); h = o * c instead of o * tanh(c).

Grade it:  nprnn exercise check lstm_step_forward.py
"""
import numpy as np


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)); nprnn's own version never overflows."""
    return 1 / (1 + np.exp(-z))


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, bx, bh):
    """One LSTM step: x (B, D), h_prev and c_prev (B, H) -> (h (B, H), c (B, H), cache).

    The cache holds what lstm_step_backward will need; it is not graded here.
    """
    H = h_prev.shape[1]
    a = x @ Wx + bx + h_prev @ Wh + bh  # (B, 4H): every gate's pre-activation at once
    i = sigmoid(a[:, 0:H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H : 4 * H])
    c = f * c_prev + i * g  # keep some of the old memory, write some of the candidate
    tanh_c = np.tanh(c)
    h = o * tanh_c  # show some of the memory
    cache = (x, h_prev, c_prev, Wx, Wh, i, f, g, o, tanh_c)
    return h, c, cache
