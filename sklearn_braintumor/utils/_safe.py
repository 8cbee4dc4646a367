"""The safe model format: estimators as JSON, arrays as ``.npy``, no code run on load.

A file is a zip archive holding ``model.json`` (the format's name and version,
and the estimator tree: class names, parameters, fitted attributes) and one
``arrays/<n>.npy`` per numeric array (network weights included), read with
``allow_pickle=False``. Loading imports only classes from an allow-list and
builds them from plain values; nothing in the file is executed.
"""

from __future__ import annotations

import importlib
import io
import json
import numbers
import re
import zipfile

import numpy as np

FORMAT = "sklearn-braintumor-model"
VERSION = 1

# packages whose classes a model file may name (estimators, networks, losses, optimizers)
ALLOWED_PREFIXES = (
    "sklearn_braintumor.",
    "sklearn.",
    "imblearn.",
)
ALLOWED_TORCH = {
    "torch.nn.modules.loss.CrossEntropyLoss",
    "torch.nn.modules.loss.NLLLoss",
    "torch.optim.adam.Adam",
    "torch.optim.adamw.AdamW",
    "torch.optim.sgd.SGD",
    "torch.optim.rmsprop.RMSprop",
}


# parameter and attribute names: public, or private with one underscore (SVC's _sparse); no dunders
_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")


class UnsafeModelError(ValueError):
    """A model cannot be written to, or read from, the safe format."""


def _qualname(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _allowed(name: str) -> bool:
    return name in ALLOWED_TORCH or name.startswith(ALLOWED_PREFIXES)


def _resolve(name: str):
    if not _allowed(name):
        raise UnsafeModelError(f"names the class {name!r}, which the safe format does not load")
    module, _, attr = name.rpartition(".")
    try:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise UnsafeModelError(
            f"names the class {name!r}, which cannot be imported: {exc}"
        ) from exc
    if not isinstance(obj, type):
        raise UnsafeModelError(f"names {name!r}, which is not a class")
    return obj


class _Writer:
    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []

    def array(self, value: np.ndarray) -> dict:
        if value.dtype == object:
            return {"__objects__": [self.encode(v) for v in value.tolist()],
                    "shape": list(value.shape)}  # fmt: skip
        if value.dtype.kind not in "biufcUS":
            raise UnsafeModelError(f"cannot store an array of dtype {value.dtype}")
        self.arrays.append(np.ascontiguousarray(value))
        return {"__array__": len(self.arrays) - 1}

    def encode(self, value, where: str = "model"):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, numbers.Integral) and not isinstance(value, np.generic):
            return int(value)
        if isinstance(value, float):
            return value
        if isinstance(value, np.generic):
            return {"__scalar__": value.dtype.str, "value": value.item()}
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, where) for v in value]}
        if isinstance(value, list):
            return [self.encode(v, where) for v in value]
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {"__dict__": {k: self.encode(v, f"{where}.{k}") for k, v in value.items()}}
            return {"__items__": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if isinstance(value, type):
            name = _qualname(value)
            if not _allowed(name):
                raise UnsafeModelError(f"{where} is the class {name}, outside the safe format")
            return {"__class__": name}
        import torch

        if isinstance(value, torch.Tensor):
            return {"__tensor__": self.array(value.detach().cpu().numpy())}
        if hasattr(value, "get_params"):
            return self.estimator(value, where)
        raise UnsafeModelError(
            f"{where} holds a {type(value).__name__}, which the safe format cannot store; "
            "save with format='joblib' (a pickle, loaded only with trusted=True)"
        )

    def estimator(self, estimator, where: str) -> dict:
        name = _qualname(type(estimator))
        if not _allowed(name):
            raise UnsafeModelError(f"{where} is a {name}, outside the safe format")
        hook = getattr(estimator, "_safe_state", None)
        if hook is not None:  # estimators whose fitted state is not plain (CNNClassifier)
            params, state = hook()
        else:
            params = estimator.get_params(deep=False)
            # fitted attributes, public (coef_) and private (SVC's _sparse, _probA): what
            # predict needs, as pickle would keep it
            state = {k: v for k, v in vars(estimator).items()
                     if (k.endswith("_") or k.startswith("_")) and not k.startswith("__")
                     and k not in params}  # fmt: skip
        return {
            "__estimator__": name,
            "params": {k: self.encode(v, f"{where}.{k}") for k, v in params.items()},
            "state": {k: self.encode(v, f"{where}.{k}_") for k, v in state.items()},
        }


class _Reader:
    def __init__(self, arrays: dict) -> None:
        self.arrays = arrays

    def decode(self, node):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or len(node) == 0:
            raise UnsafeModelError(f"unexpected entry {node!r}")
        if "__array__" in node:
            return self.arrays[int(node["__array__"])]
        if "__objects__" in node:
            out = np.empty(len(node["__objects__"]), dtype=object)
            out[:] = [self.decode(v) for v in node["__objects__"]]
            return out.reshape(node["shape"])
        if "__scalar__" in node:
            return np.dtype(node["__scalar__"]).type(node["value"])
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: self.decode(v) for k, v in node["__dict__"].items()}
        if "__items__" in node:
            return {self.decode(k): self.decode(v) for k, v in node["__items__"]}
        if "__class__" in node:
            return _resolve(node["__class__"])
        if "__tensor__" in node:
            import torch

            return torch.from_numpy(np.array(self.decode(node["__tensor__"])))
        if "__estimator__" in node:
            cls = _resolve(node["__estimator__"])
            bad = [k for k in [*node["params"], *node["state"]] if not _NAME.match(k)]
            if bad:
                raise UnsafeModelError(f"sets attributes {bad} of {node['__estimator__']}")
            params = {k: self.decode(v) for k, v in node["params"].items()}
            state = {k: self.decode(v) for k, v in node["state"].items()}
            hook = getattr(cls, "_from_safe_state", None)
            if hook is not None:
                return hook(params, state)
            estimator = cls(**params)
            for key, value in state.items():
                setattr(estimator, key, value)
            return estimator
        raise UnsafeModelError(f"unexpected entry with keys {sorted(node)}")


def dumps(estimator) -> bytes:
    """Return the bytes of a safe model file for a (fitted) estimator."""
    writer = _Writer()
    tree = writer.estimator(estimator, "model")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        header = {"format": FORMAT, "version": VERSION, "model": tree}
        archive.writestr("model.json", json.dumps(header))
        for index, array in enumerate(writer.arrays):
            stream = io.BytesIO()
            np.save(stream, array, allow_pickle=False)
            archive.writestr(f"arrays/{index}.npy", stream.getvalue())
    return buffer.getvalue()


def is_safe_file(head: bytes) -> bool:
    """Whether a file's first bytes start a zip archive (the safe format's container)."""
    return head.startswith(b"PK\x03\x04")


def loads(data: bytes):
    """Rebuild an estimator from the bytes of a safe model file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        header = json.loads(archive.read("model.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, EOFError) as exc:
        raise UnsafeModelError(f"is not a complete sklearn-braintumor model file ({exc})") from exc
    if header.get("format") != FORMAT:
        raise UnsafeModelError("is a zip archive, but not a sklearn-braintumor model file")
    if header.get("version") != VERSION:
        raise UnsafeModelError(
            f"has format version {header.get('version')!r}; this library reads version {VERSION}"
        )
    arrays = {}
    for name in archive.namelist():
        if name.startswith("arrays/") and name.endswith(".npy"):
            index = int(name[len("arrays/") : -len(".npy")])
            arrays[index] = np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
    return _Reader(arrays).decode(header["model"])
