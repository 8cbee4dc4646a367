"""Per-image intensity scaling."""

from __future__ import annotations

from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ..utils._images import stack_images
from ._base import ImageTransformer, to_float32


class IntensityScaler(ImageTransformer):
    """Scale the intensities of each image on its own.

    Parameters
    ----------
    method : {"minmax", "zscore", "percentile"}, default="minmax"
        ``"minmax"`` maps each image's range onto [0, 1]; ``"zscore"``
        subtracts its mean and divides by its standard deviation;
        ``"percentile"`` clips it to its ``percentiles`` and then maps them
        onto [0, 1] (robust to a few hot pixels). A constant image gives
        zeros.
    percentiles : tuple of (float, float), default=(1.0, 99.0)
        Lower and upper percentile for ``method="percentile"``.
    background : float or None, default=None
        Pixels at or below this value (in the input's units, e.g. 8 for
        uint8) are background: left out of the statistics and set to 0 in
        the output, so the scaling follows the tissue, not how much black
        border an image has. Scans of different collections then reach the
        network with comparable brain intensities ("Scans from other
        sources" in the user guide). None uses every pixel.

    Notes
    -----
    Each sample is scaled with its own statistics, so nothing is learnt and
    test images are treated like training images. A 2D array
    ``(n_samples, n_features)`` is treated as flattened images, one per row.
    float32 and float64 input keep their dtype; other input becomes float32.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.preprocessing import IntensityScaler
    >>> X, y = make_synthetic_mri(3, image_size=32, random_state=0)
    >>> scaled = IntensityScaler(method="percentile", background=8).fit_transform(X)
    >>> float(scaled.min()), float(scaled.max())
    (0.0, 1.0)
    """

    _allow_2d = True
    _parameter_constraints: ClassVar[dict] = {
        "method": [StrOptions({"minmax", "zscore", "percentile"})],
        "percentiles": [tuple, list],
        "background": [Real, None],
    }

    def __init__(
        self,
        method: str = "minmax",
        percentiles: tuple[float, float] = (1.0, 99.0),
        background: float | None = None,
    ):
        self.method = method
        self.percentiles = percentiles
        self.background = background

    def fit(self, X, y=None):
        """Validate the images and record the number of features of 2D input.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]), list, \
                or (n_samples, n_features)
            Images.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        images = self._check(X)
        if isinstance(images, np.ndarray) and images.ndim == 2:
            self.n_features_in_ = images.shape[1]
        return self

    def _scale(self, image: np.ndarray) -> np.ndarray:
        values = image if image.dtype.kind == "f" else to_float32(image)
        if self.background is None:
            return self._scale_values(values, values)
        tissue = image > self.background
        if image.ndim == 3:  # a pixel is tissue if any channel is
            tissue = np.broadcast_to(tissue.any(axis=-1, keepdims=True), image.shape)
        if not tissue.any():
            return np.zeros_like(values)
        return np.where(tissue, self._scale_values(values, values[tissue]), 0).astype(values.dtype)

    def _scale_values(self, values: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """Scale ``values`` with the statistics of ``reference`` (all or tissue pixels)."""
        if self.method == "percentile":
            low, high = np.percentile(reference, self.percentiles).astype(values.dtype)
            values, reference = np.clip(values, low, high), np.clip(reference, low, high)
        if self.method in ("minmax", "percentile"):
            low, span = reference.min(), reference.max() - reference.min()
            return (values - low) / span if span > 0 else np.zeros_like(values)
        std = reference.std()
        return (values - reference.mean()) / std if std > 0 else np.zeros_like(values)

    def _check_param_relations(self) -> None:
        bounds = tuple(self.percentiles)
        if len(bounds) != 2 or not all(isinstance(b, Real) for b in bounds):
            raise self._invalid(f"'percentiles' parameter must be (low, high), got {bounds!r}")
        if self.method == "percentile" and not 0 <= bounds[0] < bounds[1] <= 100:
            raise self._invalid(
                "'percentiles' parameter must satisfy 0 <= low < high <= 100, got "
                f"{self.percentiles!r}"
            )

    def _transform_images(self, images):
        if isinstance(images, np.ndarray):
            if (
                images.ndim == 2
                and hasattr(self, "n_features_in_")
                and (images.shape[1] != self.n_features_in_)
            ):
                raise ValueError(
                    f"X has {images.shape[1]} features, but IntensityScaler is expecting "
                    f"{self.n_features_in_} features as input"
                )
            return np.stack([self._scale(image) for image in images])
        return stack_images([self._scale(image) for image in images])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
