"""Recipes, the protocols they run under, and the loop that runs them."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils._param_validation import Interval, InvalidParameterError, validate_params

from ..metrics import EvaluationReport, evaluation_report
from ..utils._device import resolve_device
from ..utils._traversal import find_classifier
from ..utils._validation import check_images
from . import _cross_source as xs
from ._data import ExperimentData, take
from ._splits import Arm, Split

FOUR_CLASSES = ["glioma", "meningioma", "notumor", "pituitary"]


@dataclass(frozen=True)
class RunConfig:
    """What one training run of a recipe's model is built with.

    Attributes
    ----------
    profile : {"quick", "paper", "tiny"}
    settings : dict
        The recipe's settings for that profile (image size, epochs, ...).
    seed : int
        Seeds the networks' weights, batch order and validation split.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda"``, passed to the classifiers.
    verbose : int
        Passed to the classifiers (1: per-epoch table).

    Examples
    --------
    >>> from sklearn_braintumor.experiments import RunConfig
    >>> config = RunConfig("quick", {"image_size": 64}, seed=0, device="cpu", verbose=0)
    >>> config.settings["image_size"]
    64
    """

    profile: str = "quick"
    settings: dict = field(default_factory=dict)
    seed: int = 0
    device: str = "auto"
    verbose: int = 0


@dataclass(frozen=True)
class Model:
    """One row of a paper's table: a named estimator built per run.

    Attributes
    ----------
    name : str
        The row name, as in the paper's table (keys of ``Recipe.reported``).
    build : callable
        ``build(config) -> estimator``: an unfitted scikit-learn estimator
        (usually a pipeline) that takes the dataset's images.
    unavailable : callable or None
        ``unavailable(config) -> str or None``: why this row cannot run here
        (say, ImageNet weights not present locally); None when it can.
    note : str
        What the row is, when the name does not say it.
    groups_param : str or None
        The ``fit`` parameter through which the estimator gets the copy groups
        of its training images (exact or near copies, judged on the images as
        loaded: whole-image pHash within 4 bits or the head's within 2), say
        ``"cnnclassifier__groups"`` for a validation split that keeps copies
        together; None passes none.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn_braintumor.experiments import Model
    >>> row = Model("majority class", lambda config: DummyClassifier())
    >>> row.build(None)
    DummyClassifier()
    """

    name: str
    build: Callable
    unavailable: Callable | None = None
    note: str = ""
    groups_param: str | None = None


@dataclass(frozen=True)
class Recipe:
    """One published experiment, as data and estimators.

    Attributes
    ----------
    name : str
        Command-line name (``braintumor reproduce NAME``).
    letter : str
        The paper's letter in the project's papers list, or "" for the
        library's own recipe.
    title, citation : str
    task : {"multiclass", "binary"}
        ``"binary"`` relabels any dataset tumour / no tumour.
    data : str
        The dataset(s) the paper used, in words, with the ``--data`` to pass.
    split : Split
        The split strategy (:class:`OfficialSplit`, :class:`RandomSplit`,
        :class:`GroupKFoldSplit` or a subclass of :class:`Split` of one's own).
    models : callable
        ``models(config) -> list[Model]``.
    profiles : dict
        ``{"quick": settings, "paper": settings}``; each settings dict holds
        the knobs the models read and ``"deviations"``, a list of what that
        profile does differently from the paper. Every profile names the same
        knobs: a misspelt or missing one is an error when the recipe is
        defined, not a ``KeyError`` in the middle of a run.
    reported : dict
        ``{row: {metric: value}}``: the paper's numbers, fractions in [0, 1].
    reported_source : str
        Where in the paper those numbers are.
    metrics : tuple of str
        Table columns (names understood by :func:`summarize`).
    protocol : str
        The paper's protocol as this recipe runs it, in words.
    coarse_training : bool
        Its classifiers take the coarse label ``"tumor"`` (a tumour of unknown
        type, ``CNNClassifier(coarse_labels=...)``), so a 4-class recipe can
        also train on a yes/no collection (``train_extra``).
    classes : tuple of str
        The classes a multiclass recipe's data must have, in order (the 4-class
        set's by default); binary recipes relabel any data tumour / no tumour.
    tiny : dict
        Overrides of the quick profile that make every model of the recipe
        run in seconds (small images, an epoch or two): the ``"tiny"``
        profile, which checks a set-up end to end (``--profile tiny``) and
        which the test suite runs for every recipe.

    Examples
    --------
    >>> from sklearn_braintumor.experiments import RECIPES
    >>> recipe = RECIPES["gbmnet"]
    >>> recipe.letter, sorted(recipe.profiles)
    ('D', ['paper', 'quick', 'tiny'])
    """

    name: str
    letter: str
    title: str
    citation: str
    task: str
    data: str
    split: Split
    models: Callable
    profiles: dict
    reported: dict
    reported_source: str
    metrics: tuple
    protocol: str
    coarse_training: bool = False
    classes: tuple = tuple(FOUR_CLASSES)
    tiny: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        quick = self.profiles.get("quick")
        if quick is None:
            raise ValueError(f"recipe {self.name!r} has no 'quick' profile")
        knobs = set(quick)
        for name, settings in self.profiles.items():
            if name != "tiny" and set(settings) != knobs:
                raise ValueError(
                    f"recipe {self.name!r}: profile {name!r} names the knobs "
                    f"{sorted(set(settings) ^ knobs)} that 'quick' does not, or lacks them; "
                    "every profile names the same knobs"
                )
        unknown = sorted(set(self.tiny) - knobs)
        if unknown:
            raise ValueError(
                f"recipe {self.name!r}: tiny overrides {unknown}, which are not knobs of its "
                f"profiles ({sorted(knobs)})"
            )
        tiny = {**quick, **self.tiny,
                "deviations": [*quick["deviations"], "tiny profile: a set-up check, "
                               "not a result (small images, few epochs)"]}  # fmt: skip
        object.__setattr__(self, "profiles", {**self.profiles, "tiny": tiny})

    def only(self, *names: str) -> Recipe:
        """Return this recipe restricted to the models called ``names``.

        Parameters
        ----------
        *names : str
            Model (table row) names, e.g. ``"ResNet101 (random init)"``.

        Returns
        -------
        recipe : Recipe
            A copy whose ``models`` returns only those models; a name the
            recipe does not have is an error, naming the ones it has, when
            the models are built.

        Examples
        --------
        >>> from sklearn_braintumor.experiments import RECIPES, RunConfig
        >>> recipe = RECIPES["liu"].only("LiuCNN")
        >>> config = RunConfig("tiny", recipe.profiles["tiny"], 0, "cpu", 0)
        >>> [model.name for model in recipe.models(config)]
        ['LiuCNN']
        """
        wanted, build = set(names), self.models

        def chosen(config: RunConfig) -> list[Model]:
            models = build(config)
            missing = sorted(wanted - {model.name for model in models})
            if missing:
                raise ValueError(
                    f"recipe {self.name!r} has no model {missing}; its models are "
                    f"{[model.name for model in models]}"
                )
            return [model for model in models if model.name in wanted]

        return dataclasses.replace(self, models=chosen)


# -- metrics -------------------------------------------------------------------------------------


def summarize(report: EvaluationReport) -> dict:
    """Flat metrics of an evaluation: the names a recipe's table columns use.

    ``accuracy``, ``balanced_accuracy``, ``{macro,weighted}_{precision,recall,f1}``,
    ``roc_auc``, ``ece``, per class ``{precision,recall,f1,auc}_<class>``, and
    for two classes ``precision``/``recall``/``f1`` of the second (positive) class.

    Parameters
    ----------
    report : EvaluationReport

    Returns
    -------
    metrics : dict
        Metric name to value (None where undefined, e.g. AUC without probabilities).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.experiments import summarize
    >>> from sklearn_braintumor.metrics import evaluation_report
    >>> from sklearn_braintumor.preprocessing import ImageFlattener
    >>> X, y = make_synthetic_mri(40, image_size=16, random_state=0)
    >>> clf = make_pipeline(ImageFlattener(), LogisticRegression(max_iter=1000)).fit(X, y)
    >>> report = evaluation_report(clf, X, y)
    >>> summary = summarize(report)
    >>> summary["accuracy"] == report.accuracy, "macro_f1" in summary
    (True, True)
    """
    per_class = report.per_class
    support = np.array([row["support"] for row in per_class.values()], dtype=float)
    weights = support / support.sum() if support.sum() else support
    out = {
        "accuracy": report.accuracy,
        "balanced_accuracy": report.balanced_accuracy,
        "roc_auc": report.roc_auc,
        "ece": report.ece,
        "n_samples": len(report.y_true),
    }
    for metric in ("precision", "recall", "f1"):
        values = np.array([row[metric] for row in per_class.values()])
        out[f"macro_{metric}"] = float(values.mean())
        out[f"weighted_{metric}"] = float(values @ weights)
        for name, value in zip(per_class, values, strict=True):
            out[f"{metric}_{name}"] = float(value)
        if len(per_class) == 2:
            out[metric] = float(values[1])
    for name, row in per_class.items():
        out[f"auc_{name}"] = row["roc_auc"]
    return out


def training_record(estimator) -> dict:
    """Per-epoch history, kept epoch and its validation accuracy of a fitted estimator."""
    clf = find_classifier(estimator)
    record = {"history": None, "kept_epoch": None, "valid_accuracy": None}
    if clf is not None:
        keys = ("epoch", "train_loss", "valid_loss", "valid_acc", "valid_f1", "lr", "dur")
        rows = [{k: row[k] for k in keys if k in row} for row in clf.history_]
        record["history"] = rows
        kept = len(rows)
        if getattr(clf, "keep_best", False) or getattr(clf, "early_stopping", None):
            flags = [i for i, row in enumerate(clf.history_, 1) if row.get(f"{clf.monitor}_best")]
            kept = flags[-1] if flags else kept
        record["kept_epoch"] = kept
        if rows and "valid_acc" in rows[kept - 1]:
            record["valid_accuracy"] = float(rows[kept - 1]["valid_acc"])
    if hasattr(estimator, "best_params_"):
        record["best_params"] = {k: _plain(v) for k, v in estimator.best_params_.items()}
    if hasattr(estimator, "threshold_"):  # TumorFirstClassifier: the decision threshold in use
        record["best_params"] = {**record.get("best_params", {}),
                                 "notumor threshold": estimator.threshold_}  # fmt: skip
    return record


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return repr(value)


def make_arms(recipe: Recipe, data: ExperimentData, images) -> tuple[list[Arm], list[str]]:
    """Return the paper's split and its leakage-free counterpart, with notes for the report.

    ``images`` are ``data.images`` already validated by ``check_images``; the
    recipe's split strategy draws the arms.
    """
    try:
        return recipe.split.arms(data, images)
    except ValueError as exc:
        raise ValueError(f"recipe {recipe.name!r}: {exc}") from exc


# -- running -------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """Everything a run measured; what the report is written from.

    Examples
    --------
    >>> from sklearn_braintumor.experiments import RunResult
    >>> sorted(f for f in RunResult.__dataclass_fields__)[:3]
    ['arms', 'audit', 'data']
    """

    recipe: Recipe
    profile: str
    settings: dict
    seeds: list
    device: str
    data: ExperimentData
    arms: list
    split_notes: list
    records: list  # one dict per (seed, arm, model) evaluation
    unavailable: dict  # model name -> reason
    reports: dict  # (arm, model) -> EvaluationReport of the first seed, for figures
    estimators: dict  # (arm, model) -> fitted estimator of the first seed, for figures
    seconds: float = 0.0
    external: list = field(default_factory=list)  # SourceSet scored as other sources
    source_notes: list = field(default_factory=list)  # what was dropped / held out, per source
    audit: dict | None = None  # the confound audit (source_audit), when other sources were given
    misses: dict = field(default_factory=dict)  # source name -> missed tumours (seed 0, paper)


def _check_device(device: str) -> str:

    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise InvalidParameterError(
            f"The 'device' parameter must be 'auto', 'cpu' or 'cuda', got {device!r}"
        )
    return resolve_device(device, option="--device ")


def _cross_validate(model: Model, config: RunConfig, images, y, folds: int) -> dict:
    """Mean metrics of ``folds``-fold stratified cross-validation on the training part."""
    from sklearn.metrics import f1_score, make_scorer, precision_score, recall_score
    from sklearn.model_selection import cross_validate

    scoring = {
        "accuracy": "accuracy",
        "macro_precision": make_scorer(precision_score, average="macro", zero_division=0),
        "macro_recall": make_scorer(recall_score, average="macro", zero_division=0),
        "macro_f1": make_scorer(f1_score, average="macro", zero_division=0),
    }
    cv = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    scores = cross_validate(model.build(config), images, y, cv=cv, scoring=scoring)
    return {name: float(np.mean(scores[f"test_{name}"])) for name in scoring}


@validate_params(
    {"seeds": [Interval(Integral, 1, None, closed="left")], "verbose": ["verbose"],
     "log": [callable]},
    prefer_skip_nested_validation=True,
)  # fmt: skip
def run_recipe(
    recipe: Recipe,
    data: ExperimentData,
    *,
    profile: str = "quick",
    seeds: int = 1,
    device: str = "auto",
    verbose: int = 0,
    log: Callable[[str], None] = print,
    external: Sequence[ExperimentData] = (),
    train_extra: Sequence[ExperimentData] = (),
) -> RunResult:
    """Run every model of a recipe under both protocols, for each seed.

    With ``external`` collections, every model trained is also scored on each
    of them as tumour / no tumour (4-class predictions collapsed): tumour
    sensitivity, specificity where the collection has healthy scans, after
    dropping every external image with an exact or near copy (pHash distance
    <= 4) in that model's training images. ``train_extra`` collections join
    the training side of every protocol (their copies of test images
    dropped); one that is also in ``external`` has a third of it (whole
    duplicate groups, drawn per seed) held out of training and scored.

    Parameters
    ----------
    recipe : Recipe
    data : ExperimentData
        As returned by :func:`load_experiment_data`; binarized here for
        binary recipes.
    profile : {"quick", "paper", "tiny"}, default="quick"
        ``"tiny"``: every model in seconds, a check of the set-up (``Recipe.tiny``).
    seeds : int, default=1
        Training seeds 0 .. seeds-1 (the paper's split itself stays fixed).
    device : {"auto", "cpu", "cuda"}, default="auto"
    verbose : int, default=0
        1 prints each network's per-epoch table.
    log : callable, default=print
        Receives one progress line per step.
    external : sequence of ExperimentData, default=()
        Other collections to score on (:func:`load_source_data`), labels
        mapped to the recipe's classes or to ``tumor`` / ``notumor``.
    train_extra : sequence of ExperimentData, default=()
        Other collections to train on as well.

    Returns
    -------
    RunResult

    Examples
    --------
    >>> import dataclasses
    >>> from sklearn_braintumor.experiments import RECIPES, load_experiment_data, run_recipe
    >>> recipe = RECIPES["recommended"]
    >>> tiny = {**recipe.profiles["quick"], "image_size": 32, "max_epochs": 2}
    >>> recipe = dataclasses.replace(recipe, profiles={"quick": tiny})
    >>> result = run_recipe(recipe, load_experiment_data(), device="cpu", log=lambda line: None)
    >>> sorted({record["arm"] for record in result.records})
    ['leakage_free', 'paper']
    """
    if profile not in recipe.profiles:
        raise InvalidParameterError(
            f"The 'profile' parameter of run_recipe must be one of {sorted(recipe.profiles)}, "
            f"got {profile!r}"
        )
    device = _check_device(device)
    data = _recipe_data(recipe, data)
    start = time.perf_counter()
    settings = dict(recipe.profiles[profile])
    extras, externals = _prepare_sources(recipe, data, train_extra, external)
    trained_on = {s.data.file_list_hash: s for s in extras}
    images = check_images(data.images)
    grouped = any(m.groups_param for m in recipe.models(RunConfig(profile, settings, 0, device,
                                                                  verbose)))  # fmt: skip
    main_hashes = xs.hashes(images) if extras or externals or grouped else None
    arms, split_notes = make_arms(recipe, data, images)
    for arm in arms:
        log(f"{arm.title}: {len(arm.train)} training, {len(arm.test)} test images")
    audit = None
    if externals or extras:
        log("confound audit: telling the collections apart within tumour / no tumour")
        untrained = [e for e in externals if e.data.file_list_hash not in trained_on]
        audit = xs.audit(data, images, [*extras, *untrained], main_hashes)
    source_notes: list = []
    if recipe.coarse_training and not extras:
        log(ONE_COLLECTION)
        source_notes.append(ONE_COLLECTION)
    # class names as labels: fitted models then predict "glioma", not 0
    labels = np.asarray(data.target_names, dtype=object)[data.target]
    records, unavailable, reports, estimators, misses = [], {}, {}, {}, {}
    for seed in range(seeds):
        config = RunConfig(profile, settings, seed, device, verbose)
        held = {h: xs.holdout(s, seed) for h, s in trained_on.items()
                if any(e.data.file_list_hash == h for e in externals)}  # fmt: skip
        plans = {index: _training_side(arm, data, images, labels, main_hashes, extras, held,
                                       seed, settings.get("extra_repeat", 1), source_notes)
                 for index, arm in enumerate(arms) if arm.retrain or index == 0}  # fmt: skip
        models = recipe.models(config)
        for model in models:
            reason = model.unavailable(config) if model.unavailable else None
            if reason:
                unavailable[model.name] = reason
                if seed == 0:
                    log(f"{model.name}: not run ({reason})")
                continue
            fitted = None
            for index, arm in enumerate(arms):
                label = f"[seed {seed + 1}/{seeds}] {model.name} ({arm.title})"
                fit_seconds = None
                if arm.retrain or fitted is None:
                    X_train, y_train, train_hashes, extra_text = plans[index]
                    log(f"{label}: training on {len(y_train)} images{extra_text}")
                    tic = time.perf_counter()
                    fit_params = ({model.groups_param: xs.copy_groups(train_hashes)}
                                  if model.groups_param else {})  # fmt: skip
                    fitted = clone(model.build(config)).fit(X_train, y_train, **fit_params)
                    fit_seconds = time.perf_counter() - tic
                report, record = _evaluate_arm(recipe, model, config, fitted, arm, images, labels,
                                               fit_seconds, label, log)  # fmt: skip
                metrics = record["metrics"]
                if fit_seconds is not None and externals:
                    healthy = xs.test_healthy_proba(report)  # from the pass just made
                    unseen = xs.unseen_healthy(fitted, report, main_hashes[arm.test],
                                               X_train, y_train, train_hashes)  # fmt: skip
                    record["external"], missed = _score_externals(
                        fitted, externals, held, train_hashes, label, log, (healthy, unseen)
                    )
                    if seed == 0 and arm.name == "paper":
                        misses = {**missed, **misses}  # the first model's misses per source
                records.append(record)
                took = "" if fit_seconds is None else f" (trained in {fit_seconds:.1f} s)"
                log(f"{label}: test accuracy {metrics['accuracy']:.4f}{took}")
                if seed == 0 and (arm.name, model.name) not in reports:  # first fold's
                    reports[arm.name, model.name] = report
                    estimators[arm.name, model.name] = fitted
    source_notes += [_external_note(source, held) for source in externals]
    return RunResult(
        recipe, profile, settings, list(range(seeds)), device, data, arms, split_notes,
        records, unavailable, reports, estimators, time.perf_counter() - start,
        externals, list(dict.fromkeys(source_notes)), audit, misses,
    )  # fmt: skip


def _evaluate_arm(recipe, model, config, fitted, arm, images, labels, fit_seconds, label,
                  log) -> tuple:  # fmt: skip
    """Score a fitted model on one protocol's test side (and cross-validate it if asked)."""
    report = evaluation_report(fitted, take(images, arm.test), labels[arm.test])
    metrics = summarize(report)
    record = {
        "seed": config.seed, "arm": arm.name, "fold": arm.fold, "model": model.name,
        "fit_seconds": fit_seconds, "metrics": metrics,
        "confusion_matrix": report.confusion_matrix.tolist(),
        **training_record(fitted),
    }  # fmt: skip
    metrics["valid_accuracy"] = record["valid_accuracy"]
    if arm.name == "paper" and recipe.split.cv:
        log(f"{label}: {recipe.split.cv}-fold cross-validation on the training part")
        record["cv"] = _cross_validate(
            model, config, take(images, arm.train), labels[arm.train], recipe.split.cv
        )
        metrics.update({f"cv_{k}": v for k, v in record["cv"].items()})
    return report, record


ONE_COLLECTION = (
    "trained on one collection only (no --train-extra yes/no collection): expect many "
    "tumours in other collections' scans to be called 'notumor' (user guide: Scans "
    "from other sources)"
)


def _recipe_data(recipe: Recipe, data: ExperimentData) -> ExperimentData:
    """Return ``data`` in the recipe's classes (binarized for a binary recipe), or refuse it."""
    if recipe.task == "binary":
        return data.binarized()
    if list(data.target_names) != list(recipe.classes):
        raise ValueError(
            f"recipe {recipe.name!r} classifies the classes {list(recipe.classes)}; this data "
            f"has classes {data.target_names}"
        )
    return data


def _prepare_sources(recipe: Recipe, data: ExperimentData, train_extra, external) -> tuple:
    """Check every other collection against the recipe's classes, before any work."""
    classes = list(data.target_names)
    extras = [xs.prepare(d, recipe.task, classes, coarse=recipe.coarse_training)
              for d in train_extra]  # fmt: skip
    externals = [xs.prepare(d, recipe.task, classes, coarse=True) for d in external]
    for group in (extras, externals):
        names = [source.name for source in group]
        if len(set(names)) != len(names):
            raise ValueError(f"other collections need distinct names, got {names}")
    return extras, externals


def _score_externals(fitted, externals, held: dict, train_hashes, label: str, log,
                     healthy) -> tuple:  # fmt: skip
    """Score a fitted model on each other collection, copies of its training images left out.

    ``healthy`` is p(no tumour) of the test set's healthy scans, and that of
    the healthy scans with no copy trained on with their copy groups (each or
    None): the separation of each collection's tumour scans from them is
    scored too.

    Returns the scores per collection and the indices of the missed tumours.
    """
    scored, misses = {}, {}
    for source in externals:
        h = source.data.file_list_hash
        keep = ~xs.copies(source.hashes, train_hashes)
        if h in held:
            keep &= held[h]
        scores, misses[source.name] = xs.score(fitted, source, keep, *healthy)
        scores.update(n_copies=int((~keep).sum()) if h not in held else None,
                      held_out=h in held)  # fmt: skip
        scored[source.name] = scores
        sens, auc = scores["sensitivity"], scores["auc_vs_test_healthy"]
        unseen = scores["auc_vs_unseen_healthy"]
        log(
            f"{label}: {source.name}: tumour sensitivity "
            f"{'–' if sens is None else f'{sens:.4f}'} on {scores['n_tumor']}"
            + ("" if auc is None else f"; ROC AUC against the test set's healthy scans {auc:.4f}")
            + (
                ""
                if unseen is None
                else f", against {scores['n_unseen_healthy']} healthy scans "
                f"({scores['n_unseen_healthy_scans']} distinct) with no copy trained on "
                f"{unseen:.4f}"
            )
        )
    return scored, misses


def _external_note(source, held: dict) -> str:
    """Return the report's line on how another collection was used."""
    if source.data.file_list_hash in held:
        return (
            f"{source.name} (also trained on): a third of its duplicate groups held out of "
            "training per seed and scored; the rest trained on"
        )
    return (
        f"{source.name}: scored as another collection ({len(source.labels)} images; "
        "images with an exact or near copy in a model's training data are left out)"
    )


def _training_side(arm, data, images, labels, main_hashes, extras, held, seed, repeat,
                   notes) -> tuple:  # fmt: skip
    """Training images, labels and hashes (a row each) of one protocol, other collections included.

    Images of another collection labelled with the coarse ``tumor`` are
    repeated ``repeat`` times (the profile's ``extra_repeat``): a hundred such
    scans beside thousands would otherwise barely move the network. A network
    trained on the coarse label keeps them out of its validation split; one that
    reads them as plain ``tumor`` (the screen of a ``TwoStageClassifier``) keeps
    a scan's repeats on one side of it when it gets the copy groups
    (``Model.groups_param``), and may draw them on both sides otherwise.
    """
    X, y = take(images, arm.train), labels[arm.train]
    if not extras:
        return X, y, None if main_hashes is None else main_hashes[arm.train], ""
    X = list(X)
    y = list(y)
    hashes = [main_hashes[arm.train]]
    added = []
    for source in extras:
        keep = ~xs.copies(source.hashes, main_hashes[arm.test])
        n_copies = int((~keep).sum())
        h = source.data.file_list_hash
        if h in held:
            keep &= ~held[h]
        index = np.flatnonzero(keep)
        coarse = index[source.labels[index] == xs.COARSE_TUMOR]
        rows = np.concatenate([index, np.tile(coarse, repeat - 1)])
        X += list(take(source.images, rows))
        y += list(source.labels[rows])
        hashes.append(source.hashes[rows])
        added.append(f"{len(index)} from {source.name}")
        notes.append(
            f"{source.name} trained on ({arm.title}, seed {seed}): {len(index)} of "
            f"{len(source.labels)} images"
            + (
                f" ({len(coarse)} of unknown tumour type, each {repeat} times)"
                if repeat > 1 and len(coarse)
                else ""
            )
            + f"; {n_copies} left out as copies of test images"
            + (f", {int(held[h].sum())} held out for scoring" if h in held else "")
        )
    return X, np.asarray(y, dtype=object), np.concatenate(hashes), f" ({', '.join(added)} added)"
