"""Random geometric and blur augmentation of training images (papers D and E)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import cv2
import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError

from ..utils._validation import AUGMENTATION_CONSTRAINTS, check_crop_scale
from ._base import ImageSampler


def _affine(center, angle, shear, zoom, shift) -> np.ndarray:
    """2x3 matrix: about ``center``, zoom, shear (x), rotate, then translate."""
    a, s = np.radians(angle), np.tan(np.radians(shear))
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    linear = rotation @ np.array([[1.0, s], [0.0, 1.0]]) @ np.diag([zoom, zoom])
    center = np.asarray(center, dtype=np.float64)
    offset = center + np.asarray(shift) - linear @ center
    return np.hstack([linear, offset[:, None]])


class ImageAugmenter(ImageSampler):
    """Append randomly transformed copies of the training images.

    Each copy draws, independently: horizontal and vertical flips, a
    rotation, an x-shear, a translation and a zoom (applied together as one
    affine warp with bilinear interpolation, uncovered pixels set to
    ``fill``), then a random resized crop and a Gaussian blur. These are the
    augmentations of paper D (blur, flip, rotation 30, shear,
    RandomResizedCrop(0.9-1.0)) and paper E (rotation, translation, zoom,
    flips, fill). Inside an imbalanced-learn pipeline only training data is
    augmented.

    Parameters
    ----------
    n_copies : int, default=1
        Augmented copies per image.
    keep_original : bool, default=True
        Return the original images first, then the copies. False returns the
        copies only (the training set is replaced by augmented versions).
    horizontal_flip, vertical_flip : float, default=0.5 and 0.0
        Probability of each flip.
    rotation : float, default=0.0
        Largest rotation in degrees (uniform in ``[-rotation, rotation]``).
    shear : float, default=0.0
        Largest shear angle in degrees.
    translation : float, default=0.0
        Largest shift as a fraction of the image side.
    zoom : float, default=0.0
        Zoom factor drawn in ``[1 - zoom, 1 + zoom]``.
    crop_scale : tuple of (float, float) or None, default=None
        Random resized crop: area fraction drawn in this range and aspect
        ratio in [3/4, 4/3], resized back to the image size. None disables it.
    blur_sigma : float, default=0.0
        Largest Gaussian blur sigma in pixels (uniform in ``[0, blur_sigma]``).
    fill : float, default=0
        Value of pixels the warp uncovers (0 is the black MRI background).
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives the same copies of the same data.

    Attributes
    ----------
    sample_indices_ : ndarray of int64
        For each returned image, the index of the input image it comes from.

    Notes
    -----
    The dtype is kept (uint8 stays uint8). Lists of differently sized images
    are accepted; each copy keeps its source's size.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.sampling import ImageAugmenter
    >>> X, y = make_synthetic_mri(10, image_size=32, random_state=0)
    >>> augmenter = ImageAugmenter(n_copies=2, rotation=10.0, random_state=0)
    >>> X_new, y_new = augmenter.fit_resample(X, y)
    >>> X_new.shape
    (30, 32, 32)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_copies": [Interval(Integral, 0, None, closed="left")],
        "keep_original": ["boolean"],
        **{
            key: AUGMENTATION_CONSTRAINTS[key]
            for key in (
                "horizontal_flip",
                "vertical_flip",
                "rotation",
                "shear",
                "translation",
                "zoom",
                "crop_scale",
                "blur_sigma",
            )
        },
        "fill": [Real],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_copies: int = 1,
        *,
        keep_original: bool = True,
        horizontal_flip: float = 0.5,
        vertical_flip: float = 0.0,
        rotation: float = 0.0,
        shear: float = 0.0,
        translation: float = 0.0,
        zoom: float = 0.0,
        crop_scale: tuple[float, float] | None = None,
        blur_sigma: float = 0.0,
        fill: float = 0,
        random_state=None,
    ) -> None:
        super().__init__()
        self.n_copies = n_copies
        self.keep_original = keep_original
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rotation = rotation
        self.shear = shear
        self.translation = translation
        self.zoom = zoom
        self.crop_scale = crop_scale
        self.blur_sigma = blur_sigma
        self.fill = fill
        self.random_state = random_state

    def _check_param_relations(self) -> None:
        if self.n_copies == 0 and not self.keep_original:
            raise InvalidParameterError(
                "The 'n_copies' parameter of ImageAugmenter must be positive with "
                "keep_original=False, or it would return no images"
            )
        # each option alone is checked by _parameter_constraints; this is the one relation
        check_crop_scale(self, self.crop_scale)

    def _augment(self, image: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        squeeze = image.ndim == 3 and image.shape[-1] == 1
        out = image[..., 0] if squeeze else image
        if out.dtype.kind in "bi" or out.dtype == np.uint32:  # types OpenCV cannot warp
            out = out.astype(np.float32)
        height, width = out.shape[:2]
        if rng.uniform() < self.horizontal_flip:
            out = out[:, ::-1]
        if rng.uniform() < self.vertical_flip:
            out = out[::-1]
        angle = rng.uniform(-self.rotation, self.rotation)
        shear = rng.uniform(-self.shear, self.shear)
        zoom = rng.uniform(1 - self.zoom, 1 + self.zoom)
        shift = rng.uniform(-self.translation, self.translation, size=2) * (width, height)
        out = np.ascontiguousarray(out)
        if angle or shear or zoom != 1 or shift.any():
            matrix = _affine(((width - 1) / 2, (height - 1) / 2), angle, shear, zoom, shift)
            fill = (float(self.fill),) * 4
            out = cv2.warpAffine(
                out,
                matrix,
                (width, height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=fill,
            )
        if self.crop_scale is not None:
            area = rng.uniform(*self.crop_scale) * height * width
            ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
            crop_w = round(min(width, np.sqrt(area * ratio)))
            crop_h = round(min(height, np.sqrt(area / ratio)))
            top = rng.randint(0, height - crop_h + 1)
            left = rng.randint(0, width - crop_w + 1)
            out = cv2.resize(
                np.ascontiguousarray(out[top : top + crop_h, left : left + crop_w]),
                (width, height),
                interpolation=cv2.INTER_LINEAR,
            )
        sigma = rng.uniform(0, self.blur_sigma)
        if sigma > 0:
            out = cv2.GaussianBlur(out, (0, 0), sigma)
        out = out.astype(image.dtype, copy=False)
        return out[..., np.newaxis] if squeeze else out

    def _resample(self, images, y):
        rng = check_random_state(self.random_state)
        n = len(images)
        sources = np.tile(np.arange(n), self.n_copies)
        copies = [self._augment(np.asarray(images[i]), rng) for i in sources]
        if self.keep_original:
            sources = np.concatenate([np.arange(n), sources])
            copies = [np.asarray(image) for image in images] + copies
        if isinstance(images, np.ndarray):
            copies = np.stack(copies)
        return copies, y[sources], sources
