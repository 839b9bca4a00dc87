"""Training: epochs of shuffled batches, validation, the best checkpoint, early stopping.

    translator, history, test = train_task(load_task("toy-en-fr"), out="runs/en-fr.npz")
    translator.translate(["i am a student"])        # ['je suis étudiant']

Everything random (the initial weights, the order of the batches) comes from one seed, so the
same seed on the same machine gives the same weights and a bit-identical checkpoint.

Imports: config, seq2seq, translate, optim, data.
"""
import sys
import time
from dataclasses import asdict, fields, replace

import numpy as np

from .config import Seq2SeqConfig, TrainConfig, options
from .data.batching import make_batches
from .data.tokenize import make_tokenizer
from .data.vocab import SPECIALS, Vocab
from .optim import Adam, clip_grad_norm_
from .seq2seq import Seq2Seq
from .translate import Translator, evaluate


class TrainingDiverged(RuntimeError):
    """The loss or the gradient stopped being finite: training stopped at once, before the bad
    step could reach the weights. ``saved`` is the history record whose weights the checkpoint
    holds (None if this run saved nothing), ``history`` the epochs completed."""

    def __init__(self, epoch, step, lr, what, history, saved):
        self.epoch, self.step, self.lr, self.history, self.saved = epoch, step, lr, history, saved
        verb = "are" if what == "weights" else "is"
        super().__init__(f"training diverged at epoch {epoch}, step {step}: the {what} {verb} not finite at "
                         f"learning rate {lr:g}; try a smaller one, such as {min(lr / 10, 1e-3):g}")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the best weights so far are in the model and, if a checkpoint
    was asked for, in it; ``saved`` is that epoch's history record (None: nothing was saved)."""

    def __init__(self, history, saved):
        self.history, self.saved = history, saved
        super().__init__("interrupted")


SCORE_ORDER = {"exact": ("valid_exact", "valid_chrf"), "chrf": ("valid_chrf", "valid_bleu"),
               "bleu": ("valid_bleu", "valid_chrf")}


def _score(record, keep_best="exact"):
    """An epoch's validation results in order of importance (`keep_best` first, then the
    second score of SCORE_ORDER, then a lower loss): the epoch with the largest is kept."""
    first, second = SCORE_ORDER[keep_best]
    return (record[first], record[second], -record["valid_loss"])


class _NotFinite(ArithmeticError):
    def __init__(self, step, what):
        super().__init__(what)
        self.step, self.what = step, what


class Progress:
    """Progress inside an epoch: on a terminal one line rewritten in place; elsewhere (a log
    file, a pipe) a line every `every` seconds."""

    def __init__(self, stream=None, every=10.0):
        self.stream = stream if stream is not None else sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every, self.last, self.width = every, time.perf_counter(), 0

    def __call__(self, epoch, step, steps, tokens, loss, seconds):
        now = time.perf_counter()
        if not self.tty and now - self.last < self.every:
            return
        self.last = now
        eta = seconds / step * (steps - step)
        line = (f"epoch {epoch} batch {step}/{steps}  {tokens / seconds:8,.0f} tok/s  loss {loss:.4f}  "
                f"eta {eta // 60:.0f}m{eta % 60:02.0f}s")
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self):
        """Clear the line on a terminal, before the epoch's summary is printed."""
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def _train_step(model, optimizer, batch, config, rng, step):
    """One batch: loss, backward, clip, Adam's step -> the loss. What stops being finite (the
    loss, the gradient, the weights) raises _NotFinite before it goes further."""
    model.zero_grad()
    loss = model.loss(batch.src, batch.tgt, batch.src_lengths, teacher_forcing=config.teacher_forcing, rng=rng,
                      label_smoothing=config.label_smoothing)
    if not np.isfinite(loss):
        raise _NotFinite(step, "loss")
    model.backward()
    if not np.isfinite(clip_grad_norm_(model.grads, config.clip)):  # the norm before clipping
        raise _NotFinite(step, "gradient")
    optimizer.step()
    if not np.isfinite(loss + sum(float(p.sum()) for p in model.parameters())):  # huge steps end in inf
        raise _NotFinite(step, "weights")
    return loss


def train_epoch(model, optimizer, batches, config, rng, *, deadline=None, progress=None, epoch=0):
    """One pass over `batches` in training mode -> (mean loss per target token, tokens, finished).

    It stops early, finished False, once time.perf_counter() passes `deadline`. A loss or a
    gradient that is not finite stops it before the optimizer steps (_NotFinite); NumPy's
    overflow warnings are silenced meanwhile, since that check reports the problem itself."""
    model.train()
    total_loss = total_tokens = 0
    start = time.perf_counter()
    for step, batch in enumerate(batches, start=1):
        with np.errstate(all="ignore"):  # no RuntimeWarning: what is not finite is caught below, in one line
            loss = _train_step(model, optimizer, batch, config, rng, step)
        n = int((batch.tgt[1:] != 0).sum())  # real target tokens in the batch
        total_loss += loss * n
        total_tokens += n
        if progress is not None:
            progress(epoch, step, len(batches), total_tokens, total_loss / total_tokens, time.perf_counter() - start)
        if deadline is not None and time.perf_counter() > deadline:
            break
    model.eval()
    return total_loss / total_tokens, total_tokens, step == len(batches)


def fit(translator, train_pairs, valid_pairs, *, rng=None, checkpoint=None, meta=None, log=print, progress=None,
        **settings):
    """Train `translator.model` on (source, target) text pairs; keep the best by validation.

    settings: the fields of `TrainConfig` (epochs, batch_size, lr, lr_decay, clip, patience,
    teacher_forcing, label_smoothing, time_limit, valid_sentences, keep_best; min_freq and max_len
    are not used here). Each epoch: shuffled batches of similar length, Adam at learning rate
    lr * lr_decay ** (epoch - 1) with the global gradient norm clipped to `clip` (scheduled
    sampling if teacher_forcing < 1; dropout, if the model has any, is on only here), then
    greedy decoding of the first `valid_sentences` validation sources. The best weights so far
    (by validation exact match, then chrF, then loss; `keep_best` may put chrF or BLEU first)
    are written to `checkpoint` (if given) at once and put back into the model at the end.
    Training stops after `patience` epochs without improvement, or when `time_limit` seconds
    have passed (the last epoch is cut short and validated). `progress`, if given, is called after every batch (see `Progress`).
    Returns the history: one dict per epoch (its training seconds, training loss, and the
    validation loss, exact match, token accuracy, BLEU and chrF). The model is left in eval mode.

    A loss or gradient that is not finite raises `TrainingDiverged` at once; Ctrl-C raises
    `TrainingInterrupted` after saving the best weights so far if they are not saved yet (a
    second Ctrl-C during that save quits at once, leaving the file as it was). Both say which
    epoch's weights the checkpoint holds. No weight that is not finite is ever saved.
    """
    config = TrainConfig(**settings)
    model = translator.model
    src_ids = translator.encode([s for s, _ in train_pairs])
    tgt_ids = translator.encode_targets([t for _, t in train_pairs])
    optimizer = Adam(model.params, model.grads, lr=config.lr)
    history, best, best_state, stale, saved = [], None, None, 0, None
    start = time.perf_counter()
    deadline = start + config.time_limit if config.time_limit else None
    valid_pairs = _first_sources(valid_pairs, config.valid_sentences)

    def save(record, epochs=None):  # the model's weights as `record`'s epoch's, with the first `epochs` records
        translator.save(checkpoint, {**(meta or {}), "history": _untimed(history[: epochs or record["epoch"]]),
                                     "epoch": record["epoch"]})
        return record

    def restore():  # the best weights so far back into the model, in evaluation mode
        model.eval()
        if best_state is not None:
            model.load_state_dict(best_state)

    try:
        for epoch in range(1, config.epochs + 1):
            t0 = time.perf_counter()
            optimizer.lr = config.lr * config.lr_decay ** (epoch - 1)  # exponential decay, once per epoch
            try:
                loss, tokens, finished = train_epoch(
                    model, optimizer, make_batches(src_ids, tgt_ids, config.batch_size, rng=rng), config, rng,
                    deadline=deadline, progress=progress, epoch=epoch)
            except _NotFinite as e:
                restore()
                raise TrainingDiverged(epoch, e.step, optimizer.lr, e.what, history, saved) from None
            record = _validate(translator, valid_pairs, epoch, time.perf_counter() - t0, loss, tokens)
            history.append(record)
            improved = best is None or _score(record, config.keep_best) > _score(best, config.keep_best)
            if improved:
                best, best_state, stale = record, model.state_dict(), 0
                saved = save(record) if checkpoint is not None else None
            else:
                stale += 1
            if progress is not None and hasattr(progress, "done"):
                progress.done()
            log(_progress_line(record, config.epochs, time.perf_counter() - start, improved))
            stop = _stop_reason(finished, stale, config)
            if stop:
                log(stop)
                break
    except KeyboardInterrupt:
        restore()
        if checkpoint is not None and best is not None and saved is not best:  # stopped before or during its save
            try:
                saved = save(best)
            except KeyboardInterrupt:  # a second Ctrl-C: quit now; the save left the file as it was
                raise TrainingInterrupted(history, saved) from None
        raise TrainingInterrupted(history, saved if checkpoint is not None else best) from None
    restore()
    _save_whole_history(save, saved, history)
    return history


def _save_whole_history(save, saved, history):
    """After the last epoch, if epochs ran after the kept one: the kept weights saved again, with
    every epoch's record (for `nprnn plot scores`). Ctrl-C during this save leaves the file as it
    was, holding the same epoch's weights, and says so."""
    if saved is None or saved is history[-1]:
        return
    try:
        save(saved, len(history))
    except KeyboardInterrupt:
        raise TrainingInterrupted(history, saved) from None


def _stop_reason(finished, stale, config):
    """Why training stops after this epoch (the line to print), or None to go on."""
    if not finished:
        return f"stopping: the time limit of {config.time_limit:g} s is reached"
    if stale >= config.patience:
        return f"stopping early: no improvement in {config.patience} epochs"
    return None


def _untimed(history):
    """The history records without their timings: one seed, one checkpoint, bit for bit."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in history]


def _first_sources(pairs, n):
    """The pairs of the first n distinct sources (all their targets): a validation set small
    enough to decode every epoch, the same one every epoch."""
    keep = set(list(dict.fromkeys(s for s, _ in pairs))[:n])
    return [(s, t) for s, t in pairs if s in keep]


def _validate(translator, valid_pairs, epoch, seconds, loss, tokens):
    """The history record of an epoch: its training time, tokens and loss, and the validation scores."""
    result = evaluate(translator, valid_pairs)
    return dict(epoch=epoch, seconds=seconds, tokens=tokens, loss=loss, valid_loss=result["loss"], valid_exact=result["exact"],
                valid_bleu=result["bleu"], valid_chrf=result["chrf"], valid_token_accuracy=result["token_accuracy"])


def _progress_line(r, epochs, elapsed, improved):
    return (f"epoch {r['epoch']:3d}/{epochs}  loss {r['loss']:.4f}  {r['tokens'] / r['seconds']:8,.0f} tok/s  "
            f"elapsed {elapsed:6.1f}s  valid loss {r['valid_loss']:.4f}  exact {100 * r['valid_exact']:5.1f}%  "
            f"BLEU {r['valid_bleu']:5.1f}  chrF {r['valid_chrf']:5.1f}{'  *' if improved else ''}")


def _describe(c, t, seed, num_params):
    """One line: the model and how it trains."""
    options = [f"{c.num_layers} layers" if c.num_layers > 1 else "", "bidirectional" if c.bidirectional else "",
               f"{c.attention} attention" if c.attention else "", "peeky" if c.peeky else "",
               "reversed source" if c.reverse_source else "", f"dropout {c.dropout}" if c.dropout else "",
               f"teacher forcing {t.teacher_forcing}" if t.teacher_forcing < 1 else ""]
    decay = f" (x{t.lr_decay} each epoch)" if t.lr_decay < 1 else ""
    return (f"model: {c.cell} embedding {c.embedding_dim} hidden {c.hidden_size} "
            f"{' '.join(o for o in options if o)} ({num_params:,} parameters, {c.dtype}); "
            f"Adam lr {t.lr}{decay}, batch {t.batch_size}, clip {t.clip}, seed {seed}")


def train_task(task, *, out=None, seed=0, log=print, progress=None, **settings):
    """Build vocabularies and a model for `task`, train it, and score it on the test split.

    settings: any field of `Seq2SeqConfig` but the vocabulary sizes (the model; attention may
    also be "none") and of `TrainConfig` (the training). Each one left out or None takes the
    task's default, then the config's. Returns (translator, history, test), test being
    `evaluate` on the test split; the best checkpoint is at `out` if given. Ctrl-C while the
    test split is scored raises `TrainingInterrupted` naming the best epoch (the one saved).
    """
    model_names = [f.name for f in options(Seq2SeqConfig)]
    train_names = [f.name for f in fields(TrainConfig)]
    unknown = sorted(set(settings) - set(model_names) - set(train_names))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; known: {model_names + train_names}")
    s = {"tokenizer": task.tokenizer, **task.defaults, **{k: v for k, v in settings.items() if v is not None}}
    if s.get("attention") == "none":  # None means "the task's default", so "none" turns attention off
        s["attention"] = None
    train_config = TrainConfig(**{k: s[k] for k in train_names if k in s})
    c = train_config  # each side's tokenizer learns from the training split only
    src_tokenizer = make_tokenizer(c.tokenizer, [a for a, _ in task.train], c.vocab_size)
    tgt_tokenizer = make_tokenizer(c.tokenizer, [b for _, b in task.train], c.vocab_size)
    # the tokens of the training sentences, and (BPE) every character they hold, even one seen
    # only inside longer symbols: a symbol the vocabulary lacks is cut back into its pieces
    src_vocab = Vocab.build((src_tokenizer.tokenize(a) for a, _ in task.train), min_freq=c.min_freq,
                            always=src_tokenizer.alphabet)
    tgt_tokens = [tgt_tokenizer.tokenize(b) for _, b in task.train]
    tgt_vocab = Vocab.build(tgt_tokens, min_freq=c.min_freq, always=tgt_tokenizer.alphabet)
    if "max_len" not in s:  # neither given nor the task's: room for twice the longest training target
        longest = max(map(len, tgt_tokens))
        train_config = c = replace(c, max_len=min(10_000, max(c.max_len, 2 * longest)))
    for side, vocab in (("source", src_vocab), ("target", tgt_vocab)):
        if len(vocab) <= len(SPECIALS):
            raise ValueError(f"the training {side} sentences hold no token (min_freq {train_config.min_freq}): "
                             f"nothing to learn")
    init_seed, batch_seed = np.random.SeedSequence(seed).spawn(2)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), rng=np.random.default_rng(init_seed),
                    **{k: s[k] for k in model_names if k in s})
    translator = Translator(model, src_vocab, tgt_vocab, src_tokenizer, tgt_tokenizer, c.max_len)
    log(f"{task.summary()}; vocabularies {len(src_vocab):,} -> {len(tgt_vocab):,} tokens")
    log(_describe(model.config, train_config, seed, model.num_params()))
    meta = dict(task=task.name, seed=seed, settings={**model.config.to_dict(), **train_config.to_dict()},
                corpus=None if task.corpus is None else asdict(task.corpus))
    history = fit(translator, task.train, task.valid, rng=np.random.default_rng(batch_seed), checkpoint=out,
                  meta=meta, log=log, progress=progress, **train_config.to_dict())
    try:
        test = evaluate(translator, task.test)
    except KeyboardInterrupt:  # after training: the model (and `out`) holds the best epoch's weights
        best = max(history, key=lambda r: _score(r, train_config.keep_best))  # the first of the best, as fit keeps it
        raise TrainingInterrupted(history, best) from None
    return translator, history, test
