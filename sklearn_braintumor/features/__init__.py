"""Hand-made image descriptors that turn images into 2D feature tables."""

from ._glcm import GLCMFeatures
from ._hog import HOGFeatures

__all__ = ["GLCMFeatures", "HOGFeatures"]
