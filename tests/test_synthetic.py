import numpy as np
import pytest
from skimage.transform import downscale_local_mean
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from sklearn_braintumor.datasets import make_synthetic_mri


def test_shapes_balance_and_determinism():
    X, y, masks = make_synthetic_mri(
        50, n_classes=3, image_size=32, random_state=0, return_masks=True
    )
    assert X.shape == (50, 32, 32) and X.dtype == np.uint8
    assert masks.shape == X.shape and masks.dtype == bool
    assert sorted(np.bincount(y).tolist()) == [16, 17, 17]
    X2, y2 = make_synthetic_mri(50, n_classes=3, image_size=32, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_synthetic_mri(50, n_classes=3, image_size=32, random_state=1)
    assert not np.array_equal(X, X3)


def test_head_on_black_background_and_lesions_inside():
    X, y, masks = make_synthetic_mri(40, image_size=64, noise=0, random_state=0, return_masks=True)
    assert (X[:, 0, 0] == 0).all() and (X[:, -1, -1] == 0).all()
    assert (X[:, 32, 32] > 20).all()
    assert not masks[y == 0].any()
    sizes = masks[y > 0].sum(axis=(1, 2))
    assert (sizes > 10).all()
    for image, mask in zip(X[y > 0], masks[y > 0], strict=True):
        assert image[mask].mean() > image[~mask & (image > 0)].mean() + 30


def test_classes_are_learnable():
    X, y = make_synthetic_mri(240, image_size=32, random_state=0)
    features = np.stack([downscale_local_mean(x, (2, 2)) for x in X]).reshape(len(X), -1)
    scores = cross_val_score(LogisticRegression(max_iter=2000), features / 255, y, cv=3)
    assert scores.mean() > 0.7  # chance is 0.25


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_classes": 1}, "n_classes"),
        ({"image_size": 8}, "image_size"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_synthetic_mri(**{"n_samples": 4, **kwargs})
