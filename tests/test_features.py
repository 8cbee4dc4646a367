import numpy as np
import pytest
from skimage.feature import graycomatrix, graycoprops

from sklearn_braintumor.datasets import load_sample, make_synthetic_mri
from sklearn_braintumor.features import GLCMFeatures
from sklearn_braintumor.features._glcm import quantize
from sklearn_braintumor.preprocessing import IntensityScaler

ANGLES = [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
PROPS = ["contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM"]


@pytest.mark.parametrize("levels", [8, 32, 256])
def test_values_equal_a_direct_scikit_image_call(levels):
    X = load_sample("test").images[:5]
    features = GLCMFeatures(distances=(1, 3), levels=levels).fit_transform(X)
    assert features.shape == (5, len(PROPS) * 2 * 4)
    for image, row in zip(X, features, strict=True):
        q = (image.astype(np.int64) * levels // 256).astype(np.uint8)
        matrix = graycomatrix(q, [1, 3], ANGLES, levels=levels, symmetric=True, normed=True)
        expected = np.concatenate([graycoprops(matrix, p).ravel() for p in PROPS])
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-12)


def test_other_properties_and_constant_images():
    X = np.concatenate([load_sample("test").images[:2], np.full((1, 224, 224), 7, np.uint8)])
    props = ("mean", "variance", "std", "entropy", "correlation", "contrast")
    features = GLCMFeatures(properties=props, levels=16).fit_transform(list(X))
    for image, row in zip(X, features, strict=True):
        q = (image.astype(np.int64) * 16 // 256).astype(np.uint8)
        matrix = graycomatrix(q, [1], ANGLES, levels=16, symmetric=True, normed=True)
        expected = np.concatenate([graycoprops(matrix, p).ravel() for p in props])
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-12)
    assert (features[2, 16:20] == 1).all()  # correlation of a constant image, as scikit-image


def test_feature_names_and_pandas_output():
    glcm = GLCMFeatures(distances=(1, 2))
    names = list(glcm.get_feature_names_out())
    assert names[:5] == [
        "glcm_contrast_d1_a0", "glcm_contrast_d1_a45", "glcm_contrast_d1_a90",
        "glcm_contrast_d1_a135", "glcm_contrast_d2_a0",
    ]  # fmt: skip
    assert len(names) == 48 and names[-1] == "glcm_ASM_d2_a135"
    X, _ = make_synthetic_mri(3, image_size=32, random_state=0)
    frame = glcm.set_output(transform="pandas").fit_transform(X)
    assert list(frame.columns) == names and frame.shape == (3, 48)


def test_quantisation_rules():
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(quantize(ramp, 256, (0, 256)), ramp)
    assert quantize(ramp, 4, (0, 256)).max() == 3
    X, _ = make_synthetic_mri(3, image_size=32, random_state=0)
    scaled = IntensityScaler().fit_transform(X)
    assert np.isfinite(GLCMFeatures().fit_transform(scaled)).all()
    with pytest.raises(ValueError, match="IntensityScaler"):
        GLCMFeatures().fit_transform(X.astype(np.float32))
    explicit = GLCMFeatures(value_range=(0, 256)).fit_transform(X.astype(np.float32))
    np.testing.assert_allclose(explicit, GLCMFeatures().fit_transform(X))
    deep = X.astype(np.uint16) * 256  # 16-bit: quantised over 0..65535
    np.testing.assert_allclose(GLCMFeatures().fit_transform(deep), GLCMFeatures().fit_transform(X))
    rgb = np.repeat(X[..., None], 3, axis=-1)
    np.testing.assert_allclose(GLCMFeatures().fit_transform(rgb), GLCMFeatures().fit_transform(X))


def test_parallel_equals_serial_on_a_large_stack():
    # > 1 MB, so joblib would hand it to workers as a read-only memory map
    X, _ = make_synthetic_mri(120, image_size=128, random_state=0)
    assert X.nbytes > 1_000_000
    serial = GLCMFeatures(levels=16).fit_transform(X)
    np.testing.assert_allclose(GLCMFeatures(levels=16, n_jobs=2).fit_transform(X), serial)
    mixed = [X[0], X[1][:100, :90]]
    assert GLCMFeatures(n_jobs=2).fit_transform(mixed).shape == (2, 24)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"levels": 1}, "levels"),
        ({"levels": 512}, "levels"),
        ({"distances": (0,)}, "distances"),
        ({"angles": ()}, "angles"),
        ({"properties": ("sharpness",)}, "sharpness"),
        ({"value_range": (1, 1)}, "value_range"),
    ],
)
def test_parameters(params, message):
    X, _ = make_synthetic_mri(2, image_size=32, random_state=0)
    with pytest.raises(ValueError, match=message):
        GLCMFeatures(**params).fit_transform(X)


def test_hog_features_table_and_sizes():
    import pandas as pd

    from sklearn_braintumor.features import HOGFeatures
    from sklearn_braintumor.preprocessing import Resize

    X, _ = make_synthetic_mri(4, image_size=64, random_state=0)
    hog = HOGFeatures().fit(X)
    rows = hog.transform(X)
    assert rows.shape == (4, hog.n_features_out_) == (4, 324)
    from skimage.feature import hog as skimage_hog
    from skimage.transform import downscale_local_mean

    half = downscale_local_mean(X[0].astype(np.float32), (2, 2))
    expected = skimage_hog(half, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2))
    np.testing.assert_allclose(rows[0], expected, rtol=1e-6)
    mixed = [X[0], X[1][:48, :40]]
    with pytest.raises(ValueError, match=r"one size.*Resize"):
        HOGFeatures().fit_transform(mixed)
    assert Resize((64, 64)).fit_transform(mixed).shape == (2, 64, 64)
    with pytest.raises(ValueError, match="fitted size"):
        hog.transform(X[:, :32, :32])
    table = HOGFeatures().set_output(transform="pandas").fit_transform(X)
    assert isinstance(table, pd.DataFrame) and table.columns[0] == "hog0"
    with pytest.raises(ValueError, match="pixels_per_cell"):
        HOGFeatures(pixels_per_cell=(8,)).fit(X)
