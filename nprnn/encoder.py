"""`Encoder`: source token ids -> embeddings -> stacked (optionally bidirectional) recurrent
layers -> the outputs at every position and each layer's final state, the context.

    src (S, B) ──Embedding──> (S, B, E) ──Recurrent──> ... ──Recurrent──> outputs (S, B, H)
                                             │ final state           │ final state
                                             └───── context: one state per layer ─────┘

Token ids are time-major and padded with <pad> (0) at the end; sequence b has ``lengths[b]``
real tokens, and its final state is the state after its own last token. A bidirectional layer
has a second cell reading each sentence right to left within its own length (padding stays at
the end); its outputs are the two directions side by side, and its final state is
``[forward final; backward final]``: the forward state after the last word beside the backward
state after the first.

Imports: checks, cells, layers, recurrent, module.
"""
import numpy as np

from .cells import make_cell
from .checks import as_rng, check_positive_int
from .layers import Dropout, Embedding
from .module import Module
from .recurrent import Recurrent, map_state


def reverse_padded(x, lengths):
    """Reverse each column of a time-major array within its own length; padding stays put.

    The permutation is its own inverse, so it also carries gradients back.
    """
    T = x.shape[0]
    t = np.arange(T)[:, None]
    index = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)  # (T, B)
    return x[index, np.arange(x.shape[1])[None, :]]


def layer_name(layer, reverse=False):
    """PyTorch's suffixes: layer 0 is "cell", layer 1 "cell_l1"; "_reverse" for the backward direction."""
    return ("cell" if layer == 0 else f"cell_l{layer}") + ("_reverse" if reverse else "")


class Encoder(Module):
    """Reads a padded batch of token ids; returns its outputs and each layer's final state.

    Parameters: ``embedding.W`` and one cell per layer and direction: ``cell.*`` (layer 0),
    ``cell_reverse.*`` (its right-to-left twin, if bidirectional), ``cell_l1.*`` ...
    Dropout (probability ``dropout``, training mode only) acts on the embeddings and between
    layers: ``dropout_l0`` before layer 0, ``dropout_l1`` before layer 1, ...
    """

    def __init__(self, vocab_size, embedding_dim, hidden_size, *, cell="lstm", num_layers=1, bidirectional=False,
                 dropout=0.0, rng=None, dtype=np.float64):
        super().__init__()
        rng = as_rng(rng)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bidirectional = bool(bidirectional)
        self.hidden_size = hidden_size
        self.output_size = hidden_size * (2 if bidirectional else 1)
        self.embedding = self.add_module("embedding", Embedding(vocab_size, embedding_dim, rng=rng, dtype=dtype))
        self.layers = []  # per layer: its Recurrent drivers, left-to-right then right-to-left
        for layer in range(self.num_layers):
            size_in = embedding_dim if layer == 0 else self.output_size
            directions = (False, True) if bidirectional else (False,)
            self.layers.append([Recurrent(self.add_module(layer_name(layer, reverse),
                                                          make_cell(cell, size_in, hidden_size, rng=rng, dtype=dtype)))
                                for reverse in directions])
        self.dropouts = [self.add_module(f"dropout_l{layer}", Dropout(dropout)) for layer in range(self.num_layers)]

    @property
    def cell(self):
        """Layer 0's (left-to-right) cell: the one a lesson steps through by hand."""
        return self.layers[0][0].cell

    def forward(self, src, lengths):
        """src (S, B) ids, lengths (B,) -> outputs (S, B, output_size) and a list of each layer's
        final state (the two directions' concatenated, if bidirectional)."""
        self._tape = lengths
        x = self.embedding.forward(src)
        finals = []
        for layer, drivers in enumerate(self.layers):
            x = self.dropouts[layer].forward(x)  # on the embeddings, then between layers
            hs, final = drivers[0].forward(x, None, lengths)
            if self.bidirectional:  # the same layer, reading each sentence right to left
                hs_back, final_back = drivers[1].forward(reverse_padded(x, lengths), None, lengths)
                hs = np.concatenate([hs, reverse_padded(hs_back, lengths)], axis=-1)
                final = map_state(lambda a, b: np.concatenate([a, b], axis=-1), final, final_back)  # the bridge
            finals.append(final)
            x = hs
        return x, finals

    def backward(self, doutputs, dfinals):
        """Gradients of the outputs and of each final state -> None; adds into the encoder's grads."""
        lengths = self._pop_tape()
        dx, H = doutputs, self.hidden_size
        for layer in reversed(range(self.num_layers)):
            drivers = self.layers[layer]
            if self.bidirectional:  # split the gradients of [forward; backward] between the two
                dfinal = map_state(lambda d: d[..., :H], dfinals[layer])
                dfinal_back = map_state(lambda d: d[..., H:], dfinals[layer])
                dx_fwd, _ = drivers[0].backward(np.ascontiguousarray(dx[..., :H]), dfinal)
                dx_back, _ = drivers[1].backward(reverse_padded(dx[..., H:], lengths), dfinal_back)
                dx = dx_fwd + reverse_padded(dx_back, lengths)
            else:
                dx, _ = drivers[0].backward(dx, dfinals[layer])
            dx = self.dropouts[layer].backward(dx)
        self.embedding.backward(dx)
