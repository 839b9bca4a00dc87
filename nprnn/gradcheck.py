"""Check hand-written gradients against centred finite differences.

    df/dx[k]  ~  (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)

The error of that estimate is O(eps^2), so in float64 with eps = 1e-6 a correct backward pass
agrees with it to about 1e-9 or better; a wrong one is off by O(1).

``check_module`` turns any module into a scalar function to differentiate: it runs the module,
takes the sum of every output times a fixed random weight (so every output element matters,
each differently), and compares the gradient of that sum w.r.t. every parameter (and every
input you name) with the numerical one.
"""
import numpy as np

from .checks import as_rng
from .recurrent import map_state


def rel_error(a, b):
    """Relative error of two arrays, ||a - b|| / (||a|| + ||b||), 0 when both are zero.

    Norm-wise rather than element by element: an element whose gradient is 1e-12 has only
    rounding noise for a relative error, and would fail any element-wise bar.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of one shape, got {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0.0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f, x, eps=1e-6):
    """Centred-difference gradient of the scalar f() w.r.t. the array x.

    x is nudged in place, one entry at a time, and restored; f must read x each time it runs.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        k = it.multi_index
        old = x[k].copy()
        x[k] = old + eps
        f_plus = f()
        x[k] = old - eps
        f_minus = f()
        x[k] = old
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad


def _flatten(tree):
    """The arrays of a nested tuple/list of arrays, in order."""
    if isinstance(tree, (tuple, list)):
        return [a for sub in tree for a in _flatten(sub)]
    return [tree]


def _unflatten(tree, arrays):
    """Arrays poured back into the form of `tree` (inverse of `_flatten`)."""
    it = iter(arrays)

    def build(node):
        if isinstance(node, (tuple, list)):
            return type(node)(build(sub) for sub in node)
        return next(it)

    return build(tree)


def check_module(module, forward, backward, inputs=None, *, eps=1e-6, seed=0):
    """Relative error of every gradient of `module` (and of `inputs`), as {name: error}.

    forward():       runs the module on its inputs; returns an array or a nested tuple of arrays
    backward(douts): given the gradients of those outputs (same form), runs the module's backward
                     and returns {name: gradient} for each array named in `inputs`
    inputs:          {name: array} of inputs to check too (they are nudged in place)

    Parameters are reported by their names in ``module.params``; inputs as ``input:<name>``.
    """
    inputs = inputs or {}
    rng = as_rng(seed)
    weights = [rng.standard_normal(np.shape(a)) for a in _flatten(forward())]

    def loss():
        return sum(float(np.sum(a * w)) for a, w in zip(_flatten(forward()), weights))

    module.zero_grad()
    outputs = forward()
    douts = _unflatten(outputs, [w.astype(np.asarray(a).dtype) for a, w in zip(_flatten(outputs), weights)])
    input_grads = backward(douts) or {}
    analytic = {k: g.copy() for k, g in module.grads.items()}
    report = {}
    for name, p in module.params.items():
        report[name] = rel_error(analytic[name], numerical_gradient(loss, p, eps))
    for name, x in inputs.items():
        if name not in input_grads:
            raise ValueError(f"backward returned no gradient for input {name!r}")
        report[f"input:{name}"] = rel_error(input_grads[name], numerical_gradient(loss, x, eps))
    return report


def format_report(rows, bar):
    """A text table of (what, name, error) rows, each marked ok or FAIL against `bar`."""
    width = max([len(w) for w, _, _ in rows] + [4])
    nwidth = max([len(n) for _, n, _ in rows] + [9])
    lines = [f"{'what':<{width}}  {'parameter':<{nwidth}}  {'rel error':>9}", "-" * (width + nwidth + 18)]
    for what, name, err in rows:
        lines.append(f"{what:<{width}}  {name:<{nwidth}}  {err:9.2e}  {'ok' if err <= bar else 'FAIL'}")
    return "\n".join(lines)


# ---- ready-made checks of nprnn's own modules (used by `nprnn gradcheck` and the tests) ------


def _random_state(cell, batch_size, rng):
    """A random state of the cell's form: h, or (h, c)."""
    return map_state(lambda zeros: rng.standard_normal(zeros.shape), cell.initial_state(batch_size))


def _state_inputs(prefix, state):
    """{name: array} for a state: h, or h and c."""
    return dict(zip((f"{prefix}h", f"{prefix}c"), state if isinstance(state, tuple) else (state,)))


def check_cell(cell, batch_size=3, *, seed=0):
    """Gradient check of one timestep of a float64 cell: every parameter, x and the state."""
    rng = as_rng(seed)
    x = rng.standard_normal((batch_size, cell.input_size))
    state = _random_state(cell, batch_size, rng)
    tape = {}

    def forward():
        new_state, tape["cache"] = cell.forward(x, state)
        return new_state

    def backward(dstate):
        dx, dstate_prev = cell.backward(dstate, tape["cache"])
        return {"x": dx, **_state_inputs("state.", dstate_prev)}

    return check_module(cell, forward, backward, {"x": x, **_state_inputs("state.", state)}, seed=seed)


def check_recurrent(rec, T=6, batch_size=3, *, lengths=None, initial_state=True, seed=0):
    """Gradient check of `Recurrent` over T steps: every parameter, the inputs and the state."""
    rng = as_rng(seed)
    xs = rng.standard_normal((T, batch_size, rec.cell.input_size))
    state = _random_state(rec.cell, batch_size, rng) if initial_state else None
    inputs = {"xs": xs, **(_state_inputs("state0.", state) if initial_state else {})}

    def forward():
        return rec.forward(xs, state, lengths)

    def backward(douts):
        dhs, dstate = douts
        dxs, dstate0 = rec.backward(dhs, dstate)
        return {"xs": dxs, **_state_inputs("state0.", dstate0)}

    return check_module(rec, forward, backward, inputs, seed=seed)


def check_cross_entropy(T=4, batch_size=3, V=5, *, seed=0):
    """Gradient check of the masked cross-entropy w.r.t. the logits (some targets padding)."""
    from .layers import cross_entropy

    rng = as_rng(seed)
    logits = rng.standard_normal((T, batch_size, V))
    targets = rng.integers(1, V, size=(T, batch_size))
    targets[T // 2 :, 0] = 0  # padding at the end of the first sequence
    _, dlogits = cross_entropy(logits, targets)
    numeric = numerical_gradient(lambda: cross_entropy(logits, targets)[0], logits)
    return {"input:logits": rel_error(dlogits, numeric)}


def standard_checks(seed=0):
    """Yield (what, report) for every cell, `Recurrent` over each, and each layer, in float64."""
    from .cells import GRUCell, LSTMCell, RNNCell
    from .layers import Embedding, Linear
    from .recurrent import Recurrent

    variants = [
        ("RNNCell", lambda: RNNCell(4, 5, rng=seed)),
        ("LSTMCell", lambda: LSTMCell(4, 5, rng=seed)),
        ("GRUCell", lambda: GRUCell(4, 5, rng=seed)),
        ("GRUCell(reset_after=False)", lambda: GRUCell(4, 5, reset_after=False, rng=seed)),
    ]
    for name, make in variants:
        yield name, check_cell(make(), seed=seed)
    for name, make in variants:
        lengths = [6, 3, 0]  # a full sequence, a short one and an empty one
        yield f"Recurrent({name}), T=6", check_recurrent(Recurrent(make()), lengths=lengths, seed=seed)

    rng = as_rng(seed)
    emb = Embedding(7, 4, rng=seed)
    ids = rng.integers(0, 7, size=(5, 3))
    ids[-1] = 0  # padding
    yield "Embedding", check_module(emb, lambda: emb.forward(ids), lambda d: emb.backward(d), seed=seed)
    lin = Linear(4, 3, rng=seed)
    x = rng.standard_normal((5, 2, 4))
    yield "Linear", check_module(lin, lambda: lin.forward(x), lambda d: {"x": lin.backward(d)}, {"x": x}, seed=seed)
    yield "cross_entropy", check_cross_entropy(seed=seed)


def check_seq2seq(model, src, tgt, src_lengths=None, *, eps=1e-4):
    """Relative error of every gradient of a whole float64 model's mean loss, as {name: error}.

    eps is 1e-4 here: the mean over tokens makes the gradients small (1e-2, and 1e-5 for some
    attention weights of a tiny model), so rounding, which grows as 1/eps, would dominate at
    1e-6; the truncation error, which grows as eps^2, stays below 1e-7 at 1e-4.
    """
    model.zero_grad()
    model.loss(src, tgt, src_lengths)
    model.backward()
    analytic = {k: g.copy() for k, g in model.grads.items()}
    loss = lambda: model.loss(src, tgt, src_lengths)  # noqa: E731
    return {k: rel_error(analytic[k], numerical_gradient(loss, p, eps)) for k, p in model.params.items()}
