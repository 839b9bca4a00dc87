"""Optimizers and gradient clipping. Both update the live parameter arrays in place.

    opt = Adam(model.params, model.grads, lr=1e-3)
    model.zero_grad(); model.loss(src, tgt); model.backward()
    clip_grad_norm_(model.grads, 5.0)
    opt.step()
"""
import numpy as np


def _check_pair(params, grads):
    if set(params) != set(grads):
        raise ValueError("params and grads must have the same keys (pass model.params and model.grads)")
    for k in params:
        if params[k].shape != grads[k].shape:
            raise ValueError(f"params[{k!r}] and grads[{k!r}] differ in shape: {params[k].shape} and {grads[k].shape}")


def _check_lr(lr):
    if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    return float(lr)


def clip_grad_norm_(grads, max_norm):
    """Scale every gradient by max_norm / ||g|| when the global norm ||g|| exceeds max_norm.

    ||g|| is the norm of all gradients together, as if concatenated; returns it (before clipping).
    It changes the gradients in place (hence the trailing underscore, PyTorch's convention).
    Scaling them all alike keeps the direction of the step and bounds its size, which keeps an
    exploding gradient through time from throwing the weights away.
    """
    if not (isinstance(max_norm, (int, float)) and max_norm > 0):
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values())))
    if total > max_norm:
        scale = max_norm / (total + 1e-12)
        for g in grads.values():
            g *= scale
    return total


class SGD:
    """Stochastic gradient descent with (heavy-ball) momentum: v = mu v + g;  p -= lr v."""

    def __init__(self, params, grads, lr=0.1, momentum=0.0):
        _check_pair(params, grads)
        self.params, self.grads = params, grads
        self.lr = _check_lr(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = momentum
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self):
        for k, p in self.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v += self.grads[k]
            p -= self.lr * v


class Adam:
    """Adam (Kingma & Ba 2015): per-weight steps scaled by running moments of the gradient.

        m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
        p -= lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)
    """

    def __init__(self, params, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        _check_pair(params, grads)
        self.params, self.grads = params, grads
        self.lr = _check_lr(lr)
        self.b1, self.b2 = betas
        self.eps = eps
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.t = 0

    def step(self):
        self.t += 1
        bias1, bias2 = 1 - self.b1**self.t, 1 - self.b2**self.t  # corrections for starting at 0
        for k, p in self.params.items():
            g, m, v = self.grads[k], self.m[k], self.v[k]
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            denom = np.sqrt(v / bias2)
            denom += self.eps
            p -= (self.lr / bias1) * m / denom
