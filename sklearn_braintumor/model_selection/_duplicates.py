"""Finding exact and near-duplicate images, within a set and across a split."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..utils._hashing import hamming_distances, phash, pixel_hash
from ..utils._images import as_uint8
from ..utils._validation import check_images

_BLOCK = 1024


DUPLICATE_CONSTRAINTS = {
    "method": [StrOptions({"exact", "phash"})],
    "max_distance": [Interval(numbers.Integral, 0, 64, closed="both")],
}
"""How duplicates are found: shared by the functions here and ``DuplicateRemover``."""


def image_hashes(images, method: str) -> np.ndarray:
    """Hash each image: pixel MD5 strings for ``"exact"``, 64-bit pHash for ``"phash"``."""
    if method == "exact":
        return np.asarray([pixel_hash(image) for image in images])
    return phash([as_uint8(image) for image in images])


def near_pairs(
    hashes_a: np.ndarray, hashes_b: np.ndarray | None, max_distance: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs within ``max_distance`` bits, computed block by block.

    With ``hashes_b=None`` the pairs are within ``hashes_a`` (``i < j``).

    Returns
    -------
    i, j, distance : ndarray of int64
    """
    other = hashes_a if hashes_b is None else hashes_b
    rows, cols, dists = [], [], []
    for start in range(0, len(hashes_a), _BLOCK):
        block = hamming_distances(hashes_a[start : start + _BLOCK], other)
        i, j = np.nonzero(block <= max_distance)
        i += start
        if hashes_b is None:
            keep = j > i
            i, j = i[keep], j[keep]
        rows.append(i)
        cols.append(j)
        dists.append(block[i - start, j])
    return tuple(np.concatenate(parts).astype(np.int64) for parts in (rows, cols, dists))


@validate_params(DUPLICATE_CONSTRAINTS, prefer_skip_nested_validation=True)
def duplicate_groups(images, *, method: str = "phash", max_distance: int = 4) -> np.ndarray:
    """Give each image a group id shared with its exact or near duplicates.

    Pass the result as ``groups`` to :class:`~sklearn.model_selection.GroupKFold`
    or :class:`~sklearn.model_selection.StratifiedGroupKFold` so that copies of
    one image never sit on both sides of a split.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width[, channels]) or list
        The images (uint8 as loaded; other dtypes are rescaled per image to
        8 bits for hashing).
    method : {"phash", "exact"}, default="phash"
        ``"exact"``: identical pixel values (shape and dtype included).
        ``"phash"``: DCT perceptual hashes at most ``max_distance`` bits apart,
        which also catches re-encoded, slightly rescaled or brightened copies.
    max_distance : int, default=4
        Largest Hamming distance between the 64-bit hashes of near duplicates.

    Returns
    -------
    groups : ndarray of int64, shape (n_samples,)
        Group ids ``0 .. n_groups - 1``, numbered in order of first
        appearance. Groups are connected components: if A is near B and B
        near C, all three share a group.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.model_selection import duplicate_groups
    >>> X, _ = make_synthetic_mri(3, image_size=32, random_state=0)
    >>> duplicate_groups(np.concatenate([X, X[:1]])).tolist()
    [0, 1, 2, 0]
    """
    return group_ids(check_images(images), method, max_distance)


def group_ids(images, method: str, max_distance: int) -> np.ndarray:
    """:func:`duplicate_groups` on images that are already validated."""
    return hash_groups(image_hashes(images, method), method, max_distance)


def hash_groups(hashes: np.ndarray, method: str, max_distance: int) -> np.ndarray:
    """:func:`duplicate_groups` from hashes computed by :func:`image_hashes`."""
    if method == "exact":
        return _by_first_appearance(np.unique(hashes, return_inverse=True)[1].ravel())
    i, j, _ = near_pairs(hashes, None, max_distance)
    return pair_groups(len(hashes), i, j)


def pair_groups(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Group ids of ``n`` items linked by the pairs ``(i, j)``, numbered by first appearance."""
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    return _by_first_appearance(connected_components(graph, directed=False)[1])


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    """Renumber labels ``0 .. k - 1`` (all present) in the order they first appear."""
    _, first = np.unique(labels, return_index=True)
    renumber = np.empty(len(first), dtype=np.int64)
    renumber[np.argsort(first)] = np.arange(len(first))
    return renumber[labels]


@dataclass
class SplitAudit:
    """Exact and near duplicates of test images in the training set.

    Attributes
    ----------
    n_train, n_test : int
        Sizes of the two sides.
    exact_mask : ndarray of bool, shape (n_test,)
        Test images whose pixels equal those of a training image.
    near_mask : ndarray of bool, shape (n_test,)
        Test images with a training image within ``max_distance`` pHash bits
        (exact copies included).
    pairs : ndarray of int64, shape (n_pairs, 3)
        ``(test_index, train_index, distance)`` for every near pair.
    max_distance : int
        The pHash threshold used.
    target_names : list of str
        Class names, when labels were given.
    per_class : dict
        ``{class: (n_test, n_exact, n_near)}`` when ``y_test`` was given.
    n_label_conflicts : int or None
        Near pairs whose two images carry different labels, when both label
        arrays were given.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.model_selection import audit_split
    >>> train, test = load_sample("train"), load_sample("test")
    >>> audit = audit_split(train.images, test.images[:10])
    >>> audit.near_mask.shape
    (10,)
    """

    n_train: int
    n_test: int
    exact_mask: np.ndarray
    near_mask: np.ndarray
    pairs: np.ndarray
    max_distance: int
    target_names: list = field(default_factory=list)
    per_class: dict = field(default_factory=dict)
    n_label_conflicts: int | None = None

    @property
    def n_exact(self) -> int:
        """Number of test images with an exact copy in the training set."""
        return int(self.exact_mask.sum())

    @property
    def n_near(self) -> int:
        """Number of test images with an exact or near copy in the training set."""
        return int(self.near_mask.sum())

    def to_markdown(self) -> str:
        """Return the audit as a markdown table."""
        lines = [
            f"| class | test images | exact copy in train | near copy in train "
            f"(pHash <= {self.max_distance}) | clean |",
            "| --- | --- | --- | --- | --- |",
        ]
        rows = [*list(self.per_class.items()), ("all", (self.n_test, self.n_exact, self.n_near))]
        for name, (n, exact, near) in rows:
            lines.append(f"| {name} | {n} | {exact} | {near} | {n - near} |")
        if self.n_label_conflicts is not None:
            lines.append("")
            lines.append(f"Near pairs with different labels: {self.n_label_conflicts}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


@validate_params(
    {"max_distance": DUPLICATE_CONSTRAINTS["max_distance"]}, prefer_skip_nested_validation=True
)
def audit_split(
    X_train,
    X_test,
    *,
    y_train=None,
    y_test=None,
    target_names=None,
    max_distance: int = 4,
) -> SplitAudit:
    """Count the test images that have an exact or near duplicate in the training set.

    Parameters
    ----------
    X_train, X_test : array-like of images or list
        The two sides of the split (uint8 as loaded).
    y_train, y_test : array-like of shape (n_samples,), default=None
        Labels, for per-class counts and label conflicts.
    target_names : sequence of str, default=None
        Names of the classes when the labels are integers.
    max_distance : int, default=4
        pHash Hamming distance up to which two images are near duplicates.

    Returns
    -------
    audit : SplitAudit
        Counts, masks and pairs; ``print(audit)`` shows a markdown table.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.model_selection import audit_split
    >>> train, test = load_sample("train"), load_sample("test")
    >>> audit = audit_split(train.images, test.images)
    >>> int(audit.near_mask.sum())  # the sample was built without leaks
    0
    """
    train = check_images(X_train)
    test = check_images(X_test)
    exact_train = set(image_hashes(train, "exact").tolist())
    exact_mask = np.array([h in exact_train for h in image_hashes(test, "exact")], dtype=bool)
    i, j, d = near_pairs(image_hashes(test, "phash"), image_hashes(train, "phash"), max_distance)
    near_mask = np.zeros(len(test), dtype=bool)
    near_mask[i] = True  # pixel-identical images have identical hashes: exact is a subset
    audit = SplitAudit(
        n_train=len(train),
        n_test=len(test),
        exact_mask=exact_mask,
        near_mask=near_mask,
        pairs=np.stack([i, j, d], axis=1),
        max_distance=int(max_distance),
    )
    if y_test is not None:
        y_test = np.asarray(y_test)
        classes = np.unique(y_test) if target_names is None else np.arange(len(target_names))
        names = [str(c) for c in classes] if target_names is None else list(target_names)
        audit.target_names = names
        audit.per_class = {
            name: (
                int((y_test == c).sum()),
                int(exact_mask[y_test == c].sum()),
                int(near_mask[y_test == c].sum()),
            )
            for name, c in zip(names, classes, strict=True)
        }
        if y_train is not None:
            audit.n_label_conflicts = int((np.asarray(y_train)[j] != y_test[i]).sum())
    return audit


@validate_params(
    {"max_distance": DUPLICATE_CONSTRAINTS["max_distance"]}, prefer_skip_nested_validation=True
)
def clean_test_mask(X_train, X_test, *, max_distance: int = 4) -> np.ndarray:
    """Mask of the test images that have no exact or near duplicate in the training set.

    ``X_test[clean_test_mask(X_train, X_test)]`` is the "clean" test set: an
    official test split minus every image that leaked from training.

    Parameters
    ----------
    X_train, X_test : array-like of images or list
        The two sides of the split.
    max_distance : int, default=4
        pHash Hamming distance up to which two images are near duplicates.

    Returns
    -------
    mask : ndarray of bool, shape (n_test,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.model_selection import clean_test_mask
    >>> train, test = load_sample("train"), load_sample("test")
    >>> leaky_test = np.concatenate([test.images[:3], train.images[:2]])  # two copies
    >>> clean_test_mask(train.images, leaky_test).tolist()
    [True, True, True, False, False]
    """
    return ~audit_split(X_train, X_test, max_distance=max_distance).near_mask
