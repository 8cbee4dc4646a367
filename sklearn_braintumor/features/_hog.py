"""Histograms of oriented gradients (HOG) of each image, as a 2D table."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..preprocessing._base import ImageTransformer
from ..preprocessing._color import Grayscale


class HOGFeatures(ImageTransformer, auto_wrap_output_keys=("transform",)):
    """HOG descriptors of each image (scikit-image's ``hog``), one row per image.

    Each image is converted to grayscale (luma), optionally shrunk by
    averaging ``downscale`` x ``downscale`` blocks, and described by histograms
    of gradient orientations in cells, normalised over blocks of cells. All
    images must have one size (put ``Resize`` before it), since the number of
    cells follows from it; ``fit`` records the length of a row.

    Parameters
    ----------
    orientations : int, default=9
        Orientation bins per cell.
    pixels_per_cell : tuple of (int, int), default=(8, 8)
    cells_per_block : tuple of (int, int), default=(2, 2)
    downscale : int, default=2
        Block-mean shrinking factor before the descriptor (1 keeps the size).
    block_norm : {"L1", "L1-sqrt", "L2", "L2-Hys"}, default="L2-Hys"

    Attributes
    ----------
    n_features_out_ : int
        Length of a row, from the images given to ``fit``.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.features import HOGFeatures
    >>> X, y = make_synthetic_mri(3, image_size=64, random_state=0)
    >>> HOGFeatures().fit_transform(X).shape
    (3, 324)
    """

    _parameter_constraints: ClassVar[dict] = {
        "orientations": [Interval(Integral, 1, None, closed="left")],
        "pixels_per_cell": [tuple, list],
        "cells_per_block": [tuple, list],
        "downscale": [Interval(Integral, 1, None, closed="left")],
        "block_norm": [StrOptions({"L1", "L1-sqrt", "L2", "L2-Hys"})],
    }

    def __init__(
        self,
        orientations: int = 9,
        pixels_per_cell: tuple[int, int] = (8, 8),
        cells_per_block: tuple[int, int] = (2, 2),
        downscale: int = 2,
        block_norm: str = "L2-Hys",
    ) -> None:
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.downscale = downscale
        self.block_norm = block_norm

    def _check_param_relations(self) -> None:
        for name in ("pixels_per_cell", "cells_per_block"):
            value = tuple(getattr(self, name))
            if len(value) != 2 or not all(isinstance(v, Integral) and v > 0 for v in value):
                raise self._invalid(f"'{name}' parameter must be two positive ints, got {value!r}")

    def _describe(self, image: np.ndarray) -> np.ndarray:
        from skimage.feature import hog
        from skimage.transform import downscale_local_mean

        gray = np.asarray(image, dtype=np.float32)
        if self.downscale > 1:
            gray = downscale_local_mean(gray, (self.downscale, self.downscale))
        return hog(
            gray,
            orientations=self.orientations,
            pixels_per_cell=tuple(self.pixels_per_cell),
            cells_per_block=tuple(self.cells_per_block),
            block_norm=self.block_norm,
        )

    def _transform_images(self, images):
        gray = Grayscale().fit_transform(images)
        shapes = {np.shape(image)[:2] for image in gray}
        if len(shapes) > 1:
            raise ValueError(
                f"HOGFeatures needs images of one size (got {len(shapes)} sizes, e.g. "
                f"{sorted(shapes)[:2]}); put Resize((height, width)) before it"
            )
        rows = np.stack([self._describe(np.squeeze(image)) for image in gray])
        if rows.shape[1] == 0:
            raise ValueError(
                f"images of {shapes.pop()} px are too small for cells of "
                f"{tuple(self.pixels_per_cell)} px after downscale={self.downscale}"
            )
        return rows

    def fit(self, X, y=None):
        """Record the length of a descriptor row; nothing else is learnt.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or list
            Images of one size.
        y : None
            Ignored.

        Returns
        -------
        self : HOGFeatures
        """
        images = self._check(X)
        self.n_features_out_ = self._transform_images(images[:1]).shape[1]
        return self

    def transform(self, X):
        """Return the HOG descriptor of each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or list
            Images of the size ``fit`` saw.

        Returns
        -------
        X_new : ndarray of shape (n_samples, ``n_features_out_``)
        """
        rows = self._transform_images(self._check(X))
        expected = getattr(self, "n_features_out_", rows.shape[1])
        if rows.shape[1] != expected:
            raise ValueError(
                f"HOGFeatures was fitted on images giving {expected} values, these give "
                f"{rows.shape[1]}: resize them to the fitted size"
            )
        return rows

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Return ``hog0``, ``hog1``, ... for the descriptor values.

        Parameters
        ----------
        input_features : None
            Ignored (pixels have no names).

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"hog{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True  # transform works unfitted, as for the other image transformers
