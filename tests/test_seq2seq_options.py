"""Attention, bidirectional and stacked encoders, dropout, peeky decoder, reversed source,
scheduled sampling and beam search: each backward checked by hand, each option's claim tested."""
import numpy as np
import pytest

from nprnn.gradcheck import numerical_gradient, rel_error
from nprnn.data.vocab import EOS, SOS
from nprnn.encoder import reverse_padded
from nprnn.layers import Dropout
from nprnn.seq2seq import Seq2Seq

from .test_seq2seq import batch

BAR = 1e-6

OPTIONS = {
    "attention-dot": dict(attention="dot"),
    "attention-general": dict(attention="general"),
    "attention-additive": dict(attention="additive"),
    "bidirectional": dict(bidirectional=True),
    "bidirectional-attention": dict(bidirectional=True, attention="dot"),
    "two-layers": dict(num_layers=2),
    "two-layers-dropout": dict(num_layers=2, dropout=0.3),
    "peeky": dict(peeky=True),
    "reversed": dict(reverse_source=True),
    "reversed-peeky": dict(reverse_source=True, peeky=True),
    "everything": dict(num_layers=2, bidirectional=True, attention="general", peeky=True, reverse_source=True, dropout=0.2),
}


def check_whole_model(model, src, tgt, *, loss_kwargs=None, eps=1e-4):
    """The model's gradient against centred differences; the random streams (dropout masks,
    scheduled sampling) are reset before every evaluation, so each sees the same draws."""
    loss_kwargs = loss_kwargs or {}

    def loss():
        for dropout in model.modules():
            if isinstance(dropout, Dropout):
                dropout.rng = np.random.default_rng(11)
        return model.loss(src, tgt, **{k: (np.random.default_rng(12) if k == "rng" else v) for k, v in loss_kwargs.items()})

    model.zero_grad()
    loss()
    model.backward()
    analytic = {k: g.copy() for k, g in model.grads.items()}
    return {k: rel_error(analytic[k], numerical_gradient(loss, p, eps)) for k, p in model.params.items()}


CASES = [("lstm", name) for name in sorted(OPTIONS)] + [
    ("gru", name) for name in ("attention-dot", "attention-additive", "bidirectional-attention", "two-layers-dropout", "peeky")
]


@pytest.mark.parametrize("cell, name", CASES, ids=[f"{c}-{n}" for c, n in CASES])
def test_whole_model_gradients(cell, name):
    model = Seq2Seq(9, 8, 3, 4, cell=cell, rng=5, **OPTIONS[name])
    model.train()  # dropout on, where there is any
    for name in ("decoder.attention.v", "decoder.attention.W_a"):
        if name in model.params:
            # At their initial scale the additive and general scores barely vary in a model this
            # small, so the gradients of W_q and W_a are ~4e-6 and centred differences see mostly
            # rounding; scaled up, the attention matters and the check means something.
            model.params[name] *= 20
    report = check_whole_model(model, *batch())
    assert max(report.values()) <= BAR, report


def test_rnn_cell_with_everything():
    model = Seq2Seq(9, 8, 3, 4, cell="rnn", rng=5, **OPTIONS["everything"])
    model.train()
    report = check_whole_model(model, *batch())
    assert max(report.values()) <= BAR, report


def test_parameter_names_follow_pytorch_suffixes():
    model = Seq2Seq(9, 8, 3, 4, num_layers=2, bidirectional=True, attention="additive")
    names = set(model.params)
    for n in ("encoder.cell.Wh", "encoder.cell_reverse.Wh", "encoder.cell_l1.Wx", "encoder.cell_l1_reverse.bh",
              "decoder.cell.Wh", "decoder.cell_l1.Wh", "decoder.attention.v", "decoder.attention.W_c"):
        assert n in names, n
    assert model.params["encoder.cell_l1.Wx"].shape[0] == 8  # layer 1 reads both directions: 2 * 4
    assert model.params["decoder.cell.Wh"].shape == (8, 32)  # the decoder is 2 * 4 wide (LSTM: 4 gates)


def test_bidirectional_bridge_is_the_two_final_states_side_by_side():
    model = Seq2Seq(9, 8, 3, 4, cell="gru", bidirectional=True, rng=0)
    src, _ = batch()
    lengths = np.array([3, 2, 1])
    _, [context] = model.encoder.forward(src, lengths)
    forward_final = model.encoder.layers[0][0].forward(model.encoder.embedding.forward(src), None, lengths)[1]
    backward_final = model.encoder.layers[0][1].forward(reverse_padded(model.encoder.embedding.forward(src), lengths), None, lengths)[1]
    np.testing.assert_allclose(context[:, :4], forward_final)
    np.testing.assert_allclose(context[:, 4:], backward_final)
    # the right-to-left pass reads "5 7 4" for column 0 = [4, 7, 5]: its final state is after token 4
    alone = model.encoder.layers[0][1].forward(model.encoder.embedding.forward(np.array([[5], [7], [4]])))[1]
    np.testing.assert_allclose(context[0, 4:], alone[0])


def test_reverse_padded_is_its_own_inverse():
    x = np.arange(12).reshape(4, 3)
    lengths = np.array([4, 2, 0])
    r = reverse_padded(x, lengths)
    np.testing.assert_array_equal(r[:, 0], x[::-1, 0])
    np.testing.assert_array_equal(r[:, 1], [x[1, 1], x[0, 1], x[2, 1], x[3, 1]])
    np.testing.assert_array_equal(r[:, 2], x[:, 2])
    np.testing.assert_array_equal(reverse_padded(r, lengths), x)


def test_reversed_source_is_the_same_as_reversing_the_data():
    a = Seq2Seq(9, 8, 3, 4, reverse_source=True, rng=0)
    b = Seq2Seq(9, 8, 3, 4, rng=0)
    src, tgt = batch()
    flipped = reverse_padded(src, np.array([3, 2, 1]))
    assert a.loss(src, tgt) == pytest.approx(b.loss(flipped, tgt), rel=1e-14)


def test_attention_ignores_padding_and_sums_to_one():
    model = Seq2Seq(9, 8, 3, 4, attention="dot", rng=0)
    src, tgt = batch()
    hyps = model.greedy_decode(src, max_len=4)
    maps = model.attention_weights(src, hyps)
    for b, length in enumerate([3, 2, 1]):
        assert maps[b].shape == (len(hyps[b]) + 1, length)  # a row per token and one for <eos>
        np.testing.assert_allclose(maps[b].sum(axis=1), 1.0)
    noisy = src.copy()
    noisy[2, 1] = 7  # beyond column 1's length of 2, given explicitly
    assert model.loss(noisy, tgt, src_lengths=[3, 2, 1]) == model.loss(src, tgt)


def test_dropout_only_in_training():
    model = Seq2Seq(9, 8, 3, 4, num_layers=2, dropout=0.5, rng=0)
    assert all(m.training for m in model.modules())  # a new model starts in training mode, as in PyTorch
    src, tgt = batch()
    model.eval()
    evaluation = model.loss(src, tgt)
    assert model.loss(src, tgt) == evaluation  # deterministic when not training
    model.train()
    assert model.loss(src, tgt) != evaluation
    model.eval()
    assert model.greedy_decode(src) == model.greedy_decode(src)


def test_teacher_forcing_one_is_plain_training_and_less_changes_the_inputs():
    model = Seq2Seq(9, 8, 3, 4, rng=0)
    src, tgt = batch()
    assert model.loss(src, tgt, teacher_forcing=1.0) == model.loss(src, tgt)
    assert model.loss(src, tgt, teacher_forcing=0.0, rng=0) != model.loss(src, tgt)
    report = check_whole_model(model, src, tgt, loss_kwargs=dict(teacher_forcing=0.5, rng=None))
    assert max(report.values()) <= BAR, report
    with pytest.raises(ValueError, match="teacher_forcing"):
        model.loss(src, tgt, teacher_forcing=1.5)


def _sharp_model(**options):
    model = Seq2Seq(12, 10, 5, 8, rng=1, **options)
    for p in model.params.values():
        p *= 2.5  # decisive and varied outputs
    return model


def _sources(n=8, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 6, size=n)
    src = np.zeros((lengths.max(), n), dtype=int)
    for b, L in enumerate(lengths):
        src[:L, b] = rng.integers(4, 12, size=L)
    return src


def _score(model, src_col, hyp):
    """The model's log-probability of hyp + <eos> given one source column."""
    tgt = np.array([SOS] + hyp + [EOS])[:, None]
    return -model.loss(src_col, tgt) * (len(hyp) + 1)


@pytest.mark.parametrize("options", [{}, dict(attention="general"), dict(peeky=True, reverse_source=True)])
def test_beam_of_one_is_greedy(options):
    model = _sharp_model(**options)
    src = _sources()
    assert model.beam_search(src, beam_size=1, max_len=9) == model.greedy_decode(src, max_len=9)


def test_beam_search_batched_equals_one_by_one():
    model = _sharp_model(attention="dot")
    src = _sources()
    together = model.beam_search(src, beam_size=4, max_len=9)
    lengths = (src != 0).sum(axis=0)
    alone = [model.beam_search(src[: lengths[b], b : b + 1], beam_size=4, max_len=9)[0] for b in range(src.shape[1])]
    assert together == alone


def test_wider_beams_never_score_lower():
    model = _sharp_model()
    src = _sources(n=12, seed=3)
    lengths = (src != 0).sum(axis=0)
    results = {k: model.beam_search(src, beam_size=k, max_len=12) for k in (1, 2, 3, 5, 8)}
    for b in range(src.shape[1]):
        col = src[: lengths[b], b : b + 1]
        scores = [_score(model, col, results[k][b]) for k in (1, 2, 3, 5, 8)]
        assert all(wide >= narrow - 1e-9 for narrow, wide in zip(scores, scores[1:])), scores
    assert results[8] != results[1]  # the beam found something greedy did not


def test_beam_search_reports_scores_best_first_and_checks_arguments():
    model = _sharp_model()
    src = _sources(n=3)
    for hyps in model.beam_search_all(src, beam_size=3, max_len=8):
        scores = [score for _, score, _ in hyps]
        assert scores == sorted(scores, reverse=True) and len(hyps) >= 1
        for tokens, score, logp in hyps:
            assert score == logp  # no length penalty
            assert EOS not in tokens and SOS not in tokens
    normalised = model.beam_search_all(src, beam_size=3, max_len=8, length_penalty=1.0)
    tokens, score, logp = normalised[0][0]
    assert score == pytest.approx(logp / ((5 + len(tokens) + 1) / 6))
    with pytest.raises(ValueError, match="beam_size"):
        model.beam_search(src, beam_size=0)
    with pytest.raises(ValueError, match="length_penalty"):
        model.beam_search(src, length_penalty=-1)


def test_no_backward_after_decoding():
    model = Seq2Seq(9, 8, 3, 4, attention="dot", rng=0)
    src, tgt = batch()
    model.loss(src, tgt)
    model.greedy_decode(src)  # reuses the layers, so the loss's tapes are gone
    with pytest.raises(RuntimeError, match="needs a loss first"):
        model.backward()


def test_option_errors():
    with pytest.raises(ValueError, match="attention must be None or one of"):
        Seq2Seq(9, 8, 3, 4, attention="luong")
    with pytest.raises(ValueError, match="num_layers"):
        Seq2Seq(9, 8, 3, 4, num_layers=0)
    with pytest.raises(ValueError, match="dropout"):
        Seq2Seq(9, 8, 3, 4, dropout=1.0)


def test_float32_stays_float32_with_every_option():
    model = Seq2Seq(9, 8, 3, 4, dtype=np.float32, rng=0, **OPTIONS["everything"])
    model.train()
    src, tgt = batch()
    model.loss(src, tgt, teacher_forcing=0.5, rng=1)
    model.backward()
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(g.dtype == np.float32 for g in model.grads.values())
    memory, states = model.encode(src)
    logits, _, weights = model.decoder.forward(tgt[:-1], states, memory)
    assert logits.dtype == np.float32 and weights.dtype == np.float32
    assert model.beam_search(src, beam_size=2, max_len=3)
