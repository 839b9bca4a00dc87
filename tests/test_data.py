import numpy as np
import pytest

from nprnn.data import Vocab, load_task, make_batches, pad_batch, read_tsv
from nprnn.data import toy_en_fr
from nprnn.data.vocab import EOS, PAD, SOS, UNK


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


def test_read_tsv_skips_blank_lines_and_ignores_the_attribution(tmp_path):
    path = tmp_path / "fra.txt"
    path.write_text(
        "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (Wittydev)\n"
        "\n"
        "Hi.\tSalut !\tCC-BY\n"
        "   \n"
        "Run!\tCours !\tCC-BY\n",
        encoding="utf-8",
    )
    corpus = read_tsv(path)
    assert corpus.pairs == [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !")]
    assert corpus.blank == 2
    assert read_tsv(path, swap_columns=True).pairs[0] == ("Va !", "Go.")


def test_read_tsv_splits_lines_at_newlines_only(tmp_path):
    path = tmp_path / "odd.tsv"
    path.write_bytes("a\u2028b\x0cc\x85d\tx\u2029y\r\nrun\tcours\n".encode("utf-8"))
    assert read_tsv(path).pairs == [("a\u2028b\x0cc\x85d", "x\u2029y"), ("run", "cours")]


@pytest.mark.parametrize("text, match", [
    ("\n\njust text\n", r"line 3 has 1 tab-separated fields"),
    ("a\tb\nc\td\te\n", r"line 2 has 3 tab-separated fields, but line 1 has 2"),
    ("a\tb\n\tc\n", r"line 2 has an empty source"),
    ("a\tb\nc\t \n", r"line 2 has an empty target"),
    ("\n\n", r"holds no source<TAB>target line \(2 blank lines\)"),
    ("a\tb\tc\td\n", r"line 1 has 4 tab-separated fields"),
])
def test_read_tsv_names_the_line_of_a_problem(tmp_path, text, match):
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        read_tsv(path)


def test_read_tsv_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_tsv(tmp_path / "missing.tsv")
    with pytest.raises(ValueError, match="is a directory"):
        read_tsv(tmp_path)
    binary = tmp_path / "bin.tsv"
    binary.write_bytes(b"ok\tfine\nbad \xff\tb\n")
    with pytest.raises(ValueError, match="line 2 is not UTF-8"):
        read_tsv(binary)


def test_tsv_task_removes_duplicates_and_splits_by_source(tmp_path):
    lines = [f"s{i}\tt{i}-{j}" for i in range(60) for j in range(3)] + ["s1\tt1-0"] * 4  # 4 repeats
    lines += ["long " * 120 + "\tlong"]
    path = tmp_path / "c.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = load_task(f"tsv:{path}")
    assert task.skipped == {"blank lines": 0, "duplicate pairs": 4, "pairs longer than 100 tokens or 1,000 characters": 1}
    train_sources = {s for s, _ in task.train}
    assert not train_sources & {s for s, _ in task.valid} and not train_sources & {s for s, _ in task.test}
    assert len(task.train) + len(task.valid) + len(task.test) == 180  # every distinct short pair, once
    for split in (task.valid, task.test):  # all three translations of a sentence travel together
        assert all(sum(s == t for t, _ in split) == 3 for s, _ in split)
    assert len({s for s, _ in task.test}) == 6  # 10% of the 60 sources
    assert load_task(f"tsv:{path}").test == task.test  # the same split every time


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
    with pytest.raises(ValueError, match="2 distinct source sentences are too few"):
        load_task(f"tsv:{small}")
