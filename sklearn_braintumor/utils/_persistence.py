"""Saving fitted estimators and pipelines without ever leaving a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path

import joblib
from sklearn.utils._param_validation import Interval, StrOptions, validate_params


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clean_stale(path: str | os.PathLike) -> list[Path]:
    """Remove temporaries of ``path`` left by processes that no longer run (``kill -9``).

    Temporaries are named ``.NAME.PID.RANDOM.tmp`` / ``.partial`` beside
    ``path``; those whose process is gone are deleted, files and folders
    alike. Temporaries of a process still running are kept.

    Returns
    -------
    removed : list of pathlib.Path
    """
    import glob
    import shutil

    path = Path(path)
    removed = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.glob(f".{glob.escape(path.name)}.*"):
        pid, _, rest = entry.name[len(path.name) + 2 :].partition(".")
        if not pid.isdigit() or not rest.endswith((".tmp", ".partial")) or _alive(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def temporary_beside(path: str | os.PathLike, suffix: str, *, folder: bool = False) -> Path:
    """Create the temporary file (or folder) that becomes ``path`` by a rename.

    Stale temporaries of earlier, killed writers of ``path`` are removed first.
    """
    path = Path(path)
    clean_stale(path)
    prefix = f".{path.name}.{os.getpid()}."
    if folder:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=path.parent))
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(handle)
    return Path(name)


def refuse_existing(path: str | os.PathLike, *, overwrite: bool, flag: str = "--overwrite"):
    """Raise ``FileExistsError`` if ``path`` exists and ``overwrite`` is False.

    The one wording of "exists; pass --overwrite" (``flag`` names the switch:
    ``--overwrite`` at the command line, ``overwrite=True`` in Python).
    """
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(f"{os.fspath(path)} already exists; pass {flag} or another name")


def _place_new(tmp: Path, path: Path, flag: str) -> None:
    """Move ``tmp`` to ``path`` only if nothing is there by then (atomic: a hard link)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        refuse_existing(path, overwrite=False, flag=flag)
    except OSError:  # a file system without hard links: claim the name, then replace it
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            refuse_existing(path, overwrite=False, flag=flag)
        os.replace(tmp, path)
        return
    tmp.unlink()


@contextlib.contextmanager
def replacing(
    path: str | os.PathLike, suffix: str = ".tmp", *, exclusive: bool = False,
    flag: str = "--overwrite",
):  # fmt: skip
    """Yield a temporary file beside ``path`` that replaces it when the block ends.

    The file gets the umask's mode and is renamed over ``path`` only if the
    block completes; on any error or interrupt it is deleted, so ``path``
    keeps its old content (or stays absent). With ``exclusive=True`` it is
    moved into place only if ``path`` does not exist by then: of two runs
    writing one new file, the second fails with ``FileExistsError`` instead
    of replacing the first one's output.
    """
    path = Path(path)
    tmp = temporary_beside(path, suffix)
    try:
        yield tmp
        chmod_like_new(tmp)
        if exclusive:
            _place_new(tmp, path, flag)
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_writable(path: str | os.PathLike, what: str = "--out") -> Path:
    """Refuse, before any work, a path that cannot be created or replaced.

    The nearest existing folder above ``path`` must be a writable folder (not
    a file).
    """
    path = Path(path)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(
            f"{what} {str(path)!r} lies below {str(parent)!r}, which is a file"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {what} {str(path)!r}: {str(parent)!r} is not writable")
    return path


def chmod_like_new(path: str | os.PathLike, *, folder: bool = False) -> None:
    """Give ``path`` the mode the umask gives a new file (0666) or folder (0777).

    ``tempfile.mkstemp`` / ``mkdtemp`` create 0600 / 0700, which would
    otherwise outlive the rename into place.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if folder else 0o666) & ~umask)


PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


@validate_params(
    {
        "format": [StrOptions({"safe", "joblib"})],
        "compress": [Interval(Integral, 0, 9, closed="both")],
        "trusted_types": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def save(
    estimator,
    path: str | os.PathLike,
    *,
    format: str = "safe",
    compress: int = 3,
    trusted_types: Sequence[type] | None = None,
) -> Path:
    """Save a fitted estimator or pipeline, atomically.

    The default ``format="safe"`` writes the library's safe model format: a
    zip of ``model.json`` (classes, parameters, fitted attributes) and
    ``.npy`` arrays (network weights included). :func:`load` reads it without
    running any code from the file, so such files can be shared. It stores
    this library's estimators, scikit-learn's and imbalanced-learn's
    pipelines and estimators built from plain parameters, and the types
    registered with :func:`register_safe_type`; an unregistered class or a
    function (a ``FunctionTransformer`` callable, a module instance) is
    refused with a message. Classes are written under stable names (where
    users import them from), so files keep loading when a class moves
    between private modules. ``format="joblib"`` pickles anything picklable
    instead; loading such a file runs code it holds, so :func:`load` reads it
    only with ``trusted=True``.

    The file is written next to ``path`` under a temporary name and renamed
    into place once complete, so an interrupted save (Ctrl-C, full disk,
    crash) leaves either the previous file or none, never a truncated one.
    Networks trained on a GPU load on a CPU-only machine.

    Parameters
    ----------
    estimator : object
        A fitted (or unfitted) estimator or pipeline.
    path : str or path-like
        Destination file (``.btm`` is the safe format's usual suffix; a
        ``.joblib`` / ``.pkl`` name needs ``format="joblib"``).
    format : {"safe", "joblib"}, default="safe"
    compress : int, default=3
        joblib compression level (``format="joblib"`` only).
    trusted_types : sequence of classes, optional
        Classes of your own to store for this call only, as
        :func:`register_safe_type` does for good; loading the file needs them
        too (``load(path, trusted_types=...)``).

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.preprocessing import ImageFlattener, Resize
    >>> from sklearn_braintumor.utils import load, save
    >>> X, y = make_synthetic_mri(20, image_size=16, random_state=0)
    >>> pipe = make_pipeline(Resize((8, 8)), ImageFlattener(), LogisticRegression()).fit(X, y)
    >>> path = save(pipe, "model.btm")  # doctest: +SKIP
    >>> (load(path).predict(X) == pipe.predict(X)).all()  # doctest: +SKIP
    True
    """
    from ._safe import dumps

    path = Path(path)
    if format == "safe" and path.suffix.lower() in PICKLE_SUFFIXES:
        raise ValueError(
            f"{path.name} is a pickle file name, but format='safe' writes the safe format; "
            "name it NAME.btm, or pass format='joblib' for a pickle"
        )
    # refused before any file exists
    payload = dumps(estimator, trusted_types=trusted_types) if format == "safe" else None
    with replacing(path) as tmp:
        if payload is None:
            joblib.dump(estimator, tmp, compress=compress)
        else:
            tmp.write_bytes(payload)
    return path


def _describe(head: bytes) -> str:
    """Say what a file that is not a model seems to be, from its first bytes."""
    if not head:
        return "an empty file"
    zlib = len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0
    if head[:1] == b"\x80" or zlib or head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")):
        return "a pickle (joblib) file"  # plain, or compressed as joblib does
    if head.startswith((b"\xff\xd8", b"\x89PNG", b"BM", b"GIF8")):
        return "an image, not a model"
    return "not a model file of this library"


@validate_params(
    {"trusted": ["boolean"], "trusted_types": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def load(
    path: str | os.PathLike,
    *,
    trusted: bool = False,
    trusted_types: Sequence[type] | None = None,
):
    """Load an estimator saved with :func:`save`.

    Safe-format files load without running code from the file: the loader
    builds only registered types (this library's estimators and networks,
    scikit-learn's and imbalanced-learn's estimators, a few torch losses
    and optimizers, and what :func:`register_safe_type` or
    ``trusted_types`` adds), looked up by the names the file gives and
    never imported because a file names them. Members are size-checked
    before they are read (see the model files page of the documentation).
    Pickle files (``format="joblib"``, or any joblib/pickle file) can run
    arbitrary code when loaded and are refused unless ``trusted=True``:
    pass it only for files you made yourself or got from someone you trust.

    Files written by earlier versions of the format (version 1) still load.

    Parameters
    ----------
    path : str or path-like
    trusted : bool, default=False
        Also load pickle files.
    trusted_types : sequence of classes, optional
        Classes of your own the file may build, for this call only.

    Returns
    -------
    estimator : object

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        (a ``ValueError``) A pickle without ``trusted=True``, or a file that
        is empty, truncated, crafted or not a model, with the path and what
        is wrong.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_braintumor.utils import load, save
    >>> model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    >>> path = save(model, Path(tempfile.mkdtemp()) / "model.btm")
    >>> load(path).predict([[0.9]]).tolist()
    [1]
    """
    from ..exceptions import ModelFileError
    from ._safe import is_safe_file, loads

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    if not path.is_file():
        raise ModelFileError(str(path), "is not a regular file")
    data = path.read_bytes()
    if is_safe_file(data[:4]):
        return loads(data, source=str(path), trusted_types=trusted_types)
    kind = _describe(data[:4])
    if kind != "a pickle (joblib) file":
        raise ModelFileError(str(path), f"is {kind}")
    if not trusted:
        raise ModelFileError(
            str(path),
            "is a pickle (joblib) file: loading it runs any code it holds. Load it only if "
            "you made it or trust who did: trusted=True in Python, --trusted on the command "
            "line. Models saved by this library's default format load without it.",
        )
    try:
        return joblib.load(path)
    except Exception as exc:  # truncated pickles fail in many ways
        raise ModelFileError(str(path), f"is a damaged pickle ({exc})") from exc


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file renamed into place.

    The file gets the mode the umask gives a new file, like ``open(path, "w")``.
    """
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
