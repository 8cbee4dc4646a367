"""Data from several collections: a leave-one-source-out splitter and a confound audit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ..utils._images import PIXEL_PEAKS
from ..utils._validation import check_images

__all__ = ["LeaveOneSourceOut", "SourceAudit", "source_audit"]


class LeaveOneSourceOut(BaseCrossValidator):
    """Hold out one whole source (collection, site, scanner) per split.

    Each split tests on every image of one source and trains on the images
    of the others, so a score says how a model does on a collection it has
    never seen. ``groups`` passed to :meth:`split` are the sources, e.g.
    ``data.source`` of :func:`~sklearn_braintumor.datasets.load_image_sources`.
    Like scikit-learn's ``LeaveOneGroupOut``, with the held-out sources
    chosen by name and checked.

    Parameters
    ----------
    test_sources : sequence of str or None, default=None
        The sources to hold out, one per split, in this order; None holds out
        each source in sorted order. Sources not listed are always trained on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.model_selection import LeaveOneSourceOut
    >>> sources = np.array(["a", "a", "b", "c", "c"])
    >>> for train, test in LeaveOneSourceOut().split(np.zeros(5), groups=sources):
    ...     print(train, test)
    [2 3 4] [0 1]
    [0 1 3 4] [2]
    [0 1 2] [3 4]
    """

    def __init__(self, test_sources: Sequence[str] | None = None) -> None:
        self.test_sources = test_sources

    def _held_out(self, groups) -> tuple[np.ndarray, list]:
        if groups is None:
            raise ValueError("LeaveOneSourceOut needs groups: the source of each sample")
        groups = column_or_1d(np.asarray(groups, dtype=object))
        present = sorted(set(groups.tolist()), key=str)
        if len(present) < 2:
            raise ValueError(
                f"LeaveOneSourceOut needs samples from at least 2 sources, got {present}"
            )
        if self.test_sources is None:
            return groups, present
        if isinstance(self.test_sources, str):
            raise TypeError("test_sources must be a sequence of source names, not a string")
        wanted = list(self.test_sources)
        missing = [name for name in wanted if name not in present]
        if missing or not wanted:
            raise ValueError(
                f"test_sources {wanted} must be a non-empty list of present sources; "
                f"not present: {missing}; the sources are {present}"
            )
        return groups, wanted

    def _iter_test_masks(self, X=None, y=None, groups=None):
        groups, held_out = self._held_out(groups)
        for name in held_out:
            yield groups == name

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Return the number of splits: the number of held-out sources.

        Parameters
        ----------
        X, y : ignored
        groups : array-like of shape (n_samples,)
            The source of each sample.

        Returns
        -------
        n_splits : int
        """
        return len(self._held_out(groups)[1])

    def split(self, X, y=None, groups=None):
        """Yield train and test indices, one held-out source at a time.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : ignored
        groups : array-like of shape (n_samples,)
            The source of each sample.

        Yields
        ------
        train, test : ndarray of int
        """
        check_consistent_length(X, groups)
        return super().split(X, y, groups)


def _style_features(images, size: int = 32) -> np.ndarray:
    """Features a collection leaves in its images: a thumbnail and the intensity histogram.

    ``size`` x ``size`` area-averaged thumbnail and a 32-bin histogram of its
    values on [0, 1]: uint8 images are read on 0-255, uint16 on 0-65535,
    float images as given (a [0, 1] scale).
    """
    from ..preprocessing import Resize

    resized = np.asarray(Resize((size, size)).fit_transform(images))
    peak = PIXEL_PEAKS.get(resized.dtype.name, 1)
    thumbs = resized.astype(np.float32) / peak
    if thumbs.ndim == 4:
        thumbs = thumbs.mean(axis=-1)
    hist = np.stack([np.histogram(t, bins=32, range=(0, 1))[0] for t in thumbs]) / size**2
    return np.hstack([thumbs.reshape(len(thumbs), -1), hist])


@dataclass
class SourceAudit:
    """How well a small classifier tells the source of an image, within each class.

    Attributes
    ----------
    rows : list of dict
        One per label shared by at least two sources: ``label``, ``counts``
        (images per source), ``balanced_accuracy`` of predicting the source
        (cross-validated), ``chance`` (1 / number of sources).
    overall : dict
        The same, ignoring labels: how recognisable each source is at all.
    cv : int
        Folds of the cross-validation (grouped by duplicate images).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.model_selection import source_audit
    >>> X, y = make_synthetic_mri(60, image_size=32, random_state=0)
    >>> sources = np.where(np.arange(60) % 2, "scanner A", "scanner B")
    >>> audit = source_audit(X, sources, np.where(y == 2, "notumor", "tumor"))
    >>> 0.0 <= audit.overall["balanced_accuracy"] <= 1.0
    True
    """

    rows: list = field(default_factory=list)
    overall: dict = field(default_factory=dict)
    cv: int = 5

    @property
    def max_within_class(self) -> float | None:
        """The highest within-class balanced accuracy (None without shared labels)."""
        values = [row["balanced_accuracy"] for row in self.rows]
        return max(values) if values else None

    def to_dict(self) -> dict:
        """Return the audit as plain data (for results.json)."""
        return {"rows": self.rows, "overall": self.overall, "cv": self.cv}

    def to_markdown(self) -> str:
        """Return the audit as a markdown table (balanced accuracies in percent)."""
        lines = [
            "| label | images per source | source told apart (balanced acc.) | chance |",
            "| --- | --- | --- | --- |",
        ]
        for row in [*self.rows, self.overall]:
            counts = ", ".join(f"{k} {v}" for k, v in row["counts"].items())
            lines.append(
                f"| {row['label']} | {counts} | {100 * row['balanced_accuracy']:.1f} "
                f"| {100 * row['chance']:.1f} |"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


def _style_model(C: float = 0.1):
    """Return the small classifier that reads :func:`_style_features` (logistic regression)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def _cv_balanced_accuracy(features, sources, groups, cv: int, random_state) -> float:
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    n_splits = min(cv, int(np.min(np.unique(sources, return_counts=True)[1])))
    if n_splits < 2:
        raise ValueError("each source needs at least 2 images of the audited label")
    model = _style_model()
    folds = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
    predicted = cross_val_predict(model, features, sources, groups=groups, cv=folds)
    return float(balanced_accuracy_score(sources, predicted))


def source_audit(
    X, sources, y=None, *, cv: int = 5, min_per_source: int = 10, random_state: int = 0
) -> SourceAudit:
    """Measure how well the collection an image came from can be told from its pixels.

    For each label that at least two sources share (say ``notumor`` of the
    4-class set and ``no`` of a yes/no set, both mapped to ``notumor``), a
    logistic regression on a 32x32 thumbnail and the intensity histogram is
    cross-validated at predicting the source. Far above chance means the
    collections differ in style, and a model trained on data whose classes
    come from different collections can score by recognising the collection
    instead of the tumour. Folds are grouped by duplicate images (pHash), so
    a copy in two sources does not help or hurt.

    Parameters
    ----------
    X : array-like of images or list
        Images of any sizes.
    sources : array-like of shape (n_samples,)
        Source of each image.
    y : array-like of shape (n_samples,), default=None
        Labels; None audits all images as one label.
    cv : int, default=5
        Folds (fewer when a source has fewer images).
    min_per_source : int, default=10
        Sources with fewer images of a label are left out of that label's row.
    random_state : int, default=0

    Returns
    -------
    audit : SourceAudit

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.model_selection import source_audit
    >>> X, _ = make_synthetic_mri(80, n_classes=2, image_size=32, random_state=0)
    >>> X[40:] = (X[40:] * 0.6).astype(np.uint8)  # a darker collection
    >>> sources = np.repeat(["bright", "dark"], 40)
    >>> source_audit(X, sources).overall["balanced_accuracy"] > 0.9
    True
    """
    from ._duplicates import group_ids

    images = check_images(X)
    sources = column_or_1d(np.asarray(sources, dtype=object)).astype(str)
    labels = np.zeros(len(sources), dtype=object) if y is None else column_or_1d(np.asarray(y))
    check_consistent_length(images, sources, labels)
    if len(np.unique(sources)) < 2:
        raise ValueError(f"source_audit needs at least 2 sources, got {np.unique(sources)}")
    features = _style_features(images)
    groups = group_ids(images, "phash", 4)

    def row(label, mask) -> dict | None:
        names, counts = np.unique(sources[mask], return_counts=True)
        keep = names[counts >= min_per_source]
        if len(keep) < 2:
            return None
        mask = mask & np.isin(sources, keep)
        score = _cv_balanced_accuracy(features[mask], sources[mask], groups[mask], cv,
                                      random_state)  # fmt: skip
        return {
            "label": str(label),
            "counts": {str(n): int(c) for n, c in zip(names, counts, strict=True) if n in keep},
            "balanced_accuracy": score,
            "chance": 1 / len(keep),
        }

    rows = []
    if y is not None:
        for label in sorted(set(labels.tolist()), key=str):
            found = row(label, labels == label)
            if found is not None:
                rows.append(found)
    overall = row("(all labels)", np.ones(len(sources), dtype=bool))
    return SourceAudit(rows=rows, overall=overall, cv=cv)
