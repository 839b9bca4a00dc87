"""Training: epochs of shuffled batches, validation, the best checkpoint, early stopping.

    translator, history, test = train_task(load_task("toy-en-fr"), out="runs/en-fr.npz")
    translator.translate(["i am a student"])        # ['je suis étudiant']

Everything random (the initial weights, the order of the batches) comes from one seed, so the
same seed on the same machine gives the same weights and a bit-identical checkpoint.
"""
import time
from dataclasses import dataclass

import numpy as np

from .checkpoint import load_checkpoint, save_checkpoint
from .data.batching import make_batches, pad_batch
from .data.vocab import TOKENIZERS, Vocab
from .metrics import corpus_bleu, exact_match, token_accuracy
from .optim import Adam, clip_grad_norm
from .seq2seq import Seq2Seq


@dataclass
class Translator:
    """A trained model with its vocabularies and tokeniser: text in, text out."""

    model: Seq2Seq
    src_vocab: Vocab
    tgt_vocab: Vocab
    tokenizer: str = "word"  # "word" or "char"
    max_len: int = 50
    beam_size: int = 1  # 1: greedy decoding

    def encode(self, texts):
        tokenize = TOKENIZERS[self.tokenizer][0]
        return [self.src_vocab.encode(tokenize(t)) for t in texts]

    def encoder_states(self, text):
        """(tokens, hs): the source tokens of `text` and the encoder's hidden state after each, (T, H)."""
        tokens = TOKENIZERS[self.tokenizer][0](text)
        ids = np.array(self.src_vocab.encode(tokens), dtype=np.int64)[:, None]
        if ids.shape[0] == 0:
            raise ValueError("text has no tokens to encode")
        memory, _ = self.model.encode(ids, np.array([ids.shape[0]]))
        hs = memory.outputs[:, 0, :]  # the top layer's outputs (both directions if bidirectional)
        if self.model.config["reverse_source"]:
            hs = hs[::-1]  # the encoder read the sentence backwards: label each state by its token
        return tokens, hs

    def translate_tokens(self, texts, batch_size=256):
        """Texts -> lists of target tokens (greedy decoding, or beam search if beam_size > 1)."""
        hyps = decode_all(self.model, self.encode(texts), batch_size=batch_size, max_len=self.max_len,
                          beam_size=self.beam_size)
        return [self.tgt_vocab.decode(h) for h in hyps]

    def translate(self, texts, batch_size=256):
        """Texts -> translated texts."""
        detokenize = TOKENIZERS[self.tokenizer][1]
        return [detokenize(toks) for toks in self.translate_tokens(texts, batch_size)]

    def save(self, path, meta=None):
        meta = {**(meta or {}), "tokenizer": self.tokenizer, "max_len": self.max_len}
        return save_checkpoint(path, self.model, self.src_vocab, self.tgt_vocab, meta)

    @classmethod
    def load(cls, path):
        model, src_vocab, tgt_vocab, meta = load_checkpoint(path)
        translator = cls(model, src_vocab, tgt_vocab, meta.get("tokenizer", "word"), meta.get("max_len", 50))
        return translator, meta


def decode_all(model, src_ids, *, batch_size=256, max_len=50, beam_size=1):
    """Translations of many id lists, in batches of similar length, in the given order:
    greedy, or beam search with beam_size > 1."""
    out = [None] * len(src_ids)
    order = np.argsort([len(s) for s in src_ids], kind="stable")
    for k in range(0, len(order), batch_size):
        idx = order[k : k + batch_size]
        src, lengths = pad_batch([src_ids[i] for i in idx])
        if src.shape[0] == 0:  # every source in the batch is empty
            src = np.zeros((1, len(idx)), dtype=np.int64)
        if beam_size > 1:
            hyps = model.beam_search(src, lengths, beam_size=beam_size, max_len=max_len)
        else:
            hyps = model.greedy_decode(src, lengths, max_len=max_len)
        for i, hyp in zip(idx, hyps):
            out[i] = hyp
    return out


def evaluate(translator, pairs, batch_size=256):
    """Greedy translations of `pairs` scored: exact match, token accuracy, corpus BLEU-4, and
    the teacher-forced loss (mean cross-entropy per target token)."""
    tokenize = TOKENIZERS[translator.tokenizer][0]
    refs = [tokenize(t) for _, t in pairs]
    hyps = translator.translate_tokens([s for s, _ in pairs], batch_size=batch_size)
    src_ids = translator.encode([s for s, _ in pairs])
    tgt_ids = [translator.tgt_vocab.encode(r, sos=True, eos=True) for r in refs]
    total = count = 0.0
    for batch in make_batches(src_ids, tgt_ids, batch_size, shuffle=False):
        n = int((batch.tgt[1:] != 0).sum())
        total += translator.model.loss(batch.src, batch.tgt, batch.src_lengths) * n
        count += n
    return dict(exact=exact_match(hyps, refs), token_accuracy=token_accuracy(hyps, refs),
                bleu=corpus_bleu(hyps, refs), loss=total / count, hyps=hyps, refs=refs)


def _score(record):
    """Validation results in order of importance: exact match, then BLEU, then a lower loss."""
    return (record["valid_exact"], record["valid_bleu"], -record["valid_loss"])


def fit(translator, train_pairs, valid_pairs, *, epochs=10, batch_size=64, lr=1e-3, lr_decay=1.0, clip=5.0,
        patience=4, teacher_forcing=1.0, rng=None, checkpoint=None, meta=None, log=print):
    """Train `translator.model` on (source, target) text pairs; keep the best by validation.

    Each epoch: shuffled batches of similar length, Adam at learning rate
    lr * lr_decay ** (epoch - 1) with the global gradient norm clipped to `clip` (scheduled
    sampling if teacher_forcing < 1; dropout, if the model has any, is on only here), then
    greedy decoding of the validation pairs. The best weights so far are
    written to `checkpoint` (if given) at once and put back into the model at the end. Training
    stops after `patience` epochs without improvement, or on Ctrl-C (keeping what it has).
    Returns the history: one dict per epoch (its training seconds, training loss, and the
    validation loss, exact match, token accuracy and BLEU).
    """
    if not (isinstance(lr_decay, (int, float)) and 0 < lr_decay <= 1):
        raise ValueError(f"lr_decay must be a number in (0, 1], got {lr_decay!r}")
    model = translator.model
    tokenize = TOKENIZERS[translator.tokenizer][0]
    src_ids = translator.encode([s for s, _ in train_pairs])
    tgt_ids = [translator.tgt_vocab.encode(tokenize(t), sos=True, eos=True) for _, t in train_pairs]
    optimizer = Adam(model.params, model.grads, lr=lr)
    history, best, best_state, stale = [], None, None, 0
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            optimizer.lr = lr * lr_decay ** (epoch - 1)  # exponential decay, once per epoch
            total_loss = total_tokens = 0.0
            model.training = True
            for batch in make_batches(src_ids, tgt_ids, batch_size, rng=rng):
                model.zero_grad()
                loss = model.loss(batch.src, batch.tgt, batch.src_lengths, teacher_forcing=teacher_forcing, rng=rng)
                model.backward()
                clip_grad_norm(model.grads, clip)
                optimizer.step()
                n = int((batch.tgt[1:] != 0).sum())  # real target tokens in the batch
                total_loss += loss * n
                total_tokens += n
            model.training = False
            seconds = time.perf_counter() - t0
            result = evaluate(translator, valid_pairs)
            record = dict(epoch=epoch, seconds=seconds, loss=total_loss / total_tokens, valid_loss=result["loss"],
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
            log(f"epoch {epoch:3d}/{epochs}  loss {record['loss']:.4f}  {total_tokens / seconds:8,.0f} tok/s  "
                f"elapsed {time.perf_counter() - start:6.1f}s  valid loss {result['loss']:.4f}  exact {100 * result['exact']:5.1f}%  "
                f"BLEU {result['bleu']:5.1f}{'  *' if improved else ''}")
            if stale >= patience:
                log(f"stopping early: no improvement in {patience} epochs")
                break
    except KeyboardInterrupt:
        model.training = False
        log("interrupted: keeping the best weights so far" + (f" (saved in {checkpoint})" if best else ""))
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def train_task(task, *, out=None, seed=0, log=print, **settings):
    """Build vocabularies and a model for `task`, train it, and score it on the test split.

    settings: cell, embed, hidden, layers, bidirectional, attention ("dot", "general",
    "additive", or "none"), peeky, reverse_source, dropout (the model); epochs, batch_size,
    lr, lr_decay, clip, patience, teacher_forcing (training); min_freq, max_len, dtype. Each
    one left out or None takes the task's default. Returns (translator, history, test), test
    being `evaluate` on the test split; the best checkpoint is at `out` if given.
    """
    unknown = sorted(set(settings) - set(task.defaults))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; known: {sorted(task.defaults)}")
    s = {**task.defaults, **{k: v for k, v in settings.items() if v is not None}}
    if s["attention"] == "none":  # None means "the task's default", so "none" turns attention off
        s["attention"] = None
    tokenize = TOKENIZERS[task.tokenizer][0]
    src_vocab = Vocab.build((tokenize(a) for a, _ in task.train), min_freq=s["min_freq"])
    tgt_vocab = Vocab.build((tokenize(b) for _, b in task.train), min_freq=s["min_freq"])
    init_seed, batch_seed = np.random.SeedSequence(seed).spawn(2)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), s["embed"], s["hidden"], cell=s["cell"], num_layers=s["layers"],
                    bidirectional=s["bidirectional"], attention=s["attention"], peeky=s["peeky"],
                    reverse_source=s["reverse_source"], dropout=s["dropout"], rng=np.random.default_rng(init_seed),
                    dtype=s["dtype"])
    translator = Translator(model, src_vocab, tgt_vocab, task.tokenizer, s["max_len"])
    log(f"task {task.name}: {len(task.train)} training pairs, {len(task.valid)} validation, {len(task.test)} test; "
        f"vocabularies {len(src_vocab)} -> {len(tgt_vocab)} tokens")
    options = [f"{s['layers']} layers" if s["layers"] > 1 else "", "bidirectional" if s["bidirectional"] else "",
               f"{s['attention']} attention" if s["attention"] else "", "peeky" if s["peeky"] else "",
               "reversed source" if s["reverse_source"] else "", f"dropout {s['dropout']}" if s["dropout"] else "",
               f"teacher forcing {s['teacher_forcing']}" if s["teacher_forcing"] < 1 else ""]
    decay = f" (x{s['lr_decay']} each epoch)" if s["lr_decay"] < 1 else ""
    log(f"model: {s['cell']} embed {s['embed']} hidden {s['hidden']} {' '.join(o for o in options if o)} "
        f"({model.num_params():,} parameters, {s['dtype']}); Adam lr {s['lr']}{decay}, batch {s['batch_size']}, "
        f"clip {s['clip']}, seed {seed}")
    meta = dict(task=task.name, seed=seed, settings=s)
    history = fit(translator, task.train, task.valid, epochs=s["epochs"], batch_size=s["batch_size"], lr=s["lr"],
                  lr_decay=s["lr_decay"], clip=s["clip"], patience=s["patience"], teacher_forcing=s["teacher_forcing"],
                  rng=np.random.default_rng(batch_seed), checkpoint=out, meta=meta, log=log)
    test = evaluate(translator, task.test)
    return translator, history, test
