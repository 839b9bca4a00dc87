"""Embedding, Linear, Dropout, and the masked softmax cross-entropy loss.

Like `Recurrent`, the layers keep what their backward needs from the last forward (the tape)
and use it once: ``y = layer.forward(x)``, then ``dx = layer.backward(dy)``.

Imports: checks, functional, module.
"""
import numpy as np

from .checks import as_float_dtype, as_rng, check_array, check_ids, check_positive_int, check_probability
from .functional import matmul, matmul_weight_grad
from .module import Module


class Embedding(Module):
    """A lookup table: token id k -> row k of W (V, E).

    forward: ids (...) int -> W[ids] (..., E). Looking up a row is multiplying a one-hot vector
    by W, so the gradient of W is the output gradients added into the rows that were looked up
    (a scatter-add). Positions holding ``padding_idx`` (default 0, ``<pad>``) give zero vectors
    whatever that row holds, so the row's true gradient is zero and it never learns.

    Why a padding id at all: a batch of sentences of different lengths is one rectangular array,
    so the shorter ones are filled up with <pad> (id 0). Those positions are not words; making
    them a constant zero vector with no gradient (as ``torch.nn.Embedding(padding_idx=0)`` does)
    keeps them from teaching the model anything. Its state dict holds ``weight``, PyTorch's name.
    """

    torch_names = {"W": ("weight", False)}

    def __init__(self, num_embeddings, embedding_dim, *, padding_idx=0, rng=None, dtype=np.float64):
        super().__init__()
        self.num_embeddings = check_positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        if padding_idx is not None and not (0 <= padding_idx < num_embeddings):
            raise ValueError(f"padding_idx must be None or in 0..{num_embeddings - 1}, got {padding_idx!r}")
        self.padding_idx = padding_idx
        self.dtype = as_float_dtype(dtype)
        # N(0, 1) like PyTorch's nn.Embedding: inputs to the cell of unit scale.
        W = as_rng(rng).standard_normal((num_embeddings, embedding_dim)).astype(self.dtype)
        if padding_idx is not None:
            W[padding_idx] = 0.0
        self.add_param("W", W)

    def __repr__(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}, padding_idx={self.padding_idx})"

    def forward(self, ids):
        """ids: integer array of any shape, values in 0..V-1 -> vectors (*ids.shape, E)."""
        check_ids("ids", ids, (None,) * np.ndim(ids), self.num_embeddings)
        self._tape = ids
        out = self._params["W"][ids]
        if self.padding_idx is not None:
            out[ids == self.padding_idx] = 0.0  # padding is a constant zero vector
        return out

    def backward(self, dout):
        """dout (*ids.shape, E) -> None (ids have no gradient); adds into grads['W']."""
        ids = self._pop_tape()
        check_array("dout", dout, (*ids.shape, self.embedding_dim), self.dtype)
        flat_ids = ids.reshape(-1)
        flat_dout = dout.reshape(-1, self.embedding_dim)
        if self.padding_idx is not None:
            keep = flat_ids != self.padding_idx  # the padding row gets no gradient
            flat_ids, flat_dout = flat_ids[keep], flat_dout[keep]
        # The scatter-add W_grad[id] += dout row, for every position: ids repeat, and each
        # repeat adds. Sorted, an id's rows lie side by side and np.add.reduceat sums each run in
        # one call (np.add.at(W_grad, ids, dout) says the same, several times slower).
        if flat_ids.size:
            order = np.argsort(flat_ids, kind="stable")
            sorted_ids = flat_ids[order]
            starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # where each id's run begins
            self._grads["W"][sorted_ids[starts]] += np.add.reduceat(flat_dout[order], starts, axis=0)
        return None


class Linear(Module):
    """y = x @ W + b, for x (..., in_features): W (in, out) is PyTorch's weight transposed (its
    state dict holds ``weight`` (out, in) and ``bias``, as ``torch.nn.Linear``'s does)."""

    torch_names = {"W": ("weight", True), "b": ("bias", False)}

    def __init__(self, in_features, out_features, *, bias=True, rng=None, dtype=np.float64):
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        self.dtype = as_float_dtype(dtype)
        rng = as_rng(rng)
        # PyTorch's nn.Linear initialisation: U(-1/sqrt(in), 1/sqrt(in)) for W and b.
        k = 1.0 / np.sqrt(in_features)
        self.add_param("W", rng.uniform(-k, k, (in_features, out_features)).astype(self.dtype))
        self.has_bias = bool(bias)
        if self.has_bias:
            self.add_param("b", rng.uniform(-k, k, out_features).astype(self.dtype))

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, bias={self.has_bias})"

    def forward(self, x):
        """x (..., in) -> (..., out)."""
        if not isinstance(x, np.ndarray) or x.ndim < 1 or x.shape[-1] != self.in_features:
            shape = getattr(x, "shape", None)
            raise ValueError(f"x must be an array of shape (..., {self.in_features}), got {shape}")
        if x.dtype != self.dtype:
            raise TypeError(f"x must have dtype {self.dtype} (the module's dtype), got {x.dtype}")
        self._tape = x
        y = matmul(x, self._params["W"])
        if self.has_bias:
            y += self._params["b"]
        return y

    def backward(self, dy):
        """dy (..., out) -> dx (..., in); adds into grads['W'] and grads['b']."""
        x = self._pop_tape()
        check_array("dy", dy, (*x.shape[:-1], self.out_features), self.dtype)
        self._grads["W"] += matmul_weight_grad(x, dy)  # y = x @ W + b
        if self.has_bias:
            self._grads["b"] += dy.reshape(-1, self.out_features).sum(axis=0)
        return matmul(dy, self._params["W"].T)


def cross_entropy(logits, targets, *, ignore_index=0, label_smoothing=0.0):
    """Mean softmax cross-entropy over the real tokens, and its gradient.

    logits (..., V) float; targets (...) int in 0..V-1. Positions whose target is
    ``ignore_index`` (default 0, <pad>: the filler after a shorter sentence's end, which is no
    word to predict; None counts every position) add nothing to the loss or the gradient, as
    with ``torch.nn.functional.cross_entropy(..., ignore_index=0)``.

    With ``label_smoothing`` ε the target distribution is q = (1 - ε) onehot + ε / V instead of
    the one-hot (Szegedy et al. 2016; PyTorch's ``label_smoothing``): the loss is
    -sum_v q_v log p_v, which keeps the model from growing ever more sure of itself.

    Returns (loss, dlogits), dlogits the gradient of the mean loss (same shape as logits):
    softmax minus q, divided by the number of real tokens.
    """
    if not isinstance(logits, np.ndarray) or logits.ndim < 1 or not np.issubdtype(logits.dtype, np.floating):
        raise TypeError(f"logits must be a float array of shape (..., V), got {type(logits).__name__}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) or not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be a number in [0, 1), got {label_smoothing!r}")
    V = logits.shape[-1]
    check_ids("targets", targets, logits.shape[:-1], V)
    flat_logits = logits.reshape(-1, V)
    flat_t = targets.reshape(-1)
    real = np.ones_like(flat_t, dtype=bool) if ignore_index is None else flat_t != ignore_index
    n_real = int(real.sum())
    if n_real == 0:
        raise ValueError("targets hold no real token (all are ignore_index), so the mean loss is undefined")
    rows = np.arange(flat_t.size)
    eps = float(label_smoothing)
    # log p = z - log(sum_v exp z_v), with z = logits - max (so that no exp overflows). One (N, V)
    # array serves throughout: z, then exp(z) in place, then the gradient in place. (This
    # layer handles the largest arrays of a step: a batch's every position times the vocabulary.)
    z = flat_logits - flat_logits.max(axis=1, keepdims=True)
    z_target = z[rows, flat_t]  # (N,)
    z_mean = z.mean(axis=1) if eps else None  # for the smoothing's sum over the vocabulary
    p = np.exp(z, out=z)  # softmax numerators
    total = p.sum(axis=1)  # (N,)
    log_total = np.log(total)
    per_token = -(1.0 - eps) * (z_target - log_total)  # -sum_v q_v log p_v, q = (1 - eps) onehot + eps / V
    if eps:
        per_token -= eps * (z_mean - log_total)
    loss = per_token[real].sum() / n_real
    weight = real / n_real  # (N,): the mean over real tokens only; 0 on ignored positions
    p *= (weight / total).astype(p.dtype)[:, None]  # softmax, times each row's weight
    p[rows, flat_t] -= ((1.0 - eps) * weight).astype(p.dtype)  # d loss / d logits = softmax - q
    if eps:
        p -= (eps / V * weight).astype(p.dtype)[:, None]
    return float(loss), p.reshape(logits.shape)


class Dropout(Module):
    """Inverted dropout: in training mode, zero each element with probability p and scale the
    survivors by 1 / (1 - p), so that nothing needs rescaling in evaluation mode, where it is the
    identity. ``train()`` / ``eval()`` switch it, as in PyTorch. The masks are drawn from the
    module's own generator (``rng``, a Generator or a seed) and kept for backward."""

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        self.p = check_probability("dropout", p)
        self.rng = as_rng(rng)

    def __repr__(self):
        return f"Dropout(p={self.p})"

    def forward(self, x):
        if not self.training or self.p == 0.0:
            self._tape = (None,)  # the identity
            return x
        mask = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / (1.0 - self.p)
        self._tape = (mask,)
        return x * mask

    def backward(self, dy):
        (mask,) = self._pop_tape()
        return dy if mask is None else dy * mask  # y = x * mask
