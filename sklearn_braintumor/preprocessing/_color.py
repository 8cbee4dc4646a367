"""Grayscale and RGB conversion of image collections."""

from __future__ import annotations

import numpy as np

from ..utils._images import stack_images
from ._base import ImageTransformer, to_float32

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class Grayscale(ImageTransformer):
    """Convert RGB(A) images to grayscale; grayscale images pass through.

    Uses ITU-R 601-2 luma (``0.299 R + 0.587 G + 0.114 B``), as the loaders
    do; an alpha channel is composited over black first. uint8 input stays
    uint8 (rounded); other input becomes float32.
    """

    def _transform_images(self, images):
        out = []
        for image in images:
            if image.ndim == 3:
                if image.shape[-1] == 1:
                    image = image[..., 0]
                else:
                    rgb = to_float32(image[..., :3])
                    if image.shape[-1] == 4:
                        alpha = to_float32(image[..., 3:]) / (
                            255.0 if image.dtype == np.uint8 else 1.0
                        )
                        rgb = rgb * alpha
                    gray = rgb @ _LUMA
                    image = (
                        np.clip(np.rint(gray), 0, 255).astype(np.uint8)
                        if image.dtype == np.uint8
                        else gray
                    )
            out.append(image)
        return stack_images(out)


class ToRGB(ImageTransformer):
    """Give every image three channels, as ImageNet backbones expect.

    Grayscale images are repeated in three channels; RGBA images are
    composited over black; RGB images pass through. The dtype is kept.
    """

    def _transform_images(self, images):
        out = []
        for image in images:
            if image.ndim == 2 or image.shape[-1] == 1:
                gray = image if image.ndim == 2 else image[..., 0]
                image = np.repeat(gray[..., np.newaxis], 3, axis=-1)
            elif image.shape[-1] == 4:
                scale = 255.0 if image.dtype == np.uint8 else 1.0
                rgb = to_float32(image[..., :3]) * (to_float32(image[..., 3:]) / scale)
                image = (
                    np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
                    if image.dtype == np.uint8
                    else rgb
                )
            out.append(image)
        return stack_images(out)
