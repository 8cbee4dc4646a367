"""How a recipe divides its data: one object per protocol, each drawing its own arms.

A recipe's ``split`` is one of these objects. :meth:`Split.arms` returns the
paper's protocol and its leakage-free counterpart as :class:`Arm` objects
(train / test indices); a cross-validated protocol returns one arm per fold.
A sixth kind of protocol is a new subclass, not a new branch in the runner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from ..model_selection._duplicates import (
    audit_split,
    group_ids,
    hash_groups,
    image_hashes,
    near_pairs,
)
from ..model_selection._split import LeakageFreeSplit
from ._data import ExperimentData, take

ARMS = ("paper", "leakage_free")
ARM_TITLES = {"paper": "paper's protocol", "leakage_free": "leakage-free protocol"}


def arm_title(name: str, fold: int | None = None) -> str:
    """Return a protocol's name in reports, with the fold where there is one."""
    return ARM_TITLES[name] if fold is None else f"{ARM_TITLES[name]}, fold {fold}"


@dataclass
class Arm:
    """Training and test indices of one protocol (one fold of it), and how they were drawn.

    Attributes
    ----------
    name : {"paper", "leakage_free"}
    train, test : ndarray of int
        Indices into the experiment data.
    description : str
        How the split was drawn, for the report.
    retrain : bool
        False: the arm evaluates the previous arm's model on its own test
        images (the clean subset of an official test set).
    fold : int or None
        The fold number (from 1) of a cross-validated protocol.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.experiments import Arm
    >>> arm = Arm("paper", np.arange(8), np.arange(8, 10), "first eight / last two", fold=2)
    >>> arm.title
    "paper's protocol, fold 2"
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    description: str
    retrain: bool = True
    fold: int | None = None

    @property
    def title(self) -> str:
        """The protocol's name in reports, with the fold where there is one."""
        return arm_title(self.name, self.fold)


class Split:
    """Base class of a recipe's split strategy.

    Subclasses implement :meth:`arms`; ``cv`` (folds of a stratified
    cross-validation of each model on the paper arm's training part, or None)
    is read by the runner.

    Examples
    --------
    >>> from sklearn_braintumor.experiments import OfficialSplit, Split
    >>> isinstance(OfficialSplit(), Split)
    True
    """

    cv: int | None = None

    def arms(self, data: ExperimentData, images) -> tuple[list[Arm], list[str]]:
        """Return the arms (paper's protocol first) and notes for the report.

        Parameters
        ----------
        data : ExperimentData
        images : ndarray or list
            ``data.images``, already validated.

        Returns
        -------
        arms : list of Arm
        notes : list of str
        """
        raise NotImplementedError


@dataclass(frozen=True)
class OfficialSplit(Split):
    """The dataset's own Training / Testing folders; leakage-free = the clean test set.

    The leakage-free side evaluates the same model on the Testing images with
    no exact or near copy (pHash distance <= 4) in Training.

    Examples
    --------
    >>> from sklearn_braintumor.experiments import OfficialSplit, load_experiment_data
    >>> data = load_experiment_data()  # the embedded sample
    >>> arms, notes = OfficialSplit().arms(data, data.images)
    >>> [(arm.name, len(arm.test)) for arm in arms][0]
    ('paper', 200)
    """

    def arms(self, data: ExperimentData, images) -> tuple[list[Arm], list[str]]:
        """Return the official split and the clean test set (see :meth:`Split.arms`)."""
        if data.subset is None:
            raise ValueError(
                "this recipe uses the official Training/Testing split; give a folder with "
                "Training and Testing sub-folders (the 4-class set)"
            )
        train = np.flatnonzero(data.subset == "train")
        test = np.flatnonzero(data.subset == "test")
        audit = audit_split(take(images, train), take(images, test))
        clean = test[~audit.near_mask]
        arms = [
            Arm("paper", train, test, "official Training / Testing folders"),
            Arm(
                "leakage_free", train, clean,
                f"same model, evaluated on the clean test set: the {len(clean)} Testing images "
                f"with no exact or near duplicate (pHash distance <= 4) in Training "
                f"({audit.n_exact} exact and {audit.n_near} near copies left out)",
                retrain=False,
            ),
        ]  # fmt: skip
        return arms, []


@dataclass(frozen=True)
class RandomSplit(Split):
    """All images pooled and split once, stratified; leakage-free = duplicate-grouped split.

    Parameters
    ----------
    test_size : float, default=0.25
        Share of the pool in the test set.
    random_state : int, default=0
        Seed of the paper-protocol split (fixed across ``--seeds``).
    dedupe : bool, default=False
        Drop images whose pixels equal an earlier image's (MD5 de-duplication
        as in paper D) before splitting.
    cv : int or None, default=None
        Also cross-validate each model with this many stratified folds on the
        training part (reported as its own column).

    Examples
    --------
    >>> from sklearn_braintumor.experiments import RandomSplit, load_experiment_data
    >>> data = load_experiment_data()
    >>> arms, notes = RandomSplit(test_size=0.2).arms(data, data.images)
    >>> [arm.name for arm in arms], len(arms[0].test)
    (['paper', 'leakage_free'], 160)
    """

    test_size: float = 0.25
    random_state: int = 0
    dedupe: bool = False
    cv: int | None = None

    def _pool(self, data: ExperimentData, images) -> tuple[np.ndarray, list[str]]:
        """Return the indices a split draws from, after optional de-duplication."""
        index = np.arange(len(data.target))
        if not self.dedupe:
            return index, []
        groups = group_ids(images, "exact", 0)
        first = np.zeros(len(groups), dtype=bool)
        first[np.unique(groups, return_index=True)[1]] = True
        notes = [f"exact pixel duplicates removed: {int((~first).sum())} of {len(groups)} images"]
        if data.subset is not None:
            # count as the paper does: within each folder, then test images also in training
            within = {}
            for part in ("train", "test"):
                mask = data.subset == part
                within[part] = int(mask.sum() - len(np.unique(groups[mask])))
            train_groups = set(groups[data.subset == "train"].tolist())
            test_unique = np.unique(groups[data.subset == "test"])
            across = int(sum(g in train_groups for g in test_unique.tolist()))
            notes.append(
                f"of which within Training {within['train']}, within Testing {within['test']}, "
                f"Testing images also in Training {across}"
            )
        return index[first], notes

    def arms(self, data: ExperimentData, images) -> tuple[list[Arm], list[str]]:
        """Return the random split and the duplicate-grouped one (see :meth:`Split.arms`)."""
        pool, notes = self._pool(data, images)
        y = data.target[pool]
        train, test = train_test_split(  # positions in the pool
            np.arange(len(pool)), test_size=self.test_size, stratify=y,
            random_state=self.random_state,
        )  # fmt: skip
        # one pHash per image serves both the paper split's audit and the duplicate groups
        hashes = image_hashes(take(images, pool), "phash")
        n_near = len(np.unique(near_pairs(hashes[test], hashes[train], 4)[0]))
        groups = hash_groups(hashes, "phash", 4)
        splitter = LeakageFreeSplit(test_size=self.test_size, random_state=self.random_state)
        g_train, g_test = next(splitter.split(take(images, pool), y, groups))
        n_splits = max(2, round(1 / self.test_size))
        arms = [
            Arm(
                "paper", np.sort(pool[train]), np.sort(pool[test]),
                f"all images pooled, stratified random split, {1 - self.test_size:.0%} / "
                f"{self.test_size:.0%}, seed {self.random_state}; {n_near} of its "
                f"{len(test)} test images have an exact or near duplicate in its training part",
            ),
            Arm(
                "leakage_free", pool[g_train], pool[g_test],
                f"duplicate-grouped split: images within pHash distance 4 of each other share "
                f"a group ({len(np.unique(groups))} groups for {len(pool)} images), "
                f"LeakageFreeSplit: StratifiedGroupKFold(n_splits={n_splits}) first fold, so no "
                "copy of a test image is in training",
            ),
        ]  # fmt: skip
        return arms, notes


def _joined(*labelings: np.ndarray) -> np.ndarray:
    """Return groups joining images that share a label in any of ``labelings``."""
    n = len(labelings[0])
    rows, cols = [], []
    for labels in labelings:
        _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        rows.append(np.arange(n))
        cols.append(first[inverse.ravel()])
    graph = coo_matrix(
        (np.ones(n * len(labelings)), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    return connected_components(graph, directed=False)[1]


@dataclass(frozen=True)
class GroupKFoldSplit(Split):
    """K-fold cross-validation with each group (patient) in one fold only.

    The paper arm uses the data's published folds (``ExperimentData.folds``,
    such as the figshare set's ``cvind.mat``) when it has them and
    ``use_published_folds`` is true, else a shuffled ``StratifiedGroupKFold``
    over ``ExperimentData.groups``. The leakage-free arm also keeps exact and
    near copies (pHash distance <= 4) together: its groups join images that
    share a patient or a copy. Every model is trained once per fold and the
    report averages over folds (and seeds).

    Parameters
    ----------
    n_splits : int, default=5
    random_state : int, default=0
        Seed of the fold assignment where it is drawn here.
    use_published_folds : bool, default=True

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.experiments import GroupKFoldSplit, load_experiment_data
    >>> data = load_experiment_data()
    >>> data.groups = np.arange(len(data.target)) // 4  # four slices per "patient"
    >>> arms, notes = GroupKFoldSplit(n_splits=5).arms(data, data.images)
    >>> len(arms), sorted({arm.fold for arm in arms})
    (10, [1, 2, 3, 4, 5])
    """

    n_splits: int = 5
    random_state: int = 0
    use_published_folds: bool = True

    def arms(self, data: ExperimentData, images) -> tuple[list[Arm], list[str]]:
        """Return one paper arm and one leakage-free arm per fold (see :meth:`Split.arms`)."""
        if data.groups is None:
            raise ValueError(
                f"this recipe splits by patient, and {data.name} has no patient IDs; use a "
                "dataset that records them (the figshare set of Cheng et al.)"
            )
        groups = np.asarray(data.groups)
        y = data.target
        n_groups = len(np.unique(groups))
        if self.use_published_folds and data.folds is not None:
            published = np.asarray(data.folds)
            values = np.unique(published)
            folds = [(np.flatnonzero(published != v), np.flatnonzero(published == v))
                     for v in values]  # fmt: skip
            mixed = sum(len(np.unique(published[groups == g])) > 1 for g in np.unique(groups))
            how = (
                f"the dataset's published {len(values)} folds ({mixed} of {n_groups} patients "
                "in more than one fold)"
            )
        else:
            cv = StratifiedGroupKFold(self.n_splits, shuffle=True, random_state=self.random_state)
            folds = list(cv.split(np.zeros((len(y), 1)), y, groups))
            how = (
                f"StratifiedGroupKFold(n_splits={self.n_splits}, shuffle, seed "
                f"{self.random_state}) over {n_groups} patients"
            )
        hashes = image_hashes(images, "phash")
        joined = _joined(groups, hash_groups(hashes, "phash", 4))
        clean = LeakageFreeSplit(
            self.n_splits, test_size=1 / self.n_splits, random_state=self.random_state
        ).split(images, y, joined)
        arms = []
        for fold, (train, test) in enumerate(folds, 1):
            n_near = len(np.unique(near_pairs(hashes[test], hashes[train], 4)[0]))
            arms.append(Arm(
                "paper", train, test,
                f"patient-wise cross-validation, {how}; {n_near} of the fold's {len(test)} "
                "test images have an exact or near duplicate in its training part",
                fold=fold,
            ))  # fmt: skip
        for fold, (train, test) in enumerate(clean, 1):
            arms.append(Arm(
                "leakage_free", train, test,
                f"LeakageFreeSplit(n_splits={self.n_splits}, StratifiedGroupKFold folds) over "
                "groups that join a "
                f"patient's slices and every exact or near copy ({len(np.unique(joined))} "
                f"groups for {len(y)} images)",
                fold=fold,
            ))  # fmt: skip
        return arms, []
