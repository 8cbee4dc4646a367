"""Validation of image collections passed to estimators."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.sparse import issparse
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    validate_parameter_constraints,
)

_CHANNELS = (1, 3, 4)


def _name(estimator) -> str:
    return type(estimator).__name__ if estimator is not None else "this function"


def _check_values(image: np.ndarray, index: int, estimator, non_negative: bool) -> None:
    if image.dtype.kind not in "buif":
        raise TypeError(
            f"{_name(estimator)} expects numeric images; sample {index} has dtype {image.dtype}"
        )
    if image.size == 0:
        raise ValueError(f"sample {index} is an empty image of shape {image.shape}")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError(f"sample {index} contains NaN or infinite values")
    if non_negative and image.dtype.kind in "if" and image.min() < 0:
        raise ValueError(
            f"{_name(estimator)} expects non-negative intensities; sample {index} "
            f"has minimum {image.min():g}. Apply it before any z-score scaling."
        )


def _is_image_list(X) -> bool:
    """Whether ``X`` is a list/tuple/1D object array of image arrays (sizes may differ)."""
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1 and len(X) > 0 and isinstance(X[0], np.ndarray)
    return (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and all(isinstance(item, np.ndarray) and item.ndim >= 2 for item in X)
    )


def _from_pil(image):
    """Return a Pillow image as an array (palette and 1-bit images converted first)."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    return np.asarray(image)


def as_image_sequence(X):
    """Return Pillow images and a pandas Series of images as a list of arrays.

    Anything else is returned unchanged: the other checks then apply.
    """
    if getattr(X, "ndim", None) == 1 and hasattr(X, "iloc"):  # a pandas Series
        X = X.tolist()
    if isinstance(X, (list, tuple)) and any(
        type(item).__module__.startswith("PIL.") and hasattr(item, "mode") for item in X
    ):
        X = [_from_pil(item) if type(item).__module__.startswith("PIL.") else item for item in X]
    return X


def _first_bad(images: np.ndarray, bad: np.ndarray) -> int:
    return int(np.flatnonzero(bad.reshape(len(images), -1).any(axis=1))[0])


def check_images(
    X,
    *,
    estimator=None,
    allow_2d: bool = False,
    non_negative: bool = False,
    same_shape: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """Validate a collection of images and return it in a canonical form.

    Parameters
    ----------
    X : array-like
        Either a stacked array ``(n_samples, height, width[, channels])`` or a
        sequence (list, tuple, 1D object array, pandas Series) of 2D
        ``(height, width)`` or 3D ``(height, width, channels)`` arrays or
        Pillow images, channels being 1, 3 or 4; sizes may differ.
    estimator : estimator instance, default=None
        Named in error messages.
    allow_2d : bool, default=False
        Accept a 2D array ``(n_samples, n_features)``, each row one flattened
        image (for estimators that work per sample on any shape).
    non_negative : bool, default=False
        Reject negative values.
    same_shape : bool, default=False
        Require every image to have the same shape.

    Returns
    -------
    images : ndarray or list of ndarray
        The stacked array (for stacked input) or a list of arrays.

    Raises
    ------
    ValueError
        For an empty collection, a wrong number of dimensions or channels,
        NaN or infinite values, negative values when ``non_negative``, or
        differing shapes when ``same_shape``; the message names the offending
        sample. Tables go through :func:`sklearn.utils.check_array`, whose
        messages the scikit-learn common checks expect.
    TypeError
        For non-numeric data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.utils import check_images
    >>> check_images(np.zeros((2, 8, 8), np.uint8)).shape
    (2, 8, 8)
    >>> [image.shape for image in check_images([np.zeros((8, 8)), np.zeros((4, 6, 3))])]
    [(8, 8), (4, 6, 3)]
    """
    name = _name(estimator)
    if issparse(X):
        raise TypeError(
            f"{name} does not accept sparse input: sparse data was passed, but dense "
            "image arrays are required"
        )
    X = as_image_sequence(X)
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError(f"{name} got no images (an empty list)")
    if not _is_image_list(X):
        X = check_array(
            X, dtype="numeric", allow_nd=True, ensure_all_finite=False,
            ensure_min_samples=1, ensure_min_features=1, estimator=estimator,
        )  # fmt: skip
        low = 2 if allow_2d else 3
        if X.ndim < low or X.ndim > 4 or (X.ndim == 4 and X.shape[-1] not in _CHANNELS):
            expected = "(n_samples, height, width[, channels])"
            if allow_2d:
                expected += " or (n_samples, n_features)"
            hint = (
                " For a single image use image[np.newaxis]." if X.ndim == 2 and not allow_2d else ""
            )
            raise ValueError(
                f"{name} expects images as an array of shape {expected} with 1, 3 "
                f"or 4 channels, or a list of 2D/3D arrays; got an array of shape "
                f"{X.shape}.{hint}"
            )
        if X[0].size == 0:
            raise ValueError(f"sample 0 is an empty image of shape {X.shape[1:]}")
        if X.dtype.kind == "f":
            finite = np.isfinite(X)
            if not finite.all():
                raise ValueError(f"sample {_first_bad(X, ~finite)} contains NaN or infinite values")
        if non_negative and X.dtype.kind in "if" and X.min() < 0:
            raise ValueError(
                f"{name} expects non-negative intensities; sample "
                f"{_first_bad(X, X < 0)} has negative values. Apply it before any "
                "z-score scaling."
            )
        return X

    images = []
    for index, item in enumerate(X):
        image = np.asarray(item)
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in _CHANNELS):
            raise ValueError(
                f"{name} expects each image to be 2D (height, width) or 3D "
                f"(height, width, channels) with 1, 3 or 4 channels; sample {index} "
                f"has shape {image.shape}"
            )
        _check_values(image, index, estimator, non_negative)
        images.append(image)
    if same_shape and len({image.shape for image in images}) > 1:
        shapes = sorted({image.shape for image in images})
        raise ValueError(
            f"{name} needs images of one shape, got {len(shapes)} shapes "
            f"({shapes[0]}, {shapes[-1]}, ...): put Resize before it"
        )
    return images


_PROBABILITY = [Interval(Real, 0, 1, closed="both")]
_NON_NEGATIVE = [Interval(Real, 0, None, closed="left")]
AUGMENTATION_CONSTRAINTS = {
    "horizontal_flip": _PROBABILITY,
    "vertical_flip": _PROBABILITY,
    "rotation": _NON_NEGATIVE,
    "shear": _NON_NEGATIVE,
    "translation": _NON_NEGATIVE,
    "zoom": [Interval(Real, 0, 1, closed="left")],
    "crop_scale": [tuple, list, None],
    "blur_sigma": _NON_NEGATIVE,
    # BatchAugment's intensity options
    "noise_std": _NON_NEGATIVE,
    "gamma": _NON_NEGATIVE,
    "contrast": [Interval(Real, 0, 1, closed="left")],
    "brightness": _NON_NEGATIVE,
    "invert": _PROBABILITY,
    "histogram_swap": _PROBABILITY,
    "intensity_curve": _PROBABILITY,
    "random_conv": _PROBABILITY,
}
"""Declarative checks of the augmentation options shared by ImageAugmenter and BatchAugment."""


def check_augmentation(owner, **options) -> None:
    """Check augmentation options against ``AUGMENTATION_CONSTRAINTS`` and each other.

    Raises scikit-learn's ``InvalidParameterError`` (a ``ValueError`` and a
    ``TypeError``) naming the option and ``owner``'s class.
    """
    validate_parameter_constraints(
        {key: AUGMENTATION_CONSTRAINTS[key] for key in options}, options, caller_name=_name(owner)
    )
    check_crop_scale(owner, options.get("crop_scale"))


def check_crop_scale(owner, crop_scale) -> None:
    """Raise ``InvalidParameterError`` unless ``crop_scale`` is None or ``0 < low <= high <= 1``."""
    if crop_scale is not None and (
        len(crop_scale) != 2 or not 0 < crop_scale[0] <= crop_scale[1] <= 1
    ):
        raise InvalidParameterError(
            f"The 'crop_scale' parameter of {_name(owner)} must satisfy 0 < low <= high <= 1, "
            f"got {crop_scale!r}"
        )
