"""TwoStageClassifier: a screen decides "no tumour", a multi-class model names the type."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from sklearn_braintumor.classifiers import TumorFirstClassifier, TwoStageClassifier
from sklearn_braintumor.classifiers._ood import proba_scores_shift
from sklearn_braintumor.utils import load, save

CLASSES = np.array(["glioma", "meningioma", "notumor"])


def blobs(n=30, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[3.0, 0.0], [3.0, 3.0], [0.0, 0.0]])
    y = np.repeat(CLASSES, n)
    return rng.normal(size=(3 * n, 2)) + np.repeat(centres, n, axis=0), y


class Fixed(DummyClassifier):
    """A classifier whose probabilities are given per row (the first feature indexes them)."""

    def __init__(self, table=None, classes=None):
        self.table = table
        self.classes = classes

    def fit(self, X, y):
        self.classes_ = np.asarray(self.classes)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        return np.asarray(self.table)[np.asarray(X)[:, 0].astype(int)]


def test_the_screen_decides_no_tumour_and_the_estimator_the_type():
    X, y = np.arange(3)[:, None], CLASSES
    screen = Fixed([[0.9, 0.1], [0.4, 0.6], [0.6, 0.4]], ["notumor", "tumor"])
    # the typer would call row 0 notumor and row 1 glioma; rows 1 and 2: notumor the largest
    typer = Fixed([[0.1, 0.1, 0.8], [0.3, 0.1, 0.6], [0.1, 0.3, 0.6]], CLASSES)
    model = TwoStageClassifier(screen, typer).fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba[:, 2], [0.9, 0.4, 0.6])  # the screen's p(notumor)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the rest shared as the typer shares it between the tumour classes
    np.testing.assert_allclose(proba[1, :2], [0.6 * 0.75, 0.6 * 0.25])
    assert model.predict(X).tolist() == ["notumor", "glioma", "notumor"]
    np.testing.assert_array_equal(model.predict_from_proba(proba), model.predict(X))


def test_the_screen_s_threshold_decides():
    X, y = np.arange(3)[:, None], CLASSES
    screen = TumorFirstClassifier(Fixed([[0.9, 0.1], [0.7, 0.3], [0.6, 0.4]],
                                        ["notumor", "tumor"]), threshold=0.8)  # fmt: skip
    typer = Fixed([[0.1, 0.1, 0.8], [0.1, 0.2, 0.7], [0.3, 0.1, 0.6]], CLASSES)
    model = TwoStageClassifier(screen, typer).fit(X, y)
    # 0.7 and 0.6 are the most probable single class, but below the screen's 0.8
    assert model.predict(X).tolist() == ["notumor", "meningioma", "glioma"]
    assert model.threshold_ == 0.8


def test_fit_trains_both_stages_on_their_labels():
    X, y = blobs()
    model = TwoStageClassifier(LogisticRegression(), LogisticRegression()).fit(X, y)
    assert model.screen_.classes_.tolist() == ["notumor", "tumor"]
    assert model.classes_.tolist() == CLASSES.tolist()
    assert model.score(X, y) > 0.9
    custom = TwoStageClassifier(LogisticRegression(), LogisticRegression(),
                                positive_label="lesion").fit(X, y)  # fmt: skip
    assert custom.screen_.classes_.tolist() == ["lesion", "notumor"]
    assert custom.predict(X).tolist() == model.predict(X).tolist()
    with pytest.raises(AttributeError):  # a plain screen has no threshold
        model.threshold_  # noqa: B018


def test_stages_fitted_side_by_side_match_those_fitted_in_turn():
    X, y = blobs()
    in_turn = TwoStageClassifier(LogisticRegression(), LogisticRegression()).fit(X, y)
    # two worker processes: the fitted stages come back to this process
    side_by_side = clone(in_turn).set_params(n_jobs=2).fit(X, y)
    for a, b in ((in_turn.screen_, side_by_side.screen_),
                 (in_turn.estimator_, side_by_side.estimator_)):  # fmt: skip
        np.testing.assert_allclose(a.coef_, b.coef_)
    np.testing.assert_array_equal(side_by_side.predict(X), in_turn.predict(X))
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        clone(in_turn).set_params(n_jobs="two").fit(X, y)


def test_frozen_stages_are_not_retrained():
    X, y = blobs()
    screen = LogisticRegression().fit(X, np.where(y == "notumor", "notumor", "tumor"))
    typer = LogisticRegression().fit(X, y)
    coef = typer.coef_.copy()
    other_X, other_y = blobs(seed=1)
    model = TwoStageClassifier(FrozenEstimator(screen), FrozenEstimator(typer))
    model.fit(other_X[::-1] * 10, other_y)
    np.testing.assert_array_equal(typer.coef_, coef)
    np.testing.assert_allclose(model.predict_proba(X)[:, 2], screen.predict_proba(X)[:, 0])
    assert clone(model).fit(X, y).predict(X).tolist() == model.predict(X).tolist()


@pytest.mark.parametrize(
    ("params", "y", "message"),
    [
        ({}, ["glioma", "meningioma"] * 5, "negative_class 'notumor' is not one of the labels"),
        ({}, ["notumor"] * 4, "y has one class"),
        ({"positive_label": "notumor"}, list(CLASSES) * 3, "must differ"),
    ],
)
def test_bad_labels_are_refused(params, y, message):
    X = np.random.default_rng(0).normal(size=(len(y), 2))
    with pytest.raises(ValueError, match=message):
        TwoStageClassifier(LogisticRegression(), LogisticRegression(), **params).fit(X, y)


def test_a_screen_of_more_than_two_classes_is_refused():
    X, y = blobs()
    three = FrozenEstimator(LogisticRegression().fit(X, y))
    with pytest.raises(ValueError, match="the screen must have two classes"):
        TwoStageClassifier(three, LogisticRegression()).fit(X, y)
    unrelated = FrozenEstimator(LogisticRegression().fit(X, np.where(y == "glioma", "a", "b")))
    with pytest.raises(ValueError, match=r"screen's classes .* do not include"):
        TwoStageClassifier(unrelated, LogisticRegression()).fit(X, y)


def test_cnn_stages_guard_one_pass_and_safe_file(tmp_path):
    from sklearn_braintumor.classifiers import CNNClassifier
    from sklearn_braintumor.datasets import make_synthetic_mri

    X, labels = make_synthetic_mri(90, image_size=32, random_state=0)
    y = np.asarray(["glioma", "meningioma", "notumor"])[np.asarray(labels) % 3]
    cnn = CNNClassifier(max_epochs=2, random_state=0, module__hidden=16, verbose=0)
    model = TwoStageClassifier(TumorFirstClassifier(clone(cnn), threshold=0.6), cnn).fit(X, y)
    proba, _, shift = proba_scores_shift(model, X[:10])
    np.testing.assert_allclose(proba, model.predict_proba(X[:10]), atol=1e-6)
    np.testing.assert_allclose(shift, model.shift_score(X[:10]))  # the estimator's guard
    np.testing.assert_allclose(model.shift_score(X[:10]), model.estimator_.shift_score(X[:10]))
    path = tmp_path / "two.btm"
    save(model, path)
    again = load(path)
    np.testing.assert_array_equal(again.predict(X[:10]), model.predict(X[:10]))
    assert again.predict_ood(X[:2]).tolist() == [False, False]
