"""The encoder-decoder: `Encoder`, `Decoder` and `Seq2Seq`, with greedy decoding.

    src (S, B) ──Embedding──> (S, B, E) ──Recurrent──> hs (S, B, H), context
                                                                       │ the decoder's first state
    tgt[:-1] (T-1, B) ──Embedding──> ──Recurrent(state=context)──> ──Linear──> logits (T-1, B, V)
                                                                                │
                                          cross_entropy(logits, tgt[1:]) <──────┘

Token ids are time-major and padded with 0. The special ids are fixed: <pad> 0, <sos> 1,
<eos> 2, <unk> 3. The context is the encoder's state after each sequence's own last token:
(h, c) for an LSTM, h for a GRU or plain RNN. It is all the decoder knows of the source.
"""
import numpy as np

from .cells import CELLS, make_cell
from .layers import Embedding, Linear, cross_entropy
from .module import Module, as_float_dtype, as_rng, check_ids, check_positive_int
from .recurrent import Recurrent, check_lengths

PAD, SOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<sos>", "<eos>", "<unk>")


def lengths_from_padding(ids, name="src"):
    """Each column's number of tokens before its padding; padding must only trail."""
    real = ids != PAD
    lengths = real.sum(axis=0)
    trailing = np.arange(ids.shape[0])[:, None] < lengths[None, :]
    if not np.array_equal(real, trailing):
        bad = int(np.nonzero((real != trailing).any(axis=0))[0][0])
        raise ValueError(f"{name} column {bad} has <pad> (0) before a real token; padding must come at the end")
    return lengths


class Encoder(Module):
    """Reads a padded batch of token ids; returns every hidden state and the context.

    Parameters: ``embedding.W`` and ``cell.*``.
    """

    def __init__(self, vocab_size, embed_size, hidden_size, *, cell="lstm", rng=None, dtype=np.float64):
        super().__init__()
        rng = as_rng(rng)
        self.embedding = self.add_module("embedding", Embedding(vocab_size, embed_size, rng=rng, dtype=dtype))
        self.cell = self.add_module("cell", make_cell(cell, embed_size, hidden_size, rng=rng, dtype=dtype))
        self.rnn = Recurrent(self.cell)  # the driver; its parameters are the cell's

    def forward(self, src, lengths):
        """src (S, B) ids, lengths (B,) -> hs (S, B, H) and the context (the final state)."""
        return self.rnn.forward(self.embedding.forward(src), None, lengths)

    def backward(self, dhs, dcontext):
        """Gradients of hs and of the context -> None; adds into the encoder's grads."""
        dxs, _ = self.rnn.backward(dhs, dcontext)  # the initial state is zeros, not learned
        self.embedding.backward(dxs)


class Decoder(Module):
    """A language model over the target, started from the context.

    Parameters: ``embedding.W``, ``cell.*`` and ``out.W``, ``out.b`` (hidden state -> logits).
    """

    def __init__(self, vocab_size, embed_size, hidden_size, *, cell="lstm", rng=None, dtype=np.float64):
        super().__init__()
        rng = as_rng(rng)
        self.embedding = self.add_module("embedding", Embedding(vocab_size, embed_size, rng=rng, dtype=dtype))
        self.cell = self.add_module("cell", make_cell(cell, embed_size, hidden_size, rng=rng, dtype=dtype))
        self.out = self.add_module("out", Linear(hidden_size, vocab_size, rng=rng, dtype=dtype))
        self.rnn = Recurrent(self.cell)

    def forward(self, tgt_in, state):
        """Teacher forcing: tgt_in (T, B) ids, the initial state -> logits (T, B, V) and hs."""
        hs, _ = self.rnn.forward(self.embedding.forward(tgt_in), state)
        return self.out.forward(hs), hs

    def backward(self, dlogits):
        """dlogits (T, B, V) -> the gradient of the initial state (the context)."""
        dxs, dstate0 = self.rnn.backward(self.out.backward(dlogits))
        self.embedding.backward(dxs)
        return dstate0

    def step(self, ids, state):
        """One timestep of inference: ids (B,) and the state -> logits (B, V) and the new state.

        The very cell code of training (input projection, then the recurrence), one step.
        """
        x = self.embedding.forward(ids)
        state, _ = self.cell.step(self.cell.input_projection(x), state)
        h = state[0] if isinstance(state, tuple) else state
        return self.out.forward(h), state


class Seq2Seq(Module):
    """Encoder, context vector, decoder. Parameters: ``encoder.*`` and ``decoder.*``.

    ``loss(src, tgt)`` then ``backward()`` fills ``grads``; ``greedy_decode(src)`` translates.
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_size, hidden_size, *, cell="lstm", rng=None, dtype=np.float64):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        for name, size in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size)):
            if check_positive_int(name, size) <= EOS:
                raise ValueError(f"{name} must be more than {EOS} (the ids 0..{EOS} are <pad> <sos> <eos>), got {size}")
        self.config = dict(
            src_vocab_size=int(src_vocab_size),
            tgt_vocab_size=int(tgt_vocab_size),
            embed_size=check_positive_int("embed_size", embed_size),
            hidden_size=check_positive_int("hidden_size", hidden_size),
            cell=cell,
            dtype=as_float_dtype(dtype).name,
        )
        rng = as_rng(rng)
        kw = dict(cell=cell, rng=rng, dtype=dtype)
        self.encoder = self.add_module("encoder", Encoder(src_vocab_size, embed_size, hidden_size, **kw))
        self.decoder = self.add_module("decoder", Decoder(tgt_vocab_size, embed_size, hidden_size, **kw))
        self._tape = None

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"Seq2Seq({args})"

    @property
    def dtype(self):
        return np.dtype(self.config["dtype"])

    def _check_src(self, src, src_lengths):
        check_ids("src", src, (None, None), self.config["src_vocab_size"])
        S, B = src.shape
        if B == 0:
            raise ValueError(f"src must hold at least one sentence (shape (S, B) with B >= 1), got {src.shape}")
        if src_lengths is None:
            return lengths_from_padding(src, "src")
        return check_lengths(src_lengths, S, B)

    def loss(self, src, tgt, src_lengths=None):
        """Mean cross-entropy of the target tokens, with teacher forcing.

        src (S, B) ids; tgt (T, B) ids, each column <sos> w1 .. wn <eos> then <pad>;
        src_lengths (B,), or None to read each column's length off its padding.
        The decoder reads tgt[:-1] and is scored on tgt[1:], padding excluded.
        """
        lengths = self._check_src(src, src_lengths)
        check_ids("tgt", tgt, (None, src.shape[1]), self.config["tgt_vocab_size"])
        if tgt.shape[0] < 2:
            raise ValueError(f"tgt must have at least 2 rows (<sos> and one more token), got shape {tgt.shape}")
        _, context = self.encoder.forward(src, lengths)
        logits, _ = self.decoder.forward(tgt[:-1], context)
        loss, dlogits = cross_entropy(logits, tgt[1:], ignore_index=PAD)
        self._tape = (src.shape, dlogits)
        return loss

    def backward(self):
        """Back through the decoder, across the context vector, back through the encoder."""
        if self._tape is None:
            raise RuntimeError("Seq2Seq.backward needs a loss first (each loss allows one backward)")
        (S, B), dlogits = self._tape
        self._tape = None
        dcontext = self.decoder.backward(dlogits)
        dhs = np.zeros((S, B, self.config["hidden_size"]), dtype=self.dtype)  # only the context was used
        self.encoder.backward(dhs, dcontext)

    def greedy_decode(self, src, src_lengths=None, max_len=50):
        """Translate a batch: from <sos>, feed back the most likely token until <eos> or max_len.

        Returns one list of token ids per column of src, without <sos> and without <eos>.
        """
        lengths = self._check_src(src, src_lengths)
        if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 0:
            raise ValueError(f"max_len must be an int >= 0, got {max_len!r}")
        _, state = self.encoder.forward(src, lengths)
        B = src.shape[1]
        ids = np.full(B, SOS)
        out = [[] for _ in range(B)]
        done = np.zeros(B, dtype=bool)
        for _ in range(max_len):
            logits, state = self.decoder.step(ids, state)
            logits[:, [PAD, SOS]] = -np.inf  # never targets in training, so never outputs
            ids = logits.argmax(axis=1)
            done |= ids == EOS
            if done.all():
                break
            for b in np.nonzero(~done)[0]:
                out[b].append(int(ids[b]))
        return out
