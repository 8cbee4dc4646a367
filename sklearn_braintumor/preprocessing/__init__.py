"""Image transformers: the same operation at fit and at predict time."""

from ._color import Grayscale, ToRGB
from ._crop import BrainCrop
from ._flatten import ImageFlattener
from ._intensity import IntensityScaler
from ._resize import Resize

__all__ = [
    "BrainCrop",
    "Grayscale",
    "ImageFlattener",
    "IntensityScaler",
    "Resize",
    "ToRGB",
]
