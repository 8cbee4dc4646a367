"""One call for everything a classification paper reports, built on scikit-learn's metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)


def expected_calibration_error(y_true, y_proba, classes, *, n_bins: int = 10) -> float:
    """Top-label expected calibration error with equal-width confidence bins.

    ``ECE = sum_b (n_b / n) * |accuracy_b - confidence_b|`` over the bins of
    the highest predicted probability (Guo et al. 2017).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples, n_classes)
    classes : array-like of shape (n_classes,)
        Labels of the columns of ``y_proba``.
    n_bins : int, default=10

    Returns
    -------
    ece : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.metrics import expected_calibration_error
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> round(expected_calibration_error([0, 1, 1, 1], proba, classes=[0, 1]), 3)
    0.4
    """
    proba = np.asarray(y_proba, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = np.asarray(classes)[proba.argmax(axis=1)] == np.asarray(y_true)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


@dataclass
class EvaluationReport:
    """Classification metrics of one estimator on one labelled set.

    Attributes
    ----------
    target_names : list of str
        Class names, in the order of ``classes``.
    classes : ndarray
        The estimator's ``classes_``.
    per_class : dict
        ``{name: {"precision", "recall", "f1", "support", "roc_auc"}}``;
        ``roc_auc`` is one-vs-rest and None without probabilities.
    accuracy, balanced_accuracy, macro_f1, weighted_f1 : float
    roc_auc : float or None
        Macro average of the one-vs-rest AUCs (the positive class's AUC for
        two classes).
    ece : float or None
        Top-label expected calibration error.
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        Rows true, columns predicted.
    y_true, y_pred : ndarray
    y_proba : ndarray or None

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.metrics import evaluation_report
    >>> from sklearn_braintumor.preprocessing import ImageFlattener
    >>> X, y = make_synthetic_mri(40, image_size=16, random_state=0)
    >>> clf = make_pipeline(ImageFlattener(), LogisticRegression(max_iter=1000)).fit(X, y)
    >>> report = evaluation_report(clf, X, y)
    >>> sorted(report.to_dict())[:3], report.to_markdown().splitlines()[0][:19]
    (['accuracy', 'balanced_accuracy', 'confusion_matrix'], '| class | precision')
    """

    target_names: list
    classes: np.ndarray
    per_class: dict
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    weighted_f1: float
    roc_auc: float | None
    ece: float | None
    confusion_matrix: np.ndarray
    y_true: np.ndarray = field(repr=False)
    y_pred: np.ndarray = field(repr=False)
    y_proba: np.ndarray | None = field(repr=False, default=None)

    def to_dict(self) -> dict:
        """Return the metrics as plain, JSON-serialisable Python values."""
        return {
            "target_names": list(self.target_names),
            "per_class": self.per_class,
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "macro_f1": self.macro_f1,
            "weighted_f1": self.weighted_f1,
            "roc_auc": self.roc_auc,
            "ece": self.ece,
            "confusion_matrix": self.confusion_matrix.tolist(),
            "n_samples": len(self.y_true),
        }

    def to_markdown(self) -> str:
        """Return the per-class table, the summary and the confusion matrix in markdown."""

        def fmt(value):
            return "n/a" if value is None else f"{value:.4f}"

        lines = ["| class | precision | recall | F1 | ROC AUC (one vs rest) | support |",
                 "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for name, row in self.per_class.items():
            lines.append(
                f"| {name} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | "
                f"{fmt(row['roc_auc'])} | {row['support']} |"
            )
        lines += [
            "",
            f"Accuracy {self.accuracy:.4f}, balanced accuracy {self.balanced_accuracy:.4f}, "
            f"macro F1 {self.macro_f1:.4f}, weighted F1 {self.weighted_f1:.4f}, "
            f"macro ROC AUC {fmt(self.roc_auc)}, expected calibration error {fmt(self.ece)} "
            f"({len(self.y_true)} samples).",
            "",
            "| true \\ predicted | " + " | ".join(self.target_names) + " |",
            "| --- |" + " --- |" * len(self.target_names),
        ]
        for name, row in zip(self.target_names, self.confusion_matrix, strict=True):
            lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Render as HTML tables in notebooks and the docs gallery (wide tables scroll)."""
        from html import escape

        def fmt(value):
            return "n/a" if value is None else f"{value:.4f}"

        def table(header, rows):
            head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
                for row in rows
            )
            return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

        per_class = table(
            ["class", "precision", "recall", "F1", "ROC AUC (one vs rest)", "support"],
            [[name, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}",
              fmt(row["roc_auc"]), row["support"]] for name, row in self.per_class.items()],
        )  # fmt: skip
        confusion = table(
            ["true \\ predicted", *self.target_names],
            [[name, *row.tolist()]
             for name, row in zip(self.target_names, self.confusion_matrix, strict=True)],
        )  # fmt: skip
        summary = (
            f"Accuracy {self.accuracy:.4f}, balanced accuracy {self.balanced_accuracy:.4f}, "
            f"macro F1 {self.macro_f1:.4f}, weighted F1 {self.weighted_f1:.4f}, "
            f"macro ROC AUC {fmt(self.roc_auc)}, expected calibration error {fmt(self.ece)} "
            f"({len(self.y_true)} samples)."
        )
        return f'<div style="overflow-x: auto">{per_class}<p>{escape(summary)}</p>{confusion}</div>'

    def plot(self, *, figsize=(15, 4.5)):
        """Draw the confusion matrix, the ROC curves and the reliability diagram.

        Uses scikit-learn's ``ConfusionMatrixDisplay``, ``RocCurveDisplay``
        (one curve per class, one vs rest) and ``CalibrationDisplay`` (top
        label: is the predicted class right, against its probability). The last
        two need probabilities.

        Parameters
        ----------
        figsize : tuple, default=(15, 4.5)

        Returns
        -------
        figure : matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        from sklearn.calibration import CalibrationDisplay
        from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

        panels = 3 if self.y_proba is not None else 1
        figure, axes = plt.subplots(1, panels, figsize=figsize if panels == 3 else (5, 4.5))
        axes = np.atleast_1d(axes)
        ConfusionMatrixDisplay(self.confusion_matrix, display_labels=self.target_names).plot(
            ax=axes[0], colorbar=False, xticks_rotation=45
        )
        axes[0].set_title("Confusion matrix")
        if self.y_proba is not None:
            for index, name in enumerate(self.target_names):
                RocCurveDisplay.from_predictions(
                    self.y_true == self.classes[index], self.y_proba[:, index], name=name,
                    ax=axes[1], plot_chance_level=index == 0,
                )  # fmt: skip
            axes[1].set(title="ROC curves (one vs rest)", xlabel="False positive rate",
                        ylabel="True positive rate")  # fmt: skip
            correct = self.classes[self.y_proba.argmax(axis=1)] == self.y_true
            CalibrationDisplay.from_predictions(
                correct, self.y_proba.max(axis=1), n_bins=10, ax=axes[2], name="top label"
            )
            axes[2].set(title=f"Reliability (ECE {self.ece:.3f})",
                        xlabel="Confidence (probability of the predicted class)",
                        ylabel="Fraction correct")  # fmt: skip
        figure.tight_layout()
        return figure


def proba_and_predictions(estimator, X) -> tuple[np.ndarray | None, np.ndarray]:
    """Return ``predict_proba(X)`` (None without it) and the decisions, in one pass if possible.

    The decisions are the model's own rule applied to the probabilities at
    hand (``predict_from_proba``) where it has one, else ``predict(X)``, not
    argmax(proba): they can differ.
    """
    y_proba = estimator.predict_proba(X) if hasattr(estimator, "predict_proba") else None
    if y_proba is not None and hasattr(estimator, "predict_from_proba"):
        return y_proba, np.asarray(estimator.predict_from_proba(y_proba))
    return y_proba, np.asarray(estimator.predict(X))


def evaluation_report(estimator, X, y, *, target_names=None, n_bins: int = 10) -> EvaluationReport:
    """Evaluate a fitted classifier (or pipeline) on ``X, y``.

    Parameters
    ----------
    estimator : fitted classifier or pipeline
        Probabilities are used when it has ``predict_proba``; the decisions
        are ``predict_from_proba`` of them where it has that method
        (:class:`~sklearn_braintumor.classifiers.TumorFirstClassifier`,
        :class:`~sklearn_braintumor.classifiers.TwoStageClassifier`: the same
        decisions as ``predict``, with one pass over ``X``), else ``predict``.
    X : array-like
        Inputs the estimator takes (images for the library's pipelines).
    y : array-like of shape (n_samples,)
        True labels, of the same kind as ``estimator.classes_``.
    target_names : sequence of str, default=None
        Display names of ``estimator.classes_`` (e.g. a Bunch's
        ``target_names`` when the labels are integers); default their string form.
    n_bins : int, default=10
        Confidence bins of the calibration error and the reliability diagram.

    Returns
    -------
    report : EvaluationReport
        ``print(report.to_markdown())``, ``report.to_dict()``, ``report.plot()``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.metrics import evaluation_report
    >>> from sklearn_braintumor.preprocessing import ImageFlattener
    >>> X, y = make_synthetic_mri(60, image_size=16, random_state=0)
    >>> clf = make_pipeline(ImageFlattener(), LogisticRegression(max_iter=1000)).fit(X, y)
    >>> report = evaluation_report(clf, X, y)
    >>> report.accuracy == clf.score(X, y), report.confusion_matrix.shape
    (True, (4, 4))
    """
    y_true = np.asarray(y)
    classes = np.asarray(estimator.classes_)
    names = [str(c) for c in classes] if target_names is None else list(target_names)
    if len(names) != len(classes):
        raise ValueError(f"got {len(names)} target_names for {len(classes)} classes")
    y_proba, y_pred = proba_and_predictions(estimator, X)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    aucs = [None] * len(classes)
    if y_proba is not None:
        for index, label in enumerate(classes):
            positive = y_true == label
            if 0 < positive.sum() < len(y_true):
                aucs[index] = float(roc_auc_score(positive, y_proba[:, index]))
    per_class = {
        name: {
            "precision": float(p),
            "recall": float(r),
            "f1": float(f),
            "support": int(s),
            "roc_auc": auc,
        }
        for name, p, r, f, s, auc in zip(names, precision, recall, f1, support, aucs, strict=True)
    }
    known = [auc for auc in aucs if auc is not None]
    if y_proba is None or not known:
        roc_auc = None
    elif len(classes) == 2:
        roc_auc = aucs[1]
    else:
        roc_auc = float(np.mean(known))
    return EvaluationReport(
        target_names=names,
        classes=classes,
        per_class=per_class,
        accuracy=float(accuracy_score(y_true, y_pred)),
        balanced_accuracy=float(balanced_accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)),
        weighted_f1=float(
            f1_score(y_true, y_pred, labels=classes, average="weighted", zero_division=0)
        ),
        roc_auc=roc_auc,
        ece=(
            None
            if y_proba is None
            else expected_calibration_error(y_true, y_proba, classes, n_bins=n_bins)
        ),
        confusion_matrix=confusion_matrix(y_true, y_pred, labels=classes),
        y_true=y_true,
        y_pred=np.asarray(y_pred),
        y_proba=y_proba,
    )
