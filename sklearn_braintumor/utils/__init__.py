"""Helpers shared by the other subpackages: image hashes and input validation."""

from ._hashing import hamming_distances, phash, pixel_hash
from ._validation import check_images

__all__ = ["check_images", "hamming_distances", "phash", "pixel_hash"]
