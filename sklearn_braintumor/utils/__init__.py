"""Helpers shared by the other subpackages: image hashes, input validation, saving."""

from ._export import export_model
from ._hashing import hamming_distances, phash, pixel_hash
from ._persistence import load, save
from ._validation import check_images

__all__ = [
    "check_images",
    "export_model",
    "hamming_distances",
    "load",
    "phash",
    "pixel_hash",
    "save",
]
