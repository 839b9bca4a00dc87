"""A task's default training, over several seeds: how reliably does it reach its accuracy, and how fast?

    python benchmarks/task_seeds.py --task addition [--seeds 0 1 2] [--epochs N] [--threads 2]

`nprnn train --task TASK` trains with seed 0. A single seed can be lucky: on addition the epoch at
which a model first "gets" carrying varies from seed to seed. This runs exactly what that command
runs (the task's defaults, overridable with the flags below) once per seed and prints, for each,
the validation exact match after every epoch with the training seconds so far, then the held-out
test score of the kept (best-on-validation) checkpoint and the wall time. Nothing is written to
disk. About 35 s per seed for addition and 60 s for dates on 2 cores.
"""
import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="addition", help="a task name, as for `nprnn train --task` (default addition)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds to train with (default 0 1 2)")
    parser.add_argument("--epochs", type=int, help="override the task's number of epochs")
    parser.add_argument("--set", metavar="JSON", default="{}",
                        help='override other settings, e.g. \'{"hidden_size": 96, "attention": "dot"}\'')
    parser.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS (default 2)")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS

    from nprnn.data import load_task
    from nprnn.train import train_task

    try:
        overrides = json.loads(args.set)
    except json.JSONDecodeError as e:
        parser.error(f"--set must be a JSON object: {e}")
    if not isinstance(overrides, dict):
        parser.error("--set must be a JSON object")
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    task = load_task(args.task)
    settings = {**task.defaults, **overrides}
    print(f"{task.name}: {json.dumps(settings)}; {args.threads} BLAS threads\n")
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        _, history, test = train_task(task, seed=seed, log=lambda *a: None, **overrides)
        wall = time.perf_counter() - t0
        elapsed, curve = 0.0, []
        for r in history:
            elapsed += r["seconds"]
            curve.append(f"{100 * r['valid_exact']:5.1f}% @{elapsed:3.0f}s")
        # the epoch fit kept: the first with the best (exact match, BLEU, -loss) on validation
        best = max(history, key=lambda r: (r["valid_exact"], r["valid_bleu"], -r["valid_loss"]))
        print(f"seed {seed}: validation after each epoch: {', '.join(curve)}")
        print(f"        kept epoch {best['epoch']}; test exact match {100 * test['exact']:.2f}% "
              f"({round(test['exact'] * len(test['refs']))} / {len(test['refs'])}); wall {wall:.0f} s\n", flush=True)
        rows.append((seed, test["exact"], wall))
    accs = [100 * a for _, a, _ in rows]
    print(f"test exact match over {len(rows)} seeds: min {min(accs):.2f}%, max {max(accs):.2f}%; "
          f"wall {min(w for *_, w in rows):.0f}-{max(w for *_, w in rows):.0f} s each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
