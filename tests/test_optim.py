import numpy as np
import pytest

from nprnn.optim import SGD, Adam, clip_grad_norm_


def quadratic():
    """f(p) = 0.5 * ||p - target||^2, whose gradient is p - target."""
    target = np.array([3.0, -2.0, 0.5])
    p = np.zeros(3)
    g = np.zeros(3)
    return {"p": p}, {"p": g}, target


@pytest.mark.parametrize("make", [lambda P, G: SGD(P, G, lr=0.1, momentum=0.9), lambda P, G: Adam(P, G, lr=0.05)])
def test_optimizers_minimise_a_quadratic(make):
    params, grads, target = quadratic()
    opt = make(params, grads)
    p = params["p"]
    for _ in range(500):
        grads["p"][...] = p - target
        opt.step()
    np.testing.assert_allclose(p, target, atol=1e-3)
    assert params["p"] is p  # updated in place


def test_sgd_step_by_hand():
    params, grads, _ = quadratic()
    grads["p"][...] = [1.0, 2.0, 3.0]
    opt = SGD(params, grads, lr=0.5, momentum=0.5)
    opt.step()
    np.testing.assert_allclose(params["p"], [-0.5, -1.0, -1.5])
    opt.step()  # v = 0.5 * g + g = 1.5 g
    np.testing.assert_allclose(params["p"], [-1.25, -2.5, -3.75])


def test_adam_first_step_is_lr_times_sign():
    params, grads, _ = quadratic()
    grads["p"][...] = [1e-3, -5.0, 100.0]
    Adam(params, grads, lr=0.1).step()
    np.testing.assert_allclose(params["p"], [-0.1, 0.1, -0.1], rtol=1e-4)


def test_clip_grad_norm_():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert clip_grad_norm_(grads, 10.0) == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [3.0, 0.0])  # under the bar: untouched
    assert clip_grad_norm_(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0])
    np.testing.assert_allclose(grads["b"], [[0.8]])
    total = np.sqrt(sum((g**2).sum() for g in grads.values()))
    assert total == pytest.approx(1.0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_(grads, 0)


def test_optimizer_arguments():
    params, grads, _ = quadratic()
    with pytest.raises(ValueError, match="same keys"):
        Adam(params, {"q": grads["p"]})
    with pytest.raises(ValueError, match="lr must be a positive number"):
        SGD(params, grads, lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        SGD(params, grads, momentum=1.0)
