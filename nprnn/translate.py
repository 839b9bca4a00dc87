"""`Translator` (a model with its vocabularies and tokenizers: text in, text out) and `evaluate`.

    translator, meta = Translator.load("runs/en-fr.npz")
    translator.translate(["I am a student."])       # ['Je suis étudiant.']
    evaluate(translator, pairs)                     # BLEU, chrF, exact match, token accuracy, loss

Imports: seq2seq, checkpoint, metrics, data.
"""
from dataclasses import dataclass, field, replace

import numpy as np

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .checks import check_positive_int
from .data.batching import make_batches, pad_batch
from .data.tokenize import Tokenizer, WordTokenizer, tokenizer_from_dict
from .data.vocab import Vocab
from .metrics import bleu, chrf, token_accuracy
from .seq2seq import Seq2Seq


@dataclass
class Translator:
    """A trained model with its vocabularies and tokenizers (one per side: a BPE learns each
    language's own merges): text in, text out."""

    model: Seq2Seq
    src_vocab: Vocab
    tgt_vocab: Vocab
    src_tokenizer: Tokenizer = field(default_factory=WordTokenizer)
    tgt_tokenizer: Tokenizer = field(default_factory=WordTokenizer)
    max_len: int = 50  # longest translation, in tokens
    beam_size: int = 1  # 1: greedy decoding

    def source_tokens(self, text):
        """A source text as tokens its vocabulary holds where it can (a BPE symbol the vocabulary
        lacks is cut back into its pieces)."""
        return self.src_tokenizer.known_pieces(self.src_tokenizer.tokenize(text), self.src_vocab)

    def encode(self, texts):
        """Source texts -> lists of source ids."""
        return [self.src_vocab.encode(self.source_tokens(t)) for t in texts]

    def target_tokens(self, text):
        """A target text as the tokens the model is trained to write (cut as `source_tokens`)."""
        return self.tgt_tokenizer.known_pieces(self.tgt_tokenizer.tokenize(text), self.tgt_vocab)

    def encode_targets(self, texts):
        """Target texts -> lists of target ids, <sos> ... <eos>."""
        return [self.tgt_vocab.encode(self.target_tokens(t), sos=True, eos=True) for t in texts]

    def encoder_states(self, text):
        """(tokens, hs): the source tokens of `text` and the encoder's hidden state after each, (T, H)."""
        tokens = self.source_tokens(text)
        ids = np.array(self.src_vocab.encode(tokens), dtype=np.int64)[:, None]
        if ids.shape[0] == 0:
            raise ValueError("text has no tokens to encode")
        memory, _ = self.model.encode(ids, np.array([ids.shape[0]]))
        hs = memory.outputs[:, 0, :]  # the top layer's outputs (both directions if bidirectional)
        if self.model.config.reverse_source:
            hs = hs[::-1]  # the encoder read the sentence backwards: label each state by its token
        return tokens, hs

    def translate_tokens(self, texts, batch_size=256):
        """Texts -> lists of target tokens (greedy decoding, or beam search if beam_size > 1)."""
        hyps = decode_all(self.model, self.encode(texts), batch_size=batch_size, max_len=self.max_len,
                          beam_size=self.beam_size)
        return [self.tgt_vocab.decode(h) for h in hyps]

    def translate(self, texts, batch_size=256):
        """Texts -> translated texts."""
        return [self.tgt_tokenizer.detokenize(toks) for toks in self.translate_tokens(texts, batch_size)]

    def save(self, path, meta=None):
        meta = {**(meta or {}), "tokenizers": [self.src_tokenizer.to_dict(), self.tgt_tokenizer.to_dict()],
                "max_len": self.max_len}
        return save_checkpoint(path, self.model, self.src_vocab, self.tgt_vocab, meta)

    @classmethod
    def load(cls, path):
        """(translator, meta) from a checkpoint; the model is in evaluation mode."""
        model, src_vocab, tgt_vocab, meta = load_checkpoint(path)
        try:
            src_tokenizer, tgt_tokenizer = (tokenizer_from_dict(d) for d in meta["tokenizers"])
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{path} does not describe its two tokenizers (meta 'tokenizers')") from None
        translator = cls(model.eval(), src_vocab, tgt_vocab, src_tokenizer, tgt_tokenizer, meta.get("max_len", 50))
        return translator, meta


def decode_all(model, src_ids, *, batch_size=256, max_len=50, beam_size=1):
    """Translations of many id lists, in batches of similar length, in the given order:
    greedy, or beam search with beam_size > 1."""
    out = [None] * len(src_ids)
    order = np.argsort([len(s) for s in src_ids], kind="stable")
    for k in range(0, len(order), batch_size):
        idx = order[k : k + batch_size]
        src, lengths = pad_batch([src_ids[i] for i in idx])
        if src.shape[0] == 0:  # every source in the batch is empty
            src = np.zeros((1, len(idx)), dtype=np.int64)
        if beam_size > 1:
            hyps = model.beam_search(src, lengths, beam_size=beam_size, max_len=max_len)
        else:
            hyps = model.greedy_decode(src, lengths, max_len=max_len)
        for i, hyp in zip(idx, hyps):
            out[i] = hyp
    return out


def group_by_source(pairs):
    """{source: [every target it has in `pairs`]}, sources in order of first appearance."""
    refs = {}
    for source, target in pairs:
        refs.setdefault(source, []).append(target)
    return refs


def evaluate(translator, pairs, batch_size=256, beam_size=None):
    """Translations of the sources of `pairs` (source, target), scored against their targets.

    Each distinct source is translated once and scored against all its targets (Tatoeba gives
    many sentences several translations). Decoding is greedy, or beam search with `beam_size`
    > 1 (None: the translator's own ``beam_size``), up to ``translator.max_len`` tokens.
    Returns a dict:

    - ``bleu`` and ``chrf``: corpus BLEU and chrF2 of the detokenised text, with every target
      of a source as a reference, as sacreBLEU computes them (13a tokenisation, case kept);
    - ``exact``: the fraction of sources translated exactly as one of their targets, token
      for token; ``token_accuracy`` (see metrics.token_accuracy) against the first target;
    - ``loss``: the teacher-forced mean cross-entropy per target token, over every pair;
    - ``sources``, ``hyps`` (text) and ``refs`` (lists of text), for a reader to look at.
    """
    model = translator.model
    was_training = model.training
    model.eval()  # no dropout while decoding and scoring
    if beam_size is not None:
        translator = replace(translator, beam_size=check_positive_int("beam_size", beam_size))
    refs = group_by_source(pairs)
    sources = list(refs)
    hyp_tokens = translator.translate_tokens(sources, batch_size=batch_size)
    ref_tokens = [[translator.target_tokens(t) for t in refs[s]] for s in sources]
    hyps = [translator.tgt_tokenizer.detokenize(h) for h in hyp_tokens]
    total = count = 0.0
    src_ids = translator.encode([s for s, _ in pairs])
    tgt_ids = translator.encode_targets([t for _, t in pairs])
    for batch in make_batches(src_ids, tgt_ids, batch_size, shuffle=False):
        n = int((batch.tgt[1:] != 0).sum())
        total += model.loss(batch.src, batch.tgt, batch.src_lengths) * n
        count += n
    model.train(was_training)
    return dict(bleu=bleu(hyps, [refs[s] for s in sources]).score, chrf=chrf(hyps, [refs[s] for s in sources]),
                exact=sum(h in r for h, r in zip(hyp_tokens, ref_tokens)) / len(sources),
                token_accuracy=token_accuracy(hyp_tokens, [r[0] for r in ref_tokens]), loss=total / count,
                sources=sources, hyps=hyps, refs=[refs[s] for s in sources])
