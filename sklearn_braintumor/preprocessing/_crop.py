"""Cropping each slice to the head: the "crop brain contour" recipe of the GBMnet paper."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import cv2
import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._images import rescale_to_uint8, stack_images
from ._base import ImageTransformer


def _to_gray_uint8(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = image[..., 0] if image.shape[-1] == 1 else _luma(image[..., :3])
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    # floats and plain integers (int64 from Python lists) within 0..255 are 8-bit values
    plain = image.dtype.kind == "f" or (image.dtype.kind in "iu" and image.dtype != np.uint16)
    if plain and image.max() <= 255:
        return np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return rescale_to_uint8(image)


def _luma(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype == np.uint8:
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _clear_frame(mask: np.ndarray) -> None:
    """Zero a bright frame along all four borders of a thresholded image, in place.

    A white frame or film border around a scan would otherwise be the largest
    contour, and the crop would keep the whole image. Rows and columns are
    peeled from each side while at least 90 % of their pixels are bright, and
    only when all four borders are; a head reaching the border leaves most of
    the border line dark, and an image bright everywhere is left as it is.
    """
    height, width = mask.shape

    def bright(line: np.ndarray) -> bool:
        return np.count_nonzero(line) >= 0.9 * line.size

    if not all(bright(line) for line in (mask[0], mask[-1], mask[:, 0], mask[:, -1])):
        return
    top, bottom, left, right = 0, height, 0, width
    while top < bottom and bright(mask[top, left:right]):
        top += 1
    while bottom > top and bright(mask[bottom - 1, left:right]):
        bottom -= 1
    while left < right and bright(mask[top:bottom, left]):
        left += 1
    while right > left and bright(mask[top:bottom, right - 1]):
        right -= 1
    if top >= bottom or left >= right:
        return
    mask[:top], mask[bottom:], mask[:, :left], mask[:, right:] = 0, 0, 0, 0


class BrainCrop(ImageTransformer):
    """Crop each image to the bounding box of its largest bright region (the head).

    The recipe of the GBMnet paper (and of the widely copied "crop brain
    contour" notebook): grayscale, Gaussian blur, binary threshold, erosion
    then dilation, largest external contour, crop to its extreme points. It
    runs on OpenCV, so the boxes are those of the reference recipe, except
    that the crop includes the extreme rows and columns (the notebook's
    slicing drops the last row and column of the box).

    A bright frame along all four borders (a white frame or film border
    around the scan) is left out of the thresholded image before the largest
    region is chosen, so the crop excludes it.

    When the largest region covers less than ``min_area`` of the image, or no
    pixel passes the threshold, the image is returned whole; ``fit`` counts
    those images in ``n_fallback_``, and :meth:`crop_boxes` reports them for
    any data.

    Parameters
    ----------
    blur : int, default=5
        Side of the Gaussian blur kernel (odd); 0 or 1 disables blurring.
        OpenCV derives sigma from it (5 gives the binomial [1 4 6 4 1] / 16).
    threshold : int or "otsu", default=45
        Gray level (0..255) above which a pixel belongs to the foreground, or
        ``"otsu"`` for Otsu's threshold per image.
    erode_iterations : int, default=2
        Erosions with a 3x3 kernel, removing thin bright noise.
    dilate_iterations : int, default=2
        Dilations with a 3x3 kernel after the erosions.
    margin : int, default=0
        Pixels added on each side of the box (clipped to the image).
    min_area : float, default=0.05
        Smallest plausible box, as a fraction of the image area.

    Attributes
    ----------
    n_fallback_ : int
        Number of images of the data given to ``fit`` that were kept whole.
    fallback_mask_ : ndarray of bool, shape (n_samples,)
        Which images of the data given to ``fit`` were kept whole.

    Notes
    -----
    Thresholds apply to 8-bit intensities: uint8 images are used as they
    are, float images with values in [0, 255] are rounded, integer images
    of other dtypes (int64, int32) with values in [0, 255] are read as 8-bit
    values, and other images (uint16, larger values) are rescaled per image
    to 0..255 for the box
    computation only; the crop is taken from the original array, whose dtype
    is kept. RGB(A) images are thresholded on their luma. Negative values
    are rejected.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.preprocessing import BrainCrop
    >>> X, y = make_synthetic_mri(4, image_size=64, random_state=0)
    >>> crops = BrainCrop().fit_transform(X)
    >>> crops.dtype, crops[0].shape[0] < 64
    (dtype('O'), True)
    """

    _non_negative = True
    _parameter_constraints: ClassVar[dict] = {
        "blur": [Interval(Integral, 0, None, closed="left")],
        "threshold": [Interval(Real, 0, 255, closed="left"), StrOptions({"otsu"})],
        "erode_iterations": [Interval(Integral, 0, None, closed="left")],
        "dilate_iterations": [Interval(Integral, 0, None, closed="left")],
        "margin": [Interval(Integral, 0, None, closed="left")],
        "min_area": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        blur: int = 5,
        threshold: int | str = 45,
        erode_iterations: int = 2,
        dilate_iterations: int = 2,
        margin: int = 0,
        min_area: float = 0.05,
    ) -> None:
        self.blur = blur
        self.threshold = threshold
        self.erode_iterations = erode_iterations
        self.dilate_iterations = dilate_iterations
        self.margin = margin
        self.min_area = min_area

    def _check_param_relations(self) -> None:
        if self.blur > 1 and self.blur % 2 == 0:
            raise self._invalid(
                f"'blur' parameter must be odd (an OpenCV kernel side), got {self.blur}"
            )

    def _box(self, image: np.ndarray) -> tuple[int, int, int, int, bool]:
        gray = _to_gray_uint8(image)
        if self.blur > 1:
            gray = cv2.GaussianBlur(gray, (self.blur, self.blur), 0)
        if self.threshold == "otsu":
            _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        else:
            _, mask = cv2.threshold(gray, float(self.threshold), 255, cv2.THRESH_BINARY)
        if self.erode_iterations:
            mask = cv2.erode(mask, None, iterations=self.erode_iterations)
        if self.dilate_iterations:
            mask = cv2.dilate(mask, None, iterations=self.dilate_iterations)
        _clear_frame(mask)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        height, width = gray.shape
        if contours:
            x, y, w, h = cv2.boundingRect(max(contours, key=cv2.contourArea))
            if w * h >= self.min_area * height * width:
                m = self.margin
                return (
                    max(y - m, 0),
                    min(y + h + m, height),
                    max(x - m, 0),
                    min(x + w + m, width),
                    False,
                )
        return 0, height, 0, width, True

    def _boxes(self, images) -> tuple[np.ndarray, np.ndarray]:
        results = [self._box(image) for image in images]
        boxes = np.array([r[:4] for r in results], dtype=np.int64).reshape(-1, 4)
        return boxes, np.array([r[4] for r in results], dtype=bool)

    @staticmethod
    def _apply(images, boxes: np.ndarray) -> np.ndarray:
        return stack_images(
            [image[t:b, left:r] for image, (t, b, left, r) in zip(images, boxes, strict=True)]
        )

    def crop_boxes(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Return the crop box of each image and whether it fell back to the whole.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or list
            Images.

        Returns
        -------
        boxes : ndarray of int64, shape (n_samples, 4)
            ``(top, bottom, left, right)``, bottom and right exclusive, so the
            crop is ``image[top:bottom, left:right]``.
        fallback : ndarray of bool, shape (n_samples,)
            True where the image is kept whole.
        """
        return self._boxes(self._check(X))

    def fit(self, X, y=None):
        """Validate the images and count those the crop cannot handle.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or list
            Images.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        _, self.fallback_mask_ = self.crop_boxes(X)
        self.n_fallback_ = int(self.fallback_mask_.sum())
        return self

    def fit_transform(self, X, y=None):
        """Fit, then crop, computing each box once.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or list
            Images.
        y : None
            Ignored.

        Returns
        -------
        crops : ndarray
            An object array of crops (their sizes differ), or a stacked array
            if all crops happen to have the same shape.
        """
        images = self._check(X)
        boxes, self.fallback_mask_ = self._boxes(images)
        self.n_fallback_ = int(self.fallback_mask_.sum())
        return self._apply(images, boxes)

    def _transform_images(self, images):
        return self._apply(images, self._boxes(images)[0])
