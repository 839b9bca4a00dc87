"""Which improvements to the one-context-vector seq2seq earn their place? An ablation on addition.

    python benchmarks/ablation_addition.py [--epochs 8] [--only NAME ...] [--out-dir runs/ablation]

The task is Deep Learning from Scratch 2's: "a+b" -> the sum, a and b in 0..999, characters in
and out; 44,000 problems to train on and 5,000 held out (never seen in training). Every variant
is an LSTM with embedding 16 and hidden 128, trained with Adam (lr 0.005, batch 128, gradients
clipped to norm 5) for the same number of epochs from the same seed; only the architecture
changes. After every epoch the held-out exact match (every digit right) is measured.

The last row is not an ablation but, for comparison, the recipe the task trains with: its defaults
(`nprnn train --task addition`: reversed + attention, embedding 32, hidden 112, Adam at lr 0.01
decayed x0.7 an epoch), the fastest way found to 99.5% of held-out sums.

Prints a table (held-out exact match after each epoch, and training seconds per epoch, which
leave out the held-out decoding) and saves a plot of the curves. Takes 6 to 8 minutes on 2
cores with the defaults.
"""
import argparse
import os
import sys
import time

VARIANTS = {  # name: Seq2Seq options
    "plain": dict(),
    "reversed": dict(reverse_source=True),
    "peeky": dict(peeky=True),
    "reversed+peeky": dict(reverse_source=True, peeky=True),
    "attention": dict(attention="general"),
    "reversed+attention": dict(reverse_source=True, attention="general"),
    "reversed+peeky, teacher forcing 0.75": dict(reverse_source=True, peeky=True, teacher_forcing=0.75),
}
RECIPE = "recipe: the task default"  # trained with the task's defaults, not SHARED (see the docstring)
# Everything else fixed, and every option off unless a variant turns it on (the task's own
# defaults use attention and a reversed source, which would otherwise leak into every variant).
SHARED = dict(cell="lstm", embedding_dim=16, hidden_size=128, batch_size=128, lr=0.005, lr_decay=1.0, clip=5.0, dtype="float32",
              attention="none", reverse_source=False, peeky=False, teacher_forcing=1.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8, help="epochs for every variant (default 8)")
    parser.add_argument("--only", nargs="+", choices=[*VARIANTS, RECIPE], metavar="NAME",
                        help=f"run only these variants (default all: {', '.join([*VARIANTS, RECIPE])})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS (default 2)")
    parser.add_argument("--out-dir", default="runs/ablation", help="where the plot goes (default runs/ablation)")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nprnn.data.tasks import Task, load_task
    from nprnn.plots import save_figure
    from nprnn.train import train_task

    task = load_task("addition")
    # The held-out problems are scored after every epoch: they stand in for the validation split.
    # Every variant trains for all its epochs (no early stopping), so nothing is chosen by them.
    held_out = Task("addition", task.tokenizer, task.train, task.test, task.test, task.defaults)
    results = {}
    for name in args.only or [*VARIANTS, RECIPE]:
        t0 = time.perf_counter()
        print(f"{name} ...", end="", flush=True)
        options = task.defaults if name == RECIPE else {**SHARED, **VARIANTS[name]}
        # every held-out problem, not training's default of the first 500, is decoded after each epoch
        settings = {**options, "epochs": args.epochs, "patience": args.epochs, "valid_sentences": len(task.test)}
        _, history, _ = train_task(held_out, seed=args.seed, log=lambda *a: None, **settings)
        results[name] = history
        print(f" held-out exact match {100 * history[-1]['valid_exact']:.1f}% after {args.epochs} epochs "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)

    width = max(len(n) for n in results)
    shared = "LSTM, embedding 16, hidden 128" + (" (the recipe: the task's defaults)" if RECIPE in results else "")
    print(f"\nheld-out exact match (%) after each epoch; {shared}, seed {args.seed}\n")
    print(f"| {'variant':{width}s} | " + " | ".join(f"{e:>4d}" for e in range(1, args.epochs + 1))
          + " | best | s/epoch |")
    print(f"|{'-' * (width + 2)}|" + "|".join("-----:" for _ in range(args.epochs)) + "|-----:|--------:|")
    for name, history in results.items():
        accs = " | ".join(f"{100 * r['valid_exact']:4.1f}" for r in history)
        best = max(100 * r["valid_exact"] for r in history)
        seconds = sorted(r["seconds"] for r in history)[len(history) // 2]  # the median epoch
        print(f"| {name:{width}s} | {accs} | {best:4.1f} | {seconds:7.1f} |")

    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    for name, history in results.items():
        ax.plot([r["epoch"] for r in history], [100 * r["valid_exact"] for r in history], "o-", ms=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out exact match (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the plot: the curves fill it
    ax.set_title("addition: what each improvement to seq2seq earns")
    path = os.path.join(args.out_dir, "ablation_addition.png")
    os.makedirs(args.out_dir, exist_ok=True)
    save_figure(fig, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
