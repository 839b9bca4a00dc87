"""The encoder-decoder: `Encoder`, `Decoder` and `Seq2Seq`, with greedy decoding and beam search.

The plain model, the seed of it all:

    src (S, B) ──Embedding──> (S, B, E) ──Recurrent──> outputs (S, B, H), context
                                                                            │ the decoder's first state
    tgt[:-1] (T-1, B) ──Embedding──> ──Recurrent(state=context)──> ──Linear──> logits (T-1, B, V)
                                                                                │
                                               cross_entropy(logits, tgt[1:]) <─┘

and the improvements that history made to it, each an option, each with its backward by hand:

- ``reverse_source``: read the source backwards (Sutskever et al. 2014), so its first words
  are the last the encoder saw, close to the first words the decoder must write.
- ``bidirectional``: each encoder layer also reads the source right to left; the two final
  states are concatenated, so the decoder's hidden size is 2 * hidden_size (the bridge).
- ``num_layers``: stacked cells, each layer reading the one below, with inverted ``dropout``
  between layers in training; encoder layer l's final state starts decoder layer l.
- ``peeky``: the context (the top layer's final h) is concatenated to every decoder input
  and every input of the output layer, so the decoder never has to remember it.
- ``attention``: "dot", "general" or "additive" attention over the encoder's outputs
  (see attention.py); the output layer reads the state combined with the attended context.

Token ids are time-major and padded with 0. The special ids are fixed: <pad> 0, <sos> 1,
<eos> 2, <unk> 3. The context is the encoder's state after each sequence's own last token.
"""
from typing import NamedTuple, Optional

import numpy as np

from .attention import SCORES, Attention
from .cells import CELLS, make_cell
from .functional import log_softmax
from .layers import Dropout, Embedding, Linear, cross_entropy
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


def reverse_padded(x, lengths):
    """Reverse each column of a time-major array within its own length; padding stays put.

    The permutation is its own inverse, so it also carries gradients back.
    """
    T = x.shape[0]
    t = np.arange(T)[:, None]
    index = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)  # (T, B)
    return x[index, np.arange(x.shape[1])[None, :]]


def _h(state):
    return state[0] if isinstance(state, tuple) else state


def _concat_states(a, b):
    if isinstance(a, tuple):
        return tuple(np.concatenate([x, y], axis=-1) for x, y in zip(a, b))
    return np.concatenate([a, b], axis=-1)


def _split_state(d, H):
    if isinstance(d, tuple):
        return tuple(x[..., :H] for x in d), tuple(x[..., H:] for x in d)
    return d[..., :H], d[..., H:]


def _add_to_h(dstate, dh):
    return (dstate[0] + dh, dstate[1]) if isinstance(dstate, tuple) else dstate + dh


def _layer_name(layer, reverse=False):
    """PyTorch's suffixes: layer 0 is "cell", layer 1 "cell_l1"; "_reverse" for the backward direction."""
    return ("cell" if layer == 0 else f"cell_l{layer}") + ("_reverse" if reverse else "")


class Memory(NamedTuple):
    """What the decoder may read of the source: the encoder's outputs (S, B, H) and the mask of
    real positions (S, B) for attention, and the context h (B, H) for a peeky decoder."""

    outputs: np.ndarray
    mask: np.ndarray
    context: Optional[np.ndarray]


class Encoder(Module):
    """Reads a padded batch of token ids; returns its outputs and each layer's final state.

    Parameters: ``embedding.W`` and one cell per layer and direction: ``cell.*`` (layer 0),
    ``cell_reverse.*`` (its right-to-left twin, if bidirectional), ``cell_l1.*`` ...
    """

    def __init__(self, vocab_size, embed_size, hidden_size, *, cell="lstm", num_layers=1, bidirectional=False,
                 dropout=0.0, rng=None, dtype=np.float64):
        super().__init__()
        rng = as_rng(rng)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bidirectional = bool(bidirectional)
        self.hidden_size = hidden_size
        self.output_size = hidden_size * (2 if bidirectional else 1)
        self.embedding = self.add_module("embedding", Embedding(vocab_size, embed_size, rng=rng, dtype=dtype))
        self.cell = None  # layer 0's (left-to-right) cell, set below
        self.rnns = []  # per layer: the Recurrent drivers, left-to-right then right-to-left
        for layer in range(self.num_layers):
            size_in = embed_size if layer == 0 else self.output_size
            drivers = []
            for reverse in (False, True) if bidirectional else (False,):
                cell_ = self.add_module(_layer_name(layer, reverse), make_cell(cell, size_in, hidden_size, rng=rng, dtype=dtype))
                drivers.append(Recurrent(cell_))
            self.rnns.append(drivers)
        self.cell = self.rnns[0][0].cell
        self.dropouts = [Dropout(dropout) for _ in range(self.num_layers - 1)]
        self._lengths = None

    def forward(self, src, lengths, *, rng=None, training=False):
        """src (S, B) ids, lengths (B,) -> outputs (S, B, output_size) and a list of each layer's
        final state (the two directions' concatenated, if bidirectional)."""
        self._lengths = lengths
        x = self.embedding.forward(src)
        finals = []
        for layer, drivers in enumerate(self.rnns):
            if layer > 0:
                x = self.dropouts[layer - 1].forward(x, rng, training)  # between layers only
            hs, final = drivers[0].forward(x, None, lengths)
            if self.bidirectional:  # the same layer, reading each sentence right to left
                hs_back, final_back = drivers[1].forward(reverse_padded(x, lengths), None, lengths)
                hs = np.concatenate([hs, reverse_padded(hs_back, lengths)], axis=-1)
                final = _concat_states(final, final_back)  # the bridge: [forward; backward]
            finals.append(final)
            x = hs
        return x, finals

    def backward(self, doutputs, dfinals):
        """Gradients of the outputs and of each final state -> None; adds into the encoder's grads."""
        dx, lengths = doutputs, self._lengths
        for layer in reversed(range(self.num_layers)):
            drivers = self.rnns[layer]
            if self.bidirectional:
                H = self.hidden_size
                dfinal, dfinal_back = _split_state(dfinals[layer], H)
                dx_fwd, _ = drivers[0].backward(np.ascontiguousarray(dx[..., :H]), dfinal)
                dx_back, _ = drivers[1].backward(reverse_padded(dx[..., H:], lengths), dfinal_back)
                dx = dx_fwd + reverse_padded(dx_back, lengths)
            else:
                dx, _ = drivers[0].backward(dx, dfinals[layer])
            if layer > 0:
                dx = self.dropouts[layer - 1].backward(dx)
        self.embedding.backward(dx)


class Decoder(Module):
    """A language model over the target, started from the encoder's final states.

    Parameters: ``embedding.W``, one cell per layer (``cell.*``, ``cell_l1.*`` ...),
    ``attention.*`` if it attends, and ``out.W``, ``out.b`` (-> logits over the vocabulary).
    """

    def __init__(self, vocab_size, embed_size, hidden_size, *, cell="lstm", num_layers=1, attention=None,
                 memory_size=None, peeky=False, dropout=0.0, rng=None, dtype=np.float64):
        super().__init__()
        rng = as_rng(rng)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.peeky = bool(peeky)
        memory_size = memory_size or hidden_size
        context_size = hidden_size if peeky else 0  # the context is the top layer's final h
        self.embedding = self.add_module("embedding", Embedding(vocab_size, embed_size, rng=rng, dtype=dtype))
        self.rnns = []
        for layer in range(self.num_layers):
            size_in = (embed_size + context_size) if layer == 0 else hidden_size
            self.rnns.append(Recurrent(self.add_module(_layer_name(layer), make_cell(cell, size_in, hidden_size, rng=rng, dtype=dtype))))
        self.cell = self.rnns[0].cell
        self.dropouts = [Dropout(dropout) for _ in range(self.num_layers - 1)]
        self.attention = None
        if attention is not None:
            self.attention = self.add_module("attention", Attention(hidden_size, memory_size, attention, rng=rng, dtype=dtype))
        self.out = self.add_module("out", Linear(hidden_size + context_size, vocab_size, rng=rng, dtype=dtype))
        self._tape = None

    def forward(self, tgt_in, states, memory, *, rng=None, training=False):
        """tgt_in (T, B) ids, each layer's initial state, the memory ->
        (logits (T, B, V), each layer's final state, attention weights (T, B, S) or None)."""
        T, B = tgt_in.shape
        x = self.embedding.forward(tgt_in)
        if self.peeky:  # the context beside every input
            x = np.concatenate([x, np.broadcast_to(memory.context, (T, *memory.context.shape))], axis=-1)
        finals = []
        for layer, rnn in enumerate(self.rnns):
            if layer > 0:
                x = self.dropouts[layer - 1].forward(x, rng, training)
            x, final = rnn.forward(x, states[layer])
            finals.append(final)
        weights = None
        if self.attention is not None:
            x, weights = self.attention.forward(x, memory.outputs, memory.mask)
        if self.peeky:  # ... and beside every input of the output layer
            x = np.concatenate([x, np.broadcast_to(memory.context, (T, *memory.context.shape))], axis=-1)
        self._tape = (T, self.attention is not None)
        return self.out.forward(x), finals, weights

    def backward(self, dlogits):
        """dlogits (T, B, V) -> (gradients of each layer's initial state, of the memory's
        outputs (or None), of the context (or None))."""
        if self._tape is None:
            raise RuntimeError("Decoder.backward needs a forward first")
        T, attends = self._tape
        self._tape = None
        dx = self.out.backward(dlogits)
        dcontext = None
        H = self.rnns[-1].cell.hidden_size
        if self.peeky:
            dx, dcontext = dx[..., :H], dx[..., H:].sum(axis=0)  # the context was used at every step
        doutputs = None
        if attends:
            dx, doutputs = self.attention.backward(np.ascontiguousarray(dx))
        dstates = [None] * self.num_layers
        for layer in reversed(range(self.num_layers)):
            dx, dstates[layer] = self.rnns[layer].backward(np.ascontiguousarray(dx))
            if layer > 0:
                dx = self.dropouts[layer - 1].backward(dx)
        if self.peeky:
            E = self.embedding.embedding_dim
            dx, dcontext_in = dx[..., :E], dx[..., E:].sum(axis=0)
            dcontext = dcontext + dcontext_in
        self.embedding.backward(np.ascontiguousarray(dx))
        return dstates, doutputs, dcontext

    def step(self, ids, states, memory):
        """One timestep of inference: ids (B,), each layer's state, the memory ->
        (logits (B, V), the new states, attention weights (B, S) or None).

        It is `forward` over a sequence of length 1: the very code that training runs.
        """
        logits, states, weights = self.forward(ids[None, :], states, memory)
        self._tape = None  # nothing to backpropagate through inference
        return logits[0], states, (None if weights is None else weights[0])


class Seq2Seq(Module):
    """Encoder, context, decoder. Parameters: ``encoder.*`` and ``decoder.*``.

    ``loss(src, tgt)`` then ``backward()`` fills ``grads``; ``greedy_decode(src)`` and
    ``beam_search(src)`` translate. With dropout > 0, set ``model.training = True`` while
    training (``nprnn.train.fit`` does); it is False otherwise, and decoding never drops.
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_size, hidden_size, *, cell="lstm", num_layers=1,
                 bidirectional=False, attention=None, peeky=False, reverse_source=False, dropout=0.0, rng=None,
                 dtype=np.float64):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if attention is not None and attention not in SCORES:
            raise ValueError(f"attention must be None or one of {SCORES}, got {attention!r}")
        for name, size in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size)):
            if check_positive_int(name, size) <= EOS:
                raise ValueError(f"{name} must be more than {EOS} (the ids 0..{EOS} are <pad> <sos> <eos>), got {size}")
        if not (isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0):
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        self.config = dict(
            src_vocab_size=int(src_vocab_size),
            tgt_vocab_size=int(tgt_vocab_size),
            embed_size=check_positive_int("embed_size", embed_size),
            hidden_size=check_positive_int("hidden_size", hidden_size),
            cell=cell,
            num_layers=check_positive_int("num_layers", num_layers),
            bidirectional=bool(bidirectional),
            attention=attention,
            peeky=bool(peeky),
            reverse_source=bool(reverse_source),
            dropout=float(dropout),
            dtype=as_float_dtype(dtype).name,
        )
        rng = as_rng(rng)
        decoder_hidden = hidden_size * (2 if bidirectional else 1)  # the bidirectional bridge concatenates
        common = dict(cell=cell, num_layers=num_layers, dropout=dropout, rng=rng, dtype=dtype)
        self.encoder = self.add_module("encoder", Encoder(src_vocab_size, embed_size, hidden_size,
                                                          bidirectional=bidirectional, **common))
        self.decoder = self.add_module("decoder", Decoder(tgt_vocab_size, embed_size, decoder_hidden, attention=attention,
                                                          memory_size=self.encoder.output_size, peeky=peeky, **common))
        self.dropout_rng = np.random.default_rng(rng.integers(2**63))  # the masks' own stream
        self.training = False
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

    def encode(self, src, src_lengths=None):
        """Run the encoder: src (S, B) -> (the Memory the decoder reads, its initial states:
        one per layer). ``src_lengths=None`` reads each column's length off its padding."""
        lengths = self._check_src(src, src_lengths)
        if self.config["reverse_source"]:
            src = reverse_padded(src, lengths)
        outputs, finals = self.encoder.forward(src, lengths, rng=self.dropout_rng, training=self.training)
        mask = np.arange(src.shape[0])[:, None] < lengths[None, :]
        context = _h(finals[-1]) if self.config["peeky"] else None
        return Memory(outputs, mask, context), finals

    def loss(self, src, tgt, src_lengths=None, *, teacher_forcing=1.0, rng=None):
        """Mean cross-entropy of the target tokens.

        src (S, B) ids; tgt (T, B) ids, each column <sos> w1 .. wn <eos> then <pad>;
        src_lengths (B,), or None to read each column's length off its padding.
        The decoder reads tgt[:-1] and is scored on tgt[1:], padding excluded.

        teacher_forcing < 1 is scheduled sampling, in its parallel form (Duckworth et al. 2019):
        a first, teacher-forced pass predicts every next token; then each input token after
        <sos> is replaced, with probability 1 - teacher_forcing (drawn from `rng`), by the
        prediction made at the step before it, and the loss is computed on those inputs.
        """
        lengths = self._check_src(src, src_lengths)
        check_ids("tgt", tgt, (None, src.shape[1]), self.config["tgt_vocab_size"])
        if tgt.shape[0] < 2:
            raise ValueError(f"tgt must have at least 2 rows (<sos> and one more token), got shape {tgt.shape}")
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing!r}")
        memory, states = self.encode(src, lengths)
        tgt_in = tgt[:-1]
        if teacher_forcing < 1.0:
            logits, _, _ = self.decoder.forward(tgt_in, states, memory)
            guess = logits.argmax(axis=-1)  # (T-1, B): the prediction after reading tgt_in[t]
            rng = as_rng(rng)
            use_guess = rng.random(tgt_in.shape) >= teacher_forcing
            use_guess[0] = False  # <sos> stays
            use_guess &= tgt_in != PAD
            tgt_in = tgt_in.copy()
            tgt_in[1:][use_guess[1:]] = guess[:-1][use_guess[1:]]
        logits, _, _ = self.decoder.forward(tgt_in, states, memory, rng=self.dropout_rng, training=self.training)
        loss, dlogits = cross_entropy(logits, tgt[1:], ignore_index=PAD)
        self._tape = (dlogits, memory.outputs.shape)
        return loss

    def backward(self):
        """Back through the decoder, across the context (and the attention), back through the encoder."""
        if self._tape is None:
            raise RuntimeError("Seq2Seq.backward needs a loss first (each loss allows one backward)")
        (dlogits, outputs_shape), self._tape = self._tape, None
        dstates, doutputs, dcontext = self.decoder.backward(dlogits)
        if dcontext is not None:  # the peeky context is the top layer's final h
            dstates[-1] = _add_to_h(dstates[-1], dcontext)
        if doutputs is None:  # without attention only the final states were used
            doutputs = np.zeros(outputs_shape, dtype=self.dtype)
        self.encoder.backward(doutputs, dstates)

    def _check_decode_args(self, max_len):
        if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 0:
            raise ValueError(f"max_len must be an int >= 0, got {max_len!r}")
        self._tape = None  # decoding overwrites the layers' tapes: no backward after it

    def greedy_decode(self, src, src_lengths=None, max_len=50, *, return_attention=False):
        """Translate a batch: from <sos>, feed back the most likely token until <eos> or max_len.

        Returns one list of token ids per column of src, without <sos> and without <eos>; with
        return_attention=True also, per column, its attention weights (steps x source length).
        """
        self._check_decode_args(max_len)
        memory, states = self.encode(src, src_lengths)
        B = src.shape[1]
        ids = np.full(B, SOS)
        out = [[] for _ in range(B)]
        attention = [[] for _ in range(B)]
        done = np.zeros(B, dtype=bool)
        for _ in range(max_len):
            logits, states, weights = self.decoder.step(ids, states, memory)
            logits[:, [PAD, SOS]] = -np.inf  # never targets in training, so never outputs
            ids = logits.argmax(axis=1)
            for b in np.nonzero(~done)[0]:
                if weights is not None:
                    attention[b].append(weights[b])
                if ids[b] != EOS:
                    out[b].append(int(ids[b]))
            done |= ids == EOS
            if done.all():
                break
        if not return_attention:
            return out
        lengths = memory.mask.sum(axis=0)
        maps = [np.array(a)[:, : lengths[b]] if a else np.zeros((0, lengths[b])) for b, a in enumerate(attention)]
        if self.config["reverse_source"]:  # weights are over the reversed source: put them back
            maps = [m[:, ::-1] for m in maps]
        return out, maps

    def beam_search(self, src, src_lengths=None, beam_size=5, max_len=50, length_penalty=0.0):
        """Translate a batch keeping the `beam_size` best hypotheses at every step.

        A hypothesis' score is the sum of its tokens' log-probabilities (its <eos> included),
        divided by ((5 + n) / 6) ** length_penalty for n tokens (Wu et al. 2016; 0 means no
        normalisation, which favours short outputs). The search of a sentence ends when it has
        `beam_size` finished hypotheses and no open one can still beat the best of them, or at
        max_len (open hypotheses then count as finished). beam_size=1 is greedy decoding.
        Returns one list of token ids per column, the best hypothesis, without <sos> / <eos>.
        """
        return [hyps[0][0] for hyps in self.beam_search_all(src, src_lengths, beam_size, max_len, length_penalty)]

    def beam_search_all(self, src, src_lengths=None, beam_size=5, max_len=50, length_penalty=0.0):
        """Like `beam_search`, but every sentence's finished hypotheses, best first, as
        (token ids, score, sum of log-probabilities)."""
        self._check_decode_args(max_len)
        k = check_positive_int("beam_size", beam_size)
        if not (isinstance(length_penalty, (int, float)) and length_penalty >= 0):
            raise ValueError(f"length_penalty must be a number >= 0, got {length_penalty!r}")
        memory, states = self.encode(src, src_lengths)
        B = src.shape[1]
        # Every sentence's k beams sit in consecutive rows: row b * k + j is beam j of sentence b.
        rows = np.repeat(np.arange(B), k)
        memory = Memory(memory.outputs[:, rows], memory.mask[:, rows],
                        None if memory.context is None else memory.context[rows])
        states = [tuple(s[rows] for s in st) if isinstance(st, tuple) else st[rows] for st in states]
        logp_sum = np.full((B, k), -np.inf)
        logp_sum[:, 0] = 0.0  # at first, only one beam per sentence: the others are copies
        tokens = np.full((B, k, 0), SOS, dtype=np.int64)
        ids = np.full(B * k, SOS)
        penalty = lambda n: ((5.0 + n) / 6.0) ** length_penalty  # noqa: E731
        finished = [[] for _ in range(B)]  # (tokens, score, logp)
        open_ = np.ones(B, dtype=bool)
        for step in range(max_len):
            logits, states, _ = self.decoder.step(ids, states, memory)
            logp = log_softmax(logits.astype(np.float64))
            logp[:, [PAD, SOS]] = -np.inf
            V = logp.shape[1]
            total = (logp_sum.reshape(-1, 1) + logp).reshape(B, k * V)  # every beam, every next token
            best = np.argsort(-total, axis=1, kind="stable")[:, : 2 * k]  # 2k: up to k may end here
            parent, token = best // V, best % V
            new_sum = np.full((B, k), -np.inf)
            new_tokens = np.zeros((B, k, step + 1), dtype=np.int64)
            choice = np.zeros((B, k), dtype=np.int64)
            for b in range(B):
                if not open_[b]:
                    continue
                j = 0
                for cand in range(2 * k):  # best first; at most k of them end in <eos>
                    score = total[b, best[b, cand]]
                    if j == k or not np.isfinite(score):
                        break
                    seq = np.append(tokens[b, parent[b, cand]], token[b, cand])
                    if token[b, cand] != EOS:
                        new_sum[b, j], new_tokens[b, j], choice[b, j] = score, seq, parent[b, cand]
                        j += 1
                    elif cand < k:  # an <eos> among the k best: a finished hypothesis of n tokens + <eos>
                        finished[b].append((seq[:-1].tolist(), score / penalty(len(seq)), score))
                finished[b].sort(key=lambda h: -h[1])
                # Done with k finished hypotheses; without length normalisation, only once no open
                # beam can still beat the best of them (log-probabilities only fall as it grows).
                if len(finished[b]) >= k and (length_penalty > 0 or new_sum[b].max() <= finished[b][0][1]):
                    open_[b] = False
            if not open_.any():
                break
            logp_sum, tokens = new_sum, new_tokens
            rows = (np.arange(B)[:, None] * k + choice).reshape(-1)  # each new beam's parent row
            states = [tuple(s[rows] for s in st) if isinstance(st, tuple) else st[rows] for st in states]
            ids = new_tokens[:, :, -1].reshape(-1)
        for b in range(B):
            if open_[b] or not finished[b]:  # max_len reached: open beams count as finished
                for j in range(k):
                    if np.isfinite(logp_sum[b, j]):
                        n = tokens.shape[2]
                        finished[b].append((tokens[b, j].tolist(), logp_sum[b, j] / penalty(n), logp_sum[b, j]))
            finished[b].sort(key=lambda h: -h[1])
        return finished
