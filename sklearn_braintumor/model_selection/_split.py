"""A train/test splitter that keeps every copy of an image on one side."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils._param_validation import Interval, validate_parameter_constraints

from ._duplicates import DUPLICATE_CONSTRAINTS, hash_groups, image_hashes


class LeakageFreeSplit:
    """Stratified train/test splits in which no image has a copy on the other side.

    Images within ``max_distance`` of each other (perceptual-hash Hamming
    distance; 0 finds exact copies only) are put in one group, groups are
    joined when they share an image, and the splits are the first folds of a
    shuffled ``StratifiedGroupKFold`` with ``round(1 / test_size)`` folds: the
    test side holds about ``test_size`` of the images and of each class, and
    no test image has an exact or near copy in training. A scikit-learn CV
    splitter: ``cross_val_score(pipeline, images, y, cv=LeakageFreeSplit(n_splits=3))``;
    the recipes' leakage-free protocol draws its split with it. As
    ``CNNClassifier(train_split=LeakageFreeSplit(test_size=0.1))`` it draws the
    validation split, from the network's input or, given ``groups`` in ``fit``,
    from copy groups computed before any crop or resize.

    Parameters
    ----------
    n_splits : int, default=1
        Number of (train, test) splits, at most ``round(1 / test_size)``.
    test_size : float, default=0.2
        Share of the images on the test side, in (0, 0.5].
    max_distance : int, default=4
        pHash distance up to which two images are copies.
    random_state : int or None, default=None
        Seeds the fold shuffling.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.model_selection import LeakageFreeSplit, audit_split
    >>> sample = load_sample("train")
    >>> X = np.concatenate([sample.images, sample.images[:50]])  # 50 exact copies
    >>> y = np.concatenate([sample.target, sample.target[:50]])
    >>> train, test = next(LeakageFreeSplit(random_state=0).split(X, y))
    >>> int(audit_split(X[train], X[test]).near_mask.sum())
    0
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_splits": [Interval(Integral, 1, None, closed="left")],
        "test_size": [Interval(Real, 0, 0.5, closed="right")],
        "max_distance": DUPLICATE_CONSTRAINTS["max_distance"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_splits: int = 1, *, test_size: float = 0.2, max_distance: int = 4,
                 random_state=None) -> None:  # fmt: skip
        self.n_splits = n_splits
        self.test_size = test_size
        self.max_distance = max_distance
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict:
        """Return the splitter's parameters, as an estimator's.

        A classifier holding the splitter (``CNNClassifier(train_split=...)``)
        then clones, searches and saves it (the safe model format) like a
        nested estimator.

        Parameters
        ----------
        deep : bool, default=True
            Ignored: the splitter holds no estimator.

        Returns
        -------
        params : dict
        """
        return {name: getattr(self, name) for name in self._parameter_constraints}

    def set_params(self, **params) -> LeakageFreeSplit:
        """Set parameters by name, as an estimator's ``set_params``.

        Parameters
        ----------
        **params : dict
            ``n_splits``, ``test_size``, ``max_distance`` or ``random_state``.

        Returns
        -------
        self : LeakageFreeSplit
        """
        for name, value in params.items():
            if name not in self._parameter_constraints:
                raise ValueError(
                    f"Invalid parameter {name!r} for LeakageFreeSplit; valid parameters are "
                    f"{sorted(self._parameter_constraints)}"
                )
            setattr(self, name, value)
        return self

    def _folds(self) -> int:
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(), "LeakageFreeSplit"
        )
        folds = max(2, round(1 / self.test_size))
        if self.n_splits > folds:
            from sklearn.utils._param_validation import InvalidParameterError

            raise InvalidParameterError(
                f"The 'n_splits' parameter of LeakageFreeSplit must be at most {folds} with "
                f"test_size={self.test_size}, got {self.n_splits}"
            )
        return folds

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays.

        Parameters
        ----------
        X : array-like of images or list
            The images (their perceptual hashes make the groups).
        y : array-like of shape (n_samples,) or None
            Labels to stratify on; None splits without stratification.
        groups : array-like of shape (n_samples,) or None
            Duplicate groups computed beforehand (``duplicate_groups``); None
            computes them from ``X``.

        Yields
        ------
        train, test : ndarray of int
        """
        folds = self._folds()
        if groups is None:
            groups = hash_groups(image_hashes(X, "phash"), "phash", self.max_distance)
        groups = np.asarray(groups)
        y = np.zeros(len(groups), dtype=int) if y is None else np.asarray(y)
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        for index, (train, test) in enumerate(cv.split(np.zeros((len(groups), 1)), y, groups)):
            if index == self.n_splits:
                return
            yield train, test

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Return ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored.

        Returns
        -------
        n_splits : int
        """
        self._folds()
        return self.n_splits

    def __repr__(self) -> str:
        params = ", ".join(f"{name}={value}" for name, value in self.get_params().items())
        return f"LeakageFreeSplit({params})"
