import numpy as np
import pytest

from nprnn import Embedding, Linear, cross_entropy
from nprnn.gradcheck import check_cross_entropy, check_module

BAR = 1e-7


def test_embedding_lookup_is_a_row_of_the_matrix(rng):
    emb = Embedding(6, 3, rng=0)
    ids = np.array([[2, 5], [0, 2]])
    out = emb.forward(ids)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[0, 0], emb.params["W"][2])
    np.testing.assert_array_equal(out[0, 1], emb.params["W"][5])
    assert not out[1, 0].any()  # <pad>


def test_embedding_gradient_is_a_scatter_add(rng):
    emb = Embedding(6, 3, rng=0)
    ids = np.array([[2, 5], [0, 2]])  # id 2 twice, one padding
    emb.forward(ids)
    dout = rng.standard_normal((2, 2, 3))
    emb.backward(dout)
    g = emb.grads["W"]
    np.testing.assert_allclose(g[2], dout[0, 0] + dout[1, 1])
    np.testing.assert_allclose(g[5], dout[0, 1])
    assert not g[0].any() and not g[[1, 3, 4]].any()


def test_embedding_padding_row_never_learns_even_if_nonzero(rng):
    emb = Embedding(5, 2, rng=0)
    emb.params["W"][0] = 7.0
    out = emb.forward(np.array([0, 1]))
    assert not out[0].any()
    report = check_module(emb, lambda: emb.forward(np.array([[0, 1], [3, 0]])), lambda d: emb.backward(d))
    assert report["W"] <= BAR


def test_embedding_without_padding_idx(rng):
    emb = Embedding(4, 2, padding_idx=None, rng=0)
    ids = np.array([0, 0, 3])
    np.testing.assert_array_equal(emb.forward(ids)[0], emb.params["W"][0])
    assert check_module(emb, lambda: emb.forward(ids), lambda d: emb.backward(d))["W"] <= BAR


def test_linear_gradients_and_formula(rng):
    lin = Linear(4, 3, rng=0)
    x = rng.standard_normal((5, 2, 4))
    y = lin.forward(x)
    w = lin.params
    np.testing.assert_allclose(y, np.einsum("tbi,io->tbo", x, w["W"]) + w["b"], rtol=1e-12)
    report = check_module(lin, lambda: lin.forward(x), lambda d: {"x": lin.backward(d)}, {"x": x})
    assert max(report.values()) <= BAR, report


def test_linear_without_bias():
    lin = Linear(4, 3, bias=False)
    assert set(lin.params) == {"W"}


def test_cross_entropy_value_against_the_definition(rng):
    logits = rng.standard_normal((3, 2, 4))
    targets = np.array([[1, 2], [3, 0], [0, 0]])
    loss, _ = cross_entropy(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    real = [(0, 0), (0, 1), (1, 0)]
    expected = -np.mean([np.log(p[t, b, targets[t, b]]) for t, b in real])
    assert loss == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_gradient_and_padding(rng):
    assert check_cross_entropy(seed=2)["input:logits"] <= BAR
    logits = rng.standard_normal((3, 2, 4))
    targets = np.array([[1, 2], [3, 0], [0, 0]])
    loss, d = cross_entropy(logits, targets)
    assert not d[1, 1].any() and not d[2].any()  # padding gets no gradient
    noisy = logits.copy()
    noisy[2] = 1e4
    assert cross_entropy(noisy, targets)[0] == loss


def test_cross_entropy_all_padding_is_an_error():
    with pytest.raises(ValueError, match="no real token"):
        cross_entropy(np.zeros((2, 3)), np.zeros(2, dtype=int))
