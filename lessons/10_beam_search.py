# %% [markdown]
# # Lesson 10: beam search
#
# **Goal:** decode with several hypotheses at once, one timestep at a time, and see when
# keeping more than one pays, when it does not, and what a length penalty changes.
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
from matplotlib.text import Text

from nprnn.data import load_task, pad_batch, split_by_source
from nprnn.data.tasks import Task
from nprnn.data.vocab import EOS, PAD, SOS
from nprnn.functional import log_softmax
from nprnn.plots import OKABE_ITO, figure_dir, save_figure
from nprnn.search import beam_search, greedy_decode, length_penalty_factor
from nprnn.train import train_task

np.set_printoptions(precision=3, suppress=True)
FIGURES = figure_dir("10_beam_search")

# %% [markdown]
# ## A model that is still unsure
#
# Lesson 7's data and model, the sentences with *être* split by source sentence, trained for
# 12 epochs instead of 20, so that it is unsure enough for its first guess not always to be
# its most likely sentence. This lesson is about search, not generalisation, so it decodes
# all 320 sentences: the ones it trained on and the 64 it never saw (said beside each).

# %%
full = load_task("toy-en-fr")
etre = [(en, fr) for en, fr in full.train if {"am", "is", "are"} & set(en.split())]
(train, valid, test), _ = split_by_source(etre, (0.1, 0.1), seed=1)
task = Task("être", "word", train, valid, test, dict(full.defaults))
translator, _, _ = train_task(task, hidden_size=64, embedding_dim=32, epochs=12, batch_size=16, lr=0.01, patience=100,
                              seed=0, log=lambda *a: None)
model, fr = translator.model, translator.tgt_vocab
trained_on = {en for en, _ in train}
assert len(etre) == 320 and len(etre) - len(train) == len(valid) + len(test) == 64


def sentence_logp(src, tokens):
    """log p(tokens + <eos> | src): the decoder with teacher forcing, scored at every step."""
    memory, context = model.encode(src)
    tgt = np.array([SOS] + tokens + [EOS])[:, None]
    logits, _, _ = model.decoder.forward(tgt[:-1], context, memory)
    logp = log_softmax(logits[:, 0, :].astype(np.float64))
    return logp[np.arange(len(tgt) - 1), tgt[1:, 0]].sum()


def text(ids):
    return translator.tgt_tokenizer.detokenize(fr.decode(ids)) or "(empty)"


# %% [markdown]
# ## Where greedy and beam search disagree
#
# Decode every sentence both ways, with `k = 3` beams, and score each output with the model
# itself. `k = 1` is greedy decoding exactly.

# %%
sources = [en for en, _ in etre]
src_all, src_lengths = pad_batch(translator.encode(sources))  # all 320 sentences as one batch
references = [fr.encode(translator.tgt_tokenizer.tokenize(fr_text)) for _, fr_text in etre]  # compared id by id
greedy = model.greedy_decode(src_all, src_lengths)
beam = model.beam_search(src_all, src_lengths, beam_size=3)
assert model.beam_search(src_all, src_lengths, beam_size=1) == greedy  # k = 1 is greedy
differ = []
for b in np.nonzero([g != h for g, h in zip(greedy, beam)])[0]:
    src = src_all[: src_lengths[b], b : b + 1]
    gain = sentence_logp(src, beam[b]) - sentence_logp(src, greedy[b])  # how much more likely beam's sentence is
    differ.append(dict(source=sources[b], greedy=greedy[b], beam=beam[b], ref=references[b], gain=gain,
                       seen="trained on" if sources[b] in trained_on else "held out"))
    print(f"{sources[b]:22s} greedy: {text(greedy[b]):26s} beam: {text(beam[b]):26s} "
          f"{gain:+.3f} nats  ({differ[-1]['seen']}; reference {text(references[b])})")
exact = {name: np.mean([h == r for h, r in zip(hyps, references)])
         for name, hyps in (("greedy", greedy), ("beam", beam))}
print(f"{len(differ)} of {len(etre)} sentences decode differently; exact match greedy {100 * exact['greedy']:.1f}%, "
      f"beam {100 * exact['beam']:.1f}%")
assert differ and all(d["gain"] > 0 for d in differ)  # here, wherever they differ, the beam's sentence is likelier
assert all(len(d["beam"]) <= len(d["greedy"]) for d in differ)  # and never longer: it leans short
verdicts = {"beam right": 0, "greedy right": 0, "both wrong": 0}
for d in differ:
    verdict = "beam right" if d["beam"] == d["ref"] else "greedy right" if d["greedy"] == d["ref"] else "both wrong"
    verdicts[verdict] += 1
print("where they differ:", verdicts)
assert verdicts["beam right"] >= 1 and verdicts["greedy right"] >= 1  # it wins some and loses some ...
assert exact["beam"] <= exact["greedy"]  # ... and here, over all 320, it is no better than greedy

# %% [markdown]
# Wherever the two differ here, beam search found a sentence the model thinks more likely,
# and never a longer one (both asserted above). Whether that is a *better* translation is
# another matter: where they differ, beam search is right on some sentences and greedy on
# others, and over all 320 sentences beam search's exact match is no higher than greedy's
# (printed above). Look at one of each.
#
# ### A case where beam search beats greedy

# %%
wins = [d for d in differ if d["beam"] == d["ref"] and d["greedy"] != d["ref"]]
win = max(wins, key=lambda d: d["gain"])
print(f'"{win["source"]}"  ({win["seen"]})\n  greedy: {text(win["greedy"])}\n  beam  : {text(win["beam"])}'
      f"   right, and {win['gain']:+.3f} nats more likely")
assert win["beam"] == win["ref"] != win["greedy"] and win["gain"] > 0

# %% [markdown]
# Greedy took the word that looked best at one step and ended with a less likely, wrong
# sentence; keeping three hypotheses found the right one. A search error, fixed by searching
# more.
#
# ### A case where it does not

# %%
losses = [d for d in differ if d["greedy"] == d["ref"] and d["beam"] != d["ref"]]
loss = min(losses, key=lambda d: len(d["beam"]))  # the shortest beam output among them
print(f'"{loss["source"]}"  ({loss["seen"]})\n  greedy: {text(loss["greedy"])}   right\n'
      f'  beam  : {text(loss["beam"])}   wrong, and {loss["gain"]:+.3f} nats more likely')
assert loss["greedy"] == loss["ref"] != loss["beam"] and loss["gain"] > 0

# %% [markdown]
# Here the search did its job, it found a more likely sentence, and the answer got worse: the
# model itself prefers a wrong translation. That is a **model error**, which no search can fix:
# a better search only exposes it. Beam search fixes search errors only.
#
# ## The beams, one timestep at a time
#
# Here is beam search written out for the sentence where it won, with `k = 3`. One decoder
# step per open beam gives its next-word log-probabilities, and every (beam, word) pair becomes
# a candidate scored by its running total. (The library runs the beams of every sentence in a
# batch as the rows of one decoder step.)

# %%
k = 3
src = np.array(translator.encode([win["source"]])[0])[:, None]
memory, context = model.encode(src)
beams = [([], 0.0, context)]  # (tokens so far, total log-probability, decoder state)
finished, tree, kept = [], [], []  # tree: (step, parent's total, token, total) for the figure; kept: each step's beams
for t in range(20):
    candidates = []
    for tokens, total, state in beams:
        previous = np.array([tokens[-1] if tokens else SOS])
        logits, new_state, _ = model.decoder.step(previous, state, memory)
        logp = log_softmax(logits[0].astype(np.float64))  # log p(next word | this beam's words, x)
        logp[[PAD, SOS]] = -np.inf  # never targets, so never outputs
        candidates += [(total + logp[w], tokens + [w], new_state, total) for w in range(len(logp))]  # total + log p
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
    kept.append([b[0] for b in beams])
    print(f"step {t}: " + "  |  ".join(f"{text(b[0])} ({b[1]:.2f})" for b in beams)
          + ("   finished: " + ", ".join(f"{text(f[0])} ({f[1]:.2f})" for f in finished) if finished else ""))
    best_finished = max((f[1] for f in finished), default=-np.inf)
    if len(finished) >= k and max(b[1] for b in beams) <= best_finished:
        break  # k finished, and no open beam can still win: log-probabilities only fall
best_tokens, best_total = max(finished, key=lambda f: f[1])
print("best:", text(best_tokens), f"log p = {best_total:.3f}")
assert best_tokens == model.beam_search(src, beam_size=k)[0] == win["beam"]  # the library does exactly this, batched
assert np.isclose(best_total, sentence_logp(src, best_tokens))
behind = next(t for t, open_beams in enumerate(kept) if best_tokens[: t + 1] in open_beams[1:])  # not the top beam
rank = kept[behind].index(best_tokens[: behind + 1]) + 1
print(f"with {behind + 1} words written, the winner's prefix was beam {rank} of {k}: greedy would have dropped it")
assert win["greedy"][: behind + 1] != best_tokens[: behind + 1]  # greedy's sentence had taken another word there

# %% [markdown]
# ## More beams do not always find a likelier sentence
#
# On this model, wherever beam and greedy differ, the beam's sentence is the likelier. That is
# usual, not a rule: greedy's own prefix can fall out of the beam, when the other beams'
# continuations all score higher than its best one, and then what it led to is lost.
# A four-word language model, written as a table, shows it. After "A" the model hesitates
# (0.35, 0.35, 0.3) and after "B" it does not (0.5, 0.5), so at step 2 both continuations of
# "B" beat the best of "A", and two beams keep only those:

# %%
A, B, x, y = 3, 4, 5, 6  # token ids after <pad> <sos> <eos>
table = {(): {A: 0.5, B: 0.4, EOS: 0.1}, (A,): {x: 0.35, y: 0.35, EOS: 0.3}, (B,): {x: 0.5, y: 0.5},
         (A, x): {EOS: 1.0}, (A, y): {EOS: 1.0}, (B, x): {EOS: 0.8, y: 0.2}, (B, y): {EOS: 0.8, x: 0.2},
         (B, x, y): {EOS: 1.0}, (B, y, x): {EOS: 1.0}}
prefixes = list(table)  # a decoder state is the index of the prefix written so far


def table_step(ids, state):
    """One step of the table model for a batch of rows: ids (rows,) just written -> (logits, new state)."""
    logits, new_state = np.full((len(ids), 7), -1e9), np.zeros(len(ids), dtype=np.int64)
    for row, (token, index) in enumerate(zip(ids, state)):
        prefix = prefixes[index] + (() if token == SOS else (int(token),))
        if prefix not in table:  # past <eos>, or an empty beam: anything, it is never kept
            prefix = ()
        new_state[row] = prefixes.index(prefix)
        for w, p in table[prefix].items():
            logits[row, w] = np.log(p)
    return logits, new_state


def table_logp(tokens):
    prefix, total = (), 0.0
    for w in tokens + [EOS]:
        total += np.log(table[prefix][w])
        prefix += (w,)
    return total


names = {A: "A", B: "B", x: "x", y: "y"}
one = greedy_decode(table_step, np.zeros(1, dtype=np.int64), 1)[0]
for k_table in (1, 2, 3):
    found = beam_search(table_step, np.zeros(k_table, dtype=np.int64), 1, beam_size=k_table)[0][0]
    print(f"k = {k_table}: {' '.join(names[w] for w in found.tokens):6s} p = {np.exp(found.logp):.3f}")
    if k_table == 1:
        assert found.tokens == one and np.isclose(found.logp, table_logp(one))  # k = 1 is greedy: A x, 0.175
    if k_table == 2:
        assert found.logp < table_logp(one)  # two beams: a LESS likely sentence (B x, 0.16) than one beam
    if k_table == 3:
        assert np.isclose(found.logp, table_logp(one))  # three beams keep "A x" and find it again

# %% [markdown]
# ## Length, and the length penalty
#
# Every word multiplies in a probability below one, so a sentence's log-probability only falls
# as it grows, and a search for the most likely sentence leans towards short ones. The usual
# remedy (Wu et al. 2016) divides each finished sentence's total by a factor that grows with
# its length n (its words and `<eos>`):
#
# $$\mathrm{score}(y) = \frac{\log p(y \mid x)}{\big((5 + n) / 6\big)^{\alpha}}$$
#
# $\alpha = 0$ leaves totals alone; a larger $\alpha$ shrinks long sentences' (negative) totals
# more, so it favours longer outputs. `beam_search(..., length_penalty=alpha)` uses this score.
# Here it is applied to the finished hypotheses of one search with `k = 5`, so the whole sweep
# costs one search:

# %%
finished_all = model.beam_search_all(src_all, src_lengths, beam_size=5)  # every finished hypothesis, per sentence
sweep = {}
for alpha in (0.0, 0.5, 1.0, 1.5, 2.0):
    chosen = [max(hyps, key=lambda h: h.logp / length_penalty_factor(len(h.tokens) + 1, alpha)).tokens
              for hyps in finished_all]  # score = log p / ((5 + n) / 6) ** alpha
    sweep[alpha] = dict(chosen=chosen, exact=np.mean([c == r for c, r in zip(chosen, references)]),
                        length=np.mean([len(c) for c in chosen]))
    print(f"alpha {alpha:.1f}: mean length {sweep[alpha]['length']:.3f} tokens   exact match "
          f"{100 * sweep[alpha]['exact']:.1f}%")
assert sweep[0.0]["chosen"] == [hyps[0].tokens for hyps in finished_all]  # alpha 0: the most likely one
lengths = [sweep[a]["length"] for a in sweep]
assert all(a <= b for a, b in zip(lengths, lengths[1:])) and lengths[-1] > lengths[0]  # a larger alpha, longer outputs
changed = [(s, sweep[0.0]["chosen"][i], sweep[2.0]["chosen"][i], references[i]) for i, s in enumerate(sources)
           if sweep[0.0]["chosen"][i] != sweep[2.0]["chosen"][i]]
for s, short, long, ref in changed[:4]:
    mark = "right" if long == ref else ("was right" if short == ref else "both wrong")
    print(f"  {s:22s} alpha 0: {text(short):26s} alpha 2: {text(long):26s} ({mark})")
print(f"alpha 2 changes the choice for {len(changed)} of {len(sources)} sentences")
assert changed and all(len(long) >= len(short) for _, short, long, _ in changed)  # always to a longer one
assert not any(long == ref for *_, long, ref in changed) and any(short == ref for _, short, _, ref in changed)
assert sweep[2.0]["exact"] < sweep[0.0]["exact"]  # so here exact match falls
assert all(sweep[a]["exact"] <= sweep[0.0]["exact"] for a in sweep)  # no alpha beats alpha = 0

# %% [markdown]
# A larger $\alpha$ lengthens the outputs (asserted: never shorter, on average longer), but
# longer is not the same as right: whether it helps depends on whether the model's errors are
# sentences cut short. Here it hurts: of the sentences $\alpha = 2$ changes, none becomes
# right and some that were right go wrong (printed above), so exact match falls from
# $\alpha = 0$ to $\alpha = 2$, and no $\alpha$ beats 0 (asserted). This sweep runs on all
# 320 sentences to show the effect; to choose $\alpha$ for real, measure it on validation
# sentences, never on the test set: it is a setting like any other.
#
# ## The search, drawn
#
# Each point is a kept hypothesis at its step, at the height of its total log-probability,
# joined to the beam it extends; the chosen sentence is drawn thick in blue, finished ones
# that lost in orange. Labels that would collide are spread apart, with a thin line to their
# point (asserted: no two labels overlap).

# %%


def spread(values, gap):
    """Positions for labels at heights `values`, each at least `gap` from the next, moved as little as possible."""
    order = np.argsort(values)[::-1]  # top to bottom
    placed = np.array(values, dtype=np.float64)[order]
    for i in range(1, len(placed)):
        placed[i] = min(placed[i], placed[i - 1] - gap)
    shift = max(0.0, (np.array(values)[order] - placed).mean() / 2)  # centre the block on its points
    out = np.empty_like(placed)
    out[order] = placed + shift
    return out


fig, ax = plt.subplots(figsize=(8.5, 4.6), layout="constrained")
tgt = np.array([SOS] + best_tokens + [EOS])[:, None]  # the chosen sentence, teacher-forced
logits, _, _ = model.decoder.forward(tgt[:-1], context, memory)
step_logp = log_softmax(logits[:, 0, :].astype(np.float64))[np.arange(len(tgt) - 1), tgt[1:, 0]]
on_best = np.concatenate([[0.0], np.cumsum(step_logp)])  # its running total after each step
points = []
for t, parent_total, word, total in tree:
    on_path = t + 1 < len(on_best) and np.isclose(total, on_best[t + 1]) and np.isclose(parent_total, on_best[t])
    colour = OKABE_ITO[0] if on_path else (OKABE_ITO[1] if word == "<eos>" else "#888888")
    ax.plot([t, t + 1], [parent_total, total], "-", color=colour, lw=2.5 if on_path else 1, zorder=2 if on_path else 1)
    ax.plot(t + 1, total, "o" if word != "<eos>" else "s", color=colour, ms=5, zorder=3)
    points.append((t + 1, total, word.replace("\u2581", ""), colour))  # the word, without its space marker
low = min(p[1] for p in points)
ax.set_ylim(low - 0.6, 0.6)
gap = 0.055 * (0.6 - (low - 0.6))  # one label's height, in data units
labels = []
for step in sorted({p[0] for p in points}):
    column = [p for p in points if p[0] == step]
    wanted = [p[1] + 0.4 * gap for p in column]  # just above its point, clear of the lines leaving it
    for (s, y_point, word, colour), y_wanted, y_label in zip(column, wanted, spread(wanted, gap)):
        moved = abs(y_label - y_wanted) > 1e-9
        leader = dict(arrowstyle="-", color=colour, lw=0.5, relpos=(0, 0.5), shrinkA=1, shrinkB=2) if moved else None
        labels.append(ax.annotate(word, (s, y_point), xytext=(s + 0.1, y_label), textcoords="data", fontsize=8,
                                  color=colour, va="center", zorder=4, arrowprops=leader,
                                  bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.85)))
ax.set_xticks(range(max(p[0] for p in points) + 1))  # whole timesteps
ax.set_xlim(-0.2, max(p[0] for p in points) + 0.9)
ax.set_xlabel("timestep (words generated)")
ax.set_ylabel("total log-probability")
ax.set_title(f'beam search, k = {k}, on "{win["source"]}": the chosen sentence (blue) was only\n'
             f"beam {rank} with {behind + 1} words written, and won; orange squares: finished ones that lost")
fig.canvas.draw()
boxes = [Text.get_window_extent(label) for label in labels]  # each word's box, without its leader line
assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])  # no label covers another
save_figure(fig, FIGURES / "beams.png")

# %% [markdown]
# ## Summary
#
# - Beam search keeps the k best partial sentences; one decoder step extends them all, as a
#   batch. `k = 1` is greedy decoding.
# - It usually finds likelier sentences than greedy, for k decoder rows per sentence instead
#   of one, but not always: a prefix that falls out of the beam is gone.
# - Likelier is not always better: beams fix search errors, not model errors, and without a
#   length penalty they lean towards short outputs; $\alpha$ is tuned on validation data.
#
# ## Try it
#
# - `k = 5` or `k = 10` in the first experiment: do more sentences change?
# - Train for 20 epochs (lesson 7's model): on how many sentences do greedy and beam search
#   still disagree?
# - Change the table model so that `k = 3` also loses "A x".
#
# ## Exercises
#
# ```
# nprnn exercise start beam_search_step     # the k best (parent, token) pairs of every sentence
# nprnn exercise check beam_search_step.py
# ```
