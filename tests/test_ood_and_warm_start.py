"""CNNClassifier's out-of-distribution guard, continued training, and export of every network."""

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline

from sklearn_braintumor import nn as bnn
from sklearn_braintumor.classifiers import (
    CNNClassifier,
    TTAClassifier,
    TumorFirstClassifier,
    shift_score,
)
from sklearn_braintumor.classifiers._ood import shift_from_scores, typicality
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.inspection import not_mri
from sklearn_braintumor.preprocessing import Resize
from sklearn_braintumor.utils import load, save

NAMES = np.array(["glioma", "meningioma", "notumor", "pituitary"])


@pytest.fixture(scope="module")
def fitted():
    X, y = make_synthetic_mri(240, image_size=32, random_state=0)
    clf = CNNClassifier(max_epochs=4, random_state=0, module__hidden=32, train_split=0.25,
                        device="cpu").fit(X, NAMES[y])  # fmt: skip
    return clf, X, NAMES[y]


def test_guard_threshold_flags_the_chosen_share_of_validation_images(fitted):
    clf, X, _ = fitted
    scores = clf.score_samples(X[clf.valid_indices_])
    assert np.mean(scores < clf.ood_offset_) <= clf.ood_rate
    assert np.mean(scores < clf.ood_offset_) >= clf.ood_rate - 2 / len(scores)
    # GBMNet's last convolution has 64 channels: mean and std of each
    assert clf.ood_means_.shape == (4, 128) and clf.ood_precision_.shape == (128, 128)
    assert clf.ood_projection_ is None
    assert not clf.predict_ood(X).any()  # head phantoms are MRI-like, however typical


def test_shift_is_the_distance_over_the_guard_threshold(fitted):
    clf, X, _ = fitted
    scores = clf.score_samples(X)
    shift = clf.shift_score(X)
    np.testing.assert_allclose(shift, np.sqrt(scores / clf.ood_offset_), rtol=1e-5)
    # from the same scores, rounding never puts an image on the wrong side of 1
    same = shift_from_scores(scores, clf.ood_offset_)
    np.testing.assert_array_equal(same >= 1, scores < clf.ood_offset_)
    at = np.float32(clf.ood_offset_)
    below, beyond = shift_from_scores(np.array([at, np.nextafter(at, -np.inf)]), at)
    assert below < 1 <= beyond
    assert np.median(shift[clf.valid_indices_]) < 1
    np.testing.assert_allclose(shift_score(clf, X[:4]), shift[:4])
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (3, 32, 32)).astype(np.uint8)
    assert clf.shift_score(noise).min() > np.quantile(shift, 0.99)


def test_ood_flags_noise_and_blank_images_which_the_guard_scores_far(fitted):
    clf, X, _ = fitted
    rng = np.random.default_rng(0)
    odd = np.stack([rng.integers(0, 256, (32, 32)), np.full((32, 32), 255),
                    np.tile(np.arange(32) * 8, (32, 1))]).astype(np.uint8)  # fmt: skip
    assert clf.predict_ood(odd).all()
    assert clf.score_samples(odd).max() < np.median(clf.score_samples(X))


def test_guard_through_wrappers_and_pipelines(fitted):
    _, X, y = fitted
    cnn = CNNClassifier(max_epochs=2, random_state=0, module__hidden=16, device="cpu")
    pipe = make_pipeline(Resize((24, 24)), cnn)
    model = TumorFirstClassifier(TTAClassifier(pipe), threshold=0.5).fit(X, y)
    inner = model.estimator_.estimator_
    np.testing.assert_allclose(model.score_samples(X[:5]), inner.score_samples(X[:5]))
    # ood reads the images as given (before the pipeline's resize to 24 px, "too small")
    np.testing.assert_array_equal(model.predict_ood(X[:5]), not_mri(X[:5]))
    assert not model.predict_ood(X[:5]).any() and inner[-1].predict_ood(X[:5, :24, :24]).all()
    np.testing.assert_allclose(model.shift_score(X[:5]), shift_score(inner, X[:5]), rtol=1e-6)
    # a wrapper around a model without the guard has no such method
    from sklearn.linear_model import LogisticRegression

    assert not hasattr(TumorFirstClassifier(LogisticRegression(), negative_class=0),
                       "score_samples")  # fmt: skip
    with pytest.raises(TypeError, match="no fitted CNNClassifier"):
        shift_score(LogisticRegression().fit([[0], [1]], [0, 1]), [[0]])


def test_guard_options(fitted):
    _, X, y = fitted
    off = CNNClassifier(max_epochs=1, random_state=0, module__hidden=16, ood_rate=None,
                        device="cpu").fit(X, y)  # fmt: skip
    assert not hasattr(off, "ood_offset_")
    with pytest.raises(ValueError, match="no out-of-distribution guard"):
        off.score_samples(X)
    for bad in (0, 1, 1.5, True, "0.05"):
        with pytest.raises(ValueError, match="ood_rate"):
            CNNClassifier(max_epochs=1, ood_rate=bad).fit(X, y)
    # no validation split: the threshold comes from the training images
    whole = CNNClassifier(max_epochs=1, random_state=0, module__hidden=16, train_split=None,
                          device="cpu").fit(X, y)  # fmt: skip
    assert np.mean(whole.shift_score(X) >= 1) == pytest.approx(whole.ood_rate, abs=0.01)


def test_guard_survives_the_safe_format(fitted, tmp_path):
    clf, X, _ = fitted
    loaded = load(save(clf, tmp_path / "m.btm"))
    np.testing.assert_allclose(loaded.score_samples(X[:8]), clf.score_samples(X[:8]), rtol=1e-6)
    assert loaded.ood_offset_ == clf.ood_offset_


def test_mirror_network_round_trips_the_safe_format(fitted, tmp_path):
    _, X, y = fitted
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=16, module__mirror=True,
                        device="cpu").fit(X[:80], y[:80])  # fmt: skip
    assert clf.module_.features.block1.conv.in_channels == 2
    loaded = load(save(clf, tmp_path / "mirror.btm"))
    assert loaded.module_.mirror
    np.testing.assert_allclose(loaded.predict_proba(X[:8]), clf.predict_proba(X[:8]), atol=1e-6)


def test_typicality_is_minus_the_nearest_squared_mahalanobis_distance():
    means = np.array([[0.0, 0.0], [10.0, 0.0]])
    precision = np.diag([1.0, 4.0])
    scores = typicality(np.array([[1.0, 1.0], [9.0, 0.0]]), means, precision)
    np.testing.assert_allclose(scores, [-(1 + 4), -1])


def test_warm_start_continues_training(fitted):
    _, X, y = fitted
    clf = CNNClassifier(max_epochs=2, random_state=0, module__hidden=16, device="cpu")
    clf.fit(X[:120], y[:120])
    first = clf.module_.features.block1.conv.weight.detach().clone()
    clf.set_params(warm_start=True, lr=1e-4).fit(X[120:], y[120:])
    assert [row["epoch"] for row in clf.history_] == [1, 2, 3, 4]
    moved = float((clf.module_.features.block1.conv.weight.detach() - first).abs().max())
    assert 0 < moved < 0.01  # continued from the weights, not re-initialised
    assert clf.valid_indices_.max() < 120  # a new split, of the new images
    # without warm_start, fit starts afresh
    clf.set_params(warm_start=False).fit(X[:120], y[:120])
    assert len(clf.history_) == 2


def test_warm_start_refuses_new_classes_and_shapes(fitted):
    _, X, y = fitted
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=16, warm_start=True,
                        device="cpu").fit(X, y)  # fmt: skip
    with pytest.raises(ValueError, match=r"class\(es\) \['astrocytoma'\].*new classifier"):
        clf.fit(X[:40], np.where(y[:40] == "glioma", "astrocytoma", y[:40]))
    with pytest.raises(ValueError, match="shape"):
        clf.fit(X[:40, :16, :16], y[:40])
    # fine-tuning on a subset of the classes is allowed
    subset = np.isin(y, ["glioma", "notumor"])
    clf.fit(X[subset], y[subset])
    assert clf.classes_.tolist() == NAMES.tolist()


def test_partial_fit(fitted):
    _, X, y = fitted
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=16, device="cpu")
    first = np.isin(y, ["glioma", "meningioma"])
    clf.partial_fit(X[first], y[first], classes=NAMES)
    assert clf.classes_.tolist() == NAMES.tolist()
    assert clf.predict_proba(X[:3]).shape == (3, 4)
    clf.partial_fit(X[~first], y[~first])
    assert len(clf.history_) == 2
    with pytest.raises(ValueError, match="differ from the fitted classes_"):
        clf.partial_fit(X, y, classes=["a", "b"])


NETWORKS = [
    (bnn.GBMNet, {"input_size": (64, 64)}),
    (bnn.GBMNet, {"input_size": (64, 64), "mirror": True}),
    (bnn.GBMNet, {"input_size": (64, 64), "mixstyle": 0.5}),
    (bnn.GBMNet, {"input_size": (64, 64), "pooling": "max"}),
    (bnn.GBMNet, {"input_size": (64, 64), "pooling": "max", "instance_norm": 2}),
    (bnn.LiuCNN, {"input_size": (104, 104)}),
    (bnn.BaroneBaselineCNN, {"input_size": (30, 30)}),
    (bnn.BaroneImprovedCNN, {"input_size": (30, 30)}),
    (bnn.SimpleCNN, {"input_size": (64, 64), "in_channels": 1}),
    (bnn.LiCNN, {"input_size": (150, 150), "in_channels": 1}),
    (
        bnn.EnsembleNet,
        {
            "module": bnn.GBMNet,
            "n_members": 2,
            "input_size": (64, 64),
            "pooling": "max",
            "instance_norm": 2,
        },
    ),
]


@pytest.mark.parametrize(("network", "kwargs"), NETWORKS, ids=lambda v: getattr(v, "__name__", ""))
def test_every_network_scripts_and_exports_to_onnx(network, kwargs, tmp_path):
    torch.manual_seed(0)
    module = network(**kwargs).eval()
    x = torch.rand(2, kwargs.get("in_channels", 1), *kwargs["input_size"])
    with torch.no_grad():
        expected = module(x).numpy()
        scripted = torch.jit.script(module)
        np.testing.assert_allclose(scripted(x).numpy(), expected, atol=1e-5)
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    program = torch.onnx.export(module, (x,), input_names=["x"], dynamo=True, verbose=False)
    program.save(str(tmp_path / "m.onnx"))
    got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_guard_projects_wide_features_and_reads_linear_networks(fitted):
    _, X, y = fitted
    wide = CNNClassifier(max_epochs=1, random_state=0, module__channels=(4, 8, 8, 160),
                         module__hidden=16, device="cpu").fit(X, y)  # fmt: skip
    # the centre, then at most 256 components (fewer with fewer training images)
    n_components = min(256, len(X) - len(wide.valid_indices_))
    assert wide.ood_projection_.shape == (1 + n_components, 320)
    assert wide.ood_precision_.shape == (n_components, n_components)
    assert np.mean(wide.shift_score(X[wide.valid_indices_]) >= 1) <= wide.ood_rate

    class Dense(torch.nn.Module):
        def __init__(self, n_classes=4, in_channels=1, input_size=(32, 32)):
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Flatten(), torch.nn.Linear(in_channels * input_size[0] * input_size[1], 8),
                torch.nn.ReLU(), torch.nn.Linear(8, n_classes),
            )  # fmt: skip

        def forward(self, x):
            return self.body(x)

    dense = CNNClassifier(Dense, max_epochs=1, random_state=0, device="cpu").fit(X, y)
    assert dense.ood_means_.shape == (4, 8)  # the last linear layer's input
    assert dense.score_samples(X[:3]).shape == (3,)
