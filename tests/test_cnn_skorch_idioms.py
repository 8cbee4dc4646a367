"""CNNClassifier as skorch users drive it: callbacks and every kind of train_split."""

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, ShuffleSplit, StratifiedKFold
from skorch.callbacks import Checkpoint, EpochScoring, GradientNormClipping
from skorch.dataset import ValidSplit

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.exceptions import InvalidParameterError
from sklearn_braintumor.utils import load, save


@pytest.fixture(scope="module")
def data():
    return make_synthetic_mri(100, image_size=32, random_state=0)


def small(**params):
    return CNNClassifier(**{"max_epochs": 2, "random_state": 0, "module__hidden": 16,
                            "device": "cpu", **params})  # fmt: skip


def test_callbacks_after_the_built_in_ones(data, tmp_path):
    X, y = data
    clf = small(
        lr_schedule="cosine",
        callbacks=[EpochScoring("balanced_accuracy", lower_is_better=False),
                   ("checkpoint", Checkpoint(dirname=str(tmp_path))), GradientNormClipping(1.0)],
        callbacks__GradientNormClipping__gradient_clip_value=0.5,
        callbacks__lr_schedule__T_max=7,
    ).fit(X, y)  # fmt: skip
    names = [name for name, _ in clf.net_.callbacks_]
    assert names.index("lr_schedule") < names.index("EpochScoring") < names.index("checkpoint")
    assert "balanced_accuracy" in clf.history_[-1] and "event_cp" in clf.history_[-1]
    assert (tmp_path / "params.pt").exists()
    callbacks = dict(clf.net_.callbacks_)
    assert callbacks["GradientNormClipping"].gradient_clip_value == 0.5
    assert callbacks["lr_schedule"].T_max == 7  # a shortcut's own callback, tuned by name
    params = clf.get_params()
    assert params["callbacks__lr_schedule__T_max"] == 7 and len(params["callbacks"]) == 3
    # callbacks are training-time objects: the safe format keeps the model without them
    loaded = load(save(clf, tmp_path / "m.btm"))
    assert loaded.callbacks is None
    np.testing.assert_allclose(loaded.predict_proba(X[:4]), clf.predict_proba(X[:4]), atol=1e-6)


def test_probability_scorers_as_skorch_callbacks(data):
    # the inner net's predict_proba gives probabilities, not logits, as skorch's scorers expect
    from sklearn.metrics import log_loss, roc_auc_score

    X, y = data
    clf = small(
        train_split=0.3,
        callbacks=[("nll", EpochScoring("neg_log_loss", lower_is_better=False)),
                   ("auc", EpochScoring("roc_auc_ovr", lower_is_better=False))],
    ).fit(X, y)  # fmt: skip
    valid = clf.valid_indices_
    proba = clf.predict_proba(X[valid])
    np.testing.assert_allclose(
        clf.history_[-1, "neg_log_loss"], -log_loss(y[valid], proba), rtol=1e-5
    )
    assert clf.history_[-1, "roc_auc_ovr"] == pytest.approx(
        roc_auc_score(y[valid], proba, multi_class="ovr"), rel=1e-5
    )
    log_proba = clf.predict_log_proba(X[:8])
    np.testing.assert_allclose(np.exp(log_proba), clf.predict_proba(X[:8]), rtol=1e-12)
    assert np.isfinite(log_proba).all()


def test_early_stopping_tuned_through_its_callback(data):
    X, y = data
    clf = small(max_epochs=30, early_stopping=30, callbacks__early_stopping__patience=1,
                callbacks__early_stopping__threshold=10.0).fit(X, y)  # fmt: skip
    assert len(clf.history_) == 2  # no epoch improves by 10: stops after patience 1


@pytest.mark.parametrize(
    ("split", "n_valid"),
    [
        (0.3, 30),
        (10, 10),
        (ValidSplit(5, stratified=True), 20),
        (ValidSplit(0.25, random_state=0), 25),
        (StratifiedKFold(4), 25),
        (ShuffleSplit(1, test_size=7, random_state=0), 7),
        (ValidSplit(4), 25),
    ],
    ids=[
        "fraction",
        "count",
        "ValidSplit-5",
        "ValidSplit-float",
        "StratifiedKFold",
        "ShuffleSplit",
        "ValidSplit-unstratified",
    ],
)
def test_train_split_kinds(data, split, n_valid):
    X, y = data
    clf = small(train_split=split).fit(X, y)
    assert len(clf.valid_indices_) == n_valid
    assert "valid_loss" in clf.history_[-1]
    # the validation images are not trained on: the training batches hold the rest
    assert clf.history_[-1]["train_batch_count"] == int(np.ceil((100 - n_valid) / 32))


def test_a_splitter_sees_the_images_and_leakage_free_split_keeps_copies_apart(data):
    from sklearn_braintumor.model_selection import LeakageFreeSplit, audit_split

    X, y = data
    X, y = np.concatenate([X, X[:40]]), np.concatenate([y, y[:40]])  # 40 exact copies

    seen = {}

    class Recording(ShuffleSplit):
        def split(self, X, y=None, groups=None):
            seen["len"], seen["first"] = len(X), X[0]
            return super().split(X, y, groups)

    small(train_split=Recording(1, test_size=0.2, random_state=0)).fit(X, y)
    # the network's input, channels last, one channel squeezed: what a hashing splitter needs
    assert seen["len"] == len(X) and seen["first"].shape == X[0].shape
    assert np.corrcoef(seen["first"].ravel(), X[0].ravel())[0, 1] > 0.999

    def copies_across(clf):
        valid = clf.valid_indices_
        train = np.setdiff1d(np.arange(len(X)), valid)
        return int(audit_split(X[train], X[valid]).near_mask.sum())

    assert copies_across(small(train_split=0.2).fit(X, y)) > 0  # a random split leaks
    clf = small(train_split=LeakageFreeSplit(test_size=0.2, random_state=0)).fit(X, y)
    assert copies_across(clf) == 0
    assert 0.15 * len(X) <= len(clf.valid_indices_) <= 0.25 * len(X)
    assert set(y[clf.valid_indices_]) == set(y)  # stratified


def test_groups_reach_the_splitter_through_a_pipeline(data):
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.model_selection import LeakageFreeSplit
    from sklearn_braintumor.preprocessing import Resize

    X, y = data
    groups = np.arange(len(X)) // 4  # copies judged on the images before the resize
    for split in (GroupKFold(5), StratifiedGroupKFold(5), LeakageFreeSplit(test_size=0.2)):
        pipe = make_pipeline(Resize((24, 24)), small(train_split=split))
        valid = pipe.fit(X, y, cnnclassifier__groups=groups)[-1].valid_indices_
        train = np.setdiff1d(np.arange(len(X)), valid)
        assert 10 <= len(valid) <= 30 and not set(groups[valid]) & set(groups[train])
    with pytest.raises(ValueError, match="groups need a scikit-learn CV splitter"):
        small(train_split=0.2).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        small(train_split=GroupKFold(5)).fit(X, y, groups=groups[:-1])


def test_a_splitter_gets_file_paths_with_a_reader(tmp_path):
    from PIL import Image

    from sklearn_braintumor.preprocessing import ImageReader

    X, y = make_synthetic_mri(24, image_size=32, random_state=1)
    paths = []
    for index, image in enumerate(X):
        path = tmp_path / f"scan{index}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    seen = {}

    class Recording(ShuffleSplit):
        def split(self, X, y=None, groups=None):
            seen["X"] = list(X)
            return super().split(X, y, groups)

    small(reader=ImageReader(), train_split=Recording(1, test_size=6, random_state=0)).fit(
        np.array(paths, dtype=object), y
    )
    assert seen["X"] == paths


def test_train_split_callable_and_explicit_data(data):
    X, y = data
    clf = small(train_split=ValidSplit(5, stratified=True)).fit(X, y)
    same = small(train_split=lambda dataset, y: ValidSplit(5, stratified=True)(dataset, y))
    np.testing.assert_array_equal(same.fit(X, y).valid_indices_, clf.valid_indices_)
    explicit = small(train_split=(X[:12], y[:12])).fit(X[12:], y[12:])
    assert explicit.valid_indices_ is None
    assert explicit.history_[-1]["valid_batch_count"] == 1
    assert hasattr(explicit, "ood_offset_")  # the guard's threshold from the given images
    with pytest.raises(TypeError, match="torch Subsets"):
        small(train_split=lambda dataset, y: (None, None)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'train_split' parameter"):
        small(train_split="half").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'train_split' parameter"):
        small(train_split=0).fit(X, y)
    with pytest.raises(ValueError, match="y_valid has classes"):
        small(train_split=(X[:4], np.array([7, 7, 7, 7]))).fit(X, y)
    with pytest.raises(ValueError, match="groups"):
        small(train_split=GroupKFold(3)).fit(X, y)


def test_n_threads_while_fitting_and_predicting(data):
    import torch
    from skorch.callbacks import Callback

    X, y = data
    seen = []

    class Threads(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    clf = small(n_threads=1, callbacks=[Threads()]).fit(X, y)
    assert seen == [1, 1] and torch.get_num_threads() == before  # restored afterwards
    clf.predict_proba(X[:4])
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n_threads"):
        small(n_threads=0).fit(X, y)


def test_sample_weight_scales_each_images_loss(data):
    import sklearn
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.nn import FocalLoss
    from sklearn_braintumor.preprocessing import Resize

    X, y = data
    base = small(max_epochs=3, train_split=0.2)
    plain = clone(base).fit(X, y).predict_proba(X)
    ones = clone(base).fit(X, y, sample_weight=np.ones(len(y))).predict_proba(X)
    np.testing.assert_array_equal(ones, plain)  # weights of 1: the unweighted fit, exactly
    favour = np.where(y == 0, 5.0, 0.2)
    weighted = clone(base).fit(X, y, sample_weight=favour).predict_proba(X)
    assert weighted[:, 0].mean() > plain[:, 0].mean()  # the weights change the fit
    focal = small(criterion=FocalLoss, train_split=None)
    assert focal.fit(X, y, sample_weight=favour).predict_proba(X).shape == (len(y), 4)
    assert small().partial_fit(X, y, sample_weight=favour).history_[-1, "epoch"] == 2
    with pytest.raises(ValueError, match="negative"):
        small().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match=r"sample_weight.*shape|same number"):
        small().fit(X, y, sample_weight=np.ones(3))
    # metadata routing: a pipeline passes it on when the classifier asks for it
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(Resize((32, 32)), clone(base).set_fit_request(sample_weight=True))
        routed = pipe.fit(X, y, sample_weight=favour).predict_proba(X)
    np.testing.assert_allclose(routed, weighted, atol=1e-6)
