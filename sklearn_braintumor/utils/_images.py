"""Array helpers shared by the loaders and the transformers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: The full-scale value of the integer pixel types the library reads on a [0, 1] scale.
PIXEL_PEAKS = {"uint8": 255, "uint16": 65535}


def rescale_to_uint8(array: np.ndarray) -> np.ndarray:
    """Rescale a numeric array linearly to uint8, keeping zero at zero.

    The range ``[min(0, array.min()), array.max()]`` maps onto ``[0, 255]``;
    an all-zero (or constant non-positive) array gives zeros.

    Parameters
    ----------
    array : ndarray
        Integer or floating point values, all finite.

    Returns
    -------
    rescaled : ndarray of uint8
        Same shape as ``array``.
    """
    values = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("image contains NaN or infinite values")
    low = min(0.0, float(values.min())) if values.size else 0.0
    high = float(values.max()) if values.size else 0.0
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.rint((values - low) * (255.0 / (high - low))).astype(np.uint8)


def as_uint8(image: np.ndarray) -> np.ndarray:
    """Return ``image`` itself when it is uint8, else :func:`rescale_to_uint8` of it."""
    image = np.asarray(image)
    return image if image.dtype == np.uint8 else rescale_to_uint8(image)


def stack_images(images: Sequence[np.ndarray]) -> np.ndarray:
    """Stack images into one array when their shapes agree, else an object array.

    Parameters
    ----------
    images : sequence of ndarray

    Returns
    -------
    stacked : ndarray
        ``(n, height, width[, channels])`` when every shape is the same,
        otherwise a 1D object array holding the individual arrays.
    """
    if len(images) and len({image.shape for image in images}) == 1:
        return np.stack(images)
    out = np.empty(len(images), dtype=object)
    for index, image in enumerate(images):
        out[index] = image
    return out
