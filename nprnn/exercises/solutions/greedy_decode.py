# nprnn exercise: greedy_decode
"""Greedy decoding, batched. Lesson: lessons/07_decoder.py.

At inference the decoder reads its own output: start every sentence from <sos>, and at each
step feed back the most likely next token, until the sentence says <eos> or max_len steps.

    ids = [<sos>] * B
    repeat up to max_len times:
        logits, state = step(ids, state)      logits (B, V): one step of the decoder, every row at once
        ids = argmax of each row, never <pad> or <sos> (they are never targets, so never outputs)
        a row that gives <eos> is finished; what finished rows give afterwards is ignored
    stop as soon as every row has finished

Token ids: <pad> 0, <sos> 1, <eos> 2. The result is one list of ints per row, without <sos>
and without <eos>. Rows are decoded together, one call of step per timestep for the whole batch,
and each row's result equals decoding that row alone.

Where it usually goes wrong: feeding the old ids (or <sos>) again instead of the new ones; not
passing the new state on; keeping <eos> in the output, or the tokens a row makes after it;
stopping the batch at the first <eos> instead of the last; an unmasked <pad> or <sos> winning.

Grade it:  nprnn exercise check greedy_decode.py
"""
import numpy as np

PAD, SOS, EOS = 0, 1, 2


def greedy_decode(step, state, batch_size, max_len):
    """Decode batch_size rows from <sos> with step(ids (B,) ints, state) -> (logits (B, V), state).

    state: the decoder's initial state (anything step accepts). Returns a list of B lists of ints.
    """
    ids = np.full(batch_size, SOS)
    out = [[] for _ in range(batch_size)]
    done = np.zeros(batch_size, dtype=bool)
    for _ in range(max_len):
        logits, state = step(ids, state)
        scores = logits.copy()  # not the caller's array: it may be kept
        scores[:, [PAD, SOS]] = -np.inf  # never output <pad> or <sos>
        ids = scores.argmax(axis=1)  # the most likely next token of every row
        for b in range(batch_size):
            if not done[b] and ids[b] != EOS:
                out[b].append(int(ids[b]))
        done = done | (ids == EOS)
        if done.all():  # every row has said <eos>
            break
    return out
