"""Base class of the image samplers: imbalanced-learn samplers that take image stacks."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from imblearn.base import BaseSampler
from imblearn.utils import check_target_type
from sklearn.base import _fit_context
from sklearn.preprocessing import label_binarize
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, validate_data

from ..utils._images import stack_images
from ..utils._validation import check_images


class ImageSampler(BaseSampler):
    """Base for samplers that act on training images only.

    imbalanced-learn's pipelines call ``fit_resample`` during ``fit`` and skip
    samplers at predict time, which is where augmentation, noise injection
    and duplicate removal belong. imbalanced-learn's own validation accepts
    2D tables only, so these samplers validate images themselves (stacked
    arrays, lists of differently sized images, or 2D rows where
    ``_allow_2d``) and return the same kind of container they were given.
    Subclasses implement ``_resample(images, y) -> (images, y, indices)``
    where ``indices[k]`` is the input sample that output ``k`` comes from.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.sampling import ImageSampler
    >>> class FlipCopies(ImageSampler):
    ...     def _resample(self, images, y):
    ...         n = len(images)
    ...         flipped = np.stack([image[:, ::-1] for image in images])
    ...         indices = np.concatenate([np.arange(n), np.arange(n)])
    ...         return np.concatenate([images, flipped]), y[indices], indices
    >>> X_new, y_new = FlipCopies().fit_resample(np.zeros((4, 8, 8)), np.array([0, 1, 0, 1]))
    >>> X_new.shape
    (8, 8, 8)
    """

    _sampling_type = "bypass"
    _allow_2d = False
    _parameter_constraints: ClassVar[dict] = {}  # subclasses declare theirs

    def __init__(self) -> None:
        super().__init__(sampling_strategy="auto")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, **params):
        """Validate the data; use ``fit_resample`` to resample.

        Parameters
        ----------
        X : array-like of images or list
            Training images.
        y : array-like of shape (n_samples,)
            Labels.
        **params : dict
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate(X, y)
        return self

    def _check_param_relations(self) -> None:
        """Raise ``InvalidParameterError`` for values each valid alone but not together."""

    def _validate(self, X, y):
        self._check_param_relations()
        images = check_images(X, estimator=self, allow_2d=self._allow_2d)
        check_classification_targets(y)
        y, binarized = check_target_type(y, indicate_one_vs_all=True)
        y = np.asarray(y)
        check_consistent_length(images, y)
        if isinstance(images, np.ndarray) and images.ndim == 2:
            validate_data(self, X, reset=True, skip_check_array=True)  # feature names
        self.sampling_strategy_ = {}
        return images, y, binarized

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y, **params):
        """Resample the training images.

        Parameters
        ----------
        X : array-like of images or list
            Training images.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or their one-hot encoding.
        **params : dict
            Ignored.

        Returns
        -------
        X_resampled : ndarray or list
            Images (an object array if their shapes differ, else stacked; a
            list if ``X`` was a list).
        y_resampled : ndarray of shape (n_samples_new,) or list
            Labels of the returned images, one-hot if ``y`` was one-hot.
        """
        images, y, binarized = self._validate(X, y)
        out, y_out, self.sample_indices_ = self._resample(images, y)
        if binarized:
            y_out = label_binarize(y_out, classes=np.unique(y))
        if isinstance(X, (list, tuple)):
            return list(out), y_out.tolist()
        if isinstance(out, list):
            out = stack_images(out)
        return out, y_out

    def _fit_resample(self, X, y):  # required by imbalanced-learn's abstract base
        images, y_out, _ = self._resample(X, y)
        return images, y_out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = self._allow_2d
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = False
        tags.input_tags.dataframe = False
        tags.sampler_tags.sample_indices = True
        return tags
