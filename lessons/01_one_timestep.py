# %% [markdown]
# # Lesson 1: one timestep
#
# **Goal:** compute one step of a recurrent network by hand, and see where its two results go.
#
# A recurrent cell reads a sequence one element at a time. At timestep t it takes two things,
# the input $x_t$ and its own previous hidden state $h_{t-1}$, and makes one: the new hidden
# state $h_t$. The plain (Elman) RNN cell does it in one line:
#
# $$h_t = \tanh(x_t W_x + b_x + h_{t-1} W_h + b_h)$$
#
# $h_t$ then goes two ways: **up**, as the output of this timestep (to the next layer, or to a
# classifier, or nowhere: a plain encoder ignores all but the last), and **along**, to timestep t+1,
# where it becomes $h_{t-1}$. Everything a recurrent network remembers, it remembers in $h$.

# %%
import numpy as np

from nprnn import Linear, RNNCell
from nprnn.plots import figure_dir, plot_hidden_states, save_figure

np.set_printoptions(precision=3, suppress=True)
rng = np.random.default_rng(0)
FIGURES = figure_dir("01_one_timestep")

# %% [markdown]
# A cell with 3 input features and 4 hidden units. Its weights are `Wx` (D, H), `Wh` (H, H) and
# two biases: PyTorch's `weight_ih`, `weight_hh`, `bias_ih` and `bias_hh`, transposed so that a
# batch of row vectors multiplies them from the left.

# %%
cell = RNNCell(input_size=3, hidden_size=4, rng=0)
for name, p in cell.params.items():
    print(f"{name}: shape {p.shape}")
assert cell.params["Wx"].shape == (3, 4) and cell.params["Wh"].shape == (4, 4)

# %% [markdown]
# ## One step, by hand and by the library
#
# Arrays hold a batch: x is (B, D), h is (B, H). Here B = 1. At the first timestep there is no
# previous state, so it is zeros.

# %%
x_t = rng.normal(size=(1, 3))
h_prev = cell.initial_state(batch_size=1)  # zeros, (1, 4)
p = cell.params
by_hand = np.tanh(x_t @ p["Wx"] + p["bx"] + h_prev @ p["Wh"] + p["bh"])
h_t, cache = cell.forward(x_t, h_prev)
print("x_t    =", x_t)
print("h_prev =", h_prev)
print("h_t    =", h_t)
assert np.allclose(by_hand, h_t)
assert np.all(np.abs(h_t) < 1)  # tanh keeps every unit in (-1, 1)

# %% [markdown]
# ## Along: the state goes to the next timestep
#
# Feed a sequence of five inputs. The state made at each step is the previous state of the
# next. The same weights serve every step: that is what makes it *recurrent*, and what lets it
# read sequences of any length.

# %%
xs = rng.normal(size=(5, 1, 3))  # (T, B, D): time-major, so xs[t] is timestep t
h = cell.initial_state(1)
states = []
for t in range(5):
    h, _ = cell.forward(xs[t], h)  # h_{t-1} in, h_t out
    states.append(h[0])
    print(f"t={t}  h_t = {h[0]}")
states = np.array(states)  # (T, H)
assert states.shape == (5, 4)
assert not np.allclose(states[0], states[1])  # the state changes with every input

# %% [markdown]
# Had we started from a different $h_{-1}$, every later state would differ too: the state
# carries the past forward. But look how fast the difference fades. Start one run from zeros
# and one from 0.5 in every unit, feed both the same five inputs, and measure the largest gap
# between their states after each step:

# %%
h_other = np.ones((1, 4)) * 0.5
gaps = []
for t in range(5):
    h_other, _ = cell.forward(xs[t], h_other)
    gaps.append(np.abs(states[t] - h_other[0]).max())
print("last state from zeros:", states[-1])
print("last state from 0.5s :", h_other[0])
print("largest gap after each step:", np.round(gaps, 3), " (it was 0.5 before the first)")
assert not np.allclose(states[-1], h_other[0])  # the start still shows ...
assert all(a > b for a, b in zip([0.5] + gaps, gaps))  # ... less after every step ...
assert gaps[-1] < 0.05  # ... and after five steps the gap of 0.5 is below 0.05

# %% [markdown]
# A gap of 0.5 became less than 0.05 in five steps: a plain RNN forgets quickly, which lesson 5
# measures through the gradient.

# %% [markdown]
# ## Up: the state is also this timestep's output
#
# An output layer reads $h_t$ at each step, for example to predict the next token. A second
# recurrent cell could read it instead, as its $x_t$: that is a stacked RNN. A plain encoder,
# which we meet in lesson 6, sends nothing up until the end: its last state is all it hands on
# (lesson 9's attention reads the others too).

# %%
out = Linear(4, 6, rng=1)  # hidden state -> 6 scores, say over a vocabulary of 6 tokens
scores = out.forward(states)
print("scores per timestep, shape", scores.shape)
assert scores.shape == (5, 6)
layer2 = RNNCell(input_size=4, hidden_size=2, rng=2)  # a second layer reads h_t as its input
h2, _ = layer2.forward(states[:1], layer2.initial_state(1))
assert h2.shape == (1, 2)

# %% [markdown]
# ## The hidden state at every timestep
#
# Time runs left to right; each row is one hidden unit; the colour (and the number) is its
# value in (-1, 1). Read a row left to right: one unit changing as each input arrives.

# %%
ax = plot_hidden_states(states, [f"x{t}" for t in range(5)], context=False,
                        title="RNN hidden state: column t is h_t after input x_t;\nread a row to follow one unit")
assert ax.get_xlabel().startswith("timestep")
save_figure(ax, FIGURES / "hidden_states.png")

# %% [markdown]
# ## Summary
#
# - One timestep: $h_t = \tanh(x_t W_x + b_x + h_{t-1} W_h + b_h)$, the same weights every step.
# - $h_t$ goes up (output) and along (to $t+1$).
#
# ## Try it
#
# - Make `hidden_size` 1 and watch one number carry the whole past.
# - Scale `Wh` by 5 (`cell.params["Wh"] *= 5`) and rerun the two starts: do the states still
#   forget where they began?
#
# ## Exercises
#
# Write the step yourself, then its backward pass; `check` grades each output against nprnn's
# own and against finite differences, and names what is wrong:
#
# ```
# nprnn exercise start rnn_step_forward     # writes rnn_step_forward.py: fill in the function
# nprnn exercise check rnn_step_forward.py
# nprnn exercise start rnn_step_backward
# nprnn exercise check rnn_step_backward.py
# ```
