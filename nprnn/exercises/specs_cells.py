"""The one-timestep exercises: the RNN step forward and backward, the embedding's scatter-add,
the LSTM step forward and backward, the GRU step backward.

Each is graded against nprnn's own `RNNCell`, `LSTMCell`, `GRUCell` and `Embedding` with the
case's weights loaded into them, and (backward) against centred differences of the same.
"""
import numpy as np

from ..cells import GRUCell, LSTMCell, RNNCell
from ..layers import Embedding
from .base import Case, Exercise, Output, finite_differences, label, size_tags, sweep, weighted_sum

PARAMS = ("Wx", "Wh", "bx", "bh")

# ---- cases -------------------------------------------------------------------------------------

# A seeded sweep of shapes, then the edges: everything 1, a batch of one, a square B == D == H
# (where a missing or extra transpose still has the right shape), B larger than H.
CELL_EDGES = [dict(B=1, D=1, H=1), dict(B=1, D=3, H=2), dict(B=3, D=3, H=3), dict(B=5, D=2, H=1)]


def cell_cases(seed, gates, lstm=False):
    """Cases for one step of a cell with `gates` blocks: x, the state, the weights, and the
    gradients arriving from above (dh, and dc for an LSTM)."""
    cases = []
    for n, s in enumerate(sweep(seed, 4, B=(1, 4), D=(1, 5), H=(1, 5)) + CELL_EDGES):
        rng = np.random.default_rng(1000 * seed + n)
        B, D, H = s["B"], s["D"], s["H"]
        normal = lambda *shape, scale=1.0: scale * rng.standard_normal(shape)  # noqa: E731
        inputs = dict(x=normal(B, D), h_prev=normal(B, H))
        if lstm:
            inputs["c_prev"] = normal(B, H)
        inputs.update(Wx=normal(D, gates * H, scale=0.6), Wh=normal(H, gates * H, scale=0.6),
                      bx=normal(gates * H, scale=0.3), bh=normal(gates * H, scale=0.3), dh=normal(B, H))
        if lstm:
            inputs["dc"] = normal(B, H)
        cases.append(Case(label(**s), inputs, size_tags(**s)))
    return cases


def load_cell(Cell, inputs):
    """A cell of nprnn holding the case's weights (copied in)."""
    D, H = inputs["Wx"].shape[0], inputs["Wh"].shape[0]
    cell = Cell(D, H, rng=0)
    for k in PARAMS:
        cell.params[k][...] = inputs[k]
    return cell


def state_of(inputs):
    return (inputs["h_prev"], inputs["c_prev"]) if "c_prev" in inputs else inputs["h_prev"]


def cell_forward(Cell, inputs):
    """nprnn's forward of one step on the case: the new state, h or (h, c)."""
    state, _ = load_cell(Cell, inputs).forward(inputs["x"], state_of(inputs))
    return state


def cell_backward(Cell, inputs):
    """nprnn's gradients of one step: {dx, dh_prev, (dc_prev,) dWx, dWh, dbx, dbh}."""
    cell = load_cell(Cell, inputs)
    state, cache = cell.forward(inputs["x"], state_of(inputs))
    lstm = isinstance(state, tuple)
    dx, dprev = cell.backward((inputs["dh"], inputs["dc"]) if lstm else inputs["dh"], cache)
    out = {"dx": dx, "dh_prev": dprev[0] if lstm else dprev}
    if lstm:
        out["dc_prev"] = dprev[1]
    out.update({f"d{k}": cell.grads[k].copy() for k in PARAMS})
    return out


def cell_numeric(Cell, inputs):
    """Centred differences of sum(h * dh) (+ sum(c * dc)) through nprnn's forward."""
    wrt = {"dx": "x", "dh_prev": "h_prev", **{f"d{k}": k for k in PARAMS}}
    if "c_prev" in inputs:
        wrt["dc_prev"] = "c_prev"
        weights = (inputs["dh"], inputs["dc"])
        loss = lambda: weighted_sum(cell_forward(Cell, inputs), weights)  # noqa: E731
    else:
        loss = lambda: weighted_sum([cell_forward(Cell, inputs)], [inputs["dh"]])  # noqa: E731
    return finite_differences(loss, inputs, wrt)


def weight_args(i):
    return i["Wx"], i["Wh"], i["bx"], i["bh"]


# ---- hints shared by the three cells -----------------------------------------------------------

BIAS_HINT = "both biases were added to a, so dbx = dbh = da summed over the batch (axis=0), shape ({})"


def step_outputs(G, blocks, da, dx_hint=None):
    """The gradient outputs every cell has, with hints naming the cell's own da."""
    GH = f"{G}H" if G > 1 else "H"
    return (
        Output("dx", dx_hint or f"dx = {da} @ Wx.T: is {da} right, and is it Wx.T, shape (B, D)?", wrt="x"),
        Output("dh_prev", f"dh_prev = {da} @ Wh.T (Wh met h_prev)", wrt="h_prev"),
        Output("dWx", f"dWx = x.T @ {da}, which sums over the batch: shape (D, {GH})", wrt="Wx", blocks=blocks),
        Output("dWh", f"dWh sums h_prev^T @ {da} over the batch: did you use h instead of h_prev?", wrt="Wh",
               blocks=blocks),
        Output("dbx", BIAS_HINT.format(GH), wrt="bx", blocks=blocks),
        Output("dbh", BIAS_HINT.format(GH), wrt="bh", blocks=blocks),
    )


# ---- the exercises -----------------------------------------------------------------------------


def _run_rnn_forward(ns, i):
    return ns.rnn_step_forward(i["x"], i["h_prev"], *weight_args(i))


def _run_rnn_backward(ns, i):
    h, cache = ns.rnn_step_forward(i["x"], i["h_prev"], *weight_args(i))
    return ns.rnn_step_backward(i["dh"], cache)


RNN_STEP_FORWARD = Exercise(
    name="rnn_step_forward",
    description="one timestep of a plain RNN: h = tanh(x Wx + bx + h_prev Wh + bh)",
    lesson="lessons/01_one_timestep.py",
    todo=("rnn_step_forward",),
    given=(),
    returns=("h", "cache"),
    outputs=(Output("h", "h = tanh(x @ Wx + bx + h_prev @ Wh + bh): both matmuls with the weights on the right, "
                         "both biases, then tanh"),),
    cases=lambda: cell_cases(1, 1),
    reference=lambda c: {"h": cell_forward(RNNCell, c.inputs)},
    run=_run_rnn_forward,
)

RNN_STEP_BACKWARD = Exercise(
    name="rnn_step_backward",
    description="the RNN step's backward pass: dx, dh_prev and the four weight gradients",
    lesson="lessons/01_one_timestep.py",
    todo=("rnn_step_backward",),
    given=("rnn_step_forward",),
    returns=("dx", "dh_prev", "dWx", "dWh", "dbx", "dbh"),
    outputs=step_outputs(1, None, "da"),
    all_wrong_hint="every gradient is wrong, so the da they share is: da = dh * (1 - h**2), tanh' written "
                   "with the output h",
    cases=lambda: cell_cases(2, 1),
    reference=lambda c: cell_backward(RNNCell, c.inputs),
    numeric=lambda c: cell_numeric(RNNCell, c.inputs),
    run=_run_rnn_backward,
)


def embedding_cases():
    """ids with repeats, <pad>, all <pad>, one id everywhere, distinct ids; V small so ids repeat."""
    specs = [  # (T, B, V, E, what)
        (4, 3, 5, 3, "random"), (5, 2, 4, 2, "random"), (3, 4, 9, 4, "random"), (1, 1, 3, 2, "random"),
        (3, 2, 4, 3, "all pad"), (4, 2, 6, 2, "one id"), (1, 4, 6, 3, "distinct"), (2, 3, 8, 2, "distinct+pad"),
        (3, 3, 5, 3, "no padding_idx"), (6, 1, 7, 1, "1-D ids"),
    ]
    cases = []
    for n, (T, B, V, E, what) in enumerate(specs):
        rng = np.random.default_rng(300 + n)
        ids = rng.integers(0, V, size=(T, B))
        if what == "all pad":
            ids[:] = 0
        elif what == "one id":
            ids[:] = 3
        elif what.startswith("distinct"):
            ids = rng.permutation(np.arange(1, V))[: T * B].reshape(T, B)
            if what.endswith("pad"):
                ids[-1, :] = 0
        elif what == "1-D ids":
            ids = ids[:, 0]
        padding_idx = None if what == "no padding_idx" else 0
        real = ids.ravel() if padding_idx is None else ids.ravel()[ids.ravel() != padding_idx]
        tags = {"B=1"} if ids.ndim == 2 and B == 1 else set()
        if len(set(real.tolist())) < real.size:
            tags.add("repeated ids")
        if padding_idx is not None and (ids == 0).any():
            tags.add("<pad> ids")
        if what in ("all pad", "no padding_idx", "1-D ids"):
            tags.add(what)
        inputs = dict(ids=ids, W=rng.standard_normal((V, E)), padding_idx=padding_idx,
                      dout=rng.standard_normal((*ids.shape, E)))
        cases.append(Case(f"ids {ids.shape} V={V} E={E}" + ("" if what == "random" else f" ({what})"), inputs,
                          frozenset(tags)))
    return cases


def _embedding(inputs):
    V, E = inputs["W"].shape
    emb = Embedding(V, E, padding_idx=inputs["padding_idx"], rng=0)
    emb.params["W"][...] = inputs["W"]
    return emb


def _embedding_reference(case):
    emb = _embedding(case.inputs)
    emb.forward(case.inputs["ids"])
    emb.backward(case.inputs["dout"])
    return {"dW": emb.grads["W"].copy()}


def _embedding_numeric(case):
    i = case.inputs
    loss = lambda: float(np.sum(_embedding(i).forward(i["ids"]) * i["dout"]))  # noqa: E731
    return finite_differences(loss, i, {"dW": "W"})


def _run_embedding(ns, i):
    out, cache = ns.embedding_forward(i["ids"], i["W"], i["padding_idx"])
    return ns.embedding_backward(i["dout"], cache)


EMBEDDING_BACKWARD = Exercise(
    name="embedding_backward",
    description="the embedding's gradient: a scatter-add over repeated ids, nothing for <pad>",
    lesson="lessons/02_words_to_vectors.py",
    todo=("embedding_backward",),
    given=("embedding_forward",),
    returns=("dW",),
    outputs=(Output("dW", "dW[k] adds dout at every position whose id is k (np.add.at(dW, ids, dout)); the "
                          "padding row gets nothing; dW has W's shape (V, E)", wrt="W",
                    tag_hints={"repeated ids": "dW[ids] += dout writes a repeated id once instead of adding it "
                                               "twice: np.add.at(dW, ids, dout) adds every one",
                               "<pad> ids": "<pad>'s output is a constant zero vector, so its row gets no "
                                            "gradient: leave out the positions where ids == padding_idx",
                               "no padding_idx": "with padding_idx None every id is a real word, 0 included",
                               "1-D ids": "ids can have any shape: flatten ids to (N,) and dout to (N, E)"}),),
    cases=embedding_cases,
    reference=_embedding_reference,
    numeric=_embedding_numeric,
    run=_run_embedding,
)

LSTM_BLOCKS = ("i", "f", "g", "o")
GRU_BLOCKS = ("r", "z", "n")


def _run_lstm_forward(ns, i):
    return ns.lstm_step_forward(i["x"], i["h_prev"], i["c_prev"], *weight_args(i))


def _lstm_forward_reference(case):
    h, c = cell_forward(LSTMCell, case.inputs)
    return {"h": h, "c": c}


def _run_lstm_backward(ns, i):
    h, c, cache = ns.lstm_step_forward(i["x"], i["h_prev"], i["c_prev"], *weight_args(i))
    return ns.lstm_step_backward(i["dh"], i["dc"], cache)


LSTM_STEP_FORWARD = Exercise(
    name="lstm_step_forward",
    description="one timestep of an LSTM: the gates i, f, g, o, the memory c and the state h",
    lesson="lessons/03_lstm_cell.py",
    todo=("lstm_step_forward",),
    given=(),
    returns=("h", "c", "cache"),
    outputs=(
        Output("h", "h = o * tanh(c), with o = sigmoid of a's last block a[:, 3H:4H]"),
        Output("c", "c = f * c_prev + i * g, the blocks of a in PyTorch's order i, f, g, o (H columns each); "
                    "g alone is a tanh"),
    ),
    all_wrong_hint="h is made from c, so fix c first: c = f * c_prev + i * g, with a = x @ Wx + bx + h_prev @ Wh "
                   "+ bh cut into the blocks i, f, g, o of H columns each, in that order; sigmoid for i, f, o, "
                   "tanh for g",
    cases=lambda: cell_cases(4, 4, lstm=True),
    reference=_lstm_forward_reference,
    run=_run_lstm_forward,
)

LSTM_STEP_BACKWARD = Exercise(
    name="lstm_step_backward",
    description="the LSTM step's backward pass, through the four gates and the memory",
    lesson="lessons/03_lstm_cell.py",
    todo=("lstm_step_backward",),
    given=("lstm_step_forward",),
    returns=("dx", "dh_prev", "dc_prev", "dWx", "dWh", "dbx", "dbh"),
    outputs=step_outputs(4, LSTM_BLOCKS, "da")[:2] + (
        Output("dc_prev", "dc_prev = dc_total * f, with dc_total = dc + dh * o * (1 - tanh(c)**2): the memory's "
                          "gradient comes from the next step and from h, and flows back through f alone",
               wrt="c_prev"),
    ) + step_outputs(4, LSTM_BLOCKS, "da")[2:],
    all_wrong_hint="every gradient is wrong, so the start is: dc_total = dc + dh * o * (1 - tanh(c)**2) "
                   "(c reaches the loss directly and through h)",
    block_hints={
        "i": "the i block: da_i = dc_total * g * i * (1 - i) (c = ... + i * g, i = sigmoid(a_i))",
        "f": "the f block: da_f = dc_total * c_prev * f * (1 - f) (c = f * c_prev + ..., f = sigmoid(a_f))",
        "g": "the g block: da_g = dc_total * i * (1 - g**2); g is the one gate made by tanh, not sigmoid",
        "o": "the o block: da_o = dh * tanh(c) * o * (1 - o) (h = o * tanh(c)); dc plays no part in it",
    },
    cases=lambda: cell_cases(5, 4, lstm=True),
    reference=lambda c: cell_backward(LSTMCell, c.inputs),
    numeric=lambda c: cell_numeric(LSTMCell, c.inputs),
    run=_run_lstm_backward,
)


def _run_gru_backward(ns, i):
    h, cache = ns.gru_step_forward(i["x"], i["h_prev"], *weight_args(i))
    return ns.gru_step_backward(i["dh"], cache)


_gru = step_outputs(3, GRU_BLOCKS, "dax", dx_hint="dx = dax @ Wx.T, dax = [dax_r, dax_z, dax_n]: the gradient "
                                                  "of ax = x @ Wx + bx")
GRU_STEP_BACKWARD = Exercise(
    name="gru_step_backward",
    description="the GRU step's backward pass, the reset gate applied after the hidden matmul",
    lesson="lessons/04_gru_cell.py",
    todo=("gru_step_backward",),
    given=("gru_step_forward",),
    returns=("dx", "dh_prev", "dWx", "dWh", "dbx", "dbh"),
    outputs=(
        _gru[0],
        Output("dh_prev", "dh_prev has two parts: dh * z directly (h = ... + z * h_prev) and dah @ Wh.T, "
                          "with dah's n block scaled by r (n = tanh(ax_n + r * ah_n))", wrt="h_prev"),
        _gru[2],
        Output("dWh", "dWh = h_prev.T @ dah, where dah = [dax_r, dax_z, dax_n * r]: ah_n is scaled by r before it "
                      "reaches n", wrt="Wh", blocks=GRU_BLOCKS),
        Output("dbx", "dbx = dax summed over the batch, dax = [dax_r, dax_z, dax_n]", wrt="bx", blocks=GRU_BLOCKS),
        Output("dbh", "dbh = dah summed over the batch, dah = [dax_r, dax_z, dax_n * r]: unlike an LSTM's, the GRU's "
                      "two bias gradients differ in the n block", wrt="bh", blocks=GRU_BLOCKS),
    ),
    all_wrong_hint="every gradient is wrong, so the start is: dn = dh * (1 - z), dz = dh * (h_prev - n), "
                   "dax_n = dn * (1 - n**2)",
    block_hints={
        "r": "the r block: dax_r = dah_r = dax_n * ah_n * r * (1 - r); r multiplies ah_n, the hidden share of n",
        "z": "the z block: dax_z = dah_z = dh * (h_prev - n) * z * (1 - z) (h = n + z * (h_prev - n))",
        "n": "the n block: dax_n = dh * (1 - z) * (1 - n**2) for Wx and bx, but r * dax_n for Wh and bh "
             "(n = tanh(ax_n + r * ah_n))",
    },
    cases=lambda: cell_cases(6, 3),
    reference=lambda c: cell_backward(GRUCell, c.inputs),
    numeric=lambda c: cell_numeric(GRUCell, c.inputs),
    run=_run_gru_backward,
)

EXERCISES = (RNN_STEP_FORWARD, RNN_STEP_BACKWARD, EMBEDDING_BACKWARD, LSTM_STEP_FORWARD, LSTM_STEP_BACKWARD,
             GRU_STEP_BACKWARD)
