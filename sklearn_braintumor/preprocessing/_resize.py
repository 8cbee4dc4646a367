"""Resizing image collections to one shape."""

from __future__ import annotations

import numbers
from typing import ClassVar

import cv2
import numpy as np
from sklearn.utils._param_validation import Options

from ..utils._images import stack_images
from ._base import ImageTransformer, to_float32

_KEPT_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32), np.dtype(np.float64))


def _smallest_kept(image: np.ndarray) -> np.ndarray:
    """Return an integer image as uint8 / uint16 when its values fit, else as float32."""
    if image.dtype.kind in "iu" and image.size:
        low, high = int(image.min()), int(image.max())
        for dtype, peak in ((np.uint8, 255), (np.uint16, 65535)):
            if low >= 0 and high <= peak:
                return image.astype(dtype)
    return to_float32(image)


class Resize(ImageTransformer):
    """Resize every image to one shape and stack them.

    Downscaling averages the source pixels each output pixel covers (OpenCV's
    area interpolation, an anti-aliasing box filter exact for any factor);
    upscaling interpolates bilinearly (or bicubically with ``order=3``).
    Output values keep the input range, and uint8, uint16, float32 and
    float64 images keep their dtype (integers are rounded), so a resized
    uint8 stack stays a quarter of the size of its float32 version. Other
    integer images (int64 from ``np.array`` of Python ints, int32) whose
    values fit in 0-255 are resized as uint8, in 0-65535 as uint16 (no
    value changes), so they give what the same uint8 images give; anything
    else becomes float32.

    Parameters
    ----------
    shape : tuple of (int, int)
        Output ``(height, width)``.
    anti_aliasing : bool, default=True
        Use area averaging when shrinking an axis. False interpolates with
        ``order`` in every case (faster, but aliases).
    order : {0, 1, 3}, default=1
        Interpolation for upscaling (and downscaling without anti-aliasing):
        nearest, bilinear or bicubic.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.preprocessing import Resize
    >>> images = [np.zeros((40, 30), np.uint8), np.ones((90, 120), np.uint8)]
    >>> Resize((32, 32)).fit_transform(images).shape
    (2, 32, 32)
    """

    _parameter_constraints: ClassVar[dict] = {
        "shape": [tuple, list],
        "anti_aliasing": ["boolean"],
        "order": [Options(numbers.Integral, {0, 1, 3})],
    }

    def __init__(
        self,
        shape: tuple[int, int] = (64, 64),
        *,
        anti_aliasing: bool = True,
        order: int = 1,
    ) -> None:
        self.shape = shape
        self.anti_aliasing = anti_aliasing
        self.order = order

    def _check_param_relations(self) -> None:
        shape = tuple(self.shape)
        if len(shape) != 2 or not all(isinstance(s, numbers.Integral) and s > 0 for s in shape):
            raise self._invalid(
                f"'shape' parameter must be (height, width), two positive ints, got {self.shape!r}"
            )

    def _transform_images(self, images):
        height, width = tuple(self.shape)
        interpolation = {0: cv2.INTER_NEAREST, 1: cv2.INTER_LINEAR, 3: cv2.INTER_CUBIC}
        out = []
        for image in images:
            source = image if image.dtype in _KEPT_DTYPES else _smallest_kept(image)
            shrink = source.shape[0] > height or source.shape[1] > width
            flag = cv2.INTER_AREA if self.anti_aliasing and shrink else interpolation[self.order]
            resized = cv2.resize(source, (width, height), interpolation=flag)
            if source.ndim == 3 and resized.ndim == 2:  # OpenCV drops a single channel
                resized = resized[..., np.newaxis]
            out.append(resized)
        result = stack_images(out)
        if result.dtype == object:
            raise ValueError(
                "Resize got images with different channel counts; convert them with "
                "Grayscale() or ToRGB() first"
            )
        return result
