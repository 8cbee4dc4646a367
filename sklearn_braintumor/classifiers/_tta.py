"""Test-time augmentation: average a classifier's probabilities over transformed images."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from ..utils._images import stack_images
from ..utils._validation import check_images
from ._ood import GuardDelegationMixin

TRANSFORMS = {
    "identity": lambda image: image,
    "hflip": lambda image: image[:, ::-1],
    "vflip": lambda image: image[::-1],
}


class TTAClassifier(GuardDelegationMixin, ClassifierMixin, BaseEstimator):
    """Average predicted probabilities over transformed copies of each test image.

    ``fit`` trains a clone of ``estimator`` on the images as given;
    ``predict_proba`` returns the mean of the fitted estimator's
    probabilities over ``transforms`` applied to every image. Use transforms
    under which the label does not change (for axial brain slices, a left-right
    flip).

    Parameters
    ----------
    estimator : classifier or pipeline with ``predict_proba``
        Takes image stacks or lists (e.g. a pipeline ending in CNNClassifier).
    transforms : sequence of {"identity", "hflip", "vflip"} or callables, \
            default=("identity", "hflip")
        A callable maps one image array (height, width[, channels]) to another
        of the same shape.

    Attributes
    ----------
    estimator_ : fitted clone of ``estimator``
    classes_ : ndarray

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_braintumor.classifiers import TTAClassifier
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.preprocessing import ImageFlattener
    >>> X, y = make_synthetic_mri(40, image_size=16, random_state=0)
    >>> inner = make_pipeline(ImageFlattener(), LogisticRegression(max_iter=1000))
    >>> tta = TTAClassifier(inner, transforms=("identity", "hflip")).fit(X, y)
    >>> tta.predict_proba(X[:2]).shape
    (2, 4)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "transforms": [list, tuple],
    }

    def __init__(self, estimator, transforms=("identity", "hflip")) -> None:
        self.estimator = estimator
        self.transforms = transforms

    def _functions(self):
        if not len(self.transforms):
            raise InvalidParameterError("The 'transforms' parameter of TTAClassifier is empty")
        functions = []
        for transform in self.transforms:
            if callable(transform):
                functions.append(transform)
            elif transform in TRANSFORMS:
                functions.append(TRANSFORMS[transform])
            else:
                raise InvalidParameterError(
                    f"The 'transforms' parameter of TTAClassifier has the unknown transform "
                    f"{transform!r}; use a callable or one of {sorted(TRANSFORMS)}"
                )
        return functions

    @_fit_context(prefer_skip_nested_validation=False)  # the inner estimator is checked
    def fit(self, X, y, **fit_params):
        """Fit a clone of ``estimator`` on the images.

        Parameters
        ----------
        X : array-like of images or list
        y : array-like of shape (n_samples,)
        **fit_params : dict
            Passed to the estimator's ``fit``.

        Returns
        -------
        self : TTAClassifier
        """
        self._functions()
        check_images(X, estimator=self)
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Return probabilities averaged over the transforms.

        Parameters
        ----------
        X : array-like of images or list

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        images = check_images(X, estimator=self)
        total = None
        for function in self._functions():
            variant = stack_images([np.ascontiguousarray(function(image)) for image in images])
            proba = self.estimator_.predict_proba(variant)
            total = proba if total is None else total + proba
        return total / len(self.transforms)

    def _proba_and_scores(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Averaged probabilities and the guard's scores, read from the identity view's pass."""
        from ._ood import proba_and_scores

        check_is_fitted(self, "estimator_")
        images = check_images(X, estimator=self)
        total, scores = None, None
        for name, function in zip(self.transforms, self._functions(), strict=True):
            variant = stack_images([np.ascontiguousarray(function(image)) for image in images])
            if scores is None and name == "identity":  # the images as given: the guard's input
                proba, scores = proba_and_scores(self.estimator_, variant)
            else:
                proba = self.estimator_.predict_proba(variant)
            total = proba if total is None else total + proba
        if scores is None:
            scores = self.estimator_.score_samples(X)
        return total / len(self.transforms), scores

    def predict(self, X) -> np.ndarray:
        """Return the class with the highest averaged probability.

        Parameters
        ----------
        X : array-like of images or list

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return np.asarray(self.classes_)[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
