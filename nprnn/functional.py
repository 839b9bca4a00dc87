"""Elementwise activations and softmax, numerically stable, with their derivatives; and the
product of a batch of rows with a weight matrix, with its weight gradient.

Every function here takes and returns NumPy arrays of the caller's dtype, and none of the
activations overflows or warns for inputs as large as 1e4 in float32 or float64.
"""
import numpy as np


def sigmoid(x, out=None):
    """Logistic sigmoid, 1 / (1 + exp(-x)), computed as (1 + tanh(x / 2)) / 2.

    The two are the same function (multiply the top and bottom of 1 / (1 + exp(-x)) by
    exp(x/2)). The tanh form never overflows, so it needs no silenced warning, and NumPy 2's tanh
    is vectorised: on this project's 2-core machine it takes 0.8x the exp form's time in float32
    and 1.0-1.3x in float64 (`python benchmarks/bench_activations.py`). It agrees with
    the exp form to about one unit in the last place of 1 (an absolute error: far below 0, where
    the sigmoid is tiny, its relative error is larger, which no gradient here minds).
    `out`: an array to write into (it may be x itself); by default a new one.
    """
    y = np.multiply(x, 0.5, out=out)
    np.tanh(y, out=y)
    y += 1.0
    y *= 0.5
    return y


def sigmoid_grad(y):
    """d sigmoid(x) / dx written in terms of the output y = sigmoid(x): y * (1 - y)."""
    return y * (1.0 - y)


def tanh(x, out=None):
    """Hyperbolic tangent: NumPy's own, which is vectorised (and stable: it never overflows)."""
    return np.tanh(x, out=out)


def tanh_grad(y):
    """d tanh(x) / dx written in terms of the output y = tanh(x): 1 - y**2."""
    return 1.0 - y * y


def gate_blocks(a, num_gates):
    """The `num_gates` blocks of H columns of a (B, G*H), as views: a[:, k*H:(k+1)*H], k = 0..G-1.

    ``i, f, g, o = gate_blocks(a, 4)`` names an LSTM's four gates; writing into a view writes
    into `a`. (One reshape instead of np.split, which costs ten times as much on small arrays.)
    """
    B, GH = a.shape
    return a.reshape(B, num_gates, GH // num_gates).swapaxes(0, 1)


def squash(a, scale, shift):
    """In place, column by column: a <- scale * tanh(scale * a) + shift; returns a.

    With scale 1/2 and shift 1/2 a column is a sigmoid, (1 + tanh(a / 2)) / 2; with scale 1 and
    shift 0 it is tanh. So an LSTM's four gates, three sigmoids and a tanh side by side in one
    (B, 4H) array, are one tanh over the whole array (three calls on the small blocks would
    cost more). scale and shift: (G*H,) arrays, one value per column.
    """
    a *= scale
    np.tanh(a, out=a)
    a *= scale
    a += shift
    return a


def squash_grad(y, scale, shift):
    """d y / d a of `squash` written in terms of its output y: (y - low) * (high - y).

    low = shift - scale and high = shift + scale are the two ends of the column's range, so
    this is y (1 - y) for a sigmoid column (range 0..1) and (1 + y)(1 - y) = 1 - y**2 for a
    tanh column (range -1..1): the derivative is the product of the distances to the two ends.
    """
    d = y - (shift - scale)
    d *= (shift + scale) - y
    return d


def log_softmax(logits, axis=-1):
    """log softmax along `axis`: logits - logsumexp(logits).

    Subtracting the maximum first makes every exponent <= 0, so nothing overflows.
    """
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    """softmax along `axis`, stable for any finite logits (see `log_softmax`)."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def matmul(x, W):
    """x (..., X) @ W (X, Y) -> (..., Y), as one 2-D matmul over every row.

    Same result as x @ W; but NumPy runs a 3-D @ 2-D product as a loop of small matmuls, which
    in the attention layer took three times as long as this single large one."""
    return (x.reshape(-1, x.shape[-1]) @ W).reshape(*x.shape[:-1], W.shape[1])


def matmul_weight_grad(x, dy):
    """dL/dW for y = x @ W with x (..., X), dy (..., Y): x^T dy summed over every leading axis,
    as one 2-D matmul -> (X, Y)."""
    return x.reshape(-1, x.shape[-1]).T @ dy.reshape(-1, dy.shape[-1])
