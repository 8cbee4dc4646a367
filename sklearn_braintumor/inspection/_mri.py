"""Is this a brain MRI slice at all? A check of the image itself, apart from any model.

A classifier trained on brain MRI slices answers for any image, a holiday
photograph included. :func:`not_mri_reasons` looks at the image, not at a
network, and says why it is not a brain MRI slice, or nothing. The rules, and
what they measured on real slices, are in :func:`not_mri_reasons`.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from ..utils._images import as_uint8
from ..utils._validation import as_image_sequence

MIN_SIDE = 32
MIN_STD = 4.0
MAX_COLOUR_SHARE = 0.1
COLOUR_DIFFERENCE = 25
MAX_NOISE = 2.2
MIN_GREY_LEVELS = 64
MIN_EFFECTIVE_LEVELS = 4.0
DARK_LEVEL = 0.1
MIN_DARK_SHARE = 0.02
MAX_BORDER_LEVEL = 0.3
EDGE_LEVEL = 0.15  # within this share of the grey range from its darkest (or brightest) end
MIN_EDGE_DARK = 0.06
MAX_EDGE_BRIGHT = 0.5
MIN_OBJECT_SHARE = 0.05
MAX_FLAT_SHARE = 0.7
MAX_PATTERN_SHARE = 0.97
_SIDE = 128  # larger images are measured at this size (area interpolation)


def _grey(image: np.ndarray) -> tuple[np.ndarray, str]:
    """Return the grey levels of ``image`` and a colour reason ("" for none)."""
    if image.ndim == 3 and image.shape[2] in (1, 2):  # grey, or grey and alpha
        image = image[..., 0]
    if image.ndim == 2:
        return image, ""
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(
            "expected images of shape (height, width) or (height, width, 1 | 2 | 3 | 4), got "
            f"{image.shape}"
        )
    rgb = image[..., :3]
    if image.shape[2] == 4:  # over black, as the library's readers compose transparency
        alpha = image[..., 3:].astype(np.uint16)
        rgb = ((rgb * alpha + 127) // 255).astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    red, green, blue = cv2.split(rgb)
    # uint8: the maximum is never below the minimum
    spread = cv2.max(cv2.max(red, green), blue) - cv2.min(cv2.min(red, green), blue)
    share = float(np.count_nonzero(spread > COLOUR_DIFFERENCE)) / spread.size
    # Pillow's ITU-R 601-2 luma, so grey images stay exactly the same
    grey = np.asarray(Image.fromarray(rgb, "RGB").convert("L"))
    reason = f"a colour image ({share:.0%} of pixels coloured)" if share > MAX_COLOUR_SHARE else ""
    return grey, reason


def grey_and_reason(image: np.ndarray) -> tuple[np.ndarray, str]:
    """Return the image's uint8 grey levels (Pillow's, for colour) and why it is not an MRI slice.

    The reason is "" when the image may be one; the grey image is what a
    grayscale reader gives for the same file, so a caller that checked a
    colour image need not convert it again.
    """
    grey, colour = _grey(as_uint8(image))
    return grey, _reason(grey, colour)


def _band(image: np.ndarray, width: int) -> np.ndarray:
    """Return the pixels of the image's outer band, ``width`` pixels wide, as one array."""
    return np.concatenate([image[:width].ravel(), image[-width:].ravel(),
                           image[:, :width].ravel(), image[:, -width:].ravel()])  # fmt: skip


def _reason(grey: np.ndarray, colour: str) -> str:
    """Return why a grey image (with its colour verdict) is not a brain MRI slice, or ""."""
    height, width = grey.shape
    if min(height, width) < MIN_SIDE:
        return f"too small to be a scan ({height} x {width} pixels)"
    if colour:
        return colour
    std = float(grey.std())
    if std < MIN_STD:
        return f"blank or nearly blank (grey-level standard deviation {std:.1f})"
    histogram = np.bincount(grey.ravel(), minlength=256)
    shares = histogram[histogram > 0] / grey.size
    levels = len(shares)
    # a slice saved with few grey levels still spreads its pixels over them; a drawing does not
    effective = float(np.exp(-np.sum(shares * np.log(shares))))
    if levels < MIN_GREY_LEVELS and effective < MIN_EFFECTIVE_LEVELS:
        return f"a drawing or diagram (only {levels} grey levels, {effective:.1f} in effect)"
    side = min(_SIDE, height, width)  # shrunk, never enlarged (that would smooth noise away)
    small = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    noise = float(np.abs(cv2.Laplacian(small, cv2.CV_32F)).mean() / (small.std() + 1e-6))
    if noise > MAX_NOISE:
        return f"noise or text, not anatomy (pixel-to-pixel variation {noise:.1f})"
    low, high = np.percentile(small, [1, 99.5])
    level = small / (high + 1e-6)
    dark = level < DARK_LEVEL
    edge = max(1, side // 20)
    border = _band(level, edge)
    if dark.mean() < MIN_DARK_SHARE and np.median(border) > MAX_BORDER_LEVEL:
        return "no dark background around a head (a photograph or a page)"
    # the image's own darkest levels (its 1st percentile up): a slice's background fills much
    # of its edges, even lifted, noisy or with the head touching them; a photograph's dark
    # parts lie anywhere. A slice copied from a printed page has a white background instead.
    edges = (_band(small, edge) - low) / (high - low + 1e-6)
    edge_dark, edge_bright = np.mean(edges < EDGE_LEVEL), np.mean(edges > 1 - EDGE_LEVEL)
    if edge_dark < MIN_EDGE_DARK and edge_bright < MAX_EDGE_BRIGHT:
        return f"no dark background at the edges ({edge_dark:.0%} of them dark; a photograph)"
    contours, _ = cv2.findContours(
        (~dark).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    largest = max((cv2.contourArea(c) for c in contours), default=0.0) / dark.size
    if largest < MIN_OBJECT_SHARE:
        return f"no head-sized object (the largest bright region covers {largest:.1%})"
    gx, gy = cv2.Sobel(small, cv2.CV_32F, 1, 0), cv2.Sobel(small, cv2.CV_32F, 0, 1)
    flat = float(np.mean(np.hypot(gx, gy)[~dark] < 1.0)) if (~dark).any() else 1.0
    if flat > MAX_FLAT_SHARE:
        return f"a drawing or diagram ({flat:.0%} of the picture flat)"
    # a gradient, stripes or a blurred blob is (nearly) a sum of two products of a row
    # profile and a column profile; a slice's anatomy needs many more
    strengths = np.linalg.svd(small - small.mean(), compute_uv=False) ** 2
    pattern = float(strengths[:2].sum() / (strengths.sum() + 1e-6))
    if pattern > MAX_PATTERN_SHARE:
        return f"a plain pattern, not anatomy ({pattern:.1%} of it in two components)"
    return ""


def not_mri_reasons(images) -> np.ndarray:
    """Say, for each image, why it is not a brain MRI slice ("" when it may be one).

    The check looks at the image alone (its size, colour, grey levels,
    texture and layout; see Notes for the rules and the values
    measured on real slices), so it answers the same for every model. It is
    what ``ood`` means in
    :meth:`~sklearn_braintumor.classifiers.CNNClassifier.predict_ood`,
    ``braintumor predict`` and ``braintumor evaluate``. A slice from another
    scanner, sequence or collection is not flagged: how far it lies from a
    model's training images is :func:`~sklearn_braintumor.classifiers.shift_score`.

    Parameters
    ----------
    images : array-like or list of images
        Images as read from files, before any preprocessing: each 2D
        (grayscale) or ``(height, width, 1 | 3 | 4)`` (colour is used when
        given), any numeric dtype (non-uint8 images are rescaled to 0-255
        first), sizes may differ.

    Returns
    -------
    reasons : ndarray of str of shape (n_images,)
        ``""`` where the image passes every rule, else the first rule it
        fails, in words.

    Notes
    -----
    Each rule states one property that every slice measured has and the non-images tried
    lack, with a margin beyond the most extreme real slice: the 7,272 slices of
    the public 4-class set (Training and Testing) and the yes/no set, read as
    files (larger images measured at 128 px), and 17 slices of other
    collections, none flagged (ITK's example brain slices, proton density and
    T1, two of them saved with only 27 and 32 grey levels; a T1 volume's slices
    in three planes; matplotlib's sagittal sample, 16-bit and 8-bit):

    =========================  =====================================  =============  ============
    rule                       measure                                real slices    flagged when
    =========================  =====================================  =============  ============
    too small                  shorter side, pixels                   150 - 1275     < 32
    colour                     share of pixels whose channels differ  0 - 0.066      > 0.1
                               by more than 25 grey levels
    blank                      standard deviation of the grey levels  20.8 - 102     < 4
    few grey levels            distinct grey levels, and the exp of   127 - 256,     < 64 and
                               their histogram's entropy (levels in   4.6 - 226      < 4
                               effect; 9.1 and 10.2 in ITK's two
                               slices with 27 and 32 levels, 4.9 in
                               a sample scan cut to 24; pages and
                               drawings 1.9 - 3.1)
    noise or text              mean absolute Laplacian over the       0.07 - 1.93    > 2.2
                               standard deviation
    no dark surround           median border level (over the 99.5th   0 - 0.24       > 0.3 and
                               percentile) where under 2 % of the                    dark < 2 %
                               pixels are dark (below a tenth of it)
    no dark edges              share of the border (its outer 5 %)    0.30 - 1       < 0.06 and
                               within 15 % of the grey range of the   (0.096 after   bright < 0.5
                               image's darkest end (1st percentile);  gamma 0.6)
                               "bright": of its brightest end, for
                               slices copied from a white page (3
                               slices, dark share 0.115 and up)
    no head-sized object       the largest non-dark region's share    0.137 - 0.984  < 0.05
    flat like a drawing        share of non-dark pixels with no       0 - 0.52       > 0.7
                               gradient
    plain pattern              share of the variance in the two       0.26 - 0.925   > 0.97
                               strongest components (singular
                               values, image less its mean)
    =========================  =====================================  =============  ============

    What passes, measured: grey photographs (scikit-image's ``camera``, and 13
    of 37 colour photographs and pictures once turned grey: the colour rule needs the
    colours, and a photograph with dark regions, some of them at its edges, can look like
    a head on a dark background), an MRI slice of another body part (an abdomen), and gradients or
    stripes under strong noise. Every one of those 37 images given in colour is
    flagged. A brain MRI slice of another
    scanner, sequence or plane passes: how unlike the training collections it is,
    is a model's question (:func:`~sklearn_braintumor.classifiers.shift_score`).
    Images cropped to the head (after
    :class:`~sklearn_braintumor.preprocessing.BrainCrop`) lose the dark surround:
    give the images as read.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.inspection import not_mri_reasons
    >>> scans = load_sample("test").images[:3]
    >>> noise = np.random.default_rng(0).integers(0, 256, (256, 256), dtype=np.uint8)
    >>> not_mri_reasons([*scans, noise, np.zeros((256, 256), np.uint8)]).tolist()
    ['', '', '', 'noise or text, not anatomy (pixel-to-pixel variation 3.6)', \
'blank or nearly blank (grey-level standard deviation 0.0)']
    """
    images = as_image_sequence(images)
    if isinstance(images, np.ndarray) and images.dtype != object and images.ndim not in (3, 4):
        raise ValueError(
            "expected a list of images or an array of shape (n_images, height, width[, "
            f"channels]), got an array of shape {images.shape}"
        )
    reasons = []
    for index, image in enumerate(images):
        try:
            reasons.append(grey_and_reason(image)[1])
        except ValueError as exc:
            raise ValueError(f"image {index}: {exc}") from exc
    return np.asarray(reasons, dtype=object)


def not_mri(images) -> np.ndarray:
    """Return True for images that are not brain MRI slices (see :func:`not_mri_reasons`).

    Parameters
    ----------
    images : array-like or list of images
        As :func:`not_mri_reasons` takes them.

    Returns
    -------
    flags : ndarray of bool of shape (n_images,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.inspection import not_mri
    >>> page = np.full((300, 200), 255, np.uint8)
    >>> page[20:280:12, 10:190] = 0  # lines of "text"
    >>> not_mri([load_sample("test").images[0], page]).tolist()
    [False, True]
    """
    return np.asarray([bool(reason) for reason in not_mri_reasons(images)], dtype=bool)
