import numpy as np
import pytest

from nprnn import GRUCell, LSTMCell, RNNCell
from nprnn.gradcheck import check_cell

BAR = 1e-7


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def torch_blocks(cell, G):
    """The cell's weights in PyTorch's layout, cut into its G gate blocks by rows."""
    w = cell.to_torch()
    H = cell.hidden_size
    cut = lambda a: [a[k * H : (k + 1) * H] for k in range(G)]  # noqa: E731
    return cut(w["weight_ih"]), cut(w["weight_hh"]), cut(w["bias_ih"]), cut(w["bias_hh"])


@pytest.mark.parametrize("batch_size", [1, 3])
def test_one_timestep_gradients(make_cell, batch_size):
    report = check_cell(make_cell(4, 5, rng=7), batch_size=batch_size, seed=3)
    assert set(report) >= {"Wx", "Wh", "bx", "bh", "input:x", "input:state.h"}
    assert max(report.values()) <= BAR, report


def test_lstm_step_equals_the_equations(rng):
    cell = LSTMCell(3, 4, rng=0)
    (Wi, Wf, Wg, Wo), (Ui, Uf, Ug, Uo), (bi, bf, bg, bo), (ci, cf, cg, co) = torch_blocks(cell, 4)
    x, h0, c0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    i = sig(x @ Wi.T + bi + h0 @ Ui.T + ci)
    f = sig(x @ Wf.T + bf + h0 @ Uf.T + cf)
    g = np.tanh(x @ Wg.T + bg + h0 @ Ug.T + cg)
    o = sig(x @ Wo.T + bo + h0 @ Uo.T + co)
    c = f * c0 + i * g
    h = o * np.tanh(c)
    (h_, c_), cache = cell.forward(x, (h0, c0))
    np.testing.assert_allclose(h_, h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_, c, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cache.step.f, f, rtol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_step_equals_the_equations(rng, reset_after):
    cell = GRUCell(3, 4, reset_after=reset_after, rng=0)
    same_weights = GRUCell(3, 4, rng=0)  # to_torch speaks only of PyTorch's (reset-after) GRU
    (Wr, Wz, Wn), (Ur, Uz, Un), (br, bz, bn), (cr, cz, cn) = torch_blocks(same_weights, 3)
    x, h0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    r = sig(x @ Wr.T + br + h0 @ Ur.T + cr)
    z = sig(x @ Wz.T + bz + h0 @ Uz.T + cz)
    if reset_after:  # PyTorch / cuDNN
        n = np.tanh(x @ Wn.T + bn + r * (h0 @ Un.T + cn))
    else:  # Cho et al. 2014
        n = np.tanh(x @ Wn.T + bn + (r * h0) @ Un.T + cn)
    h = (1 - z) * n + z * h0
    h_, _ = cell.forward(x, h0)
    np.testing.assert_allclose(h_, h, rtol=1e-12, atol=1e-14)


def test_gru_variants_differ_with_the_same_weights(rng):
    after = GRUCell(3, 4, rng=0)
    before = GRUCell(3, 4, reset_after=False, rng=0)
    np.testing.assert_array_equal(after.params["Wh"], before.params["Wh"])
    x, h0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    assert np.abs(after.forward(x, h0)[0] - before.forward(x, h0)[0]).max() > 1e-3


def test_rnn_step_equals_the_equation(rng):
    cell = RNNCell(3, 4, rng=0)
    w = cell.to_torch()
    x, h0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    h = np.tanh(x @ w["weight_ih"].T + w["bias_ih"] + h0 @ w["weight_hh"].T + w["bias_hh"])
    np.testing.assert_allclose(cell.forward(x, h0)[0], h, rtol=1e-12)


def test_initial_state_and_shapes(make_cell):
    cell = make_cell(3, 5, rng=0)
    state = cell.initial_state(2)
    parts = state if isinstance(state, tuple) else (state,)
    assert all(p.shape == (2, 5) and p.dtype == np.float64 and not p.any() for p in parts)
    new_state, cache = cell.forward(np.ones((2, 3)), state)
    dx, dstate = cell.backward(new_state, cache)
    assert dx.shape == (2, 3)
    assert type(dstate) is type(state)
    for name, p in cell.params.items():
        assert cell.grads[name].shape == p.shape


def test_state_none_means_zeros(make_cell, rng):
    cell = make_cell(3, 4, rng=0)
    x = rng.standard_normal((2, 3))
    a, _ = cell.forward(x)
    b, _ = cell.forward(x, cell.initial_state(2))
    for u, v in zip(np.atleast_1d(a) if not isinstance(a, tuple) else a, b if isinstance(b, tuple) else b):
        np.testing.assert_array_equal(u, v)


def test_backward_adds_into_grads(make_cell, rng):
    cell = make_cell(3, 4, rng=0)
    x = rng.standard_normal((2, 3))
    state, cache = cell.forward(x, cell.initial_state(2))
    dstate = tuple(np.ones_like(s) for s in state) if isinstance(state, tuple) else np.ones_like(state)
    cell.backward(dstate, cache)
    once = {k: g.copy() for k, g in cell.grads.items()}
    assert any(np.abs(g).max() > 0 for g in once.values())
    cell.backward(dstate, cache)
    for k, g in cell.grads.items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=1e-14)
    cell.zero_grad()
    assert all(not g.any() for g in cell.grads.values())


@pytest.mark.parametrize("Cell", [RNNCell, LSTMCell, GRUCell])
def test_torch_layout_round_trip(Cell, rng):
    cell = Cell(3, 4, rng=5)
    w = cell.to_torch()
    G = Cell.num_gates
    assert w["weight_ih"].shape == (G * 4, 3) and w["weight_hh"].shape == (G * 4, 4)
    assert w["bias_ih"].shape == (G * 4,) and w["bias_hh"].shape == (G * 4,)
    back = Cell.from_torch(w)
    for k in cell.params:
        np.testing.assert_array_equal(back.params[k], cell.params[k])
    x, h0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    state = (h0, h0 * 0.5) if Cell is LSTMCell else h0
    out_a, cache = cell.forward(x, state)
    cell.backward(out_a, cache)
    g = cell.to_torch(grads=True)
    np.testing.assert_array_equal(g["weight_hh"], cell.grads["Wh"].T)
    np.testing.assert_array_equal(g["bias_ih"], cell.grads["bx"])


def test_from_torch_rejects_bad_weights():
    good = LSTMCell(3, 4).to_torch()
    with pytest.raises(ValueError, match="missing"):
        LSTMCell.from_torch({k: v for k, v in good.items() if k != "bias_hh"})
    with pytest.raises(ValueError, match="weight_hh"):
        LSTMCell.from_torch({**good, "weight_hh": good["weight_hh"][:, :3]})
    with pytest.raises(ValueError, match="weight_ih"):
        GRUCell.from_torch({**good, "weight_ih": np.zeros((8, 3))})  # 8 rows is not 3*H
    with pytest.raises(ValueError, match="reset_after"):
        GRUCell(3, 4, reset_after=False).to_torch()


def test_seeds_and_generators_give_reproducible_weights():
    a, b, c = LSTMCell(3, 4, rng=1), LSTMCell(3, 4, rng=1), LSTMCell(3, 4, rng=2)
    np.testing.assert_array_equal(a.params["Wx"], b.params["Wx"])
    assert not np.array_equal(a.params["Wx"], c.params["Wx"])
    d = LSTMCell(3, 4, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.params["Wh"], d.params["Wh"])
    k = 1 / np.sqrt(4)
    assert all(np.abs(p).max() <= k for p in a.params.values())


def test_float32_cells_stay_float32(make_cell, rng):
    cell = make_cell(3, 4, rng=0, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in cell.params.values())
    x = rng.standard_normal((2, 3)).astype(np.float32)
    state, cache = cell.forward(x, cell.initial_state(2))
    dx, dstate = cell.backward(state, cache)
    parts = (*state, *dstate) if isinstance(state, tuple) else (state, dstate)
    assert dx.dtype == np.float32 and all(p.dtype == np.float32 for p in parts)
    assert all(g.dtype == np.float32 for g in cell.grads.values())
