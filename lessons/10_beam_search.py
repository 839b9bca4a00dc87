# %% [markdown]
# # Lesson 10: beam search
#
# **Goal:** decode with several hypotheses at once, one timestep at a time, and see when
# keeping more than one pays.
#
# Greedy decoding (lesson 7) commits to the single most likely word at every step. But the
# best *sentence* is the one with the highest total log-probability
#
# $$\log p(y \mid x) = \sum_t \log p(y_t \mid y_{<t}, x),$$
#
# and a word that looks best now can lead to a worse sentence. Beam search keeps the `k`
# best partial sentences (the *beams*) at every step: each beam is extended by every word,
# the `k` best extensions survive, and those that end in `<eos>` are set aside as finished.

# %%
import matplotlib.pyplot as plt
import numpy as np

from nprnn.data import load_task, pad_batch
from nprnn.data.tasks import Task
from nprnn.functional import log_softmax
from nprnn.plots import figure_dir, save_figure
from nprnn.data.vocab import EOS, PAD, SOS
from nprnn.train import train_task

np.set_printoptions(precision=3, suppress=True)
FIGURES = figure_dir("10_beam_search")

# %% [markdown]
# A small, briefly trained translator (the sentences with *être*, as in lesson 7): unsure
# enough that its first guess is not always its most likely sentence.

# %%
full = load_task("toy-en-fr")
etre = [(en, fr) for en, fr in full.train if {"am", "is", "are"} & set(en.split())]
task = Task("être", "word", etre, etre[:40], etre[:40], dict(full.defaults))
translator, _, _ = train_task(task, hidden_size=64, embedding_dim=32, epochs=10, batch_size=16, lr=0.01, patience=100, seed=0,
                              log=lambda *a: None)
model, fr = translator.model, translator.tgt_vocab


def sentence_logp(src, tokens):
    """log p(tokens + <eos> | src): the decoder with teacher forcing, scored at every step."""
    memory, context = model.encode(src)
    tgt = np.array([SOS] + tokens + [EOS])[:, None]
    logits, _, _ = model.decoder.forward(tgt[:-1], context, memory)
    logp = log_softmax(logits[:, 0, :].astype(np.float64))
    return logp[np.arange(len(tgt) - 1), tgt[1:, 0]].sum()


# %% [markdown]
# ## Where greedy and beam search disagree
#
# Decode every training sentence both ways (this is about search, not generalisation) and
# score each output with the model itself:

# %%
sources = [en for en, _ in etre]
references = [" ".join(translator.tgt_tokenizer.tokenize(fr_text)) for _, fr_text in etre]  # token by token
src_all, src_lengths = pad_batch(translator.encode(sources))  # all 320 sentences as one batch
greedy = [" ".join(fr.decode(h)) for h in model.greedy_decode(src_all, src_lengths)]
beam = [" ".join(fr.decode(h)) for h in model.beam_search(src_all, src_lengths, beam_size=3)]
assert model.beam_search(src_all, src_lengths, beam_size=1) == model.greedy_decode(src_all, src_lengths)  # k = 1
differ = []
for b in np.nonzero([g != h for g, h in zip(greedy, beam)])[0]:
    src = src_all[: src_lengths[b], b : b + 1]
    gain = sentence_logp(src, fr.encode(beam[b].split())) - sentence_logp(src, fr.encode(greedy[b].split()))
    assert gain >= -1e-9  # a wider beam never finds a less likely sentence
    differ.append((sources[b], references[b], greedy[b], beam[b], gain))
print(f"{len(differ)} of {len(etre)} sentences decode differently with 3 beams; exact match greedy "
      f"{100 * np.mean([g == r for g, r in zip(greedy, references)]):.1f}%, "
      f"beam {100 * np.mean([b == r for b, r in zip(beam, references)]):.1f}%")
# the example to follow: one that beam search gets right and greedy does not, if there is one
text, reference, greedy_text, beam_text, gain = max(differ, key=lambda r: (r[3] == r[1], r[4]))
print(f'"{text}"  (reference: {reference})\n  greedy: {greedy_text}\n  beam  : {beam_text}'
      f'   ({gain:+.3f} nats more likely)')

# %% [markdown]
# ## The beams, one timestep at a time
#
# Here is beam search written out for that one sentence, with `k = 3`. One decoder step per
# open beam gives its next-word log-probabilities, and every (beam, word) pair becomes a
# candidate scored by its running total. (The library runs the beams of every sentence in a
# batch as the rows of one decoder step.)

# %%
k = 3
src = np.array(translator.encode([text])[0])[:, None]
memory, context = model.encode(src)
beams = [([], 0.0, context)]  # (tokens so far, total log-probability, decoder state)
finished, tree = [], []  # tree: (step, parent's total, token, total) for the figure
for t in range(20):
    candidates = []
    for tokens, total, state in beams:
        previous = np.array([tokens[-1] if tokens else SOS])
        logits, new_state, _ = model.decoder.step(previous, state, memory)
        logp = log_softmax(logits[0].astype(np.float64))
        logp[[PAD, SOS]] = -np.inf  # never targets, so never outputs
        candidates += [(total + logp[w], tokens + [w], new_state, total) for w in range(len(logp))]
    candidates.sort(key=lambda c: -c[0])  # best first, over every beam and every word
    beams = []
    for rank, (total, tokens, state, parent_total) in enumerate(candidates):
        if tokens[-1] == EOS and rank < k:  # among the k best, and complete: set aside
            finished.append((tokens[:-1], total))
            tree.append((t, parent_total, "<eos>", total))
        elif tokens[-1] != EOS and len(beams) < k:  # the k best open ones go on
            beams.append((tokens, total, state))
            tree.append((t, parent_total, fr.tokens[tokens[-1]], total))
        if len(beams) == k and rank >= k:
            break
    show = lambda tokens: " ".join(fr.decode(tokens)) or "(empty)"  # noqa: E731
    print(f"step {t}: " + "  |  ".join(f"{show(b[0])} ({b[1]:.2f})" for b in beams)
          + ("   finished: " + ", ".join(f"{show(f[0])} ({f[1]:.2f})" for f in finished) if finished else ""))
    best_finished = max((f[1] for f in finished), default=-np.inf)
    if len(finished) >= k and max(b[1] for b in beams) <= best_finished:
        break  # k finished, and no open beam can still win: log-probabilities only fall
best_tokens, best_total = max(finished, key=lambda f: f[1])
print("best:", " ".join(fr.decode(best_tokens)), f"log p = {best_total:.3f}")
assert best_tokens == model.beam_search(src, beam_size=k)[0]  # the library does exactly this, batched
assert np.isclose(best_total, sentence_logp(src, best_tokens))

# %% [markdown]
# ## Length
#
# Here the beam's answer is more likely than greedy's and wrong, and shorter. Every word
# multiplies in a probability below one, so a sentence's total log-probability only falls as
# it grows: a search that finds more likely sentences also finds shorter ones. That is a
# model error that a better search exposes, not a search error. The usual remedy, Wu et al.
# (2016), divides each total by ((5 + n) / 6) ** alpha for n tokens: `length_penalty=alpha`
# (0, as above, leaves totals alone); alpha is tuned on validation data.

# %%
print(f"greedy: {greedy_text!r} ({len(greedy_text.split())} words)   beam: {beam_text!r} ({len(beam_text.split())})")
assert gain > 0 and beam_text != reference  # more likely, and wrong ...
assert len(beam_text.split()) < len(greedy_text.split())  # ... because shorter

# %% [markdown]
# ## The search, drawn
#
# Each point is a kept hypothesis at its step, at the height of its total log-probability,
# joined to the beam it extends; the chosen sentence is drawn in green.

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
tgt = np.array([SOS] + best_tokens + [EOS])[:, None]  # the chosen sentence, teacher-forced
logits, _, _ = model.decoder.forward(tgt[:-1], context, memory)
step_logp = log_softmax(logits[:, 0, :].astype(np.float64))[np.arange(len(tgt) - 1), tgt[1:, 0]]
on_best = np.concatenate([[0.0], np.cumsum(step_logp)])  # its running total after each step
for t, parent_total, word, total in tree:
    on_path = t + 1 < len(on_best) and np.isclose(total, on_best[t + 1]) and np.isclose(parent_total, on_best[t])
    colour = "tab:green" if on_path else ("tab:red" if word == "<eos>" else "tab:gray")
    ax.plot([t, t + 1], [parent_total, total], "-", color=colour, lw=2 if on_path else 1, zorder=2 if on_path else 1)
    ax.plot(t + 1, total, "o", color=colour, ms=5)
    ax.annotate(word, (t + 1, total), textcoords="offset points", xytext=(5, -3), fontsize=8, color=colour)
ax.set_xticks(range(max(step for step, *_ in tree) + 2))  # whole timesteps
ax.set_xlabel("timestep (words generated)")
ax.set_ylabel("total log-probability")
ax.set_title(f'beam search, k = {k}: "{text}"  (red: other finished ones)')
save_figure(fig, FIGURES / "beams.png")

# %% [markdown]
# ## Summary
#
# - Beam search keeps the k best partial sentences; one decoder step extends them all, as a
#   batch. `k = 1` is greedy decoding.
# - It finds sentences at least as likely as greedy's, at about k times the cost.
# - More likely is not always more correct: beams fix search errors, not model errors, and
#   without a length penalty they favour short outputs.
#
# **Try it:** `k = 1`, `k = 5`, or train for more epochs and watch the disagreements vanish.
