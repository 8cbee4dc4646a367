"""ImageReader and CNNClassifier(reader=...): training from file paths, one batch at a time."""

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from PIL import Image
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.exceptions import ImageReadError
from sklearn_braintumor.inspection import grad_cam
from sklearn_braintumor.preprocessing import ImageReader, Resize


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    X, y = make_synthetic_mri(60, image_size=40, random_state=0)
    folder = tmp_path_factory.mktemp("scans")
    paths = []
    for i, image in enumerate(X):
        path = folder / f"scan {i}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return np.array(paths, dtype=object), X, y


def test_image_reader(files, tmp_path):
    paths, X, _ = files
    np.testing.assert_array_equal(ImageReader().fit_transform(paths[:5]), X[:5])
    np.testing.assert_array_equal(ImageReader(n_jobs=1).transform(list(paths[:3])), X[:3])
    rgb = ImageReader(color_mode="rgb").transform(paths[:2])
    assert rgb.shape == (2, 40, 40, 3)
    Image.fromarray(X[0]).resize((30, 20)).save(tmp_path / "small.png")
    mixed = ImageReader().transform([paths[0], tmp_path / "small.png"])
    assert mixed.dtype == object and mixed[1].shape == (20, 30)  # sizes may differ
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(ImageReadError, match=r"bad\.png"):
        ImageReader().transform([paths[0], str(tmp_path / "bad.png")])
    with pytest.raises(ImageReadError, match=r"missing\.png"):
        ImageReader().transform([str(tmp_path / "missing.png")])
    with pytest.raises(TypeError, match="not a single path"):
        ImageReader().transform(paths[0])
    with pytest.raises(TypeError, match="sample 1 is float"):
        ImageReader().fit([paths[0], 3.0])
    with pytest.raises(ValueError, match="color_mode"):
        ImageReader(color_mode="cmyk").fit(paths)
    assert clone(ImageReader(n_jobs=2)).get_params() == {"color_mode": "grayscale", "n_jobs": 2}


def test_training_from_paths_equals_training_in_memory(files):
    paths, X, y = files
    params = dict(max_epochs=3, random_state=0, module__hidden=16, device="cpu", batch_size=16,
                  augment={"horizontal_flip": 0.5})  # fmt: skip
    reader = make_pipeline(ImageReader(), Resize((32, 32)))
    lazy = CNNClassifier(reader=reader, **params).fit(paths, y)
    images = Resize((32, 32)).transform(X)
    memory = CNNClassifier(**params).fit(images, y)
    np.testing.assert_array_equal(lazy.predict_proba(paths), memory.predict_proba(images))
    assert lazy.input_shape_ == (1, 32, 32)
    np.testing.assert_array_equal(lazy.valid_indices_, memory.valid_indices_)
    assert lazy.reader_ is not reader  # a fitted clone
    assert lazy.net_.train_split is None  # the saved model carries no validation images


def test_reader_errors(files):
    paths, X, y = files
    reader = make_pipeline(ImageReader(), Resize((32, 32)))
    clf = CNNClassifier(reader=reader, max_epochs=1, module__hidden=8, device="cpu")
    with pytest.raises(ValueError, match="1D sequence of image file paths"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="no file paths"):
        clf.fit([], [])
    with pytest.raises(ValueError, match="cannot be combined with reader"):
        clone(clf).set_params(sampler=RandomOverSampler()).fit(paths, y)
    fitted = clone(clf).fit(paths, y)
    with pytest.raises(ValueError, match="a reader"):
        grad_cam(fitted, paths[:2])
    small = clone(clf).set_params(reader=make_pipeline(ImageReader(), Resize((16, 16))))
    small.fit(paths[:20], y[:20])
    small.reader_.set_params(resize__shape=(20, 20))  # files now come out another size
    with pytest.raises(ValueError, match="fitted on images of shape"):
        small.predict(paths[:2])
