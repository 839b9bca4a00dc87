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

from nprnn.data import pad_batch
from nprnn.data.tasks import Task, _defaults, load_task
from nprnn.functional import softmax
from nprnn.plots import figure_dir, plot_attention, save_figure
from nprnn.plots import OKABE_ITO
from nprnn.data.vocab import SOS
from nprnn.train import train_task
from nprnn.translate import evaluate

np.set_printoptions(precision=3, suppress=True)
FIGURES = figure_dir("09_attention")
quiet = dict(log=lambda *a: None)

# %% [markdown]
# ## The bottleneck
#
# Reverse strings of 3 to 14 letters, with a small model (an LSTM of 64 units), without and
# with attention, trained the same way for the same number of epochs. Then measure exact
# match by source length.

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
    by_length[name] = np.array([hits[lengths == n].mean() for n in range(3, 15)])
    print(f"{name:20s}", " ".join(f"{100 * a:3.0f}" for a in by_length[name]))
plain_acc, attention_acc = by_length["one context vector"], by_length["attention"]
assert attentive_test["exact"] > plain_test["exact"]

fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for (name, acc), colour, marker in zip(by_length.items(), OKABE_ITO, "os"):
    ax.plot(range(3, 15), 100 * acc, marker=marker, color=colour, label=name)
ax.set_xticks(range(3, 15))
ax.set_xlabel("source length (characters)")
ax.set_ylabel("exact match (%)")
ax.set_ylim(0, 105)
ax.legend(loc="lower left")
ax.set_title("reversing strings: one context vector fails on long strings;\n"
             "attention holds out longer, but not to the end")
save_figure(fig, FIGURES / "bottleneck.png")

# %% [markdown]
# Without attention, accuracy falls as strings grow, to under 10% at 13 and 14 characters:
# everything the decoder knows of the string must squeeze through one state, the LSTM's $h$
# and $c$ of 64 numbers each. With attention the decoder can look at every encoder output at
# every step, so that state is no longer the only way through. Measured over lengths 11 to
# 14, attention is right on 69% of the strings and the single context vector on 8%: that is
# what attention fixes (asserted below: more than three times as many).
#
# What it does not fix: the decoder still has to find, at each of its 14 steps, the one
# position to copy, by matching its query against encoder states that must themselves encode
# where each letter is, and one slip spoils a string. At length 14 only 47% of the strings
# come out exactly right, though 89% of the characters are in the right place: most of the
# wrong strings have the right length, and in most of those just two letters are out of
# place (a few are printed below, `^` under each wrong letter).

# %%
def char_accuracy(result, n):
    """The fraction of characters in the right place, over the test strings of length n."""
    pairs = [(h, r[0]) for s, h, r in zip(result["sources"], result["hyps"], result["refs"]) if len(s) == n]
    return np.mean([sum(a == b for a, b in zip(h, r)) / len(r) for h, r in pairs])


long_plain, long_attention = plain_acc[-4:].mean(), attention_acc[-4:].mean()  # lengths 11 to 14
chars_14 = char_accuracy(attentive_test, 14)
print(f"lengths 11-14: one context vector {100 * long_plain:.0f}%, attention {100 * long_attention:.0f}%")
print(f"length 14 with attention: {100 * attention_acc[-1]:.0f}% of strings exactly right, "
      f"{100 * chars_14:.0f}% of characters in the right place")
wrong_14 = [(h, r[0]) for s, h, r in zip(attentive_test["sources"], attentive_test["hyps"], attentive_test["refs"])
            if len(s) == 14 and h not in r]
same_length = [(h, r) for h, r in wrong_14 if len(h) == len(r)]
misplaced = [sum(a != b for a, b in zip(h, r)) for h, r in same_length]  # letters out of place in each
for h, r in same_length[:3]:
    print(f"  wrote {h}\n  want  {r}\n        {''.join(' ' if a == b else '^' for a, b in zip(h, r))}")
print(f"{len(wrong_14)} wrong strings of 14, {len(same_length)} of them of the right length; "
      f"letters out of place in those: {sorted(misplaced)}")
assert plain_acc[0] > 0.9 and plain_acc[-2:].max() < 0.1  # the bottleneck: near 100% short, under 10% at 13-14
assert long_attention > 3 * long_plain and 0.6 < long_attention < 0.8 and long_plain < 0.15  # 69% against 8%
assert 0.35 < attention_acc[-1] < 0.6  # ... but only about half the strings of 14 (47%)
assert chars_14 > 0.8  # yet most characters are in the right place (89%): a slip or two spoils a string
assert len(same_length) > len(wrong_14) / 2 and np.median(misplaced) == 2  # mostly right length, two letters off

# %% [markdown]
# So attention widens the bottleneck a great deal, but does not make long strings easy.
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
assert a.argmax() == 7 and first == "h"  # the last letter, written first

# %% [markdown]
# Padding gets no weight: the mask sets the scores of padded positions to $-\infty$ before
# the softmax. Put "abcdefgh" in a batch beside a string of 3 letters:

# %%
batch_src, batch_lengths = pad_batch(attentive.encode(["abcdefgh", "abc"]))
memory, states = model.encode(batch_src, batch_lengths)
_, _, weights = model.decoder.step(np.array([SOS, SOS]), states, memory)
print("weights of 'abc' over 8 positions:", weights[1])
assert not weights[1, 3:].any() and np.isclose(weights[1].sum(), 1.0)  # zero on padding; the rest sums to 1

# %% [markdown]
# ## Alignment in a trained model
#
# Dates in many formats to ISO: the year must be read from wherever it is. A small model with
# attention, trained for two epochs on 4,000 dates:

# %%
dates = load_task("dates")
small = Task("dates-small", "char", dates.train[:4000], dates.valid[:200], dates.test[:200], dict(dates.defaults))
translator, _, _ = train_task(small, attention="dot", reverse_source=False, hidden_size=96, embedding_dim=16, epochs=2,
                              batch_size=32, lr=0.01, seed=0, **quiet)
valid_exact = evaluate(translator, small.valid)["exact"]
print(f"validation exact match after 2 epochs: {100 * valid_exact:.0f}%")
assert valid_exact > 0.8
text = "Tuesday, Sep 27, 1994"
src = np.array(translator.encode([text])[0])[:, None]
hyps = translator.model.greedy_decode(src, max_len=12)
maps = translator.model.attention_weights(src, hyps)
out_tokens = translator.tgt_vocab.decode(hyps[0])
print(text, "->", "".join(out_tokens))
rows = maps[0][: len(out_tokens)]
ax = plot_attention(rows, list(text), out_tokens,
                    title=f'where the decoder looks while writing each character of "{text}":\n'
                          "the year from the year, the day from the day")
save_figure(ax, FIGURES / "dates_alignment.png")
year_rows = rows[:4].sum(axis=0)  # where it looked while writing the year
on_year = year_rows[-4:].sum() / 4
print(f"attention on the source's last 4 characters while writing the year: {on_year:.3f}")
assert on_year > 0.5  # it reads the year where the year is ...
day = text.index("27")
assert "".join(out_tokens[8:10]) == "27" and rows[8].argmax() == day and rows[9].argmax() == day + 1  # ... the day too
assert rows.shape == (len(out_tokens), len(text))
assert np.allclose(maps[0].sum(axis=1), 1.0)

# %% [markdown]
# ## Summary
#
# - One fixed vector limits what a decoder can know of a long source.
# - Attention: scores → softmax weights → a weighted average of the encoder's outputs, at
#   every step; padding gets weight zero; the heatmap shows the alignment it learned.
# - It widens the bottleneck, and does not remove every difficulty: with attention this small
#   model gets 69% of strings of 11 to 14 letters right instead of 8%, but only about half
#   (47%) of those of 14.
#
# ## Try it
#
# - `attention="additive"` or `"general"` in the first experiment; `hidden_size=128` or 8
#   epochs: how far does the attention curve move at length 14?
# - Train the dates model longer (`nprnn train --task dates`; the README gives its score).
#
# ## Exercises
#
# The exercise uses the "general" score, $e_s = s_t \cdot (h_s W_a)$, one matrix more than the
# dot score above:
#
# ```
# nprnn exercise start attention_backward    # the score, the softmax, the context, the combine layer
# nprnn exercise check attention_backward.py
# ```
