"""Elementwise activations and softmax, numerically stable, with their derivatives.

Every function here takes and returns NumPy arrays of the caller's dtype, and none of them
overflows or warns for inputs as large as 1e4 in float32 or float64.
"""
import numpy as np


def sigmoid(x):
    """Logistic sigmoid, 1 / (1 + exp(-x)), computed as 0.5 * (1 + tanh(x / 2)).

    The two are the same function; the tanh form never evaluates exp of a large number, so it
    cannot overflow, and it is one ufunc call where the textbook form needs three.
    """
    y = np.multiply(x, 0.5)
    np.tanh(y, out=y)
    y += 1.0
    y *= 0.5
    return y


def sigmoid_grad(y):
    """d sigmoid(x) / dx written in terms of the output y = sigmoid(x): y * (1 - y)."""
    return y * (1.0 - y)


def tanh(x):
    """Hyperbolic tangent (NumPy's, which is already stable for large |x|)."""
    return np.tanh(x)


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
