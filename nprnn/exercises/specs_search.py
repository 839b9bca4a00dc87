"""The decoding exercises: greedy decoding over a decoder `step`, and one step of beam search.

Neither has a gradient, so each is held against a reference written here the slow, obvious
way, independent of the solution's vectorised one: greedy decoding one row at a time (the
batched result must equal it, as nprnn's own greedy decoding does), and beam search by sorting
every (parent, token) candidate in Python.
"""
import numpy as np

from .base import Case, Exercise, Output

PAD, SOS, EOS = 0, 1, 2

# ---- greedy decoding ---------------------------------------------------------------------------


class ToyDecoder:
    """A tiny recurrent decoder to decode with, as the `step` function handed to the learner:

        h = tanh(E[ids] + h_prev @ W)      logits = h @ U + bias

    so the logits depend on both the ids fed back and the state passed on. It counts its calls,
    and refuses what a batched greedy decoder never does: ids that are not one int per row,
    a state of another shape, or more than max_len calls.
    """

    def __init__(self, weights, batch_size, max_len):
        self.E, self.W, self.U, self.bias = weights
        self.batch_size, self.max_len, self.calls = batch_size, max_len, 0

    def __call__(self, ids, state):
        self.calls += 1
        if self.calls > self.max_len:
            raise RuntimeError(f"step was called {self.calls} times, more than max_len = {self.max_len}")
        ids = np.asarray(ids)
        B, H = self.batch_size, self.W.shape[0]
        if ids.shape != (B,) or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"step takes ids of shape ({B},), one int per row, the whole batch at once; "
                             f"got shape {ids.shape} dtype {ids.dtype}")
        if not isinstance(state, np.ndarray) or state.shape != (B, H):
            raise ValueError(f"step takes the state it returned last, an array ({B}, {H}); "
                             f"got {getattr(state, 'shape', type(state).__name__)}")
        h = np.tanh(self.E[ids] + state @ self.W)
        return h @ self.U + self.bias, h


GREEDY_SPECS = [  # (B, max_len, V, H, eos bias, <pad>/<sos> bias)
    (3, 8, 8, 6, 1.0, 0.0), (4, 10, 9, 5, 0.6, 0.0), (1, 6, 7, 4, 1.2, 0.0), (5, 12, 10, 6, 0.4, 0.0),
    (4, 8, 8, 5, 0.8, 1.5), (2, 0, 6, 3, 1.0, 0.0), (3, 1, 7, 4, 0.5, 0.0), (2, 3, 6, 4, -4.0, 0.0),
]


def _toy_weights(n, V, H, eos_bias, special_bias):
    rng = np.random.default_rng(500 + n)
    bias = 0.3 * rng.standard_normal(V)
    bias[EOS] += eos_bias
    bias[[PAD, SOS]] += special_bias  # tempting <pad> and <sos>: a decoder must never output them
    return (1.5 * rng.standard_normal((V, H)), 0.8 * rng.standard_normal((H, H)),
            1.5 * rng.standard_normal((H, V)), bias)


def decode_alone(weights, h0, max_len):
    """The reference: one row decoded by itself, the plain way -> (ids, steps it took, whether an
    unmasked <pad> or <sos> would have won a step)."""
    step = ToyDecoder(weights, 1, max_len)
    ids, state, out, tempted = np.array([SOS]), h0[None, :], [], False
    for n in range(max_len):
        logits, state = step(ids, state)
        tempted |= int(logits[0].argmax()) in (PAD, SOS)
        logits[0, [PAD, SOS]] = -np.inf
        token = int(logits[0].argmax())
        if token == EOS:
            return out, n + 1, tempted
        out.append(token)
        ids = np.array([token])
    return out, max_len, tempted


def greedy_cases():
    """Batches whose rows end at different steps; rows that never end; max_len 0 and 1; one
    row alone; logits where an unmasked <pad> or <sos> would win."""
    cases = []
    for n, (B, max_len, V, H, eos_bias, special_bias) in enumerate(GREEDY_SPECS):
        weights = _toy_weights(n, V, H, eos_bias, special_bias)
        h0 = np.random.default_rng(600 + n).standard_normal((B, H))
        rows = [decode_alone(weights, h0[b], max_len) for b in range(B)]
        tags = {f"max_len={max_len}"} if max_len < 2 else set()
        if B == 1:
            tags.add("B=1")
        if any(steps == max_len and max_len > 0 and len(ids) == max_len for ids, steps, _ in rows):
            tags.add("a row that never says <eos>")
        if len({steps for _, steps, _ in rows}) > 1:
            tags.add("rows ending at different steps")
        if any(tempted for _, _, tempted in rows):
            tags.add("<pad>/<sos> would win unmasked")
        inputs = dict(step=ToyDecoder(weights, B, max_len), state=h0, batch_size=B, max_len=max_len)
        cases.append(Case(f"B={B} max_len={max_len} V={V}", inputs, frozenset(tags)))
    return cases


def _greedy_reference(case):
    i = case.inputs
    rows = [decode_alone((i["step"].E, i["step"].W, i["step"].U, i["step"].bias), i["state"][b], i["max_len"])
            for b in range(i["batch_size"])]
    return {"ids": [ids for ids, _, _ in rows], "steps": max([steps for _, steps, _ in rows], default=0)}


GREEDY = Exercise(
    name="greedy_decode",
    description="greedy decoding of a batch from <sos> until <eos>, over a decoder step function",
    lesson="lessons/07_decoder.py",
    todo=("greedy_decode",),
    given=(),
    returns=("ids",),
    outputs=(
        Output("ids", "start every row from <sos>; at each step feed back the argmax ids and the state step "
                      "returned; never output <pad> or <sos>; leave out <eos> and whatever a row makes after it",
               kind="lists",
               tag_hints={"<pad>/<sos> would win unmasked": "set the logits of <pad> (0) and <sos> (1) to -inf "
                                                             "before the argmax: they are never targets",
                          "rows ending at different steps": "a finished row's later tokens are ignored; the "
                                                            "batch goes on until every row has said <eos>"}),
        Output("steps", "call step once per timestep for the whole batch, and stop as soon as every row has "
                        "said <eos> (or after max_len steps)", kind="exact"),
    ),
    cases=greedy_cases,
    reference=_greedy_reference,
    run=lambda ns, i: ns.greedy_decode(i["step"], i["state"], i["batch_size"], i["max_len"]),
    observe=lambda i: {"steps": i["step"].calls},
)

# ---- one step of beam search -------------------------------------------------------------------

BEAM_SPECS = [  # (B, k, V, what)
    (2, 3, 7, "random"), (3, 2, 6, "random"), (1, 4, 8, "random"), (2, 3, 9, "first step"),
    (3, 1, 5, "k=1"), (1, 2, 4, "first step"), (2, 4, 10, "random"),
]


def log_softmax(z):
    """log softmax along the last axis."""
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def beam_cases():
    """Running sums (beams sorted best first) and next-token log-probabilities with <pad> and
    <sos> at -inf; the first step, where only beam 0 exists; one beam (greedy); one sentence."""
    cases = []
    for n, (B, k, V, what) in enumerate(BEAM_SPECS):
        rng = np.random.default_rng(400 + n)
        logp_sum = -np.sort(rng.uniform(0.0, 6.0, size=(B, k)), axis=1)
        if what == "first step":
            logp_sum[:, 0], logp_sum[:, 1:] = 0.0, -np.inf
        logp = log_softmax(2.0 * rng.standard_normal((B, k, V)))
        logp[:, :, [PAD, SOS]] = -np.inf
        tags = {what} if what != "random" else set()
        if B == 1:
            tags.add("B=1")
        cases.append(Case(f"B={B} k={k} V={V}" + ("" if what == "random" else f" ({what})"),
                          dict(logp_sum=logp_sum, logp=logp), frozenset(tags)))
    return cases


def _beam_reference(case):
    """Every candidate (score, parent, token) of each sentence sorted in Python: best score
    first, ties to the smaller (parent, token)."""
    logp_sum, logp = case.inputs["logp_sum"], case.inputs["logp"]
    B, k, V = logp.shape
    best = [sorted((-(logp_sum[b, j] + logp[b, j, v]), j, v) for j in range(k) for v in range(V))[:k]
            for b in range(B)]
    return {"new_sum": np.array([[-s for s, _, _ in row] for row in best]),
            "parent": np.array([[j for _, j, _ in row] for row in best]),
            "token": np.array([[v for _, _, v in row] for row in best])}


BEAM = Exercise(
    name="beam_search_step",
    description="one step of beam search: the k best (parent, token) pairs of every sentence",
    lesson="lessons/10_beam_search.py",
    todo=("beam_search_step",),
    given=(),
    returns=("new_sum", "parent", "token"),
    outputs=(
        Output("new_sum", "total = logp_sum[:, :, None] + logp, flattened to (B, k * V) per sentence; keep its k "
                          "largest, largest first",
               tag_hints={"first step": "at the first step beams 1..k-1 have logp_sum -inf: they must never be "
                                        "chosen; take the k best over every beam and token together"}),
        Output("parent", "the flat index of a candidate is parent * V + token, so parent = index // V",
               kind="exact"),
        Output("token", "the flat index of a candidate is parent * V + token, so token = index % V", kind="exact"),
    ),
    all_wrong_hint="all three are wrong, so the candidates are: total = logp_sum[:, :, None] + logp, reshaped to "
                   "(B, k * V), and the k largest of each row, best first",
    cases=beam_cases,
    reference=_beam_reference,
    run=lambda ns, i: ns.beam_search_step(i["logp_sum"], i["logp"]),
)

EXERCISES = (GREEDY, BEAM)
