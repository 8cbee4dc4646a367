"""Flattening images to rows for 2D-only estimators such as SMOTE."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
)

from ..utils._validation import check_images
from ._base import ImageTransformer


class ImageFlattener(ImageTransformer, auto_wrap_output_keys=("transform",)):
    """Flatten images to rows, and back, so 2D-only estimators fit in a pipeline.

    SMOTE and most scikit-learn estimators take ``(n_samples, n_features)``;
    put this transformer before them. ``inverse_transform`` restores the
    image shape seen by ``fit``.

    Attributes
    ----------
    image_shape_ : tuple of int
        Shape of one image seen by ``fit`` (``(n_features,)`` for 2D input).
    n_features_in_ : int
        Number of values per image.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.preprocessing import ImageFlattener
    >>> X = np.zeros((5, 8, 6, 3))
    >>> flat = ImageFlattener().fit_transform(X)
    >>> flat.shape, ImageFlattener().fit(X).inverse_transform(flat).shape
    ((5, 144), (5, 8, 6, 3))
    """

    _allow_2d = True

    def _check(self, X):
        images = check_images(X, estimator=self, allow_2d=True, same_shape=True)
        return images if isinstance(images, np.ndarray) else np.stack(images)

    def fit(self, X, y=None):
        """Record the shape of one image.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or list of same-shape images
            Images or already flat rows.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        images = self._check(X)
        self.image_shape_ = tuple(images.shape[1:])
        self.n_features_in_ = int(np.prod(self.image_shape_))
        return self

    def transform(self, X):
        """Flatten each image to one row.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels])
            Images of the shape seen by ``fit``.

        Returns
        -------
        X_flat : ndarray of shape (n_samples, n_values)
            ``n_values`` is the number of values per image, ``n_features_in_``.
        """
        check_is_fitted(self, "image_shape_")
        images = self._check(X)
        if len(self.image_shape_) == 1 and images.shape[1:] != self.image_shape_:
            raise ValueError(
                f"X has {images.shape[1]} features, but ImageFlattener is expecting "
                f"{self.n_features_in_} features as input"
            )
        if images.shape[1:] != self.image_shape_:
            raise ValueError(
                f"ImageFlattener was fitted on images of shape {self.image_shape_}, "
                f"got {images.shape[1:]}"
            )
        return images.reshape(len(images), -1)

    def inverse_transform(self, X):
        """Reshape rows back into images of the fitted shape.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_values)
            Flat rows, e.g. the output of SMOTE.

        Returns
        -------
        images : ndarray of shape (n_samples, height, width[, channels])
            Rows reshaped to the ``image_shape_`` seen by ``fit``.
        """
        check_is_fitted(self, "image_shape_")
        rows = check_array(X, dtype=None)
        if rows.shape[1] != self.n_features_in_:
            raise ValueError(
                f"expected {self.n_features_in_} values per row to restore images of "
                f"shape {self.image_shape_}, got {rows.shape[1]}"
            )
        return rows.reshape(len(rows), *self.image_shape_)

    def get_feature_names_out(self, input_features=None):
        """Return ``pixel0``, ``pixel1``, ... for the flattened values.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored unless 2D input was fitted, where it names the columns.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self, "image_shape_")
        if len(self.image_shape_) == 1:
            return _check_feature_names_in(self, input_features)
        return np.asarray([f"pixel{i}" for i in range(self.n_features_in_)], dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "image_shape_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags
