# nprnn exercise: embedding_backward
"""The embedding's backward pass: a scatter-add. Lesson: lessons/02_words_to_vectors.py.

Forward (given below): token id k -> row k of W (V, E).

    out[t, b] = W[ids[t, b]]                  out (..., E) for ids (...) of any shape
    out[t, b] = 0       where ids[t, b] == padding_idx   (<pad> is a constant zero vector)

Looking a row up is multiplying a one-hot vector by W, so dL/dW is dout added into the rows
that were looked up:

    dW[k] = sum of dout[t, b] over every position (t, b) with ids[t, b] == k
    dW[padding_idx] = 0                       <pad>'s output never depended on its row

Where it usually goes wrong: dW[ids] += dout. With fancy indexing, a repeated id is written
once, not added twice, so a sentence with "the" twice loses half of its gradient. Use
np.add.at(dW, ids, dout), which adds every one. And the padding row must get nothing.

Grade it:  nprnn exercise check embedding_backward.py
"""
import numpy as np


def embedding_forward(ids, W, padding_idx=0):
    """Look up rows: ids (...) ints in 0..V-1, W (V, E) -> (out (..., E), cache).

    padding_idx: the id whose vector is always zero (None: no padding).
    """
    out = W[ids]  # (..., E): a copy, one row per position
    if padding_idx is not None:
        out[ids == padding_idx] = 0.0  # <pad> reads as zeros, whatever its row holds
    cache = (ids, W.shape, padding_idx)
    return out, cache


def embedding_backward(dout, cache):
    """dout (..., E), the gradient of out -> dW (V, E)."""
    ids, W_shape, padding_idx = cache
    dW = np.zeros(W_shape)
    flat_ids = ids.reshape(-1)  # every position, in one list
    flat_dout = dout.reshape(-1, W_shape[1])
    if padding_idx is not None:
        keep = flat_ids != padding_idx  # out = 0 at <pad>: nothing flows back to its row
        flat_ids, flat_dout = flat_ids[keep], flat_dout[keep]
    np.add.at(dW, flat_ids, flat_dout)  # out[p] = W[ids[p]]: each position adds into its row
    return dW
