# %% [markdown]
# # Lesson 2: words to vectors
#
# **Goal:** turn a sentence into the arrays a recurrent network reads, and see that an
# embedding lookup is a matrix product whose gradient is a scatter-add.
#
# The path: text → tokens → ids (through a vocabulary) → a padded, time-major batch of ids
# (T, B) → vectors (T, B, E) through an embedding matrix.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nprnn import Embedding
from nprnn.data import Vocab, pad_batch
from nprnn.data.tokenize import WordTokenizer
from nprnn.plots import figure_dir, save_figure

np.set_printoptions(precision=3, suppress=True)
FIGURES = figure_dir("02_words_to_vectors")

# %% [markdown]
# ## Tokens
#
# The word tokenizer splits words and punctuation, keeps case and accents, and marks each token
# that follows a space with "▁" (as SentencePiece does). The marker is what lets the tokens
# turn back into exactly the text they came from, spaces and all: `detokenize(tokenize(s))`
# is `s` (with runs of spaces made one). The apostrophe of French elision is a token of its
# own, so *ai* is the same token in *j'ai* and *je n'ai pas*.

# %%
words = WordTokenizer()
print(words.tokenize("I am a student."))
print(words.tokenize("Je n'ai pas d'étudiante."))
assert words.tokenize("I am a student.") == ["▁I", "▁am", "▁a", "▁student", "."]
assert words.tokenize("J'ai")[-1] == "ai" and words.tokenize("je n'ai pas")[3] == "ai"
assert words.detokenize(words.tokenize("Je n'ai  pas d'étudiante.")) == "Je n'ai pas d'étudiante."

# %% [markdown]
# ## The vocabulary
#
# Four ids are reserved: `<pad>` 0 fills short sentences up to the longest of a batch, `<sos>`
# 1 starts every target sentence, `<eos>` 2 ends it, `<unk>` 3 stands for any word the
# vocabulary does not know. The other tokens get ids by frequency, most frequent first, ties
# in alphabetical order, so the same corpus always gives the same ids.

# %%
corpus = ["i am a student", "she is a student", "i am tired", "we are students"]
vocab = Vocab.build(words.tokenize(s) for s in corpus)
print(vocab.tokens)
ids = vocab.encode(words.tokenize("i am a teacher"))
print("i am a teacher ->", ids, "->", vocab.decode(ids))
assert vocab.tokens[:4] == ["<pad>", "<sos>", "<eos>", "<unk>"]
assert ids[-1] == 3  # "teacher" was never seen: <unk>
counts = {tok: sum(words.tokenize(s).count(tok) for s in corpus) for tok in vocab.tokens[4:]}
print("counts in id order:", list(counts.values()))
assert list(counts) == sorted(counts, key=lambda tok: (-counts[tok], tok))  # by frequency, then alphabetically
print("as a target:", vocab.encode(words.tokenize("i am tired"), sos=True, eos=True))

# %% [markdown]
# ## A batch is time-major and padded
#
# Sentences of different lengths become one (T, B) array: column b is sentence b, row t is
# timestep t, and the short ones are filled with `<pad>`. `lengths` remembers where each ends.

# %%
sentences = ["i am a student", "we are students", "i am tired"]
batch, lengths = pad_batch([vocab.encode(words.tokenize(s)) for s in sentences])
print(batch)
print("lengths:", lengths)
assert batch.shape == (4, 3) and list(lengths) == [4, 3, 3]
assert batch[3, 1] == 0 and batch[3, 2] == 0  # padding

# %% [markdown]
# ## The embedding: a row of a matrix
#
# An embedding is a matrix $W$ (V, E): token k becomes row k. Looking up a row is multiplying
# its one-hot vector by $W$:
#
# $$x_{t,b} = W_{w_{t,b}} = \mathrm{onehot}(w_{t,b})\, W \qquad (1, V)\,(V, E) \to (1, E)$$
#
# so the lookup is a linear layer whose input happens to be one-hot. Nobody computes it that
# way: the product spends V × E multiply-adds per token to find the E numbers a lookup copies.
#
# `Embedding(V, E)` has a third argument, `padding_idx`, whose default is 0, the id of `<pad>`
# (as in `torch.nn.Embedding(V, E, padding_idx=0)`). Padding is not a word: it only fills the
# short sentences of a batch up to the longest. So the embedding gives it a constant zero vector,
# whatever row 0 of W holds, and, below, no gradient.

# %%
emb = Embedding(len(vocab), 3, rng=0)  # E = 3 dimensions per token; padding_idx=0 by default
assert emb.padding_idx == 0 == vocab.ids["<pad>"]
vectors = emb.forward(batch)  # (T, B, E): x[t, b] = W[w[t, b]]
print("vectors shape:", vectors.shape)
one_hot = np.eye(len(vocab))[batch]  # (T, B, V)
assert np.allclose(vectors, one_hot @ emb.params["W"])  # x = onehot(w) W
k = vocab.ids["▁student"]
print(f"'student' is id {k}; its vector is row {k} of W:", emb.params["W"][k])
assert np.allclose(vectors[3, 0], emb.params["W"][k])
assert not vectors[3, 1].any()  # <pad> is a zero vector ...
emb.params["W"][0] = 7.0  # ... whatever row 0 holds
assert not emb.forward(batch)[3, 1].any()
emb.params["W"][0] = 0.0

# %% [markdown]
# ## Its gradient: a scatter-add
#
# Since $x = \mathrm{onehot}(w)\,W$, the gradient of $W$ is $\mathrm{onehot}^\top \,\partial L/\partial x$:
# each output gradient is *added* into the row of the token that produced it,
#
# $$\frac{\partial L}{\partial W_k} = \sum_{(t, b)\,:\,w_{t,b} = k} \frac{\partial L}{\partial x_{t,b}}
# \quad (k \neq \text{<pad>}), \qquad \frac{\partial L}{\partial W_{\text{<pad>}}} = 0.$$
#
# A token used twice gets two contributions. The `<pad>` row gets none: that is `padding_idx=0`
# at work. Its output is zero whatever the row holds (above), so the true gradient of the row
# is zero, and padding never learns anything.
#
# In NumPy the scatter-add is `np.add.at(dW, ids, dx)`. The obvious `dW[ids] += dx` is wrong:
# where an id repeats, it keeps only the last contribution instead of adding them all.

# %%
dvectors = np.random.default_rng(1).normal(size=vectors.shape)  # dL/dx, as if from a loss
emb.backward(dvectors)  # the library's scatter-add
expected = one_hot.reshape(-1, len(vocab)).T @ dvectors.reshape(-1, 3)  # onehotᵀ dL/dx
expected[0] = 0.0  # the padding row
assert np.allclose(emb.grads["W"], expected)
scatter = np.zeros_like(emb.params["W"])
real = batch != 0  # every position but <pad>
np.add.at(scatter, batch[real], dvectors[real])  # dL/dW[w[t, b]] += dL/dx[t, b], repeats adding up
assert np.allclose(emb.grads["W"], scatter)  # the same scatter-add, written as one NumPy call
wrong = np.zeros_like(emb.params["W"])
wrong[batch[real]] += dvectors[real]  # fancy-index +=: a repeated id is written, not added
i = vocab.ids["▁i"]
assert np.allclose(wrong[i], dvectors[batch == i][-1]) and not np.allclose(wrong[i], scatter[i])  # the last use only
print(f"'i' appears {int((batch == i).sum())} times; its gradient is the sum of those:", emb.grads["W"][i])
assert (batch == i).sum() == 2 and np.allclose(emb.grads["W"][i], dvectors[batch == i].sum(axis=0))  # its two uses
assert not emb.grads["W"][0].any()

# %% [markdown]
# ## The batch, drawn

# %%
fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
ax.imshow(batch != 0, cmap="Greens", vmin=0, vmax=1.6, aspect="auto")  # light green: a word; white: <pad>
for t in range(batch.shape[0]):
    for b in range(batch.shape[1]):
        ax.text(b, t, f"{vocab.tokens[batch[t, b]]}\n{batch[t, b]}", ha="center", va="center", fontsize=9)
ax.set_xticks(range(3))
ax.set_xticklabels([f"sentence {b}" for b in range(3)])
ax.set_yticks(range(4))
ax.set_xlabel("batch column b")
ax.set_ylabel("timestep t")
ax.set_title("one sentence per column, one timestep per row;\n<pad> (white) fills the shorter ones")
save_figure(ax, FIGURES / "batch.png")

# %% [markdown]
# ## Summary
#
# - text → tokens → ids → a padded (T, B) batch with lengths → (T, B, E) vectors.
# - An embedding lookup is one_hot @ W; its gradient is a scatter-add into the rows used, and
#   nothing into the `<pad>` row (`padding_idx`).
#
# ## Try it
#
# - Build the vocabulary with `min_freq=2`: which words become `<unk>`?
# - Make a batch in which one sentence uses "i" three times, and check that row "▁i" of the
#   gradient is the sum of three rows of `dvectors`.
#
# ## Exercises
#
# ```
# nprnn exercise start embedding_backward     # the scatter-add: repeated ids, and nothing for <pad>
# nprnn exercise check embedding_backward.py
# ```
