import subprocess
import sys

import numpy as np
import pytest

from nprnn.checkpoint import load_checkpoint
from nprnn.cli import main

TINY = ["--embedding-dim", "8", "--hidden-size", "16", "--epochs", "2", "--batch-size", "16"]


@pytest.fixture
def corpus(tmp_path):
    """A small TSV corpus: 'one two' -> 'un deux', with one blank line and duplicate pairs."""
    en = ["one", "two", "three", "four", "five"]
    fr = ["un", "deux", "trois", "quatre", "cinq"]
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(80):
        idx = rng.integers(0, 5, size=rng.integers(1, 4))
        lines.append(" ".join(en[i] for i in idx) + "\t" + " ".join(fr[i] for i in idx) + "\tCC-BY")
    lines[10:10] = [""]
    path = tmp_path / "numbers.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_gradcheck_command_passes_and_prints_a_table(capsys):
    code, out, _ = run(["gradcheck"], capsys)
    assert code == 0
    for what in ("RNNCell", "LSTMCell", "GRUCell(reset_after=False)", "Recurrent(GRUCell)", "Embedding", "Linear"):
        assert what in out
    assert "all ok" in out and "FAIL" not in out


def test_gradcheck_command_fails_when_the_bar_is_missed(capsys):
    code, out, _ = run(["gradcheck", "--bar", "1e-20"], capsys)
    assert code == 1 and "FAIL" in out


def test_train_translate_evaluate(tmp_path, corpus, capsys):
    ckpt = tmp_path / "out" / "model.npz"
    code, out, _ = run(["train", "--task", f"tsv:{corpus}", "--out", ckpt, *TINY, "--cell", "gru"], capsys)
    assert code == 0, out
    assert "skipped 1 blank lines, " in out and " duplicate pairs" in out and "longer than" not in out
    assert "epoch   1/2" in out and "tok/s" in out and "valid loss" in out and "exact" in out and "BLEU" in out
    assert "test: exact match" in out
    model, _, _, meta = load_checkpoint(ckpt)
    assert model.config.cell == "gru" and model.config.hidden_size == 16
    assert meta["task"] == f"tsv:{corpus}" and len(meta["history"]) >= 1

    code, out, _ = run(["translate", "--checkpoint", ckpt, "one two", "three"], capsys)
    assert code == 0 and len(out.splitlines()) == 2

    lines = tmp_path / "in.txt"
    lines.write_text("one\n\nfive four\n", encoding="utf-8")
    code, out, _ = run(["translate", "--checkpoint", ckpt, "--input", lines], capsys)
    assert code == 0 and len(out.splitlines()) == 3 and out.splitlines()[1] == ""

    code, out, _ = run(["evaluate", "--checkpoint", ckpt], capsys)
    assert code == 0 and "test: exact match" in out and "BLEU" in out


def test_same_seed_same_checkpoint_bytes(tmp_path, corpus, capsys):
    a, b, c = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    for path, seed in ((a, 3), (b, 3), (c, 4)):
        assert run(["train", "--task", f"tsv:{corpus}", "--out", path, *TINY, "--seed", seed], capsys)[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--task", "klingon", "--out", "x.npz"], "unknown task 'klingon'"),
        (["train", "--task", "tsv:/no/such/file.tsv", "--out", "x.npz"], "no such file: /no/such/file.tsv"),
        (["train", "--task", "reverse", "--out", "x.npz", "--epochs", "0"], "argument --epochs: expected a positive integer"),
        (["train", "--task", "reverse", "--out", "x.npz", "--lr", "fast"], "argument --lr: expected a positive number"),
        (["train", "--task", "reverse", "--out", "x.npz", "--cell", "lstmm"], "argument --cell: invalid choice"),
        (["train", "--task", "reverse", "--out", "x.npz", "--lr-decay", "0"], "argument --lr-decay: expected a number in (0, 1]"),
        (["train", "--task", "reverse", "--out", "x.npz", "--dropout", "1"], "argument --dropout: expected a number in [0, 1)"),
        (["translate", "--checkpoint", "x.npz", "--beam", "0", "hi"], "argument --beam: expected a positive integer"),
        (["translate", "--checkpoint", "/no/such.npz", "hello"], "no such checkpoint"),
        (["evaluate", "--checkpoint", "/no/such.npz"], "no such checkpoint"),
        (["demo", "--epochs", "-3"], "argument --epochs"),
    ],
)
def test_user_errors_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) if "argument" in message else _no_raise():
        code = main(argv)
        assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_bad_inputs_to_train_and_translate(tmp_path, corpus, capsys):
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n\n", encoding="utf-8")
    code, _, err = run(["train", "--task", f"tsv:{empty}", "--out", tmp_path / "m.npz"], capsys)
    assert code == 2 and "holds no source<TAB>target line" in err
    code, _, err = run(["train", "--task", f"tsv:{corpus}", "--out", tmp_path], capsys)
    assert code == 2 and "is a directory" in err
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = run(["translate", "--checkpoint", junk, "hi"], capsys)
    assert code == 2 and "is not an nprnn checkpoint (not an .npz file)" in err
    ckpt = tmp_path / "m.npz"
    assert run(["train", "--task", f"tsv:{corpus}", "--out", ckpt, *TINY], capsys)[0] == 0
    code, _, err = run(["translate", "--checkpoint", ckpt], capsys)
    assert code == 2 and "nothing to translate" in err
    code, _, err = run(["translate", "--checkpoint", ckpt, "--input", tmp_path / "none.txt"], capsys)
    assert code == 2 and "no such file" in err


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "nprnn", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for command in ("demo", "train", "translate", "evaluate", "gradcheck"):
        assert command in done.stdout


def test_demo_trains_translates_and_saves(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    code, out, _ = run(["demo", "--out-dir", out_dir, "--epochs", "1", "--hidden-size", "16", "--embedding-dim", "8"], capsys)
    assert code == 0
    assert "held-out test: exact match" in out and "BLEU" in out
    assert "i am a student" in out and "->" in out
    for name in ("model.npz", "encoder_hidden_states.png", "training.png"):
        assert (out_dir / name).stat().st_size > 1000
    model, _, _, meta = load_checkpoint(out_dir / "model.npz")
    assert model.config.cell == "lstm" and meta["task"] == "toy-en-fr"


def test_plot_hidden_command(tmp_path, corpus, capsys):
    ckpt = tmp_path / "m.npz"
    assert run(["train", "--task", f"tsv:{corpus}", "--out", ckpt, *TINY], capsys)[0] == 0
    out_png = tmp_path / "figs" / "h.png"
    code, out, _ = run(["plot", "hidden", "--checkpoint", ckpt, "one two three", "--out", out_png], capsys)
    assert code == 0 and "3 timesteps x 16 units" in out
    assert out_png.stat().st_size > 5000
    code, _, err = run(["plot", "hidden", "--checkpoint", ckpt, "   "], capsys)
    assert code == 2 and "no tokens" in err
    with pytest.raises(SystemExit) as exit_:  # argparse's own errors exit 2 from parse_args
        run(["plot", "hidden", "--checkpoint", ckpt], capsys)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "required: SENTENCE" in err and err.count("\n") == 1


def test_plot_scores_command(tmp_path, corpus, capsys):
    ckpt = tmp_path / "m.npz"
    assert run(["train", "--task", f"tsv:{corpus}", "--out", ckpt, *TINY], capsys)[0] == 0
    epochs = len(load_checkpoint(ckpt)[3]["history"])
    code, out, _ = run(["plot", "scores", "--checkpoint", ckpt, "--out", tmp_path / "s.png"], capsys)
    assert code == 0 and out.startswith(f"saved {tmp_path / 's.png'}: {epochs} epochs, epoch ")
    assert epochs == 2 and (tmp_path / "s.png").stat().st_size > 5000  # TINY trains 2 epochs; both are kept
    with pytest.raises(SystemExit) as exit_:
        run(["plot", "scores", "--checkpoint", ckpt, "a sentence"], capsys)
    assert exit_.value.code == 2 and "unrecognized arguments: a sentence" in capsys.readouterr().err
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    code, _, err = run(["plot", "scores", "--checkpoint", ckpt, "--out", notes], capsys)
    assert code == 2 and notes.read_text() == "mine"


def test_model_options_and_beam_search_from_the_command(tmp_path, corpus, capsys):
    ckpt = tmp_path / "att.npz"
    argv = ["train", "--task", f"tsv:{corpus}", "--out", ckpt, *TINY, "--attention", "general", "--bidirectional",
            "--num-layers", "2", "--dropout", "0.1", "--peeky", "--reverse-source", "--teacher-forcing", "0.8",
            "--lr-decay", "0.5"]
    code, out, _ = run(argv, capsys)
    assert code == 0, out
    assert "2 layers bidirectional general attention peeky reversed source dropout 0.1 teacher forcing 0.8" in out
    assert "(x0.5 each epoch)" in out
    model, _, _, _ = load_checkpoint(ckpt)
    assert model.config.attention == "general" and model.config.num_layers == 2 and model.config.bidirectional
    code, greedy, _ = run(["translate", "--checkpoint", ckpt, "one two", "five"], capsys)
    code2, beam, _ = run(["translate", "--checkpoint", ckpt, "--beam", "1", "one two", "five"], capsys)
    assert code == code2 == 0 and greedy == beam  # a beam of one is greedy decoding
    code, out, _ = run(["translate", "--checkpoint", ckpt, "--beam", "4", "one two"], capsys)
    assert code == 0 and len(out.splitlines()) == 1
    code, out, _ = run(["evaluate", "--checkpoint", ckpt, "--beam", "3"], capsys)
    assert code == 0 and "exact match" in out
    code, out, _ = run(["train", "--task", f"tsv:{corpus}", "--out", tmp_path / "plain.npz", *TINY, "--attention", "none"], capsys)
    assert code == 0 and load_checkpoint(tmp_path / "plain.npz")[0].config.attention is None
