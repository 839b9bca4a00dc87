# nprnn exercise: beam_search_step
"""One step of beam search. Lesson: lessons/10_beam_search.py.

Each sentence keeps k hypotheses (beams), each with the sum of its tokens' log-probabilities.
One step extends every beam by every token and keeps the k best of the k * V candidates:

    total[b, j, v] = logp_sum[b, j] + logp[b, j, v]      beam j of sentence b, then token v
    keep, for each sentence b, the k largest total[b, j, v], best first:
        new_sum[b, n] = that total,  parent[b, n] = its j,  token[b, n] = its v

Shapes: logp_sum (B, k), logp (B, k, V) (log-probabilities of the next token for each beam)
-> new_sum (B, k) float, parent (B, k) int in 0..k-1, token (B, k) int in 0..V-1.

A beam with logp_sum -inf does not exist yet (at the first step only beam 0 is real, the others
are copies that must not be chosen), and a token with log-probability -inf is never chosen.
Ties go to the smaller (parent, token), as a stable sort of the flattened candidates gives.

Where it usually goes wrong: choosing the k best tokens of each beam separately (k * k
candidates, not the k best overall); parent and token from the flat index as index % k and
index // k (it is index // V and index % V); sorting ascending and keeping the k worst.

Grade it:  nprnn exercise check beam_search_step.py
"""
import numpy as np


def beam_search_step(logp_sum, logp):
    """logp_sum (B, k), logp (B, k, V) -> (new_sum (B, k), parent (B, k), token (B, k)), best first."""
    B, k, V = logp.shape
    total = (logp_sum[:, :, None] + logp).reshape(B, k * V)  # every beam times every next token
    best = np.argsort(-total, axis=1, kind="stable")[:, :k]  # the k largest, best first
    parent = best // V  # flat index = parent * V + token
    token = best % V
    new_sum = np.take_along_axis(total, best, axis=1)
    return new_sum, parent, token
