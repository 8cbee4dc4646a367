import numpy as np
import pytest
from imblearn.pipeline import make_pipeline
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.sampling import DuplicateRemover, GaussianNoise, ImageAugmenter


@pytest.fixture
def data():
    return make_synthetic_mri(8, image_size=32, random_state=0)


def test_gaussian_noise_in_place_and_copies(data):
    X, y = data
    noisy, y_noisy = GaussianNoise(std=5, random_state=0).fit_resample(X, y)
    assert noisy.shape == X.shape and noisy.dtype == np.float32
    np.testing.assert_array_equal(y_noisy, y)
    assert abs((noisy - X).std() - 5) < 0.3
    more, y_more = GaussianNoise(std=5, n_copies=2, clip=(0, 255), random_state=0).fit_resample(
        X, y
    )
    assert more.shape == (24, 32, 32) and more.min() >= 0 and more.max() <= 255
    np.testing.assert_array_equal(more[:8], X)
    np.testing.assert_array_equal(y_more, np.tile(y, 3))
    again, _ = GaussianNoise(std=5, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(noisy, again)
    rows, _ = GaussianNoise(random_state=0).fit_resample(X.reshape(8, -1), y)
    assert rows.shape == (8, 1024)


def test_augmenter_flip_is_exact_and_copies_are_deterministic(data):
    X, y = data
    flipped, y_out = ImageAugmenter(horizontal_flip=1.0, keep_original=False).fit_resample(X, y)
    np.testing.assert_array_equal(flipped, X[:, :, ::-1])
    np.testing.assert_array_equal(y_out, y)
    upside, _ = ImageAugmenter(
        horizontal_flip=0, vertical_flip=1.0, keep_original=False
    ).fit_resample(X, y)
    np.testing.assert_array_equal(upside, X[:, ::-1])
    augmenter = ImageAugmenter(
        3,
        rotation=30,
        shear=10,
        translation=0.1,
        zoom=0.1,
        crop_scale=(0.9, 1.0),
        blur_sigma=1.0,
        random_state=0,
    )
    out, y_out = augmenter.fit_resample(X, y)
    assert out.shape == (32, 32, 32) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:8], X)
    np.testing.assert_array_equal(augmenter.sample_indices_, np.tile(np.arange(8), 4))
    np.testing.assert_array_equal(y_out, y[augmenter.sample_indices_])
    assert not np.array_equal(out[8:16], X)
    same, _ = clone(augmenter).fit_resample(X, y)
    np.testing.assert_array_equal(out, same)


def test_augmenter_keeps_the_head_roughly_in_place(data):
    X, y = data
    out, _ = ImageAugmenter(
        1, horizontal_flip=0, rotation=10, translation=0.05, keep_original=False, random_state=1
    ).fit_resample(X, y)
    for original, copy in zip(X, out, strict=True):
        overlap = ((original > 40) & (copy > 40)).sum() / (original > 40).sum()
        assert overlap > 0.8
    corners, _ = ImageAugmenter(
        1, rotation=45, fill=0, keep_original=False, random_state=0
    ).fit_resample(np.full((1, 32, 32), 200, np.uint8), [0])
    assert corners[0, 0, 0] == 0 and corners[0, 16, 16] == 200


def test_augmenter_lists_channels_and_parameters():
    images = [np.zeros((20, 30), np.uint8), np.zeros((25, 25, 3), np.uint8)]
    out, y = ImageAugmenter(2, rotation=5, random_state=0).fit_resample(images, [0, 1])
    assert isinstance(out, list) and [im.shape for im in out[:2]] == [(20, 30), (25, 25, 3)]
    assert y == [0, 1, 0, 1, 0, 1]
    single = np.zeros((2, 16, 16, 1), np.float32)
    assert ImageAugmenter(random_state=0).fit_resample(single, [0, 1])[0].shape == (4, 16, 16, 1)
    for params in (
        {"n_copies": 0, "keep_original": False},
        {"zoom": 1.0},
        {"horizontal_flip": 2.0},
        {"crop_scale": (0.0, 1.0)},
        {"rotation": -1},
    ):
        with pytest.raises(ValueError):
            ImageAugmenter(**params).fit_resample(single, [0, 1])


def test_duplicate_remover(data):
    X, y = data
    stack = np.concatenate([X, X[[1, 2]]])
    labels = np.concatenate([y, [y[1], (y[2] + 1) % 4]])  # one copy relabelled
    remover = DuplicateRemover()
    kept, y_kept = remover.fit_resample(stack, labels)
    np.testing.assert_array_equal(kept, X)
    np.testing.assert_array_equal(y_kept, y)
    assert remover.n_removed_ == 2 and remover.n_label_conflicts_ == 1
    np.testing.assert_array_equal(remover.sample_indices_, np.arange(8))
    near = np.clip(X[[4]].astype(int) + 5, 0, 255).astype(np.uint8)
    phash = DuplicateRemover(method="phash").fit(np.concatenate([X, near]), np.append(y, y[4]))
    assert phash.fit_resample(np.concatenate([X, near]), np.append(y, y[4]))[0].shape[0] == 8
    with pytest.raises(ValueError, match="needs images"):
        DuplicateRemover(method="phash").fit_resample(X.reshape(8, -1), y)


@pytest.mark.parametrize(
    "sampler", [GaussianNoise(random_state=0), DuplicateRemover(), ImageAugmenter(random_state=0)]
)
def test_one_class_is_fine(sampler, data):
    X, _ = data
    out, y_out = sampler.fit_resample(X, np.zeros(8, dtype=int))
    assert len(out) == len(y_out) >= 8 and set(np.asarray(y_out).tolist()) == {0}


class _Recorder(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.fit_inputs_ = np.array(X)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.predict_inputs_ = np.array(X)
        return np.zeros(len(X), dtype=int)


def test_samplers_touch_training_data_only(data):
    X, y = data
    pipe = make_pipeline(
        DuplicateRemover(), ImageAugmenter(2, rotation=20, random_state=0),
        GaussianNoise(random_state=0), _Recorder(),
    )  # fmt: skip
    pipe.fit(np.concatenate([X, X[:2]]), np.concatenate([y, y[:2]]))
    assert pipe[-1].fit_inputs_.shape == (24, 32, 32)
    pipe.predict(X)
    np.testing.assert_array_equal(pipe[-1].predict_inputs_, X)


@pytest.mark.parametrize("lesion", ["blob", "mass"])
def test_synthetic_lesions_are_counterfactual_tumours_in_the_healthy_style(lesion):
    from sklearn_braintumor.sampling import SyntheticLesions
    from sklearn_braintumor.sampling._lesions import brain_mask

    X, y = make_synthetic_mri(30, image_size=48, random_state=0)
    labels = np.where(y == 0, "notumor", "tumor")
    healthy = np.flatnonzero(labels == "notumor")
    sampler = SyntheticLesions(n_copies=2, lesion=lesion, random_state=0)
    X_new, y_new = sampler.fit_resample(X, labels)
    n = len(X)
    assert len(X_new) == n + 2 * len(healthy) and X_new.dtype == X.dtype
    np.testing.assert_array_equal(X_new[:n], X)  # the originals are kept as they are
    assert (y_new[n:] == "tumor").all() and (y_new[:n] == labels).all()  # the label changes
    assert sampler.sample_indices_[n:].tolist() == np.repeat(healthy, 2).tolist()
    for k, mask in enumerate(sampler.lesion_masks_):
        source = X[sampler.sample_indices_[n + k]]
        copy = X_new[n + k]
        assert mask.any() and (mask <= brain_mask(source)).all()  # inside the brain
        np.testing.assert_array_equal(copy[~mask], source[~mask])  # the source style stays
        assert (copy != source).any()
    again, _ = SyntheticLesions(n_copies=2, lesion=lesion, random_state=0).fit_resample(X, labels)
    np.testing.assert_array_equal(again, X_new)  # seeded
    floats, _ = SyntheticLesions(lesion=lesion, random_state=0).fit_resample(
        X.astype(np.float32) / 255, labels
    )
    assert floats.dtype == np.float32 and floats.max() <= 1.2
    with pytest.raises(ValueError, match="target 'tumour' is not a label of y"):
        SyntheticLesions(target="tumour").fit_resample(X, labels)
    with pytest.raises(ValueError, match="'size' parameter of SyntheticLesions must be"):
        SyntheticLesions(size=(0.3, 0.1)).fit_resample(X, labels)


def test_a_mass_lesion_is_a_bright_mass_inside_the_brain_that_pushes_the_tissue_aside():
    from sklearn_braintumor.sampling import SyntheticLesions
    from sklearn_braintumor.sampling._lesions import brain_mask

    X, y = make_synthetic_mri(40, image_size=64, random_state=1)
    labels = np.where(y == 0, "notumor", "tumor")
    sampler = SyntheticLesions(lesion="mass", random_state=0)
    X_new, _ = sampler.fit_resample(X, labels)
    brighter = moved = 0
    for k, mask in enumerate(sampler.lesion_masks_):
        source = X[sampler.sample_indices_[len(X) + k]].astype(float)
        copy = X_new[len(X) + k].astype(float)
        inside = brain_mask(source)
        assert mask.any() and (mask <= inside).all()
        # the mass: the brightest pixels of the copy lie where it changed, above the source's tissue
        peak = copy >= np.percentile(copy[mask], 90)
        brighter += copy[mask & peak].mean() > np.percentile(source[inside], 90)
        # mass effect: pixels changed darker than they were (tissue moved, never the mass itself)
        moved += ((copy < source - 1) & mask).any()
    n = len(sampler.lesion_masks_)
    assert brighter == n and moved >= 0.8 * n


def test_synthetic_lesions_inside_a_classifier_validate_on_real_images_only():
    from sklearn_braintumor.classifiers import CNNClassifier
    from sklearn_braintumor.sampling import SyntheticLesions

    X, y = make_synthetic_mri(60, image_size=32, random_state=0)
    labels = np.where(y == 0, "notumor", "tumor")
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8, train_split=0.25,
                        sampler=SyntheticLesions(random_state=0)).fit(X, labels)  # fmt: skip
    assert clf.valid_indices_.max() < len(X) and len(clf.valid_indices_) == 15
    assert clf.classes_.tolist() == ["notumor", "tumor"]


def _two_collections(n=120, share=0.9, seed=0):
    """Phantoms from two 'collections' (full contrast / darker); healthy mostly the darker."""
    X, y = make_synthetic_mri(n, n_classes=2, image_size=32, random_state=seed)
    labels = np.where(y == 0, "notumor", "tumor")
    rng = np.random.RandomState(seed)
    darker = np.where(labels == "notumor", rng.uniform(size=n) < share, rng.uniform(size=n) > share)
    X = X.copy()
    X[darker] = (X[darker] * 0.55).astype(np.uint8)
    return X, labels, darker


def test_style_balancer_repeats_the_scans_whose_look_is_atypical_of_their_class():
    from sklearn_braintumor.sampling import StyleBalancer

    X, labels, darker = _two_collections()
    atypical = (labels == "notumor") != darker  # a healthy full-contrast or a darker tumour scan
    sampler = StyleBalancer(random_state=0)
    X_new, y_new = sampler.fit_resample(X, labels)
    repeats = sampler.repeats_
    assert np.median(repeats[~atypical]) == 1 and repeats[atypical].mean() > 3
    assert repeats.min() >= 1 and repeats.max() <= 10
    # copies are the images themselves, next to each other, with their own label
    np.testing.assert_array_equal(sampler.sample_indices_, np.repeat(np.arange(len(X)), repeats))
    np.testing.assert_array_equal(X_new, X[sampler.sample_indices_])
    np.testing.assert_array_equal(y_new, labels[sampler.sample_indices_])
    assert X_new.dtype == X.dtype
    # after resampling the look tells much less about the label
    dark_out = darker[sampler.sample_indices_]
    before = abs(darker[labels == "notumor"].mean() - darker[labels == "tumor"].mean())
    after = abs(dark_out[y_new == "notumor"].mean() - dark_out[y_new == "tumor"].mean())
    assert before > 0.7 and after < 0.5 * before
    again, _ = StyleBalancer(random_state=0).fit_resample(X, labels)
    np.testing.assert_array_equal(again, X_new)
    capped, _ = StyleBalancer(max_repeats=2, random_state=0).fit_resample(X, labels)
    assert capped.shape[0] <= 2 * len(X)
    # float images on [0, 1] read the same look as their uint8 originals
    floats = StyleBalancer(random_state=0)
    floats.fit_resample(X.astype(np.float32) / 255, labels)
    assert np.corrcoef(floats.propensity_, sampler.propensity_)[0, 1] > 0.95


def test_style_balancer_leaves_data_without_a_style_confound_nearly_as_it_is():
    from sklearn_braintumor.sampling import StyleBalancer

    X, _, _ = _two_collections(n=400, seed=1)
    labels = np.random.RandomState(0).permutation(np.repeat(["notumor", "tumor"], 200))
    sampler = StyleBalancer(random_state=0)  # the labels have nothing to do with the look
    X_new, _ = sampler.fit_resample(X, labels)
    # only the noise of the estimate repeats a few (documented in the Notes)
    assert np.mean(sampler.repeats_ == 1) > 0.8 and len(X_new) < 1.25 * len(X)
    assert np.mean(sampler.repeats_ >= 5) < 0.02


def test_style_balancer_needs_two_images_of_two_classes():
    from sklearn_braintumor.sampling import StyleBalancer

    X, labels, _ = _two_collections(n=20)
    with pytest.raises(ValueError, match="at least two classes, got only \\['tumor'\\]"):
        StyleBalancer().fit_resample(X, np.full(20, "tumor"))
    lonely = labels.copy()
    lonely[0] = "glioma"
    with pytest.raises(ValueError, match="two images of every class; \\['glioma'\\] has only"):
        StyleBalancer().fit_resample(X, lonely)
    # a list of images of different sizes is read as well
    images = [X[0], X[1][:24, :30], *X[2:]]
    out, y_out = StyleBalancer(random_state=0).fit_resample(images, labels.tolist())
    assert isinstance(out, list) and len(out) == len(y_out) >= 20


def test_style_balancer_inside_a_classifier_validates_on_real_images_only():
    from sklearn_braintumor.classifiers import CNNClassifier
    from sklearn_braintumor.sampling import StyleBalancer

    X, labels, _ = _two_collections(n=60)
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8, train_split=0.25,
                        sampler=StyleBalancer()).fit(X, labels)  # fmt: skip
    assert clf.valid_indices_.max() < len(X) and len(clf.valid_indices_) == 15
    assert clf.classes_.tolist() == ["notumor", "tumor"]
