"""Scans from other collections: extra training sources, external scoring, the confound audit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics._report import proba_and_predictions
from ..model_selection._duplicates import image_hashes, near_pairs, pair_groups
from ..utils._validation import check_images
from ._data import COARSE_TUMOR, ExperimentData, is_negative, take

NEAR = 4  # pHash distance up to which two images are copies (as the leakage-free protocol)
# pHash distance of the heads (each image cropped by BrainCrop) up to which two images are
# copies: the same scan cropped or scaled differently, which the whole image's pHash misses
NEAR_HEAD = 2
HOLDOUT = 1 / 3  # share of a source held out from training when it is also scored


@dataclass
class SourceSet:
    """Another collection, checked against the recipe and hashed once.

    Attributes
    ----------
    data : ExperimentData
    images : list or ndarray
        ``data.images`` validated.
    labels : ndarray of str
        Labels in the recipe's label space (see ``ExperimentData.labels_for``).
    tumor : ndarray of bool
        Whether each image shows a tumour.
    hashes : ndarray of shape (n_images, 2)
        :func:`hashes` of the images.
    """

    data: ExperimentData
    images: object
    labels: np.ndarray
    tumor: np.ndarray
    hashes: np.ndarray

    @property
    def name(self) -> str:
        return self.data.name


def prepare(data: ExperimentData, task: str, classes, *, coarse: bool) -> SourceSet:
    """Check a collection's labels against the recipe (before any training) and hash it.

    ``coarse`` allows the label "tumor" (type unknown) in a 4-class recipe.
    """
    labels = data.labels_for(task, classes)
    if task != "binary" and not coarse and np.any(labels == COARSE_TUMOR):
        raise ValueError(
            f"{data.name}: images labelled {COARSE_TUMOR!r} (tumour of unknown type) cannot "
            "train this recipe's 4-class models; score the set with --external instead"
        )
    images = check_images(data.images)
    return SourceSet(data, images, labels, data.tumor_mask(), hashes(images))


def hashes(images) -> np.ndarray:
    """Hash each image twice: the whole image's pHash, and its head's (after ``BrainCrop``).

    Returns an array of shape ``(n_images, 2)``; :func:`copies` and
    :func:`holdout` call two images copies when either hash is near.
    """
    from ..preprocessing import BrainCrop

    heads = BrainCrop().fit_transform(images)
    return np.column_stack([image_hashes(images, "phash"), image_hashes(heads, "phash")])


def _copy_pairs(hashes: np.ndarray, reference: np.ndarray | None) -> tuple:
    """Pairs ``(i, j)`` of copies (``reference=None``: within ``hashes``, ``i < j``)."""
    pairs = [near_pairs(hashes[:, k], None if reference is None else reference[:, k], near)[:2]
             for k, near in ((0, NEAR), (1, NEAR_HEAD))]  # fmt: skip
    return tuple(np.concatenate(side) for side in zip(*pairs, strict=True))


def copies(hashes: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mask of the images that have an exact or near copy among ``reference``.

    Both are :func:`hashes`; a copy is near in the whole image's pHash (at
    most ``NEAR`` bits) or in the head's (at most ``NEAR_HEAD`` bits).
    """
    mask = np.zeros(len(hashes), dtype=bool)
    if len(hashes) and len(reference):
        mask[np.unique(_copy_pairs(hashes, reference)[0])] = True
    return mask


def copy_groups(hashes: np.ndarray) -> np.ndarray:
    """Group id per image (:func:`hashes`), shared by all its copies, transitively."""
    return pair_groups(len(hashes), *_copy_pairs(hashes, None))


def holdout(source: SourceSet, seed: int, fraction: float = HOLDOUT) -> np.ndarray:
    """Mask of the images held out of training, whole duplicate groups at a time.

    Drawn per seed (so seeds average over hold-outs), stratified by tumour /
    no tumour as far as the groups allow.
    """
    groups = copy_groups(source.hashes)
    rng = np.random.default_rng(seed)
    held = np.zeros(len(groups), dtype=bool)
    for tumor in (True, False):
        ids = np.unique(groups[source.tumor == tumor])
        ids = ids[rng.permutation(len(ids))][: round(fraction * len(ids))]
        held |= np.isin(groups, ids)
    return held


#: the generator seed of :func:`healthy_holdout`: one draw for every run and member
HEALTHY_HOLDOUT_SEED = 20261205


def healthy_holdout(groups: np.ndarray, negative: np.ndarray, share: float) -> np.ndarray:
    """Mask of the rows in a fixed ``share`` of the copy groups holding negative images.

    The same rows for every seed (a fixed generator), so that networks trained
    apart (ensemble members, runs compared) all leave them out and healthy
    scans remain that none of them saw. Every row of a drawn group goes,
    whatever its label.

    Parameters
    ----------
    groups : ndarray of shape (n_images,)
        :func:`copy_groups` of the images.
    negative : ndarray of bool, shape (n_images,)
        Whether each image is of the negative class (no tumour).
    share : float
        Share of the negative images' groups to draw, in [0, 1).
    """
    if not 0 <= share < 1:
        raise ValueError(f"share must be in [0, 1), got {share!r}")
    ids = np.unique(groups[negative])
    ids = ids[np.random.default_rng(HEALTHY_HOLDOUT_SEED).permutation(len(ids))]
    return np.isin(groups, ids[: round(share * len(ids))])


def collapse(predicted) -> np.ndarray:
    """Mark the predicted labels that mean a tumour (any class but a "no tumour" one)."""
    return np.array([not is_negative(label) for label in np.asarray(predicted)], dtype=bool)


def negative_column(classes) -> int | None:
    """Index of the one "no tumour" class among ``classes``; None for none or several."""
    negative = [i for i, c in enumerate(np.asarray(classes).tolist()) if is_negative(c)]
    return negative[0] if len(negative) == 1 else None


def test_healthy_proba(report) -> np.ndarray | None:
    """p(no tumour) of the healthy scans of an evaluation report's test set, or None."""
    column = negative_column(report.classes)
    if report.y_proba is None or column is None:
        return None
    return report.y_proba[~collapse(report.y_true), column]


def unseen_healthy(estimator, report, test_hashes, X_train, y_train,
                   train_hashes) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """p(no tumour) of healthy scans with no copy among the images ``estimator`` trained on.

    The test set's healthy scans without an exact or near copy in training
    (:func:`copies`; most of a public set's test scans copy a training scan,
    and a network calls a copy of a scan it trained on healthy with ease), and
    the healthy scans of the network's validation split (``valid_indices_``
    into ``X_train``: a recipe's split without copies keeps theirs out of
    training; of a two-stage model, its screen's, whose p(no tumour) it
    reports). Returns the probabilities and the :func:`copy_groups` of those
    scans (a public set holds one scan many times over: weigh each group
    once), or None where the model has no "no tumour" class.
    """
    from ..utils._traversal import find_classifier

    column = negative_column(report.classes)
    if report.y_proba is None or column is None or train_hashes is None:
        return None
    healthy = ~collapse(report.y_true)
    unseen = healthy & ~copies(test_hashes, train_hashes)
    parts, seen = [report.y_proba[unseen, column]], [test_hashes[unseen]]
    # a two-stage model's p(no tumour) is its screen's: the screen's validation scans
    valid = getattr(find_classifier(getattr(estimator, "screen_", estimator)),
                    "valid_indices_", None)  # fmt: skip
    if valid is not None and len(valid):
        valid = np.asarray(valid)[~collapse(np.asarray(y_train)[valid])]
        if len(valid):
            proba = estimator.predict_proba(take(X_train, valid))
            parts.append(proba[:, negative_column(estimator.classes_)])
            seen.append(train_hashes[valid])
    return np.concatenate(parts), copy_groups(np.concatenate(seen))


def score(
    estimator,
    source: SourceSet,
    keep: np.ndarray,
    healthy: np.ndarray | None = None,
    unseen: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[dict, np.ndarray]:
    """Tumour sensitivity and healthy specificity of a fitted model on ``source[keep]``.

    With ``healthy``, p(no tumour) of the main test set's healthy scans, also
    ``auc_vs_test_healthy``: the ROC AUC between the scored tumour scans and
    those, whatever the threshold; with ``unseen`` (:func:`unseen_healthy`),
    ``auc_vs_unseen_healthy`` against healthy scans with no copy trained on,
    each distinct scan (copy group) weighing one on either side, their number
    ``n_unseen_healthy`` and that of distinct scans ``n_unseen_healthy_scans``.

    Returns the metrics and the indices (into the source) of the missed tumours.
    """
    index = np.flatnonzero(keep)
    proba, predicted = (proba_and_predictions(estimator, take(source.images, index))
                        if len(index) else (None, np.zeros(0)))  # fmt: skip
    predicted_tumor = collapse(predicted)
    tumor = source.tumor[index]
    n_tumor, n_healthy = int(tumor.sum()), int((~tumor).sum())
    metrics = {
        "sensitivity": float(predicted_tumor[tumor].mean()) if n_tumor else None,
        "specificity": float((~predicted_tumor[~tumor]).mean()) if n_healthy else None,
        "n_tumor": n_tumor,
        "n_healthy": n_healthy,
        "auc_vs_test_healthy": None,
        "auc_vs_unseen_healthy": None,
        "n_unseen_healthy": None if unseen is None else len(unseen[0]),
        "n_unseen_healthy_scans": None if unseen is None else len(np.unique(unseen[1])),
    }
    column = negative_column(estimator.classes_)
    if n_tumor and proba is not None and column is not None:
        p_tumours = proba[tumor, column]
        if healthy is not None and len(healthy):
            metrics["auc_vs_test_healthy"] = auc_vs_healthy(p_tumours, healthy)
        if unseen is not None and len(unseen[0]):
            metrics["auc_vs_unseen_healthy"] = auc_vs_healthy(
                p_tumours, unseen[0], copy_groups(source.hashes[index[tumor]]), unseen[1]
            )
    return metrics, index[tumor & ~predicted_tumor]


def group_weights(groups: np.ndarray) -> np.ndarray:
    """Weight of each image: one over the size of its copy group, so each group weighs one."""
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def auc_vs_healthy(p_tumours: np.ndarray, p_healthy: np.ndarray,
                   tumour_groups: np.ndarray | None = None,
                   healthy_groups: np.ndarray | None = None) -> float:  # fmt: skip
    """ROC AUC of tumour scans against healthy ones, scored on p(no tumour) (lower: tumour).

    With the copy groups of a side (:func:`copy_groups`), each distinct scan of
    it weighs one however often it occurs; without, each image does.
    """
    from sklearn.metrics import roc_auc_score

    weights = [np.ones(len(p)) if g is None else group_weights(g)
               for p, g in ((p_tumours, tumour_groups), (p_healthy, healthy_groups))]  # fmt: skip
    truth = np.r_[np.ones(len(p_tumours)), np.zeros(len(p_healthy))]
    return float(roc_auc_score(truth, -np.r_[p_tumours, p_healthy],
                               sample_weight=np.concatenate(weights)))  # fmt: skip


def audit(data: ExperimentData, images, sources: list[SourceSet], main_hashes) -> dict | None:
    """Run the confound audit: how well collections are told apart within tumour / no tumour.

    External images with a copy in the recipe's data (``main_hashes``: the
    :func:`hashes` of ``images``) are left out first (a copy cannot be told apart,
    and would hide the difference).
    """
    from ..model_selection import source_audit

    if not sources:
        return None
    parts = [(data.name, images, data.tumor_mask())]
    for source in sources:
        keep = np.flatnonzero(~copies(source.hashes, main_hashes))
        parts.append((source.name, take(source.images, keep), source.tumor[keep]))
    names = np.concatenate([[name] * len(tumor) for name, _, tumor in parts])
    labels = np.concatenate([np.where(tumor, "tumor", "notumor") for _, _, tumor in parts])
    pooled = [image for _, imgs, _ in parts for image in imgs]
    return source_audit(pooled, names, labels).to_dict()


def _separation(proba, classes: list[str], tumor: np.ndarray) -> float | None:
    """ROC AUC of tumour vs healthy images scored on 1 - p(the negative class)."""
    column = negative_column(classes)
    if proba is None or column is None or tumor.all() or not tumor.any():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(tumor, 1.0 - proba[:, column]))


def evaluate_collection(estimator, source) -> dict:
    """Score a fitted model on a labelled folder from any collection (``braintumor evaluate``).

    Parameters
    ----------
    estimator : fitted classifier or pipeline
        Takes the folder's grayscale images.
    source : ImageSource or str
        The folder and how its class folders map to the model's classes or to
        ``tumor`` / ``notumor``.

    Returns
    -------
    result : dict
        ``sensitivity`` (tumour images called any tumour class),
        ``specificity`` (healthy images called no tumour; None without any),
        ``n_images``, ``n_tumor``, ``n_healthy``, ``confusion_matrix``
        (rows: the mapped true labels, ``row_labels``; columns: the predicted
        classes, ``classes``), ``roc_auc`` (how well the probability of "no
        tumour" separates the tumour images from the healthy ones, whatever
        the decision threshold; None without both kinds or without one
        negative class), ``shift_median`` and ``shifted_share`` (the images'
        median :func:`~sklearn_braintumor.classifiers.shift_score` and the
        share at or above 1; None for a model without the guard),
        ``n_not_mri`` (images that are not brain MRI slices at all, by
        :func:`~sklearn_braintumor.inspection.not_mri_reasons` on the grayscale
        images; they stay in the figures), and ``text``, the same for a
        terminal.
    """
    from ._data import load_source_data

    data = load_source_data(source)
    classes = [str(c) for c in np.asarray(estimator.classes_)]
    labels = data.labels_for("multiclass", classes)
    from ..classifiers._ood import proba_scores_shift, summarize_shift
    from ..classifiers._tumor_first import decide
    from ..inspection import not_mri

    images = check_images(data.images)
    proba = shift = None
    if hasattr(estimator, "predict_proba"):  # probabilities and shift from one pass
        proba, _, shift = proba_scores_shift(estimator, images)
    # a guarded CNN model decides from those probabilities; any other keeps its own predict
    # (an SVC's Platt probabilities need not agree with its decisions)
    predicted = decide(estimator, proba) if shift is not None else estimator.predict(images)
    predicted = np.asarray(predicted).astype(str)
    predicted_tumor = collapse(predicted)
    tumor = data.tumor_mask()
    rows = list(dict.fromkeys(labels.tolist()))
    matrix = [[int(np.sum((labels == r) & (predicted == c))) for c in classes] for r in rows]
    result = {
        "source": data.description,
        "n_images": len(labels),
        "n_tumor": int(tumor.sum()),
        "n_healthy": int((~tumor).sum()),
        "sensitivity": float(predicted_tumor[tumor].mean()) if tumor.any() else None,
        "specificity": float((~predicted_tumor[~tumor]).mean()) if (~tumor).any() else None,
        "row_labels": rows,
        "classes": classes,
        "confusion_matrix": matrix,
        "roc_auc": _separation(proba, classes, tumor),
        **summarize_shift(shift),
        "n_not_mri": int(not_mri(images).sum()),
    }
    width = max(len(c) for c in [*rows, *classes, "true \\ predicted"]) + 2
    lines = []
    for metric, n in (("sensitivity", "n_tumor"), ("specificity", "n_healthy")):
        value = result[metric]
        shown = "– (no such images)" if value is None else f"{100 * value:.2f} %"
        lines.append(f"tumour {metric}: {shown} of {result[n]}")
    if result["roc_auc"] is not None:
        lines.append(f"ROC AUC, tumour vs healthy on p(no tumour): {result['roc_auc']:.3f}")
    if shift is not None:
        lines.append(
            f"unlike the training collections (shift >= 1): {100 * result['shifted_share']:.1f} %"
            f" of the images (median shift {result['shift_median']:.2f}); the model card's "
            "accuracy may not hold for them"
        )
    if result["n_not_mri"]:
        lines.append(f"not brain MRI slices (photographs, pages, noise, blanks): "
                     f"{result['n_not_mri']} of the images, counted above as labelled")  # fmt: skip
    lines += ["", "true \\ predicted".ljust(width) + "".join(c.rjust(width) for c in classes)]
    lines += [r.ljust(width) + "".join(str(v).rjust(width) for v in row)
              for r, row in zip(rows, matrix, strict=True)]  # fmt: skip
    result["text"] = "\n".join(lines)
    return result
