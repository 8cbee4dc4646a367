"""Helpers shared by the other subpackages: image hashes, input validation, saving."""

from ._hashing import hamming_distances, phash, pixel_hash
from ._persistence import load, save
from ._safe_types import register_safe_type, safe_types
from ._validation import check_images

__all__ = [
    "check_images",
    "export_model",
    "hamming_distances",
    "load",
    "phash",
    "pixel_hash",
    "register_safe_type",
    "safe_types",
    "save",
]


def __getattr__(name: str):
    # export_model needs torch: imported on first use, so the data and preprocessing
    # subpackages stay importable without loading torch
    if name == "export_model":
        from ._export import export_model

        return export_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
