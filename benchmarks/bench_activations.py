"""NumPy's np.tanh against nprnn's exp-based tanh and sigmoid, side by side.

    python benchmarks/bench_activations.py [--size 1000000] [--repeats 30]

Why this exists: nprnn.functional computes tanh as 2 / (1 + exp(-2x)) - 1 because on common
NumPy builds np.exp has a vectorised (SIMD) loop and np.tanh does not, so the exp form is
faster even though it does more passes over memory. Whether that holds depends on your NumPy
build and CPU, so this prints the figures for yours. The runs are interleaved (A, B, A, B, ...)
and the medians are quoted, because a busy laptop makes single timings noisy.

It also prints the largest absolute difference from np.tanh and from the textbook sigmoid,
so you can see the price paid in accuracy (about one unit in the last place of 1).
"""
import argparse
import time

import numpy as np

from nprnn.functional import sigmoid, tanh


def median_ns_per_element(fns, x, repeats):
    """Time each function on x, interleaved, and return the median nanoseconds per element."""
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(x)
            times[name].append(time.perf_counter() - start)
    return {name: 1e9 * float(np.median(t)) / x.size for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="elements per call")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per function")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"NumPy {np.__version__}; {args.size:,} elements, median of {args.repeats} interleaved calls")
    print(f"{'dtype':8} {'np.tanh':>9} {'nprnn tanh':>11} {'ratio':>6} "
          f"{'1/(1+np.exp(-x))':>17} {'nprnn sigmoid':>14} {'max |tanh diff|':>16}")
    for dtype in (np.float32, np.float64):
        x = rng.normal(0.0, 3.0, args.size).astype(dtype)
        t = median_ns_per_element({
            "np.tanh": np.tanh,
            "tanh": tanh,
            "textbook sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
            "sigmoid": sigmoid,
        }, x, args.repeats)
        diff = float(np.max(np.abs(tanh(x).astype(np.float64) - np.tanh(x).astype(np.float64))))
        print(f"{np.dtype(dtype).name:8} {t['np.tanh']:7.2f}ns {t['tanh']:9.2f}ns "
              f"{t['tanh'] / t['np.tanh']:5.2f}x {t['textbook sigmoid']:15.2f}ns "
              f"{t['sigmoid']:12.2f}ns {diff:16.1e}")


if __name__ == "__main__":
    main()
