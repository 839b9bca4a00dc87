# nprnn exercise: attention_backward
"""Attention with the general score, backward. Lesson: lessons/09_attention.py.

Forward (given below), for every decoder output s_t (a query) and encoder output h_s (a key):

    e_ts  = s_t . (h_s W_a)                   the general score (Luong et al. 2015); W_a = I is dot
    a_ts  = softmax over s of e_ts            padding gets weight exactly 0
    c_t   = sum_s a_ts h_s                    the context
    out_t = tanh([c_t; s_t] W_c + b_c)        the decoder state combined with its context

Batch first inside: Q (B, T, Hq), K (B, S, Hk), KW = K @ W_a (B, S, Hq), e = Q @ KW^T and
w = softmax(e) (B, T, S), c = w @ K (B, T, Hk), cs = [c; Q] (B, T, Hk + Hq),
out = tanh(cs @ W_c + b_c) (B, T, Hq).

Backward, given dout (T, B, Hq), each line reverses one of those:

    dz  = dout * (1 - out**2)                 out = tanh(z)
    dW_c = cs^T dz over every (b, t);  db_c = dz summed;  dcs = dz @ W_c^T = [dc; dQ]
    dw  = dc @ K^T           dK = w^T @ dc    c = w @ K
    de  = w * (dw - sum_s(w * dw))            the softmax's backward, row by row
    dQ += de @ KW            dKW = de^T @ Q   e = Q @ KW^T
    dW_a = K^T dKW over every (b, s);   dK += dKW @ W_a^T

Shapes: dqueries (T, B, Hq), dkeys (S, B, Hk), dW_a (Hk, Hq), dW_c (Hk + Hq, Hq), db_c (Hq,).

Where it usually goes wrong: the softmax's backward as dw * w (it is a Jacobian, not a slope:
subtract sum_s(w * dw)); forgetting that the query reaches out twice, through the scores and
directly through [c; s]; and the key three times, as a value in c and through KW in the scores;
splitting dcs as [dQ; dc] when cs is [c; Q].

Grade it:  nprnn exercise check attention_backward.py
"""
import numpy as np


def attention_forward(queries, keys, mask, W_a, W_c, b_c):
    """queries (T, B, Hq), keys (S, B, Hk), mask (S, B) bool, True at real source tokens
    -> (out (T, B, Hq), weights (T, B, S), cache)."""
    Q = queries.transpose(1, 0, 2)  # (B, T, Hq): batch first, for the batched matmuls
    K = keys.transpose(1, 0, 2)  # (B, S, Hk)
    KW = K @ W_a  # (B, S, Hq)
    e = Q @ KW.transpose(0, 2, 1)  # (B, T, S): e_ts = s_t . (h_s W_a)
    real = mask.T[:, None, :]  # (B, 1, S)
    e = np.where(real, e, -np.inf)  # padding scores -inf: weight exp(-inf) = 0
    e_max = e.max(axis=2, keepdims=True)
    w = np.exp(e - np.where(np.isfinite(e_max), e_max, 0.0))
    total = w.sum(axis=2, keepdims=True)
    w = w / np.where(total > 0, total, 1.0)  # a source of no real token attends to nothing: c = 0
    c = w @ K  # (B, T, Hk): the context
    cs = np.concatenate([c, Q], axis=2)  # (B, T, Hk + Hq): [c_t; s_t]
    out = np.tanh(cs @ W_c + b_c)  # (B, T, Hq)
    cache = (Q, K, KW, w, cs, out, W_a, W_c)
    return out.transpose(1, 0, 2), w.transpose(1, 0, 2), cache


def attention_backward(dout, cache):
    """dout (T, B, Hq), the gradient of out -> (dqueries, dkeys, dW_a, dW_c, db_c)."""
    Q, K, KW, w, cs, out, W_a, W_c = cache
    Hk = K.shape[2]
    dz = dout.transpose(1, 0, 2) * (1 - out * out)  # out = tanh(z), batch first like the cache
    dW_c = cs.reshape(-1, cs.shape[2]).T @ dz.reshape(-1, dz.shape[2])  # z = cs @ W_c + b_c, every (b, t)
    db_c = dz.sum(axis=(0, 1))
    dcs = dz @ W_c.T
    dc, dQ = dcs[:, :, :Hk], dcs[:, :, Hk:]  # cs = [c; Q]
    dw = dc @ K.transpose(0, 2, 1)  # c = w @ K
    dK = w.transpose(0, 2, 1) @ dc
    de = w * (dw - (w * dw).sum(axis=2, keepdims=True))  # w = softmax(e); 0 where w is 0 (padding)
    dQ = dQ + de @ KW  # e = Q @ KW^T
    dKW = de.transpose(0, 2, 1) @ Q
    dW_a = K.reshape(-1, Hk).T @ dKW.reshape(-1, dKW.shape[2])  # KW = K @ W_a, every (b, s)
    dK = dK + dKW @ W_a.T
    return dQ.transpose(1, 0, 2), dK.transpose(1, 0, 2), dW_a, dW_c, db_c
