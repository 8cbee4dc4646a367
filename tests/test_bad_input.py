"""The issue's list of bad input, for every estimator: a clear error or a documented result."""

import numpy as np
import pytest
from sklearn.utils import get_tags

from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.features import GLCMFeatures
from sklearn_braintumor.preprocessing import (
    BrainCrop,
    Grayscale,
    ImageFlattener,
    IntensityScaler,
    Resize,
    ToRGB,
)
from sklearn_braintumor.sampling import DuplicateRemover, GaussianNoise, ImageAugmenter

ESTIMATORS = [
    BrainCrop(), Resize((16, 16)), Grayscale(), ToRGB(), IntensityScaler(), ImageFlattener(),
    GLCMFeatures(), GaussianNoise(random_state=0), DuplicateRemover(),
    ImageAugmenter(random_state=0),
]  # fmt: skip
IDS = [type(e).__name__ for e in ESTIMATORS]
X, Y = make_synthetic_mri(4, image_size=32, random_state=0)


def run(estimator, X, y=None):
    y = np.zeros(len(X), dtype=int) if y is None else y
    if hasattr(estimator, "fit_resample"):
        return estimator.fit_resample(X, y)[0]
    return estimator.fit(X, y).transform(X)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_one_image_is_a_batch_of_one(estimator):
    assert len(run(estimator, X[:1])) >= 1
    if get_tags(estimator).input_tags.two_d_array:
        # documented: a 2D array is a table, one flattened image per row
        assert len(run(estimator, X[0])) == 32
    else:
        with pytest.raises(ValueError, match=r"single image use image\[np\.newaxis\]"):
            run(estimator, X[0])


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_wrong_dimensions_and_empty_input(estimator):
    with pytest.raises(ValueError):
        run(estimator, np.zeros((2, 4, 4, 4, 4)))
    with pytest.raises(ValueError, match="channels"):
        run(estimator, np.zeros((2, 4, 4, 2)))
    with pytest.raises(ValueError, match="no images"):
        run(estimator, [])
    with pytest.raises(ValueError, match="0 sample"):
        run(estimator, np.zeros((0, 4, 4)))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_nan_names_the_sample(estimator):
    bad = X.astype(np.float32)
    bad[3, 1, 2] = np.inf
    with pytest.raises(ValueError, match="sample 3 contains NaN or infinite"):
        run(estimator, bad)
    with pytest.raises(ValueError, match="sample 1 contains NaN"):
        run(estimator, [X[0].astype(float), np.full((5, 5), np.nan)])


NEGATIVE = {  # estimator: what negative intensities do (documented in its docstring)
    "BrainCrop": "error",
    "GLCMFeatures": "error",  # floats must lie in [0, 1] or value_range
}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_negative_values(estimator):
    negative = X.astype(np.float32) / 255 - 0.5
    if NEGATIVE.get(type(estimator).__name__) == "error":
        with pytest.raises(ValueError, match="sample 0"):
            run(estimator, negative)
    else:
        assert np.asarray(run(estimator, negative)[0]).min() < 0 or isinstance(
            estimator, IntensityScaler
        )


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_sixteen_bit_images_are_accepted(estimator):
    deep = X.astype(np.uint16) * 257
    out = run(estimator, deep)
    assert len(out) >= 4 and np.isfinite(np.asarray(out[0], dtype=np.float64)).all()
