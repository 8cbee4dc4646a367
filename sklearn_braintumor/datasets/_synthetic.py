"""Synthetic head-like MRI phantoms for fast, data-free tests."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_scalar

__all__ = ["make_synthetic_mri"]


def _ellipse(yy, xx, cy, cx, ry, rx, angle):
    cos, sin = np.cos(angle), np.sin(angle)
    u = (xx - cx) * cos + (yy - cy) * sin
    v = -(xx - cx) * sin + (yy - cy) * cos
    return (u / rx) ** 2 + (v / ry) ** 2


def make_synthetic_mri(
    n_samples: int = 100,
    *,
    n_classes: int = 4,
    image_size: int = 64,
    noise: float = 6.0,
    random_state: int | np.random.RandomState | None = None,
    return_masks: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generate axial-slice-like head phantoms whose class is set by a lesion.

    Each image is a black background with an elliptical head of random
    position, size and tilt: a bright skull ring, textured gray brain tissue
    and two dark ventricles. Class 0 has no lesion (like "notumor"); class
    ``k >= 1`` has one bright, ring-enhancing lesion whose position on a
    circle around the brain centre, radius and contrast depend on ``k``, with
    random jitter. Classes are balanced (they differ by at most one sample)
    and shuffled.

    Parameters
    ----------
    n_samples : int, default=100
        Number of images.
    n_classes : int, default=4
        Number of classes, at least 2.
    image_size : int, default=64
        Side of the square images in pixels, at least 16.
    noise : float, default=6.0
        Standard deviation of the additive Gaussian noise, in gray levels.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    return_masks : bool, default=False
        Also return the lesion masks (all False for class 0), e.g. to check
        that a saliency map points at the lesion.

    Returns
    -------
    images : ndarray of uint8, shape (n_samples, image_size, image_size)
    target : ndarray of int64, shape (n_samples,)
    masks : ndarray of bool, shape (n_samples, image_size, image_size)
        Only if ``return_masks`` is True.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> X, y = make_synthetic_mri(8, image_size=32, random_state=0)
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((8, 32, 32), dtype('uint8'), [0, 1, 2, 3])
    """
    check_scalar(n_samples, "n_samples", int, min_val=1)
    check_scalar(n_classes, "n_classes", int, min_val=2)
    check_scalar(image_size, "image_size", int, min_val=16)
    check_scalar(noise, "noise", (int, float), min_val=0)
    rng = check_random_state(random_state)

    target = np.arange(n_samples, dtype=np.int64) % n_classes
    rng.shuffle(target)
    coords = (np.arange(image_size) + 0.5) / image_size * 2.0 - 1.0
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    images = np.empty((n_samples, image_size, image_size), dtype=np.uint8)
    masks = np.zeros((n_samples, image_size, image_size), dtype=bool)
    texture_sigma = image_size / 40.0

    for index, label in enumerate(target):
        cy, cx = rng.uniform(-0.06, 0.06, size=2)
        rx = rng.uniform(0.62, 0.74)
        ry = rx * rng.uniform(1.12, 1.22)
        tilt = rng.uniform(-0.15, 0.15)
        head = _ellipse(yy, xx, cy, cx, ry, rx, tilt)
        image = np.zeros((image_size, image_size))
        image[head <= 1.0] = 185.0  # skull and scalp
        brain = head <= 0.78
        texture = gaussian_filter(rng.normal(size=image.shape), texture_sigma)
        texture /= texture.std() + 1e-12
        image[brain] = 95.0 + 14.0 * texture[brain]
        for side in (-1.0, 1.0):
            ventricle = (
                _ellipse(
                    yy,
                    xx,
                    cy - 0.05 * ry,
                    cx + side * 0.12 * rx,
                    0.2 * ry,
                    0.07 * rx,
                    tilt,
                )
                <= 1.0
            )
            image[ventricle & brain] = 35.0
        if label > 0:
            step = 2.0 * np.pi / (n_classes - 1)
            theta = tilt + (label - 1) * step + rng.uniform(-0.2, 0.2) * step
            distance = 0.42 + rng.uniform(-0.05, 0.05)
            ly = cy + distance * ry * np.sin(theta)
            lx = cx + distance * rx * np.cos(theta)
            radius = (0.09 + 0.03 * ((label - 1) % 3)) * rng.uniform(0.85, 1.15)
            lesion = _ellipse(
                yy,
                xx,
                ly,
                lx,
                radius,
                radius * rng.uniform(0.8, 1.2),
                rng.uniform(0, np.pi),
            )
            mask = (lesion <= 1.0) & brain
            image[mask] = 215.0 - 25.0 * ((label - 1) % 2)
            image[(lesion <= 0.35) & brain] = 140.0  # necrotic core
            masks[index] = mask
        image = gaussian_filter(image, 0.6) + rng.normal(scale=noise, size=image.shape)
        images[index] = np.clip(np.rint(image), 0, 255).astype(np.uint8)

    if return_masks:
        return images, target, masks
    return images, target
