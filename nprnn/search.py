"""Decoding: greedy search and beam search, as plain functions over a decoder's `step`.

Both take ``step(ids, state) -> (logits, new state)``: one timestep of a decoder for a batch of
rows, ids (rows,) the tokens just written, logits (rows, V) the scores of the next one. A state
is anything `map_state` can index row by row (an array, an LSTM's (h, c), a list of layers).
Both start every row from <sos> and stop a row at <eos> or after `max_len` tokens, and both
return token ids without <sos> and <eos>. <pad> and <sos> are never written (training never
asks for them).

    hyps = greedy_decode(step, state, batch_size, max_len=50)
    hyps = beam_search(step, state, batch_size, beam_size=5)   # every finished hypothesis, best first

Imports: functional, recurrent (map_state), data.vocab (the special ids).
"""
from typing import NamedTuple

import numpy as np

from .checks import check_positive_int
from .data.vocab import EOS, PAD, SOS
from .functional import log_softmax
from .recurrent import map_state


def check_max_len(max_len):
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 0:
        raise ValueError(f"max_len must be an int >= 0, got {max_len!r}")
    return int(max_len)


def greedy_decode(step, state, batch_size, *, max_len=50):
    """From <sos>, feed back the most likely token until <eos> or max_len, every row at once.

    Returns one list of token ids per row. Row b's output equals decoding that row alone.
    """
    max_len = check_max_len(max_len)
    ids = np.full(batch_size, SOS)
    out = [[] for _ in range(batch_size)]
    done = np.zeros(batch_size, dtype=bool)
    for _ in range(max_len):
        logits, state = step(ids, state)
        logits[:, [PAD, SOS]] = -np.inf  # never targets in training, so never outputs
        ids = logits.argmax(axis=1)  # the most likely next token of every row
        for b in np.nonzero(~done & (ids != EOS))[0]:
            out[b].append(int(ids[b]))
        done |= ids == EOS
        if done.all():
            break
    return out


class Hypothesis(NamedTuple):
    """A finished translation: its token ids, its score (log-probability over the length
    penalty) and its log-probability (the sum over its tokens, <eos> included)."""

    tokens: list
    score: float
    logp: float


def length_penalty_factor(n, alpha):
    """((5 + n) / 6) ** alpha for n tokens (Wu et al. 2016); alpha = 0 gives 1, no normalisation."""
    return ((5.0 + n) / 6.0) ** alpha


def beam_search_step(logp_sum, logp, m):
    """The m best continuations of every sentence's beams, best first.

    logp_sum (B, k): each beam's log-probability so far (-inf for an empty beam); logp (B*k, V):
    each beam's log-probabilities of the next token, beam j of sentence b in row b*k + j.
    Returns (total, parent, token), each (B, m): a continuation's log-probability, the beam it
    extends (0..k-1) and its token.
    """
    B, k = logp_sum.shape
    V = logp.shape[1]
    total = (logp_sum.reshape(-1, 1) + logp).reshape(B, k * V)  # every beam, every next token
    best = np.argsort(-total, axis=1, kind="stable")[:, :m]
    return np.take_along_axis(total, best, axis=1), best // V, best % V


def _sort_candidates(total, parent, token, tokens, new_sum, new_tokens, choice):
    """One sentence's candidates, best first, into its k open beams (written into new_sum,
    new_tokens, choice) or, if they end in <eos> and rank among the k best, into the list of
    finished (tokens, log-probability) it returns."""
    k, ended, j = len(new_sum), [], 0
    for c in range(len(total)):  # 2k candidates: at most k of them end in <eos>
        if j == k or not np.isfinite(total[c]):
            break
        seq = np.append(tokens[parent[c]], token[c])
        if token[c] != EOS:
            new_sum[j], new_tokens[j], choice[j] = total[c], seq, parent[c]
            j += 1
        elif c < k:  # an <eos> among the k best: a finished hypothesis of its tokens + <eos>
            ended.append((seq[:-1].tolist(), total[c]))
    return ended


def beam_search(step, state, batch_size, *, beam_size=5, max_len=50, length_penalty=0.0):
    """Keep the `beam_size` best hypotheses of every sentence at every step.

    `step` and `state` are for batch_size * beam_size rows, beam j of sentence b in row
    b * beam_size + j (repeat each sentence's state beam_size times). A hypothesis scores the
    sum of its tokens' log-probabilities (its <eos> included) divided by
    `length_penalty_factor(n, length_penalty)`; 0 means no normalisation, which favours short
    outputs. A sentence's search ends when it has `beam_size` finished hypotheses and no open
    one can still beat the best of them, or at max_len (open hypotheses then count as
    finished). beam_size=1 is greedy decoding.

    Returns, per sentence, its finished `Hypothesis` list, best first.
    """
    max_len, k = check_max_len(max_len), check_positive_int("beam_size", beam_size)
    if isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float)) or not length_penalty >= 0:
        raise ValueError(f"length_penalty must be a number >= 0, got {length_penalty!r}")
    B = batch_size
    logp_sum = np.full((B, k), -np.inf)
    logp_sum[:, 0] = 0.0  # at first one beam per sentence: the others are copies of it
    tokens = np.full((B, k, 0), SOS, dtype=np.int64)
    ids = np.full(B * k, SOS)
    finished = [[] for _ in range(B)]
    open_ = np.ones(B, dtype=bool)
    for n in range(1, max_len + 1):
        logits, state = step(ids, state)
        logp = log_softmax(logits.astype(np.float64))
        logp[:, [PAD, SOS]] = -np.inf
        total, parent, token = beam_search_step(logp_sum, logp, 2 * k)  # 2k: up to k may end here
        new_sum = np.full((B, k), -np.inf)
        new_tokens = np.zeros((B, k, n), dtype=np.int64)
        choice = np.zeros((B, k), dtype=np.int64)
        for b in np.nonzero(open_)[0]:
            ended = _sort_candidates(total[b], parent[b], token[b], tokens[b], new_sum[b], new_tokens[b], choice[b])
            finished[b] += [Hypothesis(seq, logp / length_penalty_factor(n, length_penalty), logp) for seq, logp in ended]
            finished[b].sort(key=lambda h: -h.score)
            # Done with k finished hypotheses; without length normalisation, only once no open
            # beam can still beat the best of them (log-probabilities only fall as it grows).
            if len(finished[b]) >= k and (length_penalty > 0 or new_sum[b].max() <= finished[b][0].score):
                open_[b] = False
        if not open_.any():
            break
        logp_sum, tokens = new_sum, new_tokens
        rows = (np.arange(B)[:, None] * k + choice).reshape(-1)  # each new beam's parent row
        state = map_state(lambda a: a[rows], state)
        ids = new_tokens[:, :, -1].reshape(-1)
    for b in range(B):
        if open_[b] or not finished[b]:  # max_len reached: open beams count as finished
            n = tokens.shape[2]
            finished[b] += [Hypothesis(tokens[b, j].tolist(), logp_sum[b, j] / length_penalty_factor(n, length_penalty),
                                       logp_sum[b, j]) for j in range(k) if np.isfinite(logp_sum[b, j])]
            finished[b].sort(key=lambda h: -h.score)
    return finished
