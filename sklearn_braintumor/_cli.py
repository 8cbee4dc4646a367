"""The ``braintumor`` command line (also ``python -m sklearn_braintumor``)."""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import platform
import sys
import time
from collections.abc import Sequence

from ._version import __version__
from .pretrained._registry import DEFAULT_MODEL

_REPORTED_PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "imbalanced-learn",
    "scikit-image",
    "torch",
    "skorch",
    "joblib",
    "Pillow",
    "simplejpeg",
    "matplotlib",
    "h5py",
)
#: optional packages, with the extra that installs each and what it is for
_OPTIONAL_PACKAGES = {
    "torchvision": "[transfer] TransferNet backbones",
    "onnx": "[export] braintumor export --format onnx",
    "onnxruntime": "[export] running exported ONNX files",
    "accelerate": "[accelerate] training on several GPUs",
    "dask": "[distributed] searches on a Dask cluster",
    "kagglehub": "(pip install kagglehub) fetch from Kaggle instead of the direct URL",
}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _device_summary() -> str:
    try:
        import torch  # noqa: F401
    except ImportError:
        return "torch not installed"
    from .utils._device import describe_device

    return describe_device()


def _cached(data_home) -> list[str]:
    from .datasets import DATASETS
    from .datasets._fetch import dataset_path

    return [name for name in DATASETS if dataset_path(name, data_home) is not None]


def _cmd_info(args: argparse.Namespace) -> int:
    from .datasets import get_data_home

    home = get_data_home(args.data_home)
    print(f"sklearn-braintumor {__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    for package in _REPORTED_PACKAGES:
        print(f"  {package:<17} {_version(package)}")
    print("optional:")
    for package, purpose in _OPTIONAL_PACKAGES.items():
        print(f"  {package:<17} {_version(package):<14} {purpose}")
    print(f"device: {_device_summary()}")
    print(f"data home: {home}")
    cached = _cached(home)
    print(f"cached datasets: {', '.join(cached) if cached else 'none'}")
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .datasets import DATASETS, get_data_home
    from .datasets._fetch import dataset_path

    home = get_data_home(args.data_home)
    print("embedded (no download):")
    print(
        "  sample  load_sample(subset='train'|'test'|'all'): 800 real 224x224 "
        "slices of the 4-class set, official split kept, duplicate-free"
    )
    print(f"\nfetchable with fetch_dataset(NAME) or `braintumor fetch NAME` (data home {home}):")
    for name, info in DATASETS.items():
        path = dataset_path(name, home)
        status = f"cached in {path}" if path else "not downloaded"
        print(f"  {name}: {info.title}\n    licence: {info.licence}\n    {status}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from .datasets import fetch_dataset

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = fetch_dataset(args.name, data_home=args.data_home)
    print(data.DESCR)
    return 0


def _cmd_fetch_weights(args: argparse.Namespace) -> int:
    from .nn import fetch_imagenet_weights

    path = fetch_imagenet_weights(args.name, url=args.url, file=args.file)
    print(f"{args.name}: ImageNet weights in {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from sklearn.metrics import classification_report, confusion_matrix
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from .datasets import load_image_folder, load_sample
    from .features import HOGFeatures
    from .preprocessing import Resize

    start = time.perf_counter()
    if args.data is None:
        train, test = load_sample("train"), load_sample("test")
        print(
            f"Embedded sample: {len(train.target)} training and {len(test.target)} test "
            "images (224x224, 4 classes, no duplicates across the split)."
        )
    else:
        from pathlib import Path

        train, test = (
            load_image_folder(Path(args.data) / part) for part in ("Training", "Testing")
        )
        print(f"{args.data}: {len(train.target)} training and {len(test.target)} test images.")
    pipe = make_pipeline(Resize((224, 224)), HOGFeatures(), StandardScaler(), SVC(C=10.0))
    print(f"Pipeline: {pipe}")
    pipe.fit(train.images, train.target)
    predicted = pipe.predict(test.images)
    print("\nClassification report on the sample's test subset:\n")
    print(classification_report(test.target, predicted, target_names=test.target_names, digits=3))
    print(
        f"Confusion matrix (rows: true, columns: predicted, order {', '.join(test.target_names)}):"
    )
    print(confusion_matrix(test.target, predicted))
    print(f"\nDone in {time.perf_counter() - start:.1f} s.")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .experiments import RECIPES

    print("recipes (braintumor reproduce NAME; a paper's letter works too):\n")
    labels = {name: f"{name} ({r.letter})" if r.letter else name for name, r in RECIPES.items()}
    width = max(map(len, labels.values()))  # every title starts in the same column
    for name, recipe in RECIPES.items():
        print(f"  {labels[name]:<{width}} {recipe.title}")
        print(f"  {'':<{width}} {recipe.task}; paper's data: {recipe.data}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .experiments import get_recipe, load_experiment_data, run_recipe, write_report
    from .experiments._data import load_source_data
    from .experiments._report import check_output_folder, results_table

    recipe = get_recipe(args.name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or Path("braintumor-reports") / f"{recipe.name}-{args.profile}-{stamp}")
    check_output_folder(out, overwrite=args.overwrite)  # fail now, not after the run
    data = load_experiment_data(args.data, args.dataset, args.data_home)
    external = [load_source_data(spec) for spec in args.external]
    train_extra = [load_source_data(spec) for spec in args.train_extra]
    print(f"{recipe.name}: {recipe.title}")
    print(
        f"data: {data.description}; profile {args.profile}; {args.seeds} seed(s); report -> {out}"
    )
    for label, group in (("also trained on", train_extra), ("scored on", external)):
        for source in group:
            print(f"{label}: {source.name}, {source.description}, {len(source.target)} images")
    try:
        result = run_recipe(
            recipe, data, profile=args.profile, seeds=args.seeds, device=args.device,
            verbose=0 if args.quiet else 1, log=lambda line: print(line, flush=True),
            external=external, train_extra=train_extra,
        )  # fmt: skip
        write_report(
            result, out, argv=args.argv, overwrite=args.overwrite, save_models=args.save_model
        )
    except KeyboardInterrupt:
        print("\ninterrupted: no report written", file=sys.stderr)
        return 130
    print(f"\n{results_table(result)}\n")
    print(f"done in {result.seconds / 60:.1f} min; report: {out / 'report.md'}")
    return 0


def _load_model(model: str, trusted: bool):
    """Return a shipped model by name, or a model file's (pickle only when trusted)."""
    from pathlib import Path

    from .pretrained import list_pretrained, load_pretrained
    from .utils import load

    if model in list_pretrained() and not Path(model).exists():
        return load_pretrained(model)
    if not Path(model).is_file():
        raise FileNotFoundError(
            f"model {model!r} is neither a pretrained model ({', '.join(list_pretrained())}; "
            "`braintumor models` describes them) nor a model file; save a fitted pipeline with "
            "sklearn_braintumor.utils.save(pipeline, PATH), or run `braintumor reproduce NAME "
            "--save-model` and use REPORT/models/NAME.btm"
        )
    return load(model, trusted=trusted)


def _claim_json(args: argparse.Namespace) -> None:
    """Refuse an unwritable or existing ``--json`` before any work (``--overwrite`` allows it)."""
    from .utils._persistence import check_writable, refuse_existing

    if args.json:
        check_writable(args.json, "--json")
        refuse_existing(args.json, overwrite=args.overwrite)


def _write_json(args: argparse.Namespace, payload: dict, lead: str) -> None:
    """Write ``payload`` to ``--json`` atomically, if given, and say where."""
    import json
    import os
    from pathlib import Path

    from .utils._persistence import atomic_write_text

    if args.json:
        atomic_write_text(Path(args.json), json.dumps(payload, indent=2) + "\n")
        print(f"{lead}{os.fspath(args.json)}")


def _print_predict_summary(summary: dict, out) -> None:
    """Print what ``braintumor predict`` did: counts, decision rule, flags, shift, skips."""
    print(
        f"{summary['n_images']} images ({summary['n_failed']} unreadable) in "
        f"{summary['seconds']:.1f} s, {summary['images_per_second']:.0f} images/s -> {out}"
    )
    if summary["decision"]:
        print(
            f"decision: {summary['decision']}; {summary['n_rule']} images predicted other than "
            "their most probable class (columns most_probable, note)"
        )
    if summary["n_ood"]:
        print(
            f"not brain MRI slices: {summary['n_ood']} (column ood, the reason in note); no "
            "prediction for them"
        )
    if summary["shift_note"]:
        print(f"{summary['shift_note']} (column shift)")
    if summary["n_not_images"]:
        from .datasets import IMAGE_EXTENSIONS

        print(
            f"{summary['n_not_images']} files skipped: not images (suffix not one of "
            f"{' '.join(IMAGE_EXTENSIONS)})"
        )
    if summary["n_skipped"]:
        print(
            f"{summary['n_skipped']} entries skipped: not regular files (FIFOs, devices, broken "
            "links), or links leading outside FOLDER (--follow-links reads those)"
        )


def _cmd_predict(args: argparse.Namespace) -> int:
    import os
    import warnings
    from pathlib import Path

    from PIL import Image

    from .deploy._predict import check_output_file, predict_folder
    from .utils._persistence import refuse_existing

    folder, out = args.folder, Path(args.out)
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"folder {folder!r} does not exist")
    check_output_file(out)
    refuse_existing(out, overwrite=args.overwrite)  # before loading the model
    _claim_json(args)
    estimator = _load_model(args.model or DEFAULT_MODEL, args.trusted)
    bar = None

    def progress(done: int, total: int) -> None:
        # started by the first batch, so input errors come before any bar; none off a terminal
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="img", desc="predicting", disable=None)
        bar.update(done - bar.n)

    try:
        with warnings.catch_warnings():  # an image that big is an error row already
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            summary = predict_folder(
                estimator, folder, out, batch_size=args.batch_size,
                color_mode=args.color_mode, on_error=args.on_error, progress=progress,
                overwrite=args.overwrite, follow_links=args.follow_links,
            )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    _print_predict_summary(summary, out)
    _write_json(args, {"folder": os.fspath(folder), "out": os.fspath(out), **summary},
                "summary -> ")  # fmt: skip
    if summary["n_failed"] == summary["n_images"]:
        print(f"braintumor predict: error: none of the {summary['n_images']} files could be "
              f"read; their errors are in {out}", file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:

    from .datasets import ImageSource
    from .datasets._sources import _parse_mapping
    from .experiments._cross_source import evaluate_collection

    mapping = _parse_mapping(args.map, "--map") if args.map is not None else None
    source = ImageSource(args.folder, mapping)
    _claim_json(args)
    result = evaluate_collection(_load_model(args.model, args.trusted), source)
    print(f"{source.name}: {result['n_images']} images ({args.folder})")
    print(result["text"])
    _write_json(args, {k: v for k, v in result.items() if k != "text"}, "-> ")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from .pretrained import list_pretrained, pretrained_card
    from .pretrained._cards import as_plain_text, render_card

    if args.name:
        print(as_plain_text(render_card(pretrained_card(args.name))), end="")
        return 0
    for name in list_pretrained():
        card = pretrained_card(name)
        official = card["figures"]["official_testing"]["accuracy"]
        other = card["figures"].get("other_source", {}).get("sensitivity")
        default = " (default)" if name == DEFAULT_MODEL else ""
        print(f"{name}{default}: {card['summary']}")
        print(
            f"    official Testing accuracy {100 * official:.1f} %"
            + (
                ""
                if other is None
                else f"; tumours found in another collection {100 * other:.1f} %"
            )
            + f"; {card['n_bytes'] / 1e6:.1f} MB"
        )
    print(
        "\n`braintumor models NAME` prints a model card. Research use only, not a medical device."
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .deploy import export_model
    from .utils._persistence import check_writable, refuse_existing

    suffix = {"onnx": ".onnx", "torchscript": ".pt"}[args.format]
    name = Path(args.model).stem if Path(args.model).suffix else args.model
    out = Path(args.out or f"{name}{suffix}")
    check_writable(out)
    for path in (out, out.with_suffix(".json")):
        refuse_existing(path, overwrite=args.overwrite)
    try:
        network, spec = export_model(_load_model(args.model, args.trusted), out,
                                     format=args.format)  # fmt: skip
    except TypeError as exc:  # not one network (a TwoStageClassifier, a plain scikit-learn model)
        raise ValueError(str(exc)) from exc
    print(f"network -> {network}\npreprocessing, classes and decision rule -> {spec}")
    return 0


_EXAMPLES = """examples:
  braintumor predict scans/                      predict a folder with the shipped default model
  braintumor models 4class-screened              its model card: data, figures, weak spots
  braintumor demo                                a HOG + SVM pipeline on the embedded sample
  braintumor reproduce recommended --data DIR    the recommended recipe on a folder with
                                                 Training/ and Testing/, with its report
  braintumor evaluate model.btm yesno/ --map yes=tumor,no=notumor
                                                 a saved model on another collection
  braintumor export 4class --format onnx         the network for onnxruntime, with its JSON
"""

_TRUSTED_HELP = (
    "also load a pickle (joblib) model file, which can run any code it holds: only for files "
    "you made or trust (the library's own .btm format never needs it)"
)


_DATA_HOME_HELP = (
    "where fetched datasets are cached (default: $SKLEARN_BRAINTUMOR_DATA or "
    "~/sklearn_braintumor_data)"
)


def _args_data_home(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--data-home", default=None, help=_DATA_HOME_HELP)


def _args_none(sub: argparse.ArgumentParser) -> None:
    return None


def _args_fetch(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", help="dataset name, see `braintumor datasets`")
    _args_data_home(sub)


def _args_fetch_weights(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", help="a TransferNet backbone, e.g. vgg16 or mobilenet_v2")
    origin = sub.add_mutually_exclusive_group()
    origin.add_argument("--url", default=None, help="download from this mirror instead")
    origin.add_argument(
        "--file", default=None, help="copy this weights file, downloaded elsewhere (no network)"
    )


def _args_demo(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--data",
        default=None,
        help="a folder with Training/ and Testing/ class folders (default: the embedded sample)",
    )


def _args_reproduce(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", help="recipe name or paper letter, see `braintumor list`")
    source = sub.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        default=None,
        help="dataset folder (with Training/Testing, or with class folders); "
        "default: the embedded sample",
    )
    source.add_argument(
        "--dataset", default=None, help="a dataset fetched with `braintumor fetch NAME`"
    )
    sub.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="DIR[:MAPPING]",
        help="also score every model on scans from another collection, as tumour / no "
        "tumour: a folder of class folders and how they map, e.g. "
        "DIR:yes=tumor,no=notumor (repeatable; copies of training images are left out)",
    )
    sub.add_argument(
        "--train-extra",
        action="append",
        default=[],
        metavar="DIR[:MAPPING]",
        help="also train on another collection (same form as --external; 'tumor' = a tumour "
        "of unknown type); given to --external as well, a third of it is held out and scored",
    )
    sub.add_argument(
        "--profile",
        choices=("quick", "paper", "tiny"),
        default="quick",
        help="quick (default): the paper's networks at smaller image sizes and fewer epochs, "
        "which fit a CPU; paper: the paper's sizes, epochs and backbones (GPU recommended); "
        "tiny: seconds, a check of the set-up, not a result; each report lists its profile's "
        "deviations from the paper",
    )
    sub.add_argument(
        "--seeds",
        type=int,
        default=1,
        metavar="N",
        help="number of training seeds (0..N-1), for mean and spread (default 1)",
    )
    sub.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    sub.add_argument(
        "--out",
        default=None,
        help="report folder (default braintumor-reports/NAME-PROFILE-TIMESTAMP); "
        "an existing one is refused unless --overwrite",
    )
    sub.add_argument(
        "--overwrite", action="store_true", help="replace --out once the new report is complete"
    )
    sub.add_argument("--quiet", action="store_true", help="no per-epoch tables, one line per step")
    sub.add_argument(
        "--save-model",
        action="store_true",
        help="also save each model of the first seed (paper's protocol) into REPORT/models/, "
        "for `braintumor predict`",
    )
    _args_data_home(sub)


def _args_evaluate(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "model",
        help="a pretrained model's name (`braintumor models`) or a fitted pipeline saved with "
        "sklearn_braintumor.utils.save",
    )
    sub.add_argument("folder", help="a folder of class folders (e.g. yes/ and no/)")
    sub.add_argument(
        "--map",
        default=None,
        metavar="CLASS=LABEL,...",
        help="how the class folders map to the model's classes or to tumor / notumor, "
        "e.g. yes=tumor,no=notumor (default: folder names as they are)",
    )
    sub.add_argument("--json", default=None, help="also write the figures to this JSON file")
    sub.add_argument("--trusted", action="store_true", help=_TRUSTED_HELP)
    sub.add_argument("--overwrite", action="store_true", help="replace an existing --json")


def _args_models(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("name", nargs="?", help="print this model's full card")


def _args_export(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("model", help="a pretrained model's name or a model file")
    sub.add_argument(
        "--format",
        choices=("onnx", "torchscript"),
        default="onnx",
        help="onnx (needs: pip install onnx onnxscript) or torchscript",
    )
    sub.add_argument("--out", default=None, help="network file (default MODEL.onnx / .pt)")
    sub.add_argument("--overwrite", action="store_true", help="replace existing files")
    sub.add_argument("--trusted", action="store_true", help=_TRUSTED_HELP)


def _args_predict(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("folder", metavar="FOLDER", help="folder of scans (searched recursively)")
    sub.add_argument(
        "--model",
        default=None,
        help=f"a pretrained model's name or a model file saved with sklearn_braintumor.utils.save "
        f"(default {DEFAULT_MODEL}; `braintumor models` lists them)",
    )
    sub.add_argument("--out", default="predictions.csv", help="CSV file (predictions.csv)")
    sub.add_argument(
        "--json", default=None, help="also write the folder's summary to this JSON file"
    )
    sub.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out (and --json)"
    )
    sub.add_argument("--batch-size", type=int, default=256, help="images per batch (256)")
    sub.add_argument(
        "--color-mode",
        choices=("grayscale", "rgb", "unchanged"),
        default="grayscale",
        help="how files are decoded, as for training (grayscale)",
    )
    sub.add_argument(
        "--on-error",
        choices=("skip", "raise"),
        default="skip",
        help="skip: unreadable files get a row with the error; raise: stop at the first",
    )
    sub.add_argument(
        "--follow-links",
        action="store_true",
        help="also read symbolic links that lead outside FOLDER (not followed by default)",
    )
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_argument("--trusted", action="store_true", help=_TRUSTED_HELP)


# name, handler, help (also the description), arguments: the subcommands in `--help` order
_COMMANDS = (
    ("info", _cmd_info, "versions, compute device, data home and cached datasets",
     _args_data_home),
    ("datasets", _cmd_datasets, "datasets that can be loaded or fetched", _args_data_home),
    ("fetch", _cmd_fetch, "download a public dataset into the data home", _args_fetch),
    ("fetch-weights", _cmd_fetch_weights,
     "put a torchvision backbone's ImageNet weights into torchvision's cache (downloaded "
     "once, or copied from a file), for weights='imagenet' and the recipes' ImageNet rows",
     _args_fetch_weights),
    ("demo", _cmd_demo,
     "fit a HOG + SVM pipeline on the embedded sample's training subset (or a folder's "
     "Training/) and report on its test subset (or Testing/)", _args_demo),
    ("list", _cmd_list, "the reproducible experiments (recipes)", _args_none),
    ("reproduce", _cmd_reproduce,
     "run a paper's experiment and write its report beside the paper's numbers",
     _args_reproduce),
    ("evaluate", _cmd_evaluate,
     "score a saved model on a folder of labelled scans from any collection: tumour "
     "sensitivity, specificity, ROC AUC, shift, images that are not MRI slices and the "
     "confusion matrix", _args_evaluate),
    ("models", _cmd_models,
     "the pretrained models shipped with the package, with their model cards", _args_models),
    ("export", _cmd_export,
     "write a model's network to ONNX or TorchScript, with a JSON of the preprocessing it "
     "expects (brain crop, resize, intensity scaling) and its decision rule", _args_export),
    ("predict", _cmd_predict,
     "write the predicted class, class probabilities, whether it is an MRI slice at all (ood) "
     "and how unlike the training scans (shift) of every image in a folder to a CSV file (the "
     "default pretrained model unless --model)",
     _args_predict),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``braintumor`` command."""
    parser = argparse.ArgumentParser(
        prog="braintumor",
        description="Brain MRI tumour classification with scikit-learn estimators.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, handler, help_text, arguments in _COMMANDS:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``braintumor`` command; return its exit status."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return args.handler(args)
    except (OSError, ValueError, ImportError) as exc:  # ImportError: an extra not installed
        print(f"braintumor {args.command}: error: {exc}", file=sys.stderr)
        return 1
