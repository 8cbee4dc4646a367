"""Reading the figshare brain tumour dataset of Cheng et al. (MATLAB v7.3 files)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..exceptions import ImageReadError
from ..utils._images import rescale_to_uint8, stack_images
from ..utils._io import check_color_mode

#: Label codes of the ``.mat`` files, and the names they stand for.
FIGSHARE_LABELS = {1: "meningioma", 2: "glioma", 3: "pituitary"}


def _sort_key(path: Path) -> tuple[int, str]:
    stem = path.stem
    return (int(stem), "") if stem.isdigit() else (1 << 62, path.as_posix())


def _read_slice(data: bytes, name: str) -> tuple[np.ndarray, int, str]:
    import h5py

    try:
        with h5py.File(io.BytesIO(data), "r") as handle:
            group = handle["cjdata"]
            # MATLAB stores column-major: h5py sees the transpose.
            image = np.asarray(group["image"]).T
            label = int(np.asarray(group["label"]).ravel()[0])
            pid = "".join(chr(int(c)) for c in np.asarray(group["PID"]).ravel())
    except (OSError, KeyError, ValueError, IndexError) as exc:
        raise ImageReadError(name, f"not a figshare cjdata .mat file ({exc})") from exc
    if label not in FIGSHARE_LABELS:
        raise ImageReadError(name, f"unknown label code {label}")
    return rescale_to_uint8(image), label, pid


def _read_cv_folds(path: Path) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as handle:
        return np.asarray(handle["cvind"]).ravel().astype(np.int64)


def load_figshare_folder(root: str | Path, *, color_mode: str = "grayscale") -> Bunch:
    """Load every slice ``N.mat`` below ``root`` (the extracted figshare article).

    Images are int16 MRI magnitudes; they are rescaled to uint8 per slice
    (zero stays black, the slice maximum becomes 255). Targets follow the
    alphabetical class names used by the 4-class set: 0 glioma, 1 meningioma,
    2 pituitary.

    Parameters
    ----------
    root : str or Path
        Folder holding the ``.mat`` slices (in any subfolders) and optionally
        ``cvind.mat``.
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
        ``"rgb"`` repeats the gray channel three times; ``"unchanged"`` is
        grayscale.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images``, ``target``, ``target_names``, ``filenames``, ``sha256``,
        ``groups`` (patient ID per slice) and, when ``cvind.mat`` is present,
        ``cv_fold`` (the authors' fold, 1 to 5, per slice).
    """
    check_color_mode(color_mode)
    root = Path(root)
    paths = sorted(
        (
            p
            for p in root.rglob("*.mat")
            if p.name != "cvind.mat" and not any(part.startswith(".") for part in p.parts)
        ),
        key=_sort_key,
    )
    if not paths:
        raise ValueError(f"no .mat slices found under {str(root)!r}")
    target_names = sorted(FIGSHARE_LABELS.values())
    images, labels, groups, digests = [], [], [], []
    for path in paths:
        data = path.read_bytes()
        image, label, pid = _read_slice(data, str(path))
        if color_mode == "rgb":
            image = np.repeat(image[..., None], 3, axis=-1)
        images.append(image)
        labels.append(target_names.index(FIGSHARE_LABELS[label]))
        groups.append(pid)
        digests.append(hashlib.sha256(data).hexdigest())
    bunch = Bunch(
        images=stack_images(images),
        target=np.asarray(labels, dtype=np.int64),
        target_names=target_names,
        filenames=np.asarray([str(p) for p in paths]),
        sha256=np.asarray(digests),
        groups=np.asarray(groups),
    )
    cv_files = sorted(root.rglob("cvind.mat"))
    if cv_files:
        folds = _read_cv_folds(cv_files[0])
        if len(folds) == len(paths):
            bunch.cv_fold = folds
    return bunch
