"""What the stateless image transformers share."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import InvalidParameterError

from ..utils._validation import check_images


class ImageTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base for transformers that apply the same per-image operation at any time.

    They are stateless: ``fit`` only validates its input, and ``transform``
    works on a fresh instance too (tag ``requires_fit=False``), like
    scikit-learn's :class:`~sklearn.preprocessing.FunctionTransformer`.
    Subclasses implement ``_transform_images(images)`` on the output of
    :func:`~sklearn_braintumor.utils.check_images` and may set ``_allow_2d``
    and ``_non_negative``. Parameters are declared in ``_parameter_constraints``
    (scikit-learn's declarative checks, an ``InvalidParameterError`` that is
    both a ``ValueError`` and a ``TypeError``), checked by ``fit`` and by
    ``transform`` (which works unfitted); rules that tie parameters together
    go in ``_check_param_relations``.
    """

    _parameter_constraints: ClassVar[dict] = {}

    _allow_2d = False
    _non_negative = False

    def __init_subclass__(cls, auto_wrap_output_keys=None, **kwargs):
        # images are not tables: only subclasses that output one (ImageFlattener,
        # GLCMFeatures) opt in to set_output's DataFrame wrapping, which wraps only
        # methods the class itself defines
        if auto_wrap_output_keys and "transform" not in cls.__dict__:
            cls.transform = ImageTransformer.__dict__["transform"]
        super().__init_subclass__(auto_wrap_output_keys=auto_wrap_output_keys, **kwargs)

    def _check_param_relations(self) -> None:
        """Raise ``InvalidParameterError`` for values each valid alone but not together."""

    def _invalid(self, message: str) -> InvalidParameterError:
        return InvalidParameterError(f"The {message} of {type(self).__name__}")

    def _check(self, X):
        self._validate_params()
        self._check_param_relations()
        return check_images(
            X, estimator=self, allow_2d=self._allow_2d, non_negative=self._non_negative
        )

    def fit(self, X, y=None):
        """Validate the images; nothing is learnt.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or list
            Images; a list may hold images of different sizes.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._check(X)
        return self

    def transform(self, X):
        """Apply the transformation to each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or list
            Images; a list may hold images of different sizes.

        Returns
        -------
        X_new : ndarray
            Transformed images (an object array when their shapes differ).
        """
        return self._transform_images(self._check(X))

    def set_output(self, *, transform=None):
        """Accept a pipeline's ``set_output``; image outputs stay arrays.

        A pipeline's ``set_output(transform="pandas")`` reaches every step.
        Transformers whose output is a table (``ImageFlattener``,
        ``GLCMFeatures``: they have ``get_feature_names_out``) then return
        DataFrames with named columns; those returning images cannot and keep
        returning arrays (or lists of images), so the setting passes through
        them to the steps that can.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None

        Returns
        -------
        self : object
        """
        if self._sklearn_auto_wrap_output_keys:
            return super().set_output(transform=transform)
        return self

    def get_feature_names_out(self, input_features=None):
        """Pass ``input_features`` through: images have no feature names.

        Lets a pipeline's ``get_feature_names_out`` reach the step that turns
        images into a table (``ImageFlattener``, ``GLCMFeatures``), which names
        its columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        feature_names_out : ndarray of str or None
            ``input_features`` as given.
        """
        return None if input_features is None else np.asarray(input_features, dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = self._allow_2d
        tags.input_tags.three_d_array = True
        tags.input_tags.positive_only = self._non_negative
        return tags


def to_float32(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as float32 (no copy if it already is)."""
    return np.asarray(image, dtype=np.float32)
