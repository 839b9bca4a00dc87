import numpy as np
import pytest

from nprnn import LSTMCell, Recurrent
from nprnn.gradcheck import check_recurrent

from .reference import loop_reference

BAR = 1e-7


def parts(state):
    return state if isinstance(state, tuple) else (state,)


def random_state(cell, B, rng):
    s = cell.initial_state(B)
    return tuple(rng.standard_normal(p.shape) for p in s) if isinstance(s, tuple) else rng.standard_normal(s.shape)


@pytest.mark.parametrize("lengths", [None, [7, 3, 1, 7], [0, 5, 7, 2]], ids=["full", "mixed", "with-empty"])
@pytest.mark.parametrize("initial_state", [True, False], ids=["state0", "zeros"])
def test_bptt_gradients(make_cell, lengths, initial_state):
    rec = Recurrent(make_cell(3, 4, rng=2))
    report = check_recurrent(rec, T=7, batch_size=4, lengths=lengths, initial_state=initial_state, seed=5)
    assert "input:xs" in report and "cell.Wh" in report
    assert ("input:state0.h" in report) == initial_state
    assert max(report.values()) <= BAR, report


@pytest.mark.parametrize("with_state", [True, False])
def test_driver_equals_one_timestep_loop(make_cell, rng, with_state):
    cell = make_cell(3, 5, rng=0)
    rec = Recurrent(cell)
    T, B = 6, 4
    lengths = np.array([6, 2, 0, 5])
    xs = rng.standard_normal((T, B, 3))
    state0 = random_state(cell, B, rng) if with_state else None
    dhs = rng.standard_normal((T, B, 5))
    dstate = random_state(cell, B, rng)

    ref_hs, ref_final, ref_dxs, ref_d0, ref_grads = loop_reference(cell, xs, state0, lengths, dhs, dstate)
    cell.zero_grad()
    hs, final = rec.forward(xs, state0, lengths)
    dxs, d0 = rec.backward(dhs, dstate)

    np.testing.assert_allclose(hs, ref_hs, rtol=0, atol=1e-12)
    for a, b in zip(parts(final), parts(ref_final)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dxs, ref_dxs, rtol=0, atol=1e-12)
    for a, b in zip(parts(d0), parts(ref_d0)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    for k, g in ref_grads.items():
        np.testing.assert_allclose(cell.grads[k], g, rtol=0, atol=1e-12)


def test_padding_outputs_are_zero_and_state_freezes(rng):
    cell = LSTMCell(3, 4, rng=0)
    rec = Recurrent(cell)
    xs = rng.standard_normal((5, 2, 3))
    hs, (h, c) = rec.forward(xs, lengths=[5, 2])
    assert not hs[2:, 1].any()
    assert np.abs(hs[:2, 1]).min() > 0
    np.testing.assert_array_equal(h[1], hs[1, 1])  # the final state is the state at step 2
    short_hs, (short_h, short_c) = Recurrent(cell).forward(xs[:2, 1:], lengths=None)
    np.testing.assert_allclose(short_c[0], c[1], atol=1e-15)


def test_garbage_in_padding_changes_nothing(make_cell, rng):
    cell = make_cell(3, 4, rng=0)
    rec = Recurrent(cell)
    lengths = [4, 2, 3]
    xs = rng.standard_normal((4, 3, 3))
    dhs = rng.standard_normal((4, 3, 4))
    noisy_xs, noisy_dhs = xs.copy(), dhs.copy()
    for b, n in enumerate(lengths):
        noisy_xs[n:, b] = 1e3 * rng.standard_normal(noisy_xs[n:, b].shape)
        noisy_dhs[n:, b] = 1e3

    results = []
    for x, dh in ((xs, dhs), (noisy_xs, noisy_dhs)):
        cell.zero_grad()
        hs, final = rec.forward(x, lengths=lengths)
        dxs, d0 = rec.backward(dh)
        results.append((hs, parts(final), dxs, parts(d0), {k: g.copy() for k, g in cell.grads.items()}))
    (hs_a, fa, dxa, da, ga), (hs_b, fb, dxb, db, gb) = results
    np.testing.assert_array_equal(hs_a, hs_b)
    for a, b in zip(fa + da, fb + db):
        np.testing.assert_array_equal(a, b)
    for b, n in enumerate(lengths):
        np.testing.assert_array_equal(dxa[:n, b], dxb[:n, b])
        assert not dxb[n:, b].any()  # no gradient reaches a padded step
    for k in ga:
        np.testing.assert_array_equal(ga[k], gb[k])


def test_backward_needs_a_forward(rng):
    rec = Recurrent(LSTMCell(3, 4))
    with pytest.raises(RuntimeError, match="forward first"):
        rec.backward(np.zeros((2, 1, 4)))
    rec.forward(rng.standard_normal((2, 1, 3)))
    rec.backward(np.zeros((2, 1, 4)))
    with pytest.raises(RuntimeError, match="forward first"):
        rec.backward(np.zeros((2, 1, 4)))


def test_params_are_the_cells_under_dotted_names():
    cell = LSTMCell(3, 4)
    rec = Recurrent(cell)
    assert set(rec.params) == {"cell.Wx", "cell.Wh", "cell.bx", "cell.bh"}
    assert rec.params["cell.Wh"] is cell.params["Wh"]
    assert rec.grads["cell.Wh"] is cell.grads["Wh"]
