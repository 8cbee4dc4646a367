"""imbalanced-learn samplers that act on training images only."""

from ._augment import ImageAugmenter
from ._base import ImageSampler
from ._duplicates import DuplicateRemover
from ._lesions import SyntheticLesions
from ._noise import GaussianNoise
from ._style import StyleBalancer

__all__ = [
    "DuplicateRemover",
    "GaussianNoise",
    "ImageAugmenter",
    "ImageSampler",
    "StyleBalancer",
    "SyntheticLesions",
]
