"""One whole training step, nprnn beside the same model in PyTorch: speed, FLOP bound, memory.

    python benchmarks/bench_train_step.py [--which corpus addition] [--steps 10] [--rounds 3] [--threads 2]

A step is what `nprnn.train` does per batch: zero the gradients, the loss (embedding, encoder
over the padded source, the context handoff, decoder, [attention], output layer, masked
cross-entropy), backward, clip the global gradient norm, one Adam update. Two models:

(a) corpus: the default real-corpus model (what `nprnn train --task tsv:PATH` builds: LSTM,
    BPE subwords learned per side, vocab_size 4000 as sized to 14,400 pairs, embedding 128,
    hidden 256, general attention, dropout 0.2, label smoothing 0.1, batch 64, Adam, clip 5;
    float32) on the first 18,000 lines of ../shared/corpora/fra-eng.tsv, English -> French;
(b) addition: the addition task's defaults (nprnn/data/tasks.py), characters.

Both libraries get the same batches (make_batches, one seed) and the same initial weights
(`nprnn.export.to_torch`; the first step's losses are printed side by side as a check). The
PyTorch model is written here the way one would write it in PyTorch: nn.Embedding, nn.LSTM over a
packed source (pack_padded_sequence), nn.LSTM decoder, the attention as in nprnn, nn.Linear,
cross_entropy(ignore_index=0), torch.optim.Adam, clip_grad_norm_.

Printed, per model:

- tokens/s (real target tokens per second) of both, and the ratio of nprnn's time to PyTorch's;
  medians over --rounds interleaved blocks of --steps steps each, with a pause between blocks
  (each library's idle threads spin for a while after its calls and would slow the other: see
  bench_recurrent.py). Timings on a shared 2-core machine vary by 20-40%: the load average is
  printed before and after.
- the percentage of the FLOP bound: the matmul FLOPs of nprnn's step (counted from the shapes:
  each forward matmul has two more in the backward pass, one per operand), over NumPy's matmul
  peak measured in the same run (the best of a few large float32 products), against the measured
  step time. 100% would be a step that is nothing but matmuls, all at peak.
- where nprnn's step goes, component by component (timers wrapped around each layer's forward
  and backward inside real steps): embedding, encoder, decoder (its recurrent layers),
  attention, output projection + softmax cross-entropy over the vocabulary, optimizer (clip +
  Adam + zero_grad). PyTorch's breakdown is the same components run on their own (forward +
  backward of that part alone, with the real shapes), since its backward runs inside autograd.
- peak memory of one step above what was live before it. nprnn: tracemalloc's peak (NumPy
  reports its arrays to it). Both: growth of the process's peak resident set (VmHWM, reset
  through /proc/self/clear_refs before the step), measured in a fresh process per library so
  neither sees the other's pages (PyTorch's CPU allocator is invisible to tracemalloc).
"""
import argparse
import json
import os
import subprocess
import sys
import time

clock = time.perf_counter  # or time.process_time: --clock
CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpora", "fra-eng.tsv")
COMPONENTS = ("embedding", "encoder", "decoder", "attention", "output+softmax", "optimizer")


# ---- the data and the two models -------------------------------------------------------------


def setup(which, lines, steps, seed=0):
    """(settings, nprnn model, list of batches) for 'corpus' or 'addition'."""
    import numpy as np

    from nprnn import Seq2Seq
    from nprnn.config import Seq2SeqConfig, TrainConfig, options
    from nprnn.data.batching import make_batches
    from nprnn.data.tokenize import CharTokenizer, make_tokenizer
    from nprnn.data.vocab import Vocab

    if which == "corpus":
        from nprnn.data.corpus import read_tsv

        from nprnn.data.tasks import _defaults, bpe_vocab_size

        pairs = read_tsv(CORPUS).pairs[:lines]
        task_defaults = {**_defaults("tsv"), "dtype": "float32"}  # what `nprnn train --task tsv:...` uses
        vocab_size = bpe_vocab_size(len(pairs) * 8 // 10)  # as tsv_task sizes it for its 80% training split
        src_tokenizer = make_tokenizer("bpe", [a for a, _ in pairs], vocab_size)
        tgt_tokenizer = make_tokenizer("bpe", [b for _, b in pairs], vocab_size)
    else:
        from nprnn.data import load_task

        task = load_task("addition")
        pairs, src_tokenizer, tgt_tokenizer, task_defaults = task.train, CharTokenizer(), CharTokenizer(), task.defaults
    model_names = {f.name for f in options(Seq2SeqConfig)}
    train_names = {f.name for f in options(TrainConfig)}
    settings = {**Seq2SeqConfig(10, 10).to_dict(), **TrainConfig().to_dict(), **task_defaults}
    src = [src_tokenizer.tokenize(a) for a, _ in pairs]
    tgt = [tgt_tokenizer.tokenize(b) for _, b in pairs]
    src_vocab, tgt_vocab = Vocab.build(src, always=src_tokenizer.alphabet), Vocab.build(tgt, always=tgt_tokenizer.alphabet)
    src_ids = [src_vocab.encode(s) for s in src]
    tgt_ids = [tgt_vocab.encode(t, sos=True, eos=True) for t in tgt]
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), rng=seed, **{k: v for k, v in settings.items() if k in model_names})
    batches = make_batches(src_ids, tgt_ids, settings["batch_size"], rng=np.random.default_rng(seed))
    batches = [batches[i] for i in np.random.default_rng(seed + 1).permutation(len(batches))[:steps]]
    train = {k: settings[k] for k in train_names}
    return train, model, batches, (len(pairs), len(src_vocab), len(tgt_vocab))


def nprnn_stepper(model, train):
    from nprnn import optim

    optimizer = optim.Adam(model.params, model.grads, lr=train["lr"])

    def step(batch):  # as nprnn.train.train_epoch
        model.zero_grad()
        loss = model.loss(batch.src, batch.tgt, batch.src_lengths, label_smoothing=train["label_smoothing"])
        model.backward()
        optim.clip_grad_norm_(model.grads, train["clip"])
        optimizer.step()
        return loss

    return step


def torch_model(model):
    """The same model written as one writes it in PyTorch, with nprnn's initial weights."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    from nprnn.export import to_torch

    c = model.config
    reference = to_torch(model)  # for its weights (same names) and its attention module
    assert c.cell == "lstm" and c.num_layers == 1 and not c.bidirectional and not c.peeky

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.src_embedding = nn.Embedding(c.src_vocab_size, c.embedding_dim, padding_idx=0)
            self.tgt_embedding = nn.Embedding(c.tgt_vocab_size, c.embedding_dim, padding_idx=0)
            self.encoder = nn.LSTM(c.embedding_dim, c.hidden_size)
            self.decoder = nn.LSTM(c.embedding_dim, c.hidden_size)
            self.attention = reference.decoder.attention  # None, or nprnn's attention in PyTorch
            self.out = nn.Linear(c.hidden_size, c.tgt_vocab_size)
            self.dropout = nn.Dropout(c.dropout)  # where nprnn drops: the embeddings, and before the output layer
            with torch.no_grad():
                r = reference.state_dict()
                self.src_embedding.weight.copy_(r["encoder.embedding.weight"])
                self.tgt_embedding.weight.copy_(r["decoder.embedding.weight"])
                for lstm, side in ((self.encoder, "encoder"), (self.decoder, "decoder")):
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                        getattr(lstm, name + "_l0").copy_(r[f"{side}.cell.{name}"])
                self.out.weight.copy_(r["decoder.out.weight"])
                self.out.bias.copy_(r["decoder.out.bias"])
            self.to(getattr(torch, c.dtype))

        def encode(self, src, lengths):
            if c.reverse_source:  # each sentence reversed within its length
                t = torch.arange(src.shape[0])[:, None]
                src = src.gather(0, torch.where(t < lengths, lengths - 1 - t, t))
            packed = nn.utils.rnn.pack_padded_sequence(self.dropout(self.src_embedding(src)), lengths, enforce_sorted=False)
            out, state = self.encoder(packed)
            outputs, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=src.shape[0])
            return outputs, state

        def forward(self, src, tgt, lengths, label_smoothing=0.0):
            outputs, state = self.encode(src, lengths)
            x, _ = self.decoder(self.dropout(self.tgt_embedding(tgt[:-1])), state)
            if self.attention is not None:
                mask = torch.arange(src.shape[0])[:, None] < lengths[None, :]
                x, _ = self.attention(x, outputs, mask)
            logits = self.out(self.dropout(x))
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[1:].reshape(-1), ignore_index=0,
                                   label_smoothing=label_smoothing)

    return Net()


def torch_stepper(net, train):
    import torch

    optimizer = torch.optim.Adam(net.parameters(), lr=train["lr"])

    def step(batch):
        optimizer.zero_grad()
        loss = net(*(torch.from_numpy(a) for a in (batch.src, batch.tgt, batch.src_lengths)), train["label_smoothing"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), train["clip"])
        optimizer.step()
        return loss.item()

    return step


# ---- FLOPs ---------------------------------------------------------------------------------


def step_flops(config, batch):
    """Matmul FLOPs of one nprnn step on `batch`: 3x the forward pass's (each forward product
    y = A @ B has two in the backward pass, dA = dy @ B.T and dB = A.T @ dy, each as large)."""
    c = config
    S, B = batch.src.shape
    T = batch.tgt.shape[0] - 1
    E, H, G, V = c.embedding_dim, c.hidden_size, {"rnn": 1, "lstm": 4, "gru": 3}[c.cell], c.tgt_vocab_size
    forward = 2 * S * B * G * H * (E + H)  # encoder: x @ Wx and h @ Wh at every step (padding too)
    forward += 2 * T * B * G * H * (E + H)  # decoder
    if c.attention == "general":
        forward += 2 * S * B * H * H  # K @ W_a
    if c.attention is not None:
        forward += 2 * 2 * B * T * S * H  # scores Q K^T and the context w K
        forward += 2 * T * B * 2 * H * H  # [c; s] @ W_c
    forward += 2 * T * B * H * V  # the output layer
    return 3 * forward


def matmul_peak(threads):
    """NumPy's float32 matmul GFLOP/s: the best of a few large products."""
    import numpy as np

    best = 0.0
    rng = np.random.default_rng(0)
    for n, k, m in ((1024, 1024, 1024), (2048, 256, 2048), (640, 256, 4096)):
        a, b = rng.standard_normal((n, k)).astype(np.float32), rng.standard_normal((k, m)).astype(np.float32)
        a @ b
        for _ in range(5):
            t0 = clock()
            a @ b
            best = max(best, 2 * n * k * m / (clock() - t0) / 1e9)
    return best


# ---- component breakdowns ------------------------------------------------------------------


def nprnn_breakdown(model, step, batches):
    """Seconds per component within real steps: timers wrapped around each layer's methods."""
    import nprnn.optim
    import nprnn.seq2seq

    totals = dict.fromkeys(COMPONENTS, 0.0)

    def timed(component, fn):
        def wrapper(*args, **kwargs):
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[component] += clock() - t0
        return wrapper

    enc, dec = model.encoder, model.decoder
    patched = [(enc.embedding, "forward"), (enc.embedding, "backward"), (dec.embedding, "forward"),
               (dec.embedding, "backward"), (dec.out, "forward"), (dec.out, "backward")]
    patched += [(rec, m) for drivers in enc.layers for rec in drivers for m in ("forward", "backward")]
    patched += [(rec, m) for rec in dec.layers for m in ("forward", "backward")]
    if dec.attention is not None:
        patched += [(dec.attention, "forward"), (dec.attention, "backward")]
    for obj, method in patched:
        component = ("embedding" if obj in (enc.embedding, dec.embedding) else "output+softmax" if obj is dec.out
                     else "attention" if obj is dec.attention else "encoder" if obj in [r for d in enc.layers for r in d]
                     else "decoder")
        setattr(obj, method, timed(component, getattr(obj, method)))
    saved = (nprnn.seq2seq.cross_entropy, nprnn.optim.Adam.step, nprnn.optim.clip_grad_norm_)
    nprnn.seq2seq.cross_entropy = timed("output+softmax", saved[0])
    nprnn.optim.Adam.step = timed("optimizer", saved[1])
    nprnn.optim.clip_grad_norm_ = timed("optimizer", saved[2])
    model.zero_grad = timed("optimizer", model.zero_grad)
    try:
        total = 0.0
        for batch in batches:
            t0 = clock()
            step(batch)
            total += clock() - t0
    finally:
        for obj, method in patched:
            del obj.__dict__[method]
        nprnn.seq2seq.cross_entropy, nprnn.optim.Adam.step, nprnn.optim.clip_grad_norm_ = saved
        del model.__dict__["zero_grad"]
    return {k: v / len(batches) for k, v in totals.items()}, total / len(batches)


def torch_breakdown(net, batches, train):
    """Seconds per component, each run alone (forward + backward) on the real shapes."""
    import torch
    from torch.nn import functional as F

    totals = dict.fromkeys(COMPONENTS, 0.0)
    params = list(net.parameters())
    optimizer = torch.optim.Adam(params, lr=train["lr"])
    for batch in batches:
        src, tgt, lengths = (torch.from_numpy(a) for a in (batch.src, batch.tgt, batch.src_lengths))
        with torch.no_grad():
            outputs, state = net.encode(src, lengths)
            x, _ = net.decoder(net.tgt_embedding(tgt[:-1]), state)
            mask = torch.arange(src.shape[0])[:, None] < lengths[None, :]
            att = net.attention(x, outputs, mask)[0] if net.attention is not None else x
        pieces = {
            "embedding": lambda: (net.src_embedding(src).sum() + net.tgt_embedding(tgt[:-1]).sum()),
            "encoder": lambda: net.encoder(torch.nn.utils.rnn.pack_padded_sequence(
                net.src_embedding.weight.detach()[src], lengths, enforce_sorted=False))[1][0].sum(),
            "decoder": lambda: net.decoder(net.tgt_embedding.weight.detach()[tgt[:-1]],
                                           tuple(s.detach() for s in state))[0].sum(),
            "attention": (lambda: net.attention(x.detach().requires_grad_(), outputs.detach().requires_grad_(),
                                                mask)[0].sum()) if net.attention is not None else None,
            "output+softmax": lambda: F.cross_entropy(net.out(att.detach().requires_grad_()).flatten(0, 1),
                                                      tgt[1:].flatten(), ignore_index=0),
        }
        for name, piece in pieces.items():
            if piece is None:
                continue
            t0 = clock()
            piece().backward()
            totals[name] += clock() - t0
        t0 = clock()
        torch.nn.utils.clip_grad_norm_(params, train["clip"])
        optimizer.step()
        optimizer.zero_grad()
        totals["optimizer"] += clock() - t0
    return {k: v / len(batches) for k, v in totals.items()}


# ---- memory (each library in a fresh process) ----------------------------------------------


def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def memory_probe(library, which, lines, steps):
    """Run in a fresh process: peak memory of one step above what was live before it."""
    import tracemalloc

    train, model, batches, _ = setup(which, lines, steps)
    batch = max(batches, key=lambda b: b.src.size + b.tgt.size)  # the largest of the batches
    if library == "nprnn":
        step = nprnn_stepper(model, train)
    else:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
        step = torch_stepper(torch_model(model), train)
    step(batch)  # the optimizer's state now exists, as in every later step
    result = {}
    if library == "nprnn":
        tracemalloc.start()
        step(batch)
        _, peak = tracemalloc.get_traced_memory()
        result["tracemalloc_mib"] = peak / 2**20
        tracemalloc.stop()
    before = rss_kib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak (VmHWM) to the current resident set
        step(batch)
        result["rss_growth_mib"] = (rss_kib("VmHWM") - before) / 1024
    except OSError:
        result["rss_growth_mib"] = None
    print(json.dumps(result))


def measure_memory(library, args, which):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    out = subprocess.run([sys.executable, __file__, "--memory-probe", library, "--which", which, "--lines",
                          str(args.lines), "--steps", str(args.steps)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- main ----------------------------------------------------------------------------------


def run(which, args, np, torch):
    train, model, batches, (n_pairs, v_src, v_tgt) = setup(which, args.lines, args.steps)
    c = model.config
    tokens = [int((b.tgt[1:] != 0).sum()) for b in batches]
    print(f"\n== ({'a' if which == 'corpus' else 'b'}) {which}: {n_pairs:,} pairs, vocabularies {v_src:,} -> {v_tgt:,}; "
          f"{c.cell} embedding {c.embedding_dim} hidden {c.hidden_size}"
          f"{' ' + c.attention + ' attention' if c.attention else ''}{' reversed' if c.reverse_source else ''}, "
          f"batch {train['batch_size']}, {c.dtype}, {model.num_params():,} parameters; {len(batches)} batches, "
          f"mean {np.mean(tokens):.0f} target tokens")
    net = torch_model(model) if torch is not None else None
    # the check: both libraries start from the same weights and see the same batch
    first = batches[0]
    model.eval()  # without dropout, whose masks the two draw from different generators
    loss_np = model.loss(first.src, first.tgt, first.src_lengths)
    model._tape = None
    model.train()
    if net is not None:
        net.eval()
        with torch.no_grad():
            loss_t = net(*(torch.from_numpy(a) for a in (first.src, first.tgt, first.src_lengths))).item()
        net.train()
        print(f"first batch's loss (evaluation mode): nprnn {loss_np:.6f}, PyTorch {loss_t:.6f}")

    steppers = {"nprnn": nprnn_stepper(model, train)}
    if net is not None:
        steppers["torch"] = torch_stepper(net, train)
    times = {name: [] for name in steppers}
    for r in range(args.rounds):
        for name in list(steppers)[:: 1 if r % 2 == 0 else -1]:
            time.sleep(args.gap)
            steppers[name](batches[-1])  # untimed, after the pause
            t0 = clock()
            for batch in batches:
                steppers[name](batch)
            times[name].append(clock() - t0)
    per_step = {name: float(np.median(v)) / len(batches) for name, v in times.items()}
    tok_s = {name: sum(tokens) / len(batches) / s for name, s in per_step.items()}
    line = f"tokens/s: nprnn {tok_s['nprnn']:,.0f}"
    if net is not None:
        line += f", PyTorch {tok_s['torch']:,.0f}; nprnn's time / PyTorch's = {per_step['nprnn'] / per_step['torch']:.2f}"
    print(line)

    peak = matmul_peak(args.threads)
    flops = float(np.mean([step_flops(c, b) for b in batches]))
    bound = flops / (peak * 1e9)
    print(f"matmul FLOPs per step {flops / 1e9:.2f} G; NumPy float32 matmul peak here {peak:.0f} GFLOP/s -> "
          f"bound {1e3 * bound:.1f} ms; nprnn's step {1e3 * per_step['nprnn']:.1f} ms = "
          f"{100 * bound / per_step['nprnn']:.0f}% of the FLOP bound")

    time.sleep(args.gap)
    parts, total = nprnn_breakdown(model, steppers["nprnn"], batches)
    parts_t = torch_breakdown(net, batches, train) if net is not None else None
    print(f"{'component':<16} {'nprnn ms':>9} {'share':>6}" + (f" {'torch ms':>9} (alone)" if net is not None else ""))
    for k in COMPONENTS:
        row = f"{k:<16} {1e3 * parts[k]:9.2f} {100 * parts[k] / total:5.0f}%"
        if parts_t is not None:
            row += f" {1e3 * parts_t[k]:9.2f}"
        print(row)
    rest = total - sum(parts.values())
    print(f"{'the rest':<16} {1e3 * rest:9.2f} {100 * rest / total:5.0f}%   (handoff, masks, Python)")

    mem = {lib: measure_memory(lib, args, which) for lib in (["nprnn", "torch"] if net is not None else ["nprnn"])}
    line = f"peak memory of a step above what was live before: nprnn {mem['nprnn'].get('tracemalloc_mib', 0):.1f} MiB " \
           f"(tracemalloc), resident-set growth nprnn {mem['nprnn'].get('rss_growth_mib')} MiB"
    if net is not None:
        line += f", PyTorch {mem['torch'].get('rss_growth_mib')} MiB"
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--which", nargs="+", choices=["corpus", "addition"], default=["corpus", "addition"])
    parser.add_argument("--lines", type=int, default=18000, help="lines of fra-eng.tsv (default 18000)")
    parser.add_argument("--steps", type=int, default=10, help="batches per timed block (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="timed blocks per library (default 3)")
    parser.add_argument("--gap", type=float, default=0.25, help="seconds of pause before each block (default 0.25)")
    parser.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS and PyTorch (default 2)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall: elapsed time (default); cpu: the process's CPU time, which a busy machine "
                             "disturbs less (use it with --threads 1, where no thread waits for another)")
    parser.add_argument("--memory-probe", choices=["nprnn", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS
    if args.memory_probe:
        return memory_probe(args.memory_probe, args.which[0], args.lines, args.steps)

    import numpy as np

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("(torch is not installed: nprnn's figures only)")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.threads} threads, {args.clock} clock")
    for which in args.which:
        run(which, args, np, torch)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
