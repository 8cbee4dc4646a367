"""RimRemover: the head's outer rim set to the background, the inside kept."""

import numpy as np
import pytest
from scipy import ndimage
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.preprocessing import BrainCrop, IntensityScaler, Resize, RimRemover


def _ellipse(rng, size=48):
    yy, xx = np.mgrid[:size, :size]
    cy, cx = rng.integers(12, size - 12, 2)
    ry, rx = rng.integers(6, 20, 2)
    image = np.where(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1, 0.2 + rng.random(), 0.0)
    return image.astype(np.float32)


@pytest.mark.parametrize("width", [1, 2, 4, 6])
def test_rim_equals_repeated_cross_erosion_of_the_filled_head(width):
    rng = np.random.default_rng(width)
    images = np.stack([_ellipse(rng) for _ in range(20)])
    images[:, 20:24, 20:24] = 0.0  # a dark hole inside some heads: filled, not a second edge
    out = RimRemover(width=width).fit_transform(images)
    for image, blanked in zip(images, out, strict=True):
        head = ndimage.binary_fill_holes(image > 0)
        inside = ndimage.binary_erosion(head, iterations=width)
        np.testing.assert_array_equal(blanked, np.where(inside, image, 0))
        assert not blanked[~inside].any()


def test_head_touching_the_border_loses_its_rim_there_too():
    image = np.ones((1, 10, 10), dtype=np.float32)  # a head that fills the image
    out = RimRemover(width=2).fit_transform(image)[0]
    assert out[2:8, 2:8].all() and not out[:2].any() and not out[:, -2:].any()


def test_dtype_colour_lists_and_background():
    rng = np.random.default_rng(0)
    grey = (_ellipse(rng) * 200).astype(np.uint8)
    colour = np.repeat(grey[..., None], 3, axis=-1)
    out = RimRemover(width=3).fit_transform([grey, colour, grey[:30, :40]])
    assert out.dtype == object and out[0].dtype == np.uint8
    np.testing.assert_array_equal(out[1], np.repeat(out[0][..., None], 3, axis=-1))
    assert out[2].shape == (30, 40)
    for dtype in (np.float32, np.float64):
        assert RimRemover().fit_transform(grey[None].astype(dtype)).dtype == dtype
    # pixels at or below the background are outside the head
    noisy = grey.copy()
    noisy[noisy == 0] = 5
    np.testing.assert_array_equal(
        RimRemover(width=3, background=8).fit_transform(noisy[None])[0], out[0]
    )
    # width 0 keeps the whole head, outside pixels become 0
    np.testing.assert_array_equal(
        RimRemover(width=0, background=8).fit_transform(noisy[None])[0], grey
    )


def test_blank_image_stays_blank_and_bad_parameters():
    assert not RimRemover().fit_transform(np.zeros((2, 16, 16))).any()
    for params in ({"width": -1}, {"width": 1.5}, {"background": "x"}):
        with pytest.raises(InvalidParameterError):
            RimRemover(**params).fit_transform(np.zeros((1, 16, 16)))


def test_in_the_recipe_pipeline_the_brain_stays_and_the_rim_goes():
    X, _ = make_synthetic_mri(4, image_size=64, random_state=0)
    scaled = make_pipeline(
        BrainCrop(), Resize((64, 64)), IntensityScaler(method="percentile", background=8)
    ).fit_transform(X)
    out = RimRemover(width=4).fit_transform(scaled)
    for before, after in zip(scaled, out, strict=True):
        kept = after > 0
        assert 0.5 < kept.sum() / (before > 0).sum() < 1.0
        np.testing.assert_array_equal(after[kept], before[kept])
        assert not after[:4].any() and not after[-4:].any()
