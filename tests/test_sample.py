import hashlib
import re
from importlib import resources

import numpy as np
import pytest

from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.utils import hamming_distances, phash, pixel_hash

SAMPLE = resources.files("sklearn_braintumor.datasets").joinpath(
    "data", "brain_tumor_mri_sample.zip"
)


@pytest.fixture(scope="module")
def everything():
    return load_sample("all")


def test_counts_and_split(everything):
    assert everything.target_names == ["glioma", "meningioma", "notumor", "pituitary"]
    assert everything.images.shape == (800, 224, 224)
    assert everything.images.dtype == np.uint8
    for subset, per_class in (("train", 150), ("test", 50)):
        mask = everything.subset == subset
        np.testing.assert_array_equal(np.bincount(everything.target[mask]), [per_class] * 4)
        assert all(name.startswith(f"{subset}/") for name in everything.filenames[mask])
    assert np.bincount(everything.target).min() >= 100


def test_subsets_agree_with_all(everything):
    train = load_sample("train")
    X_test, y_test = load_sample("test", return_X_y=True)
    test_mask = everything.subset == "test"
    np.testing.assert_array_equal(train.images, everything.images[~test_mask])
    np.testing.assert_array_equal(X_test, everything.images[test_mask])
    np.testing.assert_array_equal(y_test, everything.target[test_mask])
    assert load_sample("test", color_mode="rgb").images.shape == (200, 224, 224, 3)
    with pytest.raises(ValueError, match="subset"):
        load_sample("validation")


def test_no_exact_or_near_duplicates_across_the_split(everything):
    train = everything.subset == "train"
    assert not set(everything.sha256[train]) & set(everything.sha256[~train])
    pixels = [pixel_hash(image) for image in everything.images]
    assert len(set(pixels)) == len(pixels)
    hashes = phash(everything.images)
    cross = hamming_distances(hashes[train], hashes[~train])
    assert cross.min() > 10
    within = hamming_distances(hashes)
    np.fill_diagonal(within, 64)
    assert within.min() > 10


def test_shipped_file_matches_its_card(everything):
    blob = SAMPLE.read_bytes()
    assert len(blob) <= 8 * 1024 * 1024
    card = everything.DESCR
    assert hashlib.sha256(blob).hexdigest() in card
    assert f"{len(blob)} bytes" in card
    assert "CC0" in card and "CC BY 4.0" in card and "MIT" in card
    assert "10.6084/m9.figshare.1512427" in card and "Br35H" in card
    rows = re.findall(r"^\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)$", card, flags=re.M)
    assert [(name, int(a), int(b)) for name, a, b, _ in rows] == [
        (name, 150, 50) for name in everything.target_names
    ]


def test_member_hashes_are_checked(monkeypatch):
    from sklearn_braintumor.datasets import _sample
    from sklearn_braintumor.exceptions import ImageReadError

    original = _sample.hashlib.sha256
    monkeypatch.setattr(_sample.hashlib, "sha256", lambda data=b"": original(data + b"corrupted"))
    with pytest.raises(ImageReadError, match="reinstall"):
        load_sample("test")
