"""Train in nprnn, continue in PyTorch (on a GPU when there is one), come back, translate.

    python examples/continue_in_pytorch.py [--nprnn-epochs 2] [--torch-epochs 3] [--out-dir runs/continue]

The road a learner takes when a model outgrows NumPy on one CPU:

1. train an nprnn model on the addition task ("12+345" -> "357") for a couple of epochs and
   save its checkpoint (`runs/continue/nprnn.npz`);
2. export it (`nprnn export --checkpoint runs/continue/nprnn.npz --out runs/continue/nprnn.pt`
   does the same): a dict of tensors that ``torch.load(..., weights_only=True)`` reads;
3. in PyTorch, build the same model (`nprnn.export.to_torch`), load those weights, and go on
   training with the same loss (the masked mean cross-entropy), the same batches, Adam and
   gradient clipping, on CUDA if present (else Apple's MPS, else the CPU: it says which);
4. save the PyTorch weights and import them back into an nprnn checkpoint
   (`nprnn import --state-dict ... --like runs/continue/nprnn.npz --out ...`);
5. translate with nprnn and print held-out exact match before and after.

Takes about 25 s on a 2-core CPU with the defaults.
"""
import argparse
import time
from pathlib import Path

import numpy as np

from nprnn.data import load_task
from nprnn.data.batching import make_batches
from nprnn.export import export_checkpoint, import_state_dict, save_state_dict, to_torch
from nprnn.train import train_task
from nprnn.translate import Translator, evaluate


def best_device(torch):
    if torch.cuda.is_available():
        return torch.device("cuda"), f"CUDA ({torch.cuda.get_device_name(0)})"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps"), "Apple MPS"
    return torch.device("cpu"), f"the CPU ({torch.get_num_threads()} threads; no GPU found)"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nprnn-epochs", type=int, default=2, help="epochs in nprnn first (default 2)")
    parser.add_argument("--torch-epochs", type=int, default=3, help="epochs in PyTorch after (default 3)")
    parser.add_argument("--out-dir", default="runs/continue")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch  # the optional dependency: pip install 'nprnn[torch]'

    out = Path(args.out_dir)
    task = load_task("addition")
    settings = task.defaults  # LSTM, general attention, reversed source, Adam with lr decay, clipping

    # 1. nprnn
    t0 = time.perf_counter()
    translator, history, _ = train_task(task, out=out / "nprnn.npz", seed=args.seed, epochs=args.nprnn_epochs,
                                        log=lambda line: print("  nprnn", line))
    before = evaluate(translator, task.test)["exact"]
    print(f"nprnn, {args.nprnn_epochs} epochs in {time.perf_counter() - t0:.0f} s: held-out exact match "
          f"{100 * before:.1f}%")

    # 2. export: the file PyTorch reads with weights_only=True
    print(export_checkpoint(out / "nprnn.npz", out / "nprnn.pt"))

    # 3. PyTorch: the same model, the same weights, the same loss
    device, name = best_device(torch)
    print(f"continuing in PyTorch {torch.__version__} on {name}")
    translator, _ = Translator.load(out / "nprnn.npz")
    net = to_torch(translator.model)  # the architecture (and, here, the weights too)
    net.load_state_dict(torch.load(out / "nprnn.pt", weights_only=True)["state_dict"])  # what a new process would do
    net.to(device).train()
    src_ids = translator.encode([s for s, _ in task.train])
    tgt_ids = translator.encode_targets([t for _, t in task.train])  # <sos> ... <eos>
    lr = settings["lr"] * settings["lr_decay"] ** args.nprnn_epochs  # where nprnn's decay left off
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)  # a fresh Adam: nprnn's moments are not exported
    rng = np.random.default_rng(args.seed + 1)
    for epoch in range(1, args.torch_epochs + 1):
        t0, total, tokens = time.perf_counter(), 0.0, 0
        for batch in make_batches(src_ids, tgt_ids, settings["batch_size"], rng=rng):
            src, tgt, lengths = (torch.from_numpy(a).to(device) for a in (batch.src, batch.tgt, batch.src_lengths))
            optimizer.zero_grad()
            loss = net(src, tgt, lengths)  # calling the module is the loss, as model.loss in nprnn
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)  # nprnn's default clip
            optimizer.step()
            n = int((batch.tgt[1:] != 0).sum())
            total, tokens = total + loss.item() * n, tokens + n
        for group in optimizer.param_groups:
            group["lr"] *= settings["lr_decay"]
        seconds = time.perf_counter() - t0
        print(f"  torch epoch {epoch}/{args.torch_epochs}  loss {total / tokens:.4f}  {tokens / seconds:8,.0f} tok/s")

    # 4. back: PyTorch's weights into an nprnn checkpoint, with the first one's vocabularies
    save_state_dict(net, out / "torch.pt")
    print(import_state_dict(out / "torch.pt", out / "nprnn.npz", out / "continued.npz"))

    # 5. translate with nprnn
    translator, _ = Translator.load(out / "continued.npz")
    after = evaluate(translator, task.test)["exact"]
    problems = [a for a, _ in task.test[:5]]
    for problem, answer in zip(problems, translator.translate(problems)):
        print(f"  {problem:>8} = {answer}")
    print(f"held-out exact match: {100 * before:.1f}% after nprnn, {100 * after:.1f}% after "
          f"{args.torch_epochs} more epochs in PyTorch on {device.type}")


if __name__ == "__main__":
    main()
