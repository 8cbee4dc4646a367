"""Images per second of `braintumor predict` (decode + crop + resize + CNN at 128 px).

Usage: python benchmarks/bench_predict.py [FOLDER] [--size 128] [--repeats 3]

FOLDER defaults to ../shared/datasets/brain-tumor-mri-4class/Testing (1311 JPEG
files) when it exists, else to the embedded sample's 800 JPEGs written to a
temporary folder. The model is the pipeline a user would save: BrainCrop ->
Resize(size) -> CNNClassifier(GBMNet), trained for one epoch on the embedded
sample (its weights do not change the speed). Two ways of predicting the
same folder are timed, alternating A/B in each round after an untimed
warm-up:

- A: ``predict_folder`` (what ``braintumor predict`` runs): threaded decoding,
  batches of 256 through the whole pipeline;
- B: the notebook loop: open one file with Pillow, predict it, next file.

It prints images/s of both, the median per-round speed-up, and the target
(>= 200 images/s on 2 CPU cores; the PyPI VGG16 peer, ``detect-tumor``, does
about 5 images/s end to end here, see ../shared/PERFORMANCE.md).

Then the shipped ``4class`` model (flip TTA and the shift guard) on the
decoded images of the same folder, alternating in each round:
``predict_proba`` alone (guard off), ``predict_proba`` + ``shift_score``
(the guard as two calls: three passes over the network), and
``proba_and_scores`` (what ``predict_folder`` runs: two passes).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.pipeline import make_pipeline

from sklearn_braintumor import predict_folder
from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.datasets._folder import _walk_files
from sklearn_braintumor.preprocessing import BrainCrop, Resize

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def notebook_loop(pipe, folder: Path) -> int:
    count = 0
    for path in _walk_files(folder)[0]:
        image = np.asarray(Image.open(path).convert("L"))
        pipe.predict_proba([image])
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    train = load_sample("train")
    names = np.asarray(train.target_names)
    pipe = make_pipeline(
        BrainCrop(),
        Resize((args.size, args.size)),
        CNNClassifier(max_epochs=1, train_split=None, random_state=0, device="cpu"),
    ).fit(train.images, names[train.target])

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None and (SHARED / "brain-tumor-mri-4class").is_dir():
            folder = SHARED / "brain-tumor-mri-4class" / "Testing"
        if folder is None:
            folder = Path(tmp) / "scans"
            folder.mkdir()
            everything = load_sample("all")
            for i, image in enumerate(everything.images):
                Image.fromarray(image).save(folder / f"{i:04d}.jpg", quality=90)
        n = len(_walk_files(folder)[0])
        out = Path(tmp) / "predictions.csv"
        print(f"{n} files in {folder}; model {pipe}")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
        predict_folder(pipe, folder, out, overwrite=True)  # warm-up
        notebook_loop(pipe, folder)
        a_times, b_times = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            predict_folder(pipe, folder, out, overwrite=True)
            a_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            notebook_loop(pipe, folder)
            b_times.append(time.perf_counter() - start)
        speedups = [b / a for a, b in zip(a_times, b_times, strict=True)]
        a_best, b_best = n / min(a_times), n / min(b_times)
        print(f"A predict_folder (braintumor predict): {a_best:7.1f} images/s (best round)")
        print(f"B notebook loop, one image at a time:  {b_best:7.1f} images/s (best round)")
        print(f"speed-up A/B: {statistics.median(speedups):.2f}x (median of {args.repeats} rounds)")
        verdict = "met" if a_best >= 200 else "NOT met"
        print(f"target >= 200 images/s at {args.size} px on 2 CPU cores: {verdict}")
        guard_rounds(folder, args.repeats)


def guard_rounds(folder: Path, repeats: int) -> None:
    """The shipped model: guard off, guard as two calls, guard from the same pass."""
    from sklearn_braintumor.classifiers._ood import proba_and_scores
    from sklearn_braintumor.datasets import read_image
    from sklearn_braintumor.pretrained import load_pretrained

    model = load_pretrained()
    images = [read_image(path) for path in _walk_files(folder)[0]]
    ways = {
        "guard off (predict_proba)": lambda: model.predict_proba(images),
        "guard as two calls (+ shift_score)": lambda: (
            model.predict_proba(images),
            model.shift_score(images),
        ),
        "guard from the same pass (proba_and_scores)": lambda: proba_and_scores(model, images),
    }
    times: dict = {name: [] for name in ways}
    for way in ways.values():
        way()  # warm-up
    for _ in range(repeats):
        for name, way in ways.items():
            start = time.perf_counter()
            way()
            times[name].append(time.perf_counter() - start)
    reference = statistics.median(times["guard off (predict_proba)"])
    print(f"shipped 4class model on {len(images)} decoded images:")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:<45} {len(images) / median:7.1f} images/s ({median / reference:.2f}x "
              "the time of guard off)")  # fmt: skip


if __name__ == "__main__":
    main()
