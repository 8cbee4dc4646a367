"""The data an experiment runs on: embedded sample, a fetched dataset, or a folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

# class folders that mean "no tumour" in the public sets (4-class: notumor, yes/no: no)
_NEGATIVE = ("notumor", "no", "no_tumor", "healthy")
# labels that mean "some tumour, type unknown" (a yes/no set's yes)
_POSITIVE = ("tumor", "tumour", "yes")
BINARY_NAMES = ["notumor", "tumor"]  # the 4-class set's spelling of the healthy class
COARSE_TUMOR = "tumor"


def is_negative(label) -> bool:
    """Whether a class name means "no tumour" (``notumor``, ``no``, ``no_tumor``, ``healthy``)."""
    return str(label).lower() in _NEGATIVE


@dataclass
class ExperimentData:
    """Images, labels and provenance of one dataset, as a recipe sees it.

    Attributes
    ----------
    images : ndarray or list
        uint8 grayscale images (mixed sizes stay a list/object array).
    target : ndarray of int64
    target_names : list of str
    subset : ndarray of str or None
        ``"train"``/``"test"`` per image for sets with an official split.
    filenames : ndarray of str
        Paths relative to the dataset root (stable across machines).
    sha256 : ndarray of str
        SHA-256 of each file's bytes.
    description : str
        Where the data came from, in words.
    notes : list of str
        What was done to it on the way (binarization).
    name : str
        A short name for reports (the folder's name).
    groups : ndarray or None
        The patient (or other group) each image belongs to, where the dataset
        records it (the figshare set's patient IDs); splits keep a group on
        one side.
    folds : ndarray or None
        The fold of each image in the dataset's published cross-validation,
        where there is one (the figshare set's ``cvind.mat``).
    source : ndarray of str or None
        The collection each image came from, where one dataset merges several
        (:func:`~sklearn_braintumor.datasets.load_image_sources`); None: all
        from ``name``. See :attr:`sources`.

    Examples
    --------
    >>> from sklearn_braintumor.experiments import load_experiment_data
    >>> data = load_experiment_data()
    >>> binary = data.binarized()
    >>> binary.target_names, int((data.subset == "test").sum())
    (['notumor', 'tumor'], 200)
    """

    images: object
    target: np.ndarray
    target_names: list
    subset: np.ndarray | None
    filenames: np.ndarray
    sha256: np.ndarray
    description: str
    notes: list = field(default_factory=list)
    name: str = "data"
    groups: np.ndarray | None = None
    folds: np.ndarray | None = None
    source: np.ndarray | None = None

    @property
    def sources(self) -> np.ndarray:
        """The collection of each image: ``source``, or ``name`` for every image."""
        if self.source is not None:
            return np.asarray(self.source)
        return np.full(len(self.target), self.name, dtype=object)

    @property
    def file_list_hash(self) -> str:
        """SHA-256 over the sorted ``(relative path, file SHA-256)`` pairs.

        Two runs with the same value saw byte-identical files under the same names.
        """
        lines = sorted(
            f"{name}\t{digest}" for name, digest in zip(self.filenames, self.sha256, strict=True)
        )
        # names that are not valid UTF-8 hash by their bytes
        return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()

    def counts(self, mask=None) -> dict:
        """Images per class name (within ``mask`` when given)."""
        target = self.target if mask is None else self.target[mask]
        return {name: int(np.sum(target == index)) for index, name in enumerate(self.target_names)}

    def binarized(self) -> ExperimentData:
        """Return the same images labelled ``notumor`` (0) / ``tumor`` (1)."""
        negative = [i for i, name in enumerate(self.target_names) if name.lower() in _NEGATIVE]
        if len(negative) != 1:
            raise ValueError(
                f"cannot binarize classes {self.target_names}: expected exactly one class "
                f"named one of {list(_NEGATIVE)} for 'no tumour'"
            )
        if self.target_names == BINARY_NAMES:
            return self
        target = (self.target != negative[0]).astype(np.int64)
        note = (
            f"binarized: {self.target_names[negative[0]]!r} -> notumor, "
            f"{[n for i, n in enumerate(self.target_names) if i != negative[0]]} -> tumor"
        )
        return replace(self, target=target, target_names=list(BINARY_NAMES),
                       notes=[*self.notes, note])  # fmt: skip

    def labels_for(self, task: str, classes) -> np.ndarray:
        """Each image's label in a recipe's label space, for training on or scoring it.

        ``task="binary"``: ``notumor`` / ``tumor``. ``"multiclass"``: a class
        of ``classes`` where the label names one, ``notumor`` for any "no
        tumour" label, and the coarse label ``tumor`` for "some tumour".
        A label the recipe does not know raises a ValueError naming it.
        """
        classes = list(classes)
        negative = next((c for c in classes if is_negative(c)), None)
        out = []
        for name in self.target_names:
            if task == "binary":
                mapped = (
                    BINARY_NAMES[0]
                    if is_negative(name)
                    else (BINARY_NAMES[1] if name.lower() in _POSITIVE or name in classes else None)
                )
            elif name in classes:
                mapped = name
            elif is_negative(name) and negative is not None:
                mapped = negative
            elif name.lower() in _POSITIVE:
                mapped = COARSE_TUMOR
            else:
                mapped = None
            if mapped is None:
                raise ValueError(
                    f"{self.name}: label {name!r} is not a class the model knows ({classes}) "
                    "nor 'tumor' / 'notumor'; map the class folders to those, e.g. "
                    "DIR:yes=tumor,no=notumor"
                )
            out.append(mapped)
        return np.asarray(out, dtype=object)[self.target]

    def tumor_mask(self) -> np.ndarray:
        """Mark the images whose label means a tumour (any label but "no tumour")."""
        negative = np.array([is_negative(name) for name in self.target_names])
        return ~negative[self.target]


def _relative(filenames, root: Path) -> np.ndarray:
    out = []
    for name in filenames:
        try:
            out.append(Path(name).resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            out.append(Path(name).as_posix())
    return np.asarray(out)


def load_experiment_data(
    data: str | os.PathLike | None = None, dataset: str | None = None, data_home=None
) -> ExperimentData:
    """Load what ``braintumor reproduce`` runs on.

    Parameters
    ----------
    data : path, optional
        A dataset folder: with ``Training`` and ``Testing`` folders of class
        folders (the 4-class layout, official split kept), with class folders
        directly (the yes/no layout), or with the figshare set's ``.mat``
        slices (patient IDs and published folds kept).
    dataset : str, optional
        A fetched dataset (``braintumor fetch NAME``); never downloads here.
    data_home : path, optional
        Cache of fetched datasets.

    Returns
    -------
    ExperimentData
        Without ``data`` and ``dataset``: the embedded sample.

    Examples
    --------
    >>> from sklearn_braintumor.experiments import load_experiment_data
    >>> data = load_experiment_data()  # the embedded sample
    >>> len(data.images), data.target_names
    (800, ['glioma', 'meningioma', 'notumor', 'pituitary'])
    """
    from ..datasets import fetch_dataset, load_image_folder, load_sample
    from ..datasets._fetch import _load_split_folders

    if data is not None and dataset is not None:
        raise ValueError("give either a data folder or a dataset name, not both")
    if dataset is not None:
        bunch = fetch_dataset(dataset, data_home=data_home, download_if_missing=False)
        return _from_bunch(bunch, f"fetched dataset {dataset!r} ({bunch.path})", Path(bunch.path))
    if data is None:
        return _from_bunch(
            load_sample("all"), "embedded sample (load_sample('all'): 600 train + 200 test images)"
        )
    root = Path(data)
    if not root.is_dir():
        raise FileNotFoundError(f"data folder {str(root)!r} does not exist")
    if (root / "Training").is_dir() and (root / "Testing").is_dir():
        bunch = _load_split_folders(root, "all", "grayscale")
        return _from_bunch(bunch, f"folder {root} (Training + Testing)", root)
    if next(root.rglob("*.mat"), None) is not None:
        from ..datasets._figshare import load_figshare_folder

        bunch = load_figshare_folder(root)
        return _from_bunch(bunch, f"folder {root} (figshare .mat slices)", root)
    return _from_bunch(load_image_folder(root), f"folder {root}", root)


def _from_bunch(bunch, description: str, root: Path | None = None) -> ExperimentData:
    """Return the ExperimentData of a loader's Bunch (file names relative to ``root``)."""
    names = np.asarray(bunch.filenames) if root is None else _relative(bunch.filenames, root)
    return ExperimentData(
        bunch.images, np.asarray(bunch.target), list(bunch.target_names),
        np.asarray(bunch.subset) if "subset" in bunch else None, names,
        np.asarray(bunch.sha256), description,
        name="sample" if root is None else root.resolve().name,
        groups=np.asarray(bunch.groups) if "groups" in bunch else None,
        folds=np.asarray(bunch.cv_fold) if "cv_fold" in bunch else None,
        source=np.asarray(bunch.source) if "source" in bunch else None,
    )  # fmt: skip


def load_source_data(source) -> ExperimentData:
    """Load another collection for cross-source training or evaluation.

    Parameters
    ----------
    source : ImageSource or str
        A folder of class folders with its label mapping, or its command-line
        form ``"DIR:yes=tumor,no=notumor"``.

    Returns
    -------
    ExperimentData
        Labels after mapping; ``name`` is the source's name.
    """
    from ..datasets import ImageSource, load_image_sources

    source = source if isinstance(source, ImageSource) else ImageSource.parse(source)
    bunch = load_image_sources([source])
    root = Path(source.path)
    mapping = "" if source.mapping is None else " (" + ", ".join(
        f"{k} -> {v}" for k, v in source.mapping.items()) + ")"  # fmt: skip
    data = _from_bunch(bunch, f"folder {root}{mapping}", root)
    data.name = source.name
    return data


def take(images, index):
    """``images[index]`` for an array or a list of images."""
    if isinstance(images, np.ndarray):
        return images[index]
    return [images[i] for i in np.asarray(index)]
