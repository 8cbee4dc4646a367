"""Counterfactual lesions: tumour images in the healthy collection's own style."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import cv2
import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from ._base import ImageSampler


def brain_mask(image: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """Return the inside of the head, skull and scalp left out.

    Pixels above ``threshold`` of the smoothed 99th percentile, eroded by a
    tenth of the head's extent.
    """
    gray = image.astype(np.float32)
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.5)
    peak = float(np.percentile(smooth, 99)) or 1.0
    mask = (smooth > threshold * peak).astype(np.uint8)
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return mask.astype(bool)
    depth = max(1, int(0.1 * min(np.ptp(rows), np.ptp(cols))))
    return cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=depth).astype(bool)


class SyntheticLesions(ImageSampler):
    """Add copies of healthy scans with a synthetic lesion inside the brain, labelled tumour.

    In a pooled dataset whose healthy class comes from one collection (the
    4-class set's ``notumor`` images are Br35H scans), a network can learn
    the collection's look instead of the lesion. This sampler breaks that
    confound inside the data: it copies each image of ``source`` class,
    draws a lesion into the brain, and labels the copy ``target``. Every
    pixel outside the lesion keeps its value, so the copy keeps the healthy
    collection's style; only the lesion tells the classes apart.

    Two lesion models: ``lesion="blob"`` draws an ellipse of random size,
    orientation and texture (a bright, a dark-cored ring-enhancing or a faint
    oedema-like mass, softened at its edge) anywhere inside the brain;
    ``lesion="mass"`` draws what a tumour looks like on a T2-weighted slice:
    a bright, uneven mass with an irregular outline, lying wholly inside the
    brain, in a halo of fainter oedema, pushing the tissue around it outward
    (mass effect: the ventricles and folds near it are displaced, so the
    pixels changed, the ``lesion_masks_``, reach beyond the mass itself).

    It acts on training data only (an imbalanced-learn sampler), after the
    images are cropped and resized; in a ``CNNClassifier`` pass it as
    ``sampler=`` so that the validation split holds real images only.

    Parameters
    ----------
    source : label, default="notumor"
        The class whose images get lesions.
    target : label, default="tumor"
        The label of the copies (a class of ``y``; with a 4-class target use a
        tumour type, or the binary task's ``"tumor"``).
    n_copies : int, default=1
        Lesion copies per ``source`` image.
    size : tuple of (float, float), default=(0.06, 0.2)
        Range of the lesion's half-axes (``"mass"``: its radius) as a share
        of the brain's extent.
    lesion : {"blob", "mass"}, default="blob"
        The lesion model (see above).
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    sample_indices_ : ndarray of int64
        For each returned sample, the index of the input image it comes from.
    lesion_masks_ : list of ndarray of bool
        The lesion of each copy (in output order after the originals): where
        the copy differs from its source image.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.sampling import SyntheticLesions
    >>> X, y = make_synthetic_mri(8, image_size=32, random_state=0)
    >>> labels = np.where(y == 0, "notumor", "tumor")
    >>> X_new, y_new = SyntheticLesions(random_state=0).fit_resample(X, labels)
    >>> len(X), len(X_new), y_new[len(X):].tolist()
    (8, 10, ['tumor', 'tumor'])
    """

    _parameter_constraints: ClassVar[dict] = {
        "source": [object],
        "target": [object],
        "n_copies": [Interval(Integral, 1, None, closed="left")],
        "size": [tuple, list],
        "lesion": [StrOptions({"blob", "mass"})],
        "random_state": ["random_state"],
    }

    def __init__(self, source="notumor", target="tumor", n_copies: int = 1,
                 size=(0.06, 0.2), lesion="blob", random_state=None):  # fmt: skip
        super().__init__()
        self.source = source
        self.target = target
        self.n_copies = n_copies
        self.size = size
        self.lesion = lesion
        self.random_state = random_state

    def _check_param_relations(self) -> None:
        if len(self.size) != 2 or not 0 < self.size[0] <= self.size[1] < 0.5:
            raise InvalidParameterError(
                "The 'size' parameter of SyntheticLesions must be (low, high) with "
                f"0 < low <= high < 0.5, got {self.size!r}"
            )

    def _lesion(self, image: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Return ``image`` with a lesion drawn inside its brain, and the lesion's mask."""
        gray = image if image.ndim == 2 else image.mean(axis=2)
        inside = brain_mask(gray)
        if inside.sum() < 16:  # no brain to speak of: an unchanged copy, no lesion
            return image.copy(), np.zeros(gray.shape, bool)
        rows, cols = np.nonzero(inside)
        extent = min(np.ptp(rows), np.ptp(cols)) + 1
        if self.lesion == "mass":
            out, changed = self._mass(gray.astype(np.float32), inside, extent, rng)
            return self._as_source(image, out, changed), changed
        k = rng.randint(len(rows))
        centre = (int(cols[k]), int(rows[k]))
        axes = tuple(max(2, int(extent * rng.uniform(*self.size))) for _ in range(2))
        blob = np.zeros(gray.shape, np.float32)
        cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), max(1.0, min(axes) / 4)) * inside
        tissue = gray[inside]
        low, high = np.percentile(tissue, [5, 99.5])
        texture = cv2.GaussianBlur(rng.normal(0, 1, gray.shape).astype(np.float32), (0, 0), 1.5)
        kind = rng.randint(3)
        if kind == 0:  # bright mass
            value = high * rng.uniform(0.85, 1.1) + 0.08 * (high - low) * texture
        elif kind == 1:  # ring-enhancing with a dark core
            core = cv2.erode((blob > 0.5).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2)
            core = cv2.GaussianBlur(core.astype(np.float32), (0, 0), 1.0)
            value = high * (1 - core) + low * core + 0.05 * (high - low) * texture
        else:  # faint oedema-like mass
            value = gray + (high - np.median(tissue)) * rng.uniform(0.3, 0.6) * (1 + 0.2 * texture)
        alpha = np.clip(blob * rng.uniform(0.7, 1.0), 0, 1)
        out = gray * (1 - alpha) + value * alpha
        changed = alpha > 1e-3
        return self._as_source(image, out, changed), changed

    def _mass(self, gray: np.ndarray, inside: np.ndarray, extent: int,
              rng) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Draw a T2-like mass: bright, uneven, irregular, in oedema, pushing the tissue aside.

        ``extent`` is the brain's smaller side in pixels. Returns the drawn
        image (float) and where it differs from ``gray``.
        """
        depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)
        # the mass and its rim of oedema lie wholly inside the brain
        radius = min(extent * rng.uniform(*self.size), 0.6 * float(depth.max()))
        fits = np.flatnonzero(depth.ravel() >= 1.4 * radius)
        if not len(fits):
            fits = np.flatnonzero(depth.ravel() >= 0.8 * depth.max())
        cy, cx = (int(v) for v in np.unravel_index(fits[rng.randint(len(fits))], gray.shape))
        yy, xx = np.mgrid[: gray.shape[0], : gray.shape[1]].astype(np.float32)
        dy, dx = yy - cy, xx - cx
        rho = np.hypot(dx, dy)
        # mass effect: the tissue near the mass is drawn from closer to its centre
        push = rng.uniform(0.2, 0.6) * np.exp(-((rho / (2.0 * radius)) ** 2))
        map_x, map_y = ((c + d * (1 - push)).astype(np.float32) for c, d in ((cx, dx), (cy, dy)))
        moved = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        moved = np.where(inside, moved, gray)
        # an irregular outline: an ellipse whose radius wavers with the angle
        angle = np.arctan2(dy, dx)
        turn, squash = rng.uniform(0, np.pi), rng.uniform(0.65, 1.0)
        wobble = [rng.uniform(0, 0.12) * np.cos(k * angle + rng.uniform(0, 2 * np.pi))
                  for k in (2, 3, 4, 5)]  # fmt: skip
        outline = radius * (1 + sum(wobble))
        stretch = np.sqrt(np.cos(angle - turn) ** 2 + (np.sin(angle - turn) / squash) ** 2)
        distance = rho * stretch / outline  # < 1 inside the mass
        tissue = gray[inside]
        low, high = np.percentile(tissue, [5, 99.5])
        texture = cv2.GaussianBlur(rng.normal(0, 1, gray.shape).astype(np.float32), (0, 0),
                                   max(1.0, radius / 4))  # fmt: skip
        texture /= texture.std() or 1.0
        core = high * rng.uniform(0.8, 1.05) + rng.uniform(0.05, 0.2) * (high - low) * texture
        oedema = high * rng.uniform(0.45, 0.8) + 0.05 * (high - low) * texture
        halo = rng.uniform(0.3, 0.9)  # how far the oedema reaches, in radii
        a_oedema = np.clip(1 - (distance - 1) / halo, 0, 1) * rng.uniform(0.3, 0.8)
        a_oedema = a_oedema * inside * (moved < oedema)  # oedema brightens, never darkens
        a_core = np.clip((1.1 - distance) / 0.25, 0, 1) * inside
        out = moved * (1 - a_oedema) + oedema * a_oedema
        out = out * (1 - a_core) + core * a_core
        out = np.clip(out, 0, None)
        changed = inside & (np.abs(out - gray) > 1e-3 * max(float(high), 1e-6))
        return out, changed  # _as_source keeps the source where nothing changed

    @staticmethod
    def _as_source(image: np.ndarray, out: np.ndarray, changed: np.ndarray) -> np.ndarray:
        """``out`` in ``image``'s dtype and channels, ``image`` itself where nothing changed."""
        if image.ndim == 3:
            out = np.repeat(out[..., None], image.shape[2], axis=2)
            keep = ~changed[..., None].repeat(image.shape[2], axis=2)
        else:
            keep = ~changed
        if image.dtype.kind in "ui":
            info = np.iinfo(image.dtype)
            out = np.clip(np.rint(out), info.min, info.max)
        result = out.astype(image.dtype)
        result[keep] = image[keep]  # outside the lesion: the source image, bit for bit
        return result

    def _resample(self, images, y):
        rng = check_random_state(self.random_state)
        chosen = np.flatnonzero(y == self.source)
        if len(chosen) and self.target not in set(y.tolist()):
            raise ValueError(
                f"target {self.target!r} is not a label of y ({sorted(set(y.tolist()), key=str)}); "
                "the copies need a class the estimator knows"
            )
        n = len(images)
        copies = np.repeat(chosen, self.n_copies)
        drawn = [self._lesion(np.asarray(images[i]), rng) for i in copies]
        self.lesion_masks_ = [mask for _, mask in drawn]
        out = [np.asarray(image) for image in images] + [image for image, _ in drawn]
        labels = np.concatenate([y, np.asarray([self.target] * len(copies), dtype=y.dtype)])
        indices = np.concatenate([np.arange(n), copies]).astype(np.int64)
        if isinstance(images, np.ndarray):
            out = np.stack(out)
        return out, labels, indices
