import math

import pytest

from nprnn.metrics import corpus_bleu, exact_match, token_accuracy


def test_exact_match_and_token_accuracy():
    refs = [["je", "suis", "là"], ["il", "est"]]
    hyps = [["je", "suis", "là"], ["il", "a", "faim"]]
    assert exact_match(hyps, refs) == 0.5
    assert token_accuracy(hyps, refs) == pytest.approx(4 / 5)
    with pytest.raises(ValueError, match="same length"):
        exact_match(hyps, refs[:1])


def test_bleu_perfect_and_disjoint():
    refs = [["a", "b", "c", "d", "e"]]
    assert corpus_bleu(refs, refs) == pytest.approx(100.0)
    assert corpus_bleu([["x", "y", "z", "w"]], refs) == 0.0
    assert corpus_bleu([[]], refs) == 0.0


def test_bleu_by_hand():
    # hyp: the cat sat on the mat (6), ref: the cat is on the mat (6)
    hyp = "the cat sat on the mat".split()
    ref = "the cat is on the mat".split()
    p1, p2, p3, p4 = 5 / 6, 3 / 5, 1 / 4, 0 / 3
    assert corpus_bleu([hyp], [ref]) == 0.0  # no matching 4-gram, no smoothing
    expected3 = 100 * math.exp((math.log(p1) + math.log(p2) + math.log(p3)) / 3)
    assert corpus_bleu([hyp], [ref], max_n=3) == pytest.approx(expected3)


def test_bleu_brevity_penalty_and_clipping():
    ref = "a b c d e f g h".split()
    short = "a b c d".split()  # every n-gram matches, but half the length
    assert corpus_bleu([short], [ref]) == pytest.approx(100 * math.exp(1 - 8 / 4))
    repeated = ["the"] * 4
    # unigram precision clipped to 1/4 (one "the" in the reference)
    assert corpus_bleu([repeated], [["the", "cat", "is", "here"]], max_n=1) == pytest.approx(25.0)
