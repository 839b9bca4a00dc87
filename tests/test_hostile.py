"""Hostile input (issue 13): what no user, however careless or malicious, can make nprnn do.

Lose work, write over a file that is not nprnn's own, end in a traceback, or give a silently
wrong answer. Each section below proves the numbered promise of the issue it is named after.
Every test fails on the code before the reliability work (78a541e, the parent of c96110d) but
those marked "guard": what that code already did right, held so (positive controls included).
Tests marked xfail are promises that do not hold yet: each reason names the bug, and the mark
goes when it is fixed.

Everything trains tiny models on small TSV files written here (or builds an untrained model and
saves it), in process through `nprnn.cli.main`; subprocesses only where a signal, a real pipe or
a closed file descriptor is needed.
"""
import contextlib
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import nprnn
from nprnn.cli import main

ROOT = Path(nprnn.__file__).resolve().parent.parent
TINY = ["--embedding-dim", "4", "--hidden-size", "8", "--epochs", "1", "--batch-size", "64"]
EN = ["one", "two", "three", "four", "five"]
FR = ["un", "deux", "trois", "quatre", "cinq"]
# NPRNN_FUZZ_EXAMPLES=2000 python -m pytest tests/test_hostile.py: a longer hunt than the suite's
FUZZ = settings(max_examples=int(os.environ.get("NPRNN_FUZZ_EXAMPLES", 60)),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# a promise that does not hold yet stops at its first failing example, without shrinking
NO_SHRINK = settings(max_examples=30, phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# ---- helpers -----------------------------------------------------------------------------------


def cli(capsys, *argv):
    """(exit status, stdout, stderr) of `nprnn ARGV`, run in this process."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's errors
        code = e.code
    except KeyboardInterrupt:  # never let it reach pytest, which would stop the whole run
        code = "KeyboardInterrupt escaped nprnn.cli.main"
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err, *words):
    """The single line of an error report on stderr, holding each of `words`."""
    assert "Traceback" not in err, err
    lines = err.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("nprnn"), f"not one line:\n{err}"
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    return lines[0]


def out_lines(out):
    """stdout split at "\\n" only: a U+2028 inside an output line does not split it."""
    assert out.endswith("\n"), repr(out)
    return out[:-1].split("\n")


def write_corpus(path, n=150, seed=0, extra=()):
    """A small TSV corpus of number words, 'one two' -> 'un deux' (duplicates included)."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        idx = rng.integers(0, 5, size=rng.integers(1, 5))
        lines.append(" ".join(EN[i] for i in idx) + "\t" + " ".join(FR[i] for i in idx))
    path.write_text("\n".join(lines + list(extra)) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "corpus.tsv")


def make_checkpoint(path, *, tokenizer="word", task="tsv:corpus.tsv", src=("\u2581one", "\u2581two"),
                    tgt=("\u2581un", "\u2581deux"), max_len=20, force=None, meta=None, **options):
    """An untrained checkpoint, saved the way training saves one (no training: fast).
    force=ID: the decoder always emits target id ID and never <eos>. options: of the model."""
    from nprnn import Seq2Seq
    from nprnn.data import make_tokenizer
    from nprnn.data.vocab import EOS, SPECIALS, Vocab
    from nprnn.translate import Translator

    src_vocab, tgt_vocab = Vocab(list(SPECIALS) + list(src)), Vocab(list(SPECIALS) + list(tgt))
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), embedding_dim=4, hidden_size=8, rng=0, dtype="float32",
                    **options)
    if force is not None:
        state = model.state_dict()
        bias = np.zeros_like(state["decoder.out.bias"])
        bias[EOS], bias[force] = -100.0, 100.0
        state["decoder.out.bias"] = bias
        model.load_state_dict(state)
    texts = ["one two", "two one"]
    tokenizers = [make_tokenizer(tokenizer, texts, 40) for _ in range(2)]
    Translator(model.eval(), src_vocab, tgt_vocab, *tokenizers, max_len).save(
        path, {"task": task, "history": [], "epoch": 1, **(meta or {})})
    return Path(path)


def loading_peak(path):
    """(the most memory NumPy and Python held while load_checkpoint read `path`, the CheckpointError
    it raised or None)."""
    import tracemalloc

    from nprnn.checkpoint import CheckpointError, load_checkpoint

    tracemalloc.start()
    try:
        try:
            load_checkpoint(path)
            error = None
        except CheckpointError as e:
            error = e
        return tracemalloc.get_traced_memory()[1], error
    finally:
        tracemalloc.stop()


def with_changes(fields, changes):
    """`fields` (a dict) with each (key, value) of `changes` set, or the key removed where value is "delete"."""
    fields = dict(fields)
    for key, value in changes:
        if value == "delete":
            fields.pop(key, None)
        else:
            fields[key] = value
    return fields


def read_entries(path):
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_entries(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def npy(value):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
    return buf.getvalue()


def json_entry(entries, name):
    return json.loads(str(np.lib.format.read_array(io.BytesIO(entries[name + ".npy"]), allow_pickle=False)))


def with_json(entries, name, value):
    """The entries with `name` (config, meta, src_vocab, tgt_vocab) replaced by this JSON text."""
    text = value if isinstance(value, str) else json.dumps(value)
    return {**entries, name + ".npy": npy(text)}


class TooSlow(BaseException):
    """Not an Exception: no `except Exception` in the code under test can swallow it."""


@contextlib.contextmanager
def time_limit(seconds):
    """Interrupt the block (with TooSlow) after `seconds`: a hang fails the test, not the suite."""
    def alarm(signum, frame):
        raise TooSlow(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def fifo_unblocker(path, after=5.0):
    """If the code under test opens the FIFO at `path` (and so blocks), open the other ends after
    `after` s so that it goes on (and the test fails) instead of hanging the suite."""
    done = threading.Event()

    def unblock():
        if done.wait(after):
            return
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        done.wait(30)
        os.close(reader)

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def subprocess_env():
    path = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return dict(os.environ, PYTHONPATH=path, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")


def nprnn_process(*argv, cwd, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "nprnn", *map(str, argv)], cwd=cwd, env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def wait_for_line(process, pattern, timeout=60):
    """Read the process's stdout line by line until a line matches `pattern`; that line."""
    killer = threading.Timer(timeout, process.kill)
    killer.start()
    try:
        for line in process.stdout:
            if re.search(pattern, line):
                return line
    finally:
        killer.cancel()
    raise AssertionError(f"no line matching {pattern!r}; stderr: {process.stderr.read()}")


def no_training(monkeypatch):
    """Make any training fail the test at once: what is refused must be refused before it."""
    import nprnn.train

    def refuse(*args, **kwargs):
        raise AssertionError("training started: the output should have been refused before")

    monkeypatch.setattr(nprnn.train, "train_task", refuse)


# ---- 1. divergence: work is never lost -----------------------------------------------------------


def test_divergence_stops_in_one_line_and_keeps_the_good_checkpoint(tmp_path, corpus, capsys):
    out = tmp_path / "m.npz"
    assert cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)[0] == 0
    good = out.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warnings: see the next test
        code, stdout, err = cli(capsys, "train", "--task", "reverse", "--lr", "1e300", "--out", out, *TINY)
    assert code == 1
    line = one_line(err, "smaller")
    assert re.search(r"\bepoch 1\b", line) and re.search(r"\bstep 1\b", line), line  # where it diverged
    assert re.search(r"\b1e\+?300\b", line), line  # at what learning rate
    assert "such as 0.001" in line  # a rate that can train, not 1e299
    assert out.read_bytes() == good  # the last good checkpoint stays
    assert sorted(os.listdir(tmp_path)) == ["corpus.tsv", "m.npz"]  # no temporary file left
    assert "test:" not in stdout  # no score for weights that were not kept


def test_divergence_report_is_the_only_line_on_stderr(tmp_path, corpus):
    done = subprocess.run([sys.executable, "-m", "nprnn", "train", "--task", f"tsv:{corpus}", "--lr", "1e300",
                           "--out", "m.npz", *TINY], cwd=tmp_path, env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    one_line(done.stderr, "diverged")


def test_divergence_in_a_later_epoch_keeps_the_last_good_epoch(tmp_path, corpus, capsys, monkeypatch):
    from nprnn import Seq2Seq

    real_loss, seen = Seq2Seq.loss, {"validated": False}

    def loss(self, *args, **kwargs):  # finite until the first validation (in eval mode), NaN after it
        if not self.training:
            seen["validated"] = True
        elif seen["validated"]:
            real_loss(self, *args, **kwargs)
            return float("nan")
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(Seq2Seq, "loss", loss)
    out = tmp_path / "m.npz"
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY, "--epochs", "3",
                       "--patience", "3")
    assert code == 1
    line = one_line(err)
    assert re.search(r"\bepoch 2\b", line) and re.search(r"\bstep 1\b", line), line  # where it diverged
    assert re.search(r"holds the weights of epoch 1\b", line), line  # and what the file holds
    from nprnn.checkpoint import load_checkpoint

    model, _, _, meta = load_checkpoint(out)
    assert meta["epoch"] == 1
    assert all(np.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_save_checkpoint_refuses_a_non_finite_weight(tmp_path, bad):
    from nprnn import Seq2Seq
    from nprnn.checkpoint import CheckpointError, save_checkpoint
    from nprnn.data.vocab import SPECIALS, Vocab

    path = make_checkpoint(tmp_path / "m.npz")
    before = path.read_bytes()
    vocab = Vocab(list(SPECIALS) + ["a", "b"])
    model = Seq2Seq(len(vocab), len(vocab), embedding_dim=3, hidden_size=4, rng=0)
    next(iter(model.parameters())).flat[1] = bad
    with pytest.raises(CheckpointError, match="NaN or inf"):
        save_checkpoint(path, model, vocab, vocab, {})
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.npz"]


@pytest.mark.parametrize("weight", [
    np.array([np.nan] * 6, np.float32), np.array([0, 0, 0, np.inf, 0, 0], np.float32),
    np.array([-np.inf] * 6, np.float32), np.zeros(6, np.complex64), np.zeros(6, np.complex128),
    np.zeros(6, np.float16), np.zeros(6, np.float64), np.zeros(6, np.int32), np.zeros(6, bool),
], ids=["nan", "inf", "-inf", "complex64", "complex128", "float16", "float64-in-float32", "int", "bool"])
def test_load_refuses_nan_inf_complex_and_foreign_dtypes(tmp_path, capsys, weight):
    from nprnn.checkpoint import CheckpointError, load_checkpoint

    path = make_checkpoint(tmp_path / "m.npz")
    entries = read_entries(path)
    assert np.lib.format.read_array(io.BytesIO(entries["param/decoder.out.bias.npy"])).shape == weight.shape
    write_entries(path, {**entries, "param/decoder.out.bias.npy": npy(weight)})
    with pytest.raises(CheckpointError, match="decoder.out.bias"):
        load_checkpoint(path)
    code, _, err = cli(capsys, "translate", "--checkpoint", path, "--beam", "3", "one two")
    assert code == 2
    one_line(err, str(path))


# ---- 2. what --out may overwrite -------------------------------------------------------------------


def _target(kind, tmp_path, corpus):
    """(the --out path, a function giving its state, which must not change, a word of the reason)."""
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    if kind == "corpus":
        return corpus, corpus.read_bytes, "not an nprnn checkpoint"
    if kind == "text file":
        return notes, notes.read_bytes, "not an nprnn checkpoint"
    if kind == "foreign npz":
        path = tmp_path / "data.npz"
        np.savez(path, x=np.arange(3))
        return path, path.read_bytes, "not an nprnn checkpoint"
    if kind == "directory":
        path = tmp_path / "runs"
        path.mkdir()
        (path / "keep.txt").write_text("x")
        return path, lambda: sorted(os.listdir(path)), "directory"
    if kind == "fifo":
        path = tmp_path / "pipe.npz"
        os.mkfifo(path)
        return path, lambda: stat.S_ISFIFO(os.stat(path).st_mode), "FIFO"
    if kind == "symlink to a foreign file":
        path = tmp_path / "link.npz"
        path.symlink_to(notes)
        return path, lambda: (os.readlink(path), notes.read_bytes()), "not an nprnn checkpoint"
    if kind == "inside a file":
        return notes / "m.npz", notes.read_bytes, str(notes)
    raise AssertionError(kind)


def test_a_symlink_to_a_checkpoint_keeps_the_link_and_replaces_its_target(tmp_path, corpus, capsys):
    from nprnn.checkpoint import load_checkpoint

    target = make_checkpoint(tmp_path / "real.npz")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", link, *TINY)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load_checkpoint(target)[3]["task"] == f"tsv:{corpus}"  # the trained model, in the file linked to


def test_a_file_that_appears_at_out_during_training_is_kept(tmp_path, corpus, capsys, monkeypatch):
    """--out is checked before training and again at every save: a file someone puts there in
    the meantime is not an nprnn checkpoint, so it is not replaced."""
    import nprnn.train

    out = tmp_path / "m.npz"
    real_validate = nprnn.train._validate

    def validate_then_interfere(*args):
        out.write_text("my notes")  # before the first save
        return real_validate(*args)

    monkeypatch.setattr(nprnn.train, "_validate", validate_then_interfere)
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)
    assert code == 2
    one_line(err, "refusing to write the checkpoint", "not an nprnn checkpoint", "only replaces its own files")
    assert out.read_text() == "my notes"
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


@pytest.mark.parametrize("kind", ["corpus", "text file", "foreign npz", "directory", "fifo",
                                  "symlink to a foreign file", "inside a file"])  # directory, inside: guards
def test_out_that_is_not_ours_is_refused_before_training(tmp_path, corpus, capsys, monkeypatch, kind):
    out, state, reason = _target(kind, tmp_path, corpus)
    before = state()
    no_training(monkeypatch)
    with fifo_unblocker(out) if kind == "fifo" else contextlib.nullcontext():
        code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)
    assert code == 2
    one_line(err, reason)
    assert state() == before
    assert not [n for n in os.listdir(tmp_path) if n.endswith((".tmp", ".probe"))]


def test_out_that_is_a_device_is_refused(tmp_path, corpus, capsys, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("only root could replace /dev/null")
    no_training(monkeypatch)  # so that even a regression never writes over /dev/null
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", "/dev/null", *TINY)
    assert code == 2
    one_line(err, "/dev/null", "device")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_out_replaces_an_nprnn_checkpoint(tmp_path, corpus, capsys):  # guard: the positive control
    out = make_checkpoint(tmp_path / "m.npz")
    before = out.read_bytes()
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)
    assert code == 0, err
    assert out.read_bytes() != before
    from nprnn.checkpoint import load_checkpoint

    assert load_checkpoint(out)[3]["task"] == f"tsv:{corpus}"


def test_plot_out_never_replaces_a_file_that_is_not_an_image(tmp_path, capsys):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    code, _, err = cli(capsys, "plot", "hidden", "--checkpoint", ckpt, "one two", "--out", tmp_path / "p.txt")
    assert code == 2 and not (tmp_path / "p.txt").exists()
    one_line(err, "p.txt")
    fake = tmp_path / "existing.png"
    fake.write_text("not really a png\n")
    code, _, err = cli(capsys, "plot", "hidden", "--checkpoint", ckpt, "one two", "--out", fake)
    assert code == 2 and fake.read_text() == "not really a png\n"
    one_line(err, "existing.png")
    folder = tmp_path / "dir.png"
    folder.mkdir()
    code, _, err = cli(capsys, "plot", "hidden", "--checkpoint", ckpt, "one two", "--out", folder)
    assert code == 2 and folder.is_dir()
    one_line(err, "directory")

    real = tmp_path / "real.png"  # an image nprnn (or anyone) drew is replaced
    assert cli(capsys, "plot", "hidden", "--checkpoint", ckpt, "one", "--out", real)[0] == 0
    first = real.read_bytes()
    assert first.startswith(b"\x89PNG")
    assert cli(capsys, "plot", "hidden", "--checkpoint", ckpt, "one two two one", "--out", real)[0] == 0
    assert real.read_bytes().startswith(b"\x89PNG") and real.read_bytes() != first
    assert sorted(os.listdir(tmp_path)) == ["dir.png", "existing.png", "m.npz", "real.png"]


# ---- 3. concurrent runs ------------------------------------------------------------------------------


def test_two_trainings_writing_one_out_at_once_both_finish(tmp_path, corpus):
    """What a user does; the old shared temporary name lost this race only sometimes (guard),
    the next test makes the collision happen every time."""
    args = ["train", "--task", f"tsv:{corpus}", "--out", "same.npz", *TINY, "--epochs", "4", "--patience", "4",
            "--batch-size", "16"]
    runs = [nprnn_process(*args, "--seed", seed, cwd=tmp_path) for seed in (1, 2)]
    results = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, results):
        assert run.returncode == 0, err
        assert "Traceback" not in err
    from nprnn.checkpoint import load_checkpoint

    assert load_checkpoint(tmp_path / "same.npz")[3]["seed"] in (1, 2)
    assert sorted(os.listdir(tmp_path)) == ["corpus.tsv", "same.npz"]


def test_a_save_that_starts_while_another_is_writing_breaks_neither(tmp_path, monkeypatch):
    from nprnn import Seq2Seq
    from nprnn.checkpoint import load_checkpoint, save_checkpoint
    from nprnn.data.vocab import SPECIALS, Vocab

    vocab = Vocab(list(SPECIALS) + ["a", "b"])
    first, second = (Seq2Seq(len(vocab), len(vocab), embedding_dim=3, hidden_size=4, rng=seed) for seed in (1, 2))
    path = tmp_path / "m.npz"
    real_write_array, started = np.lib.format.write_array, []

    def write_array(*args, **kwargs):  # the other run saves, start to finish, while this one writes
        if not started:
            started.append(True)
            save_checkpoint(path, second, vocab, vocab, {"run": 2})
        return real_write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array)
    save_checkpoint(path, first, vocab, vocab, {"run": 1})
    monkeypatch.undo()
    assert started
    model, _, _, meta = load_checkpoint(path)
    assert meta["run"] == 1
    for name, value in first.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value)
    assert os.listdir(tmp_path) == ["m.npz"]


def test_atomic_write_unique_temporary_names_and_clean_failures(tmp_path):
    from nprnn.files import atomic_write

    path = tmp_path / "m.npz"

    def outer(f):  # a second writer of the same path starts and finishes while the first writes
        f.write(b"first ")
        atomic_write(path, lambda g: g.write(b"second"))
        f.write(b"writer")

    atomic_write(path, outer)
    assert path.read_bytes() == b"first writer" and os.listdir(tmp_path) == ["m.npz"]

    for failure in (OSError("disk full"), KeyboardInterrupt()):
        def failing(f):
            f.write(b"half")
            raise failure

        with pytest.raises(type(failure)):
            atomic_write(path, failing)
        assert path.read_bytes() == b"first writer" and os.listdir(tmp_path) == ["m.npz"]


# ---- 4. interrupts ---------------------------------------------------------------------------------


def _train_reverse(run_dir, *extra):
    return nprnn_process("train", "--task", "reverse", "--embedding-dim", "4", "--hidden-size", "8", "--epochs",
                         "1000", "--patience", "1000", "--out", run_dir / "m.npz", *extra, cwd=run_dir)


def test_ctrl_c_after_an_epoch_saves_the_best_and_says_which(tmp_path):
    from nprnn.checkpoint import load_checkpoint

    run = _train_reverse(tmp_path, "--batch-size", "64")
    wait_for_line(run, r"^epoch\s+1/")
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    line = one_line(err, "interrupted")
    said = re.search(r"holds the weights of epoch (\d+)", line)
    assert said, line
    _, _, _, meta = load_checkpoint(tmp_path / "m.npz")
    assert meta["epoch"] == int(said.group(1)) >= 1
    score = re.search(r"exact match ([\d.]+)%", line)
    if score:  # a score reported is the saved epoch's
        assert score.group(1) == f"{100 * meta['history'][meta['epoch'] - 1]['valid_exact']:.1f}"
    assert "test:" not in out
    assert os.listdir(tmp_path) == ["m.npz"]


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_ctrl_c_before_the_first_epoch_ends_saves_nothing(tmp_path, existing):
    out = tmp_path / "m.npz"
    before = make_checkpoint(out).read_bytes() if existing else None
    run = _train_reverse(tmp_path, "--batch-size", "8")  # an epoch of 2,500 steps: seconds
    wait_for_line(run, r"^model:")
    time.sleep(0.5)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    one_line(err, "nothing was saved")
    assert (out.read_bytes() if out.exists() else None) == before
    assert os.listdir(tmp_path) == (["m.npz"] if existing else [])


def _interrupt_saves(monkeypatch, how_many):
    """Ctrl-C in the middle of writing the checkpoint, the first `how_many` times it is written."""
    import nprnn.checkpoint

    real, calls = nprnn.checkpoint.atomic_write, []

    def atomic_write(path, write):
        calls.append(path)

        def interrupted(f):
            write(f)
            if len(calls) <= how_many:
                raise KeyboardInterrupt

        return real(path, interrupted)

    monkeypatch.setattr(nprnn.checkpoint, "atomic_write", atomic_write)
    return calls


def test_second_ctrl_c_during_the_save_leaves_the_file_as_it_was(tmp_path, corpus, capsys, monkeypatch):
    out = make_checkpoint(tmp_path / "m.npz")
    before = out.read_bytes()
    calls = _interrupt_saves(monkeypatch, how_many=99)  # Ctrl-C during the save, and again during its retry
    code, stdout, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)
    assert calls, "the checkpoint was never written"
    assert code == 130
    one_line(err, "nothing was saved")
    assert out.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["corpus.tsv", "m.npz"]
    assert "test:" not in stdout


def test_ctrl_c_during_the_save_saves_on_the_way_out(tmp_path, corpus, capsys, monkeypatch):
    from nprnn.checkpoint import load_checkpoint

    out = make_checkpoint(tmp_path / "m.npz")
    _interrupt_saves(monkeypatch, how_many=1)
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)
    assert code == 130
    one_line(err, "holds the weights of epoch 1")
    meta = load_checkpoint(out)[3]
    assert meta["epoch"] == 1 and meta["task"] == f"tsv:{corpus}"
    assert sorted(os.listdir(tmp_path)) == ["corpus.tsv", "m.npz"]


def test_ctrl_c_while_scoring_the_test_split_says_what_the_file_holds(tmp_path, corpus, capsys, monkeypatch):
    import nprnn.train

    real_fit, real_evaluate, state = nprnn.train.fit, nprnn.train.evaluate, {"trained": False}

    def fit(*args, **kwargs):
        history = real_fit(*args, **kwargs)
        state["trained"] = True
        return history

    def evaluate(*args, **kwargs):
        if state["trained"]:
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(nprnn.train, "fit", fit)
    monkeypatch.setattr(nprnn.train, "evaluate", evaluate)
    out = tmp_path / "m.npz"
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)
    assert code == 130 and state["trained"]
    assert re.search(r"\bepoch 1\b", one_line(err)), err
    from nprnn.checkpoint import load_checkpoint

    assert load_checkpoint(out)[3]["epoch"] == 1


# ---- 5. text round trip ------------------------------------------------------------------------------

NASTY_TOKENS = ["\x00", "a\x00", "\x00\x00", "\ud800", "x\udfff", "\u2028", "\x85", "\x0c", "\r\n", "\t", "",
                " ", "\U0001f600", "e\u0301", "\ufeff", "\\", '"', "<pad> ", "\u2581", "\uffff"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("scratch")


@FUZZ
@given(src=st.lists(st.text(max_size=6), unique=True, max_size=10),
       tgt=st.lists(st.text(max_size=6), unique=True, max_size=10), note=st.text())
@example(src=NASTY_TOKENS, tgt=list(reversed(NASTY_TOKENS)), note="\x00\ud800\u2028")
def test_any_token_saves_and_loads_exactly(scratch, src, tgt, note):
    from nprnn import Seq2Seq
    from nprnn.checkpoint import load_checkpoint, save_checkpoint
    from nprnn.data.vocab import SPECIALS, Vocab

    src_vocab = Vocab(list(SPECIALS) + [t for t in src if t not in SPECIALS])
    tgt_vocab = Vocab(list(SPECIALS) + [t for t in tgt if t not in SPECIALS])
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), embedding_dim=2, hidden_size=2, rng=0)
    path = scratch / "vocab.npz"
    save_checkpoint(path, model, src_vocab, tgt_vocab, {"note": note, "task": note})
    _, src2, tgt2, meta = load_checkpoint(path)
    assert src2.tokens == src_vocab.tokens and tgt2.tokens == tgt_vocab.tokens
    assert meta["note"] == note and meta["task"] == note


@FUZZ
@given(texts=st.lists(st.text(min_size=1, max_size=12).filter(str.strip), min_size=1, max_size=6))
@example(texts=["a\x00b \x00", "\ud800 \u2028x", "\U0001f600\U0001f600 ok"])
def test_a_learned_tokenizer_saves_and_loads_exactly(scratch, texts):
    from nprnn import Seq2Seq
    from nprnn.data import make_tokenizer
    from nprnn.data.vocab import SPECIALS, Vocab
    from nprnn.translate import Translator

    tokenizer = make_tokenizer("bpe", texts, 60)
    vocab = Vocab(list(SPECIALS) + sorted({t for text in texts for t in tokenizer.tokenize(text)} - set(SPECIALS)))
    model = Seq2Seq(len(vocab), len(vocab), embedding_dim=2, hidden_size=2, rng=0)
    path = scratch / "tokenizer.npz"
    Translator(model, vocab, vocab, tokenizer, tokenizer).save(path)
    loaded, _ = Translator.load(path)
    assert loaded.src_tokenizer.to_dict() == tokenizer.to_dict() == loaded.tgt_tokenizer.to_dict()
    assert [loaded.src_tokenizer.tokenize(t) for t in texts] == [tokenizer.tokenize(t) for t in texts]
    assert loaded.src_vocab.tokens == vocab.tokens


def test_a_corpus_with_nul_characters_trains_and_its_checkpoint_loads(tmp_path, capsys):
    path = tmp_path / "nul.tsv"
    rows = [f"{a} {b}\t{FR[EN.index(a)]}\x00 {FR[EN.index(b)]}" for a in EN for b in EN]
    path.write_text("\n".join(rows * 2) + "\n", encoding="utf-8")
    out = tmp_path / "m.npz"
    code, _, err = cli(capsys, "train", "--task", f"tsv:{path}", "--out", out, *TINY)
    assert code == 0, err
    from nprnn.checkpoint import load_checkpoint

    _, _, tgt_vocab, _ = load_checkpoint(out)
    assert any("\x00" in token for token in tgt_vocab.tokens)
    assert cli(capsys, "translate", "--checkpoint", out, "one two")[0] == 0


# ---- 6. lines split at \n only ---------------------------------------------------------------------

SEPARATORS = ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\r"]
LINE = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\n"), max_size=12)


@FUZZ
@given(lines=st.lists(LINE.filter(lambda s: not s.endswith("\r")), max_size=8), crlf=st.booleans())
@example(lines=[f"a{s}b" for s in SEPARATORS], crlf=False)
@example(lines=[f"a{s}b" for s in SEPARATORS] + [""], crlf=True)
def test_read_lines_splits_at_newlines_only(scratch, lines, crlf):
    from nprnn.files import read_lines

    path = scratch / "lines.txt"
    path.write_bytes("".join(line + ("\r\n" if crlf else "\n") for line in lines).encode("utf-8"))
    expected = list(lines)
    if expected and expected[0].startswith("\ufeff"):
        expected[0] = expected[0][1:]  # a byte-order mark at the start of a file is not text
    assert read_lines(path) == expected


def test_a_tsv_row_with_line_separators_stays_one_row(tmp_path):
    from nprnn.data import read_tsv

    rows = [(f"one{s}two", f"un{s}deux") for s in SEPARATORS if s != "\r"] + [("three\rfour", "trois")]
    path = tmp_path / "sep.tsv"
    path.write_bytes("".join(f"{a}\t{b}\r\n" for a, b in rows).encode("utf-8"))
    assert read_tsv(path).pairs == rows


def test_translate_prints_one_line_per_input_line(tmp_path, capsys, monkeypatch):
    ckpt = make_checkpoint(tmp_path / "m.npz", force=4, max_len=3)  # never an empty translation
    lines = [f"one{s}two" for s in SEPARATORS] + ["", "   ", "\u2028", "two\x0c", "one"]
    path = tmp_path / "in.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "--input", path)
    assert code == 0, err
    got = out_lines(out)
    assert len(got) == len(lines)
    assert [g == "" for g in got] == [not line.strip() for line in lines]  # blank for blank, S=0 included

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\r\n".join(lines).encode("utf-8"))))
    code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "--input", "-")
    assert code == 0, err
    assert out_lines(out) == got


def test_translate_prints_one_line_per_input_whatever_the_vocabulary(tmp_path, capsys):
    ckpt = make_checkpoint(tmp_path / "m.npz", tokenizer="char", src=("o", "n", "e"), tgt=("x\ny", "b"), max_len=3,
                           force=4)
    code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "one", "eon")
    if code == 2:
        one_line(err, str(ckpt))
    else:
        assert code == 0 and len(out_lines(out)) == 2, out


# ---- 7. invalid UTF-8 --------------------------------------------------------------------------------

BAD_UTF8 = [b"\xff", b"caf\xe9", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe2\x82", b"\xf4\x90\x80\x80"]


@pytest.mark.parametrize("bad", BAD_UTF8, ids=["ff", "latin-1", "surrogate", "overlong", "cut", "beyond-10ffff"])
def test_invalid_utf8_in_a_corpus_names_the_file_and_line(tmp_path, capsys, bad):
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"one two\tun deux\n\nthree " + bad + b"\ttrois\nfour\tquatre\n")
    code, _, err = cli(capsys, "train", "--task", f"tsv:{path}", "--out", tmp_path / "m.npz", *TINY)
    assert code == 2
    one_line(err, str(path), "line 3")
    assert not (tmp_path / "m.npz").exists()


def test_invalid_utf8_in_input_and_on_stdin_names_the_line(tmp_path, capsys, monkeypatch):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    path = tmp_path / "in.txt"
    path.write_bytes(b"one\ntwo \xe9\none\n")
    code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "--input", path)
    assert code == 2 and out == ""
    one_line(err, str(path), "line 2")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"one\r\none\r\n\xc3(\r\n")))
    code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "--input", "-")
    assert code == 2 and out == ""
    one_line(err, "standard input", "line 3")


@FUZZ
@given(lines=st.lists(st.binary(max_size=8).map(lambda b: b.replace(b"\n", b"")), max_size=6))
@example(lines=[b"ok", b"\xef\xbb\xbf", b"\xed\xb2\x80", b"\xe9"])
def test_read_lines_refuses_the_first_line_that_is_not_utf8(scratch, lines):
    from nprnn.files import FileProblem, read_lines

    path = scratch / "bytes.txt"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    if lines and lines[0].startswith(b"\xef\xbb\xbf"):
        lines = [lines[0][3:]] + lines[1:]
    expected = []
    for number, line in enumerate(lines, start=1):
        try:
            expected.append(line.removesuffix(b"\r").decode("utf-8"))
        except UnicodeDecodeError:
            with pytest.raises(FileProblem, match=rf"{re.escape(str(path))} line {number}\b"):
                read_lines(path)
            return
    assert read_lines(path) == expected


@pytest.mark.skipif(sys.platform != "linux", reason="argv bytes as Linux passes them")
@pytest.mark.parametrize("command", ["translate", "plot"])
def test_a_command_line_sentence_that_is_not_utf8_is_refused(tmp_path, command):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    bad = b"one \xff two"
    argv = ([b"translate", b"--checkpoint", bytes(ckpt), b"one", bad] if command == "translate"
            else [b"plot", b"hidden", b"--checkpoint", bytes(ckpt), bad, b"--out", bytes(tmp_path / "h.png")])
    proc = subprocess.run([sys.executable.encode(), b"-m", b"nprnn", *argv], capture_output=True, timeout=60,
                          env={**subprocess_env(), "LC_ALL": "C.UTF-8"})
    assert proc.returncode == 2 and proc.stdout == b""
    err = proc.stderr.decode()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert ("TEXT argument 2 is not valid UTF-8" if command == "translate" else "SENTENCE is not valid UTF-8") in err
    assert not (tmp_path / "h.png").exists()


# ---- 8. length caps --------------------------------------------------------------------------------


def test_a_megabyte_line_is_skipped_and_counted(tmp_path, capsys):
    path = write_corpus(tmp_path / "big.tsv", extra=["word " * 200_000 + "\tmot"])
    start = time.perf_counter()
    with time_limit(60):
        code, out, err = cli(capsys, "train", "--task", f"tsv:{path}", "--out", tmp_path / "m.npz", *TINY)
    assert code == 0, err
    assert re.search(r"\b1 pairs longer than 100 tokens", out), out
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("tokenizer", ["char", "bpe"])
def test_a_megabyte_word_is_skipped_whatever_the_tokenizer(tokenizer, tmp_path, capsys):
    # one "word" of 200,000 letters: one word token, but 200,000 characters (char) or thousands of
    # BPE symbols; the cap counts characters too (10 per token), so it never reaches training
    path = write_corpus(tmp_path / "big.tsv", extra=["x" * 200_000 + "\tmot"])
    start = time.perf_counter()
    with time_limit(60):
        code, out, err = cli(capsys, "train", "--task", f"tsv:{path}", "--out", tmp_path / "m.npz", *TINY,
                             "--tokenizer", tokenizer)
    assert code == 0, err
    assert re.search(r"\b1 pairs longer than 100 tokens or 1,000 characters", out), out
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("line, words", [("word " * 1_900, "1,900 tokens"), ("x" * 1_000_000, "1,000,000 characters"),
                                         ("word " * 200_000, "1,000,000 characters")],
                         ids=["1900-words", "a-1MB-word", "200000-words"])
def test_translate_refuses_a_sentence_too_long_to_translate(tmp_path, capsys, line, words):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    path = tmp_path / "in.txt"
    path.write_text("one two\n" + line + "\n", encoding="utf-8")
    with time_limit(20):
        code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "--input", path)
    assert code == 2 and out == ""
    one_line(err, f"{path} line 2", words, "1,000 tokens")
    code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "one " * 999)  # 999 tokens: translated
    assert code == 0 and len(out.splitlines()) == 1


def test_max_length_skips_and_counts_and_zero_is_refused(tmp_path, capsys):
    from nprnn.data import CorpusOptions, WordTokenizer, load_task

    long_rows = [f"{' '.join(EN)} one\t{' '.join(FR)} un"] * 3 + [f"two {' '.join(EN)}\tdeux {' '.join(FR)}"] * 4
    path = write_corpus(tmp_path / "c.tsv", extra=long_rows)  # 6 words a side
    code, out, err = cli(capsys, "train", "--task", f"tsv:{path}", "--out", tmp_path / "m.npz", *TINY,
                         "--max-length", "5")
    assert code == 0, err
    assert re.search(r"\b7 pairs longer than 5 tokens", out), out
    task = load_task(f"tsv:{path}", CorpusOptions(max_length=5))
    words = WordTokenizer().tokenize
    assert all(len(words(a)) <= 5 and len(words(b)) <= 5 for split in (task.train, task.valid, task.test)
               for a, b in split)
    for bad in ("0", "-3", "many"):
        code, _, err = cli(capsys, "train", "--task", f"tsv:{path}", "--out", tmp_path / "n.npz", "--max-length", bad)
        assert code == 2
        one_line(err, "--max-length")


def test_a_checkpoint_claiming_a_huge_max_len_is_refused(tmp_path, capsys):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    entries = read_entries(ckpt)
    write_entries(ckpt, with_json(entries, "meta", {**json_entry(entries, "meta"), "max_len": 10**9}))
    with time_limit(20):
        code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "one two")
    assert code == 2 and out == ""
    one_line(err, "max_len")


def test_translate_caps_its_output_by_its_own_max_len(tmp_path, capsys):
    ckpt = make_checkpoint(tmp_path / "m.npz", tokenizer="char", src=("o", "n", "e"), tgt=("a", "b"),
                           max_len=10_000, force=4)  # emits "a" forever, and the checkpoint allows 10,000
    with time_limit(30):
        code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "one", "eon")
        assert code == 0, err
        assert out_lines(out) == ["a" * 200] * 2  # translate's own default cap
        code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "--max-len", "7", "one")
        assert code == 0 and out_lines(out) == ["aaaaaaa"]
    code, _, err = cli(capsys, "translate", "--checkpoint", ckpt, "--max-len", "0", "one")
    assert code == 2
    one_line(err, "--max-len")


# ---- 9. duplicates and what the scores count ----------------------------------------------------------


def _assert_honest_split(train, valid, test):
    sources = [{s for s, _ in part} for part in (train, valid, test)]
    assert not (sources[0] & sources[1] or sources[0] & sources[2] or sources[1] & sources[2])
    for part in (train, valid, test):
        assert len(set(part)) == len(part)  # no pair twice


def test_duplicate_pairs_are_removed_before_the_split(tmp_path, capsys):
    from nprnn.data import load_task

    rng = np.random.default_rng(3)
    pairs = [(f"{a} {b}", f"{FR[EN.index(a)]} {FR[EN.index(b)]}") for a in EN for b in EN]
    pairs += [("one", "un"), ("one", "une")]  # one source, two translations
    rows = [pairs[i] for i in rng.permutation(np.repeat(np.arange(len(pairs)), 3))]
    path = tmp_path / "dups.tsv"
    path.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    task = load_task(f"tsv:{path}")
    _assert_honest_split(task.train, task.valid, task.test)
    assert sorted(task.train + task.valid + task.test) == sorted(pairs)
    assert task.skipped["duplicate pairs"] == 2 * len(pairs)
    code, out, _ = cli(capsys, "train", "--task", f"tsv:{path}", "--out", tmp_path / "m.npz", *TINY)
    assert code == 0 and f"{2 * len(pairs)} duplicate pairs" in out


@FUZZ
@given(pairs=st.lists(st.tuples(st.sampled_from("abcdefghijkl"), st.sampled_from("xyz")), max_size=60))
def test_split_by_source_never_shares_a_source_or_a_pair(pairs):
    from nprnn.data import split_by_source

    try:
        (train, valid, test), duplicates = split_by_source(pairs, (0.1, 0.1), seed=0)
    except ValueError as e:
        assert "too few" in str(e)
        return
    _assert_honest_split(train, valid, test)
    assert sorted(train + valid + test) == sorted(set(pairs))
    assert duplicates == len(pairs) - len(set(pairs))


def test_token_accuracy_counts_extra_and_missing_tokens_as_errors():
    from nprnn.metrics import token_accuracy

    assert token_accuracy([list("abxyz")], [list("ab")]) == pytest.approx(2 / 5)
    assert token_accuracy([list("ab")], [list("abcd")]) == pytest.approx(2 / 4)
    assert token_accuracy([list("abcdef")], [list("abxy")]) == pytest.approx(2 / 6)
    assert token_accuracy([list("ab"), []], [list("ab"), list("c")]) == pytest.approx(2 / 3)
    assert token_accuracy([list("ab") + ["x"] * 50], [list("ab")]) < 0.1


# ---- 10. every failure is one line ------------------------------------------------------------------


@pytest.mark.parametrize("argv, words", [
    (["train", "--task", "reverse", "--out", "{tmp}/m.npz", "--seed", "-1"], ["--seed"]),
    (["gradcheck", "--seed", "-1"], ["--seed"]),
    (["train", "--task", "reverse", "--out", "{tmp}/m.npz", "--hidden-size", "10000000"], ["10000000"]),
    (["train", "--task", "reverse", "--out", "{tmp}/m.npz", "--embedding-dim", "100000000"], ["100000000"]),
    (["train", "--task", "tsv:{tmp}", "--out", "{tmp}/m.npz"], ["directory"]),
    (["train", "--task", "tsv:/proc/self/mem", "--out", "{tmp}/m.npz"], ["/proc/self/mem"]),
    (["translate", "--checkpoint", "{ckpt}", "--input", "{tmp}"], ["directory"]),
    (["translate", "--checkpoint", "/proc/self/mem", "x"], ["not an nprnn checkpoint"]),
    (["plot", "hidden", "--checkpoint", "{ckpt}", "   "], ["no tokens"]),
    (["plot", "hidden", "--checkpoint", "{ckpt}", "one", "--out", "{tmp}/p.txt"], ["p.txt"]),
], ids=["train-seed", "gradcheck-seed", "hidden-size", "embedding-dim", "dir-corpus", "proc-mem", "dir-input",
        "proc-checkpoint", "empty-sentence", "plot-txt"])  # dir-input, empty-sentence: guards
def test_user_errors_are_one_line_and_fast(tmp_path, capsys, argv, words):
    if "/proc/self/mem" in argv and not os.path.exists("/proc/self/mem"):
        pytest.skip("no /proc")
    ckpt = make_checkpoint(tmp_path / "c.npz")
    argv = [a.format(tmp=tmp_path, ckpt=ckpt) for a in argv]
    start = time.perf_counter()
    with time_limit(30):
        code, out, err = cli(capsys, *argv)
    assert code == 2
    one_line(err, *words)
    assert time.perf_counter() - start < 15
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]  # nothing written


@pytest.mark.parametrize("layers", ["1000000000000", "100000", "65"])
def test_a_huge_number_of_layers_is_refused_fast(tmp_path, capsys, layers):
    # 100,000 layers of 8 units fit in memory but would take hours a step: at most 64
    with time_limit(5):
        code, _, err = cli(capsys, "train", "--task", "reverse", "--out", tmp_path / "m.npz",
                           "--num-layers", layers, "--hidden-size", "8")
    assert code == 2
    one_line(err, "--num-layers", layers, "64")


def run_nprnn(*argv, stdout=subprocess.PIPE, limit_bytes=None, timeout=120):
    """nprnn in a fresh process, optionally under `ulimit -v limit_bytes`: (exit code, stderr)."""
    def limit():
        if limit_bytes:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    proc = subprocess.run([sys.executable, "-m", "nprnn", *map(str, argv)], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, preexec_fn=limit, timeout=timeout, env={**subprocess_env(), "OPENBLAS_NUM_THREADS": "1"})
    return proc.returncode, proc.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="ulimit -v as Linux has it")
@pytest.mark.parametrize("sizes", [["--hidden-size", "20000"], ["--hidden-size", "2000", "--batch-size", "4096"]])
def test_running_out_of_memory_is_one_line(tmp_path, sizes):
    # under a 1.5 GB address-space limit: a model whose weights cannot fit is refused from the
    # estimate (exit 2); one whose weights fit but whose batch does not ends in one line (exit 1)
    code, err = run_nprnn("train", "--task", "reverse", "--out", tmp_path / "m.npz", "--epochs", "1", *sizes,
                          limit_bytes=1_500_000_000)
    assert code in (1, 2), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert ("this process may use" in err) if code == 2 else ("out of memory" in err), err
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_full_disk_on_standard_output_is_one_line(tmp_path):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    with open("/dev/full", "w") as full:
        code, err = run_nprnn("translate", "--checkpoint", ckpt, "one two", stdout=full)
    assert code == 1 and err.strip() == "nprnn translate: error: No space left on device", err


@pytest.mark.parametrize("kind", ["corpus", "input"])
def test_a_fifo_is_refused_not_read(tmp_path, capsys, kind):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    argv = (["train", "--task", f"tsv:{fifo}", "--out", tmp_path / "n.npz"] if kind == "corpus"
            else ["translate", "--checkpoint", ckpt, "--input", fifo])
    with fifo_unblocker(fifo):
        code, _, err = cli(capsys, *argv)
    assert code == 2
    one_line(err, str(fifo), "FIFO")


def test_an_unreadable_corpus_is_one_line(tmp_path, corpus, capsys, monkeypatch):
    corpus.chmod(0)
    real_read_bytes = Path.read_bytes

    def read_bytes(self):  # root reads a file of mode 000 anyway: refuse as the kernel refuses anyone else
        if self == corpus:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", tmp_path / "m.npz")
    assert code == 2
    one_line(err, str(corpus), "permission")


@pytest.mark.parametrize("stdin", [None, "closed"])
def test_translate_from_a_missing_or_closed_stdin(tmp_path, capsys, monkeypatch, stdin):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    if stdin == "closed":
        stdin = io.TextIOWrapper(io.BytesIO(b"one\n"))
        stdin.close()
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "--input", "-")
    assert code == 2 and out == ""
    one_line(err, "standard input")


def test_translate_with_file_descriptor_0_closed(tmp_path):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    run = nprnn_process("translate", "--checkpoint", ckpt, "--input", "-", cwd=tmp_path,
                        preexec_fn=lambda: os.close(0))
    out, err = run.communicate(timeout=60)
    assert run.returncode == 2 and out == ""
    one_line(err, "standard input")


def test_translate_into_a_closed_pipe_quits_quietly(tmp_path):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    path = tmp_path / "many.txt"
    path.write_text("one two\n" + "\n" * 200_000 + "two\n")  # 200 kB out: more than a pipe holds
    run = nprnn_process("translate", "--checkpoint", ckpt, "--input", path, cwd=tmp_path)
    first = run.stdout.readline()  # `| head -1`
    run.stdout.close()
    err = run.stderr.read()
    assert run.wait(timeout=60) == 0
    assert first.endswith("\n") and err == ""


@pytest.mark.parametrize("sentence", ["costs $5 or $x$", "$\\frac{1}{0}$", "a \\ b \\\\", "\\$x$", "$$",
                                      "$\\undefinedmacro$", "^_{}%#&~"])
def test_plot_draws_dollars_and_backslashes_literally(tmp_path, capsys, sentence):
    ckpt = make_checkpoint(tmp_path / "m.npz")
    out = tmp_path / "p.png"
    code, _, err = cli(capsys, "plot", "hidden", "--checkpoint", ckpt, sentence, "--out", out)
    assert code == 0, err
    assert out.read_bytes().startswith(b"\x89PNG")
    from matplotlib.text import Text

    from nprnn.data import WordTokenizer
    from nprnn.plots import plot_hidden_states

    tokens = WordTokenizer().tokenize(sentence)
    ax = plot_hidden_states(np.zeros((len(tokens), 3)), tokens, title=sentence)
    drawn = [t.get_text() for t in ax.get_xticklabels()] + [ax.get_title()]
    if hasattr(Text, "_preprocess_math"):  # what matplotlib will render: the text as written, no mathtext
        shown = [Text(text=t)._preprocess_math(t) for t in drawn]
        assert shown == [(t, False) for t in tokens + [sentence]]
    ax.figure.savefig(io.BytesIO(), format="png")
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_paths_that_are_not_utf8_are_printed_without_a_traceback(tmp_path, capsys):
    corpus = write_corpus(tmp_path / os.fsdecode(b"caf\xe9.tsv"))  # capsys's stdout is strict UTF-8, as a terminal's
    out = tmp_path / os.fsdecode(b"mod\xe8le.npz")
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)
    assert code == 0, err
    from nprnn.checkpoint import load_checkpoint

    load_checkpoint(out)


def test_translate_prints_any_token_it_can_load(tmp_path, capsys):
    ckpt = make_checkpoint(tmp_path / "m.npz", tokenizer="char", src=("o", "n", "e"), tgt=("\ud800", "b"),
                           max_len=3, force=4)
    code, out, err = cli(capsys, "translate", "--checkpoint", ckpt, "one")
    if code == 2:
        one_line(err, str(ckpt))
    else:
        assert code == 0 and len(out_lines(out)) == 1


@pytest.mark.parametrize("token, shown", [("x\ny", "x\\ny"), ("a\rb", "a\\rb"), ("\r\n", "\\r\\n"),
                                          ("\ud800", "\\ud800"), ("\u2028", "\u2028")])
def test_translate_escapes_line_breaks_and_what_stdout_cannot_encode(tmp_path, capsys, token, shown):
    """A "\\n" or "\\r" inside an output token is printed as the two characters \\n or \\r, a
    character stdout's encoding cannot hold as its Python escape, anything else as it is (U+2028
    included, which is no line break to nprnn): files.one_line and files.printable."""
    ckpt = make_checkpoint(tmp_path / "m.npz", tokenizer="char", src=("o", "n", "e"), tgt=(token, "b"), max_len=1,
                           force=4)
    assert cli(capsys, "translate", "--checkpoint", ckpt, "one") == (0, shown + "\n", "")


def test_a_path_that_is_not_utf8_is_named_with_its_escape(tmp_path, capsys):
    missing = tmp_path / os.fsdecode(b"mod\xe8le\n.npz")  # not UTF-8, and a line break: still one line
    code, _, err = cli(capsys, "translate", "--checkpoint", missing, "one")
    assert code == 2
    one_line(err, "mod\\udce8le\\n.npz")


def test_a_target_vocabulary_of_special_tokens_only_is_refused(tmp_path, capsys):
    path = tmp_path / "rare.tsv"
    path.write_text("".join(f"{EN[i % 5]}\tword{i}\n" for i in range(60)), encoding="utf-8")  # each target once
    # word tokens: BPE would split each "wordN" into pieces seen more than once (it merges no pair seen once)
    code, _, err = cli(capsys, "train", "--task", f"tsv:{path}", "--out", tmp_path / "m.npz", *TINY,
                       "--min-freq", "2", "--tokenizer", "word")
    assert code == 2
    one_line(err, "target")
    assert not (tmp_path / "m.npz").exists()


# ---- 11. checkpoints: nothing but CheckpointError, and fast ------------------------------------------


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A good checkpoint (BPE tokenizers in its meta) and its zip entries."""
    path = make_checkpoint(tmp_path_factory.mktemp("good") / "good.npz", tokenizer="bpe")
    return path, read_entries(path)


def _load_only_checkpoint_error(path, seconds=10.0):
    """Load `path` as `nprnn translate` does: a CheckpointError, or a translator that translates.
    `seconds` is generous: it catches hangs; how fast sizes are refused is tested on its own."""
    from nprnn.checkpoint import CheckpointError
    from nprnn.translate import Translator

    start = time.perf_counter()
    with time_limit(max(2 * seconds, seconds + 1)):
        try:
            translator, _ = Translator.load(path)
        except CheckpointError as e:
            assert "\n" not in str(e) and str(path) in str(e)
            translator = None
        if translator is not None:
            translator.max_len = min(translator.max_len, 20)
            translator.translate(["one two", "zz"])
    assert time.perf_counter() - start < seconds, "loading took too long"
    return translator


JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=6)
JSON_NOT_INT = JSON.filter(lambda v: not isinstance(v, int) or isinstance(v, bool))


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(["src_vocab_size", "tgt_vocab_size", "embedding_dim", "hidden_size",
                                                    "cell", "num_layers", "bidirectional", "attention", "peeky",
                                                    "reverse_source", "dropout", "dtype", "extra", ""]),
                                  st.none() | JSON_NOT_INT | st.integers(-3, 12) | st.just("delete")),
                        min_size=1, max_size=4))
def test_crafted_config_types_give_only_checkpoint_error(scratch, good, changes):  # guard (config.py checked types)
    path, entries = good
    config = with_changes(json_entry(entries, "config"), changes)
    bad = scratch / "config.npz"
    write_entries(bad, with_json(entries, "config", config))
    translator = _load_only_checkpoint_error(bad)
    if translator is not None:  # loaded: then every field it holds was of the right type, and was used
        loaded = translator.model.config.to_dict()
        for key, value in config.items():
            assert _well_typed(key, value) and loaded.get(key) == value, (key, value)


def _well_typed(key, value):
    """Whether `value` has the type of the Seq2SeqConfig field `key` (False for an unknown key)."""
    if key in ("bidirectional", "peeky", "reverse_source"):
        return isinstance(value, bool)
    if key in ("src_vocab_size", "tgt_vocab_size", "embedding_dim", "hidden_size", "num_layers"):
        return isinstance(value, int) and not isinstance(value, bool)
    if key in ("cell", "dtype", "attention"):
        return isinstance(value, str) or (key == "attention" and value is None)
    if key == "dropout":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return False


def test_a_config_missing_a_field_is_refused(tmp_path):
    from nprnn.checkpoint import CheckpointError, load_checkpoint

    path = make_checkpoint(tmp_path / "m.npz", reverse_source=True)
    entries = read_entries(path)
    config = json_entry(entries, "config")
    del config["reverse_source"]
    write_entries(path, with_json(entries, "config", config))
    with pytest.raises(CheckpointError, match="reverse_source"):
        load_checkpoint(path)


def test_a_config_is_checked_against_the_weights_before_the_model_is_allocated(tmp_path, good):
    _, entries = good
    bad = tmp_path / "big.npz"
    write_entries(bad, with_json(entries, "config", {**json_entry(entries, "config"), "hidden_size": 1000}))
    peak, error = loading_peak(bad)
    assert error is not None
    assert peak < 10 * 2**20, f"loading a {bad.stat().st_size:,}-byte file allocated {peak / 2**20:.0f} MB"


@FUZZ
@given(key=st.sampled_from(["embedding_dim", "hidden_size", "num_layers"]),
       value=st.integers(1, 10**15) | st.sampled_from([10**12, 2**31, 2**63, 3000]))
@example(key="num_layers", value=10**12)
@example(key="hidden_size", value=3000)
def test_crafted_config_sizes_are_refused_fast(scratch, good, key, value):
    path, entries = good
    config = json_entry(entries, "config")
    changed = config[key] != value
    bad = scratch / "sizes.npz"
    write_entries(bad, with_json(entries, "config", {**config, key: value}))
    translator = _load_only_checkpoint_error(bad, seconds=1.0)
    assert translator is None or not changed


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(["task", "tokenizers", "max_len", "history", "epoch", "corpus",
                                                    "seed", "settings", "extra"]),
                                  JSON | st.just("delete") | st.integers(-2**70, 2**70)), min_size=1, max_size=3),
       tokenizer=st.none() | st.fixed_dictionaries({"name": st.sampled_from(["bpe", "word", "char", "x"])},
                                                   optional={"alphabet": JSON, "merges": JSON}))
@example(changes=[("tokenizers", [{"name": "bpe", "alphabet": [1, 2], "merges": [["a"]]}] * 2)], tokenizer=None)
@example(changes=[("tokenizers", "word")], tokenizer=None)
@example(changes=[("max_len", 10**9)], tokenizer=None)
def test_crafted_meta_gives_only_checkpoint_error(scratch, good, changes, tokenizer):
    path, entries = good
    meta = with_changes(json_entry(entries, "meta"), changes)
    if tokenizer is not None:
        meta["tokenizers"] = [tokenizer, tokenizer]
    bad = scratch / "meta.npz"
    write_entries(bad, with_json(entries, "meta", meta))
    _load_only_checkpoint_error(bad)


@pytest.mark.parametrize("key, value", [
    ("epoch", -3), ("epoch", 10**12), ("epoch", 1.5), ("epoch", 999),  # 999: not one of its history's epochs
    ("seed", 1.5), ("seed", -1), ("settings", None), ("settings", [1]),
    ("corpus", {"path": 1}), ("corpus", {"max_length": 0}), ("corpus", {"valid_file": 3, "test_file": "t"}),
    ("history", [{"epoch": 1, "valid_exact": "x"}]), ("history", [{"valid_exact": 0.5}]), ("history", {"epoch": 1}),
    ("history", [{"epoch": 1, "valid_chrf": float("nan")}]),
])
def test_every_meta_field_is_checked_when_the_checkpoint_loads(scratch, good, key, value):
    """Each field nprnn reads later (plot scores, evaluate's corpus options) is checked at load,
    so a crafted value is one CheckpointError naming it, never Python's words from deep inside."""
    from nprnn.checkpoint import CheckpointError, load_checkpoint

    path, entries = good
    bad = scratch / "meta.npz"
    meta = {**json_entry(entries, "meta"), key: value}
    if key == "history" and isinstance(value, list):
        meta.pop("epoch", None)
    if (key, value) == ("epoch", 999):
        meta["history"] = [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}]
    write_entries(bad, with_json(entries, "meta", meta))
    with pytest.raises(CheckpointError, match=f"meta field '{key}' must be"):
        load_checkpoint(bad)


DTYPES = ["<f2", "<f4", ">f4", "<f8", "<c8", "<c16", "|i1", "<i8", "<u4", "|b1", "<U3", "|S3", "<M8[s]", "<m8[s]",
          [("a", "<f4"), ("b", "<i4")]]


@st.composite
def crafted_entry(draw, entries):
    """A replacement for one entry of the checkpoint's zip: an array of any dtype and shape, bytes, a
    truncation, a header claiming more than the bytes hold, or nothing."""
    name = draw(st.sampled_from(sorted(entries) + ["junk.npy", "param/extra.npy"]))
    kind = draw(st.sampled_from(["array", "bytes", "truncate", "header", "delete", "text"]))
    if kind == "array":
        dtype = np.dtype(draw(st.sampled_from(DTYPES)))
        shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
        size = dtype.itemsize * int(np.prod(shape))
        raw = draw(st.binary(min_size=size, max_size=size))
        return name, npy(np.frombuffer(raw, dtype=dtype).reshape(shape) if dtype.itemsize else np.zeros(shape, dtype))
    if kind == "bytes":
        return name, draw(st.binary(max_size=300))
    if kind == "truncate":
        data = entries.get(name, b"")
        return name, data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if kind == "header":
        buf = io.BytesIO()
        shape = tuple(draw(st.lists(st.integers(0, 2**40), min_size=1, max_size=3)))
        np.lib.format.write_array_header_1_0(buf, {"descr": draw(st.sampled_from(["<f4", "<f8", "|O", "<U9"])),
                                                   "fortran_order": draw(st.booleans()), "shape": shape})
        return name, buf.getvalue() + draw(st.binary(max_size=64))
    if kind == "text":
        return name, npy(json.dumps(draw(JSON)))
    return name, None


@FUZZ
@given(data=st.data())
def test_crafted_entries_give_only_checkpoint_error(scratch, good, data):
    path, entries = good
    changed = dict(entries)
    for _ in range(data.draw(st.integers(1, 3))):
        name, value = data.draw(crafted_entry(entries))
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = value
    bad = scratch / "entries.npz"
    write_entries(bad, changed)
    _load_only_checkpoint_error(bad)


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=8))
def test_corrupted_bytes_give_only_checkpoint_error(scratch, good, flips):  # guard
    path, _ = good
    data = bytearray(path.read_bytes())
    for where, value in flips:
        data[where % len(data)] = value
    bad = scratch / "flipped.npz"
    bad.write_bytes(bytes(data))
    _load_only_checkpoint_error(bad)


@FUZZ
@given(data=st.binary(max_size=2000))
@example(data=b"")
@example(data=b"PK\x03\x04")
@example(data=b"PK\x05\x06" + b"\0" * 18)  # an empty zip
@example(data=b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00N.")  # a pickle
@example(data=npy(np.arange(3)))
def test_random_bytes_are_not_an_nprnn_checkpoint(scratch, data):
    from nprnn.checkpoint import CheckpointError, load_checkpoint

    bad = scratch / "random.npz"
    bad.write_bytes(data)
    with pytest.raises(CheckpointError, match="not an nprnn checkpoint"):
        load_checkpoint(bad)


def test_foreign_npz_files_are_not_nprnn_checkpoints(tmp_path, capsys):  # guard
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.ones(3))
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, obj=np.array([{"a": 1}], dtype=object))
    for path in (plain, pickled):
        code, _, err = cli(capsys, "translate", "--checkpoint", path, "hi")
        assert code == 2
        one_line(err, "not an nprnn checkpoint")


@pytest.mark.parametrize("depth", [33, 100_000])  # one level more than nprnn reads; more than Python's stack
@pytest.mark.parametrize("name", ["config", "meta", "src_vocab"])
def test_deeply_nested_json_is_refused(tmp_path, good, name, depth):
    _, entries = good
    bad = tmp_path / "nested.npz"
    write_entries(bad, with_json(entries, name, "[" * depth + "]" * depth))
    from nprnn.checkpoint import CheckpointError, load_checkpoint

    with pytest.raises(CheckpointError, match=f"{name} nests JSON more than 32 levels"):
        load_checkpoint(bad)


def _with_encrypted_flag(path):
    data = bytearray(path.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = data.find(signature)
        data[at + flags_at] |= 1
    path.write_bytes(bytes(data))
    return path


def test_an_encrypted_zip_is_refused_in_one_line(tmp_path, good, capsys):
    bad = tmp_path / "enc.npz"
    bad.write_bytes(good[0].read_bytes())
    _with_encrypted_flag(bad)
    code, _, err = cli(capsys, "translate", "--checkpoint", bad, "one")
    assert code == 2
    one_line(err, "enc.npz", "encrypted")


def test_an_encrypted_zip_as_out_is_refused_in_one_line(tmp_path, good, corpus, capsys, monkeypatch):
    out = tmp_path / "enc.npz"
    out.write_bytes(good[0].read_bytes())
    _with_encrypted_flag(out)
    before = out.read_bytes()
    no_training(monkeypatch)
    code, _, err = cli(capsys, "train", "--task", f"tsv:{corpus}", "--out", out, *TINY)
    assert code == 2
    one_line(err, "enc.npz")
    assert out.read_bytes() == before


@pytest.mark.parametrize("name", ["param/decoder.out.bias.npy", "junk.npy"])
def test_a_compressed_entry_is_not_inflated_before_it_is_checked(tmp_path, good, name):
    _, entries = good
    bad = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        for entry, data in entries.items():
            if entry != name:
                zf.writestr(entry, data)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as f:  # 100 MB of float32 zeros, deflated to about 100 kB
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                          "shape": (25_000_000,)})
            f.write(header.getvalue())
            for _ in range(100):
                f.write(bytes(1_000_000))
    assert bad.stat().st_size < 1_000_000
    peak, _ = loading_peak(bad)
    assert peak < 50 * 2**20, f"loading a {bad.stat().st_size:,}-byte file allocated {peak / 2**20:.0f} MB"


def _recompressed(good, path, compression, changed=None):
    """The checkpoint `good` rewritten with every entry compressed so (and `changed`, {name: bytes}, swapped in)."""
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", compression=compression) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, (changed or {}).get(info.filename, zin.read(info)))
    return path


def test_a_deflated_checkpoint_loads(tmp_path, good, capsys):  # guard: the positive control of the next tests
    path = _recompressed(good[0], tmp_path / "deflated.npz", zipfile.ZIP_DEFLATED)
    code, out, err = cli(capsys, "translate", "--checkpoint", path, "one two")
    assert code == 0 and err == "" and len(out_lines(out)) == 1


def test_an_entry_compressed_other_than_by_deflate_is_refused_in_one_line(tmp_path, good, capsys):
    bad = _recompressed(good[0], tmp_path / "bz.npz", zipfile.ZIP_BZIP2)
    code, _, err = cli(capsys, "translate", "--checkpoint", bad, "one")
    assert code == 2
    one_line(err, "bz.npz", "format.npy", "compressed with zip method 12")
    from nprnn.checkpoint import is_checkpoint

    assert not is_checkpoint(bad)


@pytest.mark.parametrize("name", ["format.npy", "meta.npy", "param/decoder.out.bias.npy"])
def test_damaged_deflate_data_is_refused_in_one_line(tmp_path, good, capsys, name):
    from nprnn.checkpoint import is_checkpoint

    bad = _recompressed(good[0], tmp_path / "inflate.npz", zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(bad) as zf:
        info = zf.getinfo(name)
    data = bytearray(bad.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)  # the entry's deflated bytes
    data[start:start + info.compress_size] = b"\xff" * info.compress_size  # not a deflate stream (zlib.error)
    bad.write_bytes(bytes(data))
    code, _, err = cli(capsys, "translate", "--checkpoint", bad, "one")
    assert code == 2
    one_line(err, "inflate.npz", "damaged", name)
    assert is_checkpoint(bad) == (name != "format.npy")


def test_a_huge_text_entry_is_refused_before_it_is_read(tmp_path, good):
    from nprnn.checkpoint import MAX_TEXT

    _, entries = good
    bad = tmp_path / "textbomb.npz"
    chars = MAX_TEXT + 1
    with zipfile.ZipFile(bad, "w") as zf:  # one text of MAX_TEXT + 1 characters, deflated to about 64 kB
        for entry, data in entries.items():
            if entry != "meta.npy":
                zf.writestr(entry, data)
        info = zipfile.ZipInfo("meta.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as f:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": f"<U{chars}", "fortran_order": False, "shape": ()})
            f.write(header.getvalue())
            for at in range(0, chars, 2**20):
                f.write("{".encode("utf-32-le") + "a".encode("utf-32-le") * (min(2**20, chars - at) - 1))
    assert bad.stat().st_size < 1_000_000
    peak, error = loading_peak(bad)
    assert f"meta must be one JSON text of at most {MAX_TEXT:,} characters" in str(error)
    assert peak < 10 * 2**20, f"loading a {bad.stat().st_size:,}-byte file allocated {peak / 2**20:.0f} MB"


def test_an_entry_claiming_more_bytes_than_the_file_is_refused(tmp_path, good):
    from nprnn.checkpoint import CheckpointError, load_checkpoint

    bad = tmp_path / "claims.npz"
    bad.write_bytes(good[0].read_bytes())
    data = bytearray(bad.read_bytes())
    name = b"param/decoder.out.bias.npy"
    at = data.find(b"PK\x01\x02")  # the central directory: a record of 46 bytes, then the name
    while data[at + 46:at + 46 + len(name)] != name:
        at = data.find(b"PK\x01\x02", at + 1)
    data[at + 20:at + 28] = (2**31).to_bytes(4, "little") * 2  # its compressed and uncompressed sizes: 2 GB
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"claims\.npz: param/decoder\.out\.bias\.npy claims .* more than the "
                                              r"file holds"):
        load_checkpoint(bad)


# ---- 12. a checkpoint is scored only on its own task --------------------------------------------------


@pytest.mark.parametrize("trained_on, tokenizer, asked", [
    ("reverse", "char", "addition"), ("reverse", "char", "tsv:{corpus}"), ("tsv:{corpus}", "word", "reverse"),
    ("tsv:{corpus}", "bpe", "toy-en-fr"), ("dates", "char", "reverse"),
])
def test_evaluate_refuses_a_checkpoint_of_another_task(tmp_path, corpus, capsys, trained_on, tokenizer, asked):
    trained_on, asked = trained_on.format(corpus=corpus), asked.format(corpus=corpus)
    ckpt = make_checkpoint(tmp_path / "m.npz", tokenizer=tokenizer, task=trained_on)
    code, out, err = cli(capsys, "evaluate", "--checkpoint", ckpt, "--task", asked)
    assert code == 2 and "exact match" not in out
    one_line(err, trained_on)


def test_evaluate_reads_another_corpus_in_the_direction_the_model_translates(tmp_path, capsys, monkeypatch):
    from dataclasses import asdict

    from nprnn.data.tasks import CorpusOptions

    first, other = write_corpus(tmp_path / "first.tsv"), write_corpus(tmp_path / "other.tsv", seed=1)
    forwards = make_checkpoint(tmp_path / "f.npz", task=f"tsv:{first}", meta={"corpus": asdict(CorpusOptions())})
    code, out, err = cli(capsys, "evaluate", "--checkpoint", forwards, "--task", f"tsv:{other}", "--swap-columns")
    assert code == 2 and out == ""
    one_line(err, "--swap-columns", "column 1 into column 2")
    # trained French -> English: another corpus is read French -> English too, without the flag
    backwards = make_checkpoint(tmp_path / "b.npz", task=f"tsv:{first}", src=("\u2581un", "\u2581deux"),
                                tgt=("\u2581one", "\u2581two"), meta={"corpus": asdict(CorpusOptions(swap_columns=True))})
    import nprnn.cli

    asked = []
    real_load_task = nprnn.cli._load_task
    monkeypatch.setattr(nprnn.cli, "_load_task", lambda spec, corpus=None: asked.append(corpus) or real_load_task(spec, corpus))
    for flags in ([], ["--swap-columns"]):
        code, out, err = cli(capsys, "evaluate", "--checkpoint", backwards, "--task", f"tsv:{other}", *flags)
        assert code == 0, err
        assert f"tsv:{other} test: exact match" in out
    assert [c.swap_columns for c in asked] == [True, True]
    assert asked[0] == CorpusOptions(swap_columns=True)  # its own split of the other corpus, not the first's
