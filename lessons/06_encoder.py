# %% [markdown]
# # Lesson 6: the encoder
#
# **Goal:** read "i am a student" one word per timestep, watch the hidden state after each
# word, and find the context vector: the state after the last word, which is everything the
# decoder will know about the sentence.
#
# The encoder is an embedding followed by a recurrent cell. It produces a state at every
# timestep, but a plain encoder–decoder uses only the last: the **context vector**.

# %%
import numpy as np

from nprnn.data import Vocab, load_task, pad_batch
from nprnn.data.tokenize import WordTokenizer
from nprnn.plots import figure_dir, plot_hidden_states, save_figure
from nprnn.encoder import Encoder

np.set_printoptions(precision=3, suppress=True)
FIGURES = figure_dir("06_encoder")

task = load_task("toy-en-fr")  # the bundled English -> French corpus
words = WordTokenizer()
vocab = Vocab.build(words.tokenize(en) for en, _ in task.train)
print(f"{len(vocab)} English tokens, e.g. {vocab.tokens[4:12]}")
encoder = Encoder(len(vocab), embedding_dim=6, hidden_size=8, cell="lstm", rng=0)

# %% [markdown]
# ## One word per timestep
#
# Token → id → embedding row → one LSTM step. The state $(h, c)$ starts at zero and is
# carried from word to word:
#
# $$x_t = E_{w_t} \qquad (h_t, c_t) = \mathrm{LSTM}\big(x_t, (h_{t-1}, c_{t-1})\big), \quad h_{-1} = c_{-1} = 0$$
#
# where $E$ is the embedding matrix and $w_t$ the id of word t (the LSTM's gates are lesson 3's).
# After the last word, $t = \ell - 1$ for a sentence of $\ell$ words, the state is the
# **context**: $(h_{\ell-1}, c_{\ell-1})$.

# %%
tokens = words.tokenize("i am a student")
ids = np.array(vocab.encode(tokens))
print("tokens:", tokens, "ids:", ids)
state = encoder.cell.initial_state(1)  # (h_{-1}, c_{-1}) = (0, 0)
assert not state[0].any() and not state[1].any()
hs_by_hand = []
for t, (token, i) in enumerate(zip(tokens, ids)):
    x = encoder.embedding.params["W"][i][None, :]  # (1, E): x_t = E[w_t], the row of this word
    state, _ = encoder.cell.forward(x, state)  # (h_t, c_t) = LSTM(x_t, (h_{t-1}, c_{t-1}))
    hs_by_hand.append(state[0][0])
    print(f"t={t} {token:8s} h_t = {state[0][0]}")
hs_by_hand = np.array(hs_by_hand)  # (T, H)

# %% [markdown]
# The same through `Encoder.forward`, which takes a time-major batch (T, B) of ids and runs
# the same steps (the input projections of all words in one matmul first):

# %%
hs, (context,) = encoder.forward(ids[:, None], np.array([len(ids)]))  # one layer: one final state
print("hs shape:", hs.shape, "  context: (h, c), each", context[0].shape)
assert np.allclose(hs[:, 0, :], hs_by_hand)
assert np.allclose(context[0][0], hs_by_hand[-1])  # the context is the state after "student" ...
assert np.allclose(context[1], state[1])  # ... h and c
words_shown = [token.replace("▁", "") for token in tokens]  # drawn without the space marker
ax = plot_hidden_states(hs_by_hand, words_shown,
                        title="untrained encoder, one column per word:\nthe outlined last one is the context")
save_figure(ax, FIGURES / "hidden_states.png")

# %% [markdown]
# ## With padding, each sentence's own last word
#
# In a batch, shorter sentences are padded. Their context must be the state after their own
# last real word, not after the padding. `lengths` tells the encoder where each ends; past
# its end a sentence's state is frozen and its outputs are zero. For sentence b of length
# $\ell_b$, at the padded steps $t \ge \ell_b$:
#
# $$(h_t, c_t) = (h_{t-1}, c_{t-1}) \qquad \text{output}_t = 0 \qquad
# \text{so the context is } (h_{\ell_b - 1}, c_{\ell_b - 1}).$$

# %%
sentences = ["i am a student", "she is tired"]
batch, lengths = pad_batch([vocab.encode(words.tokenize(s)) for s in sentences])
print(batch, "lengths", lengths)
hs, [(h, c)] = encoder.forward(batch, lengths)
assert np.allclose(h[1], hs[2, 1])  # "she is tired": the state after "tired", at t = 2 = l - 1
assert not hs[3, 1].any()  # its output past the end is zero
alone, [(h_alone, c_alone)] = encoder.forward(batch[:3, 1:], np.array([3]))
assert np.allclose(h[1], h_alone[0]) and np.allclose(c[1], c_alone[0])  # exactly as if encoded alone
print("context of 'she is tired' = its state after 'tired':", h[1])

# %% [markdown]
# Had the encoder read the padding as if it were words, the context would be wrong:

# %%
_, [(h_wrong, _)] = encoder.forward(batch, np.array([4, 4]))
print("after reading <pad> too:", h_wrong[1])
assert not np.allclose(h_wrong[1], h[1])

# %% [markdown]
# ## Summary
#
# - The encoder reads one token per timestep; its final state is the context vector.
# - With padding, `lengths` makes the context each sentence's state after its own last word.
#
# ## Try it
#
# - Encode "i am not a student": which timesteps' states change compared with
#   "i am a student", and why can the first two not change?
# - Lesson 8 draws the same heatmap for a trained encoder: compare the two.
#
# ## Exercises
#
# The padding rule above, frozen states and zero outputs past each sentence's end, is half of
# lesson 5's exercise; the other half is its backward pass (no gradient reaches a padded step):
#
# ```
# nprnn exercise start bptt
# nprnn exercise check bptt.py
# ```
