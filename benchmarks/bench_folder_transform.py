"""Loading + cropping + resizing a large folder: all at once, or chunked and parallel.

Usage: python benchmarks/bench_folder_transform.py [FOLDER] [--size 64] [--n-jobs 2]

FOLDER (class folders) defaults to ../shared/datasets/brain-tumor-mri-4class/Training
(5708 JPEGs) when it exists, else to the embedded sample written to a temporary
folder. Each way runs in its own process, so its peak resident memory is its own:

- whole: ``load_image_folder(FOLDER)`` then ``BrainCrop -> Resize`` on the whole
  set (what a notebook does: every full-size image is in memory at once);
- chunked: ``load_image_folder(FOLDER, transform=BrainCrop -> Resize,
  n_jobs=N, chunk_size=256)``: joblib workers decode and transform chunks, and
  only the small images come back.

It prints the wall time and the peak RSS of each (the chunked one adds its
workers' peaks), and checks that both give the same images.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import tempfile
import time
from pathlib import Path

from _folders import class_folder, run_children


def child(mode: str, folder: Path, size: int, n_jobs: int) -> dict:
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.datasets import load_image_folder
    from sklearn_braintumor.preprocessing import BrainCrop, Resize

    pipe = make_pipeline(BrainCrop(), Resize((size, size)))
    start = time.perf_counter()
    if mode == "whole":
        data = load_image_folder(folder)
        images = pipe.fit_transform(data.images)
    else:
        images = load_image_folder(folder, transform=pipe, n_jobs=n_jobs, chunk_size=256).images
    seconds = time.perf_counter() - start
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)  # reaped workers count in RUSAGE_CHILDREN
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "n": len(images),
        "seconds": seconds,
        "rss_mb": own,
        "worker_rss_mb": workers,
        "digest": hashlib.sha256(images.tobytes()).hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--child", choices=("whole", "chunked"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.folder, args.size, args.n_jobs)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = class_folder(args.folder, tmp)
        results = run_children(
            __file__,
            folder,
            ("whole", "chunked"),
            ["--size", str(args.size), "--n-jobs", str(args.n_jobs)],
        )
        whole, chunked = results["whole"], results["chunked"]
        print(f"{whole['n']} images in {folder} -> BrainCrop -> Resize({args.size})")
        print(f"  whole:   {whole['seconds']:6.1f} s, peak RSS {whole['rss_mb']:7.1f} MB")
        print(f"  chunked: {chunked['seconds']:6.1f} s, peak RSS {chunked['rss_mb']:7.1f} MB "
              f"(largest worker {chunked['worker_rss_mb']:.1f} MB), "
              f"n_jobs={args.n_jobs}")  # fmt: skip
        print(f"  speed-up {whole['seconds'] / chunked['seconds']:.2f}x; "
              f"same images: {whole['digest'] == chunked['digest']}")  # fmt: skip


if __name__ == "__main__":
    main()
