"""Fine-tuning: continue training a fitted model's network on new images, in place."""

from __future__ import annotations


def fine_tune(model, X, y, *, groups=None, **params):
    """Continue training the network of a fitted model on new labelled images.

    scikit-learn's wrappers (and this library's :class:`TTAClassifier` and
    :class:`TumorFirstClassifier`) clone what they wrap in ``fit``, so a
    second ``fit`` would train a new network. ``fine_tune`` instead finds the
    model's fitted :class:`CNNClassifier`, sets ``warm_start=True`` and
    ``params`` on it (e.g. ``max_epochs=5, lr=1e-4``), fits the pipeline
    around it in place (its transformers are refitted, the network continues
    from its weights with a new validation split of the new images), and
    recomputes what the wrappers derived from training: a
    :class:`TumorFirstClassifier`'s ``threshold="auto"``. The
    shift guard then describes the new images.

    Parameters
    ----------
    model : fitted estimator
        A CNNClassifier, a pipeline ending in one, or the library's wrappers
        around them (e.g. :func:`~sklearn_braintumor.pretrained.load_pretrained`'s model).
    X : array-like or list of images
        New images, as the model's ``predict`` takes them.
    y : array-like of shape (n_samples,)
        Their labels, among ``model.classes_`` (new classes need a new model).
    groups : array-like of shape (n_samples,), default=None
        Group labels of the new images for the validation split (say their
        copy groups, ``duplicate_groups(X)``), passed to the classifier's
        ``fit``; needs a CV splitter ``train_split`` such as
        ``LeakageFreeSplit(test_size=0.1)``, given in ``params``.
    **params
        CNNClassifier parameters for this training (``max_epochs``, ``lr``,
        ``train_split``, ``augment``, ...). They stay set on the classifier.

    Returns
    -------
    model : the same object, trained further

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.classifiers import fine_tune
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.pretrained import load_pretrained
    >>> sample = load_sample("train")
    >>> model = load_pretrained("4class")
    >>> X, y = list(sample.images[::10]), np.asarray(sample.target_names)[sample.target[::10]]
    >>> model = fine_tune(model, X, y, max_epochs=1, lr=1e-4, verbose=0)
    >>> len(model.predict(X))
    60
    """
    from sklearn.pipeline import Pipeline

    from ..utils._traversal import nesting
    from ._cnn import CNNClassifier
    from ._tumor_first import TumorFirstClassifier

    *chain, step = nesting(model)
    two_stage = next((s for s in chain if hasattr(s, "screen_")), None)
    if two_stage is not None:
        raise TypeError(
            f"fine_tune trains one network; a {type(two_stage).__name__} holds two: fine-tune "
            "its stages (screen_ and estimator_, or the models it was built from) and combine "
            "them again"
        )
    if not isinstance(step, CNNClassifier):
        raise TypeError(
            f"fine_tune takes a fitted CNNClassifier, a pipeline ending in one or the "
            f"library's wrappers around them; found a {type(step).__name__}"
        )
    step.set_params(warm_start=True, **params)
    target = next((s for s in reversed(chain) if isinstance(s, Pipeline)), step)
    fit_params = {}
    if groups is not None:  # a pipeline routes them to its last step, wrappers pass them on
        name = "groups" if target is step else f"{target.steps[-1][0]}__groups"
        fit_params = {name: groups}
    target.fit(X, y, **fit_params)
    for wrapper in reversed(chain):
        if isinstance(wrapper, TumorFirstClassifier) and wrapper.threshold == "auto":
            wrapper.threshold_ = wrapper._auto_threshold(X, y)
    return model
