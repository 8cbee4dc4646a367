"""One training epoch from file paths (bounded memory) against one from an in-memory array.

Usage: python benchmarks/bench_lazy.py [FOLDER] [--size 64] [--epochs 1]

FOLDER (class folders of image files) defaults to
../shared/datasets/brain-tumor-mri-4class/Training (5708 JPEGs) when it exists,
else to the embedded sample written to a temporary folder. Each way runs in
its own process so that its peak resident memory (ru_maxrss) is its own:

- memory: ``load_image_folder`` + ``Resize`` into one array, then
  ``CNNClassifier(GBMNet).fit(array, y)``, the usual way;
- paths: ``CNNClassifier(GBMNet, reader=make_pipeline(ImageReader(),
  Resize(...))).fit(paths, y)``, which decodes one batch at a time, every epoch.

It prints, for each, the time to load (memory only), the training images/s
of the epoch(s), the whole wall time and the peak RSS (also as the growth
over the RSS right after importing torch), then the ratios.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from _folders import class_folder, run_children


def child(mode: str, folder: Path, size: int, epochs: int) -> dict:
    import numpy as np
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.classifiers import CNNClassifier
    from sklearn_braintumor.datasets import load_image_folder
    from sklearn_braintumor.datasets._folder import _class_folders, _walk_files
    from sklearn_braintumor.preprocessing import ImageReader, Resize

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # torch imported
    start = time.perf_counter()
    params = dict(max_epochs=epochs, batch_size=64, train_split=None, random_state=0)
    if mode == "memory":
        data = load_image_folder(folder)
        X, y = Resize((size, size)).transform(data.images), data.target
        del data
        loaded = time.perf_counter() - start
        clf = CNNClassifier(**params)
    else:
        paths, y = [], []
        for label, name in enumerate(_class_folders(folder, None)):
            found = _walk_files(folder / name)[0]
            paths += [str(p) for p in found]
            y += [label] * len(found)
        X, y = np.array(paths, dtype=object), np.array(y)
        loaded = time.perf_counter() - start
        clf = CNNClassifier(reader=make_pipeline(ImageReader(), Resize((size, size))), **params)
    tic = time.perf_counter()
    clf.fit(X, y)
    trained = time.perf_counter() - tic
    return {
        "mode": mode,
        "n": len(y),
        "load_s": loaded,
        "train_s": trained,
        "images_per_s": len(y) * epochs / trained,
        "wall_s": time.perf_counter() - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "import_rss_mb": baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--child", choices=("memory", "paths"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.folder, args.size, args.epochs)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = class_folder(args.folder, tmp)
        results = run_children(
            __file__,
            folder,
            ("memory", "paths"),
            ["--size", str(args.size), "--epochs", str(args.epochs)],
        )
        print(f"{results['memory']['n']} images in {folder}, {args.size} px, GBMNet, "
              f"{args.epochs} epoch(s), batch 64")  # fmt: skip
        for mode, r in results.items():
            print(f"{mode:>6}: load {r['load_s']:6.1f} s, train {r['images_per_s']:7.1f} images/s, "
                  f"wall {r['wall_s']:6.1f} s, peak RSS {r['peak_rss_mb']:7.1f} MB "
                  f"({r['peak_rss_mb'] - r['import_rss_mb']:6.1f} MB above the "
                  f"{r['import_rss_mb']:.0f} MB after imports)")  # fmt: skip
        m, p = results["memory"], results["paths"]
        print(f"paths / memory: training speed {p['images_per_s'] / m['images_per_s']:.2f}x, "
              f"wall time {p['wall_s'] / m['wall_s']:.2f}x, "
              f"peak RSS {p['peak_rss_mb'] / m['peak_rss_mb']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
