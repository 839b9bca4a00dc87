"""The tasks `nprnn train` knows: the bundled English->French corpus, any TSV corpus, and three
synthetic character-level tasks. Each has fixed train / valid / test splits (the same every
time, whatever the training seed) and defaults that train it well.

    toy-en-fr    the bundled corpus (see toy_en_fr.py); word level
    tsv:PATH     a tab-separated parallel corpus: duplicates removed, split 80/10/10 by source
                 sentence (a fixed shuffle); pairs longer than max_length tokens skipped; BPE
                 subwords, the vocabulary sized to the corpus (bpe_vocab_size)
    reverse      "hello" -> "olleh"
    addition     "12+345" -> "357", a and b in 0..999 (as in Deep Learning from Scratch 2)
    dates        "Tue, Sep 27, 1994", "27 SEPTEMBER 1994", "9/27/94", ... -> "1994-09-27"
"""
import datetime
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..checks import check_positive_int
from .corpus import read_tsv, split_by_source
from .tokenize import WordTokenizer, normalize

DATA_SEED = 12345  # the splits of the generated tasks; not the training seed


@dataclass
class Task:
    name: str
    tokenizer: str  # its default tokenizer: "word", "char" or "bpe" (see tokenize.py)
    train: list  # (source, target) strings
    valid: list
    test: list
    defaults: dict = field(default_factory=dict)  # settings that differ from the configs' defaults
    skipped: dict = field(default_factory=dict)  # what reading a corpus left out: {"blank lines": n, ...}
    corpus: Optional["CorpusOptions"] = None  # how a TSV file was read and split

    def summary(self):
        """How many pairs and distinct source sentences each split holds, in one line."""
        parts = [f"{len(pairs):,} pairs / {len({s for s, _ in pairs}):,} sources {name}"
                 for name, pairs in (("to train", self.train), ("to validate", self.valid), ("to test", self.test))]
        return f"task {self.name}: " + ", ".join(parts)


# Each task's settings where they differ from the defaults of Seq2SeqConfig and TrainConfig
# (nprnn/config.py: the data layer names them but imports nothing from the model). Every task
# trains in float32, about twice as fast as float64.
BASE_DEFAULTS = dict(dtype="float32")
TASK_DEFAULTS = {
    "toy-en-fr": dict(epochs=12, hidden_size=256, embedding_dim=64, batch_size=32, lr=0.003),
    "reverse": dict(epochs=15, hidden_size=256, embedding_dim=32, max_len=20),
    # attention over the reversed problem: >= 99.3% of held-out sums in 8 epochs with every seed
    # tried, 99.5% or more with most (README; benchmarks/task_seeds.py)
    "addition": dict(attention="general", reverse_source=True, epochs=8, hidden_size=112, embedding_dim=32,
                     batch_size=128, lr=0.01, lr_decay=0.7, max_len=6),
    "dates": dict(attention="general", epochs=5, hidden_size=128, embedding_dim=32, lr=0.005, lr_decay=0.8,
                  max_len=12),
    # real sentences: subwords, attention, regularisation (README "Translate real sentences";
    # benchmarks/real_corpus.py measured them on the first 18,000 lines of Tatoeba's fra-eng);
    # the subword vocabulary is sized to each corpus (bpe_vocab_size)
    "tsv": dict(attention="general", embedding_dim=128, hidden_size=256, dropout=0.2,
                label_smoothing=0.1, epochs=30, patience=5, lr=0.003, batch_size=64, keep_best="chrf"),
}


def _defaults(name):
    return {**BASE_DEFAULTS, **TASK_DEFAULTS[name]}


def bpe_vocab_size(num_pairs):
    """The BPE vocabulary of a tsv: corpus of `num_pairs` training pairs: one symbol per 3.6
    pairs, to the nearest hundred, in 500..8000.

    A vocabulary too large for its corpus merges nearly every word form seen twice into one
    symbol, and the model never learns the pieces a new form is made of. Measured with
    benchmarks/real_corpus.py: 14,500 Tatoeba EN-FR pairs -> 4,000; 2,400 synthetic EN-Korean
    pairs -> 700, test chrF 78.0 (the median of seeds 0-4) where 4,000 gives 55.3.
    """
    return int(min(8000, max(500, round(num_pairs / 3.6, -2))))


def _distinct_splits(make_one, sizes, rng):
    """Draw examples until each split has its size; a source never appears in two splits."""
    seen, splits = set(), []
    for size in sizes:
        split = []
        while len(split) < size:
            src, tgt = make_one(rng)
            if src not in seen:
                seen.add(src)
                split.append((src, tgt))
        splits.append(split)
    return splits


def reverse_task():
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))

    def one(rng):
        s = "".join(rng.choice(letters, size=int(rng.integers(3, 13))))
        return s, s[::-1]

    train, valid, test = _distinct_splits(one, (20000, 1000, 2000), np.random.default_rng(DATA_SEED))
    return Task("reverse", "char", train, valid, test, _defaults("reverse"))


def addition_task():
    """50,000 distinct problems, as in the book: 44,000 to train, 1,000 to validate, 5,000 to test."""
    rng = np.random.default_rng(DATA_SEED)
    codes = rng.choice(1000 * 1000, size=50000, replace=False)
    pairs = [(f"{c // 1000}+{c % 1000}", str(c // 1000 + c % 1000)) for c in codes]
    return Task("addition", "char", pairs[:44000], pairs[44000:45000], pairs[45000:], _defaults("addition"))


MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def format_date(date, rng):
    """One human way of writing `date`: month names full or three letters, in lower, Title or
    UPPER case, an optional weekday, or m/d/yy."""
    case = [str.lower, str.title, str.upper][int(rng.integers(3))]
    month = MONTHS[date.month - 1]
    month = case(month if rng.random() < 0.5 else month[:3])
    weekday = WEEKDAYS[date.weekday()]
    weekday = case(weekday if rng.random() < 0.5 else weekday[:3])
    style = int(rng.integers(5))
    if style == 0:
        text = f"{month} {date.day}, {date.year}"
    elif style == 1:
        text = f"{date.day} {month} {date.year}"
    elif style == 2:
        text = f"{month} {date.day} {date.year}"
    elif style == 3:
        text = f"{date.day:02d} {month} {date.year}"
    else:
        text = f"{date.month}/{date.day}/{date.year % 100:02d}"
    if style != 4 and rng.random() < 0.3:
        text = f"{weekday}, {text}"
    return text


def dates_task():
    first = datetime.date(1970, 1, 1).toordinal()
    days = datetime.date(2029, 12, 31).toordinal() - first + 1

    def one(rng):
        date = datetime.date.fromordinal(first + int(rng.integers(days)))
        return format_date(date, rng), date.isoformat()

    train, valid, test = _distinct_splits(one, (20000, 1000, 2000), np.random.default_rng(DATA_SEED))
    return Task("dates", "char", train, valid, test, _defaults("dates"))


def toy_en_fr_task():
    from .toy_en_fr import SPLIT_FILES  # here, so that `python -m nprnn.data.toy_en_fr` runs cleanly

    splits = [read_tsv(SPLIT_FILES[s]).pairs for s in ("train", "valid", "test")]
    return Task("toy-en-fr", "word", *splits, _defaults("toy-en-fr"))


MAX_LENGTH = 100  # tokens: longer pairs are skipped (and counted), so one huge line cannot eat the memory
# A side may hold at most MAX_LENGTH word tokens and CHARS_PER_TOKEN * MAX_LENGTH characters: the
# second bound holds for any tokenizer (a character or BPE token is at most a word), so one
# 200,000-letter "word" cannot become 200,000 character timesteps.
CHARS_PER_TOKEN = 10


@dataclass(frozen=True)
class CorpusOptions:
    """How a TSV corpus becomes a task (the flags of `nprnn train --task tsv:PATH`). A
    checkpoint keeps them, so `nprnn evaluate` rebuilds the very same split."""

    max_length: int = MAX_LENGTH  # skip pairs with a side longer than this in word tokens (or 10x in characters)
    max_pairs: int = 0  # read only the first N pairs of the corpus file (0: all; held-out files are read whole)
    swap_columns: bool = False  # translate column 2 into column 1
    valid_fraction: float = 0.1  # of the distinct source sentences
    test_fraction: float = 0.1
    valid_file: Optional[str] = None  # held-out files instead of a split of the corpus
    test_file: Optional[str] = None

    def __post_init__(self):
        check_positive_int("max_length", self.max_length)
        if isinstance(self.max_pairs, bool) or not isinstance(self.max_pairs, int) or self.max_pairs < 0:
            raise ValueError(f"max_pairs must be an int >= 0, got {self.max_pairs!r}")
        for name in ("valid_fraction", "test_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 0.5:
                raise ValueError(f"{name} must be a number in (0, 0.5), got {value!r}")


def _read_pairs(path, options, max_pairs=0):
    """(pairs of the file within the length cap, normalised as the tokenizers normalise text,
    {what was skipped: how many})."""
    corpus = read_tsv(path, swap_columns=options.swap_columns)
    # NFC and one plain space, as every tokenizer sees it: two lines that differ only in the kind
    # of space (Tatoeba's French has U+202F before "!" in some lines, a space in others) are one pair
    pairs = [(normalize(a), normalize(b)) for a, b in corpus.pairs[: max_pairs or None]]
    words, most = WordTokenizer().tokenize, options.max_length

    def fits(text):
        return len(text) <= CHARS_PER_TOKEN * most and len(words(text)) <= most

    kept = [p for p in pairs if fits(p[0]) and fits(p[1])]
    cap = f"{most} tokens or {CHARS_PER_TOKEN * most:,} characters"
    if not kept:
        raise ValueError(f"every pair of {path} has a side longer than max_length={most} ({cap})")
    return kept, {"blank lines": corpus.blank, f"pairs longer than {cap}": len(pairs) - len(kept)}


def tsv_task(path, options=CorpusOptions()):
    """A TSV corpus: pairs longer than the cap skipped, duplicates removed, then split by source
    sentence with a fixed shuffle (the same split every time; all translations of a sentence
    on one side), or checked against held-out files: a training pair whose source is in the
    validation or test file is dropped."""
    pairs, skipped = _read_pairs(path, options, options.max_pairs)
    if options.valid_file or options.test_file:
        if not (options.valid_file and options.test_file):
            raise ValueError("give both a validation file and a test file, or neither")
        held = []
        for name, f in (("validation", options.valid_file), ("test", options.test_file)):
            part, part_skipped = _read_pairs(f, options)
            held.append(list(dict.fromkeys(part)))
            skipped.update({f"{what} in the {name} file": n for what, n in part_skipped.items() if n})
        shared = {s for s, _ in held[0]} & {s for s, _ in held[1]}
        if shared:
            raise ValueError(f"the validation file {options.valid_file} and the test file {options.test_file} share "
                             f"{len(shared)} source sentences (e.g. {next(iter(sorted(shared)))!r:.60}): the epoch "
                             f"kept would be chosen on test sentences; give two files with different sources")
        held_sources = {s for part in held for s, _ in part}
        unique = list(dict.fromkeys(pairs))
        train = [p for p in unique if p[0] not in held_sources]
        skipped["duplicate pairs"] = len(pairs) - len(unique)
        skipped["training pairs whose source is held out"] = len(unique) - len(train)
        valid, test = held
    else:
        (train, valid, test), skipped["duplicate pairs"] = split_by_source(
            pairs, (options.valid_fraction, options.test_fraction), DATA_SEED)
    if not train:
        raise ValueError(f"{path} leaves no training pair")
    defaults = {**_defaults("tsv"), "vocab_size": bpe_vocab_size(len(train))}
    return Task(f"tsv:{path}", "bpe", train, valid, test, defaults, skipped=skipped, corpus=options)


TASK_NAMES = ("toy-en-fr", "reverse", "addition", "dates", "tsv:PATH")
_BUILDERS = {"toy-en-fr": toy_en_fr_task, "reverse": reverse_task, "addition": addition_task, "dates": dates_task}


def load_task(spec, corpus=CorpusOptions()):
    """A Task by name: one of TASK_NAMES (with a real path after "tsv:"); `corpus` (a
    CorpusOptions) says how a TSV file becomes one."""
    if spec.startswith("tsv:"):
        if not spec[4:]:
            raise ValueError("task tsv:PATH needs a path after 'tsv:'")
        return tsv_task(spec[4:], corpus)
    if spec not in _BUILDERS:
        raise ValueError(f"unknown task {spec!r}; expected one of {', '.join(TASK_NAMES)}")
    return _BUILDERS[spec]()
