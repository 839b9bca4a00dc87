"""Checkpoints: one .npz file with the configuration, both vocabularies and every weight.

Everything in it is a plain array: the weights as floats (the model's ``state_dict()``, in
PyTorch's names and layouts), the vocabularies and the JSON configuration and metadata as
unicode strings. It is written and read with ``allow_pickle=False``, so loading a
checkpoint never runs code from it, and a file that is missing, truncated, not a checkpoint,
or carries pickled objects is refused with a one-line `CheckpointError`.

The file is written to a temporary name and then renamed, so an interrupted save leaves the
previous checkpoint whole; its zip entries carry a fixed date, so the same training run gives
the same bytes.

Imports: seq2seq, data.vocab.
"""
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .data.vocab import Vocab
from .seq2seq import Seq2Seq

FORMAT = "nprnn-checkpoint/2"  # 2: weights in PyTorch's names and layouts


class CheckpointError(ValueError):
    """A checkpoint could not be read or written; the message says which file and why."""


def save_checkpoint(path, model, src_vocab, tgt_vocab, meta=None):
    """Write model, vocabularies and `meta` (a JSON-able dict) to `path` (.npz)."""
    path = Path(path)
    arrays = {
        "format": np.array(FORMAT),
        "config": np.array(json.dumps(model.config.to_dict(), sort_keys=True)),
        "meta": np.array(json.dumps(meta or {}, sort_keys=True)),
        "src_vocab": np.array(src_vocab.tokens),
        "tgt_vocab": np.array(tgt_vocab.tokens),
    }
    for name, value in model.state_dict().items():
        arrays[f"param/{name}"] = value
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, value in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                zf.writestr(info, buf.getvalue())
        os.replace(tmp, path)
    except OSError as e:
        raise CheckpointError(f"cannot write checkpoint {path}: {e.strerror or e}") from None
    return path


def load_checkpoint(path):
    """(model, src_vocab, tgt_vocab, meta) from a file written by `save_checkpoint`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such checkpoint: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            files = set(z.files)
            if "format" not in files or str(z["format"]) != FORMAT:
                raise CheckpointError(f"{path} is not an nprnn checkpoint (no '{FORMAT}' marker)")
            config = json.loads(str(z["config"]))
            meta = json.loads(str(z["meta"]))
            src_tokens = [str(t) for t in z["src_vocab"]]
            tgt_tokens = [str(t) for t in z["tgt_vocab"]]
            state = {name[len("param/") :]: z[name] for name in files if name.startswith("param/")}
    except CheckpointError:
        raise
    except ValueError as e:
        if "pickle" in str(e):
            raise CheckpointError(f"{path} holds pickled objects, which nprnn never loads") from None
        raise CheckpointError(f"{path} is not a readable nprnn checkpoint ({e})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
        raise CheckpointError(f"{path} is truncated or not an .npz checkpoint ({type(e).__name__})") from None
    try:
        src_vocab, tgt_vocab = Vocab(src_tokens), Vocab(tgt_tokens)
        model = Seq2Seq(**config)  # the configuration holds exactly the constructor's arguments
        if (len(src_vocab), len(tgt_vocab)) != (config["src_vocab_size"], config["tgt_vocab_size"]):
            raise ValueError("vocabulary sizes differ from the configuration")
        model.load_state_dict(state)
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path} is inconsistent: {e}") from None
    return model, src_vocab, tgt_vocab, meta
