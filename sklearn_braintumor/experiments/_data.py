"""The data an experiment runs on: embedded sample, a fetched dataset, or a folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# class folders that mean "no tumour" in the public sets (4-class: notumor, yes/no: no)
_NEGATIVE = ("notumor", "no", "no_tumor", "healthy")
BINARY_NAMES = ["no_tumor", "tumor"]


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
    source : str
        Where the data came from, in words.
    notes : list of str
        What was done to it on the way (binarization).
    """

    images: object
    target: np.ndarray
    target_names: list
    subset: np.ndarray | None
    filenames: np.ndarray
    sha256: np.ndarray
    source: str
    notes: list = field(default_factory=list)

    @property
    def file_list_hash(self) -> str:
        """SHA-256 over the sorted ``(relative path, file SHA-256)`` pairs.

        Two runs with the same value saw byte-identical files under the same names.
        """
        lines = sorted(
            f"{name}\t{digest}" for name, digest in zip(self.filenames, self.sha256, strict=True)
        )
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def counts(self, mask=None) -> dict:
        """Images per class name (within ``mask`` when given)."""
        target = self.target if mask is None else self.target[mask]
        return {name: int(np.sum(target == index)) for index, name in enumerate(self.target_names)}

    def binarized(self) -> ExperimentData:
        """Return the same images labelled ``no_tumor`` (0) / ``tumor`` (1)."""
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
            f"binarized: {self.target_names[negative[0]]!r} -> no_tumor, "
            f"{[n for i, n in enumerate(self.target_names) if i != negative[0]]} -> tumor"
        )
        return ExperimentData(self.images, target, list(BINARY_NAMES), self.subset,
                              self.filenames, self.sha256, self.source,
                              [*self.notes, note])  # fmt: skip


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
        A dataset folder: either with ``Training`` and ``Testing`` folders of
        class folders (the 4-class layout, official split kept) or with class
        folders directly (the yes/no layout).
    dataset : str, optional
        A fetched dataset (``braintumor fetch NAME``); never downloads here.
    data_home : path, optional
        Cache of fetched datasets.

    Returns
    -------
    ExperimentData
        Without ``data`` and ``dataset``: the embedded sample.
    """
    from ..datasets import fetch_dataset, load_image_folder, load_sample

    if data is not None and dataset is not None:
        raise ValueError("give either a data folder or a dataset name, not both")
    if dataset is not None:
        bunch = fetch_dataset(dataset, data_home=data_home, download_if_missing=False)
        root = Path(bunch.path)
        return ExperimentData(
            bunch.images, np.asarray(bunch.target), list(bunch.target_names),
            np.asarray(bunch.subset) if "subset" in bunch else None,
            _relative(bunch.filenames, root), np.asarray(bunch.sha256),
            f"fetched dataset {dataset!r} ({root})",
        )  # fmt: skip
    if data is None:
        bunch = load_sample("all")
        return ExperimentData(
            bunch.images, bunch.target, list(bunch.target_names), np.asarray(bunch.subset),
            np.asarray(bunch.filenames), np.asarray(bunch.sha256),
            "embedded sample (load_sample('all'): 600 train + 200 test images)",
        )  # fmt: skip
    root = Path(data)
    if not root.is_dir():
        raise FileNotFoundError(f"data folder {str(root)!r} does not exist")
    parts = {"train": root / "Training", "test": root / "Testing"}
    if all(path.is_dir() for path in parts.values()):
        loaded = {key: load_image_folder(path) for key, path in parts.items()}
        if loaded["train"].target_names != loaded["test"].target_names:
            raise ValueError(
                f"Training and Testing in {root} have different classes: "
                f"{loaded['train'].target_names} vs {loaded['test'].target_names}"
            )
        images = [*loaded["train"].images, *loaded["test"].images]
        shapes = {image.shape for image in images}
        return ExperimentData(
            np.stack(images) if len(shapes) == 1 else images,
            np.concatenate([loaded[k].target for k in parts]),
            list(loaded["train"].target_names),
            np.repeat(["train", "test"], [len(loaded[k].target) for k in parts]),
            _relative(np.concatenate([loaded[k].filenames for k in parts]), root),
            np.concatenate([loaded[k].sha256 for k in parts]),
            f"folder {root} (Training + Testing)",
        )
    bunch = load_image_folder(root)
    return ExperimentData(
        bunch.images, bunch.target, list(bunch.target_names), None,
        _relative(bunch.filenames, root), bunch.sha256, f"folder {root}",
    )  # fmt: skip


def take(images, index):
    """``images[index]`` for an array or a list of images."""
    if isinstance(images, np.ndarray):
        return images[index]
    return [images[i] for i in np.asarray(index)]
