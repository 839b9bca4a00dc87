"""Tokenisers for real text: normalisation, exact round trips, BPE by hand, saving, errors."""
import doctest
import json
import os
import random
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nprnn.data import tokenize as tokenize_module
from nprnn.data.vocab import SPECIALS, Vocab
from nprnn.data.vocab import UNK as UNK_ID
from nprnn.data.tokenize import (MARKER, UNK, UNK_TEXT, BPETokenizer, CharTokenizer, Tokenizer, WordTokenizer,
                                 make_tokenizer, normalize, tokenizer_from_dict)

# Awkward characters on purpose: odd whitespace, the marker itself, the escape, combining marks,
# emoji with a skin-tone modifier, Hangul, Devanagari, control characters.
WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1f\x85\u00a0\u1680\u2000\u2028\u202f\u3000"
AWKWARD = WHITESPACE + "▁\\\u0301\u0308\u0915\u094d\u093f éèçœÉ'’«»!?.,:;-0123456789😀🏽👍\x00\x07\ufffd<>_"
any_char = st.one_of(st.characters(), st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
                     st.sampled_from(AWKWARD))
any_text = st.text(any_char, max_size=60)

FAST = settings(max_examples=150)
ROOT = Path(__file__).resolve().parents[1]


# -- normalize -------------------------------------------------------------------------------

def test_normalize_examples():
    assert normalize("  Cafe\u0301\u00a0\t au   lait\n") == "Café au lait"
    assert normalize("\u3000나는\u3000\u3000학생이다.\r\n") == "나는 학생이다."
    assert normalize("Paris PARIS") == "Paris PARIS"  # case kept
    assert normalize(" \t\n") == ""


@FAST
@given(any_text)
def test_normalize_is_nfc_single_spaced_and_idempotent(s):
    n = normalize(s)
    assert normalize(n) == n
    assert unicodedata.is_normalized("NFC", n)
    assert n == n.strip() and "  " not in n
    assert all(c == " " or not c.isspace() for c in n)
    assert n.split() == unicodedata.normalize("NFC", s).split()  # same words, only the spacing changed


def test_normalize_rejects_non_str():
    with pytest.raises(TypeError, match="text"):
        normalize(b"bytes")


# -- word and char tokenizers ----------------------------------------------------------------

def test_word_tokenizer_examples():
    tok = WordTokenizer()
    assert tok.tokenize("J'ai 2 chats.") == ["▁J", "'", "ai", "▁2", "▁chats", "."]
    assert tok.tokenize("나는 학생이다.") == ["▁나는", "▁학생이다", "."]
    assert tok.tokenize("Tu viens ?") == ["▁Tu", "▁viens", "▁?"]       # the space before "?" is kept
    assert tok.tokenize("Ça\u00a0va ?!") == ["▁Ça", "▁va", "▁?", "!"]
    assert tok.tokenize("नमस्ते दुनिया") == ["▁नमस्ते", "▁दुनिया"]        # vowel signs stay in their word
    assert tok.tokenize("e\u0301te\u0301") == ["▁été"]                # NFC first
    assert tok.tokenize("") == [] and tok.tokenize(" \t ") == []
    assert tok.detokenize(["▁J", "'", "ai", "▁2", "▁chats", "."]) == "J'ai 2 chats."


def test_char_tokenizer_examples():
    tok = CharTokenizer()
    assert tok.tokenize("Où  es-tu ?") == ["O", "ù", "▁", "e", "s", "-", "t", "u", "▁", "?"]
    assert tok.tokenize("한국어") == ["한", "국", "어"]
    assert tok.detokenize(["O", "ù", "▁", "?"]) == "Où ?"


def test_literal_marker_and_backslash_round_trip():
    text = "a▁b \\▁ ▁▁ c\\\\d ▁"
    word, char = WordTokenizer(), CharTokenizer()
    assert word.tokenize("x▁ ▁y \\") == ["▁x", "\\▁", "▁\\▁", "y", "▁\\\\"]
    assert char.tokenize("▁ \\") == ["\\▁", "▁", "\\\\"]
    for tok in (word, char):
        assert tok.detokenize(tok.tokenize(text)) == text


@pytest.mark.parametrize("tok", [WordTokenizer(), CharTokenizer()], ids=["word", "char"])
@FAST
@given(s=any_text)
def test_round_trip_word_and_char(tok, s):
    tokens = tok.tokenize(s)
    assert tok.detokenize(tokens) == normalize(s)
    assert all(tokens) and not any(c.isspace() for t in tokens for c in t)  # a space is always "▁"
    assert UNK not in tokens


@FAST
@given(any_text)
def test_char_tokenizer_is_one_token_per_character(s):
    tokens = CharTokenizer().tokenize(s)
    assert len(tokens) == len(normalize(s))
    assert tokens.count(MARKER) == normalize(s).count(" ")


@FAST
@given(any_text)
def test_word_tokens_are_words_or_single_characters(s):
    """Each token, less its marker, is a run of word characters (+ marks) or one other char (+ marks)."""
    for tok in WordTokenizer().tokenize(s):
        body = tok[1:] if tok.startswith(MARKER) and len(tok) > 1 else tok
        body = tokenize_module._unspell(body)
        base = "".join(c for c in body if unicodedata.category(c)[0] != "M")
        assert base == "" or len(base) == 1 or all(c.isalnum() or c == "_" for c in base)


# -- BPE: by hand ----------------------------------------------------------------------------

def test_bpe_first_merges_worked_by_hand():
    # Symbols: ▁ l o w / ▁ l o w e r / ▁ l o w e s t / ▁ n e w e r / ▁ w i d e r, each word once.
    # Pair counts: (▁,l) (l,o) (o,w) (w,e) (e,r) = 3, the rest 1. A five-way tie at 3; the smallest
    # pair in string order wins, and "e" < "l" < "o" < "w" < "▁" (U+2581):  1. (e, r).
    # Now (w,e) = 1 (only "lowest" keeps it); (▁,l) (l,o) (o,w) = 3:   2. (l, o), then
    # (▁,lo) and (lo,w) tie at 3, "lo" < "▁":                           3. (lo, w), then 4. (▁, low).
    # All pairs left count 1, and a pair seen once is never merged (MIN_PAIR_COUNT = 2, as in
    # subword-nmt's --min-frequency): learning stops at 4 merges, short of the 7 asked for.
    bpe = BPETokenizer.learn(["low lower lowest newer wider"], vocab_size=11 + 7)
    assert bpe.alphabet == ["d", "e", "i", "l", "n", "o", "r", "s", "t", "w", "▁"]
    assert bpe.merges == [("e", "r"), ("l", "o"), ("lo", "w"), ("▁", "low")]
    assert bpe.vocab_size == 11 + 4
    # Encoding replays merges by rank: ▁ l o w e r -> ▁ l o w er -> ▁ lo w er -> ▁ low er -> ▁low er
    assert bpe.tokenize("lower") == ["▁low", "er"]
    assert bpe.tokenize("slower newest") == ["▁", "s", "low", "er", "▁", "n", "e", "w", "e", "s", "t"]


def test_bpe_counts_pairs_weighted_by_word_frequency():
    # Sennrich et al.'s dictionary: low x5, lower x2, newest x6, widest x3.
    # (e,s) and (s,t) = 6 + 3 = 9 beat (w,e) = 2 + 6 = 8 and (l,o) = 7:  1. (e, s), 2. (es, t),
    # then (▁,l) (l,o) (o,w) = 7 and (w,es) = 6:                        3. (l, o), 4. (lo, w), 5. (▁, low).
    texts = ["low"] * 5 + ["lower"] * 2 + ["newest"] * 6 + ["widest"] * 3
    random.Random(0).shuffle(texts)
    bpe = BPETokenizer.learn(texts, vocab_size=len("▁lowernstid") + 5)
    assert bpe.merges == [("e", "s"), ("es", "t"), ("l", "o"), ("lo", "w"), ("▁", "low")]
    # One text holding all the words gives the same counts, hence the same merges.
    assert BPETokenizer.learn([" ".join(texts)], vocab_size=bpe.vocab_size).merges == bpe.merges


def test_bpe_merges_never_cross_words_or_punctuation():
    bpe = BPETokenizer.learn(["ab.ab. ab.ab."] * 3, vocab_size=100)
    assert set(bpe.symbols) == {"a", "b", ".", "▁", "ab", "▁ab"}  # never "b." nor "ab.ab": "." is its own word
    assert bpe.tokenize("ab.ab.") == ["▁ab", ".", "ab", "."]


def _naive_bpe_merges(texts, vocab_size):
    """The textbook algorithm, recounting every pair before every merge, as a reference."""
    words = Counter(w for t in texts for w in WordTokenizer().tokenize(t))
    segs = {w: tokenize_module._units(w) for w in words}
    alphabet = {u for s in segs.values() for u in s}
    merges = []
    while len(alphabet) + len(merges) < vocab_size:
        counts = Counter()
        for w, s in segs.items():
            for pair in zip(s, s[1:]):
                counts[pair] += words[w]
        counts = {p: n for p, n in counts.items() if p not in merges}
        if not counts or max(counts.values()) < tokenize_module.MIN_PAIR_COUNT:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        segs = {w: tokenize_module._merge(s, best) for w, s in segs.items()}
    return merges


@settings(max_examples=60)
@given(st.lists(st.text(st.sampled_from("aab bcd.▁\\é가"), max_size=25), min_size=1, max_size=8),
       st.integers(0, 30))
def test_bpe_incremental_counts_match_a_full_recount(texts, extra):
    if not any(normalize(t) for t in texts):
        return  # an empty corpus is an error, tested below
    alphabet_size = len({u for t in texts for w in WordTokenizer().tokenize(t) for u in tokenize_module._units(w)})
    bpe = BPETokenizer.learn(texts, vocab_size=alphabet_size + extra)
    assert bpe.merges == _naive_bpe_merges(texts, alphabet_size + extra)


# -- BPE: properties on a fixed corpus -------------------------------------------------------

CORPUS = [
    "J'ai 2 chats et un chien.", "Je n'ai pas faim !", "Où est la gare ?", "C'est l'été, à Noël…",
    "I have two cats.", "We're not hungry, are we?", "Where's the station?", "It costs $15.50 (tax incl.)",
    "나는 학생이다.", "저는 한국어를 공부해요.", "학생이 아니다?", "Ça va\u00a0? «\u00a0Oui\u00a0»",
    "a\\b ▁ c_d 😀👍🏽 — fin", "नमस्ते दुनिया", "Ödön ünnepel: ő, Ő, ß.",
]
CORPUS_CHARS = sorted({c for t in CORPUS for c in normalize(t) if c != " "})
UNSEEN = "ZQ😱Æ漢\u0b95#"
assert not set(UNSEEN) & set(CORPUS_CHARS)


@pytest.fixture(scope="module")
def bpe():
    return BPETokenizer.learn(CORPUS, vocab_size=len(CORPUS_CHARS) + 1 + 20)


def test_bpe_vocab_size_is_respected(bpe):
    assert len(bpe.alphabet) == len(CORPUS_CHARS) + 1  # every character, plus the marker ▁
    assert bpe.vocab_size == len(bpe.alphabet) + len(bpe.merges) == len(CORPUS_CHARS) + 21
    tokens = {tok for text in CORPUS for tok in bpe.tokenize(text)}
    assert tokens <= set(bpe.symbols) and len(set(bpe.symbols)) <= bpe.vocab_size


def test_bpe_vocabulary_is_sized_to_the_corpus():
    # Asking for more symbols than the corpus supports: learning stops when no adjacent pair of
    # symbols occurs twice in the training words, so the vocabulary follows the corpus's size.
    big = BPETokenizer.learn(CORPUS, vocab_size=10_000)
    assert len(CORPUS_CHARS) + 1 < big.vocab_size < 10_000
    words = Counter(w for t in CORPUS for w in WordTokenizer().tokenize(t))
    left = Counter()
    for w, n in words.items():
        for pair in tokenize_module._pairs(big.encode_word(w)):
            left[pair] += n
    assert max(left.values()) < tokenize_module.MIN_PAIR_COUNT
    # and twice the corpus (every pair count doubled) merges on to whole words
    doubled = BPETokenizer.learn(CORPUS * 2, vocab_size=10_000)
    assert doubled.vocab_size > big.vocab_size
    assert all(doubled.tokenize(t) == WordTokenizer().tokenize(t) for t in CORPUS)


def test_bpe_with_no_merges_is_char_level(bpe):
    bare = BPETokenizer.learn(CORPUS, vocab_size=len(bpe.alphabet))
    assert bare.merges == []
    assert bare.tokenize("Où est") == ["▁"] + CharTokenizer().tokenize("Où est")


def test_bpe_learns_only_from_its_training_texts(bpe):
    seen = set(CORPUS_CHARS) | {MARKER}
    for symbol in bpe.symbols:
        assert set(tokenize_module._unspell(symbol).replace(" ", MARKER)) <= seen
    merges = list(bpe.merges)
    bpe.tokenize("Zebras Quietly run over other texts, Zzz.")   # encoding learns nothing
    assert bpe.merges == merges
    other = BPETokenizer.learn(CORPUS + ["zzzz zzzz zzzz zzzz"], vocab_size=bpe.vocab_size + 1)
    assert ("z", "z") in other.merges and ("z", "z") not in bpe.merges


def test_bpe_is_deterministic(bpe):
    shuffled = list(CORPUS)
    random.Random(1).shuffle(shuffled)
    assert BPETokenizer.learn(shuffled, bpe.vocab_size).merges == bpe.merges  # order of texts is irrelevant
    # and so is the hash seed of the process (sets and dicts iterate in another order)
    code = ("import json, sys; from nprnn.data.tokenize import BPETokenizer; "
            "print(json.dumps(BPETokenizer.learn(json.loads(sys.argv[1]), int(sys.argv[2])).to_dict()))")
    outputs = [subprocess.run([sys.executable, "-c", code, json.dumps(CORPUS), str(bpe.vocab_size)], cwd=ROOT,
                              env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True,
                              check=True).stdout for seed in ("1", "2")]
    assert outputs[0] == outputs[1] and json.loads(outputs[0]) == bpe.to_dict()


@FAST
@given(st.text(st.sampled_from(CORPUS_CHARS + list(WHITESPACE)), max_size=60))
def test_bpe_round_trip_on_seen_characters(bpe, s):
    tokens = bpe.tokenize(s)
    assert bpe.detokenize(tokens) == normalize(s)
    assert UNK not in tokens and set(tokens) <= set(bpe.symbols)


@pytest.fixture(scope="module")
def full_bpe():
    """BPE merged as far as the corpus allows, and the vocabulary training builds beside it
    (nprnn.train.train_task): the training sentences' tokens, and the alphabet."""
    bpe = BPETokenizer.learn(CORPUS, vocab_size=10_000)
    return bpe, Vocab.build((bpe.tokenize(t) for t in CORPUS), always=bpe.alphabet)


def test_a_symbol_no_training_sentence_ends_with_is_cut_into_pieces_the_vocabulary_holds(full_bpe):
    # Learning merges symbols that later merges swallow ('▁학' and '▁학생' on the way to
    # '▁학생이'): they are in the tokenizer but in no training sentence's tokens, so not in the
    # vocabulary built from them; a new word made of them ('학생', with no particle) must not
    # become <unk>.
    bpe, bpe_vocab = full_bpe
    missing = [sym for sym in bpe.symbols if sym not in bpe_vocab]
    assert {"▁학", "▁학생"} <= set(missing) and bpe.tokenize("학생") == ["▁학생"]
    assert bpe.known_pieces(["▁학생"], bpe_vocab) == ["▁", "학", "생"]
    for symbol in missing:
        pieces = bpe.known_pieces([symbol], bpe_vocab)
        assert len(pieces) >= 2 and "".join(pieces) == symbol and all(p in bpe_vocab for p in pieces)
    # and what the vocabulary holds is never cut
    kept = [tok for tok in bpe_vocab.tokens[len(SPECIALS):]]
    assert bpe.known_pieces(kept, bpe_vocab) == kept
    assert WordTokenizer().known_pieces(["▁lower"], set()) == ["▁lower"]  # words have no pieces


@FAST
@given(st.text(st.sampled_from(CORPUS_CHARS + list(WHITESPACE)), max_size=60))
def test_tokenizer_and_vocabulary_round_trip_on_seen_characters(full_bpe, s):
    """What the model reads and writes: text -> tokens -> ids -> tokens -> text, exact for any
    text whose characters were all seen in training (none becomes <unk>)."""
    bpe, bpe_vocab = full_bpe
    ids = bpe_vocab.encode(bpe.known_pieces(bpe.tokenize(s), bpe_vocab))
    assert UNK_ID not in ids
    assert bpe.detokenize(bpe_vocab.decode(ids)) == normalize(s)


maybe_unseen_text = st.text(st.sampled_from(CORPUS_CHARS + list(WHITESPACE) + list(UNSEEN)), max_size=30)


@FAST
@given(maybe_unseen_text, st.sampled_from(UNSEEN), maybe_unseen_text)
def test_bpe_unseen_characters_become_unk(bpe, before, unseen, after):
    s = before + unseen + after
    n = normalize(s)
    tokens = bpe.tokenize(s)
    assert tokens.count(UNK) == sum(c in UNSEEN for c in n) >= 1
    assert bpe.detokenize(tokens) == "".join(UNK_TEXT if c in UNSEEN else c for c in n)  # the rest is kept


@FAST
@given(any_text)
def test_bpe_never_crashes_and_keeps_what_it_knows(bpe, s):
    n = normalize(s)
    known = set(bpe.alphabet)
    expected = "".join(c if c == " " or tokenize_module._spell(c) in known else UNK_TEXT for c in n)
    assert bpe.detokenize(bpe.tokenize(s)) == expected


# -- saving: to_dict, JSON, tokenizer_from_dict ----------------------------------------------

def _only_json_types(x):
    if isinstance(x, dict):
        return all(isinstance(k, str) and _only_json_types(v) for k, v in x.items())
    if isinstance(x, list):
        return all(_only_json_types(v) for v in x)
    return isinstance(x, (str, int)) and not isinstance(x, bool)


@pytest.mark.parametrize("name", ["word", "char", "bpe"])
def test_to_dict_json_round_trip(name):
    tok = make_tokenizer(name, texts=CORPUS, vocab_size=120)
    assert isinstance(tok, Tokenizer) and tok.name == name
    d = tok.to_dict()
    assert d["name"] == name and _only_json_types(d)
    again = tokenizer_from_dict(json.loads(json.dumps(d)))
    assert type(again) is type(tok) and again.to_dict() == d
    for text in CORPUS + ["Zut ! 漢字 ▁\\ encore"]:
        assert again.tokenize(text) == tok.tokenize(text)


# -- errors ----------------------------------------------------------------------------------

def test_vocab_size_smaller_than_alphabet_is_refused():
    with pytest.raises(ValueError, match=r"vocab_size=5 .* 11 distinct characters"):
        BPETokenizer.learn(["low lower lowest newer wider"], vocab_size=5)
    with pytest.raises(ValueError, match="vocab_size"):
        make_tokenizer("bpe", CORPUS, vocab_size=10)


@pytest.mark.parametrize("vocab_size", [0, -3, 2.5, "100", True, None])
def test_vocab_size_must_be_a_positive_int(vocab_size):
    with pytest.raises(ValueError, match="vocab_size"):
        BPETokenizer.learn(CORPUS, vocab_size)
    with pytest.raises(ValueError, match="vocab_size"):
        make_tokenizer("bpe", CORPUS, vocab_size)


@pytest.mark.parametrize("texts", [[], [""], ["  \t", "\u3000\n"], iter([])])
def test_empty_training_text_is_refused(texts):
    with pytest.raises(ValueError, match="texts"):
        BPETokenizer.learn(texts, vocab_size=100)


def test_texts_must_be_given_as_a_list_not_one_string():
    with pytest.raises(ValueError, match="texts"):
        BPETokenizer.learn("low lower", vocab_size=100)
    with pytest.raises(ValueError, match="texts"):
        make_tokenizer("bpe", vocab_size=100)


@pytest.mark.parametrize("name", ["bytes", "Word", "", None])
def test_unknown_tokenizer_name(name):
    with pytest.raises(ValueError, match="name"):
        make_tokenizer(name)
    with pytest.raises(ValueError, match="name"):
        tokenizer_from_dict({"name": name})


def test_docstring_examples_hold():
    result = doctest.testmod(tokenize_module)
    assert result.attempted >= 15 and result.failed == 0
