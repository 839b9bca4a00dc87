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
