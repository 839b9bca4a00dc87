import numpy as np
import pytest

from nprnn.gradcheck import check_seq2seq
from nprnn.data.vocab import EOS, PAD, SOS
from nprnn.seq2seq import Seq2Seq

BAR = 1e-6


def batch():
    """Three sources of lengths 3, 2, 1 and targets of 2, 3 and 1 words: padding on both sides."""
    src = np.array([[4, 5, 6], [7, 8, 0], [5, 0, 0]])
    tgt = np.array([[SOS, SOS, SOS], [4, 5, 6], [7, 3, EOS], [EOS, 6, PAD], [PAD, EOS, PAD]])
    return src, tgt


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_whole_model_gradients(cell):
    model = Seq2Seq(9, 8, 3, 4, cell=cell, rng=3)
    src, tgt = batch()
    report = check_seq2seq(model, src, tgt)
    assert len(report) == 12  # 2 embeddings, 2 cells of 4, the output layer's W and b
    assert max(report.values()) <= BAR, report


def test_lengths_are_read_off_the_padding():
    model = Seq2Seq(9, 8, 3, 4, rng=0)
    src, tgt = batch()
    assert model.loss(src, tgt) == model.loss(src, tgt, src_lengths=[3, 2, 1])
    assert model.loss(src, tgt) != model.loss(src, tgt, src_lengths=[3, 3, 3])
    with pytest.raises(ValueError, match="src column 0 has <pad>"):
        model.loss(np.array([[0, 4], [5, 4]]), tgt[:, :2])


def _grads_after(model, src, tgt):
    model.zero_grad()
    loss = model.loss(src, tgt)
    model.backward()
    return loss, {k: g.copy() for k, g in model.grads.items()}


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_extra_padding_changes_nothing(cell):
    model = Seq2Seq(9, 8, 3, 4, cell=cell, rng=0)
    src, tgt = batch()
    loss, grads = _grads_after(model, src, tgt)
    more_rows = _grads_after(model, np.vstack([src, np.zeros((2, 3), int)]), np.vstack([tgt, np.zeros((3, 3), int)]))
    # an extra column whose target is only <sos> <eos> would add a token, so it is all padding
    # but for <sos>, which is never scored
    extra_src = np.hstack([src, np.zeros((3, 1), int)])
    extra_tgt = np.hstack([tgt, np.array([[SOS], [PAD], [PAD], [PAD], [PAD]])])
    more_cols = _grads_after(model, extra_src, extra_tgt)
    for other_loss, other in (more_rows, more_cols):
        assert other_loss == pytest.approx(loss, rel=1e-13)
        for k in grads:
            np.testing.assert_allclose(other[k], grads[k], rtol=1e-11, atol=1e-15)


def test_the_context_is_the_only_bridge():
    """The decoder sees the source only through the context: its initial-state gradient is the
    encoder's final-state gradient, and a source change moves the loss only through it."""
    model = Seq2Seq(9, 8, 3, 4, rng=0)
    src, tgt = batch()
    memory, states = model.encode(src)
    logits_a, _, _ = model.decoder.forward(tgt[:-1], states, memory)
    other_src = src.copy()
    other_src[0, 0] = 7
    other_memory, other_states = model.encode(other_src)
    logits_b, _, _ = model.decoder.forward(tgt[:-1], other_states, other_memory)
    assert np.abs(logits_a[:, 0] - logits_b[:, 0]).max() > 0  # column 0 changed
    np.testing.assert_array_equal(logits_a[:, 1:], logits_b[:, 1:])  # the others did not


def test_backward_needs_a_loss():
    model = Seq2Seq(9, 8, 3, 4)
    with pytest.raises(RuntimeError, match="needs a loss first"):
        model.backward()


def test_params_have_dotted_names_and_live_arrays():
    model = Seq2Seq(9, 8, 3, 4, cell="gru")
    names = set(model.params)
    assert {"encoder.embedding.W", "encoder.cell.Wh", "decoder.cell.Wx", "decoder.out.W", "decoder.out.b"} <= names
    assert names == set(model.grads)
    assert model.params["encoder.cell.Wh"] is model.encoder.layers[0][0].cell.params["Wh"]


def test_greedy_batched_equals_one_by_one():
    rng = np.random.default_rng(0)
    model = Seq2Seq(12, 10, 5, 8, rng=1)
    for p in model.params.values():  # sharper weights: decisive, varied outputs
        p *= 3
    lengths = [5, 1, 3, 4, 2, 5]
    src = np.zeros((5, 6), dtype=int)
    for b, n in enumerate(lengths):
        src[:n, b] = rng.integers(4, 12, size=n)
    together = model.greedy_decode(src, max_len=9)
    alone = [model.greedy_decode(src[:n, b : b + 1], max_len=9)[0] for b, n in enumerate(lengths)]
    assert together == alone
    assert len({tuple(h) for h in together}) > 1
    for hyp in together:
        assert len(hyp) <= 9 and EOS not in hyp and SOS not in hyp and PAD not in hyp


def test_greedy_stops_at_eos():
    model = Seq2Seq(6, 6, 3, 4, rng=0)
    model.params["decoder.out.b"][:] = 0.0
    model.params["decoder.out.b"][EOS] = 100.0  # <eos> is always the most likely token
    assert model.greedy_decode(np.array([[4], [5]])) == [[]]


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell must be one of"):
        Seq2Seq(9, 8, 3, 4, cell="transformer")
    with pytest.raises(ValueError, match="src_vocab_size must be more than 2"):
        Seq2Seq(2, 8, 3, 4)
    model = Seq2Seq(9, 8, 3, 4)
    src, tgt = batch()
    with pytest.raises(ValueError, match=r"src must hold token ids in 0\.\.8"):
        model.loss(src + 5, tgt)
    with pytest.raises(ValueError, match=r"tgt must hold token ids in 0\.\.7"):
        model.loss(src, tgt + 6)
    with pytest.raises(ValueError, match=r"tgt must have shape \(\?, 3\)"):
        model.loss(src, tgt[:, :2])
    with pytest.raises(ValueError, match="at least 2 rows"):
        model.loss(src, tgt[:1])
    with pytest.raises(TypeError, match="integer token ids"):
        model.loss(src.astype(float), tgt)
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(src, max_len=-1)
