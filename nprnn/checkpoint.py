"""Checkpoints: one .npz file with the configuration, both vocabularies and every weight.

Everything in it is a plain array: the weights as real floats (the model's ``state_dict()``,
in PyTorch's names and layouts), and the configuration, the metadata and the two vocabularies
as JSON text (JSON escapes every character, so any token, a NUL or a lone surrogate included,
comes back exactly). It is read with ``allow_pickle=False``, so loading a checkpoint never runs
code from it. Loading checks everything before it allocates anything: the marker, each array's
header against the bytes that hold it, the configuration's every field (and that the model fits
in memory), the metadata's known fields, the vocabularies, and every weight: its name, shape,
dtype and that it is finite. Anything else is refused with a one-line `CheckpointError`.

The file is written atomically (files.atomic_write): an interrupted save leaves the previous
checkpoint whole. A checkpoint with a NaN or infinite weight is never written. Its zip entries
carry a fixed date, so the same training run gives the same bytes.

Imports: files, config, seq2seq, data.vocab.
"""
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .config import Seq2SeqConfig
from .data.vocab import Vocab
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


def _make_model(config, entries, path):
    """The model of `config` with the checkpoint's weights, each checked before it is copied."""
    try:
        config = Seq2SeqConfig(**config)  # every field's type and range (and no unknown field)
        config.check_fits_in_memory()
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path} has a bad configuration: {e}") from None
    state = {name[len("param/"):]: a for name, a in entries.items() if name.startswith("param/")}
    for name, a in state.items():
        if a.dtype != np.dtype(config.dtype) or not np.isfinite(a).all():
            raise CheckpointError(f"{path}: the weight {name} must be finite {config.dtype}, "
                                  f"got dtype {a.dtype}{'' if a.dtype.kind != 'f' else ' with NaN or inf'}")
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
