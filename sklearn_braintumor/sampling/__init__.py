"""imbalanced-learn samplers that act on training images only."""

from ._augment import ImageAugmenter
from ._base import ImageSampler
from ._duplicates import DuplicateRemover
from ._lesions import SyntheticLesions
from ._noise import GaussianNoise

__all__ = [
    "DuplicateRemover",
    "GaussianNoise",
    "ImageAugmenter",
    "ImageSampler",
    "SyntheticLesions",
]
