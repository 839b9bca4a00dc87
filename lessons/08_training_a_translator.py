# %% [markdown]
# # Lesson 8: training a translator
#
# **Goal:** train the whole encoder–decoder on the bundled English → French corpus in
# seconds, watch the loss fall, score it on sentences it has never seen, and compare the
# hidden states of the trained encoder with the untrained one.
#
# One training step is everything from the earlier lessons in a row: a batch of padded
# sentences → `model.loss` (encoder, context, decoder with teacher forcing, cross-entropy) →
# `model.backward()` (every gradient by hand) → clip the global gradient norm → an Adam step.
# `nprnn.train.fit` repeats it over shuffled batches for a few epochs, decoding the validation
# sentences after each and keeping the best weights.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nprnn.data import Vocab, load_task
from nprnn.data.tokenize import WordTokenizer
from nprnn.plots import figure_dir, plot_hidden_states, plot_loss, save_figure
from nprnn.seq2seq import Seq2Seq
from nprnn.train import fit
from nprnn.translate import Translator, evaluate

FIGURES = figure_dir("08_training_a_translator")
task = load_task("toy-en-fr")
print(f"{len(task.train)} training pairs, {len(task.valid)} validation, {len(task.test)} test")
print("a test pair:", task.test[0])

# %% [markdown]
# The test sentences pair nouns and adjectives that never appear together in any training
# sentence ("a green car" may be there, and "a red bicycle", but never "a green bicycle"), so
# the model must compose, not recall.

# %%
words = WordTokenizer()  # words and punctuation, case kept, "▁" where a space was
src_vocab = Vocab.build(words.tokenize(en) for en, _ in task.train)
tgt_vocab = Vocab.build(words.tokenize(fr) for _, fr in task.train)
model = Seq2Seq(len(src_vocab), len(tgt_vocab), embedding_dim=32, hidden_size=128, cell="lstm", rng=0, dtype="float32")
translator = Translator(model, src_vocab, tgt_vocab, words, words)  # model, vocabularies, tokenizers
print(f"{model.num_params():,} parameters; vocabularies {len(src_vocab)} -> {len(tgt_vocab)}")
untrained_tokens, untrained_hs = translator.encoder_states("i am a student")
untrained_hs = untrained_hs.copy()

# %% [markdown]
# ## Train (about 15 seconds)

# %%
history = fit(translator, task.train, task.valid, epochs=6, batch_size=32, lr=0.006, rng=1)
assert history[-1]["loss"] < history[0]["loss"] / 5
ax = plot_loss(history, title="training the translator")
save_figure(ax, FIGURES / "loss.png")

# %% [markdown]
# ## Score it on the held-out test sentences
#
# Exact match counts whole sentences; BLEU-4 gives partial credit for matching 1- to 4-word
# runs, over the whole corpus.

# %%
test = evaluate(translator, task.test)
print(f"test: exact match {100 * test['exact']:.1f}%   BLEU {test['bleu']:.1f}")
for en, hyp, refs in list(zip(test["sources"], test["hyps"], test["refs"]))[:6]:
    mark = "ok" if hyp in refs else "  "
    print(f"{mark} {en:40s} -> {hyp:40s} (reference: {refs[0]})")
assert test["bleu"] > 60 and test["exact"] > 0.2
print("i am a student ->", translator.translate(["i am a student"])[0])

# %% [markdown]
# Six epochs of a small model already translate most test sentences exactly. The mistakes are
# telling: given an unseen pair such as "white bicycle", it reaches for an adjective it has
# seen with "vélo". `nprnn demo` trains a larger model for twelve epochs (about a minute) and
# translates every test sentence.
#
# ## What training did to the encoder
#
# Untrained, the encoder's states are small and featureless; trained, its units take strong,
# distinct values per word, and the last column, the context, holds what the decoder needs.

# %%
tokens, trained_hs = translator.encoder_states("i am a student")
fig, axes = plt.subplots(1, 2, figsize=(9, 5.5), layout="constrained")
plot_hidden_states(untrained_hs, untrained_tokens, ax=axes[0], max_units=40, title="untrained encoder")
plot_hidden_states(trained_hs, tokens, ax=axes[1], max_units=40, title="trained encoder")
save_figure(fig, FIGURES / "encoder_before_after.png")
print(f"mean |h|: untrained {np.abs(untrained_hs).mean():.3f}, trained {np.abs(trained_hs).mean():.3f}")
assert np.abs(trained_hs).mean() > np.abs(untrained_hs).mean()

# %% [markdown]
# ## Summary
#
# - Training = loss, backward, clip, step; repeated over shuffled, length-grouped batches.
# - Held-out exact match and BLEU say whether it learned the grammar or the sentences.
#
# **Try it:** train with `cell="gru"`, or `hidden_size=256` and 12 epochs (the demo's
# settings). What is the smallest model that translates every test sentence?
