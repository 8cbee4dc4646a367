"""Removing duplicate images from the training data."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..model_selection._duplicates import DUPLICATE_CONSTRAINTS, group_ids
from ._base import ImageSampler


class DuplicateRemover(ImageSampler):
    """Drop exact or near-duplicate training images, keeping the first of each group.

    Duplicates weight some images twice and, when the test set is built the
    same way, inflate scores; GBMnet's authors removed them by MD5 of pixel
    values (``method="exact"``). ``method="phash"`` also removes re-encoded or
    slightly altered copies. Inside an imbalanced-learn pipeline it touches
    training data only. Groups are those of
    :func:`~sklearn_braintumor.model_selection.duplicate_groups`.

    Parameters
    ----------
    method : {"exact", "phash"}, default="exact"
        Identical pixels, or perceptual hashes within ``max_distance`` bits.
    max_distance : int, default=4
        For ``method="phash"``.

    Attributes
    ----------
    sample_indices_ : ndarray of int64
        Indices of the kept images.
    n_removed_ : int
        Number of images dropped.
    n_label_conflicts_ : int
        Duplicate groups whose images carry different labels (the first
        image's label is kept; such groups often mean a labelling error).

    Notes
    -----
    With ``method="exact"`` a 2D array ``(n_samples, n_features)`` is
    accepted (rows are compared); ``"phash"`` needs images.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.sampling import DuplicateRemover
    >>> X, y = make_synthetic_mri(10, image_size=16, random_state=0)
    >>> X2, y2 = np.concatenate([X, X[:3]]), np.concatenate([y, y[:3]])
    >>> remover = DuplicateRemover()
    >>> X_kept, y_kept = remover.fit_resample(X2, y2)
    >>> len(X_kept), remover.n_removed_
    (10, 3)
    """

    _allow_2d = True

    _parameter_constraints: ClassVar[dict] = dict(DUPLICATE_CONSTRAINTS)

    def __init__(self, method: str = "exact", max_distance: int = 4):
        super().__init__()
        self.method = method
        self.max_distance = max_distance

    def _resample(self, images, y):
        if self.method == "phash" and isinstance(images, np.ndarray) and images.ndim == 2:
            raise ValueError(
                "DuplicateRemover(method='phash') needs images, got a 2D array of rows; "
                "use method='exact' or place it before ImageFlattener"
            )
        groups = group_ids(images, self.method, self.max_distance)
        _, keep = np.unique(groups, return_index=True)
        keep = np.sort(keep)
        self.n_removed_ = len(groups) - len(keep)
        labels_per_group = {}
        for group, label in zip(groups, y, strict=True):
            labels_per_group.setdefault(group, set()).add(label)
        self.n_label_conflicts_ = sum(len(labels) > 1 for labels in labels_per_group.values())
        out = images[keep] if isinstance(images, np.ndarray) else [images[i] for i in keep]
        return out, y[keep], keep
