# %% [markdown]
# # Lesson 7: the decoder, trained and free-running
#
# **Goal:** see the decoder's two modes. In training it reads the *true* previous word
# (teacher forcing) and is scored at every step. At inference it starts from `<sos>` and reads
# its *own* previous prediction, one timestep at a time, until it says `<eos>`.
#
# The decoder is a language model over French whose first state is the encoder's context.
# At each step: previous word → embedding → one LSTM step → a linear layer → scores over the
# French vocabulary → softmax → probabilities of the next word.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nprnn.data import load_task
from nprnn.data.tasks import Task
from nprnn.functional import log_softmax, softmax
from nprnn.plots import figure_dir, save_figure
from nprnn.data.vocab import EOS, SOS
from nprnn.train import train_task

np.set_printoptions(precision=3, suppress=True)
FIGURES = figure_dir("07_decoder")

# %% [markdown]
# A small translator, trained for a few seconds on the 320 sentences of the bundled corpus
# built on *être* ("i am a student" → "je suis étudiant", "we are not tired" → ...).

# %%
full = load_task("toy-en-fr")
etre = [(en, fr) for en, fr in full.train if {"am", "is", "are"} & set(en.split())]
task = Task("être", "word", etre, etre[:40], etre[:40], dict(full.defaults))
translator, history, _ = train_task(task, hidden_size=64, embedding_dim=32, epochs=20, batch_size=16, lr=0.01, patience=100,
                                    seed=0, log=lambda *a: None)
model, fr = translator.model, translator.tgt_vocab
print(f"{len(etre)} sentence pairs; final training loss {history[-1]['loss']:.3f}")

# %% [markdown]
# ## Training: teacher forcing
#
# The target is wrapped: `<sos> je suis étudiant <eos>`. The decoder reads all but the last
# token and is asked for all but the first:
#
# | step | reads | should say |
# |---|---|---|
# | 0 | `<sos>` | je |
# | 1 | je | suis |
# | 2 | suis | étudiant |
# | 3 | étudiant | `<eos>` |

# %%
src = np.array(translator.encode(["i am a student"])[0])[:, None]  # (S, 1)
tgt = np.array(translator.encode_targets(["je suis étudiant"])[0])[:, None]  # (T, 1): <sos> ... <eos>
memory, context = model.encode(src)  # context: the decoder's initial state, one per layer
logits, _, _ = model.decoder.forward(tgt[:-1], context, memory)  # reads tgt[:-1]
logp = log_softmax(logits[:, 0, :])
step_losses = -logp[np.arange(len(tgt) - 1), tgt[1:, 0]]  # scored on tgt[1:]
for t in range(len(tgt) - 1):
    print(f"step {t}: reads {fr.tokens[tgt[t, 0]]:10s} should say {fr.tokens[tgt[t + 1, 0]]:10s}"
          f"p = {np.exp(-step_losses[t]):.3f}   loss = {step_losses[t]:.4f}")
assert np.isclose(step_losses.mean(), model.loss(src, tgt))  # the loss is their mean
print("mean:", step_losses.mean())

# %% [markdown]
# All four steps are computed at once, because every input is known in advance. That is
# teacher forcing: the decoder is always shown the right history, whatever it would have said.
#
# ## Inference: one timestep at a time
#
# At test time there is no target. Start from the context and `<sos>`, take the most likely
# word, feed it back, repeat until `<eos>`.

# %%
state, token, output, steps = context, np.array([SOS]), [], []
for t in range(10):
    step_logits, state, _ = model.decoder.step(token, state, memory)
    probs = softmax(step_logits[0])
    top = np.argsort(probs)[::-1][:3]
    print(f"step {t}: " + "   ".join(f"{fr.tokens[k]} {probs[k]:.3f}" for k in top))
    steps.append((fr.tokens[top[0]], probs))
    token = np.array([top[0]])  # greedy: feed back our own best guess
    if top[0] == EOS:
        break
    output.append(int(top[0]))
print("translation:", " ".join(fr.decode(output)))
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
print("with 'est' forced at step 1:", " ".join(fr.decode(forced)))
assert fr.decode(forced)[:2] == ["▁je", "▁est"]

# %% [markdown]
# Nothing undoes the mistake: the decoder continues from a history it has never seen. Remedies
# include beam search (keep several hypotheses, not one) and scheduled sampling (sometimes
# feed the model its own predictions in training).
#
# ## The distribution at each step

# %%
fig, axes = plt.subplots(1, len(steps), figsize=(3.2 * len(steps), 3.0), layout="constrained")
for t, (ax, (word, probs)) in enumerate(zip(axes, steps)):
    top = np.argsort(probs)[::-1][:5]  # each step has its own five candidates
    ax.barh(range(5)[::-1], probs[top], color=["tab:green"] + ["tab:gray"] * 4)
    ax.set_yticks(range(5)[::-1])
    ax.set_yticklabels([fr.tokens[k] for k in top])
    ax.set_xscale("log")  # the runners-up are orders of magnitude less likely
    ax.set_xlim(1e-5, 1.5)
    ax.set_xlabel("probability (log scale)")
    ax.set_title(f"step {t}: '{word}'")
    assert ax.get_yticklabels()[0].get_text() == word  # the chosen word, at the top of its own panel
axes[0].set_ylabel("top 5 next words")
fig.suptitle('greedy decoding of "i am a student", one timestep at a time')
save_figure(fig, FIGURES / "decoding_steps.png")

# %% [markdown]
# ## Summary
#
# - Training (teacher forcing): the true previous word in, every step scored at once.
# - Inference: one step at a time from `<sos>`, feeding back the model's own choice until
#   `<eos>`. A mistake is never undone: exposure bias.
#
# **Try it:** force a different word at step 2, or feed "elle" at step 0.
