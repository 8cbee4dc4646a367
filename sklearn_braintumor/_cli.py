"""The ``braintumor`` command line (also ``python -m sklearn_braintumor``)."""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import platform
import sys
import time
from collections.abc import Sequence

import numpy as np

from . import __version__

_REPORTED_PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "imbalanced-learn",
    "scikit-image",
    "torch",
    "skorch",
    "torchvision",
    "joblib",
    "Pillow",
    "matplotlib",
    "h5py",
    "kagglehub",
)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _device_summary() -> str:
    try:
        import torch
    except ImportError:
        return "torch not installed"
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return f"cuda ({', '.join(names)}); device='auto' uses cuda"
    return f"cpu ({torch.get_num_threads()} torch threads); no CUDA device found"


def _cached(data_home) -> list[str]:
    from .datasets import DATASETS
    from .datasets._fetch import dataset_path

    return [name for name in DATASETS if dataset_path(name, data_home) is not None]


def _cmd_info(args: argparse.Namespace) -> int:
    from .datasets import get_data_home

    home = get_data_home(args.data_home)
    print(f"sklearn-braintumor {__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    for package in _REPORTED_PACKAGES:
        print(f"  {package:<17} {_version(package)}")
    print(f"device: {_device_summary()}")
    print(f"data home: {home}")
    cached = _cached(home)
    print(f"cached datasets: {', '.join(cached) if cached else 'none'}")
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .datasets import DATASETS, get_data_home
    from .datasets._fetch import dataset_path

    home = get_data_home(args.data_home)
    print("embedded (no download):")
    print(
        "  sample  load_sample(subset='train'|'test'|'all'): 800 real 224x224 "
        "slices of the 4-class set, official split kept, duplicate-free"
    )
    print(f"\nfetchable with fetch_dataset(NAME) or `braintumor fetch NAME` (data home {home}):")
    for name, info in DATASETS.items():
        path = dataset_path(name, home)
        status = f"cached in {path}" if path else "not downloaded"
        print(f"  {name}: {info.title}\n    licence: {info.licence}\n    {status}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from .datasets import fetch_dataset

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = fetch_dataset(args.name, data_home=args.data_home)
    print(data.DESCR)
    return 0


def _hog_features(images: np.ndarray) -> np.ndarray:
    """HOG descriptors of each image at half resolution."""
    from skimage.feature import hog
    from skimage.transform import downscale_local_mean

    return np.stack(
        [
            hog(
                downscale_local_mean(image, (2, 2)),
                orientations=9,
                pixels_per_cell=(8, 8),
                cells_per_block=(2, 2),
            )
            for image in images
        ]
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from sklearn.metrics import classification_report, confusion_matrix
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import SVC

    from .datasets import load_sample

    start = time.perf_counter()
    train, test = load_sample("train"), load_sample("test")
    pipe = make_pipeline(FunctionTransformer(_hog_features), StandardScaler(), SVC(C=10.0))
    print(
        f"Embedded sample: {len(train.target)} training and {len(test.target)} test "
        "images (224x224, 4 classes, no duplicates across the split)."
    )
    print(f"Pipeline: {pipe}")
    pipe.fit(train.images, train.target)
    predicted = pipe.predict(test.images)
    print("\nClassification report on the sample's test subset:\n")
    print(classification_report(test.target, predicted, target_names=test.target_names, digits=3))
    print(
        f"Confusion matrix (rows: true, columns: predicted, order {', '.join(test.target_names)}):"
    )
    print(confusion_matrix(test.target, predicted))
    print(f"\nDone in {time.perf_counter() - start:.1f} s.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``braintumor`` command."""
    parser = argparse.ArgumentParser(
        prog="braintumor",
        description="Brain MRI tumour classification with scikit-learn estimators.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, handler, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    for sub in (
        add("info", _cmd_info, "versions, compute device, data home and cached datasets"),
        add("datasets", _cmd_datasets, "datasets that can be loaded or fetched"),
    ):
        sub.add_argument(
            "--data-home",
            default=None,
            help="dataset cache (default: $SKLEARN_BRAINTUMOR_DATA or ~/sklearn_braintumor_data)",
        )
    fetch = add("fetch", _cmd_fetch, "download a public dataset into the data home")
    fetch.add_argument("name", help="dataset name, see `braintumor datasets`")
    fetch.add_argument("--data-home", default=None, help="dataset cache folder")
    add(
        "demo",
        _cmd_demo,
        "fit a HOG + SVM pipeline on the embedded sample's training subset and "
        "report on its test subset",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``braintumor`` command; return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (OSError, ValueError) as exc:
        print(f"braintumor {args.command}: error: {exc}", file=sys.stderr)
        return 1
