"""Property tests: every shape, batch size, length and cell, not just the ones we thought of."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nprnn import Recurrent
from nprnn.gradcheck import check_cell, check_recurrent

from .conftest import CELL_FACTORIES
from .reference import loop_reference

BAR = 1e-7


@st.composite
def problems(draw):
    """A cell kind, sizes, a padded batch and its lengths."""
    T = draw(st.integers(1, 8))
    B = draw(st.integers(1, 5))
    return dict(
        kind=draw(st.sampled_from(sorted(CELL_FACTORIES))),
        T=T,
        B=B,
        D=draw(st.integers(1, 7)),
        H=draw(st.integers(1, 7)),
        lengths=np.array(draw(st.lists(st.integers(0, T), min_size=B, max_size=B))),
        with_state=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


def make(p):
    return CELL_FACTORIES[p["kind"]](p["D"], p["H"], rng=p["seed"])


@settings(max_examples=25)
@given(problems())
def test_cell_gradients(p):
    report = check_cell(make(p), batch_size=p["B"], seed=p["seed"])
    assert max(report.values()) <= BAR, report


@settings(max_examples=25)
@given(problems())
def test_bptt_gradients(p):
    rec = Recurrent(make(p))
    report = check_recurrent(
        rec, T=p["T"], batch_size=p["B"], lengths=p["lengths"], initial_state=p["with_state"], seed=p["seed"]
    )
    assert max(report.values()) <= BAR, report


def _parts(state):
    return state if isinstance(state, tuple) else (state,)


@settings(max_examples=60)
@given(problems())
def test_driver_equals_loop_and_padding_changes_nothing(p):
    rng = np.random.default_rng(p["seed"])
    cell = make(p)
    T, B, D, H, lengths = p["T"], p["B"], p["D"], p["H"], p["lengths"]
    xs = rng.standard_normal((T, B, D))
    dhs = rng.standard_normal((T, B, H))
    zeros = cell.initial_state(B)
    random_like = lambda s: tuple(rng.standard_normal(a.shape) for a in _parts(s))  # noqa: E731
    state0 = random_like(zeros) if p["with_state"] else None
    if state0 is not None and not isinstance(zeros, tuple):
        state0 = state0[0]
    dstate = random_like(zeros)
    dstate = dstate if isinstance(zeros, tuple) else dstate[0]

    hs_ref, final_ref, dxs_ref, d0_ref, grads_ref = loop_reference(cell, xs, state0, lengths, dhs, dstate)

    # The driver sees garbage in every padded position; the reference never saw them at all.
    pad = np.arange(T)[:, None] >= lengths[None, :]
    xs_noisy, dhs_noisy = xs.copy(), dhs.copy()
    xs_noisy[pad] = 50.0
    dhs_noisy[pad] = -50.0
    cell.zero_grad()
    rec = Recurrent(cell)
    hs, final = rec.forward(xs_noisy, state0, lengths)
    dxs, d0 = rec.backward(dhs_noisy, dstate)

    np.testing.assert_allclose(hs, hs_ref, rtol=0, atol=1e-12)
    assert not hs[pad].any() and not dxs[pad].any()
    np.testing.assert_allclose(dxs, dxs_ref, rtol=0, atol=1e-12)
    for a, b in zip(_parts(final) + _parts(d0), _parts(final_ref) + _parts(d0_ref)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    for k, g in grads_ref.items():
        np.testing.assert_allclose(cell.grads[k], g, rtol=0, atol=1e-12)
