"""`Vocab` (tokens <-> ids) and the special tokens. Text <-> tokens is tokenize.py's job.

The data layer (nprnn/data/) imports nothing from the model; the model imports the special ids
below from here. Imports: the standard library.
"""
from collections import Counter


# The special tokens and their fixed ids. The model reads them from here: <pad> fills the end of
# shorter sentences in a batch, <sos> starts the decoder, <eos> ends a sentence, <unk> stands for
# a token the vocabulary does not hold.
PAD, SOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<sos>", "<eos>", "<unk>")

class Vocab:
    """Tokens and their ids. Ids 0..3 are always <pad> <sos> <eos> <unk>.

    Build one with ``Vocab.build(token_lists, min_freq)``; tokens seen fewer than min_freq times
    become <unk>. Ids follow frequency (most frequent first, ties alphabetical), so the same
    corpus always gives the same vocabulary.
    """

    def __init__(self, tokens):
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"tokens must start with {list(SPECIALS)}, got {tokens[:len(SPECIALS)]}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("tokens must not repeat")
        self.tokens = tokens
        self.ids = {tok: i for i, tok in enumerate(tokens)}

    @classmethod
    def build(cls, token_lists, min_freq=1, always=()):
        """always: tokens kept however rare, after the counted ones (a BPE tokenizer's alphabet,
        so that any character seen in training has an id when a word is cut back into pieces)."""
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"min_freq must be an int >= 1, got {min_freq!r}")
        counts = Counter(tok for toks in token_lists for tok in toks)
        for special in SPECIALS:
            counts.pop(special, None)
        kept = sorted((tok for tok, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        extra = sorted(set(always) - set(kept) - set(SPECIALS))
        return cls(list(SPECIALS) + kept + extra)

    def __contains__(self, token):
        return token in self.ids

    def __len__(self):
        return len(self.tokens)

    def __repr__(self):
        return f"Vocab({len(self)} tokens: {' '.join(self.tokens[:8])} ...)"

    def encode(self, tokens, *, sos=False, eos=False):
        """Tokens -> ids, unknown tokens -> <unk>; optionally wrapped in <sos> ... <eos>."""
        ids = [self.ids.get(tok, UNK) for tok in tokens]
        return ([SOS] if sos else []) + ids + ([EOS] if eos else [])

    def decode(self, ids):
        """Ids -> tokens, stopping at <eos> and dropping <pad> and <sos>."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, SOS):
                continue
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"ids must be in 0..{len(self.tokens) - 1}, got {i}")
            out.append(self.tokens[i])
        return out
