"""Image transformers: the same operation at fit and at predict time."""

from ._color import Grayscale, ToRGB
from ._crop import BrainCrop
from ._flatten import ImageFlattener
from ._intensity import IntensityScaler
from ._reader import ImageReader
from ._resize import Resize
from ._rim import RimRemover

__all__ = [
    "BrainCrop",
    "Grayscale",
    "ImageFlattener",
    "ImageReader",
    "IntensityScaler",
    "Resize",
    "RimRemover",
    "ToRGB",
]
