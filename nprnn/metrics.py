"""Token accuracy, exact-sequence accuracy and corpus BLEU, over lists of token lists."""
import math
from collections import Counter


def _check(hyps, refs):
    if len(hyps) != len(refs):
        raise ValueError(f"hyps and refs must be the same length, got {len(hyps)} and {len(refs)}")
    if not refs:
        raise ValueError("refs is empty: nothing to score")


def exact_match(hyps, refs):
    """Fraction of hypotheses equal to their reference, token for token."""
    _check(hyps, refs)
    return sum(list(h) == list(r) for h, r in zip(hyps, refs)) / len(refs)


def token_accuracy(hyps, refs):
    """Fraction of reference positions whose token the hypothesis has at the same position."""
    _check(hyps, refs)
    total = sum(len(r) for r in refs)
    hits = sum(a == b for h, r in zip(hyps, refs) for a, b in zip(h, r))
    return hits / total if total else 1.0


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(hyps, refs, max_n=4):
    """Corpus BLEU (Papineni et al. 2002) with one reference each, on a 0-100 scale.

    The geometric mean of the clipped n-gram precisions, n = 1..max_n, each summed over the
    whole corpus, times the brevity penalty exp(1 - r/c) when the hypotheses are shorter in
    total (c) than the references (r). No smoothing: a corpus with no matching 4-gram scores 0.
    """
    _check(hyps, refs)
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for h, r in zip(hyps, refs):
        hyp_len, ref_len = hyp_len + len(h), ref_len + len(r)
        for n in range(1, max_n + 1):
            h_ngrams, r_ngrams = _ngrams(h, n), _ngrams(r, n)
            matches[n - 1] += sum(min(c, r_ngrams[g]) for g, c in h_ngrams.items())
            totals[n - 1] += max(len(h) - n + 1, 0)
    if hyp_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    brevity = min(0.0, 1.0 - ref_len / hyp_len)
    return 100.0 * math.exp(log_precision + brevity)
