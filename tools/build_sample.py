r"""Build the embedded sample and its dataset card from a copy of the 4-class set.

Run from the repository root (nothing runs this at import or test time)::

    python3 tools/build_sample.py \\
        --source DATA_DIR  (a folder with Training/ and Testing/)

Selection: per class, ``--train-per-class`` files from ``Training`` and
``--test-per-class`` from ``Testing``, drawn in a seeded random order and
accepted only if their byte SHA-256 and pixel hash are new and their
perceptual hash differs in more than ``--min-distance`` bits from every image
already accepted, on either side of the split and in any class. The original
JPEG bytes are stored unchanged in a zip with fixed timestamps, so the same
source and arguments give a byte-identical file.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

from sklearn_braintumor.datasets._folder import load_image_folder
from sklearn_braintumor.datasets._sample import (
    MANIFEST_MEMBER,
    SAMPLE_CARD,
    SAMPLE_FILE,
    TARGET_NAMES,
)
from sklearn_braintumor.utils import hamming_distances, phash, pixel_hash

_PACKAGE_DIR = Path(__file__).resolve().parent.parent / "sklearn_braintumor" / "datasets"
_SPLITS = (("train", "Training"), ("test", "Testing"))
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _select(splits, per_subset, min_distance, seed):
    rng = np.random.RandomState(seed)
    chosen = []  # (subset, class index, position in that split's arrays)
    kept_hashes: list[int] = []
    kept_digests: set[str] = set()
    for subset, _ in _SPLITS:
        data, hashes, pixels = splits[subset]
        for label in range(len(TARGET_NAMES)):
            count = 0
            for index in rng.permutation(np.flatnonzero(data.target == label)):
                if count == per_subset[subset]:
                    break
                if data.sha256[index] in kept_digests or pixels[index] in kept_digests:
                    continue
                if (
                    kept_hashes
                    and hamming_distances([hashes[index]], kept_hashes).min() <= min_distance
                ):
                    continue
                chosen.append((subset, label, index))
                kept_hashes.append(int(hashes[index]))
                kept_digests.update((data.sha256[index], pixels[index]))
                count += 1
            if count < per_subset[subset]:
                raise SystemExit(
                    f"only {count} {subset} {TARGET_NAMES[label]} images qualify; "
                    "lower --min-distance or the counts"
                )
    return chosen


def _zip_bytes(rows: list[dict], payloads: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        manifest = io.StringIO()
        writer = csv.DictWriter(manifest, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        entries = [(MANIFEST_MEMBER, manifest.getvalue().encode())]
        entries += [(row["member"], payloads[row["member"]]) for row in rows]
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, payload)
    return buffer.getvalue()


def _card(rows, sha256, size, args, min_pair, stats) -> str:
    counts = {
        (subset, name): sum(r["subset"] == subset and r["label"] == name for r in rows)
        for subset, _ in _SPLITS
        for name in TARGET_NAMES
    }
    table = "\n".join(
        f"   {name:<11} {counts['train', name]:>5} {counts['test', name]:>5} "
        f"{counts['train', name] + counts['test', name]:>5}"
        for name in TARGET_NAMES
    )
    n_train = sum(r["subset"] == "train" for r in rows)
    n_test = len(rows) - n_train
    return f""".. _brain_tumor_mri_sample:

Brain tumour MRI sample (embedded)
==================================

A real sample of the 4-class Brain Tumor MRI Dataset, shipped inside
sklearn-braintumor for examples, tests and the quick start, as scikit-learn
ships ``load_digits``. Load it with
``sklearn_braintumor.datasets.load_sample(subset="train"|"test"|"all")``.

**Data Set Characteristics:**

:Number of images: {len(rows)} ({n_train} train, {n_test} test)
:Image size: 224 x 224 JPEG (the stored bytes are the upstream files'; most
    are RGB-encoded grayscale, some mode L)
:Classes: glioma, meningioma, notumor, pituitary
:Split: the official Training/Testing split of the source is kept

.. code-block:: text

   class       train  test total
{table}

:Shipped file: ``sklearn_braintumor/datasets/data/{SAMPLE_FILE}``, {size} bytes
:SHA-256: ``{sha256}``

Duplicates
----------
The source has exact and near-duplicate images within and across its official
split: measured by this script, {stats["exact"]} of its {stats["n_test"]} Testing images
are byte-identical to a Training file and {stats["near"]} have a perceptual-hash
near duplicate in Training (Hamming distance <= 4). This sample was drawn so
that no two of its images are exact or near duplicates: every pair differs by
more than {args.min_distance} bits of the 64-bit DCT perceptual hash (the
smallest pairwise distance in the sample is {min_pair}), and no two share file
bytes or pixel values. Train and test therefore share no image. Note:
{stats["sample_test_near"]} of the {n_test} test images have a near duplicate
(distance <= 4) somewhere in the *full* upstream Training folder
({stats["sample_test_near_by_class"]}); do not train on the full upstream
Training set and evaluate on this sample's test part.

Source and licence
------------------
Msoud Nickparvar (2021), *Brain Tumor MRI Dataset*, version 1, Kaggle,
doi:10.34740/KAGGLE/DSV/2645886. Licence of the compilation: CC0 1.0 (public
domain dedication). The images here come from a copy of that release resized
to 224 x 224. The compilation merges three upstream sources, which you should
cite as well:

- figshare (glioma, meningioma, pituitary; licence CC BY 4.0): Jun Cheng
  (2017), *brain tumor dataset*, doi:10.6084/m9.figshare.1512427.v5; Cheng J.
  et al. (2015), Enhanced Performance of Brain Tumor Classification via Tumor
  Region Augmentation and Partition, PLoS ONE 10(10): e0140381; Cheng J. et al.
  (2016), Retrieval of Brain Tumors by Adaptive Spatial Pooling and Fisher
  Vector Representation, PLoS ONE 11(6): e0157112.
- SARTAJ (licence MIT): Sartaj Bhuvaji, Ankita Kadam, Prajakta Bhumkar, Sameer
  Dedge, Swati Kanchan (2020), *Brain Tumor Classification (MRI)*, Kaggle,
  doi:10.34740/KAGGLE/DSV/1183165.
- Br35H (notumor): Ahmed Hamada (2020), *Br35H :: Brain Tumor Detection 2020*,
  Kaggle.

How it was made
---------------
``python3 tools/build_sample.py --source
<brain-tumor-mri-4class> --train-per-class {args.train_per_class}
--test-per-class {args.test_per_class} --min-distance {args.min_distance}
--seed {args.seed}``: for each class, files of ``Training`` (then
``Testing``) are visited in an order drawn from ``numpy.random.RandomState
({args.seed})`` and kept while they have no exact or near duplicate among the
images kept so far. The zip stores the JPEG bytes unchanged with fixed
timestamps and a ``{MANIFEST_MEMBER}`` (subset, label, member, source file,
SHA-256, perceptual hash); rerunning the command on the same source gives the
same SHA-256.
"""


def main(argv: list[str] | None = None) -> None:
    """Build the sample zip and its dataset card."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        required=True,
        type=Path,
        help="folder holding Training/ and Testing/ of the 4-class set",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=_PACKAGE_DIR,
        help="package folder holding data/ and descr/ (default: this package)",
    )
    parser.add_argument("--train-per-class", type=int, default=150)
    parser.add_argument("--test-per-class", type=int, default=50)
    parser.add_argument("--min-distance", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    splits = {}
    for subset, folder in _SPLITS:
        data = load_image_folder(args.source / folder, classes=TARGET_NAMES)
        splits[subset] = (
            data,
            phash(data.images),
            [pixel_hash(im) for im in data.images],
        )
    per_subset = {"train": args.train_per_class, "test": args.test_per_class}
    chosen = _select(splits, per_subset, args.min_distance, args.seed)

    rows, payloads, kept_hashes = [], {}, []
    for subset, label, index in sorted(
        chosen, key=lambda c: (c[0] != "train", c[1], splits[c[0]][0].filenames[c[2]])
    ):
        data, hashes, _ = splits[subset]
        source = Path(data.filenames[index])
        member = f"{subset}/{TARGET_NAMES[label]}/{source.name}"
        payload = source.read_bytes()
        assert hashlib.sha256(payload).hexdigest() == data.sha256[index]
        payloads[member] = payload
        kept_hashes.append(int(hashes[index]))
        rows.append(
            {
                "subset": subset,
                "label": TARGET_NAMES[label],
                "member": member,
                "source": source.relative_to(args.source).as_posix(),
                "sha256": data.sha256[index],
                "phash": format(int(hashes[index]), "016x"),
            }
        )
    blob = _zip_bytes(rows, payloads)
    sha256 = hashlib.sha256(blob).hexdigest()

    pairwise = hamming_distances(kept_hashes)
    np.fill_diagonal(pairwise, 64)
    train_data, train_hashes, _ = splits["train"]
    test_data, all_test_hashes, _ = splits["test"]
    test_rows = [r for r in rows if r["subset"] == "test"]
    test_hashes = [int(r["phash"], 16) for r in test_rows]
    sample_near = (hamming_distances(test_hashes, train_hashes) <= 4).any(axis=1)
    near_labels = [r["label"] for r, near in zip(test_rows, sample_near, strict=True) if near]
    by_class = ", ".join(f"{name} {near_labels.count(name)}" for name in TARGET_NAMES)
    source_stats = {
        "n_test": len(test_data.target),
        "exact": int(np.isin(test_data.sha256, train_data.sha256).sum()),
        "near": int((hamming_distances(all_test_hashes, train_hashes) <= 4).any(axis=1).sum()),
        "sample_test_near": int(sample_near.sum()),
        "sample_test_near_by_class": by_class,
    }
    zip_path = args.out_dir / "data" / SAMPLE_FILE
    card_path = args.out_dir / "descr" / SAMPLE_CARD
    for path, content in (
        (zip_path, blob),
        (
            card_path,
            _card(rows, sha256, len(blob), args, int(pairwise.min()), source_stats).encode(),
        ),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
    print(f"wrote {zip_path} ({len(blob)} bytes, sha256 {sha256}) and {card_path}")
    print(
        f"{len(rows)} images; smallest pairwise pHash distance {pairwise.min()}; "
        f"{source_stats['sample_test_near']} test images have a near duplicate in "
        "the full Training folder"
    )


if __name__ == "__main__":
    main()
