"""Saving fitted estimators and pipelines without ever leaving a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import joblib


def chmod_like_new(path: str | os.PathLike, *, folder: bool = False) -> None:
    """Give ``path`` the mode the umask gives a new file (0666) or folder (0777).

    ``tempfile.mkstemp`` / ``mkdtemp`` create 0600 / 0700, which would
    otherwise outlive the rename into place.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if folder else 0o666) & ~umask)


def save(estimator, path: str | os.PathLike, *, compress: int = 3) -> Path:
    """Save a fitted estimator or pipeline with joblib, atomically.

    The file is written next to ``path`` under a temporary name and renamed
    into place once complete, so an interrupted save (Ctrl-C, full disk,
    crash) leaves either the previous file or none, never a truncated one.
    A fitted ``CNNClassifier`` trained on a GPU loads on a CPU-only machine
    (skorch maps the weights to the CPU).

    Parameters
    ----------
    estimator : object
        Anything picklable, typically a fitted estimator or pipeline.
    path : str or path-like
        Destination file.
    compress : int, default=3
        joblib compression level.

    Returns
    -------
    path : pathlib.Path
    """
    path = Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        joblib.dump(estimator, tmp, compress=compress)
        chmod_like_new(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike):
    """Load an estimator saved with :func:`save` (or any joblib file).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : object
    """
    return joblib.load(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file renamed into place.

    The file gets the mode the umask gives a new file, like ``open(path, "w")``.
    """
    path = Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        chmod_like_new(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
