"""Loaders for brain MRI image collections, returning scikit-learn ``Bunch`` objects.

- :func:`load_image_folder`: any class-per-subfolder collection of image files.
- :func:`load_image_sources`: several such collections as one dataset, each
  image tagged with its source, labels mapped per source.
- :func:`load_sample`: a real 800-image sample embedded in the package.
- :func:`fetch_dataset`: public datasets, downloaded once into
  :func:`get_data_home` and verified on every load.
- :func:`make_synthetic_mri`: head-like phantoms for fast tests.
- :func:`read_image`: one image file, decoded as the loaders do.
"""

from ..utils._io import IMAGE_EXTENSIONS, decode_image, read_image
from ._base import clear_data_home, get_data_home
from ._fetch import fetch_dataset
from ._folder import load_image_folder
from ._registry import DATASETS, DatasetInfo
from ._sample import load_sample
from ._sources import ImageSource, load_image_sources
from ._synthetic import make_synthetic_mri

__all__ = [
    "DATASETS",
    "IMAGE_EXTENSIONS",
    "DatasetInfo",
    "ImageSource",
    "clear_data_home",
    "decode_image",
    "fetch_dataset",
    "get_data_home",
    "load_image_folder",
    "load_image_sources",
    "load_sample",
    "make_synthetic_mri",
    "read_image",
]
