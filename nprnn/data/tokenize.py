"""Tokenisers for real text in any script: text <-> token strings, with an exact round trip.

Three tokenisers share one interface (`Tokenizer`): ``tokenize(text) -> list[str]``,
``detokenize(tokens) -> str``, ``to_dict() -> dict`` (JSON-able), and a ``name``.
`tokenizer_from_dict` rebuilds any of them; `make_tokenizer` makes one by name. Turning tokens
into ids is `Vocab`'s job (vocab.py), not this module's.

**Normalisation.** Every tokeniser first applies `normalize`:

1. Unicode NFC, so that "é" typed as one code point or as "e" + U+0301 is the same text;
2. case is kept ("Paris" and "paris" stay different);
3. whitespace, as ``str.split()`` sees it (space, tab, newline, U+00A0, U+3000, ...), is
   stripped from both ends, and every run of it inside becomes one plain space " ".

The contract, for ANY string ``s``, is ``detokenize(tokenize(s)) == normalize(s)``. (For BPE:
as long as every character of ``s`` was seen in training; see `BPETokenizer`.)

**How a token says where the spaces were.** Token strings spell text with three rules
(SentencePiece's convention):

- a space is written "▁" (U+2581, LOWER ONE EIGHTH BLOCK), the *word-start marker*;
- a literal "▁" in the text is written "\\▁", and a literal backslash "\\\\" (an escape);
- every other character is written as itself.

So a token is never ambiguous: "▁a" is a space then "a", "\\▁" is the block character itself.
`detokenize` reads the tokens back with the same three rules and drops the one space that the
first word's marker adds. The token "<unk>" (BPE's unknown character) reads back as U+FFFD "�".

>>> WordTokenizer().tokenize("J'ai 2 chats.")
['▁J', "'", 'ai', '▁2', '▁chats', '.']
>>> WordTokenizer().tokenize("나는   학생이다.")
['▁나는', '▁학생이다', '.']
>>> CharTokenizer().tokenize("Va !")
['V', 'a', '▁', '!']
>>> WordTokenizer().detokenize(['▁J', "'", 'ai', '▁2', '▁chats', '.'])
"J'ai 2 chats."
"""
import heapq
import re
import unicodedata
from collections import Counter, defaultdict

MARKER = "\u2581"    # "▁": a space, i.e. the start of a word
ESCAPE = "\\"        # "\\▁" is a literal "▁", "\\\\" a literal backslash
UNK = "<unk>"        # BPE's token for a character never seen in training (as Vocab spells it)
UNK_TEXT = "\ufffd"  # what <unk> detokenizes to: U+FFFD REPLACEMENT CHARACTER

_WORD_OR_CHAR = re.compile(r"\w+|.", re.UNICODE | re.DOTALL)  # a run of letters/digits/_, or one char
_UNIT = re.compile(r"\\.|.", re.DOTALL)                         # one spelled character (see _spell)
_SPELLED = re.compile(r"\\(.)|\u2581", re.DOTALL)


def normalize(text):
    """NFC, case kept, whitespace stripped at both ends and collapsed to single spaces.

    >>> normalize("  Cafe\\u0301\\u00a0\\t au   lait\\n")
    'Café au lait'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return " ".join(unicodedata.normalize("NFC", text).split())


def _spell(text):
    """Write text as token characters: ' ' -> '▁', '▁' -> '\\▁', '\\' -> '\\\\'."""
    return text.replace(ESCAPE, ESCAPE + ESCAPE).replace(MARKER, ESCAPE + MARKER).replace(" ", MARKER)


def _unspell(spelled):
    """The inverse of _spell: '▁' -> ' ', '\\x' -> 'x'."""
    return _SPELLED.sub(lambda m: m.group(1) or " ", spelled)


def _units(spelled):
    """A spelled token, one spelled character at a time: '▁a\\▁' -> ['▁', 'a', '\\▁']."""
    return _UNIT.findall(spelled)


def _is_mark(char):
    """Combining marks (accents, Indic vowel signs, ...) belong to the character before them."""
    return unicodedata.category(char)[0] == "M"


def _split_word(word):
    """One whitespace-free chunk -> letter runs and single other characters.

    Python's \\w has letters and digits of every script but not combining marks, so a mark is
    glued back onto what precedes it: 'नमस्ते' stays one word instead of four pieces.
    """
    pieces = []
    for piece in _WORD_OR_CHAR.findall(word):
        glue = pieces and (_is_mark(piece[0]) or _is_word_char(piece[0]) and _is_word_char(pieces[-1][0]))
        if glue:
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return pieces


def _is_word_char(char):
    return char.isalnum() or char == "_"  # exactly what \\w matches (the re docs)


class Tokenizer:
    """The shared interface. Subclasses set `name` and write `tokenize`."""

    name = None
    alphabet = ()  # the characters its symbols are made of, where it learned them (BPE)

    def tokenize(self, text):
        """str -> list of token strings."""
        raise NotImplementedError

    def known_pieces(self, tokens, known):
        """`tokens` cut into pieces that `known` (a Vocab, or a set of tokens) holds, where the
        tokenizer can cut them. Word and character tokens have no pieces: they come back as they are."""
        return list(tokens)

    def detokenize(self, tokens):
        """Token strings -> text; the inverse of `tokenize` on normalised text."""
        spelled = "".join(UNK_TEXT if tok == UNK else tok for tok in tokens)
        text = _unspell(spelled)
        return text[1:] if text.startswith(" ") else text  # the first word's marker is no space

    def to_dict(self):
        """Everything needed to rebuild this tokenizer, as JSON-able str/int/list/dict."""
        return {"name": self.name}

    def __repr__(self):
        return f"{type(self).__name__}()"


class WordTokenizer(Tokenizer):
    """Words and punctuation, case kept, any script.

    A word is a run of \\w characters (letters and digits of any script, and "_"), with any
    combining marks; every other character (punctuation, symbols, emoji) is a token of its own.
    The first token after a space (and the first of the text) carries the marker "▁".

    >>> tok = WordTokenizer()
    >>> tok.tokenize("J'ai 2 chats.")
    ['▁J', "'", 'ai', '▁2', '▁chats', '.']
    >>> tok.tokenize("나는 학생이다.")
    ['▁나는', '▁학생이다', '.']
    >>> tok.tokenize("Tu viens ?")     # French puts a space before "?": the marker keeps it
    ['▁Tu', '▁viens', '▁?']
    >>> tok.detokenize(['▁Tu', '▁viens', '▁?'])
    'Tu viens ?'
    """

    name = "word"

    def tokenize(self, text):
        tokens = []
        for word in normalize(text).split(" "):
            if not word:
                continue  # the empty text
            pieces = [_spell(piece) for piece in _split_word(word)]
            pieces[0] = MARKER + pieces[0]
            tokens.extend(pieces)
        return tokens


class CharTokenizer(Tokenizer):
    """One token per character, case kept; a space is the token "▁".

    >>> CharTokenizer().tokenize("Où ?")
    ['O', 'ù', '▁', '?']
    >>> CharTokenizer().tokenize("한국")   # NFC: a Hangul syllable is one character
    ['한', '국']
    """

    name = "char"

    def tokenize(self, text):
        return [_spell(char) for char in normalize(text)]


def _merge(symbols, pair):
    """Replace every (left to right, non-overlapping) occurrence of pair in symbols by one symbol.

    >>> _merge(['l', 'o', 'w', 'l', 'o'], ('l', 'o'))
    ['lo', 'w', 'lo']
    """
    a, b = pair
    merged, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            merged.append(a + b)
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return merged


def _pairs(symbols):
    return zip(symbols, symbols[1:])


def _check_vocab_size(vocab_size):
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
        raise ValueError(f"vocab_size must be an int >= 1, got {vocab_size!r}")


# BPE merges no pair seen only once: its symbol would stand for one word of one sentence, whose
# embedding training sees once and cannot learn (on 14,400 Tatoeba sentences this stops English
# at 3,832 symbols and French at 5,780; on 3,800 at 1,560 and 2,335).
MIN_PAIR_COUNT = 2


class BPETokenizer(Tokenizer):
    """Byte-pair encoding (Sennrich, Haddow and Birch 2016), on characters.

    Learning (`BPETokenizer.learn`): cut the training texts into words with `WordTokenizer` and
    count them. Spell each word as symbols, one per character; the word-start marker "▁" is a
    symbol of its own at first ('▁low' -> ▁ l o w), so merges can glue it on ('▁low').
    Then repeat: count adjacent symbol pairs, each weighted by its word's frequency; merge the
    most frequent pair into one new symbol everywhere (ties: the smallest pair (a, b) in
    Python's string order); until alphabet + merges = vocab_size, or until no pair occurs
    MIN_PAIR_COUNT (2) times.
    Merges never cross word tokens, so no symbol holds a space except a leading "▁".

    Encoding a word replays the merges by rank: merge the adjacent pair learned earliest,
    again and again, until no adjacent pair was learned. Encoded words are cached.

    Characters never seen in training become "<unk>" (one per character): tokenize never fails,
    but detokenize writes "�" (U+FFFD) where such a character was. The round trip is exact for
    texts whose characters were all seen in training.

    >>> bpe = BPETokenizer.learn(["low lower lowest newer wider"], vocab_size=15)
    >>> bpe.merges   # 11 characters (▁ d e i l n o r s t w) + 4 merges = 15
    [('e', 'r'), ('l', 'o'), ('lo', 'w'), ('▁', 'low')]
    >>> bpe.tokenize("lower slow")
    ['▁low', 'er', '▁', 's', 'low']
    >>> bpe.tokenize("low!")        # "!" was never seen
    ['▁low', '<unk>']
    >>> bpe.detokenize(bpe.tokenize("low!"))
    'low�'
    """

    name = "bpe"

    def __init__(self, alphabet, merges):
        self.alphabet = sorted(alphabet)                          # spelled characters
        self.merges = [tuple(pair) for pair in merges]            # in the order learned
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self._known = set(self.alphabet)
        self._cache = {}                                          # word token -> its BPE tokens
        self._words = WordTokenizer()
        self._parts = {}                                          # merged symbol -> the pair it came from
        for a, b in self.merges:
            self._parts.setdefault(a + b, (a, b))                 # ('l','ow') after ('lo','w') makes no new symbol

    @property
    def vocab_size(self):
        """Symbols the tokens are made of: the alphabet plus one per merge (<unk> not counted)."""
        return len(self.alphabet) + len(self.merges)

    @property
    def symbols(self):
        """The alphabet, then each merge's new symbol in the order learned."""
        return self.alphabet + [a + b for a, b in self.merges]

    @classmethod
    def learn(cls, texts, vocab_size):
        """Learn merges from texts (the training side only) until there are vocab_size symbols,
        or until no pair of adjacent symbols occurs MIN_PAIR_COUNT times: so a small corpus
        gets a smaller vocabulary than vocab_size asks for (its size follows the corpus)."""
        _check_vocab_size(vocab_size)
        if isinstance(texts, str):
            raise ValueError("texts must be a list of strings, not one str")
        word_counts = Counter(tok for text in texts for tok in WordTokenizer().tokenize(text))
        if not word_counts:
            raise ValueError("texts is empty: there is nothing to learn BPE merges from")
        words = [_units(word) for word in word_counts]    # each distinct word, as a list of symbols
        freqs = list(word_counts.values())
        alphabet = sorted({unit for symbols in words for unit in symbols})
        if vocab_size < len(alphabet):
            raise ValueError(f"vocab_size={vocab_size} is smaller than the alphabet: the training texts "
                             f"have {len(alphabet)} distinct characters (the marker ▁ included)")

        # pair -> total count, and pair -> the words where it occurs: after a merge only
        # those words change, so only their pairs are counted again.
        counts, where = Counter(), defaultdict(set)
        for i, symbols in enumerate(words):
            for pair in _pairs(symbols):
                counts[pair] += freqs[i]
                where[pair].add(i)
        # A max-heap of (-count, a, b): the top is the most frequent pair, ties the smallest.
        # Counts change, so entries go stale; a popped entry whose count is out of date is skipped.
        heap = [(-n, a, b) for (a, b), n in counts.items()]
        heapq.heapify(heap)

        merges, learned = [], set()
        while len(alphabet) + len(merges) < vocab_size and heap:
            neg_count, a, b = heapq.heappop(heap)
            pair = (a, b)
            if counts.get(pair) != -neg_count or pair in learned:
                continue  # stale, or (rarely) a pair merged already that a later merge re-created
            if -neg_count < MIN_PAIR_COUNT:
                break  # the most frequent pair left occurs once: the vocabulary is as large as the texts allow
            merges.append(pair)
            learned.add(pair)
            changed = set()
            for i in where.pop(pair):
                old, new = words[i], _merge(words[i], pair)
                for p in _pairs(old):
                    counts[p] -= freqs[i]
                for p in _pairs(new):
                    counts[p] += freqs[i]
                old_pairs, new_pairs = set(_pairs(old)), set(_pairs(new))
                for p in old_pairs - new_pairs:
                    where[p].discard(i)
                for p in new_pairs - old_pairs:
                    where[p].add(i)
                changed |= old_pairs | new_pairs
                words[i] = new
            for p in changed:
                if counts[p] > 0:
                    heapq.heappush(heap, (-counts[p], *p))
                else:
                    del counts[p]
        return cls(alphabet, merges)

    def encode_word(self, word):
        """One word token ('▁lower') -> its BPE tokens (['▁low', 'er'])."""
        if word not in self._cache:
            symbols = [unit if unit in self._known else UNK for unit in _units(word)]
            while len(symbols) > 1:
                best = min(_pairs(symbols), key=lambda pair: self.ranks.get(pair, len(self.ranks)))
                if best not in self.ranks:
                    break  # no adjacent pair was ever merged
                symbols = _merge(symbols, best)
            self._cache[word] = symbols
        return list(self._cache[word])

    def tokenize(self, text):
        return [tok for word in self._words.tokenize(text) for tok in self.encode_word(word)]

    def known_pieces(self, tokens, known):
        """Each token that `known` lacks, split back into the two symbols it was merged from, and
        again, until every piece is known or is one character (subword-nmt's --vocabulary).

        A model's vocabulary holds the tokens its training sentences were cut into (and the
        alphabet). A merge learned along the way can make a symbol that no training sentence
        ends up with ('low' below: every 'low' of the training words became '▁low'): a new word
        cut into it gets its pieces, which the model has seen, not <unk>.

        >>> bpe = BPETokenizer.learn(["low lower lowest newer wider"], vocab_size=15)
        >>> bpe.tokenize("slow")
        ['▁', 's', 'low']
        >>> bpe.known_pieces(['▁', 's', 'low'], {'▁', 's', 'lo', 'w'})
        ['▁', 's', 'lo', 'w']
        """
        pieces = []
        for token in tokens:
            todo = [token]
            while todo:
                piece = todo.pop()
                if piece in known or piece not in self._parts:
                    pieces.append(piece)
                else:
                    a, b = self._parts[piece]
                    todo += [b, a]  # a is popped first
        return pieces

    def to_dict(self):
        return {"name": self.name, "alphabet": list(self.alphabet), "merges": [list(pair) for pair in self.merges]}

    def __repr__(self):
        return f"BPETokenizer({len(self.alphabet)} characters + {len(self.merges)} merges)"


TOKENIZER_NAMES = ("word", "char", "bpe")


def tokenizer_from_dict(d):
    """Rebuild a tokenizer from its `to_dict()`, e.g. after json.dumps / json.loads."""
    name = d.get("name") if isinstance(d, dict) else None
    if name == "word":
        return WordTokenizer()
    if name == "char":
        return CharTokenizer()
    if name == "bpe":
        return BPETokenizer(d["alphabet"], d["merges"])
    raise ValueError(f"name must be one of {list(TOKENIZER_NAMES)}, got {name!r}")


def make_tokenizer(name, texts=None, vocab_size=None):
    """'word' | 'char' | 'bpe'. Only 'bpe' uses texts (training side) and vocab_size.

    >>> make_tokenizer("bpe", ["low lower lowest"], vocab_size=11).tokenize("lowest")
    ['▁low', 'e', 's', 't']
    """
    if name == "word":
        return WordTokenizer()
    if name == "char":
        return CharTokenizer()
    if name == "bpe":
        if texts is None:
            raise ValueError("texts is required for name='bpe': the training texts to learn merges from")
        if vocab_size is None:
            raise ValueError("vocab_size is required for name='bpe'")
        return BPETokenizer.learn(texts, vocab_size)
    raise ValueError(f"name must be one of {list(TOKENIZER_NAMES)}, got {name!r}")
