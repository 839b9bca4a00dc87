"""From nprnn to PyTorch and back: the same model, the same weights, the same loss.

    from nprnn.export import to_torch, from_torch
    net = to_torch(model)                      # a torch.nn.Module: the same architecture and weights
    loss = net.loss(src, tgt, src_lengths)     # the same masked mean cross-entropy as model.loss
    loss.backward(); optimizer.step()          # ... on any device PyTorch has, under DDP if you like
    model = from_torch(net)                    # back to an nprnn Seq2Seq (NumPy, on the CPU)

`to_torch` builds a `TorchSeq2Seq` for every option nprnn has (cell rnn/lstm/gru, num_layers,
bidirectional, attention dot/general/additive, peeky, reverse_source, dropout, float32 or
float64). Wherever nprnn holds a cell, it holds a ``torch.nn.LSTMCell`` (``GRUCell``,
``RNNCell``) of the same name, so its ``state_dict()`` has exactly nprnn's keys, shapes and
values (``encoder.cell.weight_ih`` ...; see module.py). It does not loop over those cells to
run a sequence: it hands their four tensors to PyTorch's fused ``nn.LSTM`` (``GRU``, ``RNN``;
both directions at once when bidirectional) through ``torch.func.functional_call``, on a packed
source, so on a GPU each layer's recurrence is one cuDNN call. Attention keeps nprnn's own
parameters (``W_a``, ``W_q``, ``W_k``, ``v``, ``W_c``, ``b_c``, in nprnn's layouts).

The torch module's ``forward(src, tgt, src_lengths=None)`` *is* the loss, so a
``DistributedDataParallel`` wrapper of it returns the loss too; ``logits(src, tgt)`` gives the
logits (T-1, B, V). Arguments are nprnn's: time-major int64 tensors, src (S, B) and tgt (T, B)
(<sos> ... <eos> then <pad> = 0), src_lengths (B,) or None (read off the padding).
``train()``/``eval()`` switch dropout, as in nprnn (whose masks come from another generator, so
only evaluation mode, or dropout 0, gives the very same numbers).

Files: `save_state_dict` writes a ``.pt`` that ``torch.load(path, weights_only=True)`` reads (no
pickled objects: a dict of tensors, strings and lists); `read_state_dict` reads it back into
an nprnn model. `export_checkpoint` and `import_state_dict` are what the ``nprnn export`` and
``nprnn import`` commands run.

PyTorch is optional (``pip install 'nprnn[torch]'``) and imported only when a function here
needs it; without it they raise `TorchNotInstalledError` (an ImportError) with a one-line message.

Imports: config, seq2seq, checkpoint, data.vocab (and torch, lazily).
"""
import json
from pathlib import Path

import numpy as np

from .checkpoint import CheckpointError, check_checkpoint_path, load_checkpoint, save_checkpoint
from .data.vocab import Vocab
from .files import FileProblem, atomic_write, check_output_path
from .seq2seq import Seq2Seq

FORMAT = "nprnn-torch-state-dict/1"


class TorchNotInstalledError(ImportError):
    """PyTorch is needed for this and is not installed."""


def _import_torch():
    try:
        import torch
    except ImportError:
        raise TorchNotInstalledError("PyTorch is not installed: pip install 'nprnn[torch]'") from None
    return torch


def __getattr__(name):
    """``nprnn.export.TorchSeq2Seq`` and the other torch classes, built (and torch imported) on first use."""
    classes = _torch_classes()
    if name in classes:
        return classes[name]
    raise AttributeError(f"module 'nprnn.export' has no attribute {name!r}")



def _torch_classes():
    """The torch.nn.Module classes that mirror nprnn's (torch_model.py), imported on first use."""
    _import_torch()  # a one-line error if PyTorch is missing
    from . import torch_model

    return {name: getattr(torch_model, name) for name in ("TorchSeq2Seq", "TorchEncoder", "TorchDecoder", "TorchAttention")}


# ---- the model both ways -------------------------------------------------------------------


def to_torch(model, device=None):
    """A `TorchSeq2Seq` with `model`'s architecture and a copy of its weights (in its mode,
    training or evaluation), on `device` (default the CPU). Its ``state_dict()`` has the very
    keys, shapes and values of ``model.state_dict()``."""
    if not isinstance(model, Seq2Seq):
        raise TypeError(f"model must be an nprnn Seq2Seq, got {type(model).__name__}")
    torch = _import_torch()
    net = _torch_classes()["TorchSeq2Seq"](model.config.to_dict())
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in model.state_dict().items()})
    net.train(model.training)
    return net if device is None else net.to(device)


def from_torch(module, dtype=None):
    """An nprnn `Seq2Seq` with the architecture and a copy of the weights of `module` (a
    `TorchSeq2Seq`, or a DistributedDataParallel / DataParallel wrapper of one), in its mode.
    dtype: "float32" or "float64" (default: the module's configuration's)."""
    module = getattr(module, "module", module)  # DDP and DataParallel keep the model in .module
    config = getattr(module, "config", None)
    if not isinstance(config, dict):
        raise TypeError(f"module must be a TorchSeq2Seq made by to_torch, got {type(module).__name__}")
    model = Seq2Seq(**{**config, **({} if dtype is None else {"dtype": dtype})})
    model.load_state_dict({k: v.detach().cpu().numpy() for k, v in module.state_dict().items()})
    return model.train(module.training)


# ---- files ---------------------------------------------------------------------------------


def save_state_dict(model, path, *, src_vocab=None, tgt_vocab=None, meta=None):
    """Write `model` (an nprnn Seq2Seq or a TorchSeq2Seq) to `path` as a PyTorch file.

    It is a dict of plain values, which ``torch.load(path, weights_only=True)`` reads:
    ``state_dict`` (the weights, PyTorch's names and layouts, as CPU tensors: what
    ``to_torch(model).load_state_dict`` takes), ``config`` (the nprnn configuration as a JSON
    string), ``format``, and where given the vocabularies (``src_vocab``, ``tgt_vocab``: lists
    of tokens) and ``meta`` (JSON). Written to a temporary name and renamed. Returns the path.
    """
    torch = _import_torch()
    if isinstance(model, Seq2Seq):
        config, state = model.config.to_dict(), {k: torch.from_numpy(np.ascontiguousarray(v))
                                                 for k, v in model.state_dict().items()}
    else:
        module = getattr(model, "module", model)
        if not isinstance(getattr(module, "config", None), dict):
            raise TypeError(f"model must be an nprnn Seq2Seq or a TorchSeq2Seq, got {type(model).__name__}")
        config, state = module.config, {k: v.detach().cpu() for k, v in module.state_dict().items()}
    payload = {"format": FORMAT, "config": json.dumps(config, sort_keys=True), "state_dict": state,
               "meta": json.dumps(meta or {}, sort_keys=True)}
    for name, vocab in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
        if vocab is not None:
            payload[name] = list(vocab.tokens if isinstance(vocab, Vocab) else vocab)
    path = check_output_path(path, is_export, "PyTorch export")  # never over a file that is not ours
    atomic_write(path, lambda f: torch.save(payload, f))  # a unique temporary name, then a rename
    return path


def is_export(path):
    """True if `path` is a file `save_state_dict` wrote (so that nprnn may replace it)."""
    try:
        return read_state_dict(path)["config"] is not None
    except ValueError:
        return False


def read_state_dict(path, name="path"):
    """What `save_state_dict` wrote: a dict with ``config`` (a dict, or None for a bare state
    dict), ``state_dict`` (NumPy arrays), ``src_vocab``, ``tgt_vocab`` (token lists or None) and
    ``meta`` (a dict). A bare ``torch.save(net.state_dict(), path)`` reads too, without a config.

    Read with ``weights_only=True``: no code in the file runs. Anything else is a ValueError
    naming `name` (the argument it came from) in one line."""
    torch = _import_torch()
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{name}: no such file: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # an unpickling error, a truncated zip, a file that is no PyTorch file ...
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ValueError(f"{name}: {path} is not a PyTorch file that loads with weights_only=True "
                         f"({type(e).__name__}: {first_line[:120]})") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{name}: {path} holds a {type(payload).__name__}, not a state dict")
    if payload.get("format") == FORMAT:
        try:
            config, meta = json.loads(payload["config"]), json.loads(payload.get("meta", "{}"))
            state = payload["state_dict"]
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{name}: {path} is a damaged nprnn state dict ({type(e).__name__}: {e})") from None
        vocabs = {k: payload.get(k) for k in ("src_vocab", "tgt_vocab")}
        if not (isinstance(config, dict) and isinstance(meta, dict)) or not all(
                v is None or (isinstance(v, list) and all(isinstance(t, str) for t in v)) for v in vocabs.values()):
            raise ValueError(f"{name}: {path} is a damaged nprnn state dict (its config and meta must be JSON "
                             f"objects, its vocabularies lists of strings)")
    else:
        config, meta, state, vocabs = None, {}, payload, {"src_vocab": None, "tgt_vocab": None}
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{name}: {path} is not a state dict (a dict of tensors)")
    odd = [f"{k} ({v.dtype})" for k, v in state.items() if not v.is_floating_point()]
    if odd:
        raise ValueError(f"{name}: {path} holds tensors that are not floating point: {', '.join(odd[:3])}")
    # float16 and bfloat16 (mixed-precision training on a GPU) have no NumPy twin: read them as float32
    arrays = {k: (v.float() if v.dtype in (torch.float16, torch.bfloat16) else v).detach().cpu().numpy()
              for k, v in state.items()}
    return dict(config=config, state_dict=arrays, meta=meta, **vocabs)


def export_checkpoint(checkpoint, out):
    """``nprnn export --checkpoint M --out model.pt``: an nprnn checkpoint to a PyTorch file.

    Writes `save_state_dict` of the checkpoint's model, with its vocabularies and metadata, to
    `out`. Returns the line to print. A ValueError names the argument that is wrong."""
    try:
        model, src_vocab, tgt_vocab, meta = load_checkpoint(checkpoint)
    except CheckpointError as e:
        raise ValueError(f"checkpoint: {e}") from None
    if Path(out).suffix not in (".pt", ".pth"):
        raise ValueError(f"out must name a .pt or .pth file, got {str(out)!r}")
    try:
        save_state_dict(model, out, src_vocab=src_vocab, tgt_vocab=tgt_vocab, meta=meta)
    except FileProblem as e:
        raise ValueError(f"out: {e}") from None
    except OSError as e:
        raise ValueError(f"out: cannot write {out}: {e.strerror or e}") from None
    n = len(model.state_dict())
    return (f"wrote {out}: {n} tensors, {model.num_params():,} parameters ({model.config.dtype}) under PyTorch's "
            f"names; in Python: net = nprnn.export.to_torch(model), or "
            f"torch.load({str(out)!r}, weights_only=True)['state_dict']")


def import_state_dict(state_dict, like, out):
    """``nprnn import --state-dict model.pt --like M --out new.npz``: a PyTorch file back to an
    nprnn checkpoint.

    `state_dict`: a file from `save_state_dict` (``nprnn export``), or a bare
    ``torch.save(net.state_dict(), path)`` of a `TorchSeq2Seq`. `like`: an nprnn checkpoint
    whose architecture, vocabularies and tokenizer the weights belong to; it may be None when the
    file holds its own configuration and vocabularies. Writes the checkpoint `out` (.npz) and
    returns the line to print. A ValueError names the argument that is wrong.
    """
    loaded = read_state_dict(state_dict, name="state_dict")
    if like is not None:
        try:
            like_model, src_vocab, tgt_vocab, meta = load_checkpoint(like)
        except CheckpointError as e:
            raise ValueError(f"like: {e}") from None
        config = like_model.config.to_dict()
        if loaded["config"] is not None:
            differ = [k for k in config if k != "dtype" and loaded["config"].get(k) != config[k]]
            if differ:
                k = differ[0]
                raise ValueError(f"state_dict: {state_dict} is a different model from like ({like}): {k} is "
                                 f"{loaded['config'].get(k)!r} there and {config[k]!r} here")
    else:
        if loaded["config"] is None or loaded["src_vocab"] is None or loaded["tgt_vocab"] is None:
            raise ValueError(f"like: {state_dict} holds no configuration and vocabularies of its own, so "
                             "name the nprnn checkpoint it belongs to with --like")
        config, meta = loaded["config"], loaded["meta"]
        src_vocab, tgt_vocab = Vocab(loaded["src_vocab"]), Vocab(loaded["tgt_vocab"])
    if Path(out).suffix != ".npz":
        raise ValueError(f"out must name a .npz checkpoint, got {str(out)!r}")
    try:
        check_checkpoint_path(out)  # before any work: never over a file that is not an nprnn checkpoint
    except CheckpointError as e:
        raise ValueError(f"out: {e}") from None
    try:
        model = Seq2Seq(**config)
        model.load_state_dict(loaded["state_dict"])
    except (ValueError, TypeError) as e:
        raise ValueError(f"state_dict: {state_dict} does not fit the model: {e}") from None
    model.eval()
    try:
        save_checkpoint(out, model, src_vocab, tgt_vocab, {**meta, "imported_from": str(state_dict)})
    except CheckpointError as e:
        raise ValueError(f"out: {e}") from None
    return f"wrote {out}: the weights of {state_dict} in an nprnn checkpoint ({model.num_params():,} parameters)"
