"""Predicting a folder of scans: ``braintumor predict FOLDER`` and :func:`predict_folder`."""

from __future__ import annotations

import csv
import functools
import itertools
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ..classifiers._ood import has_guard, proba_scores_shift, summarize_shift
from ..classifiers._tumor_first import decide
from ..datasets._folder import _walk_files
from ..exceptions import ImageReadError
from ..inspection._mri import grey_and_reason
from ..utils._io import COLOR_MODE, read_image
from ..utils._paths import printable
from ..utils._persistence import check_writable, refuse_existing, replacing

#: decoded pixels one batch holds at most (256 MB of grayscale images), whatever batch_size says
MAX_BATCH_PIXELS = 2**28
#: files decoded ahead of the batch being predicted, per decoding thread
_READ_AHEAD = 2

_FLAG = "overwrite=True (--overwrite)"
#: cells starting with these are formulas to a spreadsheet (OWASP's CSV injection rule)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _read(path: Path, color_mode: str) -> tuple[np.ndarray, str] | ImageReadError:
    """Return the image as the model takes it and why it is not an MRI slice ("" if it may be).

    The check sees the colours a grayscale model never gets: the file is
    decoded in colour and turned to grey as the grayscale reader does (the
    same pixels exactly).
    """
    try:
        image = read_image(path, color_mode="rgb" if color_mode == "grayscale" else color_mode)
    except ImageReadError as exc:
        return exc
    grey, reason = grey_and_reason(image)
    return (grey if color_mode == "grayscale" else image), reason


def csv_cell(text: str) -> str:
    """Return ``text`` safe for a spreadsheet: a leading ``= + - @`` (or tab, CR) gets a ``'``.

    OWASP's rule against CSV injection: a file named ``=HYPERLINK(...).png``
    would otherwise be run as a formula when the CSV is opened.
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _batches(paths, read, pool, n_threads: int, batch_size: int):
    """Yield ``[(path, (image, reason) or error), ...]`` in order, bounded in files and pixels.

    At most ``n_threads * _READ_AHEAD`` files are decoded ahead, and a batch
    closes at ``batch_size`` files or :data:`MAX_BATCH_PIXELS` decoded pixels,
    so a folder of large images (or image bombs under the per-image limit)
    cannot fill memory.
    """
    pending: deque = deque()
    queue = iter(paths)
    for path in itertools.islice(queue, n_threads * _READ_AHEAD):
        pending.append((path, pool.submit(read, path)))
    batch, pixels = [], 0
    while pending:
        path, future = pending.popleft()
        following = next(queue, None)
        if following is not None:
            pending.append((following, pool.submit(read, following)))
        item = future.result()
        batch.append((path, item))
        pixels += item[0].size if isinstance(item, tuple) else 0
        if len(batch) >= batch_size or pixels >= MAX_BATCH_PIXELS:
            yield batch
            batch, pixels = [], 0
    if batch:
        yield batch


class _RowWriter:
    """The CSV rows of one estimator: probabilities, decision, its explanation, the checks."""

    def __init__(self, estimator, folder: Path) -> None:
        self.estimator, self.folder = estimator, folder
        self.classes = np.asarray(estimator.classes_)
        # the estimator's own decision rule (TumorFirstClassifier), else the most probable class
        self.rule = getattr(estimator, "predict_from_proba", None)
        self.negative = getattr(estimator, "negative_class", None)
        self.threshold = getattr(estimator, "threshold_", None)
        classes = self.classes.tolist()
        self.negative_column = classes.index(self.negative) if self.negative in classes else None
        self.guarded = has_guard(estimator)
        self.header = ["path", "predicted", "most_probable",
                       *(f"proba_{c}" for c in self.classes), "ood", "shift", "note",
                       "error"]  # fmt: skip
        self.n_failed = self.n_ood = self.n_rule = 0
        self.shifts: list[float] = []
        self.reference = None  # --color-mode unchanged: the first image read sets the channels

    @property
    def decision(self) -> str | None:
        """The decision rule in words, when it is not the most probable class."""
        if self.rule is None or self.negative is None or self.threshold is None:
            return None
        return (f"tumour first: {self.negative} only where its probability is at least "
                f"{self.threshold:.3f}, else the most probable other class")  # fmt: skip

    def same_channels(self, batch) -> tuple[list, list[str]]:
        """Return the decoded items and their not-an-MRI reasons; other channel counts are errors.

        An image with another channel count than the first image read is
        turned into an error item.
        """
        decoded = [item[0] if isinstance(item, tuple) else item for _, item in batch]
        reasons = [item[1] if isinstance(item, tuple) else "" for _, item in batch]
        for i, item in enumerate(decoded):
            if isinstance(item, np.ndarray):
                channels = 1 if item.ndim == 2 else item.shape[2]
                self.reference = channels if self.reference is None else self.reference
                if channels != self.reference:
                    decoded[i] = ImageReadError(
                        str(batch[i][0]),
                        f"has {channels} channel(s), the other images {self.reference}; use "
                        "--color-mode grayscale or rgb to convert every file alike",
                    )
        return decoded, reasons

    def _cells(self, proba: np.ndarray, reasons: list[str]) -> list[tuple]:
        """Return (predicted, most probable, note) per image; count the rule's and ood's."""
        most = self.classes[np.argmax(proba, axis=1)]
        predicted = decide(self.estimator, proba)
        cells = []
        for p, label, top, reason in zip(proba, predicted, most, reasons, strict=True):
            if reason:  # not an MRI slice: no prediction, the reason instead
                self.n_ood += 1
                cells.append(("", top, f"not a brain MRI slice: {reason}; no prediction"))
                continue
            note = ""
            if label != top:
                self.n_rule += 1
                note = (f"tumour first: {self.negative} needs p >= {self.threshold:.3f}, "
                        f"had {p[self.negative_column]:.3f}")  # fmt: skip
            cells.append((label, top, note))
        return cells

    def batch(self, paths: list[Path], decoded: list, reasons: list[str]) -> list[list[str]]:
        """Return the rows of one batch, in its order."""
        good = [i for i, item in enumerate(decoded) if isinstance(item, np.ndarray)]
        shifts = [""] * len(good)
        if good:  # probabilities and the shift from one pass over the network
            proba, _, shift = proba_scores_shift(self.estimator, [decoded[i] for i in good])
            cells = self._cells(proba, [reasons[i] for i in good])
            if shift is not None:
                self.shifts.extend(shift.tolist())
                shifts = [f"{v:.3f}" for v in shift]
            cells = dict(zip(good, zip(cells, proba, shifts, strict=True), strict=True))
        rows = []
        for i, path in enumerate(paths):
            name = csv_cell(printable(path.relative_to(self.folder).as_posix()))
            if good and i in cells:
                (label, top, note), p, shift = cells[i]
                rows.append([name, csv_cell(str(label)), csv_cell(str(top)),
                             *(f"{v:.6f}" for v in p), str(bool(reasons[i])), shift, note,
                             ""])  # fmt: skip
            else:
                self.n_failed += 1
                reason = csv_cell(printable(decoded[i].reason))
                rows.append([name, "", "", *([""] * len(self.classes)), "", "", "", reason])
        return rows

    def shift_summary(self) -> dict:
        """Return the folder's median shift, the share at or above 1, and what it means."""
        summary = summarize_shift(self.shifts if self.guarded else None)
        if summary["shift_median"] is None:
            return {**summary, "shift_note": None}
        note = (f"{summary['shifted_share']:.0%} of the scans read are unlike the model's "
                f"training collections (shift >= 1; median shift {summary['shift_median']:.2f}): "
                "the accuracy on the model card may not hold for them; score the model on "
                "labelled scans of this source before relying on it")  # fmt: skip
        return {**summary, "shift_note": note}


def check_output_file(out: str | os.PathLike) -> Path:
    """Refuse an output path that cannot become a file, before any work.

    A folder, a path below a file, or a folder that cannot be written to is
    refused with a message naming it.
    """
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"--out {str(out)!r} is a folder; give a file name such as "
                                f"{str(out / 'predictions.csv')!r}")  # fmt: skip
    return check_writable(out)


@validate_params(
    {
        "estimator": [HasMethods(["predict_proba"])],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "color_mode": COLOR_MODE,
        "on_error": [StrOptions({"skip", "raise"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "progress": [callable, None],
        "overwrite": ["boolean"],
        "follow_links": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def predict_folder(
    estimator,
    folder: str | os.PathLike,
    out: str | os.PathLike,
    *,
    batch_size: int = 256,
    color_mode: str = "grayscale",
    on_error: str = "skip",
    n_threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
    follow_links: bool = False,
) -> dict:
    """Write class probabilities of every image below ``folder`` to a CSV file.

    Files are decoded in batches by a thread pool (Pillow releases the GIL
    while decoding), each batch goes through the estimator's
    ``predict_proba`` as one list of images (so a pipeline's crop and resize
    run on it), and rows are written in sorted path order. The CSV is
    written under a temporary name and moved into place when complete; an
    existing file is replaced only with ``overwrite=True``, and of two runs
    writing one new file the second fails instead of replacing the first.

    A folder from someone else is read with limits: only regular files
    (FIFOs, devices, sockets and broken links are skipped and counted), links
    leading outside ``folder`` are not followed unless ``follow_links=True``,
    files over 256 MiB and images over 40 megapixels are error rows, a JPEG
    whose data libjpeg reports as corrupt is an error row, and a batch holds
    at most 256 million decoded pixels whatever ``batch_size`` says. Text
    cells (path, class, error) that start with ``= + - @`` get a leading
    ``'`` so that a spreadsheet shows them as text instead of running them
    as formulas (OWASP's rule against CSV injection).

    Parameters
    ----------
    estimator : fitted classifier or pipeline
        Takes a list of images (mixed sizes allowed when it starts with
        ``BrainCrop`` or ``Resize``) and has ``predict_proba`` and ``classes_``,
        e.g. :func:`~sklearn_braintumor.pretrained.load_pretrained`'s model.
    folder : path
        Searched recursively for image files (hidden files skipped).
    out : path
        The CSV: ``path`` (relative to ``folder``), ``predicted`` (the
        estimator's ``predict_from_proba`` where it has one, as
        :class:`~sklearn_braintumor.classifiers.TumorFirstClassifier`, else
        the most probable class), ``most_probable`` (the class of highest
        probability), one ``proba_<class>`` column per class, ``ood``
        (``True`` where the image is not a brain MRI slice at all: a
        photograph, a page, a drawing, noise, a blank; see
        :func:`~sklearn_braintumor.inspection.not_mri_reasons`; such rows get
        no ``predicted`` class, and ``note`` says why), ``shift`` (how unlike
        the model's training collections the image is, 1.0 at the guard's
        threshold, see :func:`~sklearn_braintumor.classifiers.shift_score`;
        empty for a model without the guard), ``note`` (why ``predicted``
        differs from ``most_probable``: the tumour-first threshold and the
        probability the healthy class had; or why the image is not an MRI
        slice), ``error``.
    batch_size : int, default=256
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
        How files are decoded; as the model was trained.
    on_error : {"skip", "raise"}, default="skip"
        "skip": an unreadable file gets a row with its error and no
        probabilities. "raise": the first one raises ``ImageReadError``
        (no CSV is left behind).
    n_threads : int or None, default=None
        Decoding threads; None uses ``os.cpu_count()``.
    progress : callable or None
        Called as ``progress(done, total)`` after each batch.
    overwrite : bool, default=False
        Replace an existing ``out``; without it an existing file is an error
        (``FileExistsError``), as at the command line.
    follow_links : bool, default=False
        Also follow symbolic links whose target lies outside ``folder``.

    Returns
    -------
    summary : dict
        ``n_images``, ``n_failed``, ``n_not_images`` (files skipped for their
        suffix: .npy, .dcm, ...; not in the CSV), ``n_ood`` (images that
        are not brain MRI slices), ``shift_median`` and
        ``shifted_share`` (the median shift of the images read and the share
        at or above 1; None without a guard), ``shift_note`` (that share in
        a sentence: the model card's accuracy may not hold for such scans),
        ``n_skipped`` (entries that are not
        regular files, or links not followed), ``n_rule`` (images whose
        ``predicted`` is not their ``most_probable`` class), ``decision``
        (the decision rule in words; None for the most probable class),
        ``seconds``, ``images_per_second``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from sklearn_braintumor import predict_folder
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.pretrained import load_pretrained
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i, image in enumerate(load_sample("test").images[:3]):
    ...     Image.fromarray(image).save(folder / f"scan{i}.png")
    >>> summary = predict_folder(load_pretrained(), folder, folder / "predictions.csv")
    >>> summary["n_images"], summary["n_failed"]
    (3, 0)
    >>> (folder / "predictions.csv").read_text().splitlines()[0]
    'path,predicted,most_probable,proba_glioma,proba_meningioma,proba_notumor,proba_pituitary,ood,shift,note,error'
    """
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {str(folder)!r} does not exist")
    check_output_file(out)
    refuse_existing(out, overwrite=overwrite, flag=_FLAG)
    paths, n_other, skipped = _walk_files(folder, follow_links=follow_links)
    if not paths:
        raise ValueError(f"no image files below {str(folder)!r}")
    rows = _RowWriter(estimator, folder)
    n_threads = n_threads or os.cpu_count() or 1
    start = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        replacing(out, ".partial", exclusive=not overwrite, flag=_FLAG) as tmp,
        open(tmp, "w", newline="", encoding="utf-8") as stream,
        ThreadPoolExecutor(n_threads) as pool,
    ):
        writer = csv.writer(stream)
        writer.writerow(rows.header)
        read = functools.partial(_read, color_mode=color_mode)
        done = 0
        for batch in _batches(paths, read, pool, n_threads, batch_size):
            decoded, reasons = rows.same_channels(batch)
            failed = [item for item in decoded if not isinstance(item, np.ndarray)]
            if failed and on_error == "raise":
                raise failed[0]
            writer.writerows(rows.batch([path for path, _ in batch], decoded, reasons))
            done += len(batch)
            if progress is not None:
                progress(done, len(paths))
    seconds = time.perf_counter() - start
    return {
        "n_images": len(paths),
        "n_failed": rows.n_failed,
        "n_not_images": n_other,
        "n_skipped": len(skipped),
        "n_ood": rows.n_ood,
        **rows.shift_summary(),
        "n_rule": rows.n_rule,
        "decision": rows.decision,
        "seconds": seconds,
        "images_per_second": len(paths) / seconds,
    }
