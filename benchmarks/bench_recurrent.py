"""Time Recurrent forward+backward for LSTM and GRU, beside torch.nn.LSTM / GRU when installed.

    python benchmarks/bench_recurrent.py [--repeats 15] [--rounds 3] [--threads 2] [--only lstm]

Prints the median milliseconds of one forward+backward pass over a (T, B, D) batch for nprnn
and PyTorch, and the ratio nprnn / PyTorch (below 1.0: nprnn is faster). The row with B = 1 is
the latency of one sentence. "matmuls ms" times nprnn's matmuls alone (the same products on
arrays of the same shapes, back to back, nothing else): no arrangement of the elementwise work
around them can take a pass below that, so where it comes close to PyTorch's whole pass, NumPy
has no room left to match it. The last two columns count the minor page faults per pass (memory
the process touches for the first time, which the kernel must map and zero first, about a
microsecond a page): a pass whose memory was handed back to the system pays them again. Both
libraries allocate through the same C library in one process, so the counts depend on what ran
before: the largest float32 LSTM shape run by itself shows nprnn's pass faulting in about 7,000
pages, and next to the other runs none.

How it times, and why. Both libraries keep idle worker threads spinning for a while after each
call (OpenBLAS's for about 0.1 s, OpenMP's for a little less), and on 2 cores a library that
runs while the other's threads still spin gets half the machine: timing them call by call,
alternately, made PyTorch's float32 LSTM look twice as slow as it is. So the runs are
interleaved in blocks: `--rounds` rounds, each a block of nprnn runs and a block of PyTorch
runs (which goes first alternates), with a pause of `--gap` seconds before each block; the
first run of a block is not timed. Noise from other programs then still falls on both, and
neither is slowed by the other. Medians over all timed runs; the load average before and after
is printed, since on a shared machine it says how far to trust the figures.
"""
import argparse
import os
import resource
import time

clock = time.perf_counter  # or time.process_time: --clock
SHAPES = [(32, 64, 128, 256), (20, 32, 64, 128), (8, 128, 16, 128), (20, 1, 64, 256)]  # T, B, D, H


def minor_faults():
    """Minor page faults of this process so far (pages touched for the first time)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per library per row (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="blocks per library per row (default 3)")
    parser.add_argument("--gap", type=float, default=0.25, help="seconds of pause before each block (default 0.25)")
    parser.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS and PyTorch (default 2)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall: elapsed time (default); cpu: the process's CPU time, which a busy machine "
                             "disturbs less (use it with --threads 1, where no thread waits for another)")
    parser.add_argument("--only", choices=["lstm", "gru"], help="one cell only")
    args = parser.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS

    import numpy as np

    from nprnn import GRUCell, LSTMCell, Recurrent
    from nprnn.recurrent import ROWS_FOR_WH_T

    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
        print("(torch is not installed: nprnn's times only)")

    def nprnn_pass(rec, xs, dhs):
        rec.forward(xs)
        rec.backward(dhs)

    def matmuls_of(rec, xs):
        """The matmuls of `nprnn_pass` alone: input projection, T recurrent products forward and
        T back, the two weight gradients and dx, with Wh.T laid out as Recurrent.backward has it."""
        Wx, Wh = rec.cell.params["Wx"], rec.cell.params["Wh"]
        T, B, D = xs.shape
        Wh_T = np.ascontiguousarray(Wh.T) if T * B >= ROWS_FOR_WH_T else Wh.T
        h = np.ones((B, Wh.shape[0]), dtype=Wh.dtype)
        hs = np.ones((T * B, Wh.shape[0]), dtype=Wh.dtype)
        x = xs.reshape(T * B, D)

        def run():
            xps = x @ Wx  # forward: every step's input projection
            for _ in range(T):
                np.matmul(h, Wh)  # forward, step by step
            dxps = xps  # backward: its gradient has the same shape, and only shapes matter here
            for t in range(T):
                np.matmul(dxps[t * B : (t + 1) * B], Wh_T)  # backward, step by step
            np.matmul(x.T, dxps), np.matmul(hs.T, dxps), np.matmul(dxps, Wx.T)  # dWx, dWh, dx

        return run

    def torch_pass(net, x, dy):
        net.zero_grad()
        y, _ = net(x)
        y.backward(dy)

    per_block = max(1, -(-args.repeats // args.rounds))
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.threads} threads, {args.clock} clock; median of "
          f"{per_block * args.rounds} runs each, in {args.rounds} interleaved blocks")
    header = (f"{'cell':<5} {'dtype':<8} {'T, B, D, H':<18} {'nprnn ms':>9} {'torch ms':>9} {'ratio':>6} "
              f"{'matmuls ms':>10} {'nprnn faults':>12} {'torch faults':>12}")
    print(header)
    print("-" * len(header))
    cells = (("lstm", LSTMCell), ("gru", GRUCell))
    for kind, Cell in [c for c in cells if args.only in (None, c[0])]:
        for dtype in (np.float32, np.float64):
            for T, B, D, H in SHAPES:
                rng = np.random.default_rng(0)
                rec = Recurrent(Cell(D, H, rng=0, dtype=dtype))
                xs = rng.standard_normal((T, B, D)).astype(dtype)
                dhs = rng.standard_normal((T, B, H)).astype(dtype)
                runs = [("nprnn", lambda: nprnn_pass(rec, xs, dhs)), ("matmuls", matmuls_of(rec, xs))]
                if torch is not None:
                    tdtype = torch.float32 if dtype == np.float32 else torch.float64
                    net = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(D, H).to(tdtype)
                    x = torch.tensor(xs, requires_grad=True)
                    dy = torch.tensor(dhs)
                    runs.append(("torch", lambda: torch_pass(net, x, dy)))
                times = {name: [] for name, _ in runs}
                faults = {name: 0 for name, _ in runs}
                for r in range(args.rounds):
                    for name, fn in runs[:: 1 if r % 2 == 0 else -1]:  # who goes first alternates
                        time.sleep(args.gap)  # let the other library's threads stop spinning
                        fn()  # untimed: the first run after the pause
                        before = minor_faults()
                        for _ in range(per_block):
                            t0 = clock()
                            fn()
                            times[name].append(clock() - t0)
                        faults[name] += minor_faults() - before
                ms = {name: 1e3 * float(np.median(v)) for name, v in times.items()}
                per_pass = {name: f / len(times[name]) for name, f in faults.items()}
                shape = f"{T}, {B}, {D}, {H}"
                if torch is None:
                    print(f"{kind:<5} {np.dtype(dtype).name:<8} {shape:<18} {ms['nprnn']:9.2f} {'':>9} {'':>6} "
                          f"{ms['matmuls']:10.2f} {per_pass['nprnn']:12,.0f}")
                else:
                    ratio = ms["nprnn"] / ms["torch"]
                    print(f"{kind:<5} {np.dtype(dtype).name:<8} {shape:<18} {ms['nprnn']:9.2f} {ms['torch']:9.2f} "
                          f"{ratio:6.2f} {ms['matmuls']:10.2f} {per_pass['nprnn']:12,.0f} {per_pass['torch']:12,.0f}",
                          flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
