"""Exceptions raised by sklearn-braintumor.

``InvalidParameterError`` is scikit-learn's own class, re-exported: a subclass of
both ``ValueError`` and ``TypeError``, raised by every parameter check of this
library (declared in ``_parameter_constraints`` and ``validate_params``, as
scikit-learn's estimators and functions declare theirs), so one ``except`` catches
a bad value or type from either library.
"""

from __future__ import annotations

from sklearn.utils._param_validation import InvalidParameterError

__all__ = [
    "ChecksumError",
    "DownloadError",
    "ImageReadError",
    "InvalidParameterError",
    "ModelFileError",
]


class ImageReadError(ValueError):
    """An image file could not be read or decoded.

    Parameters
    ----------
    path : str
        The file (or archive member) that failed.
    reason : str
        What went wrong.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_braintumor.datasets import read_image
    >>> from sklearn_braintumor.exceptions import ImageReadError
    >>> broken = Path(tempfile.mkdtemp()) / "scan.png"
    >>> _ = broken.write_bytes(b"not an image")
    >>> try:
    ...     read_image(broken)
    ... except ImageReadError as error:
    ...     print(error.path == str(broken), isinstance(error, ValueError))
    True True
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read image {self.path!r}: {reason}")

    def __reduce__(self):
        # rebuilt from (path, reason), so it crosses process boundaries (joblib workers)
        return type(self), (self.path, self.reason)


class DownloadError(OSError):
    """A download (dataset or weights) or an extraction failed; nothing was cached.

    Examples
    --------
    >>> from sklearn_braintumor.exceptions import ChecksumError, DownloadError
    >>> issubclass(DownloadError, OSError), issubclass(ChecksumError, DownloadError)
    (True, True)
    """


class ChecksumError(DownloadError):
    """Downloaded or cached data does not match its recorded SHA-256.

    Examples
    --------
    >>> from sklearn_braintumor.exceptions import ChecksumError
    >>> str(ChecksumError("archive.zip: SHA-256 differs from the registry's"))
    "archive.zip: SHA-256 differs from the registry's"
    """


class ModelFileError(ValueError):
    """A model file is damaged, crafted, or holds what the safe format does not build.

    Raised by :func:`~sklearn_braintumor.utils.load` and
    :func:`~sklearn_braintumor.pretrained.load_pretrained` for every way a
    file can be wrong (not a model, truncated, a pickle without
    ``trusted=True``, an unregistered type, a member too large, a missing
    array, weights of the wrong shape), naming the file and what is wrong.

    Parameters
    ----------
    path : str
        The model file.
    reason : str
        What is wrong, as a predicate: ``"is an empty file"``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_braintumor.exceptions import ModelFileError
    >>> from sklearn_braintumor.utils import load
    >>> empty = Path(tempfile.mkdtemp()) / "model.btm"
    >>> _ = empty.write_bytes(b"")
    >>> try:
    ...     load(empty)
    ... except ModelFileError as error:
    ...     print(error.reason, isinstance(error, ValueError))
    is an empty file True
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"model file {self.path!r} {reason}")

    def __reduce__(self):
        return type(self), (self.path, self.reason)
