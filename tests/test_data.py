import numpy as np
import pytest

from nprnn.data import Vocab, load_task, make_batches, pad_batch, read_tsv, tokenize_chars, tokenize_words
from nprnn.data import toy_en_fr
from nprnn.data.vocab import detokenize_words
from nprnn.data.vocab import EOS, PAD, SOS, UNK


def test_word_tokenizer_lowercases_splits_punctuation_and_elision():
    assert tokenize_words("J’ai une Voiture rouge.") == ["j'", "ai", "une", "voiture", "rouge", "."]
    assert tokenize_words("Où est l'étudiante ?") == ["où", "est", "l'", "étudiante", "?"]
    assert tokenize_words("I don't know, Tom!") == ["i", "don't", "know", ",", "tom", "!"]
    assert tokenize_words("qu'il   est\u00a0là") == ["qu'", "il", "est", "là"]
    assert detokenize_words(["j'", "ai", "une", "voiture", "."]) == "j'ai une voiture."


def test_char_tokenizer_keeps_everything():
    assert tokenize_chars("Sep 3, 94") == ["S", "e", "p", " ", "3", ",", " ", "9", "4"]


def test_vocab_build_encode_decode():
    vocab = Vocab.build([["b", "a", "b"], ["c", "b", "a"], ["rare"]], min_freq=2)
    assert vocab.tokens == ["<pad>", "<sos>", "<eos>", "<unk>", "b", "a"]  # by frequency
    assert vocab.encode(["a", "zzz", "b"]) == [5, UNK, 4]
    assert vocab.encode(["a"], sos=True, eos=True) == [SOS, 5, EOS]
    assert vocab.decode([SOS, 5, PAD, 4, EOS, 5]) == ["a", "b"]
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build([["a"]], min_freq=0)
    with pytest.raises(ValueError, match="must start with"):
        Vocab(["a", "b"])


def test_pad_batch_is_time_major():
    ids, lengths = pad_batch([[5, 6, 7], [8]])
    np.testing.assert_array_equal(ids, [[5, 8], [6, 0], [7, 0]])
    np.testing.assert_array_equal(lengths, [3, 1])


def test_batches_cover_every_row_once_group_by_length_and_are_seeded():
    rng = np.random.default_rng(0)
    src = [list(rng.integers(4, 9, size=n)) for n in rng.integers(1, 12, size=200)]
    tgt = [[SOS] + s[::-1] + [EOS] for s in src]
    batches = make_batches(src, tgt, 16, rng=1)
    seen = np.sort(np.concatenate([b.index for b in batches]))
    np.testing.assert_array_equal(seen, np.arange(200))
    for b in batches:
        assert b.src.shape[1] == len(b.index) == b.tgt.shape[1]
        assert b.src.shape[0] == b.src_lengths.max()
        for col, i in enumerate(b.index):
            assert list(b.src[: len(src[i]), col]) == src[i]
    padding = sum(int((b.src == PAD).sum()) for b in batches) / sum(b.src.size for b in batches)
    assert padding < 0.1  # grouped by length, so little is padding
    again = make_batches(src, tgt, 16, rng=1)
    assert all(np.array_equal(a.index, b.index) for a, b in zip(batches, again))
    other = make_batches(src, tgt, 16, rng=2)
    assert not all(np.array_equal(a.index, b.index) for a, b in zip(batches, other))


def test_read_tsv_skips_and_counts(tmp_path):
    path = tmp_path / "fra.txt"
    path.write_text(
        "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (Wittydev)\n"
        "\n"
        "no tab here\n"
        "Hi.\tSalut !\n"
        "\tempty source\n"
        "   \n"
        "Run!\tCours !\n",
        encoding="utf-8",
    )
    corpus = read_tsv(path)
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !")]
    assert (corpus.blank, corpus.malformed) == (2, 2)


def test_read_tsv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such corpus file"):
        read_tsv(tmp_path / "missing.tsv")
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n\njust text\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no usable source<TAB>target pair \(2 blank and 1 malformed"):
        read_tsv(empty)
    binary = tmp_path / "bin.tsv"
    binary.write_bytes(b"\xff\xfe\x00a\tb")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_tsv(binary)


def test_bundled_corpus_is_what_the_grammar_makes():
    made = toy_en_fr.make_splits()
    for split, pairs in zip(("train", "valid", "test"), made):
        assert read_tsv(toy_en_fr.SPLIT_FILES[split]).pairs == pairs


def test_bundled_corpus_grammar():
    task = load_task("toy-en-fr")
    pairs = dict(task.train)
    assert pairs["i am a student"] == "je suis étudiant"
    assert pairs["she is a student"] == "elle est étudiante"
    assert pairs["we are not tired"] == "nous ne sommes pas fatigués"
    every = {en: fr for en, fr, _, _ in toy_en_fr.all_sentences()}
    assert every["i do not have a green car"] == "je n'ai pas de voiture verte"
    assert every["he likes the white key"] == "il aime la clé blanche"
    assert every["i like a red book"] == "j'aime un livre rouge"
    assert every["they do not bring an expensive house"] == "ils n'apportent pas de maison chère"
    assert len(every) == len(toy_en_fr.all_sentences())  # one translation per sentence


def test_bundled_test_split_holds_only_unseen_combinations():
    task = load_task("toy-en-fr")
    assert 3000 <= len(task.train) <= 6000
    valid_combos, test_combos = toy_en_fr.held_out_combinations()
    assert not valid_combos & test_combos
    combos = {en: combo for en, _, _, combo in toy_en_fr.all_sentences()}
    train_combos = {combos[en] for en, _ in task.train}
    assert all(combos[en] in test_combos for en, _ in task.test)
    assert all(combos[en] in valid_combos for en, _ in task.valid)
    assert not train_combos & (valid_combos | test_combos)
    # ... yet every noun and adjective of the test split is seen in training
    train_words = {w for en, _ in task.train for w in en.split()}
    assert all(w in train_words for en, _ in task.test for w in en.split())


@pytest.mark.parametrize("name", ["reverse", "addition", "dates"])
def test_synthetic_tasks_are_fixed_and_disjoint(name):
    task = load_task(name)
    assert task.tokenizer == "char"
    train = {s for s, _ in task.train}
    assert not train & {s for s, _ in task.test} and not train & {s for s, _ in task.valid}
    assert load_task(name).test[:20] == task.test[:20]  # the same every time


def test_synthetic_task_answers_are_right():
    for src, tgt in load_task("reverse").test[:50]:
        assert tgt == src[::-1]
    for src, tgt in load_task("addition").test[:200]:
        a, b = map(int, src.split("+"))
        assert 0 <= a <= 999 and 0 <= b <= 999 and int(tgt) == a + b
    import datetime

    for src, tgt in load_task("dates").test[:300]:
        d = datetime.date.fromisoformat(tgt)
        assert 1970 <= d.year <= 2029
        if "/" in src:
            m, day, yy = map(int, src.split("/"))
            assert (m, day, yy) == (d.month, d.day, d.year % 100)
        else:
            assert str(d.year) in src and str(d.day) in src
            assert d.strftime("%b").lower() in src.lower()


def test_load_task_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown task 'french'"):
        load_task("french")
    with pytest.raises(ValueError, match="needs a path"):
        load_task("tsv:")
    small = tmp_path / "two.tsv"
    small.write_text("a\tb\nc\td\n", encoding="utf-8")
    with pytest.raises(ValueError, match="at least 3"):
        load_task(f"tsv:{small}")
