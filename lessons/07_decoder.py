# %% [markdown]
# # Lesson 7: the decoder, one timestep at a time
#
# **Goal:** step the decoder by hand, one timestep at a time, from the encoder's context to the
# loss, and get exactly what the library computes; then see its two modes. In training it
# reads the *true* previous word (teacher forcing) and is scored at every step. At inference it
# starts from `<sos>` and reads its *own* previous prediction until it says `<eos>`.
#
# The decoder is a language model over French whose first state is the encoder's context.
# At each step: previous word → embedding → one LSTM step → a linear layer → scores over the
# French vocabulary → softmax → probabilities of the next word.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nprnn.data import load_task, pad_batch, split_by_source
from nprnn.data.tasks import Task
from nprnn.data.vocab import EOS, PAD, SOS
from nprnn.functional import log_softmax, softmax
from nprnn.plots import OKABE_ITO, figure_dir, save_figure
from nprnn.train import train_task

np.set_printoptions(precision=3, suppress=True)
FIGURES = figure_dir("07_decoder")

# %% [markdown]
# ## A small translator, and honest data
#
# The sentences of the bundled corpus built on *être* ("i am a student" → "je suis étudiant",
# "we are not tired" → ...), split by source sentence: most to train on, 10% to validate on
# (training keeps the weights of the epoch that does best on them) and 10% to test on. No
# validation or test sentence is ever trained on, so the test score below measures what the
# model learned about French, not what it memorised. Trained for 20 epochs:

# %%
full = load_task("toy-en-fr")
etre = [(en, fr) for en, fr in full.train if {"am", "is", "are"} & set(en.split())]
(train, valid, test), _ = split_by_source(etre, (0.1, 0.1), seed=1)
print(f"{len(etre)} sentence pairs: {len(train)} to train on, {len(valid)} to validate, {len(test)} to test")
assert len(etre) == 320 and len(valid) == len(test) == 32  # 10% each
sources = {name: {en for en, _ in split} for name, split in (("train", train), ("valid", valid), ("test", test))}
assert not sources["train"] & (sources["valid"] | sources["test"]) and not sources["valid"] & sources["test"]
task = Task("être", "word", train, valid, test, dict(full.defaults))
translator, history, held_out = train_task(task, hidden_size=64, embedding_dim=32, epochs=20, batch_size=16, lr=0.01,
                                           patience=100, seed=0, log=lambda *a: None)
model, fr = translator.model, translator.tgt_vocab
print(f"held-out test sentences translated exactly: {100 * held_out['exact']:.0f}%  (BLEU {held_out['bleu']:.1f})")
assert len(history) == 20 and held_out["exact"] > 0.5  # most of the sentences it never saw
assert model.config.cell == "lstm" and model.decoder.attention is None and not model.config.reverse_source

# %% [markdown]
# ## Teacher forcing, by hand
#
# A target is wrapped: `<sos> je suis étudiant <eos>`. The decoder reads all but the last
# token and is asked for all but the first:
#
# | step | reads | should say |
# |---|---|---|
# | 0 | `<sos>` | je |
# | 1 | je | suis |
# | 2 | suis | étudiant |
# | 3 | étudiant | `<eos>` |
#
# Take a batch of two sentences of different lengths, so that padding shows up, and run the
# model on it piece by piece. First the encoder (lesson 6), and its handoff.

# %%
pairs = [("i am a student", "je suis étudiant"), ("she is not a singer", "elle n'est pas chanteuse")]
assert all(pair in train for pair in pairs)
src, src_lengths = pad_batch(translator.encode([en for en, _ in pairs]))  # (S, B)
tgt, _ = pad_batch(translator.encode_targets([fr_text for _, fr_text in pairs]))  # (T, B): <sos> ... <eos> <pad>
print("target ids, one sentence per column:\n", tgt)
memory, context = model.encode(src, src_lengths)  # context: one (h, c) per layer

# %% [markdown]
# ### The context becomes the decoder's initial state
#
# The encoder's state after each sentence's own last word, $(h^{enc}_{\ell-1}, c^{enc}_{\ell-1})$,
# is the decoder's state before its first step:
#
# $$(s_{-1}, c_{-1}) = (h^{enc}_{\ell-1},\ c^{enc}_{\ell-1})$$
#
# Compute it with the encoder's cell by hand, and check it is what `model.encode` hands over,
# for $h$ and for the LSTM's memory $c$:

# %%
enc = model.encoder
h0 = np.zeros((2, enc.hidden_size), dtype=model.dtype)
c0 = np.zeros_like(h0)
for b in range(2):
    state = enc.cell.initial_state(1)
    for t in range(src_lengths[b]):  # each sentence's own words, no padding
        state, _ = enc.cell.forward(enc.embedding.params["W"][src[t, b]][None], state)
    h0[b], c0[b] = state[0][0], state[1][0]
(h_context, c_context), = context  # one layer
assert np.allclose(h0, h_context, atol=1e-6) and np.allclose(c0, c_context, atol=1e-6)
print("decoder's initial h:", h0[:, :5], "... (first 5 of", h0.shape[1], "units)")

# %% [markdown]
# ### One step of the decoder: embedding → cell → Linear → softmax → −log p
#
# At step t the decoder reads $y_t$ (the true previous word) and is scored on $y_{t+1}$:
#
# $$x_t = E^{dec}_{y_t} \qquad (0 \text{ for } \texttt{<pad>})$$
# $$(s_t, c_t) = \mathrm{LSTM}\big(x_t, (s_{t-1}, c_{t-1})\big)$$
# $$z_t = s_t W_{out} + b_{out} \qquad \text{(one score per French token)}$$
# $$p_t = \mathrm{softmax}(z_t), \quad p_t[k] = \frac{e^{z_t[k]}}{\sum_j e^{z_t[j]}}$$
# $$\ell_t = -\log p_t[y_{t+1}]$$
#
# and the loss is the mean of $\ell_t$ over the real target tokens: a mask
# $m_{t,b} = [y_{t+1,b} \neq \texttt{<pad>}]$ drops the steps after a sentence's `<eos>`,
#
# $$L = \frac{\sum_{t,b} m_{t,b}\, \ell_{t,b}}{\sum_{t,b} m_{t,b}}.$$

# %%
dec = model.decoder
E, W_out, b_out = dec.embedding.params["W"], dec.out.params["W"], dec.out.params["b"]
state = (h0, c0)  # (s_{-1}, c_{-1}) = the context
total, real, all_logits = 0.0, 0, []
for t in range(tgt.shape[0] - 1):
    y_in, y_next = tgt[t], tgt[t + 1]  # (B,): what each sentence reads, and what it should say
    x = E[y_in] * (y_in != PAD)[:, None]  # x_t = E[y_t], a zero vector for <pad>
    state, _ = dec.layers[0].cell.forward(x, state)  # (s_t, c_t) = LSTM(x_t, (s_{t-1}, c_{t-1}))
    z = state[0] @ W_out + b_out  # z_t = s_t W_out + b_out: (B, V)
    p = softmax(z.astype(np.float64))  # p_t = softmax(z_t)
    nll = -np.log(p[np.arange(2), y_next])  # l_t = -log p_t[y_{t+1}]
    m = y_next != PAD  # m_t: is y_{t+1} a real token?
    total += (m * nll).sum()  # sum over t and b of m * l
    real += int(m.sum())
    all_logits.append(z)
    print(f"step {t}: " + "   ".join(
        f"reads {fr.tokens[y_in[b]]:10s} should say {fr.tokens[y_next[b]]:11s} "
        + (f"p = {p[b, y_next[b]]:.3f}  -log p = {nll[b]:.4f}" if m[b] else "(padding: not scored)")
        for b in range(2)))
loss_by_hand = total / real  # L = sum(m * l) / sum(m)
print(f"loss by hand: {loss_by_hand:.6f} over {real} real target tokens")

logits, _, _ = dec.forward(tgt[:-1], context, memory)  # the library: all steps at once
assert np.allclose(np.stack(all_logits), logits, atol=1e-5)  # the same scores at every step ...
assert np.isclose(loss_by_hand, model.loss(src, tgt, src_lengths), rtol=1e-5)  # ... and the same loss
assert real == int((tgt[1:] != PAD).sum()) and real < tgt[1:].size  # padding was not scored
print("matches the decoder's forward and Seq2Seq.loss")

# %% [markdown]
# The library runs the same steps in one call, `dec.forward(tgt[:-1], ...)`, because every
# input is known in advance: the decoder is always shown the true previous word, whatever it
# would have said. That is teacher forcing. Only the recurrence itself must go step by step;
# the embeddings, the input projections, the Linear layer and the loss of all steps are each
# done at once, as one large array operation.
#
# ## Inference: one timestep at a time
#
# At test time there is no target. Start from the context and `<sos>`, take the most likely
# word, feed it back, repeat until `<eos>`. Now each step needs the one before it, so the
# decoder runs one step at a time (`decoder.step` is the same code on a sequence of length 1):

# %%
src = np.array(translator.encode(["i am a student"])[0])[:, None]  # (S, 1)
memory, context = model.encode(src)
state, token, output, steps = context, np.array([SOS]), [], []
for t in range(10):
    step_logits, state, _ = model.decoder.step(token, state, memory)
    probs = softmax(step_logits[0].astype(np.float64))
    top = np.argsort(probs)[::-1][:3]
    print(f"step {t}: " + "   ".join(f"{fr.tokens[k]} {probs[k]:.3f}" for k in top))
    steps.append((fr.tokens[top[0]], probs))
    token = np.array([top[0]])  # greedy: feed back our own best guess
    if top[0] == EOS:
        break
    output.append(int(top[0]))
print("translation:", translator.tgt_tokenizer.detokenize(fr.decode(output)))
assert output == model.greedy_decode(src)[0]  # the library's greedy decoding does exactly this
assert fr.decode(output) == ["▁je", "▁suis", "▁étudiant"]  # "▁": a space came before the word

# %% [markdown]
# ## Why the two differ: exposure bias
#
# In training the decoder never saw its own mistakes: its history was always right. At
# inference one wrong word becomes the history of every later step, a situation it was never
# trained in. Force a mistake at step 1, "est" instead of "suis", and let it continue:

# %%
state, token, forced = context, np.array([SOS]), []
for t in range(10):
    step_logits, state, _ = model.decoder.step(token, state, memory)
    best = int(np.argmax(step_logits[0]))
    if t == 1:
        best = fr.ids["▁est"]  # the mistake
    if best == EOS:
        break
    forced.append(best)
    token = np.array([best])
print("with 'est' forced at step 1:", translator.tgt_tokenizer.detokenize(fr.decode(forced)))
assert fr.decode(forced)[:2] == ["▁je", "▁est"]
assert not any(fr_text.startswith("je est") for _, fr_text in train)  # a history it never trained on

# %% [markdown]
# Nothing undoes the mistake: the decoder continues from a history it has never seen. Remedies
# include beam search (keep several hypotheses, not one: lesson 10) and scheduled sampling
# (sometimes feed the model its own predictions in training: `teacher_forcing` below 1).
#
# ## The distribution at each step

# %%
fig, axes = plt.subplots(1, len(steps), figsize=(3.2 * len(steps), 3.0), layout="constrained")
for t, (ax, (word, probs)) in enumerate(zip(axes, steps)):
    top = np.argsort(probs)[::-1][:5]  # each step has its own five candidates
    word = word.replace("▁", "")  # drawn without the space marker
    ax.barh(range(5)[::-1], probs[top], color=[OKABE_ITO[0]] + ["#BBBBBB"] * 4)
    ax.set_yticks(range(5)[::-1])
    ax.set_yticklabels([fr.tokens[k].replace("▁", "") for k in top])
    ax.set_xscale("log")  # the runners-up are orders of magnitude less likely
    ax.set_xlim(1e-5, 1.5)
    ax.set_xlabel("probability (log scale)")
    ax.set_title(f"step {t}: '{word}'")
    assert ax.get_yticklabels()[0].get_text() == word  # the chosen word, at the top of its own panel
axes[0].set_ylabel("top 5 next words")
fig.suptitle('greedy decoding of "i am a student": at each step the most likely word (blue) is fed back')
save_figure(fig, FIGURES / "decoding_steps.png")

# %% [markdown]
# ## Summary
#
# - The context (for an LSTM, $h$ and $c$) is the decoder's initial state.
# - One step: embedding → cell → Linear → softmax; the loss is $-\log p$ of the true next word,
#   averaged over the real (unpadded) target tokens.
# - Training (teacher forcing): the true previous word in, every step scored at once.
# - Inference: one step at a time from `<sos>`, feeding back the model's own choice until
#   `<eos>`. A mistake is never undone: exposure bias.
#
# ## Try it
#
# - Force a different word at step 2, or feed "elle" at step 0.
# - Start the decoder from a zero state instead of the context: what does it say now?
# - Train on all 320 sentences (`train=etre`): does the test score still mean anything?
#
# ## Exercises
#
# ```
# nprnn exercise start softmax_cross_entropy_backward   # the masked loss above, and its gradient
# nprnn exercise check softmax_cross_entropy_backward.py
# nprnn exercise start greedy_decode                     # the inference loop, for a whole batch
# nprnn exercise check greedy_decode.py
# ```
