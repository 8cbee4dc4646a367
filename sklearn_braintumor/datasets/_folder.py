"""Loading a class-per-subfolder image collection."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import warnings
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ..exceptions import ImageReadError
from ..utils._images import stack_images
from ..utils._io import COLOR_MODE, IMAGE_EXTENSIONS, decode_image, read_file_bytes
from ..utils._paths import printable

__all__ = ["load_image_folder"]

_IGNORED_FOLDERS = ("__MACOSX",)


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name in _IGNORED_FOLDERS


def _walk_files(
    folder: Path, *, follow_links: bool = True
) -> tuple[list[Path], int, list[tuple[str, str]]]:
    """Image files below ``folder`` in sorted order, the count of other files, and what was skipped.

    Only regular files are returned: FIFOs, devices, sockets and broken links
    are skipped (never opened), each with the reason. Symbolic links to
    folders are followed at every depth; a link back into a folder already
    walked (a cycle, or the same folder twice) is skipped, so no file is read
    twice. With ``follow_links=False`` links (to files or folders) whose
    target lies outside ``folder`` are skipped too: a folder received from
    someone else cannot make the caller read ``/etc`` or ``/dev``.
    """
    images: list[Path] = []
    skipped: list[tuple[str, str]] = []
    n_other = 0
    top = os.path.realpath(folder)

    def outside(path: str) -> bool:  # resolved only when links may not lead out
        return not follow_links and os.path.commonpath([top, os.path.realpath(path)]) != top

    seen = {top}
    for current, dirnames, filenames in os.walk(folder, followlinks=True):
        kept = []
        for d in sorted(d for d in dirnames if not _is_hidden(d)):
            real = os.path.realpath(os.path.join(current, d))
            if outside(real):  # already resolved: realpath of it is itself
                skipped.append((os.path.join(current, d), "a link to a folder outside the folder"))
            elif real not in seen:
                seen.add(real)
                kept.append(d)
        dirnames[:] = kept
        for filename in filenames:
            if _is_hidden(filename):
                continue
            if not filename.lower().endswith(IMAGE_EXTENSIONS):
                n_other += 1
                continue
            path = os.path.join(current, filename)
            try:
                mode = os.stat(path).st_mode
            except OSError:
                skipped.append((path, "a broken link"))
                continue
            if not stat.S_ISREG(mode):
                skipped.append((path, "not a regular file (a FIFO, device or socket)"))
            elif outside(path):
                skipped.append((path, "a link to a file outside the folder"))
            else:
                images.append(Path(path))
    images.sort(key=lambda p: p.relative_to(folder).as_posix())
    return images, n_other, skipped


def _class_folders(root: Path, classes: Sequence[str] | None) -> list[str]:
    available = sorted(
        entry.name for entry in root.iterdir() if entry.is_dir() and not _is_hidden(entry.name)
    )
    if classes is None:
        if not available:
            raise ValueError(
                f"no class subfolders in {str(root)!r}: expected the layout "
                "<path>/<class name>/<image files>"
            )
        return available
    if isinstance(classes, str):
        raise TypeError("classes must be a sequence of folder names, not a string")
    classes = list(classes)
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes contains duplicates: {classes}")
    missing = [name for name in classes if name not in available]
    if missing:
        raise ValueError(
            f"class folder(s) {missing} not found in {str(root)!r}; available: {available}"
        )
    return classes


def read_images(
    paths: Sequence[Path], *, color_mode: str, on_error: str
) -> tuple[list[np.ndarray], list[str], list[int], list[tuple[str, str]]]:
    """Read and hash each file once; return images, digests, kept indices, failures."""
    images: list[np.ndarray] = []
    digests: list[str] = []
    kept: list[int] = []
    failures: list[tuple[str, str]] = []
    for index, path in enumerate(paths):
        try:
            data = read_file_bytes(path)
            images.append(decode_image(data, name=str(path), color_mode=color_mode))
        except ImageReadError as exc:
            error = exc
        else:
            digests.append(hashlib.sha256(data).hexdigest())
            kept.append(index)
            continue
        if on_error == "raise":
            raise error
        failures.append((error.path, error.reason))
    return images, digests, kept, failures


def _read_chunk(paths, color_mode, on_error, transform):
    images, digests, kept, failures = read_images(paths, color_mode=color_mode, on_error=on_error)
    if transform is not None and images:
        from sklearn.base import clone

        images = list(clone(transform).fit_transform(images))
    return images, digests, kept, failures


def _read_chunks(paths, *, color_mode, on_error, transform, n_jobs, chunk_size, verbose):
    """:func:`read_images` over chunks of ``paths``, in parallel, transformed, with a bar."""
    from joblib import Parallel, delayed

    starts = range(0, len(paths), chunk_size)
    jobs = (
        delayed(_read_chunk)(paths[start : start + chunk_size], color_mode, on_error, transform)
        for start in starts
    )
    bar = None
    if verbose:
        from tqdm import tqdm

        # disable=None: no bar (and no repeated lines) when stderr is not a terminal
        bar = tqdm(total=len(paths), unit="img", desc="loading", disable=None)
    images, digests, kept, failures = [], [], [], []
    try:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        for start, (chunk_images, chunk_digests, chunk_kept, chunk_failures) in zip(
            starts, results, strict=True
        ):
            images += chunk_images
            digests += chunk_digests
            kept += [start + index for index in chunk_kept]
            failures += chunk_failures
            if bar is not None:
                bar.update(min(chunk_size, len(paths) - start))
    finally:
        if bar is not None:
            bar.close()
    if bar is not None and bar.disable:  # off a terminal: one line instead of a bar
        print(f"loading: {len(paths)} files read, {len(failures)} unreadable", file=sys.stderr)
    return images, digests, kept, failures


def warn_skipped(failures: list[tuple[str, str]]) -> None:
    """Emit one warning listing every file that could not be read."""
    if failures:
        listing = "\n".join(f"  {path}: {reason}" for path, reason in failures)
        warnings.warn(
            f"skipped {len(failures)} unreadable image file(s):\n{listing}",
            UserWarning,
            stacklevel=3,
        )


@validate_params(
    {
        "classes": ["array-like", None],
        "color_mode": COLOR_MODE,
        "on_error": [StrOptions({"raise", "warn"})],
        "return_X_y": ["boolean"],
        "transform": [HasMethods(["transform"]), None],
        "n_jobs": [Integral, None],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "follow_links": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_image_folder(
    path: str | os.PathLike,
    *,
    classes: Sequence[str] | None = None,
    color_mode: str = "grayscale",
    on_error: str = "raise",
    return_X_y: bool = False,
    transform=None,
    n_jobs: int | None = None,
    chunk_size: int = 256,
    verbose: bool = False,
    follow_links: bool = True,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load images stored one folder per class, e.g. ``Training/glioma/*.jpg``.

    Every non-hidden subfolder of ``path`` is a class; every image file below
    it (subfolders included, symbolic links to folders followed once) is a
    sample of that class. Files and folders
    whose names start with ``.`` (``.ipynb_checkpoints``, ``.DS_Store``) and
    ``__MACOSX`` folders are skipped, as are files whose suffix is not one of
    ``.jpg .jpeg .png .bmp .tif .tiff .webp`` (in any letter case); the number
    of such non-image files is stated in ``DESCR``. Samples are ordered by
    class, then by path relative to the class folder, so the order is the
    same on every machine.

    Parameters
    ----------
    path : str or path-like
        The folder holding one subfolder per class.
    classes : sequence of str, default=None
        Class folders to load, in the order that defines the integer targets.
        ``None`` loads every class folder, sorted by name.
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
        ``"grayscale"``: (height, width) images; ``"rgb"``: (height, width, 3);
        ``"unchanged"``: the file's own channels. Palette, CMYK, 16-bit and
        alpha images are converted as described in the user guide
        (``docs/datasets.md``).
    on_error : {"raise", "warn"}, default="raise"
        ``"raise"``: the first unreadable or truncated file raises
        :class:`~sklearn_braintumor.exceptions.ImageReadError` naming it.
        ``"warn"``: every unreadable file is skipped and all of them are listed
        in one ``UserWarning``.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.
    transform : transformer or pipeline, default=None
        Applied to each chunk of images right after decoding, e.g.
        ``make_pipeline(BrainCrop(), Resize((64, 64)))``: only the transformed
        images are kept, so a folder whose full-size images would not fit in
        memory loads as small ones. Use per-image (stateless) transformers; a
        clone is fitted on each chunk.
    n_jobs : int or None, default=None
        Processes that decode (and transform) chunks in parallel with joblib;
        None or 1 works in this process.
    chunk_size : int, default=256
        Files per chunk: at most ``n_jobs`` chunks of full-size images are in
        memory at once.
    verbose : bool, default=False
        Show a progress bar (files done) while loading.
    follow_links : bool, default=True
        Follow symbolic links wherever they lead (a class folder linked from
        another disk is a common way to assemble a dataset). ``False`` skips
        links whose target lies outside ``path``. Either way only regular
        files are read: FIFOs, devices, sockets and broken links are skipped
        and listed in one ``UserWarning``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        images : ndarray of uint8
            ``(n_samples, height, width[, channels])`` when every image has
            the same shape, else a 1D object array of 2D/3D uint8 arrays.
        target : ndarray of int64, shape (n_samples,)
            Index into ``target_names``.
        target_names : list of str
            The class folder names. A class folder with no image stays in the
            list (so targets keep their meaning) and triggers a warning.
        filenames : ndarray of str, shape (n_samples,)
            The path of each image.
        sha256 : ndarray of str, shape (n_samples,)
            SHA-256 hex digest of each file's bytes.
        DESCR : str
            What was loaded, from where and how.
    (images, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or is not a folder.
    ValueError
        If ``path`` has no class folders, a requested class is missing, or no
        image could be read at all.
    ImageReadError
        With ``on_error="raise"``, for the first unreadable file.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import load_image_folder
    >>> data = load_image_folder("brain-tumor-mri/Testing")  # doctest: +SKIP
    >>> data.images.shape, data.target_names  # doctest: +SKIP
    ((1311, 224, 224), ['glioma', 'meningioma', 'notumor', 'pituitary'])
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {str(root)!r} does not exist or is not a folder")

    class_names = _class_folders(root, classes)
    paths: list[Path] = []
    labels: list[int] = []
    n_other = 0
    skipped: list[tuple[str, str]] = []
    for label, name in enumerate(class_names):
        files, other, passed_over = _walk_files(root / name, follow_links=follow_links)
        n_other += other
        skipped += passed_over
        if not files:
            warnings.warn(
                f"class folder {str(root / name)!r} contains no image files",
                UserWarning,
                stacklevel=2,
            )
        paths.extend(files)
        labels.extend([label] * len(files))

    images, digests, kept, failures = _read_chunks(
        paths, color_mode=color_mode, on_error=on_error, transform=transform, n_jobs=n_jobs,
        chunk_size=chunk_size, verbose=verbose,
    )  # fmt: skip
    warn_skipped(failures)
    if skipped:
        listing = "\n".join(f"  {printable(path)}: {reason}" for path, reason in skipped)
        warnings.warn(f"skipped {len(skipped)} entries:\n{listing}", UserWarning, stacklevel=2)
    if not images:
        raise ValueError(f"no readable image files found under {str(root)!r}")

    target = np.asarray(labels, dtype=np.int64)[kept]
    stacked = stack_images(images)
    if return_X_y:
        return stacked, target
    counts = np.bincount(target, minlength=len(class_names))
    lines = [
        f"Images loaded from {root} by sklearn_braintumor.datasets.load_image_folder.",
        "",
        f"color_mode={color_mode!r}; {len(images)} images, {len(class_names)} classes:",
        *(f"  {name}: {count}" for name, count in zip(class_names, counts, strict=True)),
    ]
    if transform is not None:
        lines.append(f"Each image transformed on loading by {transform!r}.")
    if failures:
        lines.append(f"{len(failures)} unreadable file(s) skipped (on_error='warn').")
    if n_other:
        lines.append(f"{n_other} non-image file(s) ignored.")
    if skipped:
        lines.append(f"{len(skipped)} entries skipped: not regular files, or links not followed.")
    shapes = "one shape " + str(stacked.shape[1:]) if stacked.dtype != object else "mixed shapes"
    lines.append(f"Images have {shapes}.")
    return Bunch(
        images=stacked,
        target=target,
        target_names=list(class_names),
        filenames=np.asarray([str(paths[i]) for i in kept]),
        sha256=np.asarray(digests),
        DESCR="\n".join(lines) + "\n",
    )
