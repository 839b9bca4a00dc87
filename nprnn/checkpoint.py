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

Each zip entry is read only after its header is checked, and only if nprnn needs it (an entry
it does not know is never read): a weight's shape must be the one the configuration implies,
a text (configuration, metadata, vocabularies) one JSON text of at most MAX_TEXT characters
nested at most MAX_DEPTH levels deep, and no entry may claim more bytes than the file's own
(a deflated entry: DEFLATE_RATIO times its own). So a small crafted file (a "zip bomb") never
makes loading allocate much; an encrypted entry, or one compressed other than by deflate, is
refused. `save_checkpoint` refuses to write what loading would refuse.

The file is written atomically (files.atomic_write): an interrupted save leaves the previous
checkpoint whole. A checkpoint with a NaN or infinite weight is never written. Its zip entries
carry a fixed date, so the same training run gives the same bytes.

Imports: files, cells, config, encoder (the layers' names), seq2seq, data.vocab.
"""
import contextlib
import io
import json
import os
import zipfile
import zlib
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
MAX_TEXT = 2**24  # characters in one JSON text (64 MiB as read): a million-word vocabulary takes about 12 million
MAX_DEPTH = 32  # levels of JSON nesting read; what nprnn writes nests at most 5
DEFLATE_RATIO = 1032  # deflate's largest ratio: a deflated entry inflates to at most this many times its size
# what reading a crafted or damaged zip entry may raise (RuntimeError: an encrypted entry; zlib.error: bad deflate data)
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, ValueError, EOFError, OSError, KeyError,
              RuntimeError, NotImplementedError)


class CheckpointError(ValueError):
    """A checkpoint could not be read or written; the message says which file and why."""


def save_checkpoint(path, model, src_vocab, tgt_vocab, meta=None):
    """Write model, vocabularies and `meta` (a JSON-able dict) to `path` (.npz), atomically."""
    path = Path(path)
    state = model.state_dict()
    for name, value in state.items():
        if not np.isfinite(value).all():
            raise CheckpointError(f"refusing to write {path}: the weight {name} holds NaN or inf")
    try:  # what loading checks, checked before writing: nprnn never saves what it would refuse to load
        _check_meta(meta or {}, path)
    except CheckpointError as e:
        raise CheckpointError(f"refusing to write {e}") from None
    try:  # what --out was checked for before training, again at every save: a file put there since is kept
        check_checkpoint_path(path)
    except CheckpointError as e:
        raise CheckpointError(f"refusing to write the checkpoint: {e}") from None
    sizes = (model.config.src_vocab_size, model.config.tgt_vocab_size)
    if sizes != (len(src_vocab), len(tgt_vocab)):
        raise CheckpointError(f"refusing to write {path}: vocabularies of {len(src_vocab)} and {len(tgt_vocab)} "
                              f"tokens for a model of {sizes[0]} and {sizes[1]}")
    if _too_deep(meta or {}):  # before json.dumps, which recurses once a level
        raise CheckpointError(f"refusing to write {path}: its meta nests more than {MAX_DEPTH} levels deep, "
                              f"more than nprnn reads")
    texts = {"config": json.dumps(model.config.to_dict(), sort_keys=True),
             "meta": json.dumps(meta or {}, sort_keys=True),
             "src_vocab": json.dumps(src_vocab.tokens), "tgt_vocab": json.dumps(tgt_vocab.tokens)}
    for name, text in texts.items():
        if len(text) > MAX_TEXT:
            raise CheckpointError(f"refusing to write {path}: its {name} is {len(text):,} characters of JSON, "
                                  f"more than the {MAX_TEXT:,} nprnn reads")
    arrays = {"format": np.array(FORMAT), **{name: np.array(text) for name, text in texts.items()},
              **{f"param/{name}": value for name, value in state.items()}}

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
        with _open(path) as zf:
            return _marker(zf, path).startswith("nprnn-checkpoint/")
    except CheckpointError:  # every error of reading a zip or an .npy header is one
        return False


def check_checkpoint_path(path):
    """Refuse, before training, an --out that nprnn may not replace (see files.check_output_path)."""
    try:
        return check_output_path(path, is_checkpoint, "checkpoint")
    except FileProblem as e:
        raise CheckpointError(str(e)) from None


def _open(path):
    """The zip file at `path`, open (its directory read, no entry yet); CheckpointError otherwise."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise CheckpointError(f"{path} is not an nprnn checkpoint (not an .npz file)") from None
    except ZIP_ERRORS as e:
        raise CheckpointError(f"{path} is truncated or damaged ({type(e).__name__})") from None


@contextlib.contextmanager
def _entry(zf, info, path):
    """The entry `info` open for reading if it is stored or deflated, not encrypted, and no
    larger than the file; any error in reading it is a one-line CheckpointError naming it."""
    if info.flag_bits & 0x1:  # bit 0 of a zip entry's flags: encrypted (zipfile would want a password)
        raise CheckpointError(f"{path}: {info.filename} is encrypted; nprnn never writes encrypted entries")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise CheckpointError(f"{path}: {info.filename} is compressed with zip method {info.compress_type}; "
                              f"nprnn reads only stored or deflated entries")
    if info.compress_size > os.fstat(zf.fp.fileno()).st_size:  # the zip's own size: no entry's bytes are more
        raise CheckpointError(f"{path}: {info.filename} claims {info.compress_size:,} bytes, more than the file holds")
    try:
        with zf.open(info) as f:
            yield f
    except CheckpointError:
        raise
    except ZIP_ERRORS as e:
        raise CheckpointError(f"{path} is truncated or damaged ({info.filename}: {type(e).__name__})") from None


def _header(zf, info, path):
    """(shape, dtype) of an .npy entry from its header alone, nothing allocated for its data:
    a version nprnn writes, real floats or text (never pickled objects), and a size the entry's
    bytes can hold (a deflated entry inflates at most DEFLATE_RATIO times)."""
    with _entry(zf, info, path) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise CheckpointError(f"{path}: {info.filename} is an .npy file of version {version}, which nprnn never writes")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(f)
    if dtype.hasobject:
        raise CheckpointError(f"{path} holds pickled objects, which nprnn never loads")
    if dtype.kind not in "fU":
        raise CheckpointError(f"{path}: {info.filename} has dtype {dtype}; nprnn writes only real floats and text")
    stored = info.compress_type == zipfile.ZIP_STORED
    holds = min(info.file_size, info.compress_size * (1 if stored else DEFLATE_RATIO))
    if np.prod(shape, dtype=np.float64) * dtype.itemsize > holds:
        raise CheckpointError(f"{path}: {info.filename} claims shape {shape}, more than the file holds")
    return shape, dtype


def _array(zf, info, path, shape, dtype):
    """The array of an entry whose header `_header` found to be (`shape`, `dtype`)."""
    with _entry(zf, info, path) as f:
        a = np.lib.format.read_array(f, allow_pickle=False)
    if a.shape != shape or a.dtype != dtype:  # only if the file was rewritten in place meanwhile
        raise CheckpointError(f"{path} changed while it was read ({info.filename})")
    return a


def _marker(zf, path):
    """The text of the zip's format.npy if it is a short text, as nprnn's marker is; "" otherwise."""
    try:
        info = zf.getinfo("format.npy")
    except KeyError:
        return ""
    shape, dtype = _header(zf, info, path)
    if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * 64:  # 4 bytes a character
        return ""
    return str(_array(zf, info, path, shape, dtype))


def _too_deep(value):
    """Whether JSON `value` nests lists and objects more than MAX_DEPTH levels deep (walked
    without recursion, so that any depth is measured)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > MAX_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def _json(zf, infos, name, kind, path):
    """The JSON value of the text entry `name`, of type `kind`: its header says it is one text
    of at most MAX_TEXT characters before it is read, and it nests at most MAX_DEPTH levels."""
    if name not in infos:
        raise CheckpointError(f"{path} has no {name}")
    shape, dtype = _header(zf, infos[name], path)
    if shape != () or dtype.kind != "U" or dtype.itemsize > 4 * MAX_TEXT:  # 4 bytes a character
        raise CheckpointError(f"{path}: {name} must be one JSON text of at most {MAX_TEXT:,} characters, "
                              f"got an array of shape {shape} and dtype {dtype}")
    text = str(_array(zf, infos[name], path, shape, dtype))
    try:
        value = json.loads(text)
        deep = _too_deep(value)
    except RecursionError:  # json.loads recurses once a level: the text is nested far deeper than MAX_DEPTH
        deep = True
    except ValueError:
        raise CheckpointError(f"{path}: {name} is not JSON text") from None
    if deep:
        raise CheckpointError(f"{path}: {name} nests JSON more than {MAX_DEPTH} levels deep, more than nprnn reads")
    if not isinstance(value, kind):
        raise CheckpointError(f"{path}: {name} must be a JSON {kind.__name__}, got {type(value).__name__}")
    return value


# The metadata fields nprnn reads, and what each must be.
def _int_in(low, high):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _corpus_options(v):
    """None, or a dict that makes a valid CorpusOptions (what `nprnn evaluate` rebuilds the split with)."""
    from .data.tasks import CorpusOptions

    if v is None:
        return True
    if not isinstance(v, dict) or not set(v) <= {f.name for f in fields(CorpusOptions)}:
        return False
    try:
        CorpusOptions(**v)
    except (TypeError, ValueError):
        return False
    return all(isinstance(v.get(k), (str, type(None))) for k in ("valid_file", "test_file"))


def _history(v):
    """A list of epoch records: each a dict with an int epoch and finite numbers elsewhere."""
    return (isinstance(v, list) and len(v) <= MAX_EPOCHS and all(
        isinstance(r, dict) and _int_in(1, MAX_EPOCHS)(r.get("epoch"))
        and all(_number(x) for k, x in r.items() if k != "epoch") for r in v))


MAX_EPOCHS = 1_000_000
META_CHECKS = {
    "tokenizers": (lambda v: isinstance(v, list) and len(v) == 2 and all(isinstance(d, dict) for d in v),
                   "the source's and the target's tokenizer, as two JSON objects"),
    "max_len": (_int_in(1, 10_000), "an int in 1..10000"),
    "task": (lambda v: isinstance(v, str), "a task name"),
    "corpus": (_corpus_options, "the options a corpus was read with (CorpusOptions's fields, each valid)"),
    "epoch": (_int_in(1, MAX_EPOCHS), f"the epoch the weights are from, an int in 1..{MAX_EPOCHS:,}"),
    "seed": (_int_in(0, 2**64 - 1), "the training seed, an int >= 0"),
    "settings": (lambda v: isinstance(v, dict), "the training's settings, a JSON object"),
    "history": (_history, "a list of epoch records (an int epoch, finite numbers)"),
}


def _check_meta(meta, path):
    for key, (ok, what) in META_CHECKS.items():
        if key in meta and not ok(meta[key]):
            raise CheckpointError(f"{path}: meta field {key!r} must be {what}, got {meta[key]!r:.60}")
    epochs = [r["epoch"] for r in meta.get("history", [])]
    if "epoch" in meta and epochs and meta["epoch"] not in epochs:
        raise CheckpointError(f"{path}: meta field 'epoch' must be one of its history's epochs, got {meta['epoch']!r}")
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


def _check_weights(config, params, zf, path):
    """{name: (shape, dtype)} of every weight, its name, shape and dtype checked against what
    `config` implies from the stored headers alone: nothing of the model's size is allocated."""
    cells_per_layer = (2 if config.bidirectional else 1) + 1  # the encoder's (each direction) and the decoder's
    if 4 * cells_per_layer * config.num_layers > len(params):  # 4 weights a cell: refuse before listing them all
        raise CheckpointError(f"{path} is inconsistent: its configuration says num_layers {config.num_layers}, "
                              f"more than its {len(params)} weights can hold")
    shapes = state_shapes(config)
    missing, unexpected = set(shapes) - set(params), set(params) - set(shapes)
    if missing or unexpected:
        raise CheckpointError(f"{path} is inconsistent with its configuration: weights missing: "
                              f"{_names(missing) or 'none'}; weights the model has no place for: "
                              f"{_names(unexpected) or 'none'}")
    headers = {}
    for name, shape in shapes.items():
        headers[name] = got, dtype = _header(zf, params[name], path)
        if got != shape:
            raise CheckpointError(f"{path} is inconsistent: its configuration makes the weight {name} of shape "
                                  f"{shape}, but it holds {got}")
        if dtype != np.dtype(config.dtype):
            raise CheckpointError(f"{path}: the weight {name} must be finite {config.dtype}, got dtype {dtype}")
    return headers


def _make_model(fields_given, zf, infos, path):
    """The model of the checkpoint's configuration with its weights, every one checked against
    the configuration (and the model's size against memory) before any weight is read."""
    config = _config(fields_given, path)
    params = {name[len("param/"):]: info for name, info in infos.items() if name.startswith("param/")}
    headers = _check_weights(config, params, zf, path)
    try:
        config.check_fits_in_memory()
    except ValueError as e:
        raise CheckpointError(f"{path} has a bad configuration: {e}") from None
    state = {}
    for name, (shape, dtype) in headers.items():
        state[name] = _array(zf, params[name], path, shape, dtype)
        if not np.isfinite(state[name]).all():
            raise CheckpointError(f"{path}: the weight {name} must be finite {config.dtype}, got NaN or inf")
    model = Seq2Seq.from_config(config)
    try:
        model.load_state_dict(state)
    except ValueError as e:
        raise CheckpointError(f"{path} is inconsistent: {e}") from None
    return model


def _vocab(zf, infos, name, path):
    """The `Vocab` of the text entry `name`: a JSON list of strings, checked by `Vocab`."""
    tokens = _json(zf, infos, name, list, path)
    if not all(isinstance(t, str) for t in tokens):
        raise CheckpointError(f"{path}: {name} must be a list of strings")
    try:
        return Vocab(tokens)
    except ValueError as e:
        raise CheckpointError(f"{path}: {name}: {e}") from None


def load_checkpoint(path):
    """(model, src_vocab, tgt_vocab, meta) from a file written by `save_checkpoint`; the model
    is in evaluation mode. Each entry is read only when its header has been checked."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no such checkpoint: {path}")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a file")
    with _open(path) as zf:
        if _marker(zf, path) != FORMAT:
            raise CheckpointError(f"{path} is not an nprnn checkpoint (no '{FORMAT}' marker)")
        infos = {info.filename[:-4]: info for info in zf.infolist() if info.filename.endswith(".npy")}
        config = _json(zf, infos, "config", dict, path)
        meta = _check_meta(_json(zf, infos, "meta", dict, path), path)
        vocabs = [_vocab(zf, infos, name, path) for name in ("src_vocab", "tgt_vocab")]
        sizes = (config.get("src_vocab_size"), config.get("tgt_vocab_size"))
        if sizes != (len(vocabs[0]), len(vocabs[1])):
            raise CheckpointError(f"{path} is inconsistent: vocabularies of {len(vocabs[0])} and {len(vocabs[1])} "
                                  f"tokens, but the configuration says {sizes[0]} and {sizes[1]}")
        model = _make_model(config, zf, infos, path)
    return model.eval(), vocabs[0], vocabs[1], meta
