# nprnn exercise: softmax_cross_entropy_backward
"""The masked softmax cross-entropy, backward. Lesson: lessons/07_decoder.py.

Forward (given below): logits (..., V), targets (...) ints. Positions whose target is
ignore_index (<pad>, 0) count for nothing; the loss is the mean over the N real positions:

    p_k   = softmax(logits_k)                     one distribution per position k
    loss  = -(1 / N) * sum over real k of log p_k[targets_k]

Backward: d(-log p[y]) / d logits = p - onehot(y), the one formula to remember. So

    dlogits_k = dloss * (p_k - onehot(targets_k)) / N     at a real position k
    dlogits_k = 0                                         at a padded one

Shapes: dloss is a number (dL/dloss, 1.0 when the loss is what is minimised), dlogits has the
shape of logits, whatever its leading axes: (T, B, V) from a decoder, (N, V) flattened.

Where it usually goes wrong: dividing by every position instead of the N real ones; the padded
rows left at p - onehot instead of 0; forgetting dloss; assuming logits are (N, V) when a
decoder's are (T, B, V).

Grade it:  nprnn exercise check softmax_cross_entropy_backward.py
"""
import numpy as np


def softmax_cross_entropy_forward(logits, targets, ignore_index=0):
    """Mean cross-entropy over the real positions: logits (..., V), targets (...) -> (loss, cache).

    ignore_index: the target id that marks padding (None: every position counts).
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)  # no overflow in exp
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # log softmax
    real = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    log_p_target = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]  # (...)
    loss = -np.sum(log_p_target * real) / real.sum()
    cache = (np.exp(log_p), targets, real)
    return float(loss), cache


def softmax_cross_entropy_backward(dloss, cache):
    """dloss (a number), the gradient of the loss -> dlogits (..., V)."""
    p, targets, real = cache
    V = p.shape[-1]
    dlogits = p.reshape(-1, V).copy()  # one row per position
    rows = np.arange(dlogits.shape[0])
    dlogits[rows, targets.reshape(-1)] -= 1.0  # -log p[y]: its gradient is p - onehot(y)
    dlogits *= real.reshape(-1, 1) / real.sum()  # mean over the real positions, 0 at padding
    return dloss * dlogits.reshape(p.shape)  # chain rule: times dL/dloss
