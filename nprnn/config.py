"""Every setting, defined once: `Seq2SeqConfig` (the model) and `TrainConfig` (the training).

`Seq2Seq(...)` takes the fields of `Seq2SeqConfig` as its arguments, a checkpoint stores them
(as JSON), the `nprnn train` flags are made from both dataclasses (``--embedding-dim``,
``--num-layers``, ``--lr`` ...: the field name with dashes, the help text and the allowed values
from the field's metadata), and the README's tables of options list them (a test holds the
README to these fields). Every value is checked by `check_setting`, in one place, when a config
is made and when a flag is read.

Imports: checks, cells (the registry `CELLS`), attention (`SCORES`), data.vocab (the special ids).
"""
import math
import numbers
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Optional

import numpy as np

from .attention import SCORES
from .cells import CELLS
from .checks import as_float_dtype
from .data.vocab import EOS


def _option(default, help, kind, *, choices=None, interval=None, cli=True):
    """A field, with what the checks, the command line and the README need to know of it.

    kind: "int" (a positive int), "float" (in `interval`: (low, high, low_open, high_open)),
    "bool" or "choice" (one of `choices`; None allowed where the default is None).
    """
    return field(default=default, metadata=dict(help=help, kind=kind, choices=choices, interval=interval, cli=cli))


def describe_interval(interval):
    low, high, low_open, high_open = interval
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def check_setting(f, value):
    """`value` checked against the field `f`'s metadata, or a ValueError/TypeError naming it."""
    m = f.metadata
    if m["kind"] == "int":
        high = m["interval"][1] if m["interval"] else math.inf  # ints may have a ceiling: (1, high, False, False)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= high:
            raise ValueError(f"{f.name} must be a positive int{'' if high == math.inf else f' up to {high}'}, got {value!r}")
        value = int(value)
    elif m["kind"] == "float":
        low, high, low_open, high_open = m["interval"]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
        ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
        if not ok:
            raise ValueError(f"{f.name} must be a number in {describe_interval(m['interval'])}, got {value!r}")
        value = float(value)
    elif m["kind"] == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{f.name} must be True or False, got {value!r}")
    elif not (value in m["choices"] or (value is None and f.default is None)):
        allowed = ("None or " if f.default is None else "") + "one of " + ", ".join(m["choices"])
        raise ValueError(f"{f.name} must be {allowed}, got {value!r}")
    return value


def _check_all(config):
    for f in fields(config):
        object.__setattr__(config, f.name, check_setting(f, getattr(config, f.name)))


@dataclass(frozen=True)
class Seq2SeqConfig:
    """The architecture of a `Seq2Seq`: sizes, cell, and the options beyond one context vector."""

    src_vocab_size: int = _option(None, "source vocabulary size, special tokens included", "int", cli=False)
    tgt_vocab_size: int = _option(None, "target vocabulary size, special tokens included", "int", cli=False)
    embedding_dim: int = _option(64, "size of the token embeddings, in encoder and decoder", "int")
    hidden_size: int = _option(256, "size of the hidden state (of each direction, if bidirectional)", "int")
    cell: str = _option("lstm", "the recurrent cell", "choice", choices=tuple(CELLS))
    num_layers: int = _option(1, "stacked recurrent layers, in encoder and decoder", "int",
                              interval=(1, 64, False, False))
    bidirectional: bool = _option(False, "the encoder also reads right to left; the decoder gets 2 x hidden_size units",
                                  "bool")
    attention: Optional[str] = _option(None, "attention over the encoder's outputs, by its score", "choice",
                                       choices=SCORES)
    peeky: bool = _option(False, "the context beside every decoder input and every input of the output layer", "bool")
    reverse_source: bool = _option(False, "read each source sentence backwards (Sutskever et al. 2014)", "bool")
    dropout: float = _option(0.0, "inverted dropout on the embeddings, between layers and before the output layer (training only)", "float",
                             interval=(0, 1, False, True))
    dtype: str = _option("float64", "float precision", "choice", choices=("float32", "float64"))

    def __post_init__(self):
        if not isinstance(self.dtype, str):  # np.float32 and the like, as a name
            object.__setattr__(self, "dtype", as_float_dtype(self.dtype).name)
        _check_all(self)
        for name in ("src_vocab_size", "tgt_vocab_size"):
            if getattr(self, name) <= EOS:
                raise ValueError(f"{name} must be more than {EOS} (the ids 0..{EOS} are <pad> <sos> <eos>), "
                                 f"got {getattr(self, name)}")

    @property
    def decoder_hidden_size(self):
        """The decoder's hidden size: the bidirectional bridge concatenates the two directions."""
        return self.hidden_size * (2 if self.bidirectional else 1)

    def num_params(self):
        """The number of weights a `Seq2Seq` of this config holds, counted without making it, in
        closed form (layers above the first are alike), so any num_layers is counted at once."""
        G, E, H, Hd = CELLS[self.cell].num_gates, self.embedding_dim, self.hidden_size, self.decoder_hidden_size
        L, directions = self.num_layers, (2 if self.bidirectional else 1)
        context = Hd if self.peeky else 0

        def cell(size_in, size):  # Wx, Wh, bx, bh
            return G * size * (size_in + size + 2)

        n = self.src_vocab_size * E + self.tgt_vocab_size * E  # the two embeddings
        n += directions * (cell(E, H) + (L - 1) * cell(H * directions, H))  # the encoder's layers
        n += cell(E + context, Hd) + (L - 1) * cell(Hd, Hd)  # the decoder's layers
        Hk = H * directions  # attention: keys are encoder outputs, queries decoder outputs (Hd)
        n += {None: 0, "dot": 0, "general": Hk * Hd, "additive": Hd * Hd + Hk * Hd + Hd}[self.attention]
        n += 0 if self.attention is None else (Hk + Hd) * Hd + Hd  # the combine layer W_c, b_c
        return n + (Hd + context) * self.tgt_vocab_size + self.tgt_vocab_size  # the output layer

    def check_fits_in_memory(self, total=None):
        """Raise a ValueError, before anything is allocated, if training this model would need
        more than this process may use (the machine's memory, or less under `ulimit -v`): its
        weights, their gradients and Adam's two moments. (A batch's activations come on top:
        running out of memory there is one line too, from the command.)"""
        if total is None:
            total = _memory_available()
            if total is None:
                return
        need = 4 * self.num_params() * np.dtype(self.dtype).itemsize
        if need > total:
            raise ValueError(f"this model needs about {need / 2**30:,.1f} GiB for its weights, gradients and "
                             f"optimizer state, more than the {total / 2**30:,.1f} GiB this process may use; "
                             f"choose smaller sizes (embedding_dim {self.embedding_dim}, hidden_size {self.hidden_size}, "
                             f"num_layers {self.num_layers}, vocabularies {self.src_vocab_size} and "
                             f"{self.tgt_vocab_size})")

    def to_dict(self):
        return asdict(self)


def _memory_available():
    """Bytes this process may use: the machine's memory, or less where a limit on the address
    space (`ulimit -v`) says so; None where neither can be read."""
    sizes = []
    try:
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    try:
        import resource  # POSIX only

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            sizes.append(soft)
    except (ImportError, ValueError, OSError):
        pass
    return min(sizes) if sizes else None


@dataclass(frozen=True)
class TrainConfig:
    """How `fit` trains: epochs of Adam over shuffled batches, with early stopping."""

    epochs: int = _option(20, "most epochs (training stops early when validation stalls)", "int")
    batch_size: int = _option(64, "sentences per batch", "int")
    lr: float = _option(0.005, "Adam's learning rate", "float", interval=(0, math.inf, True, True))
    lr_decay: float = _option(1.0, "multiply the learning rate by this after each epoch", "float",
                              interval=(0, 1, True, False))
    clip: float = _option(5.0, "largest global norm of the gradients (clipped beyond it)", "float",
                          interval=(0, math.inf, True, True))
    patience: int = _option(4, "epochs without improvement before stopping early", "int")
    teacher_forcing: float = _option(1.0, "teacher-forcing ratio; below 1 is scheduled sampling", "float",
                                     interval=(0, 1, False, False))
    tokenizer: str = _option("word", "how text becomes tokens: words and punctuation, characters, or byte-pair "
                                      "subwords learned from the training side", "choice", choices=("word", "char", "bpe"))
    vocab_size: int = _option(8000, "BPE: at most this many symbols on each side, its alphabet and merges (fewer when no pair of symbols occurs twice); a tsv: corpus sizes it to its training pairs", "int")
    min_freq: int = _option(1, "tokens seen fewer times in training become <unk>", "int")
    max_len: int = _option(50, "longest translation, in tokens (unless the task sets one: at least twice the "
                                "longest training target)", "int", interval=(1, 10_000, False, False))
    label_smoothing: float = _option(0.0, "the target's probability spread over the vocabulary (Szegedy et al. 2016)",
                                     "float", interval=(0, 1, False, True))
    time_limit: float = _option(0.0, "stop training after this many seconds, keeping the best (0: no limit)", "float",
                                interval=(0, math.inf, False, True))
    valid_sentences: int = _option(500, "validation sources decoded after each epoch (the first N)", "int")
    keep_best: str = _option("exact", "the validation score that picks the epoch kept: exact match (then chrF), "
                                      "chrF (then BLEU) or BLEU (then chrF); a lower loss breaks ties", "choice",
                             choices=("exact", "chrf", "bleu"))

    def __post_init__(self):
        _check_all(self)

    def to_dict(self):
        return asdict(self)


def options(config_class):
    """The fields of a config a user chooses (not the vocabulary sizes, which the data decide)."""
    return [f for f in fields(config_class) if f.metadata["cli"]]


def options_table():
    """The README's table of settings, made from the two dataclasses (a test holds them equal)."""
    rows = ["| flag of `nprnn train` | Python name | default | what |", "|---|---|---|---|"]
    for config_class in (Seq2SeqConfig, TrainConfig):
        for f in options(config_class):
            m = f.metadata
            flag = "--" + f.name.replace("_", "-")
            if m["kind"] == "bool":
                flag = f"{flag} / --no-{f.name.replace('_', '-')}"
            elif m["kind"] == "choice":
                flag += " " + "\\|".join(list(m["choices"]) + (["none"] if f.default is None else []))
            elif m["kind"] == "float":
                flag += f" X in {describe_interval(m['interval'])}"
            else:
                flag += " N" + (f" in 1..{m['interval'][1]}" if m["interval"] else "")
            rows.append(f"| `{flag}` | `{f.name}` | `{f.default}` | {m['help'].replace('<', '&lt;')} |")
    return "\n".join(rows)
