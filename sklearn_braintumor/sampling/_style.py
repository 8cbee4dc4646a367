"""Style balancing: repeat the training images whose coarse look is atypical of their class."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils._param_validation import Interval

from ..model_selection._sources import _style_features, _style_model
from ._base import ImageSampler


class StyleBalancer(ImageSampler):
    """Repeat the training images whose coarse look is atypical of their class.

    When each class comes mostly from one collection (the 4-class set's
    ``notumor`` scans are one collection's axial slices, its tumour scans
    mostly another's contrast-enhanced slices), the look of a scan predicts
    its label and a network can learn the look instead of the lesion. This
    sampler measures how much the look alone tells: a logistic regression on
    a thumbnail too coarse to show most lesions (``grid`` x ``grid`` pixels,
    area-averaged) and its grey-level histogram, fitted with cross-fitting so
    that no image scores itself, gives each image the probability *p* of its
    own class from its look. An image is repeated ``round(prior / p)`` times
    (at least once, at most ``max_repeats``), where *prior* is its class's
    share of the data: the inverse propensity weights that make the look
    independent of the label. A tumour scan that looks like the healthy
    collection's, the case a network misreads on other collections, is
    repeated most; typical images are kept once.

    It acts on training data only (an imbalanced-learn sampler); in a
    ``CNNClassifier`` pass it as ``sampler=`` so that the validation split is
    left as it is. Copies are identical: the classifier's random augmentation
    makes them differ.

    Parameters
    ----------
    grid : int, default=8
        Side of the thumbnail the look is read from.
    max_repeats : int, default=10
        Most copies of one image (the weights are clipped, as inverse
        propensity weights must be, to keep a few images from dominating).
    C : float, default=0.1
        Inverse regularisation strength of the logistic regression.
    cv : int, default=5
        Folds of the cross-fitting (fewer when a class has fewer images).
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds.

    Attributes
    ----------
    propensity_ : ndarray of shape (n_samples,)
        Each input image's cross-fitted probability of its own class from its look.
    repeats_ : ndarray of int64 of shape (n_samples,)
        How many times each input image is returned.
    sample_indices_ : ndarray of int64
        For each returned sample, the index of the input image it comes from.

    See Also
    --------
    sklearn_braintumor.model_selection.source_audit : How well the same
        features tell collections apart.

    Notes
    -----
    Every class needs at least two images (cross-fitting), and ``y`` at least
    two classes. Images are returned in input order, each image's copies
    next to it. The look's probabilities are estimates: on data whose labels
    have nothing to do with the look, 10 to 15 % of 400 to 1,000 images still
    get a second copy from their noise; the copies that matter come from a
    real confound (on the 4-class set's Training split, tumour / no tumour at
    64 px, 3 % of the images get 5 or more copies).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.sampling import StyleBalancer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(0, 1, (40, 16, 16))
    >>> y = np.array(["notumor", "tumor"] * 20)
    >>> X[y == "notumor"] *= 0.5  # the healthy scans are darker: the look predicts the label
    >>> X[0] *= 2  # one healthy scan looks like a tumour scan: repeated most
    >>> balancer = StyleBalancer(random_state=0)
    >>> X_new, y_new = balancer.fit_resample(X, y)
    >>> int(balancer.repeats_[0]), int(balancer.repeats_[1:].max()), len(X_new)
    (10, 1, 49)
    """

    _parameter_constraints: ClassVar[dict] = {
        "grid": [Interval(Integral, 1, None, closed="left")],
        "max_repeats": [Interval(Integral, 1, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, grid: int = 8, max_repeats: int = 10, C: float = 0.1, cv: int = 5,
                 random_state=None):  # fmt: skip
        super().__init__()
        self.grid = grid
        self.max_repeats = max_repeats
        self.C = C
        self.cv = cv
        self.random_state = random_state

    def _resample(self, images, y):
        classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
        if len(classes) < 2:
            raise ValueError(
                f"StyleBalancer needs at least two classes, got only {classes.tolist()!r}"
            )
        if counts.min() < 2:
            rare = classes[counts < 2].tolist()
            raise ValueError(
                f"StyleBalancer needs at least two images of every class; {rare!r} has only one"
            )
        features = _style_features(images, self.grid)
        folds = StratifiedKFold(min(self.cv, int(counts.min())), shuffle=True,
                                random_state=self.random_state)  # fmt: skip
        proba = cross_val_predict(
            _style_model(self.C), features, codes, cv=folds, method="predict_proba"
        )
        self.propensity_ = np.clip(proba[np.arange(len(codes)), codes], 1e-6, 1.0)
        prior = counts[codes] / len(codes)
        self.repeats_ = np.clip(np.rint(prior / self.propensity_), 1, self.max_repeats).astype(
            np.int64
        )
        indices = np.repeat(np.arange(len(codes)), self.repeats_)
        if isinstance(images, np.ndarray):
            out = images[indices]
        else:
            out = [np.asarray(images[i]) for i in indices]
        return out, y[indices], indices
