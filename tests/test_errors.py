"""Bad input is refused at the public boundary, with the argument named."""
import numpy as np
import pytest

from nprnn import Embedding, GRUCell, Linear, LSTMCell, Recurrent, RNNCell, cross_entropy


def test_cell_constructor_arguments():
    with pytest.raises(ValueError, match="input_size"):
        LSTMCell(0, 4)
    with pytest.raises(ValueError, match="hidden_size"):
        GRUCell(3, 2.5)
    with pytest.raises(TypeError, match="dtype"):
        RNNCell(3, 4, dtype=np.int32)
    with pytest.raises(TypeError, match="rng"):
        RNNCell(3, 4, rng="seed")


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros(3), r"x must have 2 dimensions \(\?, 3\)"),
        (np.zeros((2, 2, 3)), r"x must have 2 dimensions"),
        (np.zeros((2, 5)), r"x must have shape \(\?, 3\), got \(2, 5\)"),
        ([[0.0, 0.0, 0.0]], r"x must be a numpy array"),
    ],
)
def test_cell_rejects_bad_x(make_cell, x, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_cell(3, 4).forward(x)


def test_cell_rejects_dtype_mismatch():
    with pytest.raises(TypeError, match="x must have dtype float64"):
        LSTMCell(3, 4).forward(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="float32"):
        GRUCell(3, 4, dtype=np.float32).forward(np.zeros((2, 3)))


def test_cell_rejects_bad_state():
    lstm, gru = LSTMCell(3, 4), GRUCell(3, 4)
    x = np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"state must be a pair \(h, c\)"):
        lstm.forward(x, np.zeros((2, 4)))  # h without c
    with pytest.raises(ValueError, match=r"state\[1\] \(c\) must have shape \(2, 4\)"):
        lstm.forward(x, (np.zeros((2, 4)), np.zeros((3, 4))))
    with pytest.raises(TypeError, match="one array h"):
        gru.forward(x, (np.zeros((2, 4)), np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"state must have shape \(2, 4\)"):
        gru.forward(x, np.zeros((2, 5)))
    state, cache = gru.forward(x)
    with pytest.raises(ValueError, match="dstate"):
        gru.backward(np.zeros((1, 4)), cache)
    with pytest.raises(TypeError, match="cache"):
        gru.backward(state, "cache")


def test_recurrent_rejects_bad_input():
    rec = Recurrent(LSTMCell(3, 4))
    with pytest.raises(ValueError, match=r"xs must have 3 dimensions \(\?, \?, 3\)"):
        rec.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"xs must have shape"):
        rec.forward(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"lengths must be in 0\.\.5"):
        rec.forward(np.zeros((5, 2, 3)), lengths=[6, 1])
    with pytest.raises(ValueError, match=r"lengths must be in 0\.\.5"):
        rec.forward(np.zeros((5, 2, 3)), lengths=[-1, 1])
    with pytest.raises(ValueError, match=r"lengths must have shape \(2,\)"):
        rec.forward(np.zeros((5, 2, 3)), lengths=[1, 2, 3])
    with pytest.raises(TypeError, match="lengths must be integers"):
        rec.forward(np.zeros((5, 2, 3)), lengths=[1.5, 2.0])
    with pytest.raises(TypeError, match=r"state must be a pair"):
        rec.forward(np.zeros((5, 2, 3)), state=np.zeros((2, 4)))
    with pytest.raises(TypeError, match="cell must be"):
        Recurrent("lstm")
    rec.forward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dhs must have shape \(5, 2, 4\)"):
        rec.backward(np.zeros((5, 2, 3)))


def test_embedding_rejects_ids_outside_the_vocabulary():
    emb = Embedding(10, 4)
    with pytest.raises(ValueError, match=r"ids must hold token ids in 0\.\.9, got values in 0\.\.10"):
        emb.forward(np.array([[0, 10]]))
    with pytest.raises(ValueError, match=r"ids must hold token ids in 0\.\.9"):
        emb.forward(np.array([-1]))
    with pytest.raises(TypeError, match="ids must hold integer token ids"):
        emb.forward(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        Embedding(4, 2, padding_idx=4)


def test_linear_and_loss_reject_bad_input():
    with pytest.raises(ValueError, match=r"x must be an array of shape \(\.\.\., 4\)"):
        Linear(4, 2).forward(np.zeros((3, 5)))
    with pytest.raises(TypeError, match="x must have dtype"):
        Linear(4, 2).forward(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"targets must hold token ids in 0\.\.2"):
        cross_entropy(np.zeros((2, 3)), np.array([1, 3]))
    with pytest.raises(ValueError, match="targets must have shape"):
        cross_entropy(np.zeros((2, 3)), np.array([1, 2, 1]))


def test_training_settings_are_checked_before_training():
    from nprnn.data.tasks import Task, _defaults
    from nprnn.train import train_task

    pairs = [("a b", "b a"), ("b c", "c b"), ("c a", "a c")]
    task = Task("tiny", "word", pairs, pairs, pairs, _defaults("reverse"))
    quiet = dict(epochs=1, log=lambda *a: None)
    with pytest.raises(ValueError, match=r"unknown settings \['hiden'\]"):
        train_task(task, hiden=8, **quiet)
    with pytest.raises(ValueError, match=r"lr_decay must be a number in \(0, 1\], got 0"):
        train_task(task, hidden_size=4, embedding_dim=2, lr_decay=0, **quiet)
    with pytest.raises(ValueError, match=r"attention must be None or one of"):
        train_task(task, hidden_size=4, embedding_dim=2, attention="luong", **quiet)
