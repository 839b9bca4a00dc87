"""What a failing line says: how far off the output is, which output is the culprit, what can be
seen to be wrong with it, and the hint aimed at it.

Seen to be wrong: NaN or inf; all zeros; the wrong sign; off by a constant factor; reversed;
wrong in some gate blocks only (an LSTM's i, f, g, o) or at some timesteps only; wrong only in
the cases with some property (padding, repeated ids, a batch of one...), which also picks the
sharper hint written for that property.
"""
import numpy as np

SAME = 1e-6  # two arrays this close (relative error) are taken for the same


def rel_error(a, b):
    """||a - b|| / (||a|| + ||b||), norm-wise, as nprnn.gradcheck.rel_error; but any non-finite
    value gives inf, and a norm under 1e-8 counts as zero (so rounding noise in a learner's
    answer where the true gradient is exactly zero, say the <pad> row, is not an error of 1)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return float("inf")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / max(denom, 1e-8))


def describe_failure(ex, verdict, rows, results, wrong):
    """The text of a FAIL line after the exercise's and output's names."""
    out = verdict.output
    culprit = _culprit(out.name, [o.name for o in ex.outputs], wrong)
    if verdict.shape_problem:
        return f"{verdict.shape_problem} — {culprit}; hint: {out.hint}"
    failing = verdict.failing
    pairs = [(results[n][out.name], rows[n][1][out.name]) for n in failing]  # (got, expected)
    if out.kind == "array":  # the worst case; of equally bad ones, the largest
        worst = max(failing, key=lambda n: (verdict.errors[n][0], np.size(rows[n][1][out.name])))
        e_ref, e_num = verdict.errors[worst]
        head = f"rel error {_num(e_ref)} vs reference" + ("" if e_num is None else
                                                           f", {_num(e_num)} vs finite differences")
        where = f"wrong in {len(failing)} of {len(rows)} cases, worst {rows[worst][0].label}"
        seen = _seen_in_arrays(out, pairs, (results[worst][out.name], rows[worst][1][out.name]))
        bad_blocks = _wrong_blocks(out, results[worst][out.name], rows[worst][1][out.name]) if out.blocks else []
    else:
        worst = failing[0]
        head = _exact_difference(out, *pairs[0])
        where = f"wrong in {len(failing)} of {len(rows)} cases, first {rows[worst][0].label}"
        seen = _seen_in_lists(*pairs[0]) if out.kind == "lists" else _seen_reversed(*pairs[0])
        bad_blocks = []
    tag = _telling_tag(out, [r[0] for r in rows], failing)
    if tag:
        seen.append(f"wrong only in the cases with {tag}")
    hint = (out.tag_hints.get(tag)
            or (ex.block_hints.get(bad_blocks[0]) if len(bad_blocks) == 1 else "")
            or (ex.all_wrong_hint if len(ex.outputs) > 1 and len(wrong) == len(ex.outputs) else "")
            or out.hint)
    seen_text = "".join(f"{s}; " for s in seen)
    return f"{head} ({where}) — {culprit}; {seen_text}hint: {hint}"


def _num(x):
    return "inf (NaN or inf in it)" if not np.isfinite(x) else f"{x:.2g}"


def _culprit(name, names, wrong):
    """'dWh wrong (dx, dh_prev right)' and its variants."""
    right = [n for n in names if n not in wrong]
    others = [n for n in wrong if n != name]
    if len(names) == 1:
        return f"{name} wrong"
    if not right:
        return f"{name} wrong, and so {'is' if len(others) == 1 else 'are'} {', '.join(others)}"
    also = f"; {', '.join(others)} wrong too" if others else ""
    return f"{name} wrong ({', '.join(right)} right{also})"


def _exact_difference(out, got, want):
    """How an integer output or a list of token ids differs from the reference, in words."""
    if out.kind == "lists":
        got_lists = as_lists(got)
        if got_lists is None:
            return f"is not a list of lists of ints (got {type(got).__name__})"
        if len(got_lists) != len(want):
            return f"has {len(got_lists)} rows, expected {len(want)} (one per row of the batch)"
        bad = [b for b, (g, w) in enumerate(zip(got_lists, want)) if g != w]
        b = bad[0]
        return f"{len(bad)} of {len(want)} rows differ (row {b}: got {got_lists[b]}, expected {want[b]})"
    try:
        arr = np.asarray(got)
    except (TypeError, ValueError):
        return f"is not an array (got {type(got).__name__})"
    if np.ndim(want) == 0:
        return f"got {got}, expected {want}"
    if arr.shape != np.shape(want):
        return f"has shape {arr.shape}, expected {np.shape(want)}"
    return f"{int(np.sum(arr != want))} of {arr.size} entries differ from the reference"


def _floats(value):
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _seen_in_arrays(out, pairs, worst):
    """What can be seen to be wrong with a float output: NaN, zeros, the sign or a constant
    factor (in every failing case), reversed, the wrong gate blocks or timesteps (worst case)."""
    arrays = [(_floats(g), np.asarray(w, dtype=np.float64)) for g, w in pairs]
    if any(g is None or g.shape != w.shape for g, w in arrays):
        return []
    if any(not np.all(np.isfinite(g)) for g, _ in arrays):
        return ["it holds NaN or inf"]
    if all(not np.any(g) for g, w in arrays) and any(np.any(w) for _, w in arrays):
        return ["it is all zeros"]
    # A constant factor says something only where there are two numbers or more to compare.
    comparable = [(g, w) for g, w in arrays if g.size > 1 and np.any(w)]
    scales = [float(np.sum(g * w) / np.sum(w * w)) for g, w in comparable]
    if comparable and all(rel_error(g, s * w) <= SAME for (g, w), s in zip(comparable, scales)):
        if all(abs(s + 1) < 1e-6 for s in scales):
            return ["it has the wrong sign"]
        if max(scales) - min(scales) < 1e-6 * max(1.0, abs(scales[0])):
            return [f"it is {scales[0]:.3g} times the right answer"]
        return [f"it is off by a factor that differs from case to case ({min(scales):.3g} to {max(scales):.3g})"]
    g, w = _floats(worst[0]), np.asarray(worst[1], dtype=np.float64)
    if g.ndim and g.shape[-1] > 1 and rel_error(g[..., ::-1], w) <= SAME:
        return ["it is the right answer in reverse order along the last axis"]
    seen = []
    bad = _wrong_blocks(out, g, w) if out.blocks else []
    if bad:
        good = [b for b in out.blocks if b not in bad]
        seen.append(f"wrong in gate block{'s' if len(bad) > 1 else ''} {', '.join(bad)}, right in {', '.join(good)}")
    if out.time_axis and g.ndim and g.shape[0] > 1:
        bad_t = [t for t in range(g.shape[0]) if rel_error(g[t], w[t]) > SAME]
        if 0 < len(bad_t) < g.shape[0]:
            good_t = [t for t in range(g.shape[0]) if t not in bad_t]
            seen.append(f"wrong at t = {', '.join(map(str, bad_t))}, right at t = {', '.join(map(str, good_t))}")
    return seen


def _wrong_blocks(out, got, want):
    """The gate blocks (along the last axis) in which got differs from want, when some are right."""
    g, w = _floats(got), np.asarray(want, dtype=np.float64)
    if g is None or g.shape != w.shape or not g.ndim or g.shape[-1] % len(out.blocks):
        return []
    parts = zip(out.blocks, np.split(g, len(out.blocks), axis=-1), np.split(w, len(out.blocks), axis=-1))
    bad = [name for name, gb, wb in parts if rel_error(gb, wb) > SAME]
    return bad if len(bad) < len(out.blocks) else []


def _seen_reversed(got, want):
    try:
        g = np.asarray(got)
        return (["it is the right answer in reverse order along the last axis: best first"]
                if g.ndim and g.shape == np.shape(want) and g.shape[-1] > 1 and np.array_equal(g[..., ::-1], want)
                else [])
    except (TypeError, ValueError):
        return []


def _seen_in_lists(got, want):
    """The first telling difference between decoded rows: an <eos> kept, <pad>/<sos> output, a
    row going on past its <eos> or stopping before it."""
    rows = as_lists(got)
    if rows is None or len(rows) != len(want):
        return []
    pairs = [(g, w) for g, w in zip(rows, want) if g != w]
    if any(2 in g for g, _ in pairs):
        return ["a row keeps its <eos> (id 2)"]
    if any(0 in g or 1 in g for g, _ in pairs):
        return ["<pad> (0) or <sos> (1) was output"]
    if any(len(g) > len(w) and g[: len(w)] == w for g, w in pairs):
        return ["a row goes on after its <eos>"]
    if any(len(g) < len(w) and w[: len(g)] == g for g, w in pairs):
        return ["a row stops before its own <eos>"]
    return []


def as_lists(value):
    """A list of lists of ints, or None when `value` is not one."""
    try:
        return [[int(t) for t in row] for row in value]
    except (TypeError, ValueError):
        return None


def _telling_tag(out, cases, failing):
    """The tag that every failing case carries while some case passes, if one does: the most
    specific one (carried by the fewest cases). Only tags that mean something for this output
    count (those it has a hint for, and a size of 1), lest a coincidence be reported."""
    if len(failing) == len(cases):
        return None
    shared = frozenset.intersection(*(cases[n].tags for n in failing))
    shared = {t for t in shared if t in out.tag_hints or t.endswith("=1")}
    if not shared:
        return None
    return min(sorted(shared), key=lambda t: sum(t in c.tags for c in cases))
