"""`Decoder`: a language model over the target, started from the encoder's final states.

    tgt_in (T, B) ──Embedding──> ──Recurrent(state = context)──> ... ──[Attention]──> ──Linear──> logits (T, B, V)

`forward` runs a whole teacher-forced sequence (training); `step` runs one token (decoding),
and it is `forward` over a sequence of length 1: the very code that training runs. What the
decoder may read of the source is a `Memory`: the encoder's outputs and their mask (for
attention) and the context h (for a peeky decoder).

Imports: checks, cells, layers, attention, recurrent, module, encoder (the layer names).
"""
from typing import NamedTuple, Optional

import numpy as np

from .attention import Attention
from .cells import make_cell
from .checks import as_rng, check_positive_int
from .encoder import layer_name
from .layers import Dropout, Embedding, Linear
from .module import Module
from .recurrent import Recurrent


class Memory(NamedTuple):
    """What the decoder may read of the source: the encoder's outputs (S, B, H) and the mask of
    real positions (S, B) for attention, and the context h (B, H) for a peeky decoder."""

    outputs: np.ndarray
    mask: np.ndarray
    context: Optional[np.ndarray]

    def take(self, rows):
        """The memory of the batch rows `rows` (in that order, repeats allowed): for beam search."""
        return Memory(self.outputs[:, rows], self.mask[:, rows], None if self.context is None else self.context[rows])


class Decoder(Module):
    """Parameters: ``embedding.W``, one cell per layer (``cell.*``, ``cell_l1.*`` ...),
    ``attention.*`` if it attends, and ``out.W``, ``out.b`` (-> logits over the vocabulary).
    Dropout (probability ``dropout``, training mode only) acts on the embeddings
    (``dropout_l0``), between layers (``dropout_l1`` ...) and before the output layer
    (``dropout_out``).
    """

    def __init__(self, vocab_size, embedding_dim, hidden_size, *, cell="lstm", num_layers=1, attention=None,
                 memory_size=None, peeky=False, dropout=0.0, rng=None, dtype=np.float64):
        super().__init__()
        rng = as_rng(rng)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.peeky = bool(peeky)
        self.hidden_size = hidden_size
        context_size = hidden_size if peeky else 0  # the context is the top layer's final h
        self.embedding = self.add_module("embedding", Embedding(vocab_size, embedding_dim, rng=rng, dtype=dtype))
        self.layers = []
        for layer in range(self.num_layers):
            size_in = (embedding_dim + context_size) if layer == 0 else hidden_size
            self.layers.append(Recurrent(self.add_module(
                layer_name(layer), make_cell(cell, size_in, hidden_size, rng=rng, dtype=dtype))))
        self.attention = None
        if attention is not None:
            self.attention = self.add_module("attention", Attention(hidden_size, memory_size or hidden_size, attention,
                                                                    rng=rng, dtype=dtype))
        self.out = self.add_module("out", Linear(hidden_size + context_size, vocab_size, rng=rng, dtype=dtype))
        self.dropouts = [self.add_module(f"dropout_l{layer}", Dropout(dropout)) for layer in range(self.num_layers)]
        self.dropout_out = self.add_module("dropout_out", Dropout(dropout))

    def _beside_context(self, x, memory):
        """x (T, B, X) -> [x; context] (T, B, X + H): the peeky decoder's inputs."""
        return np.concatenate([x, np.broadcast_to(memory.context, (x.shape[0], *memory.context.shape))], axis=-1)

    def forward(self, tgt_in, states, memory):
        """tgt_in (T, B) ids, each layer's initial state, the memory ->
        (logits (T, B, V), each layer's final state, attention weights (T, B, S) or None)."""
        x = self.dropouts[0].forward(self.embedding.forward(tgt_in))
        if self.peeky:  # the context beside every input
            x = self._beside_context(x, memory)
        finals = []
        for layer, rnn in enumerate(self.layers):
            if layer > 0:
                x = self.dropouts[layer].forward(x)
            x, final = rnn.forward(x, states[layer])
            finals.append(final)
        weights = None
        if self.attention is not None:
            x, weights = self.attention.forward(x, memory.outputs, memory.mask)
        if self.peeky:  # ... and beside every input of the output layer
            x = self._beside_context(x, memory)
        self._tape = True  # the layers keep their own tapes; this marks that they are fresh
        return self.out.forward(self.dropout_out.forward(x)), finals, weights

    def backward(self, dlogits):
        """dlogits (T, B, V) -> (gradients of each layer's initial state, of the memory's
        outputs (or None without attention), of the context (or None unless peeky))."""
        self._pop_tape()
        H = self.hidden_size
        dx = self.dropout_out.backward(self.out.backward(dlogits))
        dcontext = None
        if self.peeky:
            dx, dcontext = dx[..., :H], dx[..., H:].sum(axis=0)  # the context was used at every step
        doutputs = None
        if self.attention is not None:
            dx, doutputs = self.attention.backward(np.ascontiguousarray(dx))
        dstates = [None] * self.num_layers
        for layer in reversed(range(self.num_layers)):
            dx, dstates[layer] = self.layers[layer].backward(np.ascontiguousarray(dx))
            if layer > 0:
                dx = self.dropouts[layer].backward(dx)
        if self.peeky:
            E = self.embedding.embedding_dim
            dx, dcontext_in = dx[..., :E], dx[..., E:].sum(axis=0)
            dcontext = dcontext + dcontext_in
        self.embedding.backward(np.ascontiguousarray(self.dropouts[0].backward(dx)))
        return dstates, doutputs, dcontext

    def step(self, ids, states, memory):
        """One timestep of inference: ids (B,), each layer's state, the memory ->
        (logits (B, V), the new states, attention weights (B, S) or None)."""
        logits, states, weights = self.forward(ids[None, :], states, memory)
        self._tape = None  # nothing to backpropagate through inference
        return logits[0], states, (None if weights is None else weights[0])
