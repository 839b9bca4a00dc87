"""The exercises over whole sequences: backprop through time over a padded batch, the masked
softmax cross-entropy, attention with the general score.

Graded against nprnn's `Recurrent` (over an `RNNCell`), `cross_entropy` and `Attention`, and
against centred differences of the same.
"""
import numpy as np

from ..attention import Attention
from ..cells import RNNCell
from ..layers import cross_entropy
from ..recurrent import Recurrent
from .base import Case, Exercise, Output, finite_differences, label, size_tags, sweep, weighted_sum
from .specs_cells import PARAMS, load_cell

# ---- backprop through time ---------------------------------------------------------------------

BPTT_EDGES = [  # (T, B, D, H, lengths)
    (1, 1, 1, 1, [1]),
    (4, 3, 2, 3, [4, 2, 0]),
    (3, 2, 2, 2, [0, 0]),
    (5, 1, 3, 2, [5]),
    (6, 2, 2, 3, [6, 6]),
]


def bptt_cases():
    """A seeded sweep of T, B, D, H and lengths in 0..T, then the edges above. The gradient
    arriving at the padded outputs is random too: it must not reach anything."""
    specs = [(s["T"], s["B"], s["D"], s["H"], None) for s in sweep(7, 4, T=(1, 5), B=(1, 4), D=(1, 3), H=(1, 4))]
    cases = []
    for n, (T, B, D, H, lengths) in enumerate(specs + BPTT_EDGES):
        rng = np.random.default_rng(700 + n)
        lengths = rng.integers(0, T + 1, size=B) if lengths is None else np.array(lengths)
        normal = lambda *shape, scale=1.0: scale * rng.standard_normal(shape)  # noqa: E731
        inputs = dict(xs=normal(T, B, D), h0=normal(B, H), Wx=normal(D, H, scale=0.6), Wh=normal(H, H, scale=0.6),
                      bx=normal(H, scale=0.3), bh=normal(H, scale=0.3), lengths=lengths,
                      dhs=normal(T, B, H), dh_final=normal(B, H))
        tags = set(size_tags(T=T, B=B))
        tags.add("padding" if (lengths < T).any() else "no padding")
        if (lengths == 0).any():
            tags.add("a length 0")
        cases.append(Case(f"{label(T=T, B=B, D=D, H=H)} lengths={lengths.tolist()}", inputs, frozenset(tags)))
    return cases


def _recurrent_forward(i):
    rec = Recurrent(load_cell(RNNCell, i))
    hs, h_final = rec.forward(i["xs"], i["h0"], i["lengths"])
    return rec, hs, h_final


def _bptt_reference(case):
    i = case.inputs
    rec, _, _ = _recurrent_forward(i)
    dxs, dh0 = rec.backward(i["dhs"], i["dh_final"])
    return {"dxs": dxs, "dh0": dh0, **{f"d{k}": rec.cell.grads[k].copy() for k in PARAMS}}


def _bptt_numeric(case):
    i = case.inputs
    loss = lambda: weighted_sum(_recurrent_forward(i)[1:], (i["dhs"], i["dh_final"]))  # noqa: E731
    return finite_differences(loss, i, {"dxs": "xs", "dh0": "h0", **{f"d{k}": k for k in PARAMS}})


def _run_bptt(ns, i):
    hs, h_final, cache = ns.rnn_forward(i["xs"], i["h0"], i["Wx"], i["Wh"], i["bx"], i["bh"], i["lengths"])
    return ns.rnn_backward(i["dhs"], i["dh_final"], cache)


PADDING_HINT = ("past a sequence's end its output is a constant 0 and its state a copy: there dh + dhs[t] "
                "must be masked to 0 before the step, and dh passed straight through to t-1")
WEIGHT_HINT = "the same weights serve every timestep: add each step's gradient into a running sum (+=)"

BPTT = Exercise(
    name="bptt",
    description="backprop through time over a padded batch: lengths, frozen states, zero outputs",
    lesson="lessons/05_backprop_through_time.py",
    todo=("rnn_backward",),
    given=("rnn_step_forward", "rnn_step_backward", "rnn_forward"),
    returns=("dxs", "dh0", "dWx", "dWh", "dbx", "dbh"),
    outputs=(
        Output("dxs", "dxs[t] is the step's dx for dh_new = dh + dhs[t] (masked to 0 past the end), where dh "
                      "is what came back from step t+1", wrt="xs", time_axis=True, tag_hints={"padding": PADDING_HINT}),
        Output("dh0", "dh0 is the dh left after step 0: each step's dh_prev, plus the gradient a finished "
                      "sequence passed through", wrt="h0",
               tag_hints={"padding": PADDING_HINT,
                          "a length 0": "a sequence of length 0 never ran, so h_final is h0 and dh0 = dh_final: "
                                        "its gradient must pass through every step untouched"}),
        Output("dWx", WEIGHT_HINT, wrt="Wx", tag_hints={"padding": PADDING_HINT}),
        Output("dWh", WEIGHT_HINT + "; Wh met h_{t-1} at step t", wrt="Wh", tag_hints={"padding": PADDING_HINT}),
        Output("dbx", WEIGHT_HINT, wrt="bx", tag_hints={"padding": PADDING_HINT}),
        Output("dbh", WEIGHT_HINT, wrt="bh", tag_hints={"padding": PADDING_HINT}),
    ),
    all_wrong_hint="every gradient is wrong, so the loop is: walk t from T-1 down to 0, and at each step the "
                   "gradient reaching h_t is dh (from t+1, dh_final at first) plus dhs[t]",
    cases=bptt_cases,
    reference=_bptt_reference,
    numeric=_bptt_numeric,
    run=_run_bptt,
)

# ---- the masked softmax cross-entropy ----------------------------------------------------------

CE_SPECS = [  # (leading shape, V, what)
    ((3, 2), 5, "random"), ((4, 3), 3, "random"), ((2, 4), 6, "random"), ((5, 1), 4, "random"),
    ((1, 1), 2, "one token"), ((3, 3), 4, "no padding"), ((7,), 5, "2-D logits"), ((3, 2), 4, "ignore_index=None"),
]


def ce_cases():
    """Decoder-shaped (T, B, V) logits with padded targets, and the edges: one token, no padding,
    flat (N, V) logits, ignore_index None. dloss is not 1, so forgetting it shows."""
    cases = []
    for n, (lead, V, what) in enumerate(CE_SPECS):
        rng = np.random.default_rng(800 + n)
        targets = rng.integers(1, V, size=lead)
        if what not in ("one token", "no padding"):
            targets[-1] = 0  # the last position (step) is padding
            targets.reshape(-1)[rng.random(targets.size) < 0.2] = 0
            targets.reshape(-1)[0] = rng.integers(1, V)  # at least one real token
        ignore_index = None if what == "ignore_index=None" else 0
        tags = {what} if what != "random" else set()
        if ignore_index == 0 and (targets == 0).any():
            tags.add("padding")
        inputs = dict(logits=2 * rng.standard_normal((*lead, V)), targets=targets, ignore_index=ignore_index,
                      dloss=float(rng.uniform(0.5, 2.0)))
        cases.append(Case(f"logits {(*lead, V)}" + ("" if what == "random" else f" ({what})"), inputs,
                          frozenset(tags)))
    return cases


def _ce_loss(i):
    return cross_entropy(i["logits"], i["targets"], ignore_index=i["ignore_index"])


def _run_ce(ns, i):
    loss, cache = ns.softmax_cross_entropy_forward(i["logits"], i["targets"], i["ignore_index"])
    return ns.softmax_cross_entropy_backward(i["dloss"], cache)


CROSS_ENTROPY = Exercise(
    name="softmax_cross_entropy_backward",
    description="the masked softmax cross-entropy's gradient: softmax - onehot over the real tokens",
    lesson="lessons/07_decoder.py",
    todo=("softmax_cross_entropy_backward",),
    given=("softmax_cross_entropy_forward",),
    returns=("dlogits",),
    outputs=(Output("dlogits", "dlogits = dloss * (softmax - onehot(target)) / N at a real position, 0 at a "
                               "padded one, N the number of real positions", wrt="logits",
                    tag_hints={"padding": "at padding dlogits is 0, and the mean divides by the number of real "
                                          "positions, not by every position",
                               "2-D logits": "logits may be (N, V) as well as (T, B, V): work on the last axis, "
                                             "e.g. reshape to (-1, V) and back",
                               "ignore_index=None": "with ignore_index None every position is real"}),),
    cases=ce_cases,
    reference=lambda c: {"dlogits": c.inputs["dloss"] * _ce_loss(c.inputs)[1]},
    numeric=lambda c: finite_differences(lambda: c.inputs["dloss"] * _ce_loss(c.inputs)[0], c.inputs,
                                         {"dlogits": "logits"}),
    run=_run_ce,
)

# ---- attention ---------------------------------------------------------------------------------

ATTENTION_EDGES = [  # (T, S, B, Hq, Hk, source lengths)
    (1, 1, 1, 1, 1, [1]),
    (2, 3, 2, 3, 3, [3, 3]),
    (3, 4, 3, 2, 3, [4, 0, 2]),
    (2, 2, 1, 4, 2, [2]),
]


def attention_cases():
    """A seeded sweep of T, S, B, Hq, Hk and source lengths 1..S (the source padded after each
    sentence), then the edges: all ones, no padding, a source with no real token, B = 1."""
    specs = [(s["T"], s["S"], s["B"], s["Hq"], s["Hk"], None)
             for s in sweep(9, 4, T=(1, 3), S=(1, 4), B=(1, 3), Hq=(1, 4), Hk=(1, 4))]
    cases = []
    for n, (T, S, B, Hq, Hk, lengths) in enumerate(specs + ATTENTION_EDGES):
        rng = np.random.default_rng(900 + n)
        lengths = rng.integers(1, S + 1, size=B) if lengths is None else np.array(lengths)
        mask = np.arange(S)[:, None] < lengths[None, :]  # (S, B)
        normal = lambda *shape, scale=1.0: scale * rng.standard_normal(shape)  # noqa: E731
        inputs = dict(queries=normal(T, B, Hq), keys=normal(S, B, Hk), mask=mask, W_a=normal(Hk, Hq, scale=0.7),
                      W_c=normal(Hk + Hq, Hq, scale=0.7), b_c=normal(Hq, scale=0.3), dout=normal(T, B, Hq))
        tags = set(size_tags(T=T, S=S, B=B))
        tags.add("padding" if (lengths < S).any() else "no padding")
        if (lengths == 0).any():
            tags.add("an empty source")
        cases.append(Case(f"{label(T=T, S=S, B=B, Hq=Hq, Hk=Hk)} lengths={lengths.tolist()}", inputs,
                          frozenset(tags)))
    return cases


ATTENTION_PARAMS = ("W_a", "W_c", "b_c")


def _attention_forward(i):
    att = Attention(i["queries"].shape[2], i["keys"].shape[2], score="general", rng=0)
    for k in ATTENTION_PARAMS:
        att.params[k][...] = i[k]
    out, _ = att.forward(i["queries"], i["keys"], i["mask"])
    return att, out


def _attention_reference(case):
    att, _ = _attention_forward(case.inputs)
    dq, dk = att.backward(case.inputs["dout"])
    return {"dqueries": dq, "dkeys": dk, **{f"d{k}": att.grads[k].copy() for k in ATTENTION_PARAMS}}


def _attention_numeric(case):
    i = case.inputs
    loss = lambda: float(np.sum(_attention_forward(i)[1] * i["dout"]))  # noqa: E731
    return finite_differences(loss, i, {"dqueries": "queries", "dkeys": "keys",
                                        **{f"d{k}": k for k in ATTENTION_PARAMS}})


def _run_attention(ns, i):
    out, weights, cache = ns.attention_forward(i["queries"], i["keys"], i["mask"], i["W_a"], i["W_c"], i["b_c"])
    return ns.attention_backward(i["dout"], cache)


SOFTMAX_HINT = "the softmax's backward is de = w * (dw - sum_s(w * dw)), not dw * w"
ATTENTION = Exercise(
    name="attention_backward",
    description="attention's backward pass: the general score, the softmax, the context, the combine layer",
    lesson="lessons/09_attention.py",
    todo=("attention_backward",),
    given=("attention_forward",),
    returns=("dqueries", "dkeys", "dW_a", "dW_c", "db_c"),
    outputs=(
        Output("dqueries", "a query reaches out twice: directly, as the s half of [c; s] (dcs[..., Hk:]), and "
                           "through the scores, de @ KW; " + SOFTMAX_HINT, wrt="queries"),
        Output("dkeys", "a key reaches out twice: as a value in c = w @ K (w^T @ dc) and through KW = K @ W_a in "
                        "the scores ((de^T @ Q) @ W_a^T); " + SOFTMAX_HINT, wrt="keys",
               tag_hints={"an empty source": "a source with no real token gets weights 0 and context 0: nothing "
                                             "flows back to its keys"}),
        Output("dW_a", "dW_a = K^T dKW summed over every (b, s), with dKW = de^T @ Q; " + SOFTMAX_HINT, wrt="W_a"),
        Output("dW_c", "dW_c = [c; s]^T dz summed over every (b, t), dz = dout * (1 - out**2); cs is [c; s], "
                       "context first", wrt="W_c"),
        Output("db_c", "db_c = dz summed over every (b, t): dz.sum(axis=(0, 1))", wrt="b_c"),
    ),
    all_wrong_hint="every gradient is wrong, so dz is: dz = dout * (1 - out**2), with dout (T, B, Hq) "
                   "transposed to the cache's batch-first (B, T, Hq)",
    cases=attention_cases,
    reference=_attention_reference,
    numeric=_attention_numeric,
    run=_run_attention,
)

EXERCISES = (BPTT, CROSS_ENTROPY, ATTENTION)
