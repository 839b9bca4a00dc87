# %% [markdown]
# # Lesson 4: the GRU cell, and two places for its reset gate
#
# **Goal:** compute a GRU step by hand, and see that the two published forms of the GRU are
# different functions of the same weights.
#
# The GRU (Cho et al. 2014) has one state, $h$, and three blocks of weights, r, z, n:
#
# $$r = \sigma(x W_{xr} + b_{xr} + h_{t-1} W_{hr} + b_{hr}) \qquad \text{reset gate}$$
# $$z = \sigma(x W_{xz} + b_{xz} + h_{t-1} W_{hz} + b_{hz}) \qquad \text{update gate}$$
# $$n = \tanh(x W_{xn} + b_{xn} + r \odot (h_{t-1} W_{hn} + b_{hn})) \qquad \text{candidate}$$
# $$h_t = (1 - z) \odot n + z \odot h_{t-1}$$
#
# z interpolates between keeping the old state and taking the candidate: it does the work of
# the LSTM's f and i gates with one number per unit. The reset r decides how much of the past
# the candidate may look at.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nprnn import GRUCell
from nprnn.gradcheck import check_cell
from nprnn.plots import DIVERGING, figure_dir, plot_hidden_states, save_figure

np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(0)
FIGURES = figure_dir("04_gru_cell")


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# %%
D, H = 3, 4
after = GRUCell(D, H, rng=0)  # PyTorch's and cuDNN's form (the default)
before = GRUCell(D, H, reset_after=False, rng=0)  # the paper's form, the very same weights
p = after.params
assert all(np.array_equal(p[k], before.params[k]) for k in p)
x, h_prev = rng.normal(size=(1, D)), rng.normal(size=(1, H))
blocks = lambda a: (a[:, :H], a[:, H : 2 * H], a[:, 2 * H :])  # noqa: E731  (r, z, n columns)
ax_r, ax_z, ax_n = blocks(x @ p["Wx"] + p["bx"])
ah_r, ah_z, ah_n = blocks(h_prev @ p["Wh"] + p["bh"])

# %% [markdown]
# ## Reset after the matmul (PyTorch, cuDNN)

# %%
r = sigmoid(ax_r + ah_r)
z = sigmoid(ax_z + ah_z)
n = np.tanh(ax_n + r * ah_n)  # r scales the product h_prev @ W_hn + b_hn
h_after = (1 - z) * n + z * h_prev
print("r =", r, "\nz =", z, "\nh (reset after)  =", h_after)
assert np.allclose(h_after, after.forward(x, h_prev)[0])

# %% [markdown]
# ## Reset before the matmul (Cho et al. 2014)
#
# The paper resets the state *before* it meets $W_{hn}$:
# $n = \tanh(x W_{xn} + b_{xn} + (r \odot h_{t-1}) W_{hn} + b_{hn})$.

# %%
W_hn, b_hn = p["Wh"][:, 2 * H :], p["bh"][2 * H :]
n_before = np.tanh(ax_n + (r * h_prev) @ W_hn + b_hn)
h_before = (1 - z) * n_before + z * h_prev
print("h (reset before) =", h_before)
assert np.allclose(h_before, before.forward(x, h_prev)[0])
print("difference       =", h_after - h_before)
assert np.abs(h_after - h_before).max() > 1e-3

# %% [markdown]
# ## Why two forms exist
#
# They differ only in where $r$ meets $h_{t-1}$: $r \odot (h W_{hn})$ versus $(r \odot h) W_{hn}$.
# Reset-after lets all three blocks of $h_{t-1} W_h$ be **one** matmul, computed before the
# gates, which is why cuDNN chose it and PyTorch followed; reset-before must wait for $r$
# before its last matmul. They are different functions of the same weights (above), so a
# model trained in one form cannot be loaded into the other with the same results; both are in
# use (Keras offers both, as `GRU(reset_after=...)`, and defaults to reset-after for cuDNN).
# `GRUCell` implements both, and both are gradient-checked:

# %%
for cell in (GRUCell(4, 5, rng=1), GRUCell(4, 5, reset_after=False, rng=1)):
    worst = max(check_cell(cell).values())
    print(f"reset_after={cell.reset_after}: worst relative error {worst:.1e}")
    assert worst < 1e-7

# %% [markdown]
# ## Over a sequence
#
# Run both forms over the same 10 inputs from the same start, $h = 0$, and measure the
# largest gap between their states at each step.

# %%
xs = rng.normal(size=(10, 1, D))
traces = {}
for name, cell in (("reset after", after), ("reset before", before)):
    h = np.zeros((1, H))
    trace = []
    for t in range(10):
        h, _ = cell.forward(xs[t], h)
        trace.append(h[0])
    traces[name] = np.array(trace)
gap = np.abs(traces["reset after"] - traces["reset before"]).max(axis=1)
print("largest gap per timestep:", gap)
# Even the first step, from h = 0, differs: reset-after gives r * (0 @ W_hn + b_hn) = r * b_hn,
# reset-before gives (r * 0) @ W_hn + b_hn = b_hn. The bias sits inside the reset in one, outside in the other.
r0 = sigmoid((xs[0] @ p["Wx"] + p["bx"])[:, :H] + p["bh"][:H])
n0_after = np.tanh((xs[0] @ p["Wx"] + p["bx"])[:, 2 * H :] + r0 * b_hn)
n0_before = np.tanh((xs[0] @ p["Wx"] + p["bx"])[:, 2 * H :] + b_hn)
z0 = sigmoid((xs[0] @ p["Wx"] + p["bx"])[:, H : 2 * H] + p["bh"][H : 2 * H])
assert np.allclose(np.abs((1 - z0) * (n0_after - n0_before)).max(), gap[0])

# %% [markdown]
# So the gap is there from the very first step. What happens to it next? It neither grows nor
# dies out: over the ten steps it stays between half and twice its first size. Split each
# step's gap in two. One part is new: fed the *same* $h_{t-1}$, the two forms already
# disagree, because $r$ multiplies a different thing in each. The other part is the old gap,
# carried along through $h_{t-1}$, and the cell passes on only a fraction of it (less than
# 0.8 here, at every step). A gap that is shrunk at every step and topped up at every step
# does not compound: here it is never more than three times the gap its own step made.

# %%
fresh, carried = [], []  # the gap one step makes on its own, and the fraction of the old gap it passes on
for t in range(10):
    h_a = np.zeros((1, H)) if t == 0 else traces["reset after"][t - 1][None]  # each form's own h_{t-1}
    h_b = np.zeros((1, H)) if t == 0 else traces["reset before"][t - 1][None]
    fresh.append(np.abs(after.forward(xs[t], h_a)[0] - before.forward(xs[t], h_a)[0]).max())  # same h_{t-1}
    if t > 0:  # one form, the two different h_{t-1}: what is left of the old gap
        carried.append(np.abs(before.forward(xs[t], h_a)[0] - before.forward(xs[t], h_b)[0]).max() / gap[t - 1])
print("gap made by each step alone:  ", np.round(fresh, 3))
print("fraction of the old gap kept: ", np.round(carried, 2))
print("gap between the two runs:     ", np.round(gap, 3))
assert 0.5 * gap[0] < gap.min() and gap.max() < 2 * gap[0]  # neither dies out nor grows
assert min(fresh) > 0.02  # every step makes a difference of its own ...
assert max(carried) < 0.8  # ... and passes on less than 0.8 of the old one
assert np.all(gap < 3 * np.array(fresh))  # so the gap stays within three times the step's own

fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), layout="constrained")
for ax, (name, trace) in zip(axes, traces.items()):
    plot_hidden_states(trace, ax=ax, context=False, title=f"GRU, {name}")
diff = traces["reset after"] - traces["reset before"]  # (T, H)
m = np.abs(diff).max()
image = axes[2].imshow(diff.T, aspect="auto", cmap=DIVERGING, vmin=-m, vmax=m, interpolation="nearest")
for t in range(diff.shape[0]):
    for unit in range(H):
        text = f"{diff[t, unit]:.2f}".replace("-0.00", "0.00").replace("-", "\u2212")
        axes[2].text(t, unit, text, ha="center", va="center", fontsize=6.5,
                     color="white" if abs(diff[t, unit]) > 0.6 * m else "black")  # legible on dark cells
axes[2].set_xticks(range(10))
axes[2].set_yticks(range(H))
axes[2].set_xlabel("timestep t")
axes[2].set_ylabel("hidden unit")
fig.suptitle("the same weights and inputs through the two GRU forms: the states look alike; "
             "their difference (right) stays about the same size")
axes[2].set_title(f"after − before: never above {m:.2f},\nneither growing nor dying out")
fig.colorbar(image, ax=axes[2]).set_label("difference in h_t[unit]")
save_figure(fig, FIGURES / "reset_after_vs_before.png")

# %% [markdown]
# ## Summary
#
# - GRU: two gates and a candidate; $h_t = (1-z) \odot n + z \odot h_{t-1}$.
# - The reset gate can go after the hidden matmul (fast: one matmul) or before it (the paper).
# - The two forms differ at every step (the bias $b_{hn}$ and the product with $r$), and the
#   gap between them stays about the same size: each step shrinks the old gap and makes a new one.
#
# ## Try it
#
# - Set the z block of `bh` to +4 in both cells (`after.params["bh"][H : 2 * H] = 4`, and the
#   same in `before.params`): what do the states do, and what happens to the gap?
# - Set the n block of `bh`, $b_{hn}$, to zero in both: is the first step's gap gone?
#
# ## Exercises
#
# ```
# nprnn exercise start gru_step_backward      # reset after the hidden matmul, as here and in PyTorch
# nprnn exercise check gru_step_backward.py
# ```
