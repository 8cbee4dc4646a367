"""Exceptions raised by sklearn-braintumor."""

from __future__ import annotations

__all__ = ["ChecksumError", "DownloadError", "ImageReadError"]


class ImageReadError(ValueError):
    """An image file could not be read or decoded.

    Parameters
    ----------
    path : str
        The file (or archive member) that failed.
    reason : str
        What went wrong.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot read image {self.path!r}: {reason}")

    def __reduce__(self):
        # rebuilt from (path, reason), so it crosses process boundaries (joblib workers)
        return type(self), (self.path, self.reason)


class DownloadError(OSError):
    """A dataset download or extraction failed; nothing was cached."""


class ChecksumError(DownloadError):
    """Downloaded or cached data does not match its recorded SHA-256."""
