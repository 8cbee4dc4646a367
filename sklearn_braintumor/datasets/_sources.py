"""Several image folders loaded as one dataset, with a source and a label mapping per folder."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import InvalidParameterError

from ..utils._images import stack_images
from ._fetch import _load_split_folders
from ._folder import _class_folders, load_image_folder

__all__ = ["ImageSource", "load_image_sources"]

_SPLIT = {"train": "Training", "test": "Testing"}


def _parse_mapping(text: str, spec: str) -> dict:
    mapping = {}
    for item in text.split(","):
        folder, sep, label = item.partition("=")
        folder, label = folder.strip(), label.strip()
        if not sep or not folder or not label:
            raise ValueError(
                f"cannot read the mapping of {spec!r}: {item!r} is not CLASS=LABEL "
                "(example: DIR:yes=tumor,no=notumor)"
            )
        if folder in mapping:
            raise ValueError(f"the mapping of {spec!r} names class folder {folder!r} twice")
        mapping[folder] = label
    return mapping


@dataclass(frozen=True)
class ImageSource:
    """One image collection: a folder of class folders, its name and a label mapping.

    Parameters
    ----------
    path : str or path-like
        A folder of class folders (``yes/``, ``no/``), or a folder with
        ``Training/`` and ``Testing/`` folders of class folders (both are
        loaded; the split is kept in ``subset``).
    mapping : dict or None, default=None
        Class folder name to label, e.g. ``{"yes": "tumor", "no": "notumor"}``;
        every class folder must be mapped (several may share a label). None
        keeps the folder names as labels.
    name : str or None, default=None
        The source's name in ``source`` and in reports; default: the folder's
        name.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import ImageSource
    >>> source = ImageSource.parse("scans/yes-no:yes=tumor,no=notumor")
    >>> source.name, source.mapping
    ('yes-no', {'yes': 'tumor', 'no': 'notumor'})
    """

    path: str | os.PathLike
    mapping: Mapping[str, str] | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.mapping is not None:
            if not isinstance(self.mapping, Mapping):
                raise TypeError(
                    f"mapping of source {str(self.path)!r} must be a dict of class folder -> "
                    f"label or None, got {type(self.mapping).__name__}"
                )
            if not self.mapping:
                raise ValueError(
                    f"the mapping of source {str(self.path)!r} is empty; map each class "
                    "folder to a label (e.g. yes=tumor,no=notumor) or give no mapping"
                )
            object.__setattr__(self, "mapping", {str(k): str(v) for k, v in self.mapping.items()})
        if self.name is None:
            object.__setattr__(self, "name", Path(self.path).resolve().name or str(self.path))

    @classmethod
    def parse(cls, spec: str) -> ImageSource:
        """Read ``"DIR"`` or ``"DIR:CLASS=LABEL,CLASS=LABEL"`` (the command-line form).

        Parameters
        ----------
        spec : str
            The folder, then optionally ``:`` and the mapping.

        Returns
        -------
        source : ImageSource
        """
        path, sep, text = str(spec).rpartition(":")
        if not sep or "=" not in text:  # no mapping (or a ':' inside the path)
            return cls(spec)
        if not path:
            raise ValueError(f"{spec!r} names no folder before ':'")
        return cls(path, _parse_mapping(text, spec))

    def labels_for(self, class_names: Sequence[str]) -> list[str]:
        """Label of each class folder; an error names folders the mapping misses."""
        if self.mapping is None:
            return list(class_names)
        unmapped = [name for name in class_names if name not in self.mapping]
        absent = [name for name in self.mapping if name not in class_names]
        if unmapped or absent:
            parts = []
            if unmapped:
                parts.append(f"class folder(s) {unmapped} match no mapping entry")
            if absent:
                parts.append(f"mapped class(es) {absent} have no folder")
            raise ValueError(
                f"source {self.name!r} ({self.path}): " + "; ".join(parts)
                + f"; its class folders are {list(class_names)}, the mapping is "
                + ",".join(f"{k}={v}" for k, v in self.mapping.items())
            )  # fmt: skip
        return [self.mapping[name] for name in class_names]


def _is_split(root: Path) -> bool:
    """Whether ``root`` holds an official split (``Training/`` and ``Testing/``)."""
    return all((root / folder).is_dir() for folder in _SPLIT.values())


def _as_source(item) -> ImageSource:
    if isinstance(item, ImageSource):
        return item
    if isinstance(item, (str, os.PathLike)):
        return ImageSource.parse(os.fspath(item))
    raise InvalidParameterError(
        f"a source must be an ImageSource, a folder or 'DIR:MAPPING', got {item!r}"
    )


def _load_one(source: ImageSource, color_mode: str, on_error: str, transform, n_jobs) -> Bunch:
    root = Path(source.path)
    if not root.is_dir():
        raise FileNotFoundError(f"source folder {str(root)!r} does not exist or is not a folder")
    options = dict(on_error=on_error, transform=transform, n_jobs=n_jobs)
    if _is_split(root):
        part = _load_split_folders(root, "all", color_mode, **options)
        part.images = list(part.images)
        return part
    part = load_image_folder(root, color_mode=color_mode, **options)
    part.images = list(part.images)
    part.subset = np.full(len(part.target), "", dtype=object)
    return part


def load_image_sources(
    sources: Sequence[ImageSource | str | os.PathLike],
    *,
    color_mode: str = "grayscale",
    on_error: str = "raise",
    transform=None,
    n_jobs: int | None = None,
) -> Bunch:
    """Load several image collections as one dataset, labels mapped, source kept per image.

    Multi-source training, grouped model selection
    (:class:`~sklearn_braintumor.model_selection.LeaveOneSourceOut`) and
    cross-source evaluation then work on one Bunch: for example the 4-class
    set as it is, and a yes/no set with ``yes -> tumor``, ``no -> notumor``.

    Parameters
    ----------
    sources : sequence of ImageSource, str or path-like
        Each a folder of class folders (or with ``Training/`` and ``Testing/``),
        optionally with a label mapping; strings are read by
        :meth:`ImageSource.parse` (``"DIR:yes=tumor,no=notumor"``). Source
        names must differ.
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
    on_error : {"raise", "warn"}, default="raise"
        As in :func:`load_image_folder`.
    transform : transformer or pipeline, default=None
        Applied to each chunk of images while loading, as in
        :func:`load_image_folder`.
    n_jobs : int or None, default=None
        Worker processes that decode each folder's files.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        images : ndarray of uint8, or a 1D object array when shapes differ
            The images, source by source.
        target : ndarray of int64
            Index into ``target_names``.
        target_names : list of str
            The labels after mapping, in order of first appearance.
        source : ndarray of str
            The name of the source each image came from.
        source_names : list of str
            The sources' names, in the order given.
        folder_label : ndarray of str
            Each image's class folder name before mapping.
        subset : ndarray of str
            ``"train"``/``"test"`` for sources with Training/Testing folders,
            ``""`` otherwise.
        filenames : ndarray of str
            The path of each image.
        sha256 : ndarray of str
            SHA-256 of each file's bytes.
        DESCR : str
            What was loaded from where, and the label counts.

    Raises
    ------
    ValueError
        If a source's class folders and its mapping disagree (the message
        names the folders and the mapping), a mapping is empty, or two
        sources share a name.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import load_image_sources
    >>> data = load_image_sources(
    ...     ["brain-tumor-mri/Training", "yes-no:yes=tumor,no=notumor"]
    ... )  # doctest: +SKIP
    >>> sorted(set(data.source))  # doctest: +SKIP
    ['Training', 'yes-no']
    """
    if isinstance(sources, (str, os.PathLike, ImageSource)):
        sources = [sources]
    sources = [_as_source(item) for item in sources]
    if not sources:
        raise ValueError("load_image_sources needs at least one source")
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise ValueError(f"sources share a name: {names}; give each ImageSource its own name=")
    # check every mapping against its folders before decoding any image
    for source in sources:
        root = Path(source.path)
        if root.is_dir() and source.mapping is not None:
            base = root / _SPLIT["train"] if _is_split(root) else root
            source.labels_for(_class_folders(base, None))
    images, labels, source_of, folder_labels, subsets, filenames, digests = ([] for _ in range(7))
    lines = ["Images loaded by sklearn_braintumor.datasets.load_image_sources:"]
    for source in sources:
        part = _load_one(source, color_mode, on_error, transform, n_jobs)
        mapped = np.asarray(source.labels_for(part.target_names), dtype=object)
        folder_names = np.asarray(part.target_names, dtype=object)
        images += list(part.images)
        labels += mapped[part.target].tolist()
        folder_labels += folder_names[part.target].tolist()
        source_of += [source.name] * len(part.target)
        subsets += list(part.subset)
        filenames += list(part.filenames)
        digests += list(part.sha256)
        mapping = "" if source.mapping is None else " mapped " + ", ".join(
            f"{k} -> {v}" for k, v in source.mapping.items()
        )  # fmt: skip
        lines.append(f"  {source.name}: {len(part.target)} images from {source.path}{mapping}")
    target_names = list(dict.fromkeys(labels))
    index = {name: i for i, name in enumerate(target_names)}
    target = np.asarray([index[label] for label in labels], dtype=np.int64)
    counts = np.bincount(target, minlength=len(target_names))
    lines.append(
        "Labels: " + ", ".join(f"{n} {c}" for n, c in zip(target_names, counts, strict=True))
    )
    return Bunch(
        images=stack_images(images),
        target=target,
        target_names=target_names,
        source=np.asarray(source_of, dtype=object).astype(str),
        source_names=names,
        folder_label=np.asarray(folder_labels, dtype=object).astype(str),
        subset=np.asarray(subsets, dtype=object).astype(str),
        filenames=np.asarray(filenames, dtype=str),
        sha256=np.asarray(digests, dtype=str),
        DESCR="\n".join(lines) + "\n",
    )
