r"""One measured variant of the recommended recipe on scans of another collection.

Fits the ``recommended-binary`` (or ``recommended-4class``, or the two-network
``recommended``) recipe's model on the
4-class set's official Training split, with parameters changed by
``--set NAME=EXPRESSION`` (``set_params`` names of the recipe's estimator,
the expression evaluated with ``sklearn_braintumor``'s public names in
scope), and scores it the way docs/cross_source.md reports each step:

- official Testing: accuracy and notumor recall (tumour / no tumour);
- the yes/no collection's tumour scans without an exact or near copy in the
  training images: the share called tumour at the recipe's own threshold,
  and at the thresholds that keep 95, 98 and 99 % of the healthy side (the
  Testing notumor scans, or those of ``--healthy-holdout``);
- the ROC AUC of p(no tumour) between those scans and the healthy side: the
  separation whatever the threshold.

The threshold-free figures count each distinct scan once on either side
(images weighted by one over the size of their copy group): the 4-class set
holds one healthy scan up to 28 times, in other contrasts and noise, and
counted per image such a scan decides the shares found alone.

One JSON line per run is appended to ``--out``::

    OMP_NUM_THREADS=1 python3 tools/cross_source_trial.py --data FOUR_CLASS \\
        --yes-no YES_NO --seed 0 --set \\
        "estimator__estimator__cnnclassifier__module__mixstyle=0.5" --out trials.jsonl

About 7 minutes per run on one thread of a 2-core x86 CPU (quick profile).

Runs saved with ``--scores`` can be averaged without training, as an ensemble
of their networks (the threshold at p(no tumour) >= 0.5 for accuracy; the AUC
and the shares found at 95, 98 and 99 % notumor recall need no threshold)::

    python3 tools/cross_source_trial.py --average s0.npz s1.npz s2.npz \\
        --label "three screens" --out trials.jsonl

Testing's notumor scans are mostly copies of Training scans (all but 19 of
405 in the 4-class set), so a network that trained on a scan's copy calls it
healthy with ease, and which copies a run trains on depends on its validation
split. ``--healthy-holdout F`` gives every run the same honest healthy side:
a share ``F`` of Training's notumor copy groups (drawn once, the same for
every seed) is taken out of training with every copy, and the healthy side
is those of them labelled notumor plus the Testing notumor scans with no copy
left in training.
Runs compared with ``--average`` must share it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import sklearn_braintumor
import sklearn_braintumor.model_selection
import sklearn_braintumor.nn
import sklearn_braintumor.sampling
from sklearn_braintumor.datasets import load_image_folder
from sklearn_braintumor.experiments import RunConfig, get_recipe, load_experiment_data
from sklearn_braintumor.experiments._cross_source import (
    auc_vs_healthy,
    copies,
    copy_groups,
    group_weights,
    hashes,
    healthy_holdout,
)
from sklearn_braintumor.metrics._report import proba_and_predictions
from sklearn_braintumor.model_selection import clean_test_mask
from sklearn_braintumor.utils import save
from sklearn_braintumor.utils._persistence import atomic_write_text

NEGATIVE = "notumor"


def parse_settings(pairs: list[str]) -> dict:
    """``NAME=EXPRESSION`` pairs as set_params keyword arguments."""
    modules = (sklearn_braintumor.model_selection, sklearn_braintumor.nn,
               sklearn_braintumor.sampling)  # fmt: skip
    scope = {name: getattr(module, name) for module in modules for name in module.__all__}
    params = {}
    for pair in pairs:
        name, _, expression = pair.partition("=")
        params[name] = eval(expression, scope)  # a developer's own command line
    return params


def load(data: Path, yes_no: Path, binary: bool):
    """Training, Testing (labels as the recipe's) and the yes/no set's unseen tumour scans."""
    experiment = load_experiment_data(data)
    experiment = experiment.binarized() if binary else experiment
    labels = np.asarray(experiment.target_names)[experiment.target]
    split = []
    for subset in ("train", "test"):
        index = np.flatnonzero(experiment.subset == subset)
        split.append(([experiment.images[i] for i in index], labels[index]))
    tumours = load_image_folder(yes_no, classes=["yes"]).images
    unseen = clean_test_mask(split[0][0], tumours)
    return *split, [t for t, keep in zip(tumours, unseen, strict=True) if keep]


def found_at(p_negative: np.ndarray, healthy: np.ndarray, recall: float,
             w_negative: np.ndarray, w_healthy: np.ndarray) -> float:  # fmt: skip
    """Share of tumour scans found at the highest threshold keeping ``recall`` of the healthy.

    Shares are weighted (``w_*``: :func:`group_weights`, each distinct scan weighing one).
    """
    order = np.argsort(healthy)
    below = np.cumsum(w_healthy[order]) / w_healthy.sum()  # share of healthy up to each
    threshold = healthy[order][np.argmax(below > 1 - recall + 1e-12)]
    return float(np.sum(w_negative * (p_negative < threshold)) / w_negative.sum())


def separation(p_tumours: np.ndarray, g_tumours: np.ndarray, p_healthy: np.ndarray,
               g_healthy: np.ndarray) -> dict:  # fmt: skip
    """Return the threshold-free figures: ROC AUC and the shares found at 95, 98 and 99 %.

    Against the healthy side given (the held-out healthy scans, or Testing's
    notumor scans), each distinct scan (copy group ``g_*``) counted once on
    either side: a public set holds one healthy scan up to 28 times.
    """
    w_tumours, w_healthy = group_weights(g_tumours), group_weights(g_healthy)
    return {
        "n_tumour_scans": len(np.unique(g_tumours)),
        "n_healthy_scans": len(np.unique(g_healthy)),
        "auc": auc_vs_healthy(p_tumours, p_healthy, g_tumours, g_healthy),
        **{f"found_at_{round(100 * recall)}": found_at(p_tumours, p_healthy, recall,
                                                       w_tumours, w_healthy)
           for recall in (0.95, 0.98, 0.99)},
    }  # fmt: skip


def average(paths: list[Path], label: str) -> dict:
    """Score the mean p(no tumour) of runs saved with ``--scores`` (an ensemble of them)."""
    runs = [np.load(path, allow_pickle=False) for path in paths]
    y_test = runs[0]["y_test"]
    if any(not np.array_equal(run["y_test"], y_test) for run in runs[1:]):
        raise SystemExit("--average: the runs were scored on different Testing images")
    held = ["p_healthy" in run for run in runs]
    if any(held) and not all(held):
        raise SystemExit("--average: only some runs have a held-out healthy side")
    if any("g_healthy" not in run for run in runs):
        raise SystemExit("--average: runs saved before copy groups were saved; run them again")
    p_test = np.mean([run["p_test"] for run in runs], axis=0)
    p_tumours = np.mean([run["p_tumours"] for run in runs], axis=0)
    p_healthy = (np.mean([run["p_healthy"] for run in runs], axis=0) if all(held)
                 else p_test[y_test == NEGATIVE])  # fmt: skip
    called_negative = p_test >= 0.5
    return {
        "label": label,
        "average": [str(path) for path in paths],
        "testing_accuracy": float(np.mean(called_negative == (y_test == NEGATIVE))),
        "notumor_recall": float(np.mean(called_negative[y_test == NEGATIVE])),
        "threshold": 0.5,
        "n_tumours": len(p_tumours),
        "found": float(np.mean(p_tumours < 0.5)),
        **({"n_healthy": len(p_healthy)} if all(held) else {}),
        **separation(p_tumours, runs[0]["g_tumours"], p_healthy, runs[0]["g_healthy"]),
    }


def append(out: Path, row: dict) -> None:
    """Append ``row`` to the JSON lines file ``out`` (rewritten whole, never half-written)."""
    previous = out.read_text() if out.exists() else ""
    atomic_write_text(out, previous + json.dumps(row) + "\n")
    print(json.dumps(row))


def main(argv=None) -> None:
    """Fit one variant, score it, append its line to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with Training/, Testing/")
    parser.add_argument("--yes-no", type=Path, help="folder with yes/ and no/")
    parser.add_argument("--average", nargs="+", type=Path, default=None, metavar="SCORES",
                        help="no training: score the mean of runs saved with --scores")  # fmt: skip
    parser.add_argument("--recipe", default="recommended-binary",
                        choices=["recommended-binary", "recommended-4class",
                                 "recommended"])  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="quick", choices=["quick", "tiny"])
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        metavar="NAME=EXPRESSION")  # fmt: skip
    parser.add_argument("--label", default="", help="the variant's name in the output")
    parser.add_argument("--save-model", type=Path, default=None)
    parser.add_argument("--scores", type=Path, default=None,
                        help="also save p(no tumour) of Testing and of the yes/no tumours "
                        "(.npz), e.g. to score an ensemble of runs")  # fmt: skip
    parser.add_argument("--healthy-holdout", type=float, default=None, metavar="SHARE",
                        help="take this share of Training's notumor copy groups out of "
                        "training and score against them (the same for every seed)")  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="JSON lines file to append to")
    args = parser.parse_args(argv)
    if args.average is not None:
        append(args.out, average(args.average, args.label))
        return
    if args.data is None or args.yes_no is None:
        parser.error("--data and --yes-no are required to train (all but --average)")

    binary = args.recipe == "recommended-binary"
    recipe = get_recipe(args.recipe)
    settings = {**recipe.profiles["quick"], **(recipe.tiny if args.profile == "tiny" else {})}
    config = RunConfig(args.profile, settings, seed=args.seed, device="cpu")
    row_model = recipe.models(config)[0]
    model = row_model.build(config).set_params(**parse_settings(args.settings))
    (X_train, y_train), (X_test, y_test), tumours = load(args.data, args.yes_no, binary)

    train_hashes = hashes(X_train)
    groups = copy_groups(train_hashes)
    p_healthy = None
    # the healthy side: Testing's notumor scans, or (--healthy-holdout) scans none trained on
    test_healthy = np.flatnonzero(y_test == NEGATIVE)
    healthy_hashes = hashes([X_test[i] for i in test_healthy])
    healthy = [X_test[i] for i in test_healthy]
    if args.healthy_holdout is not None:
        held = healthy_holdout(groups, y_train == NEGATIVE, args.healthy_holdout)
        kept = np.flatnonzero(~held)
        unseen = ~copies(healthy_hashes, train_hashes[kept])
        held_healthy = np.flatnonzero(held & (y_train == NEGATIVE))
        healthy = [X_train[i] for i in held_healthy] + [X_test[i] for i in test_healthy[unseen]]
        healthy_hashes = np.concatenate([train_hashes[held_healthy], healthy_hashes[unseen]])
        X_train, y_train, groups = [X_train[i] for i in kept], y_train[kept], groups[kept]

    start = time.perf_counter()
    # the copy groups the recipe gives its validation split (the images as loaded)
    fit_params = {row_model.groups_param: groups} if row_model.groups_param else {}
    model.fit(X_train, y_train, **fit_params)
    minutes = (time.perf_counter() - start) / 60
    classes = list(model.classes_)
    negative = classes.index(NEGATIVE)
    proba_test, test_pred = proba_and_predictions(model, X_test)
    proba_tumours, tumour_pred = proba_and_predictions(model, tumours)
    p_test, p_tumours = proba_test[:, negative], proba_tumours[:, negative]
    held_out = {}
    if args.healthy_holdout is not None:
        p_healthy = model.predict_proba(healthy)[:, negative]
        held_out = {"healthy_holdout": args.healthy_holdout, "n_healthy": len(p_healthy)}
    g_tumours, g_healthy = copy_groups(hashes(tumours)), copy_groups(healthy_hashes)
    row = {
        "label": args.label,
        "recipe": args.recipe,
        "settings": args.settings,
        "seed": args.seed,
        "minutes": round(minutes, 2),
        "testing_accuracy": float(np.mean(test_pred == y_test)),
        "notumor_recall": float(np.mean(test_pred[y_test == NEGATIVE] == NEGATIVE)),
        "threshold": float(getattr(model, "threshold_", np.nan)),
        "n_tumours": len(tumours),
        "found": float(np.mean(tumour_pred != NEGATIVE)),
        **held_out,
        **separation(p_tumours, g_tumours,
                     p_test[y_test == NEGATIVE] if p_healthy is None else p_healthy, g_healthy),
    }  # fmt: skip
    if args.scores is not None:
        saved = {} if p_healthy is None else {"p_healthy": p_healthy}
        np.savez(args.scores, p_test=p_test, y_test=y_test, p_tumours=p_tumours,
                 g_tumours=g_tumours, g_healthy=g_healthy, **saved)  # fmt: skip
    if args.save_model is not None:
        save(model, args.save_model)
    append(args.out, row)


if __name__ == "__main__":
    main()
