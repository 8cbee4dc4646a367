"""Torch CPU threads, alone and beside a busy process: why CNNClassifier has n_threads.

Usage: python benchmarks/bench_threads.py [--epochs 3] [--size 64]

Trains GBMNet (the recommended recipe's network) on the embedded sample's 600
training slices, cropped and resized once, for a few epochs with torch's
default thread count (one per core) and with ``n_threads=1``: on an idle
machine, while a pure-Python loop keeps one core busy, and beside another torch
process (its default threads, like a second training or a search). It prints the median
epoch time of each case and its ratio to the default threads on the idle
machine, measured in the same run. On a 2-core machine the default threads
spin and wait on each other when a core is taken: that case is the one to
avoid.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import torch
from _sample import sample_setup

from sklearn_braintumor.classifiers import CNNClassifier


def epoch_seconds(X, y, n_threads: int | None, epochs: int) -> float:
    clf = CNNClassifier(max_epochs=epochs, batch_size=64, train_split=None, ood_rate=None,
                        n_threads=n_threads, random_state=0, device="cpu")  # fmt: skip
    clf.fit(X, y)
    return statistics.median(row["dur"] for row in clf.history_)


def main() -> None:
    args, X, y, line = sample_setup(__doc__, epochs=3)
    default = torch.get_num_threads()
    print(f"{line}, median of {args.epochs} epochs")
    cases = [("idle", None), ("idle", 1)]
    results = {case: epoch_seconds(X, y, case[1], args.epochs) for case in cases}
    neighbours = {
        "one core busy (Python loop)": "while True: pass",
        "another torch process": "import torch\na = torch.randn(256, 256)\nwhile True: a @ a",
    }
    for machine, code in neighbours.items():
        busy = subprocess.Popen([sys.executable, "-c", code])
        try:
            time.sleep(2.0)
            for threads in (None, 1):
                results[machine, threads] = epoch_seconds(X, y, threads, args.epochs)
        finally:
            busy.kill()
    reference = results["idle", None]
    print(f"\n| machine | torch threads | epoch (s) | ratio to idle, {default} threads |")
    print("|---|---|---|---|")
    for (machine, threads), seconds in results.items():
        label = f"{default} (default)" if threads is None else f"{threads} (n_threads={threads})"
        print(f"| {machine} | {label} | {seconds:.2f} | {seconds / reference:.2f}x |")


if __name__ == "__main__":
    main()
