"""Two models, two questions: is there a tumour (a screen), and which type (a typer)."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._ood import GuardDelegationMixin
from ._tumor_first import decide, most_probable_other


def _fit_stage(estimator, X, y, fit_params: dict):
    """Fit one stage (a module-level function: joblib's workers import it)."""
    return estimator.fit(X, y, **fit_params)


class TwoStageClassifier(GuardDelegationMixin, ClassifierMixin, BaseEstimator):
    """Let a two-class screen decide "no tumour", and a multi-class model name the tumour.

    A network trained on tumour / no tumour alone can separate the two better
    than a network that must also tell the tumour types apart (with global max
    pooling it only asks whether something tumour-like lies anywhere in the
    slice), while only a multi-class network names the type. This
    meta-estimator keeps each for its own question: an image is predicted
    ``negative_class`` exactly when ``screen`` predicts it (with the screen's
    own decision rule, e.g. a :class:`TumorFirstClassifier` threshold), and
    otherwise the class other than ``negative_class`` that ``estimator``
    finds most probable.

    ``predict_proba`` follows the same split: the probability of
    ``negative_class`` is the screen's, and the rest is shared among the
    other classes in the proportions ``estimator`` gives them.
    ``shift_score``, ``score_samples`` and the ``predict_ood`` check are those
    of ``estimator`` (its network's training collections).

    Parameters
    ----------
    screen : classifier with ``predict_proba``
        Fitted, as a clone, on the labels grouped into ``negative_class`` and
        ``positive_label``. Pass a fitted model wrapped in
        :class:`sklearn.frozen.FrozenEstimator` to combine models already
        trained (``fit`` then trains nothing).
    estimator : classifier with ``predict_proba``
        Fitted, as a clone, on the labels as given; ``FrozenEstimator`` works
        here as well.
    negative_class : label, default="notumor"
        The "no tumour" class, one of the labels and of the screen's classes.
    positive_label : label, default="tumor"
        The screen's other class (every label but ``negative_class`` becomes
        it when the screen is fitted).
    n_jobs : int or None, default=None
        Stages fitted at the same time (joblib): ``None`` fits them one after
        the other, ``2`` both at once, each in a worker process of its own.
        joblib's default, process-based backend gives each worker
        ``cpu_count // n_jobs`` torch threads, so two networks on a 2-core
        CPU train side by side on one thread each instead of sharing two
        threads in turn.

    Attributes
    ----------
    screen_ : fitted clone of ``screen``
    estimator_ : fitted clone of ``estimator``
    classes_ : ndarray
        ``estimator_.classes_``.
    threshold_ : float
        ``screen_.threshold_``, where the screen has one (a
        :class:`TumorFirstClassifier`): "no tumour" needs at least that
        probability.

    See Also
    --------
    TumorFirstClassifier : The tumour-first decision of one model.

    Notes
    -----
    ``predict`` is not always the most probable class of ``predict_proba``:
    the screen's threshold decides "no tumour", and "no tumour" may hold the
    largest single share of the probability while the screen still calls
    the image a tumour. The model cannot be exported to ONNX or TorchScript
    as one network, nor fine-tuned as one: export or fine-tune each stage
    (``screen_``, ``estimator_``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_braintumor.classifiers import TwoStageClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["glioma", "meningioma", "notumor"], 20)
    >>> X = rng.normal(size=(60, 2)) + np.repeat([[3, 0], [3, 3], [0, 0]], 20, axis=0)
    >>> clf = TwoStageClassifier(LogisticRegression(), LogisticRegression()).fit(X, y)
    >>> clf.screen_.classes_.tolist(), clf.classes_.tolist()
    (['notumor', 'tumor'], ['glioma', 'meningioma', 'notumor'])
    >>> clf.predict([[0, 0], [3, 3]]).tolist()
    ['notumor', 'meningioma']
    """

    _parameter_constraints: ClassVar[dict] = {
        "screen": [HasMethods(["fit", "predict_proba"])],
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "negative_class": "no_validation",
        "positive_label": "no_validation",
        "n_jobs": [Integral, None],
    }

    def __init__(self, screen, estimator, *, negative_class="notumor", positive_label="tumor",
                 n_jobs=None):  # fmt: skip
        self.screen = screen
        self.estimator = estimator
        self.negative_class = negative_class
        self.positive_label = positive_label
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)  # the stages are checked
    def fit(self, X, y, **fit_params):
        """Fit a clone of ``screen`` on the grouped labels and one of ``estimator`` on ``y``.

        Parameters
        ----------
        X : array-like or list of images
        y : array-like of shape (n_samples,)
        **fit_params : dict
            Passed to both stages' ``fit``.

        Returns
        -------
        self : TwoStageClassifier
        """
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        labels = np.unique(y).tolist()
        if len(labels) < 2:
            raise ValueError(
                f"TwoStageClassifier needs at least two classes; y has one class: {labels}"
            )
        if self.negative_class not in labels:
            raise ValueError(
                f"negative_class {self.negative_class!r} is not one of the labels {labels}"
            )
        if self.positive_label == self.negative_class:
            raise ValueError("positive_label must differ from negative_class")
        grouped = np.array(
            [self.negative_class if label == self.negative_class else self.positive_label
             for label in y.tolist()]
        )  # fmt: skip
        self.screen_, self.estimator_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_stage)(clone(stage), X, labels, fit_params)
            for stage, labels in ((self.screen, grouped), (self.estimator, y))
        )
        self.classes_ = np.asarray(self.estimator_.classes_)
        for name, classes in (("screen", self.screen_.classes_), ("estimator", self.classes_)):
            if self.negative_class not in np.asarray(classes).tolist():
                raise ValueError(
                    f"the fitted {name}'s classes {np.asarray(classes).tolist()} do not include "
                    f"negative_class {self.negative_class!r}"
                )
        if len(self.screen_.classes_) != 2:
            got = np.asarray(self.screen_.classes_).tolist()
            raise ValueError(f"the screen must have two classes, got {got}")
        return self

    @property
    def n_features_in_(self) -> int:
        """Number of features seen in ``fit`` (``estimator_``'s)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.n_features_in_

    @property
    def threshold_(self) -> float:
        """The screen's threshold on p(``negative_class``), where its decision rule has one."""
        check_is_fitted(self, "estimator_")
        return self.screen_.threshold_

    def _negative(self, classes) -> int:
        return np.asarray(classes).tolist().index(self.negative_class)

    def _combine(self, p_screen: np.ndarray, p_types: np.ndarray) -> np.ndarray:
        """Return the screen's p(negative), the rest shared as ``estimator_`` shares it."""
        negative = self._negative(self.classes_)
        p_negative = p_screen[:, self._negative(self.screen_.classes_)]
        others = np.delete(np.arange(p_types.shape[1]), negative)
        mass = p_types[:, others].sum(axis=1, keepdims=True)
        share = np.divide(p_types[:, others], mass, out=np.full_like(p_types[:, others],
                          1.0 / max(len(others), 1)), where=mass > 0)  # fmt: skip
        proba = np.empty_like(p_types, dtype=np.float64)
        proba[:, negative] = p_negative
        proba[:, others] = share * (1.0 - p_negative)[:, None]
        return proba

    def predict_proba(self, X) -> np.ndarray:
        """Return the screen's p(negative) and the other classes' share of the rest.

        Parameters
        ----------
        X : array-like or list of images

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        p_screen = np.asarray(self.screen_.predict_proba(X), dtype=np.float64)
        p_types = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        return self._combine(p_screen, p_types)

    def _proba_and_scores(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``predict_proba`` and ``estimator_``'s guard scores, its network run once."""
        from ._ood import proba_and_scores

        check_is_fitted(self, "estimator_")
        p_types, scores = proba_and_scores(self.estimator_, X)
        p_screen = np.asarray(self.screen_.predict_proba(X), dtype=np.float64)
        return self._combine(p_screen, np.asarray(p_types, dtype=np.float64)), scores

    def predict_from_proba(self, proba) -> np.ndarray:
        """Return the decisions for probabilities from :meth:`predict_proba`.

        ``negative_class`` where the screen's decision rule, given its
        probability of ``negative_class``, predicts it; else the most probable
        other class.

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        proba = np.asarray(proba, dtype=np.float64)
        negative = self._negative(self.classes_)
        p_screen = np.empty((len(proba), 2))
        screen_negative = self._negative(self.screen_.classes_)
        p_screen[:, screen_negative] = proba[:, negative]
        p_screen[:, 1 - screen_negative] = 1.0 - proba[:, negative]
        healthy = decide(self.screen_, p_screen) == self.screen_.classes_[screen_negative]
        other = self.classes_[most_probable_other(proba, negative)]
        return np.where(healthy, self.classes_[negative], other)

    def predict(self, X) -> np.ndarray:
        """Return ``negative_class`` where the screen predicts it, else the most probable type.

        Parameters
        ----------
        X : array-like or list of images

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self.predict_from_proba(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = self.estimator.__sklearn_tags__().input_tags
        return tags
