"""Time Recurrent forward+backward for LSTM and GRU, beside torch.nn.LSTM / GRU when installed.

    python benchmarks/bench_recurrent.py [--repeats 15] [--threads 2]

Each row runs nprnn and PyTorch alternately on the same shapes (interleaved, so that noise from
the machine falls on both) and prints the median milliseconds of one forward+backward pass over
a (T, B, D) batch, and the ratio nprnn / PyTorch (below 1.0: nprnn is faster).
"""
import argparse
import os
import time

SHAPES = [(32, 64, 128, 256), (20, 32, 64, 128), (8, 128, 16, 128)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per row (default 15)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS and PyTorch (default 2)")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS

    import numpy as np

    from nprnn import GRUCell, LSTMCell, Recurrent

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("(torch is not installed: nprnn's times only)")

    def nprnn_pass(rec, xs, dhs):
        rec.forward(xs)
        rec.backward(dhs)

    def torch_pass(net, x, dy):
        net.zero_grad()
        y, _ = net(x)
        y.backward(dy)

    header = f"{'cell':<5} {'dtype':<8} {'T, B, D, H':<18} {'nprnn ms':>9} {'torch ms':>9} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for kind, Cell in (("lstm", LSTMCell), ("gru", GRUCell)):
        for dtype in (np.float32, np.float64):
            for T, B, D, H in SHAPES:
                rng = np.random.default_rng(0)
                rec = Recurrent(Cell(D, H, rng=0, dtype=dtype))
                xs = rng.standard_normal((T, B, D)).astype(dtype)
                dhs = rng.standard_normal((T, B, H)).astype(dtype)
                runs = [("nprnn", lambda: nprnn_pass(rec, xs, dhs))]
                if torch is not None:
                    tdtype = torch.float32 if dtype == np.float32 else torch.float64
                    net = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(D, H).to(tdtype)
                    x = torch.tensor(xs, requires_grad=True)
                    dy = torch.tensor(dhs)
                    runs.append(("torch", lambda: torch_pass(net, x, dy)))
                times = {name: [] for name, _ in runs}
                for r in range(args.warmup + args.repeats):
                    for name, fn in runs:  # interleaved
                        t0 = time.perf_counter()
                        fn()
                        if r >= args.warmup:
                            times[name].append(time.perf_counter() - t0)
                ms = {name: 1e3 * float(np.median(v)) for name, v in times.items()}
                shape = f"{T}, {B}, {D}, {H}"
                if torch is None:
                    print(f"{kind:<5} {np.dtype(dtype).name:<8} {shape:<18} {ms['nprnn']:9.2f}")
                else:
                    ratio = ms["nprnn"] / ms["torch"]
                    print(f"{kind:<5} {np.dtype(dtype).name:<8} {shape:<18} {ms['nprnn']:9.2f} {ms['torch']:9.2f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
