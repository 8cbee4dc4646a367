"""Exporting a fitted model's network to ONNX or TorchScript, with its preprocessing in JSON."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions, validate_params
from torch import nn

from ..utils._images import PIXEL_PEAKS
from ..utils._persistence import atomic_write_text, replacing

FORMATS = ("onnx", "torchscript")
# torch's ONNX exporter looks up torchvision's operators and logs a line for each one it
# cannot find; these networks use none of them
_ONNX_REGISTRY_LOG = "torch.onnx._internal.exporter._registration"


class _NoTorchvisionNotes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("torchvision is not installed")


@contextlib.contextmanager
def _without_torchvision_notes():
    """Drop the exporter's "torchvision is not installed" lines, and nothing else."""
    logger, quiet = logging.getLogger(_ONNX_REGISTRY_LOG), _NoTorchvisionNotes()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


class ExportedNetwork(nn.Module):
    """A trained network as exported: pixel scaling, the network, softmax.

    Parameters
    ----------
    module : torch.nn.Module
        The trained network (logits out).
    scale : float
        What :class:`~sklearn_braintumor.classifiers.CNNClassifier` multiplies
        its input by (1/255 for a model trained on uint8 images, 1 for floats).
    """

    def __init__(self, module: nn.Module, scale: float) -> None:
        super().__init__()
        self.module = module
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class probabilities of a batch ``(N, C, H, W)`` of preprocessed images."""
        return torch.softmax(self.module(x * self.scale), dim=1)


def _json_value(value):
    """Return a parameter as JSON types: tuples as lists, numpy scalars as numbers, else repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _json_value(v) for k, v in value.items()}
    return repr(value)


def _parts(model) -> dict:
    """Split a fitted model into decision rule, TTA, preprocessing steps and classifier."""
    from sklearn.pipeline import Pipeline

    from ..classifiers import CNNClassifier, TTAClassifier, TumorFirstClassifier
    from ..utils._traversal import nesting

    parts: dict = {"decision": None, "tta": None, "steps": []}
    *wrappers, step = nesting(model)
    for wrapper in wrappers:
        if isinstance(wrapper, TumorFirstClassifier):
            parts["decision"] = {
                "rule": "tumour first: predict negative_class when its probability is at least "
                "threshold, else the most probable other class",
                "negative_class": str(wrapper.negative_class),
                "threshold": float(wrapper.threshold_),
            }
        elif isinstance(wrapper, TTAClassifier):
            if not all(isinstance(t, str) for t in wrapper.transforms):
                raise ValueError("cannot describe a TTAClassifier with callable transforms in JSON")
            parts["tta"] = list(wrapper.transforms)
        elif isinstance(wrapper, Pipeline):
            for name, est in wrapper.steps[:-1]:
                params = est.get_params(deep=False)
                parts["steps"].append({
                    "name": name, "estimator": repr(est),
                    "class": f"{type(est).__module__}.{type(est).__name__}",
                    "params": {k: _json_value(v) for k, v in params.items()},
                })  # fmt: skip
        else:
            step = wrapper  # an unknown wrapper: refused below
            break
    if hasattr(step, "screen_"):
        raise TypeError(
            f"cannot export a {type(step).__name__} as one network: it holds two; export its "
            "stages (screen_ and estimator_; for the shipped 4class-screened model, the binary "
            "and 4class models) one by one"
        )
    if not isinstance(step, CNNClassifier):
        raise TypeError(
            f"cannot export a {type(step).__name__}: export takes a fitted CNNClassifier, a "
            "pipeline ending in one, or TTAClassifier / TumorFirstClassifier around them"
        )
    parts["classifier"] = step
    return parts


@validate_params({"format": [StrOptions(set(FORMATS))]}, prefer_skip_nested_validation=True)
def export_model(model, path: str | os.PathLike, *, format: str = "onnx") -> tuple[Path, Path]:
    """Write a fitted model's network to ONNX or TorchScript, and its preprocessing to JSON.

    The exported graph takes a float32 batch ``(N, C, H, W)`` of images as
    the model's :class:`~sklearn_braintumor.classifiers.CNNClassifier`
    receives them, i.e. after the pipeline's transformers (brain crop,
    resize, intensity scaling: steps the graph cannot carry, listed with their
    parameters in the JSON), and returns class probabilities. It carries the
    pixel scaling the classifier applies (/255 for a model trained on uint8
    images), the network and the softmax. The JSON (``path`` with suffix
    ``.json``) also gives the classes, the input shape, the test-time
    augmentation to apply (average the probabilities of each listed variant
    of the raw image, each preprocessed) and the decision rule
    (:class:`~sklearn_braintumor.classifiers.TumorFirstClassifier`'s
    threshold). Both files are written under temporary names and renamed
    into place.

    Parameters
    ----------
    model : fitted estimator
        A CNNClassifier, a pipeline ending in one, or the library's wrappers
        around them (a pretrained model).
    path : path
        The network file (``.onnx`` or ``.pt``).
    format : {"onnx", "torchscript"}, default="onnx"
        ONNX needs ``pip install onnx onnxscript`` (``onnxruntime`` to run it).

    Returns
    -------
    network_file, json_file : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_braintumor.pretrained import load_pretrained
    >>> from sklearn_braintumor.deploy import export_model
    >>> folder = Path(tempfile.mkdtemp())
    >>> model = load_pretrained("4class")
    >>> network, spec = export_model(model, folder / "4class.pt", format="torchscript")
    >>> spec.name
    '4class.json'
    """
    parts = _parts(model)
    clf = parts["classifier"]
    if not hasattr(clf, "net_"):
        raise ValueError("the model is not fitted")
    scale = 1 / PIXEL_PEAKS.get(getattr(clf, "input_dtype_", ""), 1.0)
    network = ExportedNetwork(copy.deepcopy(clf.module_).float().cpu().eval(), scale).eval()
    channels, height, width = (int(v) for v in clf.input_shape_)
    example = torch.zeros(2, channels, height, width)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path, f".{format}.partial") as tmp:
        if format == "torchscript":
            with warnings.catch_warnings():  # deprecated in favour of torch.export, still loads
                warnings.simplefilter("ignore", FutureWarning)
                buffer = io.BytesIO()  # torch's own file writer aborts the process on a full disk
                torch.jit.save(torch.jit.script(network), buffer)
            tmp.write_bytes(buffer.getvalue())  # Python's: a full disk is an OSError
        else:
            missing = [m for m in ("onnx", "onnxscript") if importlib.util.find_spec(m) is None]
            if missing:
                raise ImportError(
                    f"ONNX export needs {' and '.join(missing)}, in the export extra: "
                    'pip install "sklearn-braintumor[export]" (onnxruntime, also in it, runs '
                    "the file)"
                )
            batch = torch.export.Dim("batch", min=1)
            with _without_torchvision_notes():
                program = torch.onnx.export(
                    network, (example,), input_names=["image"], output_names=["proba"],
                    dynamic_shapes=({0: batch},), dynamo=True, verbose=False,
                )  # fmt: skip
            program.save(str(tmp))
    spec = {
        "format": format,
        "input": {
            "name": "image",
            "shape": ["batch", channels, height, width],
            "dtype": "float32",
            "layout": "NCHW",
            "values": f"the preprocessing steps' output as {clf.input_dtype_} values; the graph "
            f"multiplies by {scale:.10g}",
        },
        "output": {"name": "proba", "shape": ["batch", len(clf.classes_)], "columns": "classes"},
        "classes": [str(c) for c in clf.classes_],
        "preprocessing": parts["steps"],
        "preprocessing_note": "not in the graph: run these steps (sklearn-braintumor's "
        "transformers with these parameters) on the raw grayscale images first",
        "test_time_augmentation": parts["tta"],
        "decision": parts["decision"],
        "shift_guard": "not exported (shift_score in Python)",
        "mri_check": "not exported (sklearn_braintumor.inspection.not_mri, on the images as "
        "read, before the preprocessing above)",
    }
    spec_path = path.with_suffix(".json")
    atomic_write_text(spec_path, json.dumps(spec, indent=2) + "\n")
    return path, spec_path
