"""Training: epochs of shuffled batches, validation, the best checkpoint, early stopping.

    translator, history, test = train_task(load_task("toy-en-fr"), out="runs/en-fr.npz")
    translator.translate(["i am a student"])        # ['je suis étudiant']

Everything random (the initial weights, the order of the batches) comes from one seed, so the
same seed on the same machine gives the same weights and a bit-identical checkpoint.

Imports: config, seq2seq, translate, optim, data.
"""
import time
from dataclasses import fields

import numpy as np

from .config import Seq2SeqConfig, TrainConfig, options
from .data.batching import make_batches
from .data.vocab import Vocab
from .optim import Adam, clip_grad_norm_
from .seq2seq import Seq2Seq
from .translate import Translator, evaluate


def _score(record):
    """Validation results in order of importance: exact match, then BLEU, then a lower loss."""
    return (record["valid_exact"], record["valid_bleu"], -record["valid_loss"])


def train_epoch(model, optimizer, batches, config, rng):
    """One pass over `batches` in training mode -> (mean loss per target token, tokens)."""
    model.train()
    total_loss = total_tokens = 0
    for batch in batches:
        model.zero_grad()
        loss = model.loss(batch.src, batch.tgt, batch.src_lengths, teacher_forcing=config.teacher_forcing, rng=rng)
        model.backward()
        clip_grad_norm_(model.grads, config.clip)
        optimizer.step()
        n = int((batch.tgt[1:] != 0).sum())  # real target tokens in the batch
        total_loss += loss * n
        total_tokens += n
    model.eval()
    return total_loss / total_tokens, total_tokens


def fit(translator, train_pairs, valid_pairs, *, rng=None, checkpoint=None, meta=None, log=print, **settings):
    """Train `translator.model` on (source, target) text pairs; keep the best by validation.

    settings: the fields of `TrainConfig` (epochs, batch_size, lr, lr_decay, clip, patience,
    teacher_forcing; min_freq and max_len are not used here). Each epoch: shuffled batches of
    similar length, Adam at learning rate lr * lr_decay ** (epoch - 1) with the global gradient
    norm clipped to `clip` (scheduled sampling if teacher_forcing < 1; dropout, if the model has
    any, is on only here), then greedy decoding of the validation pairs. The best weights so
    far are written to `checkpoint` (if given) at once and put back into the model at the end.
    Training stops after `patience` epochs without improvement, or on Ctrl-C (keeping what it
    has). Returns the history: one dict per epoch (its training seconds, training loss, and the
    validation loss, exact match, token accuracy and BLEU). The model is left in eval mode.
    """
    config = TrainConfig(**settings)
    model = translator.model
    src_ids = translator.encode([s for s, _ in train_pairs])
    tgt_ids = [translator.tgt_vocab.encode(translator.tokenize(t), sos=True, eos=True) for _, t in train_pairs]
    optimizer = Adam(model.params, model.grads, lr=config.lr)
    history, best, best_state, stale = [], None, None, 0
    start = time.perf_counter()
    try:
        for epoch in range(1, config.epochs + 1):
            t0 = time.perf_counter()
            optimizer.lr = config.lr * config.lr_decay ** (epoch - 1)  # exponential decay, once per epoch
            batches = make_batches(src_ids, tgt_ids, config.batch_size, rng=rng)
            loss, tokens = train_epoch(model, optimizer, batches, config, rng)
            seconds = time.perf_counter() - t0
            result = evaluate(translator, valid_pairs)
            record = dict(epoch=epoch, seconds=seconds, loss=loss, valid_loss=result["loss"],
                          valid_exact=result["exact"], valid_bleu=result["bleu"],
                          valid_token_accuracy=result["token_accuracy"])
            history.append(record)
            improved = best is None or _score(record) > _score(best)
            if improved:
                best, best_state, stale = record, model.state_dict(), 0
                if checkpoint is not None:
                    # without the timings, so that one seed always gives the same bytes
                    saved = [{k: v for k, v in r.items() if k != "seconds"} for r in history]
                    translator.save(checkpoint, {**(meta or {}), "history": saved, "epoch": epoch})
            else:
                stale += 1
            log(f"epoch {epoch:3d}/{config.epochs}  loss {loss:.4f}  {tokens / seconds:8,.0f} tok/s  "
                f"elapsed {time.perf_counter() - start:6.1f}s  valid loss {result['loss']:.4f}  "
                f"exact {100 * result['exact']:5.1f}%  BLEU {result['bleu']:5.1f}{'  *' if improved else ''}")
            if stale >= config.patience:
                log(f"stopping early: no improvement in {config.patience} epochs")
                break
    except KeyboardInterrupt:
        log("interrupted: keeping the best weights so far" + (f" (saved in {checkpoint})" if best else ""))
    model.eval()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


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


def train_task(task, *, out=None, seed=0, log=print, **settings):
    """Build vocabularies and a model for `task`, train it, and score it on the test split.

    settings: any field of `Seq2SeqConfig` but the vocabulary sizes (the model; attention may
    also be "none") and of `TrainConfig` (the training). Each one left out or None takes the
    task's default, then the config's. Returns (translator, history, test), test being
    `evaluate` on the test split; the best checkpoint is at `out` if given.
    """
    model_names = [f.name for f in options(Seq2SeqConfig)]
    train_names = [f.name for f in fields(TrainConfig)]
    unknown = sorted(set(settings) - set(model_names) - set(train_names))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; known: {model_names + train_names}")
    s = {**task.defaults, **{k: v for k, v in settings.items() if v is not None}}
    if s.get("attention") == "none":  # None means "the task's default", so "none" turns attention off
        s["attention"] = None
    train_config = TrainConfig(**{k: s[k] for k in train_names if k in s})
    src_vocab = Vocab.build((task.tokenize(a) for a, _ in task.train), min_freq=train_config.min_freq)
    tgt_vocab = Vocab.build((task.tokenize(b) for _, b in task.train), min_freq=train_config.min_freq)
    init_seed, batch_seed = np.random.SeedSequence(seed).spawn(2)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), rng=np.random.default_rng(init_seed),
                    **{k: s[k] for k in model_names if k in s})
    translator = Translator(model, src_vocab, tgt_vocab, task.tokenizer, train_config.max_len)
    log(f"task {task.name}: {len(task.train)} training pairs, {len(task.valid)} validation, {len(task.test)} test; "
        f"vocabularies {len(src_vocab)} -> {len(tgt_vocab)} tokens")
    log(_describe(model.config, train_config, seed, model.num_params()))
    meta = dict(task=task.name, seed=seed, settings={**model.config.to_dict(), **train_config.to_dict()})
    history = fit(translator, task.train, task.valid, rng=np.random.default_rng(batch_seed), checkpoint=out,
                  meta=meta, log=log, **train_config.to_dict())
    test = evaluate(translator, task.test)
    return translator, history, test
