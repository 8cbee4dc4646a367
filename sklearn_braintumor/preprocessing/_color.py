"""Grayscale and RGB conversion of image collections."""

from __future__ import annotations

import numpy as np

from ..utils._images import stack_images
from ._base import ImageTransformer, to_float32

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _rgb_over_black(image: np.ndarray) -> np.ndarray:
    """Return the RGB channels as float32, compositing an alpha channel over black."""
    rgb = to_float32(image[..., :3])
    if image.shape[-1] == 4:
        full = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else 1.0
        rgb = rgb * (to_float32(image[..., 3:]) / full)
    return rgb


def _like(values: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Cast computed values back to an integer image's dtype (rounded), else float32."""
    if image.dtype.kind in "ui":
        info = np.iinfo(image.dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(image.dtype)
    return values


class Grayscale(ImageTransformer):
    """Convert RGB(A) images to grayscale; grayscale images pass through.

    Uses ITU-R 601-2 luma (``0.299 R + 0.587 G + 0.114 B``), as the loaders
    do; an alpha channel is composited over black first. Integer images keep
    their dtype (rounded); float images become float32.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.preprocessing import Grayscale
    >>> rgb = np.zeros((2, 8, 8, 3), np.uint8)
    >>> Grayscale().fit_transform(rgb).shape
    (2, 8, 8)
    """

    def _transform_images(self, images):
        if isinstance(images, np.ndarray):  # a stack: no per-image work, no copy if gray
            if images.ndim == 3:
                return images
            if images.shape[-1] == 1:
                return images[..., 0]
            return _like(_rgb_over_black(images) @ _LUMA, images)
        out = []
        for image in images:
            if image.ndim == 3 and image.shape[-1] == 1:
                image = image[..., 0]
            elif image.ndim == 3:
                image = _like(_rgb_over_black(image) @ _LUMA, image)
            out.append(image)
        return stack_images(out)


class ToRGB(ImageTransformer):
    """Give every image three channels, as ImageNet backbones expect.

    Grayscale images are repeated in three channels; RGBA images are
    composited over black; RGB images pass through. Integer images keep
    their dtype (rounded); float RGBA becomes float32.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.preprocessing import ToRGB
    >>> gray = np.zeros((2, 8, 8), np.uint8)
    >>> ToRGB().fit_transform(gray).shape
    (2, 8, 8, 3)
    """

    def _transform_images(self, images):
        out = []
        for image in images:
            if image.ndim == 2 or image.shape[-1] == 1:
                gray = image if image.ndim == 2 else image[..., 0]
                image = np.repeat(gray[..., np.newaxis], 3, axis=-1)
            elif image.shape[-1] == 4:
                image = _like(_rgb_over_black(image), image)
            out.append(image)
        return stack_images(out)
