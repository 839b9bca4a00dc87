"""Real corpora: tokenizers chosen per task and kept in the checkpoint, text in any script,
scores against every translation of a source, the TSV options, progress and the time limit."""
import io
import json

import numpy as np
import pytest

from nprnn import Seq2Seq
from nprnn.checkpoint import load_checkpoint
from nprnn.cli import main
from nprnn.data import Vocab, WordTokenizer
from nprnn.data.vocab import UNK
from nprnn.data.tasks import CorpusOptions, load_task
from nprnn.train import Progress, train_task
from nprnn.translate import Translator, evaluate

HANGUL = [("i eat the apple", "나는 사과를 먹는다"), ("i eat the bread", "나는 빵을 먹는다"),
          ("you eat the apple", "너는 사과를 먹는다"), ("you read the book", "너는 책을 읽는다"),
          ("i read the book", "나는 책을 읽는다"), ("you eat the bread", "너는 빵을 먹는다"),
          ("i read the letter", "나는 편지를 읽는다"), ("you read the letter", "너는 편지를 읽는다")]
TINY = dict(embedding_dim=8, hidden_size=16, epochs=3, batch_size=8, valid_sentences=50)


def hangul_corpus(tmp_path, repeat=6):
    path = tmp_path / "en-ko.tsv"
    lines = [f"{en} {i}\t{ko} {i}" for i in range(repeat) for en, ko in HANGUL]  # digits make sources distinct
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_bpe_model_on_hangul_translates_into_hangul_and_its_tokenizer_travels(tmp_path, capsys):
    ckpt = tmp_path / "ko.npz"
    corpus = hangul_corpus(tmp_path)
    args = ["train", "--task", f"tsv:{corpus}", "--out", ckpt, "--tokenizer", "bpe", "--vocab-size", "60",
            "--embedding-dim", "8", "--hidden-size", "16", "--epochs", "2", "--batch-size", "8"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    _, _, _, meta = load_checkpoint(ckpt)
    source, target = meta["tokenizers"]
    assert source["name"] == target["name"] == "bpe"
    assert any("\uac00" <= ch <= "\ud7a3" for ch in json.dumps(target, ensure_ascii=False))  # learned on Hangul
    code, out, _ = run(["translate", "--checkpoint", ckpt, "i eat the apple 1", "x ☃ y"], capsys)  # ☃ never seen
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert all("\uac00" <= ch <= "\ud7a3" or ch in " 0123456789\ufffd" for ch in lines[0])  # it writes Hangul


def test_bpe_vocab_size_below_the_alphabet_is_one_line(tmp_path, capsys):
    code, _, err = run(["train", "--task", f"tsv:{hangul_corpus(tmp_path)}", "--out", tmp_path / "m.npz",
                        "--tokenizer", "bpe", "--vocab-size", "3"], capsys)
    assert code == 2 and "vocab_size" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("flag", [["--max-length", "0"], ["--valid-fraction", "0.7"], ["--max-pairs", "-2"]])
def test_bad_corpus_flags_are_one_line(tmp_path, capsys, flag):
    with pytest.raises(SystemExit):
        main(["train", "--task", f"tsv:{hangul_corpus(tmp_path)}", "--out", str(tmp_path / "m.npz"), *flag])
    err = capsys.readouterr().err
    assert flag[0] in err and len(err.strip().splitlines()) == 1


def test_corpus_options_swap_limit_and_held_out_files(tmp_path):
    corpus = hangul_corpus(tmp_path)
    swapped = load_task(f"tsv:{corpus}", CorpusOptions(swap_columns=True, max_pairs=24))
    assert len(swapped.train) + len(swapped.valid) + len(swapped.test) == 24
    assert all("\uac00" <= s[0] <= "\ud7a3" for s, _ in swapped.train)  # Korean is now the source
    valid, test = tmp_path / "v.tsv", tmp_path / "t.tsv"
    valid.write_text("i eat the apple 0\t나는 사과를 먹는다 0\n", encoding="utf-8")
    test.write_text("you read the book 1\t너는 책을 읽는다 1\nnew one\t새 문장\n", encoding="utf-8")
    task = load_task(f"tsv:{corpus}", CorpusOptions(valid_file=str(valid), test_file=str(test)))
    assert len(task.valid) == 1 and len(task.test) == 2
    assert task.skipped["training pairs whose source is held out"] == 2  # kept out of training
    assert "i eat the apple 0" not in {s for s, _ in task.train}
    assert "pairs / " in task.summary() and "sources to test" in task.summary()


def test_held_out_files_are_read_whole_and_must_not_share_sources(tmp_path):
    corpus = hangul_corpus(tmp_path)
    valid, test = tmp_path / "v.tsv", tmp_path / "t.tsv"
    valid.write_text("".join(f"new {i}\t새 {i}\n" for i in range(5)) + "x " * 150 + "\ty\n", encoding="utf-8")
    test.write_text("".join(f"other {i}\t다른 {i}\n" for i in range(5)), encoding="utf-8")
    task = load_task(f"tsv:{corpus}", CorpusOptions(valid_file=str(valid), test_file=str(test), max_pairs=3))
    assert len(task.train) == 3 and len(task.valid) == len(task.test) == 5  # --max-pairs reads the corpus only
    assert task.skipped["pairs longer than 100 tokens or 1,000 characters in the validation file"] == 1
    with pytest.raises(ValueError, match="share 5 source sentences"):
        load_task(f"tsv:{corpus}", CorpusOptions(valid_file=str(test), test_file=str(test)))


def test_pairs_that_differ_only_in_the_kind_of_space_are_one_pair(tmp_path):
    path = tmp_path / "c.tsv"
    lines = [f"Come in {i}!\tEntrez {i}\u202f!" for i in range(40)] + [f"Come in {i}!\tEntrez {i} !" for i in range(40)]
    lines += [f"Come  in {i}!\tEntrez {i} !" for i in range(40)] + [f"Come in {i}!\tEntrez {i} ?" for i in range(40)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = load_task(f"tsv:{path}")
    assert task.skipped["duplicate pairs"] == 80  # a U+202F or a double space makes no new pair
    everything = task.train + task.valid + task.test
    assert len(everything) == 80 and len({s for s, _ in everything}) == 40
    assert ("Come in 3!", "Entrez 3 !") in everything


def test_evaluate_scores_each_source_once_against_all_its_targets():
    words = WordTokenizer()
    pairs = [("go .", "va !"), ("go .", "allez !"), ("run .", "cours !")]
    src = Vocab.build(words.tokenize(s) for s, _ in pairs)
    tgt = Vocab.build(words.tokenize(t) for _, t in pairs)
    translator = Translator(Seq2Seq(len(src), len(tgt), 4, 8, rng=0), src, tgt, words, words)
    said = {"go .": "allez !", "run .": "marche !"}
    translator.translate_tokens = lambda texts, batch_size=256: [words.tokenize(said[t]) for t in texts]
    result = evaluate(translator, pairs)
    assert result["sources"] == ["go .", "run ."] and result["refs"] == [["va !", "allez !"], ["cours !"]]
    assert result["exact"] == 0.5  # "allez !" is one of the two targets of "go ."
    assert result["hyps"] == ["allez !", "marche !"]
    assert 0 < result["chrf"] < 100 and 0 <= result["bleu"] < 100


def test_progress_rewrites_one_line_on_a_terminal_and_prints_lines_elsewhere():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    tty, log = Terminal(), io.StringIO()
    for stream in (tty, log):
        progress = Progress(stream, every=0.0)
        progress(1, 1, 4, 100, 2.5, 0.5)
        progress(1, 2, 4, 200, 2.0, 1.0)
        progress.done()
    assert tty.getvalue().count("\r") >= 3 and "\n" not in tty.getvalue()
    assert log.getvalue().count("\n") == 2 and "batch 2/4" in log.getvalue() and "eta" in log.getvalue()


def test_time_limit_stops_training_and_keeps_the_best(tmp_path):
    task = load_task(f"tsv:{hangul_corpus(tmp_path, repeat=20)}")
    lines = []
    _, history, _ = train_task(task, log=lines.append, tokenizer="word", time_limit=1e-9, **{**TINY, "epochs": 5})
    assert len(history) == 1 and any("time limit" in line for line in lines)
    assert history[0]["tokens"] < sum(len(t.split()) + 1 for _, t in task.train)  # the epoch was cut short


def test_label_smoothing_matches_its_definition():
    from nprnn.layers import cross_entropy

    rng = np.random.default_rng(0)
    logits, targets = rng.normal(size=(5, 7)), rng.integers(1, 7, size=5)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    q = np.full((5, 7), 0.1 / 7)
    q[np.arange(5), targets] += 0.9
    assert cross_entropy(logits, targets, label_smoothing=0.1)[0] == pytest.approx(-(q * logp).sum(axis=1).mean())


def test_label_smoothing_gradient_against_centred_differences_and_pytorch():
    from nprnn.gradcheck import numerical_gradient, rel_error
    from nprnn.layers import cross_entropy

    rng = np.random.default_rng(1)
    logits, targets = rng.normal(size=(4, 3, 6)), rng.integers(1, 6, size=(4, 3))
    targets[2:, 0] = 0  # padding
    loss, dlogits = cross_entropy(logits, targets, label_smoothing=0.2)
    numeric = numerical_gradient(lambda: cross_entropy(logits, targets, label_smoothing=0.2)[0], logits)
    assert rel_error(dlogits, numeric) < 1e-7
    torch = pytest.importorskip("torch")
    ours = torch.nn.functional.cross_entropy(torch.tensor(logits.reshape(-1, 6)), torch.tensor(targets.reshape(-1)),
                                             ignore_index=0, label_smoothing=0.2)
    assert loss == pytest.approx(ours.item(), rel=1e-12)


def test_the_subword_vocabulary_is_sized_to_the_corpus(tmp_path):
    from nprnn.data.tasks import bpe_vocab_size, load_task

    assert [bpe_vocab_size(n) for n in (0, 1_000, 2_400, 14_400, 14_499, 100_000)] == [500, 500, 700, 4000, 4000, 8000]
    lines = [f"sentence number {i}\tphrase numéro {i}" for i in range(3_000)]
    path = tmp_path / "corpus.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = load_task(f"tsv:{path}")
    assert task.defaults["vocab_size"] == bpe_vocab_size(len(task.train)) == 700  # 2,400 training pairs


def test_a_trained_model_reads_every_character_it_saw_even_in_a_word_it_never_saw(tmp_path):
    # BPE merges as far as this corpus allows: '▁사과를' swallows '▁사과' and '▁사', which no
    # training sentence ends up with. A new word made of them must reach the model as pieces it
    # has embeddings for, from a fresh model and from its checkpoint alike, never as <unk>.
    task = load_task(f"tsv:{hangul_corpus(tmp_path)}", CorpusOptions(swap_columns=True))
    ckpt = tmp_path / "ko-en.npz"
    translator, _, _ = train_task(task, out=ckpt, log=lambda *a: None, tokenizer="bpe", vocab_size=500,
                                  **{**TINY, "epochs": 1})
    tok, vocab = translator.src_tokenizer, translator.src_vocab
    missing = [sym for sym in tok.symbols if sym not in vocab]
    assert "▁사과" in missing and tok.tokenize("사과") == ["▁사과"]
    assert set(tok.alphabet) <= set(vocab.tokens)  # every character it saw has an id
    loaded, _ = Translator.load(ckpt)
    for t in (translator, loaded):
        assert t.source_tokens("사과 책을") == ["▁", "사", "과", "▁책을"]  # '▁책을' is in the vocabulary: kept
        for ids in t.encode(["사과 책", "빵 편지", "사과 빵과 책"]):
            assert UNK not in ids
        assert t.src_tokenizer.detokenize(t.src_vocab.decode(t.encode(["사과 빵과 책"])[0])) == "사과 빵과 책"


def test_the_longest_translation_has_room_for_the_longest_training_target(tmp_path):
    # characters: a 60-character French sentence is 60 tokens, more than the default max_len of 50
    path = tmp_path / "c.tsv"
    lines = [f"sentence {i}\tune phrase assez longue pour passer la limite, numéro {i:04d}" for i in range(60)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = load_task(f"tsv:{path}")
    longest = max(len(b) for _, b in task.train)
    assert longest > 50
    quiet = dict(log=lambda *a: None, tokenizer="char", **{**TINY, "epochs": 1})
    translator, _, _ = train_task(task, **quiet)
    assert translator.max_len == 2 * longest
    translator, _, _ = train_task(task, max_len=30, **quiet)  # given: kept
    assert translator.max_len == 30
