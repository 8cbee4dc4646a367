"""The report folder of a run: report.md, results.json and figures, written atomically."""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import shutil
import warnings
from pathlib import Path

import numpy as np

from .._version import __version__
from ..utils._device import describe_device
from ..utils._persistence import (
    check_writable,
    chmod_like_new,
    clean_stale,
    refuse_existing,
    temporary_beside,
)
from ._base import RunResult
from ._splits import ARM_TITLES, ARMS, arm_title

_LABELS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced acc.",
    "valid_accuracy": "validation acc.",
    "macro_precision": "precision (macro)",
    "macro_recall": "recall (macro)",
    "macro_f1": "F1 (macro)",
    "weighted_precision": "precision (weighted)",
    "weighted_recall": "recall (weighted)",
    "weighted_f1": "F1 (weighted)",
    "precision": "precision (tumor)",
    "recall": "recall (tumor)",
    "f1": "F1 (tumor)",
    "roc_auc": "ROC AUC",
    "cv_macro_f1": "3-fold CV F1 (macro)",
    "cv_macro_precision": "3-fold CV precision (macro)",
    "cv_macro_recall": "3-fold CV recall (macro)",
}


def metric_label(name: str) -> str:
    """Column title of a metric name."""
    if name in _LABELS:
        return _LABELS[name]
    for prefix in ("auc", "f1", "precision", "recall"):
        if name.startswith(prefix + "_"):
            return f"{prefix.replace('auc', 'AUC')} {name[len(prefix) + 1 :]}"
    return name.replace("_", " ")


def slug(text: str) -> str:
    """Return a file-name-safe version of a model name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def aggregate(result: RunResult) -> dict:
    """``{arm: {model: {metric: (mean, std, n)}}}`` over seeds."""
    table: dict = {}
    for record in result.records:
        cell = table.setdefault(record["arm"], {}).setdefault(record["model"], {})
        for name, value in record["metrics"].items():
            if value is not None:
                cell.setdefault(name, []).append(float(value))
    return {
        arm: {
            model: {k: (float(np.mean(v)), float(np.std(v)), len(v)) for k, v in metrics.items()}
            for model, metrics in models.items()
        }
        for arm, models in table.items()
    }


def _fmt(stat) -> str:
    if stat is None:
        return "–"
    mean, std, n = stat
    return f"{100 * mean:.2f}" if n == 1 else f"{100 * mean:.2f} ± {100 * std:.2f}"


def _model_names(result: RunResult) -> list:
    names = list(dict.fromkeys(r["model"] for r in result.records))
    return names + [n for n in result.unavailable if n not in names]


def external_stats(result: RunResult) -> dict:
    """``{model: {source: {metric: (mean, std, n)}}}`` of the paper protocol's models."""
    table: dict = {}
    for record in result.records:
        if record["arm"] != "paper":
            continue
        for source, scores in record.get("external", {}).items():
            cell = table.setdefault(record["model"], {}).setdefault(source, {})
            for key in ("sensitivity", "specificity", "n_tumor", "n_healthy",
                        "auc_vs_test_healthy", "auc_vs_unseen_healthy",
                        "n_unseen_healthy", "n_unseen_healthy_scans"):  # fmt: skip
                if scores.get(key) is not None:
                    cell.setdefault(key, []).append(float(scores[key]))
    return {
        model: {
            source: {k: (float(np.mean(v)), float(np.std(v)), len(v)) for k, v in cell.items()}
            for source, cell in sources.items()
        }
        for model, sources in table.items()
    }


def _external_cell(stats: dict | None) -> str:
    """``sensitivity 83.10 (n 136), specificity 90.00 (n 5)`` for one source."""
    if not stats:
        return "–"
    parts = []
    for metric, n in (("sensitivity", "n_tumor"), ("specificity", "n_healthy")):
        if metric in stats:
            parts.append(f"{metric} {_fmt(stats[metric])} (n {stats[n][0]:.0f})")
    for key, side, size, distinct in (
        ("auc_vs_test_healthy", "the test set's healthy scans", None, None),
        ("auc_vs_unseen_healthy", "the healthy scans with no copy trained on",
         "n_unseen_healthy", "n_unseen_healthy_scans"),
    ):  # fmt: skip
        if key in stats:
            mean, std, n = stats[key]
            auc = f"{mean:.3f}" if n == 1 else f"{mean:.3f} ± {std:.3f}"
            count = f" (n {stats[size][0]:.0f})" if size in stats else ""
            if distinct in stats:  # copies of a scan weigh one scan, on both sides
                count = (f" (n {stats[size][0]:.0f}, {stats[distinct][0]:.0f} distinct "
                         "scans; each distinct scan counted once on both sides)")  # fmt: skip
            parts.append(f"ROC AUC of its tumours against {side}{count} {auc}")
    return ", ".join(parts) or "–"


def on_sample(result: RunResult) -> bool:
    """Whether the run used the embedded sample, where no published figure was measured."""
    return result.data.name == "sample"


def results_table(result: RunResult) -> str:
    """Return the paper's numbers beside ours, both protocols, in percent (markdown).

    With other collections scored, one more column per collection: tumour
    sensitivity and healthy specificity of the paper protocol's model.
    """
    recipe, stats = result.recipe, aggregate(result)
    comparable = not on_sample(result)  # reference figures come from the full datasets
    names = _model_names(result)
    names += [name for name in recipe.reported if comparable and name not in names]
    sources = [source.name for source in result.external]
    other = external_stats(result)
    lines = [
        "| model | metric | paper | " + " | ".join(ARM_TITLES[a] for a in ARMS)
        + "".join(f" | other source: {name}" for name in sources) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in ARMS)
        + " | ---" * len(sources) + " |",
    ]  # fmt: skip
    for name in names:
        reported = recipe.reported.get(name, {}) if comparable else {}
        ran = any(name in stats.get(a, {}) for a in ARMS)
        metrics = [m for m in recipe.metrics if m in reported or ran]
        metrics += [m for m in reported if m not in metrics]
        for row, metric in enumerate(metrics):
            paper = reported.get(metric)
            paper_cell = "–" if paper is None else f"{100 * paper:.2f}"
            if name in result.unavailable:
                reason = f"not run: {result.unavailable[name]}" if row == 0 else "not run"
                ours = [reason] + ["" for _ in ARMS[1:]]
            elif not ran:
                ours = ["not in this recipe"] + ["" for _ in ARMS[1:]]
            else:
                ours = [_fmt(stats.get(a, {}).get(name, {}).get(metric)) for a in ARMS]
            extra = [_external_cell(other.get(name, {}).get(source)) if row == 0 else ""
                     for source in sources]  # fmt: skip
            lines.append(f"| {name} | {metric_label(metric)} | {paper_cell} | "
                         + " | ".join(ours + extra) + " |")  # fmt: skip
    return "\n".join(lines)


def _torch_version() -> str:
    import torch

    return torch.__version__


def _command_line(argv) -> str:
    """Return the command that reproduces a run, without where it wrote (``--out``)."""
    if not argv:
        return "(called from Python)"
    words, skip = [], False
    for word in argv:
        if skip or word.startswith("--out=") or word == "--overwrite":
            skip = False
            continue
        if word == "--out":
            skip = True
            continue
        words.append(word)
    return "braintumor " + " ".join(words)


def _data_section(result: RunResult) -> list:
    """Return the "Data" section: source, counts, collections, patients, notes, arms."""
    recipe, data = result.recipe, result.data
    lines = [
        "## Data",
        "",
        f"- Source: {data.description}; the paper used {recipe.data}.",
        f"- {len(data.target)} images: "
        + ", ".join(f"{k} {v}" for k, v in data.counts().items())
        + f"; SHA-256 of the sorted (file, file SHA-256) list: `{data.file_list_hash}`.",
    ]
    sources, counts = np.unique(data.sources, return_counts=True)
    if len(sources) > 1:
        pairs = zip(sources, counts, strict=True)
        lines.append("- Collections: " + ", ".join(f"{n} {c}" for n, c in pairs) + ".")
    if data.groups is not None:
        lines.append(f"- Patients: {len(np.unique(data.groups))} (each one's images stay on "
                     "one side of every split that groups by patient).")  # fmt: skip
    lines += [f"- {note}" for note in [*data.notes, *result.split_notes]]
    lines += [f"- {note}" for note in result.source_notes]
    for arm in result.arms:
        lines.append(
            f"- {arm.title}: {arm.description}. Training "
            + ", ".join(f"{k} {v}" for k, v in data.counts(arm.train).items())
            + f" ({len(arm.train)}); test "
            + ", ".join(f"{k} {v}" for k, v in data.counts(arm.test).items())
            + f" ({len(arm.test)})."
        )
    return lines


def _per_run_section(result: RunResult) -> list:
    """Return the "Per run" table: one row per seed, protocol and model."""
    lines = ["## Per run", ""]
    lines += [
        "| seed | protocol | model | test images | accuracy | kept epoch | validation acc. "
        "| training time (s) | searched parameters |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result.records:
        valid = "–" if r["valid_accuracy"] is None else f"{100 * r['valid_accuracy']:.2f}"
        took = "(same model)" if r["fit_seconds"] is None else f"{r['fit_seconds']:.1f}"
        params = r.get("best_params") or {}
        protocol = arm_title(r["arm"], r.get("fold"))
        lines.append(
            f"| {r['seed']} | {protocol} | {r['model']} | {r['metrics']['n_samples']} "
            f"| {100 * r['metrics']['accuracy']:.2f} | {r['kept_epoch'] or '–'} | {valid} | {took} "
            f"| {', '.join(f'{k}={v:.3g}' if isinstance(v, float) else f'{k}={v}' for k, v in params.items()) or '–'} |"  # noqa: E501
        )
    return lines


def render_markdown(result: RunResult, *, argv=None, figures=()) -> str:
    """Return the text of report.md."""
    recipe = result.recipe
    letter = f" (paper {recipe.letter})" if recipe.letter else ""
    seeds = len(result.seeds)
    lines = [
        f"# {recipe.name}{letter}, {result.profile} profile",  # one line; the title follows
        "",
        f"{recipe.title}.",
        "",
        f"Recipe `{recipe.name}`, profile `{result.profile}`, {seeds} seed"
        f"{'s' if seeds > 1 else ''} ({', '.join(map(str, result.seeds))}); numbers in percent"
        f"{', mean ± standard deviation over seeds' if seeds > 1 else ''}.",
        "",
        f"- Command: `{_command_line(argv)}`",
        f"- Paper: {recipe.citation}",
        f"- Run: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}, "
        f"sklearn-braintumor {__version__}, torch {_torch_version()}, "
        f"Python {platform.python_version()}, "
        f"device {describe_device(result.device)}, runtime {result.seconds / 60:.1f} min",
        "",
        "## Results",
        "",
        (
            "The paper's figures are left out: they were measured on the full dataset, not on "
            "the embedded sample (run with --data or --dataset to compare)."
            if on_sample(result)
            else f"The paper's figures are from {recipe.reported_source}."
        )
        + " The leakage-free protocol runs the same recipe so that no test image has a copy "
        "in training.",
        "",
        results_table(result),
        "",
        *_data_section(result),
    ]
    if result.external or result.audit:
        lines += ["", *_cross_source_section(result)]
    settings = {k: v for k, v in result.settings.items() if k != "deviations"}
    lines += [
        "",
        "## Protocol run",
        "",
        recipe.protocol,
        "",
        f"Profile `{result.profile}` settings: "
        + ", ".join(f"{k}={v}" for k, v in settings.items())
        + ".",
        "",
        "Deviations from the paper:",
        "",
    ]
    lines += [f"- {d}" for d in result.settings.get("deviations", [])] or ["- none"]
    lines += ["", *_per_run_section(result)]
    if result.reports:
        lines += ["", f"## Per class (seed {result.seeds[0]})", ""]
        for (arm, name), report in result.reports.items():
            lines += [f"### {name}, {ARM_TITLES[arm]}", "", report.to_markdown(), ""]
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{caption}]({path})" for path, caption in figures]
    return "\n".join(lines).rstrip() + "\n"


def _cross_source_section(result: RunResult) -> list:
    """Return the "Other sources" section: what was scored, and the confound audit."""
    lines = [
        "## Other sources",
        "",
        "A model that scores well on its own dataset's test split can still miss tumours in "
        "scans from another collection when, in its training data, each class came mostly "
        "from one collection. Predictions on other collections are collapsed to tumour / no "
        "tumour (any class but the 'no tumour' one counts as tumour); images with an exact "
        "or near copy in the model's training images are left out before scoring.",
        "",
    ]
    for source in result.external:
        counts = ", ".join(f"{k} {v}" for k, v in source.data.counts().items())
        lines.append(f"- {source.name}: {source.data.description}; {counts}.")
    if result.audit:
        lines += [
            "",
            "Confound audit: a logistic regression on 32x32 thumbnails and intensity "
            f"histograms, {result.audit['cv']}-fold cross-validated (grouped by duplicates), "
            "tells which collection an image came from, within tumour and within no-tumour "
            "images (other collections' copies of the recipe's data left out). Near 100 % "
            "means the collections look different enough for a network to learn the "
            "collection instead of the tumour.",
            "",
        ]
        from ..model_selection import SourceAudit

        lines.append(SourceAudit(**result.audit).to_markdown())
    return lines


def results_dict(result: RunResult, argv=None) -> dict:
    """Return the content of results.json."""
    recipe = result.recipe
    return {
        "recipe": recipe.name,
        "paper": {"letter": recipe.letter, "title": recipe.title, "citation": recipe.citation,
                  "reported": recipe.reported, "reported_source": recipe.reported_source},
        "command": _command_line(argv),
        "profile": result.profile,
        "settings": result.settings,
        "seeds": result.seeds,
        "device": describe_device(result.device),
        "runtime_seconds": result.seconds,
        "library_version": __version__,
        "torch_version": _torch_version(),
        "data": {
            "source": result.data.description,
            "counts": result.data.counts(),
            "file_list_sha256": result.data.file_list_hash,
            "notes": result.data.notes + result.split_notes,
        },
        "protocols": {
            arm.name: {"description": arm.description, "n_train": len(arm.train),
                       "n_test": len(arm.test)}
            for arm in result.arms
        },
        "summary": {
            arm: {model: {k: {"mean": m, "std": s, "n": n} for k, (m, s, n) in metrics.items()}
                  for model, metrics in models.items()}
            for arm, models in aggregate(result).items()
        },
        "unavailable": result.unavailable,
        "other_sources": {
            "sources": {s.name: {"description": s.data.description, "counts": s.data.counts(),
                                 "file_list_sha256": s.data.file_list_hash}
                        for s in result.external},
            "notes": result.source_notes,
            "summary": {model: {source: {k: {"mean": m, "std": sd, "n": n}
                                         for k, (m, sd, n) in cell.items()}
                                for source, cell in sources.items()}
                        for model, sources in external_stats(result).items()},
            "audit": result.audit,
        },
        "runs": result.records,
    }  # fmt: skip


def _save_figure(figure, title: str, path: Path, *, dpi: int) -> None:
    import matplotlib.pyplot as plt

    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    plt.close(figure)


def _figures(result: RunResult, folder: Path) -> list:
    """Confusion matrix / ROC / reliability and learning curves of the first seed."""
    from ..inspection import plot_history
    from ..utils._traversal import find_classifier

    def save(figure, title: str, path: str) -> None:
        _save_figure(figure, title, folder / path, dpi=80)

    retrained = {arm.name: arm.retrain for arm in result.arms}
    written = []
    for (arm, name), report in result.reports.items():
        path = f"figures/{slug(name)}-{arm.replace('_', '-')}.png"
        save(report.plot(), f"{name}, {ARM_TITLES[arm]} (seed {result.seeds[0]})", path)
        written.append((path, f"{name}: confusion matrix, ROC curves, reliability ({arm})"))
        clf = find_classifier(result.estimators[arm, name])
        if clf is not None and retrained[arm]:  # else the curves are the paper arm's
            path = f"figures/{slug(name)}-{arm.replace('_', '-')}-history.png"
            save(plot_history(clf), f"{name}, {ARM_TITLES[arm]}: learning curves", path)
            written.append((path, f"{name}: learning curves per epoch ({arm})"))
    for name in dict.fromkeys(name for _, name in result.reports):
        try:
            caption = _grad_cam_figure(result, name, folder / f"figures/{slug(name)}-grad-cam.png")
        except ImportError as exc:  # captum missing: the figure, not hours of results, is lost
            warnings.warn(f"Grad-CAM figure of {name} not drawn: {exc}", stacklevel=2)
            caption = None
        if caption:
            written.append((f"figures/{slug(name)}-grad-cam.png", caption))
        for source in result.external:
            path = f"figures/{slug(name)}-{slug(source.name)}-misses.png"
            caption = _misses_figure(result, name, source, folder / path)
            if caption:
                written.append((path, caption))
    return written


def _grad_cam_model(result: RunResult, name: str, *, screen: bool = False):
    """Return a model's paper-protocol pipeline if it ends in a CNN Grad-CAM can read.

    ``screen``: of a two-stage model, the network that decides "no tumour"
    (``screen_``) instead of the one that names the type.
    """
    from ..utils._traversal import unwrap

    estimator = result.estimators.get(("paper", name))
    if screen and hasattr(estimator, "screen_"):
        estimator = estimator.screen_
    estimator = unwrap(estimator)
    steps = getattr(estimator, "steps", None)
    last = steps[-1][1] if steps else estimator
    return estimator if hasattr(getattr(last, "module_", None), "gradcam_layer") else None


def _misses_figure(result: RunResult, name: str, source, path: Path) -> str | None:
    """Grad-CAM of up to 8 tumours of another collection that the model called "no tumour"."""
    from ..inspection import plot_grad_cam
    from ._data import take

    estimator = _grad_cam_model(result, name, screen=True)  # the network that said so
    missed = result.misses.get(source.name, np.zeros(0, dtype=int))[:8]
    if estimator is None or not len(missed):
        return None
    images = take(source.images, missed)
    full = result.estimators["paper", name]  # its decision rule and test-time augmentation
    proba = full.predict_proba(images)
    predicted = full.predict(images)
    column = {label: i for i, label in enumerate(np.asarray(full.classes_).tolist())}
    titles = [f"true tumour\npredicted {label} ({p[column[label]]:.2f})"
              for label, p in zip(predicted, proba, strict=True)]  # fmt: skip
    figure = plot_grad_cam(estimator, images, titles=titles, ncols=4)
    _save_figure(figure, f"{name}: tumours of {source.name} called no tumour (seed "
                 f"{result.seeds[0]})", path, dpi=70)  # fmt: skip
    return f"{name}: Grad-CAM of tumours of {source.name} it missed"


def _grad_cam_figure(result: RunResult, name: str, path: Path) -> str | None:
    """Grad-CAM of two test images per class (paper's protocol), if the model is a CNN."""
    from ..inspection import plot_grad_cam
    from ._data import take

    estimator = _grad_cam_model(result, name)
    if estimator is None:
        return None  # not a CNN pipeline (a stacked ensemble, say)
    test = next(arm for arm in result.arms if arm.name == "paper").test
    target, names = result.data.target, result.data.target_names
    chosen = np.concatenate([test[target[test] == c][:2] for c in range(len(names))])
    images = take(result.data.images, chosen)
    proba = estimator.predict_proba(images)
    classes = np.asarray(estimator.classes_)
    titles = [
        f"true {names[t]}\npredicted {classes[p.argmax()]} ({p.max():.2f})"
        for t, p in zip(target[chosen], proba, strict=True)
    ]
    figure = plot_grad_cam(estimator, images, titles=titles, ncols=len(names))
    title = f"{name}: Grad-CAM of the predicted class (seed {result.seeds[0]})"
    _save_figure(figure, title, path, dpi=70)
    return f"{name}: Grad-CAM on two test images per class"


def recover_replacement(out: str | os.PathLike) -> str | None:
    """Finish or undo a report replacement that was interrupted between its two renames.

    Replacing ``out`` renames it to ``.NAME.replaced``, renames the new report
    into place, then deletes the old one. Interrupted after the first rename,
    ``out`` is missing: the old report is restored. Interrupted after the
    second, the old copy is deleted. Returns what was done, or None.
    """
    out = Path(out)
    old = out.with_name(f".{out.name}.replaced")
    if not old.exists():
        return None
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        return f"removed {old}, left by an interrupted replacement of {out}"
    os.replace(old, out)
    return f"restored {out} from {old}, left by an interrupted replacement"


def check_output_folder(out: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Refuse an existing or unwritable report folder; call before a long run.

    An interrupted earlier replacement of ``out`` is finished or undone first
    (:func:`recover_replacement`), and temporaries of killed runs are removed.
    """
    out = Path(out)
    check_writable(out)
    recover_replacement(out)
    clean_stale(out)
    refuse_existing(out, overwrite=overwrite)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    return out


def write_report(
    result: RunResult,
    out: str | os.PathLike,
    *,
    argv=None,
    overwrite: bool = False,
    save_models: bool = False,
) -> Path:
    """Write report.md, results.json and figures/ into ``out``, all or nothing.

    Everything is written into a hidden temporary folder beside ``out`` and
    renamed into place at the end, so an interruption (Ctrl-C, a full disk)
    leaves no half report. An existing ``out`` is replaced only with
    ``overwrite=True``, and then only once the new report is complete.

    Parameters
    ----------
    result : RunResult
        What :func:`run_recipe` returned.
    out : str or path-like
        The report folder to create.
    argv : list of str, optional
        The ``braintumor`` arguments, quoted in the report as the command line.
    overwrite : bool, default=False
        Replace an existing ``out``.
    save_models : bool, default=False
        Also save each model fitted under the paper's protocol with the first
        seed as ``models/<model>.btm`` (:func:`sklearn_braintumor.utils.save`, the safe
        format),
        ready for ``braintumor predict``.

    Returns
    -------
    out : pathlib.Path

    Examples
    --------
    >>> from sklearn_braintumor.experiments import write_report
    >>> folder = write_report(result, "reports/recommended")  # doctest: +SKIP
    >>> sorted(p.name for p in folder.iterdir())  # doctest: +SKIP
    ['figures', 'report.md', 'results.json']
    """
    out = check_output_folder(out, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = temporary_beside(out, ".partial", folder=True)
    chmod_like_new(staging, folder=True)
    try:
        (staging / "figures").mkdir()
        figures = _figures(result, staging)
        if save_models:
            from ..utils import save

            (staging / "models").mkdir()
            for (arm, name), estimator in result.estimators.items():
                if arm == "paper":
                    save(estimator, staging / "models" / f"{slug(name)}.btm")
        (staging / "report.md").write_text(render_markdown(result, argv=argv, figures=figures))
        (staging / "results.json").write_text(
            json.dumps(results_dict(result, argv), indent=2, default=str) + "\n"
        )
        if out.exists():
            old = out.with_name(f".{out.name}.replaced")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        recover_replacement(out)  # interrupted between the renames: old report back in place
        raise
    return out
