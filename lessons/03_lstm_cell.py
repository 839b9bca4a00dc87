# %% [markdown]
# # Lesson 3: inside an LSTM cell
#
# **Goal:** compute every gate of one LSTM timestep by hand, then its backward pass by hand,
# and check both against `LSTMCell` and against finite differences.
#
# An LSTM keeps two states: $h$, which it shows, and a memory cell $c$, which it updates by
# *adding*. Four gates, each a function of $x_t$ and $h_{t-1}$, decide what happens:
#
# $$a = x_t W_x + b_x + h_{t-1} W_h + b_h \qquad \text{(B, 4H): four blocks, in PyTorch's order i, f, g, o}$$
# $$i = \sigma(a_i) \quad f = \sigma(a_f) \quad g = \tanh(a_g) \quad o = \sigma(a_o)$$
# $$c_t = f \odot c_{t-1} + i \odot g \qquad h_t = o \odot \tanh(c_t)$$
#
# i: how much of the candidate g to write; f: how much old memory to keep; o: how much of the
# memory to show.

# %%
import numpy as np

from nprnn import LSTMCell
from nprnn.gradcheck import check_cell
from nprnn.plots import figure_dir, lstm_gates, plot_gates, save_figure

np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)
FIGURES = figure_dir("03_lstm_cell")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# %%
D, H = 3, 2
cell = LSTMCell(D, H, rng=0)
p = cell.params
print("Wx", p["Wx"].shape, " Wh", p["Wh"].shape, " bx", p["bx"].shape, " bh", p["bh"].shape)
x = rng.normal(size=(1, D))
h_prev, c_prev = rng.normal(size=(1, H)), rng.normal(size=(1, H))

# %% [markdown]
# ## Forward, one gate at a time
#
# The pre-activation $a$ is one (1, 4H) row; its four blocks of H columns are the gates.

# %%
a = x @ p["Wx"] + p["bx"] + h_prev @ p["Wh"] + p["bh"]
a_i, a_f, a_g, a_o = a[:, 0:H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H : 4 * H]
i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
c = f * c_prev + i * g
h = o * np.tanh(c)
for name, value in (("i", i), ("f", f), ("g", g), ("o", o), ("c", c), ("h", h)):
    print(f"{name} = {value}")

(h_lib, c_lib), cache = cell.forward(x, (h_prev, c_prev))
assert np.allclose(h, h_lib) and np.allclose(c, c_lib)
assert np.allclose(f, cache.step.f) and np.allclose(g, cache.step.g)
print("matches LSTMCell.forward")

# %% [markdown]
# ## Backward, one equation at a time
#
# Suppose the loss sends back $\partial L/\partial h_t$ and $\partial L/\partial c_t$ (the
# latter from timestep t+1). Walk the forward equations in reverse; each line differentiates
# the equation written beside it.

# %%
dh, dc_next = rng.normal(size=(1, H)), rng.normal(size=(1, H))
tanh_c = np.tanh(c)
do = dh * tanh_c  # h = o * tanh(c)
dc = dc_next + dh * o * (1 - tanh_c**2)  # h = o * tanh(c): c reaches h too
di, df, dg = dc * g, dc * c_prev, dc * i  # c = f * c_prev + i * g
dc_prev = dc * f  # the memory's gradient flows back through f alone
da = np.hstack([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)])  # sigmoid' = s(1-s), tanh' = 1-t²
dx = da @ p["Wx"].T  # a = x Wx + ...
dh_prev = da @ p["Wh"].T  # a = ... + h_prev Wh
dWx, dWh, db = x.T @ da, h_prev.T @ da, da.sum(axis=0)

dx_lib, (dh_prev_lib, dc_prev_lib) = cell.backward((dh, dc_next), cache)
assert np.allclose(dx, dx_lib) and np.allclose(dh_prev, dh_prev_lib) and np.allclose(dc_prev, dc_prev_lib)
assert np.allclose(dWx, cell.grads["Wx"]) and np.allclose(dWh, cell.grads["Wh"])
assert np.allclose(db, cell.grads["bx"]) and np.allclose(db, cell.grads["bh"])  # the two biases are added
print("dx      =", dx)
print("dc_prev =", dc_prev, " (= dc * f)")
print("matches LSTMCell.backward")

# %% [markdown]
# ## The gradient check
#
# A hand-written backward pass can be wrong in a way that still trains, slowly. So every one
# is compared with centred differences, $(L(\theta+\epsilon) - L(\theta-\epsilon)) / 2\epsilon$,
# for every weight, the input and both states, in float64. Correct code agrees to about 1e-10.

# %%
report = check_cell(LSTMCell(4, 5, rng=1))
for name, err in report.items():
    print(f"{name:16s} relative error {err:.1e}")
assert 1e-12 < min(report.values()) and max(report.values()) < 1e-8  # about 1e-10

# %% [markdown]
# ## The gates over a sentence-long sequence
#
# A new cell with 8 units reads 6 random inputs. Untrained, its sigmoid gates i, f and o sit
# around 0.5 (half open) and move a little with each input; the candidate g takes both signs.

# %%
cell = LSTMCell(3, 8, rng=3)
state = cell.initial_state(1)
caches = []
for t in range(6):
    state, cache = cell.forward(rng.normal(size=(1, 3)), state)
    caches.append(cache)
gates = {k: v[:, 0, :] for k, v in lstm_gates(caches).items()}  # (T, H) each, for the one sequence
assert gates["f"].shape == (6, 8) and 0 < gates["f"].min() and gates["f"].max() < 1
for k in "ifo":
    print(f"{k}: mean {gates[k].mean():.2f}, range {gates[k].min():.2f} .. {gates[k].max():.2f}")
    assert 0.4 < gates[k].mean() < 0.6 and 0.1 < gates[k].min() and gates[k].max() < 0.9  # around 0.5
assert gates["g"].min() < 0 < gates["g"].max()
axes = plot_gates(gates, title="gates of an untrained LSTM: i, f and o stay near 0.5, g takes both signs")
save_figure(axes, FIGURES / "gates.png")

# %% [markdown]
# ## Summary
#
# - Four gates from one matmul; memory updated by $c_t = f \odot c_{t-1} + i \odot g$.
# - Backward: $\partial L/\partial c_{t-1} = \partial L/\partial c_t \odot f$: no squashing
#   on the memory's path, which is why gradients can survive many steps (lesson 5).
#
# ## Try it
#
# - Set the forget-gate block of the 8-unit cell's `bh` to +5 and redraw: f is the second block
#   of 8 columns (`H8 = cell.hidden_size; cell.params["bh"][H8 : 2 * H8] = 5`). Where does f sit
#   now, and what does that do to $c_t$?
# - Break one line of the hand-written backward pass (say `dc_prev = dc`) and see which
#   assert catches it.
#
# ## Exercises
#
# ```
# nprnn exercise start lstm_step_forward      # the four gates, the memory, the state
# nprnn exercise check lstm_step_forward.py
# nprnn exercise start lstm_step_backward     # back through the gates and the memory
# nprnn exercise check lstm_step_backward.py
# ```
