"""Scores for translations: on token lists, and on text as sacreBLEU scores it.

Two families live here.

On lists of tokens (what the model emits; training and `nprnn evaluate` use these):
    exact_match, token_accuracy, corpus_bleu

On detokenised text, equal to sacreBLEU 2.x with its defaults, so a score printed here can be set
beside a score in a paper (written out by hand; sacreBLEU itself is never imported):
    tokenize_13a(text)                      -> list of tokens, mteval-v13a's tokeniser
    bleu(hypotheses, references)            -> BLEUScore, .score on 0..100 (sacrebleu.corpus_bleu)
    chrf(hypotheses, references)            -> float on 0..100 (sacrebleu.corpus_chrf)
    reference_streams(references)           -> the same references in sacreBLEU's layout

References are given per hypothesis: `references[i]` is a list of one or more reference strings
for `hypotheses[i]`, and the lists may differ in length. sacreBLEU wants them transposed into
*streams*, `streams[k][i]` being the k-th reference of sentence i, with `None` where sentence i has
fewer than k + 1 references (sacreBLEU drops the Nones; an empty string "" is NOT dropped: it is
a real, empty reference). `reference_streams` does that transposition; `None` inside a
per-hypothesis list is dropped here too, so `list(zip(*streams))` works as `references`.
"""
import math
import re
from collections import Counter
from typing import NamedTuple


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
    """Position-by-position agreement: the tokens a hypothesis has right at the reference's
    positions, over the longer of the two lengths summed over sentences, so a missing token
    and an extra one each count as one error ("a b" against "a b c d" scores 2/4, and
    "a b c d e f" against "a b x y" 2/6)."""
    _check(hyps, refs)
    total = sum(max(len(h), len(r)) for h, r in zip(hyps, refs))
    hits = sum(a == b for h, r in zip(hyps, refs) for a, b in zip(h, r))
    return hits / total if total else 1.0


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(hyps, refs, max_n=4):
    """Corpus BLEU (Papineni et al. 2002) with one reference each, on a 0-100 scale.

    The geometric mean of the clipped n-gram precisions, n = 1..max_n, each summed over the
    whole corpus, times the brevity penalty exp(1 - r/c) when the hypotheses are shorter in
    total (c) than the references (r). No smoothing: a corpus with no matching 4-gram scores 0.
    For text, and for a score comparable with published ones, use `bleu` below.
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


# ---------------------------------------------------------------------------------------------
# Text in, sacreBLEU's numbers out.
# ---------------------------------------------------------------------------------------------

# mteval-v13a's four rules, applied in this order to " " + line + " ". The regular expressions
# are the Perl script's (and sacreBLEU's) character for character. The class in rule 1 is five
# ASCII ranges and a slash:  {-~ is { | } ~    [-` is [ \ ] ^ _ `    space-& is space ! " # $ % &
#                            (-+ is ( ) * +    :-@ is : ; < = > ? @
# so every ASCII symbol becomes a token of its own except ' , - . (letters and digits stay put;
# so does every non-ASCII character: é, 한, 😀, « and — are never split off).
_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # 1. split off symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # 2. split . and , after a non-digit ...
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # 3. ... and before a non-digit: 3.5 stays
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # 4. split - after a digit: 1990-91 -> 1990 - 91
]


def tokenize_13a(text):
    """Split one line of text into tokens the way sacreBLEU's default "13a" tokeniser does.

    text: str -> list of str. `" ".join(tokenize_13a(s))` equals sacreBLEU's
    `Tokenizer13a()(s)` for every string s. Only ASCII digits count as digits in rules 2-4
    ([0-9], not \\d), and words are split on Python's `str.split()` (any Unicode whitespace).

        >>> tokenize_13a("L'homme (âgé) a 3.5 ans, non?")
        ["L'homme", '(', 'âgé', ')', 'a', '3.5', 'ans', ',', 'non', '?']
    """
    text = text.replace("<skipped>", "")  # mteval's marker for a segment the system skipped
    text = text.replace("-\n", "")  # a word hyphenated across a line break is joined
    text = text.replace("\n", " ")
    # Four HTML entities, undone in this order (so "&amp;lt;" becomes "<", as in the Perl script).
    text = text.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    text = f" {text} "  # rules 2 and 3 need a character on each side of a leading or final . or ,
    for pattern, replacement in _13A_RULES:
        text = pattern.sub(replacement, text)
    return text.split()


def _per_hypothesis_references(hypotheses, references):
    """Check the text inputs; return references as lists of strings, None entries dropped."""
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise TypeError("hypotheses and references must be lists, not a single string")
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} reference lists "
                         "(one list of reference strings per hypothesis)")
    if not hypotheses:
        raise ValueError("no hypotheses: nothing to score")
    out = []
    for i, (hyp, refs) in enumerate(zip(hypotheses, references)):
        if not isinstance(hyp, str):
            raise TypeError(f"hypotheses[{i}] is {type(hyp).__name__}, not a string")
        if isinstance(refs, str):
            raise TypeError(f"references[{i}] is a string; give a list of reference strings per "
                            "hypothesis, e.g. [[r] for r in refs] for one reference each")
        refs = [r for r in refs if r is not None]  # None pads a short stream (sacreBLEU drops it)
        if not refs:
            raise ValueError(f"hypothesis {i} has no reference")
        if not all(isinstance(r, str) for r in refs):
            raise TypeError(f"references[{i}] holds something other than strings: {refs!r}")
        out.append(refs)
    return out


def reference_streams(references):
    """Transpose per-hypothesis references into sacreBLEU's reference streams.

    references: list (one per hypothesis) of lists of str -> list (one per reference slot k) of
    lists (one per hypothesis) of str or None, padded with None where a hypothesis has fewer
    references. `sacrebleu.corpus_bleu(hyps, reference_streams(refs))` scores what
    `bleu(hyps, refs)` scores; the way back is `list(zip(*streams))`.

        >>> reference_streams([["a", "b"], ["c"]])
        [['a', 'c'], ['b', None]]
    """
    most = max(len(refs) for refs in references)
    return [[refs[k] if k < len(refs) else None for refs in references] for k in range(most)]


class BLEUScore(NamedTuple):
    """BLEU and its parts, as sacreBLEU's BLEUScore holds them (percentages on 0..100)."""

    score: float  # BP * exp(mean of log precisions), 0..100
    precisions: tuple  # (p1, p2, p3, p4), each 100 * matches / hypothesis n-grams, smoothed
    bp: float  # brevity penalty, 1 when the hypotheses are at least as long as the references
    sys_len: int  # hypothesis tokens, summed over the corpus
    ref_len: int  # reference tokens: per sentence the reference length closest to the hypothesis'
    counts: tuple  # clipped n-gram matches per order, summed over the corpus
    totals: tuple  # hypothesis n-grams per order, summed over the corpus

    def __float__(self):
        return float(self.score)

    def __str__(self):
        """The line sacreBLEU prints: BLEU = 34.12 60.0/40.0/25.0/16.7 (BP = 1.000 ...)."""
        ratio = self.sys_len / self.ref_len if self.ref_len else 0
        precisions = "/".join(f"{p:.1f}" for p in self.precisions)
        return (f"BLEU = {self.score:.2f} {precisions} (BP = {self.bp:.3f} ratio = {ratio:.3f} "
                f"hyp_len = {self.sys_len:d} ref_len = {self.ref_len:d})")


def bleu(hypotheses, references, *, lowercase=False):
    """Corpus BLEU-4 on text, equal to `sacrebleu.corpus_bleu(hypotheses, streams)` by default.

    hypotheses: list of N str (detokenised sentences).
    references: list of N lists of str, one or more references per hypothesis (see the module
        docstring for how this maps to sacreBLEU's streams; None entries are dropped).
    lowercase: lowercase everything first (sacreBLEU's lowercase=True); default case-sensitive.
    Returns a BLEUScore; `.score` (or float(result)) is BLEU on 0..100.

    Each sentence is stripped of trailing whitespace and split by `tokenize_13a`. Then, summed
    over the corpus, for n = 1..4:
        counts[n]  = sum over hypothesis n-grams g of min(count in hyp, max count in any one ref)
        totals[n]  = number of hypothesis n-grams
        p_n        = 100 * counts[n] / totals[n]
    c = sys_len is the hypotheses' length; r = ref_len adds, per sentence, the length of the
    reference closest in length to the hypothesis (the shorter one on a tie). Then

        BLEU = BP * exp((log p_1 + log p_2 + log p_3 + log p_4) / 4),   BP = min(1, exp(1 - r/c))

    with sacreBLEU's defaults for the corner cases:
    - "exp" smoothing (mteval's): an order with no match at all gets p_n = 100 / (2^k totals[n]),
      k counting the orders with no match so far (1, 2, 3: the first such gets half a match).
    - no effective order: if the hypotheses have no n-grams of some order (every sentence
      shorter than 4 tokens), that p_n is 0 and BLEU is 0.
    - no match of any order, or empty hypotheses (c = 0, so BP = 0): BLEU is 0.
    """
    references = _per_hypothesis_references(hypotheses, references)

    def prepare(sentence):
        return tokenize_13a((sentence.lower() if lowercase else sentence).rstrip())

    max_n = 4
    counts, totals = [0] * max_n, [0] * max_n
    sys_len = ref_len = 0
    for hyp, refs in zip(hypotheses, references):
        hyp = prepare(hyp)
        refs = [prepare(r) for r in refs]
        sys_len += len(hyp)
        # closest reference length; on a tie (one shorter, one longer) the shorter one
        ref_len += min((len(r) for r in refs), key=lambda length: (abs(len(hyp) - length), length))
        for n in range(1, max_n + 1):
            most_in_a_ref = Counter()
            for r in refs:
                most_in_a_ref |= _ngrams(r, n)  # Counter | Counter keeps the larger count
            for gram, count in _ngrams(hyp, n).items():
                totals[n - 1] += count
                counts[n - 1] += min(count, most_in_a_ref[gram])  # clipped
    return _bleu_from_counts(counts, totals, sys_len, ref_len)


def _bleu_from_counts(counts, totals, sys_len, ref_len):
    """The corpus score from summed statistics (sacreBLEU's compute_bleu, "exp" smoothing)."""
    if sys_len >= ref_len:
        bp = 1.0
    else:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    precisions = [0.0] * len(counts)
    if not any(counts):  # nothing matched at all
        return BLEUScore(0.0, tuple(precisions), bp, sys_len, ref_len, tuple(counts), tuple(totals))
    halvings = 1
    for n, (matched, total) in enumerate(zip(counts, totals)):
        if total == 0:  # no hypothesis this long: p_n (and every higher one) stays 0
            break
        if matched == 0:
            halvings *= 2  # 1/2, 1/4, 1/8 of a match for the first, second, third empty order
            precisions[n] = 100.0 / (halvings * total)
        else:
            precisions[n] = 100.0 * matched / total
    if min(precisions) == 0.0:
        score = 0.0  # log 0 = -inf; sacreBLEU floors it at -9999999999, exp of which is 0
    else:
        score = bp * math.exp(sum(math.log(p) for p in precisions) / len(precisions))
    return BLEUScore(score, tuple(precisions), bp, sys_len, ref_len, tuple(counts), tuple(totals))


_CHRF_ORDER = 6  # character n-grams of 1..6 characters
_CHRF_BETA = 2  # recall weighs beta = 2 times as much as precision


def _char_ngrams(sentence):
    """[Counter of 1-char n-grams, ..., Counter of 6-char n-grams], whitespace removed first."""
    chars = "".join(sentence.split())
    return [Counter(chars[i : i + n] for i in range(len(chars) - n + 1))
            for n in range(1, _CHRF_ORDER + 1)]


def _chrf_from_counts(stats):
    """F_beta on 0..100 from [(hyp n-grams, ref n-grams, matches)] per order (sacreBLEU's rule).

    Precision and recall are averaged over the orders where both hypothesis and reference have
    n-grams ("effective order"); F is taken of the averages. The arithmetic is in sacreBLEU's
    order, so that ties between references break the same way.
    """
    beta2 = _CHRF_BETA**2
    avg_prec = avg_rec = 0.0
    orders = 0
    for n_hyp, n_ref, n_match in stats:
        if n_hyp > 0 and n_ref > 0:
            avg_prec += n_match / n_hyp
            avg_rec += n_match / n_ref
            orders += 1
    if orders:
        avg_prec /= orders
        avg_rec /= orders
    if avg_prec + avg_rec == 0:
        return 0.0
    score = (1 + beta2) * avg_prec * avg_rec
    score /= beta2 * avg_prec + avg_rec
    return 100 * score


def chrf(hypotheses, references):
    """Corpus chrF2 on text, equal to `sacrebleu.corpus_chrf(hypotheses, streams)` by default.

    hypotheses: list of N str; references: list of N lists of str (as for `bleu`). -> float 0..100.

    Whitespace is removed, then character n-grams of orders n = 1..6 are counted (case-sensitive).
    Per sentence and order: hyp = the hypothesis' n-grams, ref = the reference's, match = the
    clipped overlap sum_g min(hyp count, ref count); if the reference has no n-gram of that order
    (it is shorter than n characters), hyp is counted as 0 too. With several references, each
    sentence keeps the statistics of the reference with the best sentence-level chrF (the first
    one on a tie). Summed over the corpus, P_n = match / hyp and R_n = match / ref, and

        P = mean of P_n,  R = mean of R_n  over the orders with hyp > 0 and ref > 0
        chrF = 100 * (1 + beta^2) P R / (beta^2 P + R),   beta = 2   (0 if P + R = 0)

    This is sacreBLEU's default (eps_smoothing=False), which averages P and R first. The chrF
    of Popovic's chrF++.py, NLTK and Moses, (1+beta^2) P_n R_n / (beta^2 P_n + R_n) averaged over
    all six n, is sacreBLEU's eps_smoothing=True; the two differ slightly.
    """
    references = _per_hypothesis_references(hypotheses, references)
    corpus = [[0, 0, 0] for _ in range(_CHRF_ORDER)]
    for hyp, refs in zip(hypotheses, references):
        hyp_ngrams = _char_ngrams(hyp)
        best_stats, best_f = None, -1.0
        for ref in refs:
            stats = []
            for h, r in zip(hyp_ngrams, _char_ngrams(ref)):
                match = sum(min(count, r[g]) for g, count in h.items())
                stats.append((sum(h.values()) if r else 0, sum(r.values()), match))
            f = _chrf_from_counts(stats)
            if f > best_f:  # strictly better: the first reference wins a tie
                best_stats, best_f = stats, f
        for total, stat in zip(corpus, best_stats):
            for k in range(3):
                total[k] += stat[k]
    return _chrf_from_counts(corpus)
