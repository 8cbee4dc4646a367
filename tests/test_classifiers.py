import io
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch import nn

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import load_sample, make_synthetic_mri
from sklearn_braintumor.nn import FocalLoss, GBMNet
from sklearn_braintumor.preprocessing import ImageFlattener, Resize


class TinyNet(nn.Module):
    """A small network that takes any input shape, for the contract checks."""

    def __init__(self, n_classes=2, in_channels=1, input_size=(1, 4), hidden=16):
        super().__init__()
        n = in_channels * input_size[0] * input_size[1]
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(n, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, x):
        return self.net(x)


# With two or more torch threads BLAS computes a row with another kernel at another position of a
# batch, so permuting the samples moves probabilities by about 1e-7, the check's tolerance; with
# one thread it passes (xfail is not strict).
ORDER = {
    "check_methods_sample_order_invariance": "probabilities move by ~1e-7 with the batch "
    "position under multi-threaded BLAS; exact with one torch thread",
    # as for scikit-learn's own SGD estimators: repeating an image changes the mini-batches
    # and the number of steps per epoch, a weight of 2 does not
    "check_sample_weight_equivalence_on_dense_data": "mini-batch training: a weight of 2 is "
    "not the same optimisation path as the image repeated (test_cnn_skorch_idioms.py tests "
    "what sample_weight does)",
}


@parametrize_with_checks(
    [
        CNNClassifier(
            TinyNet, max_epochs=20, lr=0.01, batch_size=16, train_split=None, random_state=0
        )
    ],
    expected_failed_checks=lambda estimator: ORDER,
)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def phantoms():
    X, y = make_synthetic_mri(240, image_size=32, random_state=0)
    X_test, y_test = make_synthetic_mri(120, image_size=32, random_state=1)
    return X, y, X_test, y_test


def small(**params):
    params = {"max_epochs": 10, "lr": 3e-3, "random_state": 0, "module__hidden": 32, **params}
    return CNNClassifier(GBMNet, **params)


def test_learns_phantoms_with_string_labels(phantoms):
    X, y, X_test, y_test = phantoms
    names = np.array(["glioma", "meningioma", "notumor", "pituitary"])
    clf = small().fit(X, names[y])
    np.testing.assert_array_equal(clf.classes_, names)
    assert (clf.predict(X_test) == names[y_test]).mean() > 0.8  # chance 0.25
    proba = clf.predict_proba(X_test)
    assert proba.shape == (120, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert len(clf.history_) == 10 and isinstance(clf.module_, GBMNet)


def test_learns_the_embedded_sample():
    resize = Resize((64, 64))
    train, test = load_sample("train"), load_sample("test")
    clf = CNNClassifier(GBMNet, max_epochs=8, batch_size=32, random_state=0, train_split=None)
    clf.fit(resize.fit_transform(train.images), train.target)
    accuracy = (clf.predict(resize.transform(test.images)) == test.target).mean()
    assert accuracy > 0.5  # chance 0.25 on the duplicate-free test part


def test_probabilities_with_focal_loss_and_class_weights(phantoms):
    X, y, X_test, _ = phantoms
    clf = small(criterion=FocalLoss, criterion__gamma=2.0, class_weight="balanced").fit(X, y)
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert (proba >= 0).all()
    assert clf.net_.criterion_.weight is not None


def test_flattened_input_after_smote_and_nested_search(phantoms):
    X, y, _, _ = phantoms
    keep = np.flatnonzero((y != 3) | (np.arange(len(y)) % 4 == 0))  # class 3 is rare
    pipe = make_pipeline(
        ImageFlattener(), SMOTE(random_state=0),
        CNNClassifier(GBMNet, input_shape=(1, 32, 32), max_epochs=2, random_state=0,
                      module__hidden=16),
    )  # fmt: skip
    grid = {"cnnclassifier__module__dropout": [0.0, 0.5], "cnnclassifier__lr": [1e-3, 3e-3]}
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(2), n_jobs=2).fit(X[keep], y[keep])
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_[-1]
    assert best.module_.classifier[2].p == search.best_params_["cnnclassifier__module__dropout"]
    assert best.input_shape_ == (1, 32, 32)


def test_clone_and_pickle(phantoms):
    X, y, X_test, _ = phantoms
    instance = GBMNet(n_classes=4, input_size=(32, 32), hidden=32)
    before = {k: v.clone() for k, v in instance.state_dict().items()}
    clf = CNNClassifier(instance, max_epochs=2, random_state=0).fit(X, y)
    for key, value in instance.state_dict().items():  # the given instance is not trained
        assert torch.equal(value, before[key])
    fresh = clone(clf)
    assert not hasattr(fresh, "net_") and fresh.get_params()["module"] is not clf.module_
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X_test), clf.predict_proba(X_test))
    assert clone(small()).get_params()["module__hidden"] == 32


def test_early_stopping_and_f1_monitor(phantoms):
    X, y, _, _ = phantoms
    clf = small(max_epochs=40, early_stopping=2, monitor="valid_f1").fit(X, y)
    assert len(clf.history_) < 40
    assert "valid_f1" in clf.history_[-1]


def test_keep_best_restores_the_best_validation_epoch(phantoms):
    X, y, _, _ = phantoms
    clf = small(max_epochs=8, keep_best=True, monitor="valid_acc", lr=3e-2).fit(X, y)
    assert len(clf.history_) == 8  # keep_best never stops early
    best = [row["valid_acc"] for row in clf.history_ if row["valid_acc_best"]][-1]
    valid = clf.valid_indices_
    assert (clf.predict(X[valid]) == y[valid]).mean() == pytest.approx(best)
    last = small(max_epochs=8, monitor="valid_acc", lr=3e-2).fit(X, y)
    assert (last.predict(X[valid]) == y[valid]).mean() == pytest.approx(
        last.history_[-1, "valid_acc"]
    )


def test_cosine_schedule_anneals_the_learning_rate(phantoms):
    X, y, _, _ = phantoms
    clf = small(max_epochs=4, lr=1e-2, lr_schedule="cosine").fit(X, y)
    group = clf.net_.optimizer_.param_groups[0]
    # CosineAnnealingLR(T_max=4) after 4 steps: lr * (1 + cos(pi)) / 2 = 0
    assert group["lr"] == pytest.approx(0.0, abs=1e-12)
    lrs = [row["event_lr"] for row in clf.history_]
    assert lrs[0] == pytest.approx(1e-2) and all(np.diff(lrs) < 0)


def test_errors(phantoms):
    X, y, _, _ = phantoms
    with pytest.raises(ValueError, match="at least 2 classes"):
        small().fit(X[:10], np.zeros(10))
    clf = small(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"fitted on images of shape .* \(1, 32, 32\)"):
        clf.predict(X[:, :16, :16])
    with pytest.raises(ValueError, match="holds 100 values"):
        small(input_shape=(10, 10)).fit(X.reshape(len(X), -1), y)
    with pytest.raises(TypeError, match="unexpected parameters"):
        CNNClassifier(dropout=0.5).fit(X, y)
    with pytest.raises(ValueError, match="monitor"):
        small(monitor="valid_auc").fit(X, y)
    with pytest.raises(ValueError, match="train_split"):
        small(early_stopping=2, train_split=None).fit(X, y)
    with pytest.raises(ValueError, match="keep_best needs a train_split"):
        small(keep_best=True, train_split=None).fit(X, y)
    with pytest.raises(ValueError, match="lr_schedule"):
        small(lr_schedule="step").fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        small(class_weight="inverse").fit(X, y)
    weighted = small(max_epochs=1, class_weight={0: 3.0}).fit(X, y)
    np.testing.assert_allclose(weighted.net_.criterion_.weight.cpu().numpy(), [3.0, 1.0, 1.0, 1.0])


SCRIPT = """
import numpy as np
from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
X, y = make_synthetic_mri(96, image_size=32, random_state=0)
clf = CNNClassifier(max_epochs=2, random_state=7, module__hidden=16, device="cpu").fit(X, y)
print(repr(clf.predict_proba(X[:8]).round(12).tolist()))
"""


def test_same_seed_same_predictions_in_and_across_processes():
    runs = [
        subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert runs[0].stdout == runs[1].stdout
    namespace = {}
    exec(SCRIPT.replace("print(", "result = ("), namespace)
    assert namespace["result"] + "\n" == runs[0].stdout


def test_augmentation_trains_reproducibly_and_spares_prediction(phantoms):
    X, y, X_test, y_test = phantoms
    # the phantoms' class is the lesion's angle, so only angle-preserving options here
    augment = {"horizontal_flip": 0.0, "zoom": 0.1, "translation": 0.05, "blur_sigma": 0.8,
               "noise_std": 0.02}  # fmt: skip
    first = small(augment=augment, device="cpu").fit(X, y)  # CPU fits are reproducible
    assert (first.predict(X_test) == y_test).mean() > 0.7
    second = small(augment=augment, device="cpu").fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X_test), second.predict_proba(X_test))
    np.testing.assert_array_equal(first.predict_proba(X_test), first.predict_proba(X_test))
    plain = small().fit(X, y)
    assert not np.array_equal(plain.predict_proba(X_test), first.predict_proba(X_test))
    with pytest.raises(TypeError, match="augment"):
        small(augment="flip").fit(X, y)


def test_a_fitted_model_keeps_no_training_tensors(phantoms):
    X, y, _, _ = phantoms
    clf = small(max_epochs=2, keep_best=True, lr_schedule="cosine").fit(X, y)
    # skorch pickles the module, criterion and optimizer separately and maps them to the CPU when
    # loaded without a GPU; any tensor or optimizer the pickler meets elsewhere (in a callback,
    # or the module as an attribute of the classifier) keeps its training device and would not
    # load there (test_a_model_trained_on_a_gpu_loads_without_one)
    held = []

    class Finder(pickle.Pickler):
        def persistent_id(self, obj):
            if torch.is_tensor(obj) or isinstance(obj, torch.optim.Optimizer):
                held.append(type(obj).__name__)
            return None

    Finder(io.BytesIO()).dump(clf)
    assert held == []
    assert clf.net_.train_split is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_model_trained_on_a_gpu_loads_without_one(phantoms, tmp_path, predict_without_gpu):
    from sklearn_braintumor.utils import load, save

    X, y, X_test, _ = phantoms
    clf = small(max_epochs=3, keep_best=True, lr_schedule="cosine", device="cuda").fit(X, y)
    proba = predict_without_gpu(save(clf, tmp_path / "model.joblib", format="joblib"), X_test)
    safe = load(save(clf, tmp_path / "model.btm"))  # the safe format: weights as arrays
    np.testing.assert_allclose(safe.predict_proba(X_test), clf.predict_proba(X_test), atol=1e-5)
    np.testing.assert_allclose(proba, clf.predict_proba(X_test), atol=1e-5)


def test_verbosity(phantoms, capsys):
    X, y, _, _ = phantoms
    small(max_epochs=2).fit(X, y)
    assert capsys.readouterr().out == ""
    small(max_epochs=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "epoch" in out and "train_loss" in out and "valid_loss" in out


def test_atomic_save_and_load(phantoms, tmp_path, monkeypatch):
    import joblib

    from sklearn_braintumor.utils import load, save

    X, y, X_test, _ = phantoms
    pipe = make_pipeline(
        ImageFlattener(), CNNClassifier(GBMNet, input_shape=(32, 32), max_epochs=1, random_state=0)
    )
    pipe.fit(X, y)
    path = save(pipe, tmp_path / "model.joblib", format="joblib")
    np.testing.assert_allclose(
        load(path, trusted=True).predict_proba(X_test), pipe.predict_proba(X_test)
    )
    before = path.read_bytes()

    def broken_dump(obj, filename, **kwargs):
        with open(filename, "wb") as handle:
            handle.write(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", broken_dump)
    with pytest.raises(KeyboardInterrupt):
        save(pipe, path, format="joblib")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.joblib"]


def test_sampler_resamples_after_the_validation_split(phantoms):
    from sklearn_braintumor.sampling import ImageAugmenter

    X, y, _, _ = phantoms
    keep = np.flatnonzero((y != 3) | (np.arange(len(y)) % 4 == 0))  # class 3 is rare
    X, y = X[keep], y[keep]
    clf = small(max_epochs=1, sampler=SMOTE(k_neighbors=3)).fit(X, y)
    valid = clf.valid_indices_
    assert len(valid) == np.ceil(0.2 * len(y))  # real images only (train_test_split rounds up)
    np.testing.assert_allclose(
        np.bincount(y[valid]) / len(valid), np.bincount(y) / len(y), atol=0.05
    )
    train_counts = np.bincount(np.delete(y, valid))
    batches = clf.history_[-1]["batches"]
    n_trained = sum(b["train_batch_size"] for b in batches if "train_batch_size" in b)
    assert n_trained == train_counts.max() * 4  # SMOTE balanced the training part only
    assert sum(b["valid_batch_size"] for b in batches if "valid_batch_size" in b) == len(valid)

    augmented = small(max_epochs=1, train_split=None,
                      sampler=ImageAugmenter(1, rotation=10)).fit(X, y)  # fmt: skip
    batches = augmented.history_[-1]["batches"]
    assert sum(b["train_batch_size"] for b in batches) == 2 * len(y)  # images in, copies out
    assert augmented.valid_indices_ is None

    search = GridSearchCV(small(max_epochs=1, sampler=SMOTE()),
                          {"sampler__k_neighbors": [1, 2]}, cv=2).fit(X, y)  # fmt: skip
    assert search.best_estimator_.sampler.k_neighbors in (1, 2)
    assert small(sampler=SMOTE()).get_params()["sampler__k_neighbors"] == 5


def test_parameters_are_checked_at_the_door_before_any_image_is_read():
    """scikit-learn's _fit_context validates, then the relations; X is not looked at yet."""
    from imblearn.over_sampling import RandomOverSampler
    from sklearn import config_context
    from sklearn.utils._param_validation import InvalidParameterError

    from sklearn_braintumor.preprocessing import ImageReader

    not_images = object()  # any look at X would fail with another error
    with pytest.raises(InvalidParameterError, match="'lr' parameter"):
        CNNClassifier(lr="fast").fit(not_images, [0, 1])
    with pytest.raises(InvalidParameterError, match="cannot be combined with reader"):
        CNNClassifier(reader=ImageReader(), sampler=RandomOverSampler()).fit(not_images, [0, 1])
    with config_context(skip_parameter_validation=True), pytest.raises(ValueError) as caught:
        CNNClassifier(lr="fast").fit(not_images, [0, 1])  # scikit-learn's switch is honoured
    assert not isinstance(caught.value, InvalidParameterError)  # X's error, not lr's


def test_sampler_sees_the_images_as_given_before_scaling(monkeypatch):
    """As in an imbalanced-learn pipeline ahead of the classifier: uint8 rows, not floats."""
    from imblearn import FunctionSampler

    X, y = make_synthetic_mri(40, image_size=16, random_state=0)  # uint8
    seen, trained = {}, {}

    def shift(data, labels):  # returns floats, as some samplers do
        seen["data"] = data
        return data.astype(np.float64) + 0.4, labels

    original = CNNClassifier._train

    def spy(net, train_X, *args):
        trained["X"] = train_X
        return original(net, train_X, *args)

    monkeypatch.setattr(CNNClassifier, "_train", staticmethod(spy))
    clf = small(max_epochs=1, sampler=FunctionSampler(func=shift, validate=False)).fit(X, y)
    rows = np.delete(np.arange(len(y)), clf.valid_indices_)
    assert seen["data"].dtype == np.uint8
    np.testing.assert_array_equal(seen["data"], X[rows].reshape(len(rows), -1))
    # the floats are rounded back into uint8, then scaled as the training images
    np.testing.assert_allclose(trained["X"].numpy()[:, 0], X[rows] / 255.0, atol=1e-6)


def test_parameter_mistakes_get_a_hint_and_the_reader_its_nested_parameters():
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.preprocessing import ImageReader, Resize

    X, y = make_synthetic_mri(20, image_size=16, random_state=0)
    with pytest.raises(TypeError, match=r"did you mean 'module__dropout'\?"):
        CNNClassifier(max_epochs=1, modul__dropout=0.2).fit(X, y)
    with pytest.raises(TypeError, match=r"did you mean 'module__dropout'\?"):
        CNNClassifier(max_epochs=1, dropout=0.2).fit(X, y)
    with pytest.raises(TypeError, match="no DataLoader to configure; set batch_size"):
        CNNClassifier(max_epochs=1, iterator_train__num_workers=2).fit(X, y)
    clf = CNNClassifier(reader=make_pipeline(ImageReader(), Resize((8, 8))))
    assert clf.get_params()["reader__resize__shape"] == (8, 8)
    clf.set_params(reader__resize__shape=(16, 16))
    assert clf.get_params()["reader__resize__shape"] == (16, 16)


def test_sampler_sees_class_names_and_keeps_its_own_random_state(monkeypatch):
    from imblearn.over_sampling import RandomOverSampler

    X, y = make_synthetic_mri(60, image_size=16, random_state=0)
    names = np.array(["glioma", "meningioma", "notumor", "pituitary"])[y]
    seen = {}
    original = RandomOverSampler.fit_resample

    def spy(self, data, labels):
        seen["labels"], seen["random_state"] = set(labels), self.random_state
        return original(self, data, labels)

    monkeypatch.setattr(RandomOverSampler, "fit_resample", spy)
    sampler = RandomOverSampler(sampling_strategy={"glioma": 40}, random_state=7)
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8, sampler=sampler)
    clf.fit(X, names)
    assert seen == {"labels": set(names), "random_state": 7}
    CNNClassifier(max_epochs=1, random_state=0, module__hidden=8,
                  sampler=RandomOverSampler()).fit(X, names)  # fmt: skip
    assert seen["random_state"] is not None  # None: seeded from the classifier's random_state
