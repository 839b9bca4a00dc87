import warnings

import numpy as np
import pytest

from nprnn.functional import log_softmax, sigmoid, sigmoid_grad, softmax, tanh, tanh_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_finite_and_silent_at_extremes(dtype):
    x = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        y = sigmoid(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    assert y[0] == 0.0 and y[-1] == 1.0 and y[3] == 0.5
    assert np.all(np.diff(y) >= 0)


def test_sigmoid_matches_the_textbook_formula():
    x = np.linspace(-20, 20, 401)
    np.testing.assert_allclose(sigmoid(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype, atol", [(np.float32, 4e-7), (np.float64, 1e-15)])
def test_tanh_agrees_with_numpy_and_is_silent_at_extremes(dtype, atol):
    # tanh is computed as 2 / (1 + exp(-2x)) - 1 for speed; it must stay within a few units in
    # the last place of 1 of np.tanh, keep the dtype, rise monotonically, and hit -1, 0, 1 exactly.
    x = np.concatenate([np.linspace(-20, 20, 4001), [-1e4, -400.0, 400.0, 1e4]]).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        y = tanh(x)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, np.tanh(x), rtol=0, atol=atol)
    assert tanh(np.array([0.0, -1e4, 1e4], dtype=dtype)).tolist() == [0.0, -1.0, 1.0]
    assert np.all(np.diff(y[:4001]) >= 0)


def test_derivatives_in_terms_of_outputs():
    x = np.linspace(-4, 4, 81)
    eps = 1e-6
    numeric_sig = (1 / (1 + np.exp(-(x + eps))) - 1 / (1 + np.exp(-(x - eps)))) / (2 * eps)
    np.testing.assert_allclose(sigmoid_grad(sigmoid(x)), numeric_sig, rtol=1e-7)
    numeric_tanh = (np.tanh(x + eps) - np.tanh(x - eps)) / (2 * eps)
    np.testing.assert_allclose(tanh_grad(np.tanh(x)), numeric_tanh, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_stable_for_huge_logits(dtype):
    logits = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4, 0.0]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(logits)
        logp = log_softmax(logits)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(logp))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    assert logp[0, 0] == 0.0 and logp[0, 2] == pytest.approx(-2e4)


def test_log_softmax_equals_log_of_softmax_for_moderate_logits(rng):
    logits = rng.standard_normal((4, 7)) * 5
    direct = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(log_softmax(logits), direct, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(softmax(logits), np.exp(direct), rtol=1e-12)
