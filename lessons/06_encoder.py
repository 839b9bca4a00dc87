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
# Token → id → embedding row → one LSTM step. The state $(h, c)$ is carried from word to word.

# %%
tokens = words.tokenize("i am a student")
ids = np.array(vocab.encode(tokens))
print("tokens:", tokens, "ids:", ids)
state = encoder.cell.initial_state(1)
hs_by_hand = []
for t, (token, i) in enumerate(zip(tokens, ids)):
    x = encoder.embedding.params["W"][i][None, :]  # (1, E): the row of this word
    state, _ = encoder.cell.forward(x, state)
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
assert np.allclose(context[0][0], hs_by_hand[-1])  # the context is the state after "student"
ax = plot_hidden_states(hs_by_hand, tokens, title='encoder hidden state per word (untrained)')
save_figure(ax, FIGURES / "hidden_states.png")

# %% [markdown]
# ## With padding, each sentence's own last word
#
# In a batch, shorter sentences are padded. Their context must be the state after their own
# last real word, not after the padding. `lengths` tells the encoder where each ends; past
# its end a sentence's state is frozen and its outputs are zero.

# %%
sentences = ["i am a student", "she is tired"]
batch, lengths = pad_batch([vocab.encode(words.tokenize(s)) for s in sentences])
print(batch, "lengths", lengths)
hs, [(h, c)] = encoder.forward(batch, lengths)
assert np.allclose(h[1], hs[2, 1])  # "she is tired": the state after "tired", at t = 2
assert not hs[3, 1].any()  # its output past the end is zero
alone, [(h_alone, _)] = encoder.forward(batch[:3, 1:], np.array([3]))
assert np.allclose(h[1], h_alone[0])  # exactly as if it had been encoded alone
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
# **Try it:** encode "i am not a student": which timesteps' states change compared with
# "i am a student"? Lesson 8 shows the same heatmap for a trained encoder.
