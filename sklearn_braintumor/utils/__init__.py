"""Helpers shared by the other subpackages."""

from ._hashing import hamming_distances, phash, pixel_hash

__all__ = ["hamming_distances", "phash", "pixel_hash"]
