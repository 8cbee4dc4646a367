"""Reading image files inside a pipeline: file paths in, image arrays out."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import StrOptions

from ..utils._images import stack_images
from ..utils._io import read_image


class ImageReader(TransformerMixin, BaseEstimator):
    """Decode image files named by paths, so a pipeline can start from file names.

    ``transform`` reads each file (EXIF orientation, 16-bit, palette and
    alpha handled as in :func:`~sklearn_braintumor.datasets.load_image_folder`)
    on a thread pool (Pillow releases the GIL while decoding). Stateless:
    ``fit`` only checks the parameters. As the reader of a
    :class:`~sklearn_braintumor.classifiers.CNNClassifier` (``reader=``) it
    runs on one batch of paths at a time, so training never holds more than a
    batch of decoded images.

    Parameters
    ----------
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
    n_jobs : int or None, default=None
        Decoding threads; None uses ``os.cpu_count()``, 1 decodes in the
        calling thread.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_braintumor.preprocessing import ImageReader, Resize
    >>> reader = make_pipeline(ImageReader(), Resize((64, 64)))  # paths -> 64x64 images
    """

    _parameter_constraints: ClassVar[dict] = {
        "color_mode": [StrOptions({"grayscale", "rgb", "unchanged"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, color_mode: str = "grayscale", n_jobs: int | None = None) -> None:
        self.color_mode = color_mode
        self.n_jobs = n_jobs

    def _paths(self, X) -> list:
        self._validate_params()
        if isinstance(X, (str, os.PathLike)):
            raise TypeError("ImageReader takes a sequence of paths, not a single path")
        paths = list(np.asarray(X, dtype=object).ravel()) if not isinstance(X, list) else X
        if not len(paths):
            raise ValueError("ImageReader got no file paths")
        for index, path in enumerate(paths):
            if not isinstance(path, (str, os.PathLike)):
                raise TypeError(
                    f"ImageReader expects file paths; sample {index} is {type(path).__name__}"
                )
        return paths

    def fit(self, X, y=None):
        """Check the parameters and that ``X`` holds paths; nothing is learnt.

        Parameters
        ----------
        X : sequence of str or path-like
        y : None
            Ignored.

        Returns
        -------
        self : ImageReader
        """
        self._paths(X)
        return self

    def transform(self, X):
        """Read the files.

        Parameters
        ----------
        X : sequence of str or path-like

        Returns
        -------
        images : ndarray of uint8
            ``(n_samples, height, width[, channels])`` when all files have one
            shape, else a 1D object array of images.

        Raises
        ------
        ImageReadError
            Naming the first file that cannot be read.
        """
        paths = self._paths(X)

        def read(path):
            return read_image(path, color_mode=self.color_mode)

        if self.n_jobs == 1 or len(paths) < 2:
            images = [read(path) for path in paths]
        else:
            with ThreadPoolExecutor(self.n_jobs or os.cpu_count()) as pool:
                images = list(pool.map(read, paths))
        return stack_images(images)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
