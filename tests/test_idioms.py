"""What scikit-learn users pass and expect: Pillow images, pandas Series, set_output."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn import config_context
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.features import GLCMFeatures
from sklearn_braintumor.preprocessing import BrainCrop, ImageFlattener, IntensityScaler, Resize


@pytest.fixture(scope="module")
def images():
    X, y = make_synthetic_mri(12, image_size=64, random_state=0)
    return X, y


def test_pillow_images_of_different_sizes(images):
    X, _ = images
    pils = [Image.fromarray(x).resize((48 + 4 * i, 64)) for i, x in enumerate(X)]
    pils[1] = pils[1].convert("1")  # 1-bit: read as 8-bit grayscale
    out = make_pipeline(BrainCrop(), Resize((32, 32))).fit_transform(pils)
    assert out.shape == (12, 32, 32)
    expected = Resize((32, 32)).fit_transform([np.asarray(pils[0])])
    np.testing.assert_array_equal(Resize((32, 32)).fit_transform(pils[:1]), expected)


def test_pandas_series_of_images_of_different_sizes(images):
    X, _ = images
    series = pd.Series([x[: 40 + i, :] for i, x in enumerate(X)], index=np.arange(12) * 10)
    assert Resize((16, 16)).fit_transform(series).shape == (12, 16, 16)


def test_pipeline_set_output_pandas_reaches_the_tabular_steps(images):
    X, y = images
    pipe = make_pipeline(BrainCrop(), Resize((16, 16)), IntensityScaler(), ImageFlattener())
    out = pipe.set_output(transform="pandas").fit_transform(X, y)
    assert isinstance(out, pd.DataFrame) and list(out.columns[:2]) == ["pixel0", "pixel1"]
    assert list(pipe.get_feature_names_out()) == list(out.columns)
    glcm = make_pipeline(Resize((32, 32)), GLCMFeatures(), LogisticRegression(max_iter=2000))
    glcm.set_output(transform="pandas").fit(X, y)
    table = glcm[:-1].transform(X)
    assert isinstance(table, pd.DataFrame) and table.columns[0] == "glcm_contrast_d1_a0"
    # image steps keep returning images, also under a global pandas setting
    with config_context(transform_output="pandas"):
        assert isinstance(Resize((16, 16)).fit_transform(X), np.ndarray)
        assert isinstance(ImageFlattener().fit_transform(X), pd.DataFrame)
    assert Resize((8, 8)).get_feature_names_out() is None
    assert list(Resize((8, 8)).get_feature_names_out(["a"])) == ["a"]


def _bad_calls():
    from sklearn_braintumor import predict_folder
    from sklearn_braintumor.classifiers import CNNClassifier, TTAClassifier, TumorFirstClassifier
    from sklearn_braintumor.datasets import load_image_folder, load_sample, read_image
    from sklearn_braintumor.model_selection import duplicate_groups
    from sklearn_braintumor.nn import BatchAugment
    from sklearn_braintumor.sampling import DuplicateRemover, GaussianNoise, ImageAugmenter
    from sklearn_braintumor.utils import save

    X, y = make_synthetic_mri(8, image_size=32, random_state=0)
    return {
        "BrainCrop blur": lambda: BrainCrop(blur=4).fit_transform(X),
        "BrainCrop threshold": lambda: BrainCrop(threshold="high").fit(X),
        "Resize shape": lambda: Resize((0, 8)).fit_transform(X),
        "IntensityScaler method": lambda: IntensityScaler(method="max").transform(X),
        "GLCMFeatures levels": lambda: GLCMFeatures(levels=1).fit(X),
        "GaussianNoise std": lambda: GaussianNoise(std=-1).fit_resample(X, y),
        "ImageAugmenter rotation": lambda: ImageAugmenter(rotation=-5).fit_resample(X, y),
        "DuplicateRemover method": lambda: DuplicateRemover(method="md5").fit_resample(X, y),
        "BatchAugment contrast": lambda: BatchAugment(contrast=2.0),
        "CNNClassifier augment": lambda: CNNClassifier(augment="flip").fit(X, y),
        "CNNClassifier class_weight": lambda: CNNClassifier(class_weight="equal").fit(X, y),
        "CNNClassifier lr": lambda: CNNClassifier(lr=-1.0).fit(X, y),
        "TTAClassifier transforms": lambda: TTAClassifier(
            LogisticRegression(), transforms=("rotate",)
        ).fit(X, y),
        "TumorFirstClassifier threshold": lambda: TumorFirstClassifier(
            LogisticRegression(), threshold=2.0
        ).fit(X.reshape(8, -1), y),
        "load_sample subset": lambda: load_sample("validation"),
        "load_image_folder on_error": lambda: load_image_folder(".", on_error="ignore"),
        "read_image color_mode": lambda: read_image("x.png", color_mode="cmyk"),
        "duplicate_groups max_distance": lambda: duplicate_groups(X, max_distance=99),
        "predict_folder batch_size": lambda: predict_folder(
            LogisticRegression(), ".", "out.csv", batch_size=0
        ),
        "save format": lambda: save(LogisticRegression(), "m.btm", format="pickle"),
    }


@pytest.mark.parametrize("case", list(_bad_calls()))
def test_one_error_type_for_every_bad_parameter(case):
    from sklearn_braintumor.exceptions import InvalidParameterError

    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)
    with pytest.raises(InvalidParameterError, match="parameter"):
        _bad_calls()[case]()
