"""Attention over the encoder's outputs (Luong et al. 2015, global attention), forward and backward.

For every decoder output s_t (the query) and every encoder output h_s (a key, and its value):

    e_ts   = score(s_t, h_s)                 dot:      s_t . h_s
                                             general:  s_t . (h_s W_a)
                                             additive: v . tanh(s_t W_q + h_s W_k)   (Bahdanau et al. 2015)
    a_ts   = softmax over s of e_ts          padding positions get weight exactly 0
    c_t    = sum_s a_ts h_s                  the attended context
    out_t  = tanh([c_t; s_t] W_c + b_c)      the decoder state combined with its context

The decoder's output layer then reads out_t instead of s_t. No query depends on an earlier
step's attention (there is no "input feeding"), so teacher forcing attends for all timesteps in
one batched pass. Shapes: queries (T, B, Hq), keys (S, B, Hk), mask (S, B) True at real tokens.

The one name for the choice of score is ``score``: `SCORES` lists them, and a `Seq2Seq` says
``attention=None`` (none) or ``attention="general"`` (attention with that score).

Imports: checks, functional, module.
"""
import numpy as np

from .checks import as_float_dtype, as_rng, check_positive_int
from .functional import matmul, matmul_weight_grad, tanh
from .module import Module

SCORES = ("dot", "general", "additive")


class Attention(Module):
    """Global attention with the combine layer. Parameters: W_c, b_c, and by score W_a (general)
    or W_q, W_k, v (additive); dot has none of its own."""

    def __init__(self, query_size, key_size, score="dot", *, rng=None, dtype=np.float64):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {score!r}")
        Hq, Hk = check_positive_int("query_size", query_size), check_positive_int("key_size", key_size)
        if score == "dot" and Hq != Hk:
            raise ValueError(f"dot attention needs query_size == key_size, got {Hq} and {Hk}")
        self.score, self.query_size, self.key_size = score, Hq, Hk
        self.dtype = as_float_dtype(dtype)
        rng = as_rng(rng)
        # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), like PyTorch's nn.Linear
        init = lambda fan_in, *shape: (rng.uniform(-1, 1, shape) / np.sqrt(fan_in)).astype(self.dtype)  # noqa: E731
        if score == "general":
            self.add_param("W_a", init(Hk, Hk, Hq))
        elif score == "additive":
            self.add_param("W_q", init(Hq, Hq, Hq))
            self.add_param("W_k", init(Hk, Hk, Hq))
            self.add_param("v", init(Hq, Hq))
        self.add_param("W_c", init(Hk + Hq, Hk + Hq, Hq))
        self.add_param("b_c", init(Hk + Hq, Hq))

    def forward(self, queries, keys, mask):
        """queries (T, B, Hq), keys (S, B, Hk), mask (S, B) -> out (T, B, Hq), weights (T, B, S)."""
        p = self._params
        Q = queries.transpose(1, 0, 2)  # (B, T, Hq): batch first for the batched matmuls
        K = keys.transpose(1, 0, 2)  # (B, S, Hk)
        if self.score == "dot":
            e = Q @ K.transpose(0, 2, 1)  # (B, T, S)
            extra = None
        elif self.score == "general":
            KW = matmul(K, p["W_a"])  # (B, S, Hq): h_s W_a
            e = Q @ KW.transpose(0, 2, 1)
            extra = KW
        else:
            q = matmul(Q, p["W_q"])  # (B, T, A)
            k = matmul(K, p["W_k"])  # (B, S, A)
            u = tanh(q[:, :, None, :] + k[:, None, :, :])  # (B, T, S, A)
            e = u @ p["v"]
            extra = u
        real = mask.T[:, None, :]  # (B, 1, S)
        e = np.where(real, e, -np.inf)
        e_max = e.max(axis=2, keepdims=True)
        w = np.exp(e - np.where(np.isfinite(e_max), e_max, 0.0))  # exp(-inf) = 0 at padding
        total = w.sum(axis=2, keepdims=True)
        w /= np.where(total > 0, total, 1.0)  # an empty source attends to nothing: c = 0
        c = w @ K  # (B, T, Hk): the attended context
        cs = np.concatenate([c, Q], axis=2)  # [c_t; s_t]
        out = tanh(matmul(cs, p["W_c"]) + p["b_c"])  # (B, T, Hq)
        self._tape = (Q, K, w, cs, out, extra)
        return out.transpose(1, 0, 2), w.transpose(1, 0, 2)

    def backward(self, dout):
        """dout (T, B, Hq) -> (dqueries (T, B, Hq), dkeys (S, B, Hk)); adds into grads."""
        Q, K, w, cs, out, extra = self._pop_tape()
        p, g, Hk = self._params, self._grads, self.key_size
        dz = dout.transpose(1, 0, 2) * (1.0 - out * out)  # out = tanh(z)
        g["W_c"] += matmul_weight_grad(cs, dz)  # z = [c; s] W_c + b_c
        g["b_c"] += dz.sum(axis=(0, 1))
        dcs = matmul(dz, p["W_c"].T)
        dc, dQ = dcs[:, :, :Hk], dcs[:, :, Hk:]
        dw = dc @ K.transpose(0, 2, 1)  # c = w @ K
        dK = w.transpose(0, 2, 1) @ dc
        de = w * (dw - (w * dw).sum(axis=2, keepdims=True))  # softmax; zero where w is zero (padding)
        if self.score == "dot":
            dQ += de @ K  # e = Q K^T
            dK += de.transpose(0, 2, 1) @ Q
        elif self.score == "general":
            KW = extra
            dQ += de @ KW  # e = Q (K W_a)^T
            dKW = de.transpose(0, 2, 1) @ Q
            g["W_a"] += matmul_weight_grad(K, dKW)  # KW = K W_a
            dK += matmul(dKW, p["W_a"].T)
        else:
            u = extra
            g["v"] += np.einsum("bts,btsa->a", de, u)  # e = u . v
            du = de[..., None] * p["v"] * (1.0 - u * u)  # u = tanh(q + k)
            dq, dk = du.sum(axis=2), du.sum(axis=1)  # q broadcast over s, k over t
            g["W_q"] += matmul_weight_grad(Q, dq)  # q = Q W_q
            g["W_k"] += matmul_weight_grad(K, dk)  # k = K W_k
            dQ += matmul(dq, p["W_q"].T)
            dK += matmul(dk, p["W_k"].T)
        return dQ.transpose(1, 0, 2), dK.transpose(1, 0, 2)
