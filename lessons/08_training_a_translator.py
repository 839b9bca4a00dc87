# %% [markdown]
# # Lesson 8: training a translator
#
# **Goal:** train the whole encoder–decoder on the bundled English → French corpus for six
# epochs, watch the loss fall, score it on sentences it has never seen, and compare the
# hidden states of the trained encoder with the untrained one.
#
# One training step is everything from the earlier lessons in a row: a batch of padded
# sentences → `model.loss` (encoder, context, decoder with teacher forcing, cross-entropy) →
# `model.backward()` (every gradient by hand) → clip the global gradient norm → an Adam step.
# `nprnn.train.fit` repeats it over shuffled batches for a few epochs, decoding the validation
# sentences after each and keeping the best weights.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from nprnn.data import Vocab, load_task, make_batches
from nprnn.data.tasks import TASK_DEFAULTS
from nprnn.data.tokenize import WordTokenizer
from nprnn.data.toy_en_fr import ADJECTIVES, NOUNS
from nprnn.optim import Adam, clip_grad_norm_
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
# sentence, though each word appears in training with others, so the model must compose, not
# recall. Check it:

# %%
adjectives, nouns = {a[0] for a in ADJECTIVES}, {n[0] for n in NOUNS}


def combination(sentence):
    """The (adjective, noun) pair of an English sentence, or None."""
    words = sentence.split()
    return next(((a, n) for a, n in zip(words, words[1:]) if a in adjectives and n in nouns), None)


seen = {combination(en) for en, _ in task.train} - {None}
unseen = {combination(en) for en, _ in task.test} - {None}
adjective, noun = sorted(unseen)[0]
with_noun = sorted({a for a, n in seen if n == noun})
print(f"{len(unseen)} (adjective, noun) pairs in the test sentences, none of them in training; "
      f'e.g. "{adjective} {noun}", while training has "{noun}" only with {", ".join(with_noun)}')
assert unseen and not unseen & seen  # composition, not recall
assert all(any(a == adj for a, _ in seen) and any(n == nn for _, n in seen) for adj, nn in unseen)  # each word seen

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
# ## One training step, by hand
#
# On a copy of the model, so that the training below starts from the same weights. A batch of
# padded sentences; the loss, the mean of $-\log p$ of each real target token (lesson 7):
#
# $$L(\theta) = \frac{1}{N} \sum_{t, b} m_{t,b} \big(-\log p_\theta(y_{t+1,b} \mid y_{\le t,b}, x_b)\big),
# \qquad N = \sum_{t,b} m_{t,b}$$
#
# its gradient $g = \partial L / \partial \theta$ for every weight (`backward`), clipped to a
# global norm of at most $\tau = 5$ (lesson 5),
#
# $$g \leftarrow g \cdot \min\big(1, \tau / \lVert g \rVert\big), \qquad
# \lVert g \rVert = \sqrt{\textstyle\sum_k \lVert g_k \rVert^2},$$
#
# and one Adam step (Kingma & Ba 2015), for each weight array, with $\beta_1 = 0.9$,
# $\beta_2 = 0.999$, $\epsilon = 10^{-8}$ and step number $k$:
#
# $$m \leftarrow \beta_1 m + (1 - \beta_1)\, g \qquad v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2$$
# $$\theta \leftarrow \theta - \eta\, \frac{m / (1 - \beta_1^k)}{\sqrt{v / (1 - \beta_2^k)} + \epsilon}$$
#
# Adam divides each weight's step by the running size of its own gradient, so every weight
# moves by about $\eta$ at first, however large or small its gradient.

# %%
copy = Seq2Seq(len(src_vocab), len(tgt_vocab), embedding_dim=32, hidden_size=128, cell="lstm", rng=0, dtype="float32")
copy.load_state_dict(model.state_dict())
src_ids = translator.encode([en for en, _ in task.train])
tgt_ids = translator.encode_targets([fr for _, fr in task.train])
batch = next(iter(make_batches(src_ids, tgt_ids, 32, rng=0)))  # (S, 32) and (T, 32), padded
copy.zero_grad()
loss = copy.loss(batch.src, batch.tgt, batch.src_lengths)  # L: mean -log p over the real target tokens
copy.backward()  # g = dL/dθ, every weight
norm = clip_grad_norm_(copy.grads, 5.0)  # g <- g * min(1, τ / ||g||)
print(f"loss {loss:.3f}; gradient norm {norm:.2f}, clipped to {min(norm, 5.0):.2f}")
assert np.isclose(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in copy.grads.values())), min(norm, 5.0),
                  rtol=1e-4)  # below τ, clipping leaves g alone
lr, b1, b2, eps = 0.006, 0.9, 0.999, 1e-8
expected = {}
for k, p in copy.params.items():
    g = copy.grads[k].astype(np.float64)
    m, v = (1 - b1) * g, (1 - b2) * g**2  # m, v start at 0: the first step
    expected[k] = p - lr * (m / (1 - b1)) / (np.sqrt(v / (1 - b2)) + eps)  # θ - η m̂ / (sqrt(v̂) + ε)
Adam(copy.params, copy.grads, lr=lr, betas=(b1, b2), eps=eps).step()
assert all(np.allclose(copy.params[k], expected[k], atol=1e-6) for k in expected)
moved = np.concatenate([np.abs(copy.params[k] - model.params[k]).ravel() for k in expected])
print(f"every weight moved by at most {moved.max():.4f} (η = {lr}); median {np.median(moved[moved > 0]):.4f}")
assert moved.max() <= lr * 1.001 and np.median(moved[moved > 0]) > 0.9 * lr  # about η, every weight it moves
assert copy.loss(batch.src, batch.tgt, batch.src_lengths) < loss  # and the batch's loss fell

# %% [markdown]
# ## Train
#
# `fit` repeats that step over shuffled batches of similar length, and after each epoch
# decodes the validation sentences, keeping the weights of the best epoch. It reports how
# long each epoch took on this machine:

# %%
start = time.perf_counter()
history = fit(translator, task.train, task.valid, epochs=6, batch_size=32, lr=0.006, rng=1)
print(f"trained in {time.perf_counter() - start:.1f} s")
assert history[-1]["loss"] < history[0]["loss"] / 5
ax = plot_loss(history, title="training the translator: the loss falls, exact match rises")
save_figure(ax, FIGURES / "loss.png")

# %% [markdown]
# ## Score it on the held-out test sentences
#
# Exact match counts whole sentences: the fraction of the N test sources whose translation
# $\hat y_i$ is one of their references $R_i$. BLEU-4 gives partial credit for matching 1- to
# 4-word runs, over the whole corpus: with $p_n$ the fraction of the translations' n-word runs
# found in the references, $c$ the translations' length and $r$ the references',
#
# $$\text{exact} = \frac{1}{N} \sum_i [\hat y_i \in R_i] \qquad
# \text{BLEU} = 100 \cdot \min\big(1, e^{1 - r/c}\big) \cdot \exp\Big(\tfrac{1}{4} \sum_{n=1}^{4} \log p_n\Big)$$

# %%
test = evaluate(translator, task.test)
print(f"test: exact match {100 * test['exact']:.1f}%   BLEU {test['bleu']:.1f}")
for en, hyp, refs in list(zip(test["sources"], test["hyps"], test["refs"]))[:6]:
    mark = "ok" if hyp in refs else "  "
    print(f"{mark} {en:40s} -> {hyp:40s} (reference: {refs[0]})")
assert np.isclose(test["exact"], np.mean([hyp in refs for hyp, refs in zip(test["hyps"], test["refs"])]))
assert test["exact"] > 0.5 and test["bleu"] > 80  # most test sentences exactly right
print("i am a student ->", translator.translate(["i am a student"])[0])

# %% [markdown]
# Six epochs of a small model already translate most test sentences exactly (asserted above).
# The mistakes are telling. Take those that differ from the reference in one word only:

# %%
train_targets = [words.tokenize(fr) for _, fr in task.train]
train_bigrams = {pair for toks in train_targets for pair in zip(toks, toks[1:])}
one_word_off = []
for hyp, refs in zip(test["hyps"], test["refs"]):
    h, r = words.tokenize(hyp), words.tokenize(refs[0])
    wrong = [i for i in range(len(r)) if len(h) == len(r) and h[i] != r[i]]
    if len(wrong) == 1 and wrong[0] > 0:
        i = wrong[0]
        one_word_off.append((hyp, refs[0], (h[i - 1], h[i]) in train_bigrams))
for hyp, ref, seen_pair in one_word_off[:4]:
    print(f"{hyp:40s} (reference: {ref}){'  <- a pair seen in training' if seen_pair else ''}")
share = np.mean([seen_pair for *_, seen_pair in one_word_off])
print(f"{len(one_word_off)} translations are one word off; in {100 * share:.0f}% of them the wrong word follows "
      f"the word before it as it does in some training sentence")
assert len(one_word_off) > 0 and share > 0.5

# %% [markdown]
# Given a pair it has never seen, it most often reaches for a word it *has* seen after the one
# before it: a noun with an adjective it met the noun with in training (the lines marked
# above). It has learned the grammar, and leans on the pairs it was shown where the meaning
# should decide. `nprnn demo` trains the task's default, larger model (hidden size
# 256, 12 epochs instead of 6).
#
# ## What training did to the encoder
#
# Untrained, the encoder's states are small: a mean $|h|$ near 0.07, pale in the heatmap.
# Trained, its units take strong values, several times larger on average, which differ from
# word to word.

# %%
tokens, trained_hs = translator.encoder_states("i am a student")
fig, axes = plt.subplots(1, 2, figsize=(9, 5.5), layout="constrained")
words_shown = [token.replace("▁", "") for token in tokens]  # drawn without the space marker
assert untrained_tokens == tokens
plot_hidden_states(untrained_hs, words_shown, ax=axes[0], max_units=40, title="untrained encoder: pale, |h| small")
plot_hidden_states(trained_hs, words_shown, ax=axes[1], max_units=40,
                   title="trained encoder: strong values, word by word")
save_figure(fig, FIGURES / "encoder_before_after.png")
print(f"mean |h|: untrained {np.abs(untrained_hs).mean():.3f}, trained {np.abs(trained_hs).mean():.3f}")
assert np.abs(untrained_hs).mean() < 0.1
assert np.abs(trained_hs).mean() > 3 * np.abs(untrained_hs).mean()  # several times larger
assert np.abs(np.diff(trained_hs, axis=0)).mean() > 3 * np.abs(np.diff(untrained_hs, axis=0)).mean()  # word to word
assert TASK_DEFAULTS["toy-en-fr"]["hidden_size"] == 256 and TASK_DEFAULTS["toy-en-fr"]["epochs"] == 12  # nprnn demo's

# %% [markdown]
# ## Summary
#
# - Training = loss, backward, clip, step; repeated over shuffled, length-grouped batches.
# - Held-out exact match and BLEU say whether it learned the grammar or the sentences.
#
# ## Try it
#
# - Train with `cell="gru"`, or `hidden_size=256` and 12 epochs (the demo's settings). How
#   many of the one-word-off mistakes are left?
# - Take the Adam step above with `SGD` at the same learning rate instead: how far do the
#   weights move, and does the batch's loss fall?
#
# ## Exercises
#
# This lesson runs the code of every exercise before it; the two it leans on hardest, the
# loss's gradient and backprop through time, are worth doing again without looking:
#
# ```
# nprnn exercise start softmax_cross_entropy_backward
# nprnn exercise start bptt
# nprnn exercise list        # all of them, in lesson order
# ```
