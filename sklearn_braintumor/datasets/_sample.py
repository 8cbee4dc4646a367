"""The real brain MRI sample embedded in the package, like scikit-learn's digits."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from importlib import resources

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ..exceptions import ImageReadError
from ..utils._images import stack_images
from ..utils._io import COLOR_MODE, decode_image

__all__ = ["load_sample"]

SAMPLE_FILE = "brain_tumor_mri_sample.zip"
SAMPLE_CARD = "brain_tumor_mri_sample.rst"
MANIFEST_MEMBER = "manifest.csv"
TARGET_NAMES = ["glioma", "meningioma", "notumor", "pituitary"]


def _package_file(*parts: str):
    return resources.files("sklearn_braintumor.datasets").joinpath(*parts)


@validate_params(
    {"subset": [StrOptions({"train", "test", "all"})], "color_mode": COLOR_MODE,
     "return_X_y": ["boolean"]},
    prefer_skip_nested_validation=True,
)  # fmt: skip
def load_sample(
    subset: str = "train",
    *,
    color_mode: str = "grayscale",
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the embedded sample of the 4-class Brain Tumor MRI Dataset.

    800 real 224x224 slices (200 per class: glioma, meningioma, notumor,
    pituitary) taken from the CC0 compilation of Nickparvar (2021), keeping
    its official split: 150 per class from ``Training`` form ``"train"`` and
    50 per class from ``Testing`` form ``"test"``. No two images of the sample
    are exact or near duplicates (perceptual-hash Hamming distance above 10
    for every pair), so no test image leaks into training. The dataset card
    (``DESCR``) gives sources, licences, citations, counts, the SHA-256 of the
    shipped file and how it was built.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which part of the official split to return.
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
        As in :func:`load_image_folder`.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        images : ndarray of uint8, shape (n_samples, 224, 224[, 3])
            The slices.
        target : ndarray of int64, shape (n_samples,)
            Index of each slice's class in ``target_names``.
        target_names : list of str
            ``["glioma", "meningioma", "notumor", "pituitary"]``.
        filenames : ndarray of str
            Member names inside the shipped zip, ``"train/glioma/Tr-gl_0010.jpg"``.
        sha256 : ndarray of str
            SHA-256 of each JPEG's bytes (identical to the upstream file's).
        subset : ndarray of str
            The part of the split each sample belongs to, "train" or "test".
        DESCR : str
            The dataset card.
    (images, target) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import load_sample
    >>> data = load_sample("test")
    >>> data.images.shape
    (200, 224, 224)
    """
    with _package_file("data", SAMPLE_FILE).open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open(MANIFEST_MEMBER), "utf-8")))
    if subset != "all":
        rows = [row for row in rows if row["subset"] == subset]
    images = []
    for row in rows:
        data = archive.read(row["member"])
        if hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise ImageReadError(
                row["member"],
                "SHA-256 differs from the sample manifest: the "
                "installed package is corrupt; reinstall sklearn-braintumor",
            )
        images.append(decode_image(data, name=row["member"], color_mode=color_mode))
    stacked = stack_images(images)
    target = np.asarray([TARGET_NAMES.index(row["label"]) for row in rows], dtype=np.int64)
    if return_X_y:
        return stacked, target
    return Bunch(
        images=stacked,
        target=target,
        target_names=list(TARGET_NAMES),
        filenames=np.asarray([row["member"] for row in rows]),
        sha256=np.asarray([row["sha256"] for row in rows]),
        subset=np.asarray([row["subset"] for row in rows]),
        DESCR=_package_file("descr", SAMPLE_CARD).read_text(encoding="utf-8"),
    )
