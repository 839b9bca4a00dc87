"""nprnn's Seq2Seq as PyTorch modules, with nprnn's parameter names and layouts (see export.py).

`TorchSeq2Seq` (and its parts `TorchEncoder`, `TorchDecoder`, `TorchAttention`) computes what
`Seq2Seq.loss` computes. Wherever nprnn holds a cell it holds a ``torch.nn.LSTMCell`` (GRUCell,
RNNCell) of the same name, but a sequence runs through PyTorch's fused ``nn.LSTM`` (GRU, RNN)
given those cells' tensors (`run_layer`), so on a GPU each layer is one cuDNN call.

This module imports torch at once; only export.py imports it, and only when asked to (PyTorch is
an optional extra). Imports: config, data.vocab (and torch).
"""
import torch

from .config import Seq2SeqConfig
from .data.vocab import PAD

nn, F = torch.nn, torch.nn.functional
pack, unpack = torch.nn.utils.rnn.pack_padded_sequence, torch.nn.utils.rnn.pad_packed_sequence
WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # a cell's four tensors, PyTorch's names

CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
ENGINES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}  # the fused loops over a whole sequence


def map_state(fn, *states):
    """fn over the tensors of states of one form: h, or an LSTM's (h, c)."""
    if isinstance(states[0], tuple):
        return tuple(fn(*parts) for parts in zip(*states))
    return fn(*states)


def hidden(state):
    return state[0] if isinstance(state, tuple) else state


def reverse_padded(x, lengths):
    """Each column of x (T, B, ...) reversed within its own length; padding stays (nprnn's encoder.reverse_padded)."""
    t = torch.arange(x.shape[0], device=x.device)[:, None]
    index = torch.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)  # (T, B)
    return x.gather(0, index.reshape(*index.shape, *([1] * (x.dim() - 2))).expand_as(x))


def run_layer(kind, layer_cells, x, state=None, lengths=None):
    """One recurrent layer over x (T, B, D) through PyTorch's fused RNN, with these cells' weights.

    layer_cells: [left-to-right cell] or [it, its right-to-left twin]; state: the initial state,
    each (B, H) (None: zeros); lengths (B,) or None (every column runs all T steps). Returns
    outputs (T, B, H * directions), zero past each column's end, and the final state, each
    (B, H * directions): the two directions' finals side by side, as nprnn's bridge.
    """
    first = layer_cells[0]
    bidirectional = len(layer_cells) == 2
    # an empty shell on the "meta" device: functional_call runs it with our cells' tensors
    engine = ENGINES[kind](first.input_size, first.hidden_size, bidirectional=bidirectional, device="meta",
                           dtype=first.weight_ih.dtype)
    weights = {f"{name}_l0{suffix}": getattr(cell, name)
               for cell, suffix in zip(layer_cells, ("", "_reverse")) for name in WEIGHTS}
    if state is not None:
        state = map_state(lambda s: s.unsqueeze(0).contiguous(), state)  # (layers * directions, B, H)
    if lengths is None:
        out, final = torch.func.functional_call(engine, weights, (x, state))
    else:
        packed = pack(x, lengths.clamp(min=1).cpu(), enforce_sorted=False)  # PyTorch packs no empty column
        out, final = torch.func.functional_call(engine, weights, (packed, state))
        out, _ = unpack(out, total_length=x.shape[0])
        real = (lengths > 0).to(x.dtype)  # an empty column: no output, and its final state is the initial zeros
        out = out * real[None, :, None]
        final = map_state(lambda f: f * real[None, :, None], final)
    final = map_state(lambda f: torch.cat(list(f), dim=-1), final)  # (directions, B, H) -> (B, H * directions)
    return out, final


def embed(embedding, ids):
    """nprnn's Embedding: <pad> positions give zero vectors, whatever row 0 holds (and row 0 gets no gradient)."""
    return embedding(ids) * (ids != PAD).unsqueeze(-1).to(embedding.weight.dtype)


def layer_name(layer, reverse=False):
    return ("cell" if layer == 0 else f"cell_l{layer}") + ("_reverse" if reverse else "")


class TorchAttention(nn.Module):
    """nprnn's Attention (attention.py) in PyTorch, with the same parameter names and layouts."""

    def __init__(self, query_size, key_size, score):
        super().__init__()
        self.score, Hq, Hk = score, query_size, key_size

        def param(fan_in, *shape):  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as nprnn
            return nn.Parameter(torch.empty(shape).uniform_(-1, 1) / fan_in**0.5)

        if score == "general":
            self.W_a = param(Hk, Hk, Hq)
        elif score == "additive":
            self.W_q = param(Hq, Hq, Hq)
            self.W_k = param(Hk, Hk, Hq)
            self.v = param(Hq, Hq)
        self.W_c = param(Hk + Hq, Hk + Hq, Hq)
        self.b_c = param(Hk + Hq, Hq)

    def forward(self, queries, keys, mask):
        """queries (T, B, Hq), keys (S, B, Hk), mask (S, B) -> out (T, B, Hq), weights (T, B, S)."""
        Q, K = queries.transpose(0, 1), keys.transpose(0, 1)  # batch first
        if self.score == "dot":
            e = Q @ K.transpose(1, 2)  # e_ts = s_t . h_s
        elif self.score == "general":
            e = Q @ (K @ self.W_a).transpose(1, 2)  # s_t . (h_s W_a)
        else:
            u = torch.tanh((Q @ self.W_q)[:, :, None, :] + (K @ self.W_k)[:, None, :, :])
            e = u @ self.v  # v . tanh(s_t W_q + h_s W_k)
        e = e.masked_fill(~mask.T[:, None, :], float("-inf"))  # padding gets weight 0
        e_max = e.amax(dim=2, keepdim=True).detach()
        w = torch.exp(e - torch.where(torch.isfinite(e_max), e_max, torch.zeros_like(e_max)))
        total = w.sum(dim=2, keepdim=True)
        w = w / torch.where(total > 0, total, torch.ones_like(total))  # an empty source attends to nothing
        c = w @ K  # the attended context
        out = torch.tanh(torch.cat([c, Q], dim=2) @ self.W_c + self.b_c)
        return out.transpose(0, 1), w.transpose(0, 1)


class TorchEncoder(nn.Module):
    """nprnn's Encoder: embedding, then stacked (optionally bidirectional) layers; dropout on
    the embeddings and between layers."""

    def __init__(self, c):
        super().__init__()
        self.kind, self.num_layers, self.bidirectional = c.cell, c.num_layers, c.bidirectional
        directions = 2 if c.bidirectional else 1
        self.embedding = nn.Embedding(c.src_vocab_size, c.embedding_dim, padding_idx=PAD)
        for layer in range(c.num_layers):
            size_in = c.embedding_dim if layer == 0 else c.hidden_size * directions
            for reverse in (False, True)[:directions]:
                self.add_module(layer_name(layer, reverse), CELLS[c.cell](size_in, c.hidden_size))
        for layer in range(c.num_layers):  # on the embeddings (layer 0), then between layers
            self.add_module(f"dropout_l{layer}", nn.Dropout(c.dropout))

    def forward(self, src, lengths):
        """src (S, B), lengths (B,) -> outputs (S, B, H * directions), each layer's final state."""
        x, finals = embed(self.embedding, src), []
        for layer in range(self.num_layers):
            x = getattr(self, f"dropout_l{layer}")(x)
            directions = (False, True) if self.bidirectional else (False,)
            layer_cells = [getattr(self, layer_name(layer, reverse)) for reverse in directions]
            x, final = run_layer(self.kind, layer_cells, x, None, lengths)
            finals.append(final)
        return x, finals


class TorchDecoder(nn.Module):
    """nprnn's Decoder: embedding, [context beside], layers, [attention], [context beside], Linear;
    dropout on the embeddings, between layers and before the Linear."""

    def __init__(self, c):
        super().__init__()
        self.kind, self.num_layers, self.peeky = c.cell, c.num_layers, c.peeky
        H = c.decoder_hidden_size
        context = H if c.peeky else 0
        self.embedding = nn.Embedding(c.tgt_vocab_size, c.embedding_dim, padding_idx=PAD)
        for layer in range(c.num_layers):
            self.add_module(layer_name(layer), CELLS[c.cell](c.embedding_dim + context if layer == 0 else H, H))
        self.attention = None
        if c.attention is not None:
            key_size = c.hidden_size * (2 if c.bidirectional else 1)
            self.attention = TorchAttention(H, key_size, c.attention)
        self.out = nn.Linear(H + context, c.tgt_vocab_size)
        for layer in range(c.num_layers):  # on the embeddings (layer 0), then between layers
            self.add_module(f"dropout_l{layer}", nn.Dropout(c.dropout))
        self.dropout_out = nn.Dropout(c.dropout)  # before the output layer

    def forward(self, tgt_in, states, memory):
        """tgt_in (T, B), each layer's initial state, memory (outputs, mask, context) ->
        (logits (T, B, V), each layer's final state, attention weights (T, B, S) or None)."""
        outputs, mask, context = memory
        beside = lambda x: torch.cat([x, context.expand(x.shape[0], *context.shape)], dim=-1)  # noqa: E731
        x = self.dropout_l0(embed(self.embedding, tgt_in))
        if self.peeky:
            x = beside(x)
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:
                x = getattr(self, f"dropout_l{layer}")(x)
            x, final = run_layer(self.kind, [getattr(self, layer_name(layer))], x, states[layer])
            finals.append(final)
        weights = None
        if self.attention is not None:
            x, weights = self.attention(x, outputs, mask)
        if self.peeky:
            x = beside(x)
        return self.out(self.dropout_out(x)), finals, weights


class TorchSeq2Seq(nn.Module):
    """nprnn's Seq2Seq in PyTorch. ``forward(src, tgt, src_lengths=None)`` is the loss (so a
    DistributedDataParallel wrapper returns it too); ``loss`` is the same; ``logits`` gives
    the logits (T-1, B, V). ``config``: the nprnn configuration, a dict (``from_torch`` reads it)."""

    def __init__(self, config):
        super().__init__()
        c = Seq2SeqConfig(**config)
        self.config = c.to_dict()
        self.encoder = TorchEncoder(c)
        self.decoder = TorchDecoder(c)
        self.to(getattr(torch, c.dtype))

    def extra_repr(self):
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())

    def encode(self, src, src_lengths=None):
        """src (S, B) -> ((encoder outputs, mask (S, B), peeky context or None), each layer's final state)."""
        if src.dim() != 2 or src.shape[1] == 0:
            raise ValueError(f"src must have shape (S, B) with B >= 1, got {tuple(src.shape)}")
        if src_lengths is None:
            lengths = (src != PAD).sum(dim=0)
        else:
            lengths = torch.as_tensor(src_lengths, device=src.device).long()
            if lengths.shape != (src.shape[1],):
                raise ValueError(f"src_lengths must have shape ({src.shape[1]},), got {tuple(lengths.shape)}")
        if self.config["reverse_source"]:
            src = reverse_padded(src, lengths)
        outputs, finals = self.encoder(src, lengths)
        mask = torch.arange(src.shape[0], device=src.device)[:, None] < lengths[None, :]
        context = hidden(finals[-1]) if self.config["peeky"] else None
        return (outputs, mask, context), finals  # the handoff: finals start the decoder

    def logits(self, src, tgt, src_lengths=None):
        """Teacher-forced logits (T-1, B, V): the decoder reads tgt[:-1] and predicts tgt[1:]."""
        if tgt.dim() != 2 or tgt.shape[0] < 2 or tgt.shape[1] != src.shape[1]:
            raise ValueError(f"tgt must have shape (T, {src.shape[1]}) with T >= 2, got {tuple(tgt.shape)}")
        memory, states = self.encode(src, src_lengths)
        return self.decoder(tgt[:-1], states, memory)[0]

    def forward(self, src, tgt, src_lengths=None, label_smoothing=0.0):
        """The mean cross-entropy of the real target tokens (<pad> ignored), as Seq2Seq.loss
        (and with the same label smoothing, which is PyTorch's)."""
        logits = self.logits(src, tgt, src_lengths)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[1:].reshape(-1), ignore_index=PAD,
                               label_smoothing=label_smoothing)

    def loss(self, src, tgt, src_lengths=None, label_smoothing=0.0):
        """The same as calling the module: the loss."""
        return self(src, tgt, src_lengths, label_smoothing)

