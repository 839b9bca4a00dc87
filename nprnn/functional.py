"""Elementwise activations and softmax, numerically stable, with their derivatives; and the
product of a batch of rows with a weight matrix, with its weight gradient.

Every function here takes and returns NumPy arrays of the caller's dtype, and none of the
activations overflows or warns for inputs as large as 1e4 in float32 or float64.
"""
import numpy as np


def sigmoid(x):
    """Logistic sigmoid, 1 / (1 + exp(-x)).

    For x below about -88 (float32) or -709 (float64) exp(-x) overflows to inf, and 1 / inf is
    0, the right limit; the overflow is expected, so its warning is silenced. Every step is done
    in place on one new array: the gates of a large batch make many of these calls.
    """
    y = np.negative(x)
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += 1.0
    np.divide(1.0, y, out=y)
    return y


def sigmoid_grad(y):
    """d sigmoid(x) / dx written in terms of the output y = sigmoid(x): y * (1 - y)."""
    return y * (1.0 - y)


def tanh(x):
    """Hyperbolic tangent, as 2 * sigmoid(2x) - 1 = 2 / (1 + exp(-2x)) - 1.

    It agrees with np.tanh to about one unit in the last place of 1 (an absolute error: near 0
    the relative error is larger, which no gradient here minds), and is stable for any x (exp
    overflows to inf only where the answer is -1). Why not np.tanh: with common NumPy
    builds np.exp is vectorised and np.tanh is not; on this project's 2-core reference machine
    this form takes 0.7x np.tanh's time in float32 and 0.3x in float64
    (`python benchmarks/bench_activations.py` prints the figures for your machine).
    """
    y = np.multiply(x, -2.0)
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += 1.0
    np.divide(2.0, y, out=y)
    y -= 1.0
    return y


def tanh_grad(y):
    """d tanh(x) / dx written in terms of the output y = tanh(x): 1 - y**2."""
    return 1.0 - y * y


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
