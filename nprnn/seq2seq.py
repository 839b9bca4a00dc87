"""`Seq2Seq`: the encoder, the context handoff, the decoder; and the loss that trains them.

    src (S, B) ──Encoder──> outputs (S, B, H), final states ──the context──> the Decoder's initial states
    tgt[:-1] (T-1, B) ──Decoder──> logits (T-1, B, V) ──cross_entropy(·, tgt[1:])──> loss

The context is the encoder's state after each sentence's own last token, one per layer (for
an LSTM `h` and `c`), and it is the decoder's initial state. With attention the decoder also
reads every encoder output; peeky, it reads the top layer's final h beside every input.
Every setting is a field of `Seq2SeqConfig` (config.py). Token ids are time-major and padded
with <pad> (0); the special ids are in nprnn/data/vocab.py.

Imports: config, checks, layers, encoder, decoder, search, recurrent, module, data.
"""
import numpy as np

from . import search
from .checks import as_rng, check_ids, check_lengths, check_positive_int
from .config import Seq2SeqConfig
from .data.batching import lengths_from_padding, pad_batch
from .data.vocab import PAD, SOS
from .decoder import Decoder, Memory
from .encoder import Encoder, reverse_padded
from .layers import Dropout, cross_entropy
from .module import Module
from .recurrent import hidden, map_state


class Seq2Seq(Module):
    """Encoder, context, decoder. Parameters: ``encoder.*`` and ``decoder.*``.

        model = Seq2Seq(src_vocab_size, tgt_vocab_size, embedding_dim=32, hidden_size=64, cell="gru", rng=0)

    takes the fields of `Seq2SeqConfig` (``Seq2Seq.from_config(config)`` takes one whole).
    ``loss(src, tgt)`` then ``backward()`` fills ``grads``; ``greedy_decode(src)`` and
    ``beam_search(src)`` translate. Like a PyTorch module it starts in training mode; call
    ``eval()`` before decoding a model with dropout.
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embedding_dim=64, hidden_size=256, *, rng=None, **options):
        super().__init__()
        self.config = c = Seq2SeqConfig(src_vocab_size, tgt_vocab_size, embedding_dim, hidden_size, **options)
        c.check_fits_in_memory()  # refuse absurd sizes before allocating anything
        rng = as_rng(rng)
        common = dict(cell=c.cell, num_layers=c.num_layers, dropout=c.dropout, rng=rng, dtype=c.dtype)
        self.encoder = self.add_module("encoder", Encoder(c.src_vocab_size, c.embedding_dim, c.hidden_size,
                                                          bidirectional=c.bidirectional, **common))
        self.decoder = self.add_module("decoder", Decoder(c.tgt_vocab_size, c.embedding_dim, c.decoder_hidden_size,
                                                          attention=c.attention, memory_size=self.encoder.output_size,
                                                          peeky=c.peeky, **common))
        dropout_rng = np.random.default_rng(rng.integers(2**63))  # the masks' own stream, drawn after the weights
        for module in self.modules():
            if isinstance(module, Dropout):
                module.rng = dropout_rng

    @classmethod
    def from_config(cls, config, *, rng=None):
        fields = config.to_dict()
        return cls(fields.pop("src_vocab_size"), fields.pop("tgt_vocab_size"), rng=rng, **fields)

    def __repr__(self):
        return f"Seq2Seq({', '.join(f'{k}={v!r}' for k, v in self.config.to_dict().items())})"

    @property
    def dtype(self):
        return np.dtype(self.config.dtype)

    def encode(self, src, src_lengths=None):
        """Run the encoder: src (S, B) -> (the Memory the decoder reads, its initial states:
        one per layer). ``src_lengths=None`` reads each column's length off its padding."""
        check_ids("src", src, (None, None), self.config.src_vocab_size)
        if 0 in src.shape:
            raise ValueError(f"src must hold at least one sentence and one timestep (shape (S, B) with S, B >= 1; "
                             f"an empty sentence is a column of <pad> with length 0), got {src.shape}")
        if src_lengths is None:
            lengths = lengths_from_padding(src, "src")
        else:
            lengths = check_lengths(src_lengths, *src.shape, name="src_lengths")
        if self.config.reverse_source:
            src = reverse_padded(src, lengths)
        outputs, finals = self.encoder.forward(src, lengths)
        mask = np.arange(src.shape[0])[:, None] < lengths[None, :]
        context = hidden(finals[-1]) if self.config.peeky else None
        return Memory(outputs, mask, context), finals  # the handoff: finals start the decoder

    def loss(self, src, tgt, src_lengths=None, *, teacher_forcing=1.0, rng=None, label_smoothing=0.0):
        """Mean cross-entropy of the target tokens.

        src (S, B) ids; tgt (T, B) ids, each column <sos> w1 .. wn <eos> then <pad>;
        src_lengths (B,), or None to read each column's length off its padding.
        The decoder reads tgt[:-1] and is scored on tgt[1:], padding excluded.

        teacher_forcing < 1 is scheduled sampling, in its parallel form (Duckworth et al. 2019):
        a first, teacher-forced pass predicts every next token; then each input token after
        <sos> is replaced, with probability 1 - teacher_forcing (drawn from `rng`), by the
        prediction made at the step before it, and the loss is computed on those inputs.
        label_smoothing: see `layers.cross_entropy`.
        """
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing!r}")
        memory, states = self.encode(src, src_lengths)
        check_ids("tgt", tgt, (None, src.shape[1]), self.config.tgt_vocab_size)
        if tgt.shape[0] < 2:
            raise ValueError(f"tgt must have at least 2 rows (<sos> and one more token), got shape {tgt.shape}")
        tgt_in = tgt[:-1]
        if teacher_forcing < 1.0:
            tgt_in = self._scheduled_inputs(tgt_in, states, memory, teacher_forcing, as_rng(rng))
        logits, _, _ = self.decoder.forward(tgt_in, states, memory)
        loss, dlogits = cross_entropy(logits, tgt[1:], ignore_index=PAD, label_smoothing=label_smoothing)
        self._tape = (dlogits, memory.outputs.shape)
        return loss

    def _scheduled_inputs(self, tgt_in, states, memory, teacher_forcing, rng):
        """The decoder's inputs with each token after <sos> replaced, with probability
        1 - teacher_forcing, by the teacher-forced pass's prediction of it."""
        logits, _, _ = self.decoder.forward(tgt_in, states, memory)
        guess = logits.argmax(axis=-1)  # (T-1, B): the prediction after reading tgt_in[t]
        use_guess = rng.random(tgt_in.shape) >= teacher_forcing
        use_guess[0] = False  # <sos> stays
        use_guess &= tgt_in != PAD
        tgt_in = tgt_in.copy()
        tgt_in[1:][use_guess[1:]] = guess[:-1][use_guess[1:]]
        return tgt_in

    def backward(self):
        """Back through the decoder, across the context (and the attention), back through the encoder."""
        dlogits, outputs_shape = self._pop_tape(needs="loss")
        dstates, doutputs, dcontext = self.decoder.backward(dlogits)
        if dcontext is not None:  # the peeky context is the top layer's final h
            top = dstates[-1]
            dstates[-1] = (top[0] + dcontext, top[1]) if isinstance(top, tuple) else top + dcontext
        if doutputs is None:  # without attention only the final states were used
            doutputs = np.zeros(outputs_shape, dtype=self.dtype)
        self.encoder.backward(doutputs, dstates)

    # ---- translating -------------------------------------------------------------------------

    def _decoder_step(self, memory):
        self._tape = None  # decoding overwrites the layers' tapes: no backward after it
        return lambda ids, states: self.decoder.step(ids, states, memory)[:2]

    def greedy_decode(self, src, src_lengths=None, max_len=50):
        """Translate a batch greedily (see `search.greedy_decode`): one list of token ids per
        column of src, without <sos> and <eos>."""
        memory, states = self.encode(src, src_lengths)
        return search.greedy_decode(self._decoder_step(memory), states, src.shape[1], max_len=max_len)

    def beam_search_all(self, src, src_lengths=None, beam_size=5, max_len=50, length_penalty=0.0):
        """Every sentence's finished hypotheses, best first (see `search.beam_search`)."""
        memory, states = self.encode(src, src_lengths)
        rows = np.repeat(np.arange(src.shape[1]), check_positive_int("beam_size", beam_size))
        states = map_state(lambda a: a[rows], states)  # beam j of sentence b in row b * k + j
        return search.beam_search(self._decoder_step(memory.take(rows)), states, src.shape[1], beam_size=beam_size,
                                  max_len=max_len, length_penalty=length_penalty)

    def beam_search(self, src, src_lengths=None, beam_size=5, max_len=50, length_penalty=0.0):
        """Translate a batch by beam search: the best hypothesis of each column, as token ids."""
        return [hyps[0].tokens for hyps in self.beam_search_all(src, src_lengths, beam_size, max_len, length_penalty)]

    def attention_weights(self, src, hyps, src_lengths=None):
        """The attention behind translations `hyps` (lists of ids, from greedy_decode or
        beam_search): per sentence, weights (len(hyp) + 1, source length), one row per written
        token and one for the <eos>, columns in reading order.

        The decoder is run teacher-forced on <sos> + hyp: the same weights as while decoding,
        since a step reads nothing but the tokens before it.
        """
        if self.decoder.attention is None:
            raise ValueError("this model has no attention (attention=None)")
        memory, states = self.encode(src, src_lengths)
        tgt_in, _ = pad_batch([[SOS] + list(h) for h in hyps])
        _, _, weights = self.decoder.forward(tgt_in, states, memory)
        self._tape = None
        lengths = memory.mask.sum(axis=0)
        maps = [weights[: len(h) + 1, b, : lengths[b]] for b, h in enumerate(hyps)]
        return [m[:, ::-1] for m in maps] if self.config.reverse_source else maps
