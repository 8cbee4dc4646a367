"""Decide tumour / no tumour first, then the tumour type."""

from __future__ import annotations

import warnings
from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._ood import GuardDelegationMixin


def decide(estimator, proba) -> np.ndarray:
    """Return ``estimator``'s decisions for probabilities computed once.

    Its ``predict_from_proba`` where it has one (:class:`TumorFirstClassifier`),
    else the most probable class.
    """
    rule = getattr(estimator, "predict_from_proba", None)
    if rule is not None:
        return np.asarray(rule(proba))
    return np.asarray(estimator.classes_)[np.argmax(proba, axis=1)]


def threshold_keeping(estimator, negatives) -> float:
    """Return the highest threshold keeping ``negative_recall`` of ``negatives`` negative.

    ``estimator`` is a fitted :class:`TumorFirstClassifier`, ``negatives``
    images of its negative class that its network did not train on.
    """
    column = estimator.classes_.tolist().index(estimator.negative_class)
    scores = estimator.estimator_.predict_proba(negatives)[:, column]
    # negatives the network already gets wrong at 0.5 would pin the threshold at 0.5:
    # the share is counted among those a majority decision calls negative
    kept = scores[scores >= 0.5]
    if len(kept) == 0:
        return 0.5
    chosen = np.quantile(kept, 1 - estimator.negative_recall, method="lower")
    return float(np.clip(chosen, 0.5, 0.95))


def most_probable_other(proba: np.ndarray, negative: int) -> np.ndarray:
    """Return, per row, the index of the most probable class other than ``negative``."""
    others = np.array(proba, dtype=float, copy=True)
    others[:, negative] = -np.inf
    return others.argmax(axis=1)


class TumorFirstClassifier(GuardDelegationMixin, ClassifierMixin, BaseEstimator):
    """Call a scan "no tumour" only when that class holds most of the probability.

    A multi-class model's ``argmax`` can answer "no tumour" with, say, 0.45
    against 0.55 spread over three tumour types: it is more sure there *is* a
    tumour than not. This meta-estimator answers the question a screening
    user asks first: the negative class is predicted only when its
    probability reaches ``threshold`` (0.5: more likely healthy than not);
    otherwise the most probable tumour class. ``predict_proba`` is the
    wrapped estimator's, unchanged.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Fitted as a clone in ``fit``.
    negative_class : label, default="notumor"
        The "no tumour" class of ``estimator.classes_``.
    threshold : float or "auto", default=0.5
        Probability of ``negative_class`` from which it is predicted; in
        (0, 1). Higher values call more scans "tumour". ``"auto"`` sets it
        after fitting from the validation split of the ``CNNClassifier``
        inside ``estimator`` (its ``valid_indices_``; the images must reach it
        in the order given, without resampling): the highest threshold that
        still calls a share ``negative_recall`` of the validation split's
        negative images negative, counted among those a majority (0.5)
        already calls negative (so a few negatives the network gets wrong
        anyway do not pin it at 0.5), kept within [0.5, 0.95]. Model
        selection on validation data, never on test data.
    negative_recall : float, default=0.99
        What ``threshold="auto"`` keeps of the negative validation images.

    Attributes
    ----------
    estimator_ : fitted clone of ``estimator``
    classes_ : ndarray
    threshold_ : float
        The threshold in use (``threshold``, or the one ``"auto"`` chose).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn_braintumor.classifiers import TumorFirstClassifier
    >>> X, y = np.zeros((10, 1)), ["glioma"] * 3 + ["meningioma"] * 3 + ["notumor"] * 4
    >>> clf = TumorFirstClassifier(DummyClassifier(strategy="prior")).fit(X, y)
    >>> clf.predict_proba(X[:1]).round(2), clf.predict(X[:1])
    (array([[0.3, 0.3, 0.4]]), array(['glioma'], dtype='<U10'))
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "negative_class": "no_validation",
        "threshold": [Interval(Real, 0, 1, closed="neither"), StrOptions({"auto"})],
        "negative_recall": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        estimator,
        *,
        negative_class="notumor",
        threshold: float | str = 0.5,
        negative_recall: float = 0.99,
    ) -> None:
        self.estimator = estimator
        self.negative_class = negative_class
        self.threshold = threshold
        self.negative_recall = negative_recall

    @_fit_context(prefer_skip_nested_validation=False)  # the inner estimator is checked
    def fit(self, X, y, **fit_params):
        """Fit a clone of ``estimator``.

        Parameters
        ----------
        X : array-like
        y : array-like of shape (n_samples,)
        **fit_params : dict
            Passed to the estimator's ``fit``.

        Returns
        -------
        self : TumorFirstClassifier
        """
        auto = isinstance(self.threshold, str) and self.threshold == "auto"
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = np.asarray(self.estimator_.classes_)
        if self.negative_class not in self.classes_.tolist():
            raise ValueError(
                f"negative_class {self.negative_class!r} is not one of the classes "
                f"{self.classes_.tolist()}"
            )
        self.threshold_ = self._auto_threshold(X, y) if auto else float(self.threshold)
        return self

    def _auto_threshold(self, X, y) -> float:
        """Return the highest threshold keeping ``negative_recall`` of validation negatives."""
        from sklearn.utils import _safe_indexing

        from ..utils._traversal import find_classifier

        clf = find_classifier(self.estimator_)
        valid = getattr(clf, "valid_indices_", None)
        if valid is None:
            raise ValueError(
                "threshold='auto' needs a CNNClassifier with a train_split inside estimator, "
                "whose validation images set the threshold"
            )
        y = np.asarray(y)
        if len(valid) and valid.max() >= len(y):
            raise ValueError(
                "threshold='auto': the classifier's validation indices do not match X; the "
                "images must reach it in the order given (no resampling before it)"
            )
        negative = valid[y[valid] == self.negative_class]
        if len(negative) < 10:
            warnings.warn(
                f"threshold='auto' found {len(negative)} {self.negative_class!r} validation "
                "images, too few to set a threshold (10 or more); 0.5 is used",
                UserWarning,
                stacklevel=3,
            )
            return 0.5
        return threshold_keeping(self, _safe_indexing(X, negative))  # arrays, lists, frames

    @property
    def n_features_in_(self) -> int:
        """Number of features seen in ``fit`` (the wrapped estimator's)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.n_features_in_

    def predict_proba(self, X) -> np.ndarray:
        """Return the wrapped estimator's class probabilities.

        Parameters
        ----------
        X : array-like

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict_from_proba(self, proba) -> np.ndarray:
        """Return the decisions for probabilities already computed (``braintumor predict``).

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        proba = np.asarray(proba, dtype=float)
        negative = self.classes_.tolist().index(self.negative_class)
        other = most_probable_other(proba, negative)
        choice = np.where(proba[:, negative] >= self.threshold_, negative, other)
        return self.classes_[choice]

    def predict(self, X) -> np.ndarray:
        """Return the negative class where it reaches ``threshold``, else the likeliest other.

        Parameters
        ----------
        X : array-like

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self.predict_from_proba(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.input_tags = inner.input_tags
        return tags
