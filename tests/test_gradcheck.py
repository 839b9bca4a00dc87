"""The checker itself: it must find a wrong gradient, not only pass right ones."""
import numpy as np
import pytest

from nprnn import LSTMCell, Linear
from nprnn.gradcheck import check_cell, check_module, numerical_gradient, rel_error


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((3, 4))
    f = lambda: float(np.sum(x**3))  # noqa: E731
    np.testing.assert_allclose(numerical_gradient(f, x), 3 * x**2, rtol=1e-7, atol=1e-7)
    assert np.all(np.isfinite(x))  # and x is restored
    x_before = x.copy()
    numerical_gradient(f, x)
    np.testing.assert_array_equal(x, x_before)


def test_rel_error():
    a = np.array([1.0, 2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(a, -a) == 1.0
    assert rel_error(a, a * (1 + 1e-9)) == pytest.approx(5e-10, rel=1e-3)
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_checker_catches_a_wrong_weight_gradient(rng):
    lin = Linear(3, 2, rng=0)
    x = rng.standard_normal((4, 3))

    def backward(dy):
        dx = lin.backward(dy)
        lin.grads["W"] *= 1.01  # a 1% bug
        return {"x": dx}

    report = check_module(lin, lambda: lin.forward(x), backward, {"x": x})
    assert report["W"] > 1e-3
    assert report["b"] < 1e-7 and report["input:x"] < 1e-7


def test_checker_catches_a_wrong_input_gradient(rng):
    lin = Linear(3, 2, rng=0)
    x = rng.standard_normal((4, 3))
    report = check_module(lin, lambda: lin.forward(x), lambda dy: {"x": lin.backward(dy) * 0.0}, {"x": x})
    assert report["input:x"] == pytest.approx(1.0)


def test_checker_catches_a_wrong_cell_equation(monkeypatch):
    cell = LSTMCell(3, 4, rng=0)
    original = LSTMCell.step_backward

    def broken(self, dstate, cache):  # forget the forget gate's path for c
        da, dah, (dh_prev, dc_prev) = original(self, dstate, cache)
        return da, dah, (dh_prev, dc_prev * 0.9)

    monkeypatch.setattr(LSTMCell, "step_backward", broken)
    report = check_cell(cell)
    assert report["input:state.c"] > 1e-3
