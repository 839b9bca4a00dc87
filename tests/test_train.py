"""fit: the learning-rate schedule, scheduled sampling and the training flag reach the model."""
import numpy as np
import pytest

import nprnn.train
from nprnn import Seq2Seq
from nprnn.data.vocab import Vocab
from nprnn.train import fit
from nprnn.translate import Translator

PAIRS = [("a b", "b a"), ("b c a", "a c b"), ("c", "c"), ("a c", "c a")]


def tiny_translator(**options):
    vocab = Vocab.build(s.split() for pair in PAIRS for s in pair)
    model = Seq2Seq(len(vocab), len(vocab), 3, 4, rng=0, **options)
    return Translator(model, vocab, vocab)


class RecordingAdam(nprnn.train.Adam):
    """Adam that writes down the learning rate of every step."""

    rates = []

    def step(self):
        RecordingAdam.rates.append(self.lr)
        super().step()


def test_learning_rate_decays_once_per_epoch(monkeypatch):
    monkeypatch.setattr(nprnn.train, "Adam", RecordingAdam)
    RecordingAdam.rates = []
    history = fit(tiny_translator(), PAIRS, PAIRS, epochs=3, batch_size=2, lr=0.01, lr_decay=0.5, patience=10,
                  rng=0, log=lambda *a: None)
    assert len(history) == 3
    # two batches of two pairs per epoch, so two steps at each epoch's rate
    assert RecordingAdam.rates == pytest.approx([0.01] * 2 + [0.005] * 2 + [0.0025] * 2, rel=1e-15)


def test_scheduled_sampling_and_training_flag_reach_the_model(monkeypatch):
    translator = tiny_translator(num_layers=2, dropout=0.5)
    seen = []
    real_loss = translator.model.loss

    def spy(src, tgt, lengths=None, **kwargs):
        seen.append((translator.model.training, kwargs.get("teacher_forcing", 1.0)))  # evaluation passes none
        return real_loss(src, tgt, lengths, **kwargs)

    monkeypatch.setattr(translator.model, "loss", spy)
    fit(translator, PAIRS, PAIRS, epochs=1, batch_size=2, teacher_forcing=0.25, rng=0, log=lambda *a: None)
    training_calls, validation_calls = seen[:2], seen[2:]  # two batches, then the validation pass
    assert training_calls == [(True, 0.25), (True, 0.25)]  # dropout on and scheduled sampling while training
    assert validation_calls and all(call == (False, 1.0) for call in validation_calls)
    assert translator.model.training is False  # ... and off afterwards, for decoding and evaluation


@pytest.mark.parametrize("bad", [0, 1.5, -0.1, "0.5", np.nan])
def test_bad_lr_decay_is_refused_before_training(bad):
    with pytest.raises(ValueError, match=r"lr_decay must be a number in \(0, 1\]"):
        fit(tiny_translator(), PAIRS, PAIRS, epochs=1, lr_decay=bad, log=lambda *a: None)


def test_the_checkpoint_keeps_the_best_weights_and_the_whole_runs_history(tmp_path, monkeypatch):
    """Epoch 1 scores best and epochs 2 and 3 worse: the file holds epoch 1's weights, and (once
    training ends) the history of all three epochs, for `nprnn plot scores`."""
    from nprnn.checkpoint import load_checkpoint

    scores = iter([0.9, 0.5, 0.4])
    real_validate = nprnn.train._validate

    def scripted(*args):
        record = real_validate(*args)
        record["valid_exact"] = next(scores)
        if record["epoch"] == 1:
            epoch_one.update(translator.model.state_dict())
        return record

    translator, epoch_one = tiny_translator(), {}
    monkeypatch.setattr(nprnn.train, "_validate", scripted)
    history = fit(translator, PAIRS, PAIRS, checkpoint=tmp_path / "m.npz", epochs=3, batch_size=2, lr=0.05,
                  patience=10, rng=0, log=lambda *a: None)
    model, _, _, meta = load_checkpoint(tmp_path / "m.npz")
    assert meta["epoch"] == 1 and [r["epoch"] for r in meta["history"]] == [1, 2, 3]
    assert [r["valid_exact"] for r in meta["history"]] == [r["valid_exact"] for r in history] == [0.9, 0.5, 0.4]
    for k, v in epoch_one.items():  # in the file, and in the model in memory once fit returns
        np.testing.assert_array_equal(model.state_dict()[k], v)
        np.testing.assert_array_equal(translator.model.state_dict()[k], v)


@pytest.mark.parametrize("keep_best, kept", [("exact", 3), ("chrf", 2), ("bleu", 1)])
def test_keep_best_says_which_validation_score_picks_the_epoch(keep_best, kept, tmp_path, monkeypatch):
    """Scripted validation: exact match is best at epoch 3, chrF at epoch 2, BLEU at epoch 1.
    Each criterion keeps its own epoch, and the checkpoint says which."""
    from nprnn.checkpoint import load_checkpoint

    scripted_scores = {1: dict(valid_exact=0.1, valid_chrf=40.0, valid_bleu=30.0, valid_loss=2.0),
                       2: dict(valid_exact=0.2, valid_chrf=50.0, valid_bleu=20.0, valid_loss=1.5),
                       3: dict(valid_exact=0.3, valid_chrf=45.0, valid_bleu=25.0, valid_loss=1.0)}
    real_validate = nprnn.train._validate

    def scripted(*args):
        record = real_validate(*args)
        record.update(scripted_scores[record["epoch"]])
        return record

    monkeypatch.setattr(nprnn.train, "_validate", scripted)
    fit(tiny_translator(), PAIRS, PAIRS, checkpoint=tmp_path / "m.npz", epochs=3, batch_size=2, patience=10,
        rng=0, log=lambda *a: None, keep_best=keep_best)
    assert load_checkpoint(tmp_path / "m.npz")[3]["epoch"] == kept


def test_a_tie_on_the_first_score_is_broken_by_the_second_then_the_loss():
    from nprnn.train import _score

    a = dict(valid_exact=0.5, valid_chrf=60.0, valid_bleu=30.0, valid_loss=1.0)
    b = dict(a, valid_chrf=61.0, valid_loss=1.2)
    assert _score(b) > _score(a) and _score(b, "chrf") > _score(a, "chrf")
    assert _score(a, "bleu") < _score(b, "bleu")  # BLEU tied: chrF decides
    c = dict(a, valid_loss=0.9)
    assert _score(c) > _score(a) and _score(c, "chrf") > _score(a, "chrf") and _score(c, "bleu") > _score(a, "bleu")


def test_real_corpora_keep_the_epoch_with_the_best_validation_chrf(tmp_path):
    from nprnn.data.tasks import load_task

    path = tmp_path / "c.tsv"
    path.write_text("".join(f"s {i}\tt {i}\n" for i in range(50)), encoding="utf-8")
    assert load_task(f"tsv:{path}").defaults["keep_best"] == "chrf"
    assert load_task("reverse").defaults.get("keep_best", "exact") == "exact"


def test_ctrl_c_during_the_last_save_says_which_epoch_the_file_holds(tmp_path, monkeypatch):
    from nprnn.checkpoint import load_checkpoint
    from nprnn.train import TrainingInterrupted

    scores = iter([0.9, 0.5])
    real_validate = nprnn.train._validate
    monkeypatch.setattr(nprnn.train, "_validate", lambda *a: {**real_validate(*a), "valid_exact": next(scores)})
    translator, saves = tiny_translator(), []
    real_save = translator.save

    def save(path, meta):  # the first save (epoch 1) goes through; Ctrl-C lands in the second, the last
        saves.append(meta["epoch"])
        if len(saves) == 2:
            raise KeyboardInterrupt
        return real_save(path, meta)

    translator.save = save
    with pytest.raises(TrainingInterrupted) as info:
        fit(translator, PAIRS, PAIRS, checkpoint=tmp_path / "m.npz", epochs=2, batch_size=2, lr=0.05, patience=10,
            rng=0, log=lambda *a: None)
    assert saves == [1, 1] and info.value.saved["epoch"] == 1 and len(info.value.history) == 2
    meta = load_checkpoint(tmp_path / "m.npz")[3]
    assert meta["epoch"] == 1 and [r["epoch"] for r in meta["history"]] == [1]
