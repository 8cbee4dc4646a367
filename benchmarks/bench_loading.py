"""Throughput of load_image_folder against a plain Pillow loop, measured interleaved.

Usage: python benchmarks/bench_loading.py [FOLDER] [--repeats N]

FOLDER defaults to ../shared/datasets/brain-tumor-mri-4class/Testing when it
exists, else to the embedded sample extracted into a temporary folder. The
reference is the loop a notebook would write (open, convert("L"), asarray);
load_image_folder additionally hashes every file, applies EXIF orientation and
checks every image. After one untimed warm-up of each, rounds alternate
A/B/A/B on this noisy 2-core machine and the printed ratio is the median of
per-round ratios. When ../shared is present it also prints the counts of the
real folders.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from sklearn_braintumor.datasets import load_image_folder
from sklearn_braintumor.datasets._folder import _class_folders, _walk_files

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def reference_loop(root: Path) -> int:
    count = 0
    for name in _class_folders(root, None):
        for path in _walk_files(root / name)[0]:
            np.asarray(Image.open(path).convert("L"))
            count += 1
    return count


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None and (SHARED / "brain-tumor-mri-4class").is_dir():
            folder = SHARED / "brain-tumor-mri-4class" / "Testing"
        if folder is None:
            sample = resources.files("sklearn_braintumor.datasets") / "data"
            with zipfile.ZipFile(sample / "brain_tumor_mri_sample.zip") as archive:
                archive.extractall(tmp)
            folder = Path(tmp) / "test"
        print(f"folder: {folder}")
        load_image_folder(folder)  # warm the file cache for both contenders
        reference_loop(folder)
        ratios, ours_rates, reference_rates = [], [], []
        for _ in range(args.repeats):
            t_ours, data = timed(load_image_folder, folder)
            t_ref, n = timed(reference_loop, folder)
            assert n == len(data.target)
            ours_rates.append(n / t_ours)
            reference_rates.append(n / t_ref)
            ratios.append(t_ours / t_ref)
        print(f"images: {n}")
        print(f"load_image_folder: {statistics.median(ours_rates):8.0f} img/s")
        print(f"plain Pillow loop: {statistics.median(reference_rates):8.0f} img/s")
        rounds = ", ".join(f"{r:.2f}" for r in ratios)
        ratio = statistics.median(ratios)
        print(f"time ratio load_image_folder / plain loop: {ratio:.2f} (rounds: {rounds})")

    if (SHARED / "brain-tumor-mri-4class").is_dir():
        print("\nreal folders in ../shared/datasets:")
        for sub in (
            "brain-tumor-mri-4class/Training",
            "brain-tumor-mri-4class/Testing",
            "brain-mri-yes-no",
        ):
            t, data = timed(load_image_folder, SHARED / sub)
            counts = dict(zip(data.target_names, np.bincount(data.target).tolist(), strict=True))
            kind = (
                "stacked " + str(data.images.shape)
                if data.images.dtype != object
                else f"object array of {len(data.images)} (mixed sizes)"
            )
            print(f"  {sub}: {len(data.target)} images {counts}, {kind}, {t:.1f} s")


if __name__ == "__main__":
    main()
