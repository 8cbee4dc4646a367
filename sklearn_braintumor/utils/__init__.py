"""Helpers shared by the other subpackages: image hashes, input validation, saving."""

from ._hashing import hamming_distances, phash, pixel_hash
from ._persistence import load, save
from ._safe_types import register_safe_type, safe_types
from ._validation import check_images

__all__ = [
    "check_images",
    "hamming_distances",
    "load",
    "phash",
    "pixel_hash",
    "register_safe_type",
    "safe_types",
    "save",
]
