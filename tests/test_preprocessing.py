import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.transform import resize as sk_resize

from sklearn_braintumor.datasets import load_sample, make_synthetic_mri
from sklearn_braintumor.preprocessing import (
    BrainCrop,
    Grayscale,
    ImageFlattener,
    IntensityScaler,
    Resize,
    ToRGB,
)


def notebook_crop_box(gray):
    """The popular "crop brain contour" recipe, transcribed, as an inclusive box."""
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    mask = cv2.threshold(blurred, 45, 255, cv2.THRESH_BINARY)[1]
    mask = cv2.dilate(cv2.erode(mask, None, iterations=2), None, iterations=2)
    contours, _ = cv2.findContours(mask.copy(), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    c = max(contours, key=cv2.contourArea)
    left, right = c[c[:, :, 0].argmin()][0][0], c[c[:, :, 0].argmax()][0][0]
    top, bottom = c[c[:, :, 1].argmin()][0][1], c[c[:, :, 1].argmax()][0][1]
    return top, bottom + 1, left, right + 1


@pytest.fixture(scope="module")
def real():
    return load_sample("test").images[:60]


def test_brain_crop_matches_the_reference_recipe(real):
    boxes, fallback = BrainCrop(min_area=0).crop_boxes(real)
    assert not fallback.any()
    for image, box in zip(real, boxes, strict=True):
        assert tuple(box) == notebook_crop_box(image)
    crops = BrainCrop().fit_transform(real)
    top, bottom, left, right = boxes[0]
    np.testing.assert_array_equal(crops[0], real[0][top:bottom, left:right])


def test_brain_crop_contains_the_head():
    X, _ = make_synthetic_mri(20, image_size=96, noise=0, random_state=0)
    boxes, fallback = BrainCrop().crop_boxes(X)
    assert not fallback.any()
    for image, (top, bottom, left, right) in zip(X, boxes, strict=True):
        rows, cols = np.nonzero(image > 60)
        assert top <= rows.min() + 2 and bottom >= rows.max() - 1
        assert left <= cols.min() + 2 and right >= cols.max() - 1
        assert (bottom - top) * (right - left) < 0.8 * 96 * 96  # background removed


@pytest.mark.parametrize("width, value", [(3, 255), (6, 200)])
def test_brain_crop_ignores_a_frame_around_the_scan(real, width, value):
    framed = [image.copy() for image in real[:20]]
    for image in framed:
        image[:width], image[-width:], image[:, :width], image[:, -width:] = (value,) * 4
    # the frame is left out: the box is the head's, as without the frame, up to the
    # rows and columns the frame covers
    plain, _ = BrainCrop().crop_boxes(real[:20])
    boxes, fallback = BrainCrop().crop_boxes(framed)
    assert not fallback.any()
    for image, box, head in zip(real[:20], boxes, plain, strict=True):
        rows, cols = image.shape[:2]
        expected = np.clip(
            head,
            [width, width, width, width],
            [rows - width, rows - width, cols - width, cols - width],
        )
        assert np.abs(box - expected).max() <= 2, (box, expected)
    assert (boxes[:, 1] - boxes[:, 0] < [image.shape[0] for image in framed]).all()


def test_brain_crop_keeps_a_head_that_fills_the_image():
    head = np.full((64, 64), 120, np.uint8)  # touches all four borders and fills the image
    head[20:30, 20:30] = 200
    boxes, fallback = BrainCrop().crop_boxes([head])
    assert not fallback.any() and tuple(boxes[0]) == (0, 64, 0, 64)


def test_brain_crop_fallback_margin_otsu_and_inputs():
    X, _ = make_synthetic_mri(3, image_size=64, random_state=0)
    blank = np.zeros((2, 64, 64), np.uint8)
    speck = np.zeros((64, 64), np.uint8)
    speck[10:13, 10:13] = 255
    stack = np.concatenate([X, blank, speck[None]])
    crop = BrainCrop().fit(stack)
    assert crop.n_fallback_ == 3
    np.testing.assert_array_equal(crop.fallback_mask_, [False] * 3 + [True] * 3)
    out = crop.transform(stack)
    assert out[3].shape == (64, 64) and out[5].shape == (64, 64)

    plain = BrainCrop().crop_boxes(X)[0]
    wide = BrainCrop(margin=3).crop_boxes(X)[0]
    np.testing.assert_array_equal(wide[:, [0, 2]], np.maximum(plain[:, [0, 2]] - 3, 0))
    np.testing.assert_array_equal(wide[:, [1, 3]], np.minimum(plain[:, [1, 3]] + 3, 64))
    assert not BrainCrop(threshold="otsu").crop_boxes(X)[1].any()

    rgb = np.repeat(X[..., None], 3, axis=-1)
    np.testing.assert_array_equal(BrainCrop().crop_boxes(rgb)[0], plain)
    # 16-bit images are rescaled per image (maximum -> 255) for the box only; with a
    # 255 pixel in the 8-bit image (erased by the erosion) the rescaling is exact.
    X[:, 0, 0] = 255
    deep = X.astype(np.uint16) * 257
    np.testing.assert_array_equal(BrainCrop().crop_boxes(deep)[0], plain)
    assert BrainCrop().fit_transform(deep)[0].dtype == np.uint16
    mixed = [X[0], X[1][:50, :40]]
    crops = BrainCrop().fit_transform(mixed)
    assert crops.dtype == object and len(crops) == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"blur": 4}, "odd"),
        ({"threshold": 300}, "threshold"),
        ({"threshold": "mean"}, "threshold"),
        ({"margin": -1}, "margin"),
        ({"min_area": 1.5}, "min_area"),
    ],
)
def test_brain_crop_parameters(params, message):
    X, _ = make_synthetic_mri(2, image_size=32, random_state=0)
    with pytest.raises(ValueError, match=message):
        BrainCrop(**params).fit(X)


def test_brain_crop_rejects_negative_values():
    X = np.zeros((3, 32, 32), np.float32)
    X[2, 0, 0] = -1
    with pytest.raises(ValueError, match="sample 2 has negative values"):
        BrainCrop().fit(X)


def test_resize_antialiases_like_skimage(real):
    out = Resize((56, 56)).fit_transform(real[:10])
    assert out.shape == (10, 56, 56) and out.dtype == np.uint8
    as_float = Resize((56, 56)).fit_transform(real[:10].astype(np.float32))
    assert as_float.dtype == np.float32 and np.abs(as_float - out).max() <= 0.5 + 1e-4
    reference = np.stack(
        [sk_resize(im, (56, 56), anti_aliasing=True, preserve_range=True) for im in real[:10]]
    )
    assert np.abs(out - reference).mean() < 2.0  # gray levels, on a 0..255 scale
    assert abs(out.mean() - real[:10].mean()) < 1.0
    # other integer dtypes: as uint8 / uint16 when the values fit, else float32
    as_int = Resize((8, 8)).fit_transform(real[:2].astype(np.int32))
    assert as_int.dtype == np.uint8
    np.testing.assert_array_equal(as_int, Resize((8, 8)).fit_transform(real[:2]))
    assert Resize((8, 8)).fit_transform(real[:2].astype(np.int32) * 200).dtype == np.uint16
    assert Resize((8, 8)).fit_transform(real[:2].astype(np.int64) * 10**6).dtype == np.float32
    naive = Resize((56, 56), anti_aliasing=False, order=0).fit_transform(real[:10])
    assert np.abs(naive - reference).mean() > np.abs(out - reference).mean()


def test_resize_shapes_channels_and_upscaling():
    images = [np.full((40, 30), 7, np.uint8), np.full((90, 120), 7, np.uint8)]
    out = Resize((32, 32)).fit_transform(images)
    assert out.shape == (2, 32, 32)
    np.testing.assert_allclose(out, 7, rtol=1e-6)
    rgb = np.zeros((2, 20, 20, 3), np.uint8)
    assert Resize((40, 30)).fit_transform(rgb).shape == (2, 40, 30, 3)
    single = np.zeros((2, 20, 20, 1), np.float32)
    assert Resize((10, 10)).fit_transform(single).shape == (2, 10, 10, 1)
    ramp = np.tile(np.arange(8, dtype=np.float32), (8, 1))[None]
    up = Resize((8, 16)).fit_transform(ramp)[0]
    assert np.all(np.diff(up[0]) >= 0)  # bilinear upscaling is monotone on a ramp
    with pytest.raises(ValueError, match="shape"):
        Resize((0, 4)).fit_transform(rgb)
    with pytest.raises(ValueError, match="channel"):
        Resize((8, 8)).fit_transform([np.zeros((9, 9)), np.zeros((9, 9, 3))])


def test_grayscale_matches_the_loader_and_to_rgb():
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 256, size=(3, 16, 16, 3), dtype=np.uint8)
    gray = Grayscale().fit_transform(rgb)
    pil = np.stack([np.asarray(Image.fromarray(im).convert("L")) for im in rgb])
    assert gray.dtype == np.uint8
    assert np.abs(gray.astype(int) - pil).max() <= 1
    back = ToRGB().fit_transform(gray)
    assert back.shape == (3, 16, 16, 3)
    np.testing.assert_array_equal(Grayscale().fit_transform(back), gray)
    rgba = np.concatenate([rgb, np.full((3, 16, 16, 1), 0, np.uint8)], axis=-1)
    assert ToRGB().fit_transform(rgba).max() == 0  # transparent over black
    assert Grayscale().fit_transform(rgba).max() == 0
    np.testing.assert_array_equal(Grayscale().fit_transform(gray), gray)


def test_intensity_scaler_methods():
    X, _ = make_synthetic_mri(4, image_size=32, random_state=0)
    minmax = IntensityScaler().fit_transform(X)
    assert minmax.dtype == np.float32
    np.testing.assert_allclose(minmax.min(axis=(1, 2)), 0)
    np.testing.assert_allclose(minmax.max(axis=(1, 2)), 1)
    z = IntensityScaler("zscore").fit_transform(X)
    np.testing.assert_allclose(z.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(1, 2)), 1, atol=1e-5)
    hot = X.astype(np.float32)
    hot[:, 0, 0] = 10_000  # one hot pixel per image
    robust = IntensityScaler("percentile", percentiles=(0, 99)).fit_transform(hot)
    assert np.median(robust) > 0.05  # not squashed by the hot pixel
    assert np.median(IntensityScaler().fit_transform(hot)) < 0.05
    assert not IntensityScaler().fit_transform(np.full((1, 4, 4), 9.0)).any()
    deep = (X.astype(np.uint16) * 257)[:1]
    np.testing.assert_allclose(IntensityScaler().fit_transform(deep), minmax[:1], atol=1e-6)
    with pytest.raises(ValueError, match="method"):
        IntensityScaler("l2").fit_transform(X)
    with pytest.raises(ValueError, match="percentiles"):
        IntensityScaler("percentile", percentiles=(90, 10)).fit_transform(X)


def test_image_flattener_round_trip_and_errors():
    X = np.arange(2 * 4 * 3 * 3, dtype=np.float32).reshape(2, 4, 3, 3)
    flattener = ImageFlattener().fit(X)
    flat = flattener.transform(X)
    assert flat.shape == (2, 36)
    np.testing.assert_array_equal(flattener.inverse_transform(flat), X)
    assert list(flattener.get_feature_names_out()[:2]) == ["pixel0", "pixel1"]
    with pytest.raises(ValueError, match=r"fitted on images of shape \(4, 3, 3\)"):
        flattener.transform(np.zeros((2, 3, 4, 3)))
    with pytest.raises(ValueError, match="expected 36 values"):
        flattener.inverse_transform(np.zeros((2, 35)))
    with pytest.raises(ValueError, match="put Resize before it"):
        ImageFlattener().fit([np.zeros((4, 4)), np.zeros((5, 4))])


def test_intensity_scaler_background_keeps_black_borders_out_of_the_statistics():
    from sklearn_braintumor.preprocessing import IntensityScaler

    X, _ = make_synthetic_mri(3, image_size=32, random_state=0)
    framed = np.zeros((3, 48, 48), dtype=np.uint8)
    framed[:, 8:40, 8:40] = X  # the same scans with a wider black border
    scaler = IntensityScaler(method="percentile", background=8)
    plain, bordered = scaler.fit_transform(X), scaler.fit_transform(framed)
    np.testing.assert_allclose(bordered[:, 8:40, 8:40], plain, atol=1e-6)  # border-independent
    assert np.all(plain[X <= 8] == 0) and plain.max() == 1
    darker = (X * 0.5).astype(np.uint8)  # another scanner's grey levels: same tissue map
    assert np.abs(scaler.fit_transform(darker) - plain)[X > 30].mean() < 0.05
    blank = np.zeros((1, 8, 8), dtype=np.uint8)
    assert not scaler.fit_transform(blank).any()
