"""Hand-made image descriptors that turn images into 2D feature tables."""

from ._glcm import GLCMFeatures

__all__ = ["GLCMFeatures"]
