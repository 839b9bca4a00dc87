import ast
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nprnn.metrics
from nprnn.metrics import (bleu, chrf, corpus_bleu, exact_match, reference_streams, token_accuracy,
                           tokenize_13a)


def test_exact_match_and_token_accuracy():
    refs = [["je", "suis", "là"], ["il", "est"]]
    hyps = [["je", "suis", "là"], ["il", "a", "faim"]]
    assert exact_match(hyps, refs) == 0.5
    assert token_accuracy(hyps, refs) == pytest.approx(4 / 6)  # 'faim' is one token too many
    assert token_accuracy([["a", "b"]], [["a", "b", "c", "d"]]) == pytest.approx(2 / 4)  # two missing
    assert token_accuracy([list("abcdef")], [list("abxy")]) == pytest.approx(2 / 6)  # two wrong, two extra
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
    assert p4 == 0 and corpus_bleu([hyp], [ref]) == 0.0  # no matching 4-gram, no smoothing
    expected3 = 100 * math.exp((math.log(p1) + math.log(p2) + math.log(p3)) / 3)
    assert corpus_bleu([hyp], [ref], max_n=3) == pytest.approx(expected3)


def test_bleu_brevity_penalty_and_clipping():
    ref = "a b c d e f g h".split()
    short = "a b c d".split()  # every n-gram matches, but half the length
    assert corpus_bleu([short], [ref]) == pytest.approx(100 * math.exp(1 - 8 / 4))
    repeated = ["the"] * 4
    # unigram precision clipped to 1/4 (one "the" in the reference)
    assert corpus_bleu([repeated], [["the", "cat", "is", "here"]], max_n=1) == pytest.approx(25.0)


# --- text metrics, against numbers sacreBLEU produced ------------------------------------------

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "metrics" / "sacrebleu_cases.json")
                     .read_text(encoding="utf-8"))
CASES = {case["name"]: case for case in FIXTURE["cases"]}
TOLERANCE = 0.01  # on the 0..100 scale


def _assert_bleu_equal(ours, expected):
    assert ours.score == pytest.approx(expected["score"], abs=TOLERANCE)
    assert ours.precisions == pytest.approx(expected["precisions"], abs=TOLERANCE)
    assert ours.bp == pytest.approx(expected["bp"], abs=1e-6)
    assert (ours.sys_len, ours.ref_len) == (expected["sys_len"], expected["ref_len"])
    assert (list(ours.counts), list(ours.totals)) == (expected["counts"], expected["totals"])
    assert str(ours) == expected["str"]  # the line sacreBLEU prints


@pytest.mark.parametrize("name", sorted(CASES))
def test_bleu_matches_sacrebleu_fixture(name):
    """Expected values produced by sacrebleu 2.6.0 with corpus_bleu(hyps, ref_streams) (defaults).

    And with corpus_bleu(hyps, ref_streams, lowercase=True) where the case stores bleu_lowercase.
    The fixture holds both layouts of the references; reference_streams must turn ours into the
    streams sacreBLEU was given.
    """
    case = CASES[name]
    assert reference_streams(case["refs"]) == case["ref_streams"]
    _assert_bleu_equal(bleu(case["hyps"], case["refs"]), case["bleu"])
    if "bleu_lowercase" in case:
        _assert_bleu_equal(bleu(case["hyps"], case["refs"], lowercase=True), case["bleu_lowercase"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_chrf_matches_sacrebleu_fixture(name):
    """Expected values produced by sacrebleu 2.6.0 with corpus_chrf(hyps, ref_streams).score."""
    case = CASES[name]
    assert chrf(case["hyps"], case["refs"]) == pytest.approx(case["chrf"], abs=TOLERANCE)


@pytest.mark.parametrize("item", FIXTURE["tokenize_13a"], ids=lambda item: repr(item["text"])[:30])
def test_tokenize_13a_matches_sacrebleu_fixture(item):
    """Expected tokenisations produced by sacrebleu 2.6.0 with Tokenizer13a()(text)."""
    assert " ".join(tokenize_13a(item["text"])) == item["tokenized"]


def test_fixture_covers_the_edge_cases():
    assert FIXTURE["produced_by"].startswith("sacrebleu 2.6.0")
    assert CASES["perfect"]["bleu"]["score"] == pytest.approx(100.0)
    assert CASES["no_overlap"]["chrf"] == 0.0
    assert CASES["all_empty_hypotheses"]["bleu"]["sys_len"] == 0
    assert any(len(refs) > 1 for refs in CASES["multi_ref"]["refs"])
    assert None in sum(CASES["variable_refs_none"]["ref_streams"], [])
    assert any("\uac00" <= ch <= "\ud7a3" for h in CASES["korean"]["hyps"] for ch in h)  # Hangul


def test_bleu_by_hand_on_text():
    # the cat sat on the mat / the cat is on the mat: matches 5/6, 3/5, 1/4, 0/3; the empty
    # 4-gram order gets half a match under "exp" smoothing: 1 / (2 * 3).
    result = bleu(["the cat sat on the mat"], [["the cat is on the mat"]])
    assert result.counts == (5, 3, 1, 0) and result.totals == (6, 5, 4, 3)
    p = [100 * 5 / 6, 100 * 3 / 5, 100 * 1 / 4, 100 / (2 * 3)]
    assert result.precisions == pytest.approx(p)
    assert result.bp == 1.0
    assert result.score == pytest.approx(math.exp(sum(map(math.log, p)) / 4))
    assert float(result) == result.score


def test_bleu_brevity_penalty_uses_closest_reference_length():
    # 4 tokens against references of 2 and 8: |4-2| < |4-8|, so r = 2 and there is no penalty ...
    assert bleu(["a b c d"], [["a b", "a b c d e f g h"]]).bp == 1.0
    # ... against one reference of 8 tokens, BP = exp(1 - 8/4)
    assert bleu(["a b c d"], [["a b c d e f g h"]]).bp == pytest.approx(math.exp(-1))
    # 5 tokens against 4 and 6: a tie, and the shorter one counts
    assert bleu(["a b c d e"], [["a b c d x y", "a b c d"]]).ref_len == 4


def test_bleu_agrees_with_corpus_bleu_on_13a_tokens():
    # One reference and a match at every order: no smoothing is used, so the token-list
    # corpus_bleu on 13a tokens gives the same number.
    case = CASES["single_ref"]
    hyps = [tokenize_13a(h) for h in case["hyps"]]
    refs = [tokenize_13a(r) for (r,) in case["refs"]]
    assert min(case["bleu"]["counts"]) > 0
    assert corpus_bleu(hyps, refs) == pytest.approx(bleu(case["hyps"], case["refs"]).score)


def test_chrf_by_hand():
    # hyp "abcd", ref "ab". Order 1: P = 2/4, R = 2/2. Order 2: ab bc cd vs ab, P = 1/3, R = 1/1.
    # Orders 3-6: the reference has none, so they do not count. P = 5/12, R = 1 (averages),
    # F2 = 5 P R / (4 P + R) = 25/32. (Averaging F over n instead would give 77.4.)
    assert chrf(["abcd"], [["ab"]]) == pytest.approx(100 * 25 / 32)
    assert chrf(["a b\tc d"], [["a   b"]]) == pytest.approx(100 * 25 / 32)  # whitespace removed
    assert chrf(["Abcd"], [["ab"]]) < chrf(["abcd"], [["ab"]])  # case-sensitive


def test_chrf_keeps_the_best_reference_per_sentence():
    hyps = ["the quick brown fox"]
    best = chrf(hyps, [["the quick brown fox"]])
    assert best == pytest.approx(100.0)
    assert chrf(hyps, [["a slow dog", "the quick brown fox"]]) == pytest.approx(best)
    assert chrf(hyps, [["the quick brown fox", "a slow dog"]]) == pytest.approx(best)


def test_variable_reference_counts_and_streams():
    refs = [["a b c d e"], ["f g h i", "f g h", "f g"], ["j k l m n", "j k l"]]
    hyps = ["a b c d e", "f g h i", "j k l m"]
    streams = reference_streams(refs)
    assert streams == [["a b c d e", "f g h i", "j k l m n"], [None, "f g h", "j k l"],
                       [None, "f g", None]]
    from_streams = list(zip(*streams))  # per hypothesis again, None entries dropped by bleu/chrf
    assert bleu(hyps, from_streams) == bleu(hyps, refs)
    assert chrf(hyps, from_streams) == chrf(hyps, refs)
    # An empty string is not padding: it is a reference of length 0, and may be the closest one.
    assert bleu(["x y"], [["x y z w v u", None]]).ref_len == 6
    assert bleu(["x y"], [["x y z w v u", ""]]).ref_len == 0


def test_text_metrics_reject_malformed_input():
    with pytest.raises(TypeError, match="list of reference strings"):
        bleu(["a b"], ["a b"])  # one string per hypothesis instead of a list of them
    with pytest.raises(TypeError, match="list of reference strings"):
        chrf(["a b"], ["a b"])
    with pytest.raises(ValueError, match="2 hypotheses but 1"):
        bleu(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="no reference"):
        bleu(["a"], [[None]])
    with pytest.raises(ValueError, match="no hypotheses"):
        chrf([], [])
    with pytest.raises(TypeError, match="not a string"):
        bleu([None], [["a"]])


def test_metrics_imports_no_scoring_library():
    tree = ast.parse(Path(nprnn.metrics.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"math", "re", "collections", "typing", "numpy"}, imported


# --- text metrics, against sacreBLEU itself on random corpora (skipped without sacreBLEU) -------

@pytest.fixture(scope="module")
def sacrebleu():
    return pytest.importorskip("sacrebleu")


_WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "chat", "l'homme", "n'est", "été", "déjà",
          "à", "학생", "입니다", "한국어", "😀", "3.5", "1,000", "1990-91", "e-mail", "x"]
_PUNCT = [".", ",", "!", "?", "'", '"', "(", ")", "-", ":", ";", "«", "»", "%", "&amp;", "&quot;"]
_CASINGS = [str.lower, str.upper, str.capitalize, str.swapcase]
_token = st.one_of(st.builds(lambda w, case: case(w), st.sampled_from(_WORDS), st.sampled_from(_CASINGS)),
                   st.sampled_from(_PUNCT))
_tokens = st.lists(_token, max_size=10)
_separator = st.sampled_from([" ", " ", " ", "", "  "])  # mostly spaces; sometimes glued on


@st.composite
def _corpora(draw):
    """(hyps, refs): 1-4 sentences, each with 1-3 references, some edited copies of the hypothesis."""

    def text(tokens):
        return "".join(t + draw(_separator) for t in tokens)

    hyps, refs = [], []
    for _ in range(draw(st.integers(1, 4))):
        hyp = draw(_tokens)
        group = []
        for _ in range(draw(st.integers(1, 3))):
            if draw(st.booleans()):  # an edited copy, so that longer n-grams match too
                ref = list(hyp)
                i = draw(st.integers(0, len(ref)))
                ref[i : i + draw(st.integers(0, 2))] = draw(st.lists(_token, max_size=2))
            else:
                ref = draw(_tokens)
            group.append(text(ref))
        hyps.append(text(hyp))
        refs.append(group)
    return hyps, refs


@settings(max_examples=50, deadline=None)
@given(corpus=_corpora())
def test_bleu_and_chrf_match_sacrebleu_on_random_corpora(sacrebleu, corpus):
    hyps, refs = corpus
    streams = reference_streams(refs)
    expected = sacrebleu.corpus_bleu(hyps, streams).score
    assert bleu(hyps, refs).score == pytest.approx(expected, abs=TOLERANCE)
    assert (bleu(hyps, refs, lowercase=True).score
            == pytest.approx(sacrebleu.corpus_bleu(hyps, streams, lowercase=True).score, abs=TOLERANCE))
    assert chrf(hyps, refs) == pytest.approx(sacrebleu.corpus_chrf(hyps, streams).score, abs=TOLERANCE)


# raw text for the tokeniser: words, symbols, mteval's markers and line breaks, glued at random
_snippet = st.one_of(st.sampled_from(_WORDS + _PUNCT + ["<skipped>", "-\n", "&lt;", "&gt;"]),
                     st.text("ab1.,-'&;<>/ \n\t\u00a0é한😀$%#", max_size=6))


@settings(max_examples=50, deadline=None)
@given(text=st.lists(_snippet, max_size=8).map("".join))
def test_tokenize_13a_matches_sacrebleu_on_random_text(sacrebleu, text):
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    assert " ".join(tokenize_13a(text)) == Tokenizer13a()(text)
