# nprnn exercise: rnn_step_forward
"""One timestep of a plain RNN, forward. Lesson: lessons/01_one_timestep.py.

    a = x @ Wx + bx + h_prev @ Wh + bh        (B, H)  the pre-activation
    h = tanh(a)                               (B, H)  the new state, and this timestep's output

Shapes: B batch, D input size, H hidden size. x (B, D), h_prev (B, H), Wx (D, H), Wh (H, H),
bx (H,), bh (H,): nprnn's RNNCell layout (PyTorch's weight_ih.T, weight_hh.T, bias_ih, bias_hh).
A batch is a stack of row vectors, so the weights multiply from the right.

Where it usually goes wrong: Wh @ h_prev instead of h_prev @ Wh (fine only when B == H, so
it passes a square test and fails the next); leaving out one of the two biases.

Grade it:  nprnn exercise check rnn_step_forward.py
"""
import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One RNN step: x (B, D), h_prev (B, H) -> (h (B, H), cache).

    The cache holds what rnn_step_backward will need; it is not graded here.
    """
    a = x @ Wx + bx + h_prev @ Wh + bh  # (B, H): the input's and the previous state's share
    h = np.tanh(a)
    cache = (x, h_prev, Wx, Wh, h)
    return h, cache
