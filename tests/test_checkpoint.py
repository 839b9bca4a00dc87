import pickle
import zipfile

import numpy as np
import pytest

from nprnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from nprnn.data import Vocab
from nprnn.seq2seq import Seq2Seq


def small():
    src = Vocab.build([["i", "am", "a", "student"]])
    tgt = Vocab.build([["je", "suis", "étudiant"]])
    model = Seq2Seq(len(src), len(tgt), 3, 4, cell="gru", rng=2, dtype=np.float32)
    return model, src, tgt


def test_round_trip(tmp_path):
    model, src, tgt = small()
    path = save_checkpoint(tmp_path / "sub" / "m.npz", model, src, tgt, {"task": "x", "history": [{"epoch": 1, "loss": 1.5}]})
    loaded, src2, tgt2, meta = load_checkpoint(path)
    assert loaded.config == model.config
    assert src2.tokens == src.tokens and tgt2.tokens == tgt.tokens  # accents survive
    assert meta == {"task": "x", "history": [{"epoch": 1, "loss": 1.5}]}
    for k, p in model.params.items():
        assert loaded.params[k].dtype == np.float32
        np.testing.assert_array_equal(loaded.params[k], p)
    assert not (tmp_path / "sub" / "m.npz.tmp").exists()


def test_same_model_same_bytes(tmp_path):
    model, src, tgt = small()
    a = save_checkpoint(tmp_path / "a.npz", model, src, tgt, {"seed": 1})
    b = save_checkpoint(tmp_path / "b.npz", model, src, tgt, {"seed": 1})
    assert a.read_bytes() == b.read_bytes()


def test_refuses_missing_truncated_foreign_and_pickled(tmp_path):
    model, src, tgt = small()
    good = save_checkpoint(tmp_path / "good.npz", model, src, tgt)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nothing.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not an nprnn checkpoint"):
        load_checkpoint(foreign)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(CheckpointError):
        load_checkpoint(text)

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle code ran')",))

    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError, match="pickled"):
        load_checkpoint(pickled)
    # a real checkpoint with one entry swapped for a pickled object array
    evil = tmp_path / "evil.npz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(evil, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "meta.npy":
                import io

                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.array([Boom()], dtype=object), allow_pickle=True)
                data = buf.getvalue()
            zout.writestr(item, data)
    with pytest.raises(CheckpointError, match="pickled"):
        load_checkpoint(evil)


def test_refuses_inconsistent_weights(tmp_path):
    model, src, tgt = small()
    path = save_checkpoint(tmp_path / "m.npz", model, src, tgt)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            if item.filename != "param/decoder.out.bias.npy":
                zout.writestr(item, zin.read(item))
    with pytest.raises(CheckpointError, match="inconsistent.*decoder.out.bias"):
        load_checkpoint(bad)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_config_state_shapes_and_num_params_are_the_models(cell):
    """What loading checks the weights against before it makes a model (state_shapes), and
    what the memory check counts (num_params, in closed form), for every option."""
    from itertools import product

    from nprnn.checkpoint import state_shapes
    from nprnn.config import Seq2SeqConfig

    for layers, bidirectional, attention, peeky in product([1, 3], [False, True], [None, "dot", "general", "additive"],
                                                          [False, True]):
        model = Seq2Seq(7, 9, 3, 4, cell=cell, num_layers=layers, bidirectional=bidirectional, attention=attention,
                        peeky=peeky, rng=0)
        shapes = {name: a.shape for name, a in model.state_dict().items()}
        assert state_shapes(model.config) == shapes
        assert model.config.num_params() == model.num_params()
    assert Seq2SeqConfig(10, 10, hidden_size=10**5, num_layers=64).num_params() > 64 * 8 * 10**10  # at once


def test_refuses_a_weight_whose_shape_the_config_does_not_imply(tmp_path):
    model, src, tgt = small()
    path = save_checkpoint(tmp_path / "m.npz", model, src, tgt)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "param/encoder.cell.weight_hh.npy":
                import io

                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.zeros((12, 5), np.float32))
                data = buf.getvalue()
            zout.writestr(item, data)
    with pytest.raises(CheckpointError, match=r"inconsistent.*encoder.cell.weight_hh of shape \(12, 4\).*\(12, 5\)"):
        load_checkpoint(bad)


def test_save_refuses_what_load_would_refuse(tmp_path, monkeypatch):
    """nprnn writes no checkpoint it would not read: JSON nested at most MAX_DEPTH levels deep
    (the deepest is saved and loaded), texts of at most MAX_TEXT characters."""
    import nprnn.checkpoint

    model, src, tgt = small()
    deepest = nested = []
    for _ in range(nprnn.checkpoint.MAX_DEPTH - 2):  # with meta's own object: MAX_DEPTH levels
        nested.append([])
        nested = nested[0]
    path = save_checkpoint(tmp_path / "m.npz", model, src, tgt, {"deep": deepest})
    assert load_checkpoint(path)[3] == {"deep": deepest}
    before = path.read_bytes()
    nested.append([])
    with pytest.raises(CheckpointError, match="meta nests more than 32 levels deep"):
        save_checkpoint(path, model, src, tgt, {"deep": deepest})
    monkeypatch.setattr(nprnn.checkpoint, "MAX_TEXT", 20)
    with pytest.raises(CheckpointError, match=r"its config is \d+ characters of JSON, more than the 20 nprnn reads"):
        save_checkpoint(path, model, src, tgt, {})
    assert path.read_bytes() == before


def test_save_refuses_metadata_and_vocabularies_that_load_would_refuse(tmp_path):
    model, src, tgt = small()
    path = save_checkpoint(tmp_path / "m.npz", model, src, tgt, {"max_len": 10_000})
    assert load_checkpoint(path)[3] == {"max_len": 10_000}
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=r"refusing to write .*max_len.* an int in 1\.\.10000"):
        save_checkpoint(path, model, src, tgt, {"max_len": 20_000})
    with pytest.raises(CheckpointError, match="refusing to write .*vocabularies of 8 and 8 tokens for a model of 8 and 7"):
        save_checkpoint(path, model, src, Vocab(tgt.tokens + ["extra"]), {})
    assert path.read_bytes() == before


def test_a_max_len_no_checkpoint_could_hold_is_refused_before_training(capsys):
    from nprnn.cli import main
    from nprnn.config import TrainConfig

    with pytest.raises(ValueError, match="max_len must be a positive int up to 10000, got 20000"):
        TrainConfig(max_len=20_000)
    with pytest.raises(SystemExit):
        main(["train", "--task", "reverse", "--out", "never.npz", "--max-len", "20000"])
    assert "--max-len: expected a positive integer up to 10000, got '20000'" in capsys.readouterr().err
