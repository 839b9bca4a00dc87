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
w = rng.normal(size=(1, H))  # the loss: L = w . h_{T-1}, a score of the last state only

# %% [markdown]
# ## BPTT, one timestep at a time
#
# Forward: run the cell step by step, $h_t = \mathrm{cell}(x_t, h_{t-1})$, keeping every step's
# cache. The loss reads only the last state, $L = w \cdot h_{T-1}$, so the gradient starts
# there: $\partial L / \partial h_{T-1} = w$. Backward: walk the steps in reverse, each one
# sending the gradient of its state back to the state before it (the chain rule, through one
# step's Jacobian), and record $\lVert \partial L / \partial h_t \rVert$ at each step:
#
# $$\frac{\partial L}{\partial h_{t-1}} = \frac{\partial L}{\partial h_t}\,\frac{\partial h_t}{\partial h_{t-1}}
# \qquad t = T-1, \dots, 1$$
#
# (for an LSTM the state is the pair $(h, c)$ and both travel back.) Every step also adds its
# part into the weight gradients, because the same weights serve every step:
# $\partial L / \partial W = \sum_t \partial L / \partial W\,\big|_{\text{step } t}$, which is why
# `cell.backward` adds (`+=`) into `cell.grads`.

# %%


def gradient_norms(cell):
    """||dL/dh_t|| for t = 0 .. T-1, and dL/dxs, for L = w . h_{T-1}."""
    state, caches = cell.initial_state(1), []
    for t in range(T):  # forward, one timestep at a time
        state, cache = cell.forward(xs[t], state)
        caches.append(cache)
    pair = isinstance(state, tuple)
    dstate = (w, np.zeros((1, H))) if pair else w  # dL/dh_{T-1} = w; nothing reaches c_{T-1} directly
    norms, dxs = np.zeros(T), np.zeros_like(xs)
    for t in reversed(range(T)):  # backprop through time
        norms[t] = np.linalg.norm(dstate[0] if pair else dstate)
        dxs[t], dstate = cell.backward(dstate, caches[t])  # dL/dh_{t-1} = dL/dh_t · dh_t/dh_{t-1}; grads +=
    return norms, dxs


# %% [markdown]
# The loop above computes what `Recurrent.backward` computes (which arranges the work
# differently: it leaves the weight gradients of all steps to one matmul at the end). Check on
# an LSTM, the gradients of the inputs and of every weight:

# %%
lstm = LSTMCell(D, H, rng=1)
norms, dxs_by_hand = gradient_norms(lstm)
rec = Recurrent(LSTMCell(D, H, rng=1))
hs, _ = rec.forward(xs)
dhs = np.zeros_like(hs)
dhs[-1] = w  # the same loss
dxs_rec, _ = rec.backward(dhs)
assert np.allclose(dxs_by_hand, dxs_rec)
assert all(np.allclose(lstm.grads[k], rec.cell.grads[k]) for k in lstm.grads)  # the sum over the steps
print("hand-written BPTT == Recurrent.backward")

# %% [markdown]
# What is one step's Jacobian? For the plain RNN, $h_t = \tanh(a_t)$ with
# $a_t = x_t W_x + b_x + h_{t-1} W_h + b_h$, so (for row vectors)
#
# $$\frac{\partial L}{\partial h_{t-1}} = \Big(\frac{\partial L}{\partial h_t} \odot (1 - h_t^2)\Big)\, W_h^\top :$$
#
# the gradient is scaled by the slope of tanh, $1 - h_t^2 \le 1$, then multiplied by $W_h^\top$,
# once per step. For an LSTM the memory has a path with neither: with nothing arriving at
# $h_t$, $\partial L / \partial c_{t-1} = \partial L / \partial c_t \odot f_t$ exactly.

# %%
rnn_cell = RNNCell(D, H, rng=1)
h_prev0 = np.random.default_rng(5).normal(size=(1, H)) * 0.5  # any state will do
h_t, cache = rnn_cell.forward(xs[0], h_prev0)
_, dh_prev = rnn_cell.backward(w, cache)
assert np.allclose(dh_prev, (w * (1 - h_t**2)) @ rnn_cell.params["Wh"].T)  # (dL/dh_t ⊙ (1 - h_t²)) W_hᵀ

(h_t, c_t), cache = lstm.forward(xs[0], (h_prev0, h_prev0))
_, (dh_prev, dc_prev) = lstm.backward((np.zeros((1, H)), w), cache)  # nothing at h_t, w at c_t
assert np.allclose(dc_prev, w * cache.step.f)  # dL/dc_{t-1} = dL/dc_t ⊙ f_t

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
opened = {}  # the opened gate's mean value over the 60 steps
for name, gate in (("LSTM, forget bias +3", "f"), ("GRU, update bias +3", "z")):
    state, values = cells[name].initial_state(1), []
    for t in range(T):
        state, cache = cells[name].forward(xs[t], state)
        values.append(getattr(cache.step, gate))
    opened[name] = np.mean(values)
    print(f"{name}: mean {gate} = {opened[name]:.3f}")
    assert 0.9 < opened[name] < 0.99  # about 0.95

# %% [markdown]
# The plain RNN's gradient falls by a roughly constant factor per step, about 0.5 (printed
# below): sixty steps back, less than a millionth of a millionth is left to learn from. The
# gated cells *as initialised* fare little better (a billionth or less); what they have is the
# **ability** to keep it. An LSTM's memory passes back through
# $\partial L/\partial c_{t-1} = \partial L/\partial c_t \odot f_t$ with no squashing function
# and no matrix in the way, so with f near 1 the gradient survives; a GRU does the same through
# $h_t = \ldots + z \odot h_{t-1}$. Training learns to open these gates where the task needs a
# long memory (and a forget bias of +1 is a common initialisation, recommended by Jozefowicz
# et al. 2015).

# %%
ratio = curves["RNN"][:-1] / curves["RNN"][1:]  # ||dL/dh_{t-1}|| / ||dL/dh_t||, one per step
low, median, high = np.percentile(ratio, [5, 50, 95])
print(f"RNN: the gradient is multiplied by {median:.2f} per step (90% of steps: {low:.2f} to {high:.2f})")
assert 0.4 < median < 0.6 and 0.3 < low and high < 0.7  # about 0.5, every step
assert curves["RNN"][0] < 1e-12 * curves["RNN"][-1]  # vanished
assert curves["GRU"][0] < 1e-9 * curves["GRU"][-1] and curves["LSTM"][0] < 1e-9 * curves["LSTM"][-1]
assert curves["LSTM, forget bias +3"][0] > 1e-3 * curves["LSTM, forget bias +3"][-1]  # survived
assert curves["GRU, update bias +3"][0] > 1e-3 * curves["GRU, update bias +3"][-1]
assert curves["LSTM, forget bias +3"][0] > 1e6 * curves["LSTM"][0]
ax = plot_gradient_norms(curves, title=f"gradient reaching each timestep from a loss at t = {T - 1}:\n"
                                      "it vanishes unless a gate is held open")
save_figure(ax, FIGURES / "gradient_norms.png")

# %% [markdown]
# ## Exploding gradients, and clipping
#
# Make the RNN's recurrent matrix 1.5 times an orthogonal one, and its input weights small.
# An orthogonal matrix keeps every vector's length, so $W_h^\top$ alone now multiplies the
# gradient's length by exactly 1.5 at every step. But the step's Jacobian also holds the tanh
# slope $1 - h_t^2$, and the state does not stay small where that slope is 1: the same 1.5
# makes the *state* grow, within a few steps, to where tanh bends. Measure both:

# %%
rnn = RNNCell(D, H, rng=1)
q, _ = np.linalg.qr(rng.normal(size=(H, H)))
rnn.params["Wh"][...] = 1.5 * q
rnn.params["Wx"] *= 0.1
v = np.random.default_rng(6).normal(size=(1, H))  # any vector
assert np.isclose(np.linalg.norm(v @ rnn.params["Wh"].T), 1.5 * np.linalg.norm(v))  # W_hᵀ alone: x 1.5
exploding, _ = gradient_norms(rnn)
h, slopes = rnn.initial_state(1), []
for t in range(T):
    h, _ = rnn.forward(xs[t], h)
    slopes.append(1 - h**2)
growth = (exploding[0] / exploding[-1]) ** (1 / (T - 1))  # the mean factor per step
print(f"tanh slope 1 - h_t^2: {np.mean(slopes[0]):.2f} at the first step, {np.mean(slopes):.2f} on average")
print(f"exploding RNN: ||dL/dh_t|| at t = T-1: {exploding[-1]:.1e}, at t = 0: {exploding[0]:.1e}: "
      f"x {growth:.3f} per step, x {exploding[0] / exploding[-1]:.0f} over {T - 1} steps")
assert np.mean(slopes[0]) > 0.9 and np.mean(slopes[3]) < 0.7  # by the fourth step tanh has bent
assert np.mean(slopes) < 0.7
assert 1.03 < growth < 1.1  # so not x 1.5 a step: about x 1.07 ...
assert exploding[0] > 10 * exploding[-1]  # ... which still compounds, here to more than x 10

# %% [markdown]
# So the gradient grows, but by about 1.07 a step, not 1.5: the slope of tanh takes most of
# the growth back. Compounded over 59 steps that is still a factor of more than ten (printed
# above): the gradient reaching $t = 0$ is more than ten times the one the loss sent.

# %% [markdown]
# One huge gradient can throw the weights far from anything useful in a single step.
# Clipping by the **global norm** rescales all gradients together when their joint norm
# exceeds a bar $\tau$: the direction of the step is kept, its length bounded.
#
# $$\lVert g \rVert = \sqrt{\textstyle\sum_k \lVert g_k \rVert^2} \qquad
# g_k \leftarrow g_k \cdot \frac{\tau}{\lVert g \rVert} \quad \text{if } \lVert g \rVert > \tau$$

# %%
rec = Recurrent(rnn)
rnn.zero_grad()
hs, _ = rec.forward(xs)
dhs = np.zeros_like(hs)
dhs[-1] = w
rec.backward(dhs)
before = {k: g.copy() for k, g in rnn.grads.items()}
norm = clip_grad_norm_(rnn.grads, max_norm=5.0)  # g_k <- g_k * tau / ||g||, tau = 5
assert np.isclose(norm, np.sqrt(sum((g**2).sum() for g in before.values())))  # ||g|| before: all of them together
after = np.sqrt(sum((g**2).sum() for g in rnn.grads.values()))
print(f"global gradient norm {norm:.1f} -> {after:.1f} after clipping at 5")
assert norm > 5 and np.isclose(after, 5.0)
cos = sum((before[k] * rnn.grads[k]).sum() for k in before) / (norm * after)
assert np.isclose(cos, 1.0)  # same direction

fig, ax = plt.subplots(figsize=(8.2, 3.8), layout="constrained")
plot_gradient_norms({"RNN, Wh = 1.5 x orthogonal": exploding, "RNN as initialised": curves["RNN"]}, ax=ax,
                    title=f"going back in time the gradient grows ×{growth:.2f} a step (exploding)\n"
                          f"or shrinks ×{median:.2f} a step (vanishing)")
save_figure(fig, FIGURES / "exploding.png")

# %% [markdown]
# ## Summary
#
# - BPTT is the one-timestep backward pass, applied in reverse order, with the state
#   gradient carried from step to step.
# - Through a plain RNN the gradient vanishes or explodes geometrically. Gates let an LSTM or
#   GRU keep it, when they are open; clipping bounds the explosions.
#
# ## Try it
#
# - Set the LSTM's forget bias to +1 instead of +3. How far back does the gradient reach now?
# - Make the exploding RNN's `Wh` 3 times an orthogonal matrix: does the per-step factor
#   approach 3? Print the mean tanh slope to see why not.
#
# ## Exercises
#
# ```
# nprnn exercise start bptt       # a whole padded batch backward: lengths, frozen states, zero outputs
# nprnn exercise check bptt.py
# ```
