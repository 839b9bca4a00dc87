"""Checkpoints: one .npz file with the configuration, both vocabularies and every weight.

Everything in it is a plain array: the weights as real floats (the model's ``state_dict()``,
in PyTorch's names and layouts), and the configuration, the metadata and the two vocabularies
as JSON text (JSON escapes every character, so any token, a NUL or a lone surrogate included,
comes back exactly). It is read with ``allow_pickle=False``, so loading a checkpoint never runs
code from it. Loading checks everything before it allocates anything: the marker, each array's
header against the bytes that hold it, the configuration's every field (each one present: none
takes a default), the metadata's known fields, the vocabularies, and every weight: its name and
shape against those the configuration implies (`state_shapes`), its dtype and that it is
finite; then that the model fits in memory. Only then is the model made. Anything else is
refused with a one-line `CheckpointError`.

The file is written atomically (files.atomic_write): an interrupted save leaves the previous
checkpoint whole. A checkpoint with a NaN or infinite weight is never written. Its zip entries
carry a fixed date, so the same training run gives the same bytes.

Imports: files, cells, config, encoder (the layers' names), seq2seq, data.vocab.
"""
import io
import json
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from .cells import CELLS
from .config import Seq2SeqConfig
from .data.vocab import Vocab
from .encoder import layer_name
from .files import FileProblem, atomic_write, check_output_path
from .seq2seq import Seq2Seq

FORMAT = "nprnn-checkpoint/2"  # 2: weights in PyTorch's names and layouts, text as JSON


class CheckpointError(ValueError):
    """A checkpoint could not be read or written; the message says which file and why."""


def save_checkpoint(path, model, src_vocab, tgt_vocab, meta=None):
    """Write model, vocabularies and `meta` (a JSON-able dict) to `path` (.npz), atomically."""
    path = Path(path)
    state = model.state_dict()
    for name, value in state.items():
        if not np.isfinite(value).all():
            raise CheckpointError(f"refusing to write {path}: the weight {name} holds NaN or inf")
    arrays = {
        "format": np.array(FORMAT),
        "config": np.array(json.dumps(model.config.to_dict(), sort_keys=True)),
        "meta": np.array(json.dumps(meta or {}, sort_keys=True)),
        "src_vocab": np.array(json.dumps(src_vocab.tokens)),
        "tgt_vocab": np.array(json.dumps(tgt_vocab.tokens)),
        **{f"param/{name}": value for name, value in state.items()},
    }

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, value in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
                zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue())

    try:
        return atomic_write(path, write)
    except OSError as e:
        raise CheckpointError(f"cannot write checkpoint {path}: {e.strerror or e}") from None


def is_checkpoint(path):
    """True if `path` is a zip file holding nprnn's checkpoint marker (of any version)."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("format.npy")
            if info.file_size > 4096:
                return False
            with zf.open(info) as f:
                return str(np.lib.format.read_array(f, allow_pickle=False)).startswith("nprnn-checkpoint/")
    except (OSError, zipfile.BadZipFile, KeyError, EOFError, ValueError):
        return False


def check_checkpoint_path(path):
    """Refuse, before training, an --out that nprnn may not replace (see files.check_output_path)."""
    try:
        return check_output_path(path, is_checkpoint, "checkpoint")
    except FileProblem as e:
        raise CheckpointError(str(e)) from None


def _read_array(zf, info, path):
    """One .npy entry, its header checked against its size before any allocation."""
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise CheckpointError(f"{path}: {info.filename} is an .npy file of version {version}, which nprnn never writes")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(f)
        if dtype.hasobject:
            raise CheckpointError(f"{path} holds pickled objects, which nprnn never loads")
        if dtype.kind not in "fU":
            raise CheckpointError(f"{path}: {info.filename} has dtype {dtype}; nprnn writes only real floats and text")
        if int(np.prod(shape, dtype=np.float64)) * dtype.itemsize > info.file_size:
            raise CheckpointError(f"{path}: {info.filename} claims shape {shape}, more than the file holds")
    with zf.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _read_entries(path):
    """{name: array} of every entry, after the marker is found; CheckpointError otherwise."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {info.filename[:-4]: info for info in zf.infolist() if info.filename.endswith(".npy")}
            if "format" not in infos or str(_read_array(zf, infos["format"], path)) != FORMAT:
                raise CheckpointError(f"{path} is not an nprnn checkpoint (no '{FORMAT}' marker)")
            return {name: _read_array(zf, info, path) for name, info in infos.items()}
    except CheckpointError:
        raise
    except zipfile.BadZipFile:
        raise CheckpointError(f"{path} is not an nprnn checkpoint (not an .npz file)") from None
    except (ValueError, EOFError, OSError, KeyError, zipfile.LargeZipFile, NotImplementedError) as e:
        raise CheckpointError(f"{path} is truncated or damaged ({type(e).__name__})") from None


def _json(entries, name, kind, path):
    try:
        value = json.loads(str(entries[name]))
    except KeyError:
        raise CheckpointError(f"{path} has no {name}") from None
    except (ValueError, TypeError):
        raise CheckpointError(f"{path}: {name} is not JSON text") from None
    if not isinstance(value, kind):
        raise CheckpointError(f"{path}: {name} must be a JSON {kind.__name__}, got {type(value).__name__}")
    return value


# The metadata fields nprnn reads, and what each must be.
META_CHECKS = {
    "tokenizers": (lambda v: isinstance(v, list) and len(v) == 2 and all(isinstance(d, dict) for d in v),
                   "the source's and the target's tokenizer, as two JSON objects"),
    "max_len": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10_000, "an int in 1..10000"),
    "task": (lambda v: isinstance(v, str), "a task name"),
    "corpus": (lambda v: v is None or isinstance(v, dict), "the options a corpus was read with"),
}


def _check_meta(meta, path):
    for key, (ok, what) in META_CHECKS.items():
        if key in meta and not ok(meta[key]):
            raise CheckpointError(f"{path}: meta field {key!r} must be {what}, got {meta[key]!r:.60}")
    return meta


def _config(fields_given, path):
    """The checkpoint's `Seq2SeqConfig`: every field present (a default taken for a missing one
    could silently change the model, e.g. read the source forwards), each of its type and range."""
    missing = [f.name for f in fields(Seq2SeqConfig) if f.name not in fields_given]
    if missing:
        raise CheckpointError(f"{path} has a bad configuration: it lacks the field{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)}")
    try:
        return Seq2SeqConfig(**fields_given)  # every field's type and range (and no unknown field)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path} has a bad configuration: {e}") from None


def _names(names, most=3):
    """A few names (quoted: a crafted one may hold a line break), and how many more: a crafted
    file's long list stays one short line."""
    names = sorted(names)
    return ", ".join(map(repr, names[:most])) + (f" and {len(names) - most} more" if len(names) > most else "")


def state_shapes(config):
    """{name: shape} of every weight in the ``state_dict()`` of a ``Seq2Seq.from_config(config)``
    (PyTorch's names and layouts), without making it: what a checkpoint of `config` must hold.
    It lists every layer: check num_layers against the weights a file holds first."""
    G, E, H, Hd = CELLS[config.cell].num_gates, config.embedding_dim, config.hidden_size, config.decoder_hidden_size
    Hk, context = H * (2 if config.bidirectional else 1), (Hd if config.peeky else 0)

    def cell(prefix, size_in, size):  # Cell.torch_names: weight_ih = Wx.T (G*size, size_in) ...
        return {f"{prefix}.weight_ih": (G * size, size_in), f"{prefix}.weight_hh": (G * size, size),
                f"{prefix}.bias_ih": (G * size,), f"{prefix}.bias_hh": (G * size,)}

    shapes = {"encoder.embedding.weight": (config.src_vocab_size, E)}
    for layer in range(config.num_layers):
        for reverse in (False, True) if config.bidirectional else (False,):
            shapes.update(cell(f"encoder.{layer_name(layer, reverse)}", E if layer == 0 else Hk, H))
    shapes["decoder.embedding.weight"] = (config.tgt_vocab_size, E)
    for layer in range(config.num_layers):
        shapes.update(cell(f"decoder.{layer_name(layer)}", E + context if layer == 0 else Hd, Hd))
    attention = {"general": {"W_a": (Hk, Hd)}, "additive": {"W_q": (Hd, Hd), "W_k": (Hk, Hd), "v": (Hd,)}}
    if config.attention is not None:  # its own names and layouts (attention.py)
        own = {**attention.get(config.attention, {}), "W_c": (Hk + Hd, Hd), "b_c": (Hd,)}
        shapes.update({f"decoder.attention.{name}": shape for name, shape in own.items()})
    shapes["decoder.out.weight"] = (config.tgt_vocab_size, Hd + context)  # Linear: weight = W.T
    shapes["decoder.out.bias"] = (config.tgt_vocab_size,)
    return shapes


def _check_weights(config, state, path):
    """Every weight's name, shape, dtype and finiteness against what `config` implies, from
    the stored headers and arrays alone: nothing of the model's size is allocated before."""
    cells_per_layer = (2 if config.bidirectional else 1) + 1  # the encoder's (each direction) and the decoder's
    if 4 * cells_per_layer * config.num_layers > len(state):  # 4 weights a cell: refuse before listing them all
        raise CheckpointError(f"{path} is inconsistent: its configuration says num_layers {config.num_layers}, "
                              f"more than its {len(state)} weights can hold")
    shapes = state_shapes(config)
    missing, unexpected = set(shapes) - set(state), set(state) - set(shapes)
    if missing or unexpected:
        raise CheckpointError(f"{path} is inconsistent with its configuration: weights missing: "
                              f"{_names(missing) or 'none'}; weights the model has no place for: "
                              f"{_names(unexpected) or 'none'}")
    for name, shape in shapes.items():
        if state[name].shape != shape:
            raise CheckpointError(f"{path} is inconsistent: its configuration makes the weight {name} of shape "
                                  f"{shape}, but it holds {state[name].shape}")
    for name, a in state.items():
        if a.dtype != np.dtype(config.dtype) or not np.isfinite(a).all():
            raise CheckpointError(f"{path}: the weight {name} must be finite {config.dtype}, "
                                  f"got dtype {a.dtype}{'' if a.dtype.kind != 'f' else ' with NaN or inf'}")


def _make_model(fields_given, entries, path):
    """The model of the checkpoint's configuration with its weights, every one checked against
    the configuration (and the model's size against memory) before the model is allocated."""
    config = _config(fields_given, path)
    state = {name[len("param/"):]: a for name, a in entries.items() if name.startswith("param/")}
    _check_weights(config, state, path)
    try:
        config.check_fits_in_memory()
    except ValueError as e:
        raise CheckpointError(f"{path} has a bad configuration: {e}") from None
    model = Seq2Seq.from_config(config)
    try:
        model.load_state_dict(state)
    except ValueError as e:
        raise CheckpointError(f"{path} is inconsistent: {e}") from None
    return model


def load_checkpoint(path):
    """(model, src_vocab, tgt_vocab, meta) from a file written by `save_checkpoint`; the model
    is in evaluation mode."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no such checkpoint: {path}")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a file")
    entries = _read_entries(path)
    config = _json(entries, "config", dict, path)
    meta = _check_meta(_json(entries, "meta", dict, path), path)
    vocabs = []
    for name in ("src_vocab", "tgt_vocab"):
        tokens = _json(entries, name, list, path)
        if not all(isinstance(t, str) for t in tokens):
            raise CheckpointError(f"{path}: {name} must be a list of strings")
        try:
            vocabs.append(Vocab(tokens))
        except ValueError as e:
            raise CheckpointError(f"{path}: {name}: {e}") from None
    sizes = (config.get("src_vocab_size"), config.get("tgt_vocab_size"))
    if sizes != (len(vocabs[0]), len(vocabs[1])):
        raise CheckpointError(f"{path} is inconsistent: vocabularies of {len(vocabs[0])} and {len(vocabs[1])} "
                              f"tokens, but the configuration says {sizes[0]} and {sizes[1]}")
    model = _make_model(config, entries, path)
    return model.eval(), vocabs[0], vocabs[1], meta
