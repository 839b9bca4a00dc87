"""Outside check: the same weights in PyTorch give the same outputs and gradients.

Skipped when torch is not installed (it is never a dependency of nprnn).
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nprnn import GRUCell, LSTMCell, Recurrent, RNNCell  # noqa: E402

PAIRS = {
    "rnn": (RNNCell, torch.nn.RNNCell, torch.nn.RNN),
    "lstm": (LSTMCell, torch.nn.LSTMCell, torch.nn.LSTM),
    "gru": (GRUCell, torch.nn.GRUCell, torch.nn.GRU),
}
NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_cell_matches_torch(kind, rng):
    Ours, TorchCell, _ = PAIRS[kind]
    cell = Ours(3, 5, rng=4)
    ref = TorchCell(3, 5).double()
    with torch.no_grad():
        for name, value in cell.to_torch().items():
            getattr(ref, name).copy_(torch.from_numpy(value))
    x, h0, c0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    dh, dc = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    xt, ht, ct = t(x, True), t(h0, True), t(c0, True)

    if kind == "lstm":
        (h, c), cache = cell.forward(x, (h0, c0))
        dx, (dh0, dc0) = cell.backward((dh, dc), cache)
        h_t, c_t = ref(xt, (ht, ct))
        (h_t * t(dh)).sum().add((c_t * t(dc)).sum()).backward()
        np.testing.assert_allclose(c, c_t.detach().numpy(), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(dc0, ct.grad.numpy(), rtol=1e-12, atol=1e-13)
    else:
        h, cache = cell.forward(x, h0)
        dx, dh0 = cell.backward(dh, cache)
        h_t = ref(xt, ht)
        (h_t * t(dh)).sum().backward()
    np.testing.assert_allclose(h, h_t.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dh0, ht.grad.numpy(), rtol=1e-12, atol=1e-13)
    grads = cell.to_torch(grads=True)
    for name in NAMES:
        np.testing.assert_allclose(grads[name], getattr(ref, name).grad.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_recurrent_matches_torch_packed_sequences(kind, rng):
    Ours, _, TorchRNN = PAIRS[kind]
    T, B, D, H = 7, 4, 3, 5
    ref = TorchRNN(D, H).double()
    weights = {name: getattr(ref, name + "_l0").detach().numpy() for name in NAMES}
    cell = Ours.from_torch(weights)  # this time the weights travel the other way
    rec = Recurrent(cell)
    lengths = np.array([7, 2, 5, 1])
    xs = rng.standard_normal((T, B, D))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    dhs, dh, dc = rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    is_lstm = kind == "lstm"

    hs, final = rec.forward(xs, (h0, c0) if is_lstm else h0, lengths)
    dxs, d0 = rec.backward(dhs, (dh, dc) if is_lstm else dh)

    xt, ht, ct = t(xs, True), t(h0[None], True), t(c0[None], True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), enforce_sorted=False)
    out, last = ref(packed, (ht, ct) if is_lstm else ht)
    hs_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    loss = (hs_t * t(dhs)).sum()
    if is_lstm:
        loss = loss + (last[0][0] * t(dh)).sum() + (last[1][0] * t(dc)).sum()
    else:
        loss = loss + (last[0] * t(dh)).sum()
    loss.backward()

    np.testing.assert_allclose(hs, hs_t.detach().numpy(), rtol=1e-11, atol=1e-12)
    h_final = final[0] if is_lstm else final
    h_last = last[0][0] if is_lstm else last[0]
    np.testing.assert_allclose(h_final, h_last.detach().numpy(), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(dxs, xt.grad.numpy(), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(d0[0] if is_lstm else d0, ht.grad[0].numpy(), rtol=1e-11, atol=1e-12)
    if is_lstm:
        np.testing.assert_allclose(final[1], last[1][0].detach().numpy(), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(d0[1], ct.grad[0].numpy(), rtol=1e-11, atol=1e-12)
    grads = cell.to_torch(grads=True)
    for name in NAMES:
        np.testing.assert_allclose(grads[name], getattr(ref, name + "_l0").grad.numpy(), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_optimizers_match_torch(kind, rng):
    from nprnn.optim import SGD, Adam

    p0 = rng.standard_normal((3, 4))
    grads_seq = [rng.standard_normal((3, 4)) * 10.0 ** rng.integers(-4, 2) for _ in range(6)]
    params, grads = {"w": p0.copy()}, {"w": np.zeros_like(p0)}
    ours = Adam(params, grads, lr=0.01) if kind == "adam" else SGD(params, grads, lr=0.1, momentum=0.9)
    w = torch.tensor(p0, requires_grad=True)
    theirs = torch.optim.Adam([w], lr=0.01) if kind == "adam" else torch.optim.SGD([w], lr=0.1, momentum=0.9)
    for g in grads_seq:
        grads["w"][...] = g
        ours.step()
        w.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(params["w"], w.detach().numpy(), rtol=1e-12, atol=1e-14)
