"""Learning curves of a fitted CNNClassifier."""

from __future__ import annotations

from ..utils._traversal import find_classifier


def _history(estimator):
    classifier = find_classifier(estimator)
    if classifier is not None:
        return classifier.history_
    raise ValueError(
        f"{type(estimator).__name__} has no training history: pass a fitted CNNClassifier "
        "or a pipeline ending in one"
    )


def plot_history(estimator, *, figsize=(10, 4)):
    """Plot the per-epoch losses and validation accuracy of a fitted CNNClassifier.

    Parameters
    ----------
    estimator : CNNClassifier or pipeline ending in one
        Fitted.
    figsize : tuple, default=(10, 4)

    Returns
    -------
    figure : matplotlib.figure.Figure
        Training (and validation) loss; beside it, validation accuracy (and
        F1 when it was monitored) when a validation split was used.

    Examples
    --------
    >>> from sklearn_braintumor.classifiers import CNNClassifier
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.inspection import plot_history
    >>> X, y = make_synthetic_mri(40, image_size=32, random_state=0)
    >>> clf = CNNClassifier(max_epochs=2, module__hidden=16, random_state=0).fit(X, y)
    >>> figure = plot_history(clf)
    >>> len(figure.axes)
    2
    """
    import matplotlib.pyplot as plt

    history = _history(estimator)
    epochs = history[:, "epoch"]
    scores = [
        (key, label)
        for key, label in (("valid_acc", "accuracy"), ("valid_f1", "macro F1"))
        if any(row.get(key) is not None for row in history)
    ]
    figure, axes = plt.subplots(1, 2 if scores else 1, figsize=figsize, squeeze=False)
    loss_ax = axes[0, 0]
    loss_ax.plot(epochs, history[:, "train_loss"], marker="o", label="training")
    if any(row.get("valid_loss") is not None for row in history):
        loss_ax.plot(epochs, [row.get("valid_loss") for row in history], marker="o",
                     label="validation")  # fmt: skip
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    loss_ax.legend()
    if scores:
        score_ax = axes[0, 1]
        for key, label in scores:
            score_ax.plot(epochs, [row.get(key) for row in history], marker="o", label=label)
        score_ax.set(xlabel="epoch", title="Validation scores")
        score_ax.legend()
    figure.tight_layout()
    return figure
