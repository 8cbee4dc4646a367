"""The shift guard: how unlike the images a network was trained on an input is.

The guard reads the feature maps of the network's last convolution (its
last linear layer's input when it has no convolution), summarised per
channel by their mean and standard deviation, and measures how far they lie
from the training images': the Mahalanobis distance to the nearest class mean
under one covariance shared by the classes (Lee et al., NeurIPS 2018, "A simple
unified framework for detecting out-of-distribution samples and adversarial
attacks"), estimated with Ledoit-Wolf shrinkage, after projecting onto at most
``MAX_DIMENSIONS`` principal components. Per-channel statistics of a late
convolution catch what the last layer's input misses: on the shipped 4-class
model the penultimate features let photographs and noise through, the
convolution's statistics flag them. The threshold is set on held-out
validation images so that a chosen share of them lies beyond it (shift 1).
Whether an input is a brain MRI slice at all is a question about the image,
not the network: :func:`~sklearn_braintumor.inspection.not_mri_reasons`.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.covariance import LedoitWolf
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..inspection._mri import not_mri

MAX_DIMENSIONS = 256
#: what a fitted guard adds to its CNNClassifier
GUARD_ATTRIBUTES = ("ood_projection_", "ood_means_", "ood_precision_", "ood_offset_")


def guard_layer(module: nn.Module) -> tuple[nn.Module | None, str]:
    """Return the layer the guard reads and how: its last convolution, else last linear."""
    convolutions = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if convolutions:
        return convolutions[-1], "conv"
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    return (linears[-1], "linear") if linears else (None, "")


def guard_features(net, X, *, with_logits: bool = False):
    """Run ``net`` (a fitted skorch net) in evaluation mode; return the guard's features.

    With ``with_logits`` also return the network's outputs of the same
    forward pass (float32, on the CPU): probabilities and guard from one pass.
    """
    layer, kind = guard_layer(net.module_)
    if layer is None:
        raise ValueError(
            f"{type(net.module_).__name__} has neither an nn.Conv2d nor an nn.Linear layer, "
            "so the out-of-distribution guard cannot read its features"
        )
    captured: list[torch.Tensor] = []

    def hook(_module, inputs, output):
        if kind == "conv":  # per-channel mean and standard deviation of the feature maps
            maps = output.detach().float()
            mean = maps.mean((2, 3))
            # 1x1 maps (a backbone's last convolution on small images) have no spread
            std = maps.std((2, 3)) if maps[0, 0].numel() > 1 else torch.zeros_like(mean)
            captured.append(torch.cat([mean, std], dim=1).cpu())
        else:
            captured.append(inputs[0].detach().float().flatten(1).cpu())

    handle = layer.register_forward_hook(hook)
    try:
        logits = net.forward(X, training=False)
    finally:
        handle.remove()
    features = torch.cat(captured).double().numpy()
    return (features, logits) if with_logits else features


def fit_guard(train_features: np.ndarray, train_labels: np.ndarray, n_classes: int):
    """Return the projection, class means and shared precision matrix of training features.

    The projection (None when the features have at most ``MAX_DIMENSIONS``
    values) maps centred features onto their leading principal components.
    """
    projection = None
    if train_features.shape[1] > MAX_DIMENSIONS:
        centre = train_features.mean(axis=0)
        _, _, components = np.linalg.svd(train_features - centre, full_matrices=False)
        projection = np.vstack([centre, components[:MAX_DIMENSIONS]]).astype(np.float32)
        train_features = project(train_features, projection)
    means = np.stack(
        [
            train_features[train_labels == k].mean(axis=0)
            if np.any(train_labels == k)
            else train_features.mean(axis=0)
            for k in range(n_classes)
        ]
    )
    centred = train_features - means[train_labels]
    covariance = LedoitWolf(assume_centered=True).fit(centred).covariance_
    precision = np.linalg.pinv(covariance, hermitian=True)
    return projection, means.astype(np.float32), precision.astype(np.float32)


def project(features: np.ndarray, projection) -> np.ndarray:
    """Apply :func:`fit_guard`'s projection (row 0: the centre; then the components)."""
    if projection is None:
        return features
    projection = projection.astype(np.float64)
    return (features - projection[0]) @ projection[1:].T


def typicality(features: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Return minus the squared Mahalanobis distance to the nearest class mean."""
    precision = precision.astype(np.float64)
    best = np.full(len(features), np.inf)
    for mean in means.astype(np.float64):
        diff = features - mean
        best = np.minimum(best, np.einsum("ij,jk,ik->i", diff, precision, diff))
    return -best


def final_classifier(model):
    """Return the fitted CNNClassifier of a model (pipelines and wrappers looked through)."""
    from ..utils._traversal import find_classifier

    step = find_classifier(model)
    # duck-typed (the guard's parameter and fitting step), so this module needs no CNNClassifier
    if not (hasattr(step, "ood_rate") and hasattr(step, "_fit_guard")):
        raise TypeError(
            f"{type(model).__name__} holds no fitted CNNClassifier: the out-of-distribution "
            "guard is a CNNClassifier's (through pipelines, TTAClassifier and "
            "TumorFirstClassifier)"
        )
    return step


def has_guard(model) -> bool:
    """Whether ``model`` is fitted with the guard that ``shift_score`` reads."""
    try:
        return hasattr(final_classifier(model), "ood_offset_") and hasattr(model, "score_samples")
    except TypeError:
        return False


def shift_from_scores(scores, offset: float) -> np.ndarray:
    """Turn typicality scores into distances relative to the guard's threshold.

    ``sqrt(score / offset)``: both are minus squared Mahalanobis distances, so
    this is the image's distance over the threshold's (1.0 at the threshold).
    Rounding never moves an image across the threshold: the shift is at least
    1 exactly where the score is below the offset (the images the threshold
    was set to leave out).
    """
    scores = np.asarray(scores)
    beyond = scores < offset  # in the scores' own precision
    scale = max(-float(offset), np.finfo(np.float64).tiny)
    shift = np.sqrt(np.maximum(-scores.astype(np.float64), 0.0) / scale)
    return np.where(beyond, np.maximum(shift, 1.0), np.minimum(shift, np.nextafter(1.0, 0.0)))


def shift_score(model, X) -> np.ndarray:
    """Return how unlike the training collections each image is (1.0: the guard's threshold).

    The Mahalanobis distance of the image's features (the per-channel mean
    and standard deviation of the network's last convolution) from the
    training images' (Lee et al., NeurIPS 2018), divided by the distance
    beyond which ``ood_rate`` of the validation images lie: below 1 an image
    is as typical as the bulk of the validation images, 1 or more means less
    typical than all but ``ood_rate`` of them, and values of 2 and more are
    far from anything the model was trained on. Use it to rank scans from
    another scanner or collection: the accuracy measured on the training
    collections may not hold for scans with a high shift. Whether an image
    is a brain MRI slice at all is ``predict_ood``'s question.

    Works on a fitted :class:`~sklearn_braintumor.classifiers.CNNClassifier`,
    a pipeline ending in one, and the wrappers around them
    (:class:`~sklearn_braintumor.classifiers.TTAClassifier`,
    :class:`~sklearn_braintumor.classifiers.TumorFirstClassifier`): the
    images go through the model's own preprocessing (``score_samples``).

    Parameters
    ----------
    model : fitted estimator
        A model as above, fitted with ``ood_rate`` set.
    X : array-like or list of images
        What the model's ``predict`` takes.

    Returns
    -------
    shift : ndarray of float of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.classifiers import CNNClassifier, shift_score
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> X, y = make_synthetic_mri(120, image_size=32, random_state=0)
    >>> clf = CNNClassifier(max_epochs=3, random_state=0, module__hidden=32).fit(X, y)
    >>> noise = np.random.default_rng(0).integers(0, 256, (2, 32, 32), dtype=np.uint8)
    >>> bool(np.all(shift_score(clf, noise) > 1)), bool(np.median(shift_score(clf, X)) < 1)
    (True, True)
    """
    offset = final_classifier(model).ood_offset_
    return shift_from_scores(model.score_samples(X), offset)


def proba_and_scores(model, X) -> tuple[np.ndarray, np.ndarray]:
    """Return ``model.predict_proba(X)`` and ``model.score_samples(X)`` from one pass.

    The guard's features are read from the forward pass that gives the
    probabilities (of the images as given, the identity view of a
    :class:`~sklearn_braintumor.classifiers.TTAClassifier`), and a
    pipeline's preprocessing runs once per view, so a flip-TTA model runs
    its network twice per image instead of three times. The results equal
    the two separate calls'.

    Parameters
    ----------
    model : fitted estimator with a guard (see :func:`shift_score`)
    X : array-like or list of images

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
    scores : ndarray of shape (n_samples,)
    """
    if hasattr(model, "_proba_and_scores"):  # CNNClassifier, TTAClassifier
        return model._proba_and_scores(X)
    if hasattr(model, "steps"):  # a pipeline: preprocess once, then its last step
        final = model.steps[-1][1]
        Xt = model[:-1].transform(X) if len(model.steps) > 1 else X
        return proba_and_scores(final, Xt)
    if hasattr(model, "estimator_") and hasattr(model, "predict_from_proba"):
        return proba_and_scores(model.estimator_, X)  # tumour-first: the same probabilities
    return model.predict_proba(X), model.score_samples(X)


def proba_scores_shift(model, X) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Return probabilities, guard scores and shift of ``X``; the last two None without a guard.

    One pass over the network for a guarded model (:func:`proba_and_scores`);
    what ``braintumor predict`` and ``braintumor evaluate`` both report.
    """
    if not has_guard(model):
        return np.asarray(model.predict_proba(X)), None, None
    proba, scores = proba_and_scores(model, X)
    return proba, scores, shift_from_scores(scores, final_classifier(model).ood_offset_)


def summarize_shift(shift) -> dict:
    """Return a set of images' median shift and the share at or above 1 (None without any)."""
    if shift is None or len(shift) == 0:
        return {"shift_median": None, "shifted_share": None}
    shift = np.asarray(shift)
    return {"shift_median": float(np.median(shift)), "shifted_share": float(np.mean(shift >= 1.0))}


def _inner_has(method: str):
    """``available_if`` check: the wrapped estimator (fitted one first) has ``method``."""

    def check(wrapper) -> bool:
        inner = getattr(wrapper, "estimator_", wrapper.estimator)
        return hasattr(inner, method)

    return check


class GuardDelegationMixin:
    """The guards of a classifier that wraps one ``estimator_`` (TTA, tumour-first).

    ``score_samples`` and ``shift_score`` are available when the wrapped
    estimator has a guard; their scores are those of the images as given
    (never of test-time augmented copies): the threshold was set on such
    images. ``predict_ood`` checks the images themselves.
    """

    @available_if(_inner_has("score_samples"))
    def score_samples(self, X) -> np.ndarray:
        """Return the wrapped estimator's typicality scores (higher: more like training).

        Parameters
        ----------
        X : array-like of images or list

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.score_samples(X)

    @available_if(_inner_has("score_samples"))
    def shift_score(self, X) -> np.ndarray:
        """Return how unlike the training collections each image is (see :func:`shift_score`).

        Parameters
        ----------
        X : array-like of images or list

        Returns
        -------
        shift : ndarray of float of shape (n_samples,)
        """
        return shift_score(self, X)

    def predict_ood(self, X) -> np.ndarray:
        """Flag images that are not brain MRI slices, whatever the wrapped model.

        See :meth:`~sklearn_braintumor.classifiers.CNNClassifier.predict_ood`.

        Parameters
        ----------
        X : list of images
            As read from files, before any preprocessing.

        Returns
        -------
        flags : ndarray of bool of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        return not_mri(X)
