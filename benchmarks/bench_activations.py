"""Three ways to compute tanh and sigmoid in NumPy, side by side: which one nprnn uses, and why.

    python benchmarks/bench_activations.py [--size 1000000] [--repeats 30]

tanh:     np.tanh(x)                   (nprnn.functional.tanh)
          2 / (1 + exp(-2x)) - 1       (the exp form)
sigmoid:  (1 + tanh(x / 2)) / 2        (nprnn.functional.sigmoid; the LSTM's gates use it too)
          1 / (1 + exp(-x))            (the textbook form)

Which is fastest depends on the NumPy build and the CPU: a loop that NumPy vectorises (SIMD) is
several times faster than one it does not. Older NumPy builds vectorised np.exp but not
np.tanh, and nprnn once used the exp forms for that reason; NumPy 2 vectorises np.tanh too, and
then the tanh forms win (one pass fewer over memory, and no overflow to silence). This prints
the figures for your machine: median nanoseconds per element over interleaved calls (A, B, A,
B, ...: a busy machine makes single timings noisy), and the largest absolute difference between
the two forms of each (about one unit in the last place of 1).
"""
import argparse
import time

import numpy as np

from nprnn.functional import sigmoid, tanh


def exp_tanh(x):
    """tanh(x) = 2 / (1 + exp(-2x)) - 1: exp overflows to inf only where the answer is -1."""
    with np.errstate(over="ignore"):
        return 2.0 / (1.0 + np.exp(-2.0 * x)) - 1.0


def exp_sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x))."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000, help="elements per call")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per function")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"NumPy {np.__version__}; {args.size:,} elements, median ns per element of {args.repeats} interleaved calls")
    print(f"{'dtype':8} {'tanh: nprnn':>12} {'exp form':>9} {'max diff':>9} {'sigmoid: nprnn':>15} {'exp form':>9} "
          f"{'max diff':>9}")
    for dtype in (np.float32, np.float64):
        x = rng.normal(0.0, 3.0, args.size).astype(dtype)
        t = median_ns_per_element({"tanh": tanh, "exp tanh": exp_tanh, "sigmoid": sigmoid, "exp sigmoid": exp_sigmoid},
                                  x, args.repeats)
        diff = lambda f, g: float(np.max(np.abs(f(x).astype(np.float64) - g(x).astype(np.float64))))  # noqa: E731
        print(f"{np.dtype(dtype).name:8} {t['tanh']:10.2f}ns {t['exp tanh']:7.2f}ns {diff(tanh, exp_tanh):9.1e} "
              f"{t['sigmoid']:13.2f}ns {t['exp sigmoid']:7.2f}ns {diff(sigmoid, exp_sigmoid):9.1e}")


if __name__ == "__main__":
    main()
