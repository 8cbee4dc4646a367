"""CNNClassifier trained through accelerate (one process, bf16, two DDP processes) against plain.

Usage: python benchmarks/bench_accelerate.py [FOLDER] [--size 64] [--epochs 3] [--batch-size 64]
       [--rounds 2] [--processes 2] [--devices cpu|cuda]

FOLDER (class folders of image files) defaults to
../shared/datasets/brain-tumor-mri-4class/Training (5708 JPEGs) when it exists,
else to the embedded sample written to a temporary folder. The images are
loaded once, cropped to the brain and resized, and saved for the runs (or
FOLDER is such a saved ``.npz`` with arrays ``X`` and ``y``, to carry the
images to a machine without the dataset), each way in its own process(es)
with the same global batch and seed, GBMNet, no validation split:

- plain: ``CNNClassifier(...)``, one process, torch's default threads;
- accelerate: ``CNNClassifier(accelerate=True)``, one process: the cost of
  skorch's ``AccelerateMixin`` path itself;
- bf16: ``accelerate={"mixed_precision": "bf16"}``, one process (autocast);
- ddp: ``accelerate=True`` in two processes started by ``torchrun`` (gloo on
  127.0.0.1, one thread each, half the batch each): data-parallel training.
  On a machine with GPUs the same script shows what several GPUs give
  (``--devices cuda``, one process per GPU, NCCL); with ``--processes 1``
  this way is left out.

The ways alternate within each round. It prints, for each, the training
images/s of the fastest epoch and of the whole fit, the last epoch's training
loss, and the ratio of its fastest epoch to plain's in the same round (median
and range over the rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _folders import class_folder

MODES = ("plain", "accelerate", "bf16", "ddp")


def child(mode: str, data: Path, epochs: int, batch_size: int, device: str, out: Path) -> None:
    import numpy as np

    from sklearn_braintumor.classifiers import CNNClassifier

    arrays = np.load(data)
    X, y = arrays["X"], arrays["y"]
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    accelerate = {"plain": None, "bf16": {"mixed_precision": "bf16"}}.get(mode, True)
    clf = CNNClassifier(
        max_epochs=epochs, batch_size=batch_size // processes, train_split=None, random_state=0,
        accelerate=accelerate, device=device,
    )  # fmt: skip
    tic = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - tic
    if int(os.environ.get("RANK", "0")) == 0:
        out.write_text(json.dumps({
            "n": len(y), "processes": processes, "fit_s": fit_s,
            "best_epoch_s": min(clf.history_[:, "dur"]),
            "train_loss": clf.history_[-1, "train_loss"],
        }))  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(mode: str, data: Path, args, tmp: str) -> dict:
    out = Path(tmp) / f"{mode}.json"
    options = [str(data), "--child", mode, "--epochs", str(args.epochs), "--batch-size",
               str(args.batch_size), "--devices", args.devices, "--out", str(out)]  # fmt: skip
    env = dict(os.environ)
    if mode == "ddp":
        launcher = [sys.executable, "-m", "torch.distributed.run",
                    f"--nproc_per_node={args.processes}", "--master_addr=127.0.0.1",
                    f"--master_port={free_port()}"]  # fmt: skip
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 2) // args.processes))
    else:
        launcher = [sys.executable]
    subprocess.run([*launcher, __file__, *options], check=True, env=env, capture_output=True)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch")
    parser.add_argument("--processes", type=int, default=2, help="DDP processes")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--devices", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = "cpu" if args.devices == "cpu" else "auto"
    if args.child:
        child(args.child, args.folder, args.epochs, args.batch_size, device, args.out)
        return

    import numpy as np
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.datasets import load_image_folder
    from sklearn_braintumor.preprocessing import BrainCrop, Resize

    modes = MODES if args.processes > 1 else MODES[:-1]
    with tempfile.TemporaryDirectory() as tmp:
        if args.folder is not None and args.folder.suffix == ".npz":
            folder = data = args.folder
        else:
            folder = class_folder(args.folder, tmp)
            loaded = load_image_folder(
                folder, transform=make_pipeline(BrainCrop(), Resize((args.size, args.size)))
            )
            data = Path(tmp) / "images.npz"
            np.savez(data, X=np.stack(loaded.images), y=loaded.target)
        rounds = [{mode: run(mode, data, args, tmp) for mode in modes} for _ in range(args.rounds)]
    first = rounds[0]["plain"]
    print(f"{first['n']} images from {folder}, {args.size} px, GBMNet, {args.epochs} epochs, "
          f"global batch {args.batch_size}, on {args.devices}, {os.cpu_count()} cores, "
          f"{args.rounds} rounds")  # fmt: skip
    for mode in modes:
        runs = [r[mode] for r in rounds]
        best = [r["n"] / r["best_epoch_s"] for r in runs]
        whole = [r["n"] * args.epochs / r["fit_s"] for r in runs]
        ratios = [r["plain"]["best_epoch_s"] / r[mode]["best_epoch_s"] for r in rounds]
        processes = runs[0]["processes"]
        print(f"{mode:>10} ({processes} process{'es' if processes > 1 else ''}): "
              f"{_span(best, '.0f')} images/s best epoch, {_span(whole, '.0f')} over the fit "
              f"(set-up included), last train loss {runs[0]['train_loss']:.4f}, "
              f"{np.median(ratios):.2f}x plain ({_span(ratios, '.2f')})")  # fmt: skip


def _span(values, spec: str) -> str:
    low, high = f"{min(values):{spec}}", f"{max(values):{spec}}"
    return low if low == high else f"{low}-{high}"


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    if "--child" not in sys.argv:
        print(f"benchmark wall time {time.perf_counter() - start:.0f} s")
