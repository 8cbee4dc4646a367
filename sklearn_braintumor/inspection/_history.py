"""Learning curves of a fitted CNNClassifier."""

from __future__ import annotations


def _history(estimator):
    steps = getattr(estimator, "steps", None)
    candidates = [step for _, step in steps] if steps else [estimator]
    for candidate in reversed(candidates):
        if hasattr(candidate, "history_"):
            return candidate.history_
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
        Left: training and validation loss; right: validation accuracy (and
        F1 when it was monitored), when a validation split was used.
    """
    import matplotlib.pyplot as plt

    history = _history(estimator)
    epochs = history[:, "epoch"]
    figure, (loss_ax, score_ax) = plt.subplots(1, 2, figsize=figsize)
    loss_ax.plot(epochs, history[:, "train_loss"], marker="o", label="training")
    for key, label, ax in (("valid_loss", "validation", loss_ax),
                           ("valid_acc", "accuracy", score_ax),
                           ("valid_f1", "macro F1", score_ax)):  # fmt: skip
        values = [row.get(key) for row in history]
        if any(v is not None for v in values):
            ax.plot(epochs, values, marker="o", label=label)
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    score_ax.set(xlabel="epoch", title="Validation scores")
    for ax in (loss_ax, score_ax):
        if ax.get_lines():
            ax.legend()
    figure.tight_layout()
    return figure
