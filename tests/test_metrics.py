import json

import matplotlib
import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.inspection import plot_history
from sklearn_braintumor.metrics import evaluation_report, expected_calibration_error
from sklearn_braintumor.preprocessing import ImageFlattener

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(300, n_classes=3, n_informative=5, random_state=0)
    labels = np.array(["glioma", "meningioma", "pituitary"])[y]
    return LogisticRegression(max_iter=1000).fit(X[:200], labels[:200]), X[200:], labels[200:]


def test_a_decision_rule_on_probabilities_is_applied_to_one_pass(fitted):
    from sklearn_braintumor.classifiers import TumorFirstClassifier

    clf, X, y = fitted
    rule = TumorFirstClassifier(clf, negative_class="pituitary", threshold=0.8).fit(X, y)
    calls = []
    original = type(clf).predict_proba

    def counting(self, X):
        calls.append(len(X))
        return original(self, X)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(clf), "predict_proba", counting)
        report = evaluation_report(rule, X, y)
    assert calls == [len(X)]  # predict did not run the model again
    assert report.accuracy == pytest.approx(np.mean(rule.predict(X) == y))
    assert report.accuracy != pytest.approx(np.mean(clf.predict(X) == y))  # the rule's decisions


def test_values_equal_scikit_learn(fitted):
    clf, X, y = fitted
    report = evaluation_report(clf, X, y)
    y_pred, proba = clf.predict(X), clf.predict_proba(X)
    assert report.target_names == ["glioma", "meningioma", "pituitary"]
    assert report.accuracy == pytest.approx((y_pred == y).mean())
    assert report.balanced_accuracy == pytest.approx(balanced_accuracy_score(y, y_pred))
    assert report.macro_f1 == pytest.approx(f1_score(y, y_pred, average="macro"))
    assert report.weighted_f1 == pytest.approx(f1_score(y, y_pred, average="weighted"))
    p, r, f, s = precision_recall_fscore_support(y, y_pred)
    for index, name in enumerate(report.target_names):
        row = report.per_class[name]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (p[index], r[index], f[index], s[index])
        )
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y == name, proba[:, index]))
    assert report.roc_auc == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"))
    assert report.confusion_matrix.sum() == 100
    assert json.loads(json.dumps(report.to_dict()))["per_class"]["glioma"]["support"] == s[0]
    table = report.to_markdown()
    assert "| glioma |" in table and "balanced accuracy" in table


def test_expected_calibration_error_by_hand():
    proba = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.45, 0.55]])
    y = np.array([0, 1, 0, 1])
    # bin 0.9-1.0: accuracy 0.5, confidence 0.95; bin 0.5-0.6: accuracy 1, confidence 0.55
    assert expected_calibration_error(y, proba, [0, 1]) == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)
    perfect = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error([0, 1], perfect, [0, 1]) == 0


def test_binary_and_probability_free_estimators():
    X, y = make_classification(200, random_state=0)
    binary = evaluation_report(LogisticRegression().fit(X, y), X, y, target_names=["no", "yes"])
    proba = LogisticRegression().fit(X, y).predict_proba(X)[:, 1]
    assert binary.roc_auc == pytest.approx(roc_auc_score(y, proba))
    plain = evaluation_report(LinearSVC().fit(X, y), X, y)
    assert plain.roc_auc is None and plain.ece is None
    assert "n/a" in plain.to_markdown()
    assert len(plain.plot().axes) == 1
    with pytest.raises(ValueError, match="target_names"):
        evaluation_report(LinearSVC().fit(X, y), X, y, target_names=["one"])


def test_plot(fitted):
    figure = evaluation_report(*fitted).plot()
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0] == "Confusion matrix" and titles[1].startswith("ROC")
    assert titles[2].startswith("Reliability (ECE")


def test_history_plot_and_calibration_around_a_cnn():
    X, y = make_synthetic_mri(120, n_classes=2, image_size=32, random_state=0)
    pipe = make_pipeline(
        ImageFlattener(),
        CNNClassifier(input_shape=(32, 32), max_epochs=3, random_state=0, module__hidden=16),
    )
    pipe.fit(X, y)
    figure = plot_history(pipe)
    loss_ax, score_ax = figure.axes
    assert len(loss_ax.get_lines()[0].get_xdata()) == 3 and len(loss_ax.get_lines()) == 2
    assert score_ax.get_lines()
    with pytest.raises(ValueError, match="no training history"):
        plot_history(LogisticRegression())
    no_split = CNNClassifier(max_epochs=2, train_split=None, random_state=0, module__hidden=16)
    assert len(plot_history(no_split.fit(X, y)).axes) == 1  # nothing to show beside the loss
    calibrated = CalibratedClassifierCV(
        CNNClassifier(max_epochs=2, random_state=0, module__hidden=16), cv=2
    ).fit(X, y)
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    report = evaluation_report(calibrated, X, y)
    assert 0 <= report.ece <= 1


def test_tta_averages_over_flips():
    from sklearn_braintumor.classifiers import TTAClassifier

    X, y = make_synthetic_mri(120, image_size=24, random_state=0)
    X_test, _ = make_synthetic_mri(40, image_size=24, random_state=1)
    pipe = make_pipeline(ImageFlattener(), LogisticRegression(max_iter=2000))
    tta = TTAClassifier(pipe, transforms=("identity", "hflip", lambda im: im[::-1])).fit(X, y)
    base = tta.estimator_
    expected = (base.predict_proba(X_test) + base.predict_proba(X_test[:, :, ::-1])
                + base.predict_proba(X_test[:, ::-1])) / 3  # fmt: skip
    np.testing.assert_allclose(tta.predict_proba(X_test), expected)
    np.testing.assert_array_equal(tta.predict(X_test), tta.classes_[expected.argmax(axis=1)])
    assert not hasattr(pipe, "classes_")  # the given estimator is cloned, not fitted
    mixed = [X_test[0], X_test[1][:20, :24]]
    with pytest.raises(ValueError):  # a flattening pipeline cannot take mixed sizes
        tta.predict_proba(mixed)
    with pytest.raises(ValueError, match="unknown transform"):
        TTAClassifier(pipe, transforms=("rotate",)).fit(X, y)
    with pytest.raises(ValueError, match=r"image\[np\.newaxis\]"):
        tta.predict(X_test[0])


def test_tta_contract():
    import pickle

    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    from sklearn_braintumor.classifiers import TTAClassifier

    tta = TTAClassifier(LogisticRegression(), transforms=("identity", "vflip"))
    assert clone(tta).get_params()["transforms"] == ("identity", "vflip")
    X, y = make_synthetic_mri(60, image_size=16, random_state=0)
    with pytest.raises(NotFittedError):
        tta.predict(X)
    fitted = TTAClassifier(make_pipeline(ImageFlattener(), LogisticRegression(max_iter=2000)))
    fitted.fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X))


def test_report_renders_as_html_tables():
    from sklearn.linear_model import LogisticRegression

    from sklearn_braintumor.metrics import evaluation_report

    rng = np.random.default_rng(0)
    X, y = rng.random((40, 3)), np.arange(40) % 2
    html = evaluation_report(LogisticRegression().fit(X, y), X, y,
                             target_names=["no <tumour>", "tumour"])._repr_html_()  # fmt: skip
    assert html.startswith('<div style="overflow-x: auto">') and html.count("<table>") == 2
    assert "no &lt;tumour&gt;" in html and "<th>precision</th>" in html
