"""What the CPU training benchmarks share: the embedded sample, cropped and resized once."""

from __future__ import annotations

import numpy as np

from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.preprocessing import BrainCrop, Resize


def cropped_sample(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The sample's 600 training slices cropped to the brain at ``size`` px, and class names."""
    sample = load_sample("train")
    X = Resize((size, size)).fit_transform(BrainCrop().fit_transform(sample.images))
    return X, np.asarray(sample.target_names)[sample.target]
