"""File names that are not valid UTF-8 (zips made on Windows), written as text."""

from __future__ import annotations


def printable(name: str) -> str:
    r"""Return ``name`` with bytes that are not UTF-8 written as ``\xNN``.

    Python decodes such file names with surrogate escapes; they can be used to
    open the file but not written to a UTF-8 file or terminal. Valid names are
    returned unchanged.
    """
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
