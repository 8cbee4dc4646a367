import imagehash
import numpy as np
import pytest
from PIL import Image

from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.utils import hamming_distances, phash, pixel_hash


@pytest.fixture(scope="module")
def images():
    return make_synthetic_mri(12, image_size=48, random_state=0)[0]


def test_phash_equals_imagehash(images):
    ours = phash(images)
    assert ours.dtype == np.uint64 and ours.shape == (12,)
    for image, value in zip(images, ours, strict=True):
        assert format(int(value), "016x") == str(imagehash.phash(Image.fromarray(image)))
    rgb = np.stack([images[0]] * 3, axis=-1)
    assert int(phash(rgb)) == int(ours[0])
    as_list = phash([images[0], images[1][:40, :30]])
    assert int(as_list[0]) == int(ours[0])
    assert format(int(as_list[1]), "016x") == str(
        imagehash.phash(Image.fromarray(images[1][:40, :30]))
    )


def test_hamming_distances_match_imagehash(images):
    hashes = phash(images)
    distances = hamming_distances(hashes)
    assert distances.shape == (12, 12) and (np.diag(distances) == 0).all()
    reference = [imagehash.phash(Image.fromarray(image)) for image in images]
    for i in range(12):
        for j in range(12):
            assert distances[i, j] == reference[i] - reference[j]
    np.testing.assert_array_equal(hamming_distances(hashes[:3], hashes), distances[:3])


def test_near_duplicates_are_near(images):
    image = images[0]
    brighter = np.clip(image.astype(int) + 10, 0, 255).astype(np.uint8)
    distances = hamming_distances(phash([image, brighter, images[1]]))
    assert distances[0, 1] <= 4 < distances[0, 2]


def test_pixel_hash():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert pixel_hash(a) == pixel_hash(a.copy())
    assert pixel_hash(a) != pixel_hash(a.reshape(4, 3))
    assert pixel_hash(a) != pixel_hash(a.astype(np.uint16))


def test_phash_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        phash(np.zeros((8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="more than 64 bits"):
        phash(np.zeros((8, 8), dtype=np.uint8), hash_size=9)
