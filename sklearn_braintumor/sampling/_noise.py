"""Training-time Gaussian noise (paper A)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._base import ImageSampler


class GaussianNoise(ImageSampler):
    """Add Gaussian noise to training images, in place or as extra noisy copies.

    Inside an :class:`imblearn.pipeline.Pipeline` it perturbs the training
    data only; prediction sees clean images. This is the training-time noise
    injection of paper A (a Keras ``GaussianNoise`` layer is active only while
    training, too).

    Parameters
    ----------
    std : float, default=10.0
        Standard deviation of the noise, in the images' intensity units (10
        is about 4 % of the uint8 range; use about 0.04 for images scaled to
        [0, 1]).
    n_copies : int, default=0
        0 replaces every image by a noisy version; ``k > 0`` keeps the
        originals and appends ``k`` noisy copies of each (labels repeated).
    clip : tuple of (float, float) or None, default=None
        Clip the noisy values to ``(low, high)``, e.g. ``(0, 255)``.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise; the same seed gives the same noise on the same data.

    Attributes
    ----------
    sample_indices_ : ndarray of int64
        For each returned sample, the index of the input image it comes from.

    Notes
    -----
    The output is float32 (noise cannot be stored in uint8 without
    rounding). A 2D array ``(n_samples, n_features)`` is treated as flattened
    images, so the sampler can also follow ``ImageFlattener`` or SMOTE.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.sampling import GaussianNoise
    >>> X, y = make_synthetic_mri(10, image_size=16, random_state=0)
    >>> X_new, y_new = GaussianNoise(std=5.0, n_copies=1, random_state=0).fit_resample(X, y)
    >>> X_new.shape, X_new.dtype
    ((20, 16, 16), dtype('float32'))
    """

    _allow_2d = True
    _parameter_constraints: ClassVar[dict] = {
        "std": [Interval(Real, 0, None, closed="left")],
        "n_copies": [Interval(Integral, 0, None, closed="left")],
        "clip": [tuple, list, None],
        "random_state": ["random_state"],
    }

    def __init__(self, std: float = 10.0, n_copies: int = 0, clip=None, random_state=None):
        super().__init__()
        self.std = std
        self.n_copies = n_copies
        self.clip = clip
        self.random_state = random_state

    def _resample(self, images, y):
        rng = check_random_state(self.random_state)
        n = len(images)

        def noisy(image):
            out = np.asarray(image, dtype=np.float32) + rng.normal(
                scale=self.std, size=np.shape(image)
            ).astype(np.float32)
            return out if self.clip is None else np.clip(out, *self.clip)

        if self.n_copies == 0:
            indices = np.arange(n)
            out = [noisy(image) for image in images]
        else:
            indices = np.concatenate([np.arange(n)] * (self.n_copies + 1))
            out = [np.asarray(image, dtype=np.float32) for image in images]
            out += [noisy(images[i]) for i in indices[n:]]
        if isinstance(images, np.ndarray):
            out = np.stack(out)
        return out, y[indices], indices
