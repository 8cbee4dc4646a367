"""Rebuild the pretrained models shipped in ``sklearn_braintumor/pretrained/models``.

Trains each model with its recipe (quick profile, seed 0) on the official
Training split of the 4-class set, scores it on the official Testing split,
its clean subset and, with ``--external``, a yes/no collection it never saw
(tumour sensitivity and specificity), measures the shift guard and the MRI check,
and writes ``NAME.btm`` (safe format) with ``NAME.json`` (checksum, figures,
commands) into the package, plus a report folder per model and the docs'
model-card page. On a 2-core x86 CPU each model takes about 10 minutes.
A model of several networks (``binary``: its ``members`` in the registry) trains
the recipe once per member (a seed, and settings of the recipe's profile),
two at a time, each network leaving out its own validation tenth and the same
tenth of the healthy Training scans (whole copy groups); their probabilities
are averaged (``average_networks``) and its threshold is set on those healthy
scans, which no network saw. With ``--reuse``, members already saved in the
report folder are loaded and only the missing ones trained.
A model that combines shipped ones (``4class-screened``) trains nothing: it
is measured the same way once they are built, and has no file of its own.
Each file's SHA-256 goes into ``sklearn_braintumor/pretrained/_checksums.py``
(in code, where the card's JSON cannot change it).

    python3 tools/build_pretrained.py --data FOLDER_WITH_TRAINING_AND_TESTING \
        --external YESNO_FOLDER:yes=tumor,no=notumor
    python3 tools/build_pretrained.py --resave   # the same models, in the current file format
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from joblib import Parallel, delayed

import sklearn_braintumor
from sklearn_braintumor.classifiers import average_networks, shift_score
from sklearn_braintumor.classifiers._ood import final_classifier
from sklearn_braintumor.experiments import RunConfig, get_recipe, run_recipe, write_report
from sklearn_braintumor.experiments._cross_source import copy_groups, hashes, healthy_holdout
from sklearn_braintumor.experiments._data import load_experiment_data, load_source_data
from sklearn_braintumor.inspection import not_mri
from sklearn_braintumor.pretrained import PRETRAINED, pretrained_card
from sklearn_braintumor.pretrained._cards import render_cards
from sklearn_braintumor.pretrained._checksums import SHA256
from sklearn_braintumor.pretrained._registry import MODELS_DIR
from sklearn_braintumor.utils import load, save
from sklearn_braintumor.utils._persistence import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
NEGATIVE = "notumor"
#: a model of several networks: the share of Training's healthy copy groups none trains on
HEALTHY_SHARE = 0.1


def _figures(runs: list, external_name: str | None, command: str) -> dict:
    """Return the card's figures from the report's runs (results.json: seed 0, one model)."""
    figures = {}
    for record in runs:
        metrics = record["metrics"]
        key = {"paper": "official_testing", "leakage_free": "clean_testing"}.get(record["arm"])
        if key is None:
            continue
        figures[key] = {
            "accuracy": metrics["accuracy"],
            "balanced_accuracy": metrics["balanced_accuracy"],
            "macro_f1": metrics["macro_f1"],
            "command": command,
        }
        if record["arm"] == "paper":
            figures["valid_accuracy"] = record.get("valid_accuracy")
        for name, scores in (record.get("external") or {}).items():
            if name == external_name and record["arm"] == "paper":
                figures["other_source"] = {"source": name, **scores, "command": command}
    return figures


def _build_command(external) -> str:
    return "python3 tools/build_pretrained.py --data FOLDER" + (
        " --external YESNO_FOLDER:yes=tumor,no=notumor" if external else ""
    )


def _scores(predicted, truth) -> dict:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
    }


def _provenance(external) -> dict:
    """Return the card's build command, date and the versions that built it."""
    return {
        "build_command": _build_command(external),
        "built": datetime.date.today().isoformat(),
        "versions": {
            "sklearn-braintumor": sklearn_braintumor.__version__,
            "torch": torch.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }


def measure(model, data, external, command: str) -> tuple[dict, dict]:
    """Return a fitted model's card figures and shift-guard figures (no report folder).

    Official Testing and its clean subset; the yes/no collection's images
    without an exact or near copy among the Training images (as ``--external``
    scores them); the shift guard and the MRI check.
    """
    from sklearn_braintumor.model_selection import clean_test_mask

    data = data.binarized() if len(model.classes_) == 2 else data  # the model's labels
    labels = np.asarray(data.target_names)[data.target]
    train, test = (np.flatnonzero(data.subset == s) for s in ("train", "test"))
    train_images = [data.images[i] for i in train]
    test_images = [data.images[i] for i in test]
    predicted = model.predict(test_images)
    clean = clean_test_mask(train_images, test_images)
    figures = {
        "official_testing": {**_scores(predicted, labels[test]), "command": command},
        "clean_testing": {**_scores(predicted[clean], labels[test][clean]), "command": command},
    }
    guard = measure_guard(model, test_images, external, command)
    if external is not None:
        other = list(external.images)
        keep = clean_test_mask(train_images, other)
        tumor = external.tumor_mask()
        negative = str(model.negative_class)
        found = model.predict([im for im, k in zip(other, keep, strict=True) if k]) != negative
        figures["other_source"] = {
            "source": external.name,
            "sensitivity": float(found[tumor[keep]].mean()),
            "specificity": float((~found[~tumor[keep]]).mean()) if (~tumor[keep]).any() else None,
            "n_tumor": int(tumor[keep].sum()),
            "n_healthy": int((~tumor[keep]).sum()),
            "n_copies": int((~keep).sum()),
            "held_out": False,
            "command": command,
        }
    return figures, guard


def measure_guard(model, test_images, external, command: str) -> dict:
    """Return the shift guard's and the MRI check's figures on Testing and the yes/no set."""
    guard = {
        "rate": final_classifier(model).ood_rate,
        "testing_shifted": float(np.mean(shift_score(model, test_images) >= 1)),
        "testing_not_mri": float(not_mri(test_images).mean()),
        "n_testing": len(test_images),
        "command": command,
    }
    if external is not None:
        other = list(external.images)
        guard["other_source_shifted"] = float(np.mean(shift_score(model, other) >= 1))
        guard["other_source_not_mri"] = float(not_mri(other).mean())
        guard["other_source"] = external.name
        guard["n_other_source"] = len(other)
    return guard


def install(name: str, model, fields: dict, digests: dict, external, copy_from=None) -> None:
    """Put a model file into the package (``copy_from`` or ``model`` saved) with its card.

    Records its SHA-256 in ``_checksums.py`` (and in memory, for the cards
    rendered next); the card holds the file's size, the model's classes and
    threshold, ``fields`` and the build's provenance.
    """
    target = MODELS_DIR / f"{name}.btm"
    if copy_from is None:
        save(model, target)
    else:
        shutil.copyfile(copy_from, target)
    payload = target.read_bytes()
    digests[name] = hashlib.sha256(payload).hexdigest()
    write_checksums(digests)
    SHA256.update(digests)  # the cards rendered below read the digests in memory
    card = {
        "n_bytes": len(payload),
        "classes": [str(c) for c in model.classes_],
        "negative_class": str(model.negative_class),
        "threshold": float(model.threshold_),
        **fields,
        **_provenance(external),
    }
    atomic_write_text(MODELS_DIR / f"{name}.json", json.dumps(card, indent=2) + "\n")
    print(json.dumps({"sha256": digests[name]} | {k: card[k] for k in
                     ("n_bytes", "threshold", "figures", "guard")}, indent=2),
          flush=True)  # fmt: skip


def staged_card(name: str, data, external) -> dict:
    """Measure a model that combines shipped ones (no training): the same figures as a recipe's."""
    from sklearn_braintumor.pretrained import _two_stage, load_pretrained

    spec = PRETRAINED[name]
    model = _two_stage(*(load_pretrained(stage) for stage in spec.stages))
    figures, guard = measure(model, data, external, _build_command(external) + f" --models {name}")
    stages = [pretrained_card(stage) for stage in spec.stages]
    return {
        "n_bytes": sum(stage["n_bytes"] for stage in stages),
        "classes": [str(c) for c in model.classes_],
        "negative_class": str(model.negative_class),
        "threshold": float(model.screen_.threshold_),
        "figures": figures,
        "guard": guard,
        "fit_seconds": sum(stage["fit_seconds"] for stage in stages),
        "hardware": stages[0]["hardware"],
        **_provenance(external),
    }


def _fit_member(recipe_name: str, member, images, labels, groups):
    """Fit the recipe's model as ``member`` says (one torch thread); return it and its seconds."""
    torch.set_num_threads(1)
    recipe = get_recipe(recipe_name)
    settings = {**recipe.profiles["quick"], **dict(member.settings)}
    config = RunConfig("quick", settings, seed=member.seed, device="cpu")
    row = recipe.models(config)[0]
    fit_params = {row.groups_param: groups} if row.groups_param else {}
    start = time.perf_counter()
    model = row.build(config).fit(images, labels, **fit_params)
    return model, time.perf_counter() - start


def averaged_model(name: str, data, out: Path, *, reuse: bool) -> tuple:
    """Train (or, with ``reuse``, load) a model's members; return the model and its facts.

    Each member is the recipe's model with the member's seed and settings; all
    leave out the same ``HEALTHY_SHARE`` of Training's healthy copy groups, on
    which the averaged model's threshold is set. Members are saved under
    ``out/members``; with ``reuse`` those saved are loaded, the others trained.
    """
    spec = PRETRAINED[name]
    recipe = get_recipe(spec.recipe)
    experiment = data.binarized() if recipe.task == "binary" else data
    labels = np.asarray(experiment.target_names)[experiment.target]
    train = np.flatnonzero(experiment.subset == "train")
    images, labels = [experiment.images[i] for i in train], labels[train]
    groups = copy_groups(hashes(images))
    held = healthy_holdout(groups, labels == NEGATIVE, HEALTHY_SHARE)
    kept = np.flatnonzero(~held)
    folder = out / "members"
    files = [folder / f"{member.name}.btm" for member in spec.members]
    timing = folder / "fit_seconds.json"
    seconds = json.loads(timing.read_text()) if reuse and timing.exists() else {}
    missing = [m for m, path in zip(spec.members, files, strict=True)
               if not (reuse and path.exists() and m.name in seconds)]  # fmt: skip
    kept_images = [images[i] for i in kept]
    fitted = Parallel(n_jobs=2)(
        delayed(_fit_member)(spec.recipe, member, kept_images, labels[kept], groups[kept])
        for member in missing
    )
    folder.mkdir(parents=True, exist_ok=True)
    for member, (model, fit_seconds) in zip(missing, fitted, strict=True):
        save(model, folder / f"{member.name}.btm")
        seconds[member.name] = fit_seconds
        atomic_write_text(timing, json.dumps(seconds, indent=2) + "\n")
    members = [load(path) for path in files]
    negatives = [images[i] for i in np.flatnonzero(held & (labels == NEGATIVE))]
    model = average_networks(members, negatives=negatives)
    facts = {
        "members": [{"seed": m.seed, "settings": dict(m.settings)} for m in spec.members],
        "held_out_healthy": {
            "share": HEALTHY_SHARE,
            "n_images": int(held.sum()),
            "n_healthy": len(negatives),
        },
        "fit_seconds": float(sum(seconds[m.name] for m in spec.members)),
    }
    return model, facts


def write_checksums(digests: dict[str, str]) -> None:
    """Record the shipped files' SHA-256 in the package's code (``_checksums.py``)."""
    path = ROOT / "sklearn_braintumor" / "pretrained" / "_checksums.py"
    text = path.read_text()
    head = text[: text.index("SHA256 = {")]
    rows = "".join(f'    "{name}": "{digest}",\n' for name, digest in sorted(digests.items()))
    atomic_write_text(path, head + "SHA256 = {\n" + rows + "}\n")


def resave(names) -> None:
    """Write the shipped models again in the current safe format: same weights, new bytes."""
    digests = dict(SHA256)
    for name in (n for n in names if not PRETRAINED[n].stages):  # no file of their own
        target = PRETRAINED[name].weights_file
        model = load(target)  # an older format version still loads
        save(model, target)
        payload = target.read_bytes()
        digests[name] = hashlib.sha256(payload).hexdigest()
        card_file = PRETRAINED[name].card_file
        card = json.loads(card_file.read_text())
        card["n_bytes"] = len(payload)
        atomic_write_text(card_file, json.dumps(card, indent=2) + "\n")
        print(f"{name}: {len(payload)} bytes, SHA-256 {digests[name]}", flush=True)
    write_checksums(digests)


def main(argv=None) -> int:
    """Build the models named by ``--models``; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the 4-class set: Training/ and Testing/")
    parser.add_argument("--external", help="a yes/no collection, DIR:yes=tumor,no=notumor")
    parser.add_argument("--models", nargs="*", default=list(PRETRAINED), choices=list(PRETRAINED))
    parser.add_argument("--reports", default="build/pretrained", help="report folders (here)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="take the model and figures from existing report folders instead of training "
        "(a model of several networks: load the networks saved there, train the missing ones)",
    )
    parser.add_argument(
        "--resave",
        action="store_true",
        help="no training: write the shipped models again in the current file format",
    )
    args = parser.parse_args(argv)
    if args.resave:
        resave(args.models)
        return 0
    if args.data is None:
        parser.error("--data is required unless --resave")

    torch.set_num_threads(1)  # reproducible CPU sums; fast on a shared 2-core machine
    data = load_experiment_data(args.data)
    external = load_source_data(args.external) if args.external else None
    data_name = "FOLDER"
    digests = dict(SHA256)
    # a model that combines others is measured after they are built
    for name in sorted(args.models, key=lambda n: bool(PRETRAINED[n].stages)):
        spec = PRETRAINED[name]
        if spec.stages:
            print(f"== {name}: {' + '.join(spec.stages)}", flush=True)
            card = staged_card(name, data, external)
            atomic_write_text(MODELS_DIR / f"{name}.json", json.dumps(card, indent=2) + "\n")
            print(json.dumps({k: card[k] for k in ("figures", "guard")}, indent=2), flush=True)
            continue
        if spec.members:
            print(f"== {name}: {len(spec.members)} networks of {spec.recipe}", flush=True)
            model, facts = averaged_model(name, data, Path(args.reports) / name,
                                          reuse=args.reuse)  # fmt: skip
            command = _build_command(external) + f" --models {name}"
            figures, guard = measure(model, data, external, command)
            hardware = "2-core x86 CPU, one torch thread per network, two at a time"
            install(name, model, {"figures": figures, "guard": guard, **facts,
                                  "hardware": hardware}, digests, external)  # fmt: skip
            continue
        recipe = get_recipe(spec.recipe)
        command = (
            f"braintumor reproduce {recipe.name} --data {data_name} --seeds 1 --device cpu"
            + (f" --external {external.name}:yes=tumor,no=notumor" if external else "")
        )
        print(f"== {name}: {command}", flush=True)
        out = Path(args.reports) / name
        if not args.reuse:
            result = run_recipe(recipe, data, seeds=1, device="cpu",
                                external=[external] if external else [])  # fmt: skip
            write_report(result, out, overwrite=True, save_models=True)
        (model_file,) = sorted((out / "models").glob("*.btm"))
        model = load(model_file)
        runs = json.loads((out / "results.json").read_text())["runs"]
        test_images = [data.images[i] for i in np.flatnonzero(data.subset == "test")]
        guard = measure_guard(model, test_images, external,
                              _build_command(external) + f" --models {name}")  # fmt: skip
        fields = {
            "figures": _figures(runs, external.name if external else None, command),
            "guard": guard,
            "fit_seconds": next(r["fit_seconds"] for r in runs if r["fit_seconds"]),
            "hardware": "2-core x86 CPU, one torch thread",
        }
        install(name, model, fields, digests, external, copy_from=model_file)
    atomic_write_text(ROOT / "docs" / "_model_cards.md",
                      render_cards([pretrained_card(n) for n in PRETRAINED]))  # fmt: skip
    print("argv:", shlex.join(sys.argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
