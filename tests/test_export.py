"""nprnn.export: the same model in PyTorch gives the same logits, loss and gradients; weights go
both ways exactly; the files load with weights_only=True; the command's helpers.

Skipped when torch is not installed (it is never a dependency of nprnn). Every combination of
the architecture's options runs (3 cells x 4 attentions x 2 dtypes x 32 combinations of
bidirectional, layers, peeky, reversed source and dropout) on tiny sizes: about 15 s on 2 cores.
"""
import itertools
import json
import sys
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nprnn import Seq2Seq  # noqa: E402
from nprnn.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from nprnn.data.vocab import Vocab  # noqa: E402
from nprnn.export import (export_checkpoint, from_torch, import_state_dict, read_state_dict,  # noqa: E402
                          save_state_dict, to_torch)

TOLERANCE = {"float32": 1e-6, "float64": 1e-12}  # largest |nprnn - torch|, relative to max(1, |nprnn|)
V_SRC, V_TGT = 9, 11
OTHER_OPTIONS = [dict(bidirectional=b, num_layers=n, peeky=p, reverse_source=r, dropout=d)
                 for b, n, p, r, d in itertools.product([False, True], [1, 2], [False, True], [False, True], [0.0, 0.3])]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One thread for PyTorch here: on 2 cores its idle threads, spinning, and NumPy's BLAS
    threads, spinning too, slow each other down many times over (3 min instead of 15 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def padded_batch(rng, S=6, T=5, B=4, empty_source=False):
    """src (S, B), tgt (T, B) with <sos>, real tokens, then padding; src lengths (B,). Column 0 is
    full length in both; the others are shorter (column 1 has no source at all if empty_source)."""
    src, tgt = np.zeros((S, B), np.int64), np.zeros((T, B), np.int64)
    src_len, tgt_len = rng.integers(1, S + 1, B), rng.integers(2, T + 1, B)
    src_len[0], tgt_len[0] = S, T
    src_len[1:], tgt_len[1:] = np.minimum(src_len[1:], S - 1), np.minimum(tgt_len[1:], T - 1)
    if empty_source:
        src_len[1] = 0
    for b in range(B):
        src[: src_len[b], b] = rng.integers(3, V_SRC, src_len[b])
        tgt[: tgt_len[b], b] = rng.integers(3, V_TGT, tgt_len[b])
        tgt[0, b] = 1  # <sos>
    return src, tgt, src_len


def nprnn_logits(model, src, tgt, lengths):
    memory, states = model.encode(src, lengths)
    logits, _, _ = model.decoder.forward(tgt[:-1], states, memory)
    return logits


def worst(ours, theirs):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    return float(np.abs(ours - theirs).max() / max(1.0, np.abs(ours).max()))


def compare(model, src, tgt, lengths):
    """The largest difference between nprnn and its PyTorch twin: logits, loss, every gradient."""
    return compare_with(model, to_torch(model), src, tgt, lengths)


def compare_with(model, net, src, tgt, lengths, label_smoothing=0.0):
    s, t, n = (torch.from_numpy(a) for a in (src, tgt, lengths))
    errors = {"logits": worst(nprnn_logits(model, src, tgt, lengths), net.logits(s, t, n))}
    model.zero_grad()
    loss = model.loss(src, tgt, lengths, label_smoothing=label_smoothing)
    model.backward()
    loss_t = net.loss(s, t, n, label_smoothing=label_smoothing)
    loss_t.backward()
    errors["loss"] = worst(np.array(loss), loss_t)
    ours = model._torch_layout("_grads")  # the gradients in the state dict's names and layouts
    for key, p in net.named_parameters():
        errors[key] = worst(ours[key], p.grad)
    return errors


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("attention", [None, "dot", "general", "additive"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_logits_loss_and_every_gradient_match(cell, attention, dtype):
    rng = np.random.default_rng(0)
    for options in OTHER_OPTIONS:
        model = Seq2Seq(V_SRC, V_TGT, 4, 5, cell=cell, attention=attention, dtype=dtype, rng=1, **options)
        if options["dropout"]:
            model.eval()  # the two libraries draw different masks: compare without them
        errors = compare(model, *padded_batch(rng))
        key = max(errors, key=errors.get)
        assert errors[key] <= TOLERANCE[dtype], f"{options}: {key} differs by {errors[key]:.2e}"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_an_empty_source_matches_too(cell):
    model = Seq2Seq(V_SRC, V_TGT, 4, 5, cell=cell, attention="general", bidirectional=True, rng=2)
    errors = compare(model, *padded_batch(np.random.default_rng(3), empty_source=True))
    assert max(errors.values()) <= TOLERANCE["float64"], errors


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_label_smoothing_is_pytorchs(dtype):
    model = Seq2Seq(V_SRC, V_TGT, 4, 5, attention="dot", dtype=dtype, rng=16)
    net = to_torch(model)
    errors = compare_with(model, net, *padded_batch(np.random.default_rng(17)), label_smoothing=0.1)
    assert max(errors.values()) <= TOLERANCE[dtype], errors


def test_state_dict_keys_shapes_values_equal_and_the_round_trip_is_exact():
    for cell, options in [("lstm", OTHER_OPTIONS[-1]), ("gru", OTHER_OPTIONS[5]), ("rnn", OTHER_OPTIONS[10])]:
        model = Seq2Seq(V_SRC, V_TGT, 4, 5, cell=cell, attention="additive", dtype="float32", rng=4, **options)
        net = to_torch(model)
        ours, theirs = model.state_dict(), net.state_dict()
        assert list(theirs) == list(ours)  # the same keys, in the same order
        for k in ours:
            assert theirs[k].dtype == torch.float32 and tuple(theirs[k].shape) == ours[k].shape
            np.testing.assert_array_equal(theirs[k].numpy(), ours[k])
        back = from_torch(net)
        assert back.config == model.config
        for k, v in back.state_dict().items():
            np.testing.assert_array_equal(v, ours[k])


def test_train_and_eval_switch_dropout_as_in_nprnn():
    model = Seq2Seq(V_SRC, V_TGT, 4, 5, num_layers=2, dropout=0.5, rng=5)
    src, tgt, lengths = (torch.from_numpy(a) for a in padded_batch(np.random.default_rng(6)))
    net = to_torch(model)
    assert net.training and model.training  # a new model trains, in both libraries
    torch.manual_seed(0)
    assert net.loss(src, tgt, lengths).item() != net.loss(src, tgt, lengths).item()  # fresh masks each time
    net.eval()
    assert net.loss(src, tgt, lengths).item() == net.loss(src, tgt, lengths).item()
    assert not from_torch(net).training


class Draws:
    """Stands in for a Dropout's generator: the same uniform draws for the same module and shape."""

    def __init__(self, name):
        self.name = name

    def random(self, shape):
        return np.random.default_rng(zlib.crc32(f"{self.name}{tuple(shape)}".encode())).random(shape)


@pytest.mark.parametrize("cell, options", [("lstm", dict(num_layers=2, peeky=True, attention="general")),
                                           ("gru", dict(num_layers=2, bidirectional=True, attention="additive")),
                                           ("rnn", dict(reverse_source=True))])
def test_dropout_acts_at_the_same_places(cell, options):
    """In training mode, with the same masks in both libraries, everything matches again."""
    p = 0.3
    model = Seq2Seq(V_SRC, V_TGT, 4, 5, cell=cell, dropout=p, rng=14, **options)
    net = to_torch(model)
    names = [name for name, m in net.named_modules() if isinstance(m, torch.nn.Dropout)]
    assert "encoder.dropout_l0" in names and "decoder.dropout_out" in names

    class SameMasks(torch.nn.Module):  # nprnn's inverted dropout, with nprnn's draws
        def __init__(self, name):
            super().__init__()
            self.draws = Draws(name)

        def forward(self, x):
            u = torch.from_numpy(self.draws.random(tuple(x.shape)))
            return x * ((u >= p).to(x.dtype) / (1.0 - p))

    for name in names:
        parent, _, attr = name.rpartition(".")
        setattr(net.get_submodule(parent), attr, SameMasks(name))
        ours = model
        for part in name.split("."):
            ours = ours._modules[part]
        ours.rng = Draws(name)
    errors = compare_with(model, net, *padded_batch(np.random.default_rng(15)))
    assert max(errors.values()) <= TOLERANCE["float64"], errors


def test_training_in_torch_comes_back_to_nprnn():
    model = Seq2Seq(V_SRC, V_TGT, 4, 5, attention="dot", rng=7)
    src, tgt, lengths = padded_batch(np.random.default_rng(8))
    net = to_torch(model)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        loss = net(*(torch.from_numpy(a) for a in (src, tgt, lengths)))  # calling the module is the loss
        loss.backward()
        opt.step()
    back = from_torch(net)
    assert back.loss(src, tgt, lengths) == pytest.approx(net.loss(*(torch.from_numpy(a) for a in (src, tgt, lengths))).item(), abs=1e-12)
    assert back.loss(src, tgt, lengths) < model.loss(src, tgt, lengths)


def test_under_distributed_data_parallel(tmp_path):
    """The README's sketch, on one CPU process with the gloo backend: the same loss and gradients."""
    dist = torch.distributed
    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    model = Seq2Seq(V_SRC, V_TGT, 4, 5, attention="general", bidirectional=True, rng=9)
    src, tgt, lengths = padded_batch(np.random.default_rng(10))
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    try:
        ddp = torch.nn.parallel.DistributedDataParallel(to_torch(model))
        ddp(*(torch.from_numpy(a) for a in (src, tgt, lengths))).backward()
        model.zero_grad()
        model.loss(src, tgt, lengths)
        model.backward()
        ours = model._torch_layout("_grads")
        for key, p in ddp.module.named_parameters():
            assert worst(ours[key], p.grad) <= 1e-12, key
        assert from_torch(ddp).config == model.config
    finally:
        dist.destroy_process_group()


def test_save_state_dict_loads_with_weights_only(tmp_path):
    model = Seq2Seq(V_SRC, V_TGT, 4, 5, cell="gru", attention="additive", peeky=True, dtype="float32", rng=11)
    path = save_state_dict(model, tmp_path / "model.pt", src_vocab=Vocab.build([["a", "b"]]),
                           tgt_vocab=Vocab.build([["c"]]).tokens, meta={"x": 1})
    payload = torch.load(path, weights_only=True)  # no pickled objects: this is all it takes
    assert json.loads(payload["config"]) == model.config.to_dict()
    assert payload["src_vocab"][-2:] == ["a", "b"] and payload["tgt_vocab"][-1] == "c"
    net = to_torch(Seq2Seq(V_SRC, V_TGT, 4, 5, cell="gru", attention="additive", peeky=True, dtype="float32", rng=12))
    net.load_state_dict(payload["state_dict"])  # straight into the torch module
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(net.state_dict()[k].numpy(), v)
    loaded = read_state_dict(path)
    assert loaded["config"] == model.config.to_dict() and loaded["meta"] == {"x": 1}
    torch.save(net.state_dict(), tmp_path / "bare.pt")  # a bare state dict reads too, without a config
    bare = read_state_dict(tmp_path / "bare.pt")
    assert bare["config"] is None and set(bare["state_dict"]) == set(model.state_dict())


class NotAllowed:  # an arbitrary object: weights_only refuses to unpickle it
    pass


def test_read_state_dict_refuses_what_it_cannot_trust(tmp_path):
    with pytest.raises(ValueError, match="^state_dict: no such file"):
        read_state_dict(tmp_path / "missing.pt", name="state_dict")
    torch.save({"w": NotAllowed()}, tmp_path / "pickled.pt")
    with pytest.raises(ValueError, match="weights_only=True"):
        read_state_dict(tmp_path / "pickled.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a PyTorch file"):
        read_state_dict(tmp_path / "junk.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="not a state dict"):
        read_state_dict(tmp_path / "list.pt")


def make_checkpoint(path, hidden_size=5, **options):
    src_vocab, tgt_vocab = Vocab.build([list("abcdef")]), Vocab.build([list("ghijklmn")])
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), 4, hidden_size, rng=13, **options)
    save_checkpoint(path, model, src_vocab, tgt_vocab, {"tokenizer": "char", "max_len": 9})
    return model


def test_export_then_import_gives_the_same_checkpoint(tmp_path):
    model = make_checkpoint(tmp_path / "m.npz", attention="dot", reverse_source=True)
    line = export_checkpoint(tmp_path / "m.npz", tmp_path / "m.pt")
    assert line.startswith(f"wrote {tmp_path / 'm.pt'}") and "\n" not in line
    # change the weights in PyTorch, as training there would, and bring them back
    net = to_torch(model)
    net.load_state_dict(torch.load(tmp_path / "m.pt", weights_only=True)["state_dict"])
    with torch.no_grad():
        net.decoder.out.bias += 1.0
    save_state_dict(net, tmp_path / "trained.pt")
    line = import_state_dict(tmp_path / "trained.pt", tmp_path / "m.npz", tmp_path / "new.npz")
    assert line.startswith(f"wrote {tmp_path / 'new.npz'}") and "\n" not in line
    new, src_vocab, tgt_vocab, meta = load_checkpoint(tmp_path / "new.npz")
    assert meta["tokenizer"] == "char" and src_vocab.tokens == Vocab.build([list("abcdef")]).tokens
    np.testing.assert_array_equal(new.params["decoder.out.b"], model.params["decoder.out.b"] + 1.0)
    # the exported file carries its vocabularies, so --like may be left out
    import_state_dict(tmp_path / "m.pt", None, tmp_path / "again.npz")
    again = load_checkpoint(tmp_path / "again.npz")[0]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[k], v)


def test_the_command_helpers_name_the_bad_argument(tmp_path):
    make_checkpoint(tmp_path / "m.npz")
    make_checkpoint(tmp_path / "other.npz", hidden_size=6)
    export_checkpoint(tmp_path / "m.npz", tmp_path / "m.pt")
    torch.save(to_torch(Seq2Seq(V_SRC, V_TGT, 4, 5, rng=0)).state_dict(), tmp_path / "bare.pt")
    cases = [
        (lambda: export_checkpoint(tmp_path / "missing.npz", tmp_path / "x.pt"), "^checkpoint: "),
        (lambda: export_checkpoint(tmp_path / "m.npz", tmp_path / "x.npz"), "^out must name a .pt"),
        (lambda: import_state_dict(tmp_path / "missing.pt", tmp_path / "m.npz", tmp_path / "x.npz"), "^state_dict: "),
        (lambda: import_state_dict(tmp_path / "m.pt", tmp_path / "missing.npz", tmp_path / "x.npz"), "^like: "),
        (lambda: import_state_dict(tmp_path / "m.pt", tmp_path / "other.npz", tmp_path / "x.npz"),
         "^state_dict: .* hidden_size is 5 there and 6 here"),
        (lambda: import_state_dict(tmp_path / "bare.pt", tmp_path / "m.npz", tmp_path / "x.npz"),
         "^state_dict: .* does not fit the model"),
        (lambda: import_state_dict(tmp_path / "bare.pt", None, tmp_path / "x.npz"), "^like: "),
        (lambda: import_state_dict(tmp_path / "m.pt", tmp_path / "m.npz", tmp_path / "x.pt"), "^out must name a .npz"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_without_torch_the_error_says_how_to_install_it(monkeypatch):
    from nprnn import export

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError, match=r"^PyTorch is not installed: pip install 'nprnn\[torch\]'$"):
        export._import_torch()


def test_the_export_and_import_commands(tmp_path, capsys):
    from nprnn.cli import main

    model = make_checkpoint(tmp_path / "m.npz")
    assert main(["export", "--checkpoint", str(tmp_path / "m.npz"), "--out", str(tmp_path / "m.pt")]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {tmp_path / 'm.pt'}")
    assert main(["export", "--checkpoint", str(tmp_path / "m.npz"), "--out", str(tmp_path / "m.pt")]) == 0  # its own file
    assert main(["import", "--state-dict", str(tmp_path / "m.pt"), "--out", str(tmp_path / "back.npz")]) == 0
    back = load_checkpoint(tmp_path / "back.npz")[0]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k], v)
    assert main(["import", "--state-dict", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nprnn import: error: state_dict: ") and err.count("\n") == 1


def test_export_and_import_never_replace_a_file_that_is_not_theirs(tmp_path, capsys):
    from nprnn.cli import main

    make_checkpoint(tmp_path / "m.npz")
    notes, other = tmp_path / "notes.pt", tmp_path / "other.npz"
    notes.write_bytes(b"my notes, not a model")
    other.write_bytes(b"PK\x03\x04 someone else's archive")
    assert main(["export", "--checkpoint", str(tmp_path / "m.npz"), "--out", str(notes)]) == 2
    assert "not an nprnn PyTorch export" in capsys.readouterr().err
    assert notes.read_bytes() == b"my notes, not a model"
    main(["export", "--checkpoint", str(tmp_path / "m.npz"), "--out", str(tmp_path / "m.pt")])
    assert main(["import", "--state-dict", str(tmp_path / "m.pt"), "--out", str(other)]) == 2
    assert "not an nprnn checkpoint" in capsys.readouterr().err
    assert other.read_bytes() == b"PK\x03\x04 someone else's archive"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "m.pt", "notes.pt", "other.npz"]  # no temporaries left


def test_half_precision_weights_import_and_damaged_metadata_is_refused(tmp_path):
    """A state dict saved after mixed-precision training (bfloat16, float16) imports as float32;
    a file whose config or meta is not a JSON object is one ValueError line, not a traceback."""
    model = make_checkpoint(tmp_path / "m.npz")
    for dtype in (torch.bfloat16, torch.float16):
        torch.save({k: v.to(dtype) for k, v in to_torch(model).state_dict().items()}, tmp_path / "half.pt")
        import_state_dict(tmp_path / "half.pt", tmp_path / "m.npz", tmp_path / "half.npz")
        back = load_checkpoint(tmp_path / "half.npz")[0]
        for k, v in model.state_dict().items():
            np.testing.assert_allclose(back.state_dict()[k], v, atol=1e-2)
    export_checkpoint(tmp_path / "m.npz", tmp_path / "m.pt")
    good = torch.load(tmp_path / "m.pt", weights_only=True)
    for field, value in (("meta", "[1, 2]"), ("config", "[]"), ("src_vocab", [1, 2])):
        torch.save({**good, field: value}, tmp_path / "bad.pt")
        with pytest.raises(ValueError, match="^state_dict: .* is a damaged nprnn state dict") as info:
            import_state_dict(tmp_path / "bad.pt", tmp_path / "m.npz", tmp_path / "x.npz")
        assert "\n" not in str(info.value)
    torch.save({"w": torch.zeros(2, dtype=torch.int64)}, tmp_path / "ints.pt")
    with pytest.raises(ValueError, match="not floating point: w"):
        read_state_dict(tmp_path / "ints.pt")
