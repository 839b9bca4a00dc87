# %% [markdown]
# # Lesson 9: attention
#
# **Goal:** see why one context vector is a bottleneck, compute one attention step by hand,
# and watch a trained model look at the right part of its input.
#
# The plain decoder knows the source only through the encoder's last state: a fixed-size
# vector, however long the sentence. Attention (Bahdanau et al. 2015, Luong et al. 2015) lets
# every decoder step look back at *all* the encoder's outputs and take a weighted average of
# them, weighted by how well each matches what the decoder needs now.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nprnn.data.tasks import Task, _defaults, load_task
from nprnn.functional import softmax
from nprnn.plots import figure_dir, plot_attention, save_figure
from nprnn.data.vocab import SOS
from nprnn.train import train_task
from nprnn.translate import evaluate

np.set_printoptions(precision=3, suppress=True)
FIGURES = figure_dir("09_attention")
quiet = dict(log=lambda *a: None)

# %% [markdown]
# ## The bottleneck
#
# Reverse strings of 3 to 14 letters, with a small model, without and with attention, trained
# the same way for the same time. Then measure exact match by source length.

# %%
rng = np.random.default_rng(0)
letters = np.array(list("abcdefgh"))
strings = ["".join(rng.choice(letters, size=n)) for n in rng.integers(3, 15, size=4000)]
pairs = [(s, s[::-1]) for s in strings]
task = Task("reverse-small", "char", pairs[:3400], pairs[3400:3500], pairs[3500:], _defaults("reverse"))
settings = dict(hidden_size=64, embedding_dim=16, epochs=4, batch_size=32, lr=0.01, patience=6, dtype="float32", seed=0, **quiet)
plain, _, plain_test = train_task(task, attention="none", **settings)
attentive, _, attentive_test = train_task(task, attention="dot", **settings)
print(f"exact match, plain: {100 * plain_test['exact']:.1f}%   with attention: {100 * attentive_test['exact']:.1f}%")

by_length = {}
for name, result in (("one context vector", plain_test), ("attention", attentive_test)):
    lengths = np.array([len(s) for s in result["sources"]])  # each distinct test source once
    hits = np.array([h in r for h, r in zip(result["hyps"], result["refs"])])  # right if it equals a target
    by_length[name] = [hits[lengths == n].mean() for n in range(3, 15)]
    print(f"{name:20s}", " ".join(f"{100 * a:3.0f}" for a in by_length[name]))
assert attentive_test["exact"] > plain_test["exact"]
assert np.mean(by_length["attention"][-4:]) > np.mean(by_length["one context vector"][-4:])  # long strings

fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
for name, acc in by_length.items():
    ax.plot(range(3, 15), 100 * np.array(acc), "o-", label=name)
ax.set_xlabel("source length (characters)")
ax.set_ylabel("exact match (%)")
ax.set_ylim(0, 105)
ax.legend()
ax.set_title("reversing strings: accuracy by length")
save_figure(fig, FIGURES / "bottleneck.png")

# %% [markdown]
# Without attention, accuracy falls as strings grow: everything must squeeze through one
# 64-number state. With attention, the decoder reads the letter it needs directly.
#
# ## One attention step, by hand
#
# At decoder step t, with its output $s_t$ (the query) and the encoder's outputs $h_1..h_S$:
#
# $$e_{s} = s_t \cdot h_s \qquad a = \mathrm{softmax}(e) \qquad c_t = \sum_s a_s h_s
# \qquad \tilde h_t = \tanh([c_t; s_t] W_c + b_c)$$
#
# and the output layer reads $\tilde h_t$ instead of $s_t$.

# %%
model = attentive.model
src = np.array(attentive.encode(["abcdefgh"])[0])[:, None]
memory, states = model.encode(src)
ids = np.array([SOS])
logits, _, weights = model.decoder.step(ids, states, memory)  # the library's first step
h = memory.outputs[:, 0, :]  # (S, H): the encoder's outputs for this string
s_0, _ = model.decoder.layers[0].forward(model.decoder.embedding.forward(ids[None]), states[0])  # the query
s_0 = s_0[0, 0]  # (H,)
e = h @ s_0  # one score per source position
a = softmax(e)
c = a @ h
att = model.decoder.attention.params
h_tilde = np.tanh(np.concatenate([c, s_0]) @ att["W_c"] + att["b_c"])
print("scores :", e)
print("weights:", a, " (sum", a.sum(), ")")
assert np.allclose(a, weights[0], atol=1e-5)
out = model.decoder.out.params
assert np.allclose(h_tilde @ out["W"] + out["b"], logits[0], atol=1e-4)
first = attentive.tgt_vocab.tokens[int(np.argmax(logits[0]))]
print(f"it looks hardest at position {a.argmax()} ('{'abcdefgh'[a.argmax()]}') and writes '{first}' first")

# %% [markdown]
# ## Alignment in a trained model
#
# Dates in many formats to ISO: the year must be read from wherever it is. A small model with
# attention, trained for a few seconds:

# %%
dates = load_task("dates")
small = Task("dates-small", "char", dates.train[:4000], dates.valid[:200], dates.test[:200], dict(dates.defaults))
translator, _, _ = train_task(small, attention="dot", reverse_source=False, hidden_size=96, embedding_dim=16, epochs=2,
                              batch_size=32, lr=0.01, seed=0, **quiet)
print(f"validation exact match after 2 epochs: {100 * evaluate(translator, small.valid)['exact']:.0f}%")
text = "Tuesday, Sep 27, 1994"
src = np.array(translator.encode([text])[0])[:, None]
hyps = translator.model.greedy_decode(src, max_len=12)
maps = translator.model.attention_weights(src, hyps)
out_tokens = translator.tgt_vocab.decode(hyps[0])
print(text, "->", "".join(out_tokens))
rows = maps[0][: len(out_tokens)]
ax = plot_attention(rows, list(text), out_tokens, title=f'where the decoder looks: "{text}"')
save_figure(ax, FIGURES / "dates_alignment.png")
year_rows = rows[:4].sum(axis=0)  # where it looked while writing the year
on_year = year_rows[-4:].sum() / 4
print(f"attention on the source's last 4 characters while writing the year: {on_year:.3f}")
assert on_year > 0.5  # it reads the year where the year is
assert rows.shape == (len(out_tokens), len(text))
assert np.allclose(maps[0].sum(axis=1), 1.0)

# %% [markdown]
# ## Summary
#
# - One fixed vector limits what a decoder can know of a long source.
# - Attention: scores → softmax weights → a weighted average of the encoder's outputs, at
#   every step; padding gets weight zero; the heatmap shows the alignment it learned.
#
# **Try it:** `attention="additive"` or `"general"` in the first experiment; a longer
# training of the dates model (`nprnn train --task dates` gets all 2,000 held-out dates right).
