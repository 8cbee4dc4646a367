"""Networks trained apart, put together: one model that averages their probabilities."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import reduce

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..nn import EnsembleNet
from ..utils._traversal import nesting
from ._ood import GUARD_ATTRIBUTES
from ._tumor_first import TumorFirstClassifier, threshold_keeping


def _network(model):
    """Return the fitted CNNClassifier at the end of ``model``'s nesting, and its parent."""
    chain = nesting(model)
    clf = chain[-1]
    if not hasattr(clf, "net_") or not hasattr(clf, "_safe_state"):
        raise ValueError(
            f"average_networks: {type(model).__name__} does not end in a fitted CNNClassifier"
        )
    return clf, (chain[-2] if len(chain) > 1 else None)


def _replace(parent, old, new) -> None:
    """Put ``new`` where ``parent`` holds ``old`` (a pipeline's last step or ``estimator_``)."""
    if hasattr(parent, "steps"):
        name, step = parent.steps[-1]
        assert step is old
        parent.steps[-1] = (name, new)
    else:
        for attribute in ("best_estimator_", "estimator_"):
            if getattr(parent, attribute, None) is old:
                setattr(parent, attribute, new)
                return
        raise AssertionError("the network's parent does not hold it")


def average_networks(models: Sequence, *, negatives=None):
    """Return one model whose network averages the probabilities of the models' networks.

    Networks trained apart, on different images (each with its own
    validation split) or from different seeds, disagree where the training
    images leave a choice open; their averaged probabilities separate new
    scans better than any one of them (bagging). The models must be built
    alike (the same steps, the same network class and settings, the same
    classes): typically one recipe fitted with different ``random_state``
    values. The result is a copy of the first model whose ``CNNClassifier``
    holds an :class:`~sklearn_braintumor.nn.EnsembleNet` of all the networks:
    it predicts in one forward pass per batch, saves in the safe format,
    exports and explains (Grad-CAM through the last member) as one network.

    Parameters
    ----------
    models : sequence of fitted estimators
        Each a ``CNNClassifier`` or a pipeline / wrapper ending in one (a
        ``TumorFirstClassifier`` around a ``TTAClassifier`` around a pipeline, as the
        recommended recipes build).
    negatives : array-like of images, default=None
        Negative-class images (healthy scans) that no member trained on.
        Where the first model is a ``TumorFirstClassifier``, its threshold is
        set on them as ``threshold="auto"`` sets it on validation images
        (keeping ``negative_recall`` of them). Without them the first model's
        threshold is kept: it was set on images the other members may have
        trained on.

    Returns
    -------
    model : estimator
        Fitted. Its network's ``valid_indices_`` are the validation images
        shared by every member (held out of every network), its
        ``history_`` the first member's and its shift guard the last
        member's (the guard reads the last convolution, the last member's).
        Fitting it again trains the members jointly on the averaged output.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.classifiers import CNNClassifier, average_networks
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.random((40, 16, 16)), np.repeat(["a", "b"], 20)
    >>> fitted = [CNNClassifier(max_epochs=1, random_state=seed, train_split=None).fit(X, y)
    ...           for seed in (0, 1)]
    >>> ensemble = average_networks(fitted)
    >>> type(ensemble.module_).__name__
    'EnsembleNet'
    >>> mean = np.mean([m.predict_proba(X) for m in fitted], axis=0)
    >>> bool(np.allclose(ensemble.predict_proba(X), mean, atol=1e-5))
    True
    """
    models = list(models)
    if not models:
        raise ValueError("average_networks needs at least one fitted model")
    for model in models:
        check_is_fitted(model)
    networks = [_network(model)[0] for model in models]
    first = networks[0]
    settings = {k: v for k, v in first.get_params(deep=False).items()
                if k.startswith("module") or k in ("criterion", "reader")}  # fmt: skip
    for i, (model, clf) in enumerate(zip(models, networks, strict=True)):
        if type(model) is not type(models[0]) or type(clf) is not type(first):
            raise ValueError(f"average_networks: model {i} is not built as model 0")
        if isinstance(clf.module_, EnsembleNet):
            raise ValueError(f"average_networks: model {i}'s network is already an ensemble")
        differs = [k for k, v in settings.items() if repr(clf.get_params()[k]) != repr(v)]
        if differs:
            raise ValueError(
                f"average_networks: model {i}'s network differs from model 0's in {differs}"
            )
        if not np.array_equal(clf.classes_, first.classes_) or tuple(clf.input_shape_) != tuple(
            first.input_shape_
        ):
            raise ValueError(
                f"average_networks: model {i} has other classes or input shape than model 0"
            )
    params, state = first._safe_state()
    params = {**params, "module": EnsembleNet, "module__module": first.module,
              "module__n_members": len(networks)}  # fmt: skip
    state["weights_"] = {f"members.{i}.{key}": value for i, clf in enumerate(networks)
                         for key, value in clf.module_.state_dict().items()}  # fmt: skip
    splits = [clf.valid_indices_ for clf in networks]
    state["valid_indices_"] = (None if any(v is None for v in splits)
                               else reduce(np.intersect1d, splits).astype(np.intp))  # fmt: skip
    for name in GUARD_ATTRIBUTES:  # the guard reads the last convolution: the last member's
        state.pop(name, None)
        if hasattr(networks[-1], name):
            state[name] = getattr(networks[-1], name)
    combined = type(first)._from_safe_state(params, state)

    if _network(models[0])[1] is None:  # a bare CNNClassifier
        return combined
    result = copy.deepcopy(models[0])
    clf, parent = _network(result)
    _replace(parent, clf, combined)
    if negatives is not None and isinstance(result, TumorFirstClassifier):
        result.threshold_ = threshold_keeping(result, negatives)
    return result
