# %% [markdown]
# # Lesson 5: backprop through time, and why LSTMs exist
#
# **Goal:** run backpropagation through time one timestep at a time, measure how much gradient
# reaches each earlier timestep for an RNN, a GRU and an LSTM, and see what clipping does.
#
# Unrolled over T steps, a recurrent network is a T-layer network that shares its weights.
# Backprop walks the steps in reverse: the gradient arriving at $h_t$ is sent through the
# cell's backward pass to $h_{t-1}$, and again, and again. Each pass multiplies it by the
# step's Jacobian $\partial h_t / \partial h_{t-1}$, so over many steps it shrinks towards 0
# (vanishes) or grows without bound (explodes), unless something keeps it near 1.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nprnn import GRUCell, LSTMCell, Recurrent, RNNCell
from nprnn.optim import clip_grad_norm_
from nprnn.plots import figure_dir, plot_gradient_norms, save_figure

np.set_printoptions(precision=3)
rng = np.random.default_rng(0)
FIGURES = figure_dir("05_backprop_through_time")
T, D, H = 60, 4, 16
xs = rng.normal(size=(T, 1, D))
w = rng.normal(size=(1, H))  # the loss: L = w . h_T, a score of the last state only

# %% [markdown]
# ## BPTT, one timestep at a time
#
# Forward: keep every step's cache. Backward: start with $\partial L / \partial h_T = w$ and
# walk back, recording $\lVert \partial L / \partial h_t \rVert$ at each step.

# %%


def gradient_norms(cell):
    """||dL/dh_t|| for t = 0 .. T-1, and dL/dxs, for L = w . h_T."""
    state, caches = cell.initial_state(1), []
    for t in range(T):  # forward, one timestep at a time
        state, cache = cell.forward(xs[t], state)
        caches.append(cache)
    pair = isinstance(state, tuple)
    dstate = (w, np.zeros((1, H))) if pair else w  # dL/dh_T = w; nothing reaches c_T directly
    norms, dxs = np.zeros(T), np.zeros_like(xs)
    for t in reversed(range(T)):  # backprop through time
        norms[t] = np.linalg.norm(dstate[0] if pair else dstate)
        dxs[t], dstate = cell.backward(dstate, caches[t])
    return norms, dxs


# %% [markdown]
# The loop above is exactly what `Recurrent.backward` does (only faster: it batches the
# weight gradients into one matmul at the end). Check on an LSTM:

# %%
lstm = LSTMCell(D, H, rng=1)
norms, dxs_by_hand = gradient_norms(lstm)
rec = Recurrent(LSTMCell(D, H, rng=1))
hs, _ = rec.forward(xs)
dhs = np.zeros_like(hs)
dhs[-1] = w  # the same loss
dxs_rec, _ = rec.backward(dhs)
assert np.allclose(dxs_by_hand, dxs_rec)
print("hand-written BPTT == Recurrent.backward")

# %% [markdown]
# ## How much gradient reaches each timestep
#
# Five cells with the same inputs. Three as initialised (PyTorch's initialisation), and two
# gated cells with their gate *opened*: the LSTM's forget-gate bias set to +3 (so f ≈ 0.95:
# keep the memory) and the GRU's update-gate bias set to +3 (so z ≈ 0.95: keep the state).

# %%
cells = {"RNN": RNNCell(D, H, rng=1), "GRU": GRUCell(D, H, rng=1), "LSTM": LSTMCell(D, H, rng=1)}
cells["LSTM, forget bias +3"] = LSTMCell(D, H, rng=1)
cells["LSTM, forget bias +3"].params["bh"][H : 2 * H] = 3.0  # the f block of the gates i, f, g, o
cells["GRU, update bias +3"] = GRUCell(D, H, rng=1)
cells["GRU, update bias +3"].params["bh"][H : 2 * H] = 3.0  # the z block of the gates r, z, n
curves = {name: gradient_norms(cell)[0] for name, cell in cells.items()}
for name, n in curves.items():
    print(f"{name:22s} ||dL/dh_t|| at t = T-1: {n[-1]:.1e}   t = T-30: {n[-30]:.1e}   t = 0: {n[0]:.1e}")

# %% [markdown]
# The plain RNN's gradient falls by a constant factor per step: sixty steps back, nothing is
# left to learn from. The gated cells *as initialised* fare little better; what they have is
# the **ability** to keep it. An LSTM's memory passes back through $\partial c_{t-1} =
# \partial c_t \odot f$ with no squashing function in the way, so with f near 1 the gradient
# survives; a GRU does the same through $z \odot h_{t-1}$. Training learns to open these gates
# where the task needs a long memory (and a forget bias of +1 is a common initialisation).

# %%
assert curves["RNN"][0] < 1e-12 * curves["RNN"][-1]  # vanished
assert curves["LSTM, forget bias +3"][0] > 1e-3 * curves["LSTM, forget bias +3"][-1]  # survived
assert curves["GRU, update bias +3"][0] > 1e-3 * curves["GRU, update bias +3"][-1]
assert curves["LSTM, forget bias +3"][0] > 1e6 * curves["LSTM"][0]
ax = plot_gradient_norms(curves, title=f"gradient reaching each timestep from a loss at t = {T - 1}")
save_figure(ax, FIGURES / "gradient_norms.png")

# %% [markdown]
# ## Exploding gradients, and clipping
#
# Make the RNN's recurrent matrix 1.5 times an orthogonal one (and its inputs small, so tanh
# stays in its linear range). Now each step *multiplies* the gradient by about 1.5.

# %%
rnn = RNNCell(D, H, rng=1)
q, _ = np.linalg.qr(rng.normal(size=(H, H)))
rnn.params["Wh"][...] = 1.5 * q
rnn.params["Wx"] *= 0.1
exploding, _ = gradient_norms(rnn)
print(f"exploding RNN: ||dL/dh_t|| at t = T-1: {exploding[-1]:.1e}, at t = 0: {exploding[0]:.1e}")
assert exploding[0] > 10 * exploding[-1]

# %% [markdown]
# One huge gradient can throw the weights far from anything useful in a single step.
# Clipping by the **global norm** rescales all gradients together when their joint norm
# exceeds a bar: the direction of the step is kept, its length bounded.

# %%
rec = Recurrent(rnn)
rnn.zero_grad()
hs, _ = rec.forward(xs)
dhs = np.zeros_like(hs)
dhs[-1] = w
rec.backward(dhs)
before = {k: g.copy() for k, g in rnn.grads.items()}
norm = clip_grad_norm_(rnn.grads, max_norm=5.0)
after = np.sqrt(sum((g**2).sum() for g in rnn.grads.values()))
print(f"global gradient norm {norm:.1f} -> {after:.1f} after clipping at 5")
assert norm > 5 and np.isclose(after, 5.0)
cos = sum((before[k] * rnn.grads[k]).sum() for k in before) / (norm * after)
assert np.isclose(cos, 1.0)  # same direction

fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
plot_gradient_norms({"RNN, Wh = 1.5 x orthogonal": exploding, "RNN as initialised": curves["RNN"]}, ax=ax,
                    title="exploding and vanishing")
save_figure(fig, FIGURES / "exploding.png")

# %% [markdown]
# ## Summary
#
# - BPTT is the one-timestep backward pass, applied in reverse order, with the state
#   gradient carried from step to step.
# - Through a plain RNN the gradient vanishes or explodes geometrically. Gates let an LSTM or
#   GRU keep it, when they are open; clipping bounds the explosions.
#
# **Try it:** set the LSTM's forget bias to +1 instead of +3. How far back does the gradient
# reach now?
