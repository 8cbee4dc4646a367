"""Two networks in turn or side by side: why TwoStageClassifier has n_jobs.

Usage: python benchmarks/bench_two_stage.py [--epochs 30] [--size 64]

Fits a TwoStageClassifier of two GBMNet classifiers (a tumour / no-tumour
screen and a 4-class network, the shape of the recommended recipe) on the
embedded sample's 600 training slices, cropped and resized once: with
``n_jobs=None`` (the stages one after the other, each with torch's default
threads) and with ``n_jobs=2`` (both at once, each in a joblib worker process
with ``cpu_count // 2`` threads). It prints the wall time of each fit and its
ratio to the stages in turn, measured in the same run; the worker processes'
start (importing torch) is inside the side-by-side time.
"""

from __future__ import annotations

import time

from _sample import sample_setup

from sklearn_braintumor.classifiers import CNNClassifier, TwoStageClassifier
from sklearn_braintumor.nn import GBMNet


def fit_seconds(X, y, n_jobs: int | None, epochs: int) -> float:
    def network(pooling: str) -> CNNClassifier:
        return CNNClassifier(GBMNet, module__pooling=pooling, max_epochs=epochs, batch_size=64,
                             train_split=None, ood_rate=None, random_state=0,
                             device="cpu")  # fmt: skip

    model = TwoStageClassifier(network("max"), network("flatten"), n_jobs=n_jobs)
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def main() -> None:
    args, X, y, line = sample_setup(__doc__, epochs=30)
    print(f"{line}, two GBMNets of {args.epochs} epochs")
    results = {n_jobs: fit_seconds(X, y, n_jobs, args.epochs) for n_jobs in (None, 2)}
    reference = results[None]
    print("\n| stages | fit (s) | ratio to in turn |")
    print("|---|---|---|")
    for n_jobs, seconds in results.items():
        label = "in turn (n_jobs=None)" if n_jobs is None else f"side by side (n_jobs={n_jobs})"
        print(f"| {label} | {seconds:.1f} | {seconds / reference:.2f}x |")


if __name__ == "__main__":
    main()
