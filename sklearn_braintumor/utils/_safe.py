"""The safe model format: estimators as JSON, arrays as ``.npy``, no code run on load.

A file is a zip archive holding ``model.json`` (the format's name and version,
and the estimator tree: stable class names, parameters, fitted attributes)
and one ``arrays/<n>.npy`` per numeric array (network weights included),
read with ``allow_pickle=False``. Loading builds only the types of the
registry in :mod:`._safe_types` (never importing a module a file names),
checks every member's size before reading it, and turns anything wrong
into one :class:`~sklearn_braintumor.exceptions.ModelFileError`.
"""

from __future__ import annotations

import collections
import inspect
import io
import json
import math
import numbers
import re
import zipfile

import numpy as np

from ..exceptions import ModelFileError
from ._safe_types import (
    UnsafeModelError,
    qualified_name,
    resolve,
    stable_name,
    trusted_table,
)

FORMAT = "sklearn-braintumor-model"
#: written by this version; version 1 (classes named by their defining module) still loads
VERSION = 2
READABLE_VERSIONS = (1, 2)

#: all members together may expand to this many bytes, plus MAX_EXPANSION x the file's size
MAX_BASE_BYTES = 64 * 2**20
MAX_EXPANSION = 20
#: a member of more than RATIO_FREE_BYTES may be compressed at most this much
MAX_RATIO = 200
RATIO_FREE_BYTES = 2**20
MAX_MEMBERS = 100_000

# parameter and attribute names: public, or private with one underscore (SVC's _sparse); no dunders
_NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*$")
_ARRAY_MEMBER = re.compile(r"^arrays/(0|[1-9][0-9]{0,8})\.npy$")
_SCALAR_KINDS = "biufcUS"

__all__ = ["FORMAT", "VERSION", "UnsafeModelError", "dumps", "is_safe_file", "loads"]


class _Writer:
    def __init__(self, trusted: dict[str, type]) -> None:
        self.arrays: list[np.ndarray] = []
        self.trusted = trusted

    def array(self, value: np.ndarray) -> dict:
        if value.dtype == object:
            return {"__objects__": [self.encode(v) for v in value.tolist()],
                    "shape": list(value.shape)}  # fmt: skip
        if value.dtype.kind not in _SCALAR_KINDS:
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
            return {"__class__": self.name(value, where)}
        import torch

        if isinstance(value, torch.Tensor):
            return {"__tensor__": self.array(value.detach().cpu().numpy())}
        if hasattr(value, "get_params"):
            return self.estimator(value, where)
        raise UnsafeModelError(
            f"{where} holds a {type(value).__name__}, which the safe format cannot store; "
            "save with format='joblib' (a pickle, loaded only with trusted=True)"
        )

    def name(self, cls: type, where: str) -> str:
        try:
            return stable_name(cls, self.trusted)
        except UnsafeModelError as exc:
            raise UnsafeModelError(f"{where}: {exc}") from None

    def estimator(self, estimator, where: str) -> dict:
        name = self.name(type(estimator), where)
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


def _check_state_key(cls: type, key, params: dict) -> None:
    """Refuse a fitted attribute that is a parameter, a dunder, or shadows a method."""
    fitted = isinstance(key, str) and _NAME.match(key) and (key.endswith("_") or key[0] == "_")
    if not fitted or key in params:
        raise UnsafeModelError(f"sets the attribute {key!r} of {qualified_name(cls)}")
    static = inspect.getattr_static(cls, key, None)
    if callable(static) or hasattr(type(static), "__get__"):
        raise UnsafeModelError(
            f"sets {key!r} of {qualified_name(cls)}, which would replace a method or property"
        )


class _Reader:
    def __init__(self, arrays: dict, trusted: dict[str, type], legacy: bool) -> None:
        self.arrays = arrays
        self.trusted = trusted
        self.legacy = legacy

    def cls(self, name) -> type:
        return resolve(name, self.trusted, legacy=self.legacy)

    def decode(self, node):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or len(node) == 0:
            raise UnsafeModelError(f"holds an unexpected entry {str(node)[:80]!r}")
        if "__array__" in node:
            index = node["__array__"]
            if index not in self.arrays:
                raise UnsafeModelError(f"refers to arrays/{index}.npy, which the file lacks")
            return self.arrays[index]
        if "__objects__" in node:
            out = np.empty(len(node["__objects__"]), dtype=object)
            out[:] = [self.decode(v) for v in node["__objects__"]]
            return out.reshape(node["shape"])
        if "__scalar__" in node:
            dtype = np.dtype(node["__scalar__"])
            if dtype.kind not in _SCALAR_KINDS:
                raise UnsafeModelError(f"holds a scalar of dtype {dtype}")
            return dtype.type(node["value"])
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: self.decode(v) for k, v in node["__dict__"].items()}
        if "__items__" in node:
            return {self.decode(k): self.decode(v) for k, v in node["__items__"]}
        if "__class__" in node:
            return self.cls(node["__class__"])
        if "__tensor__" in node:
            import torch

            array = self.decode(node["__tensor__"])
            if not isinstance(array, np.ndarray):
                raise UnsafeModelError("holds a tensor that is not an array")
            return torch.from_numpy(np.array(array))
        if "__estimator__" in node:
            return self.estimator(node)
        raise UnsafeModelError(f"holds an unexpected entry with keys {sorted(node)[:5]}")

    def estimator(self, node: dict):
        cls = self.cls(node["__estimator__"])
        raw_params, raw_state = node.get("params"), node.get("state")
        if not isinstance(raw_params, dict) or not isinstance(raw_state, dict):
            raise UnsafeModelError(f"describes {node['__estimator__']} without params and state")
        bad = [k for k in raw_params if not _NAME.match(k)]
        if bad:
            raise UnsafeModelError(f"sets parameters {bad} of {node['__estimator__']}")
        for key in raw_state:
            _check_state_key(cls, key, raw_params)
        params = {k: self.decode(v) for k, v in raw_params.items()}
        state = {k: self.decode(v) for k, v in raw_state.items()}
        hook = getattr(cls, "_from_safe_state", None)
        if hook is not None:
            return hook(params, state)
        estimator = cls(**params)
        for key, value in state.items():
            setattr(estimator, key, value)
        return estimator


def dumps(estimator, *, trusted_types=None) -> bytes:
    """Return the bytes of a safe model file for a (fitted) estimator.

    ``trusted_types`` lists extra classes to store for this call only, as
    :func:`~sklearn_braintumor.utils.register_safe_type` does for good.
    """
    writer = _Writer(trusted_table(trusted_types))
    tree = writer.estimator(estimator, "model")
    buffer = io.BytesIO()

    def member(name: str) -> zipfile.ZipInfo:
        # a fixed date: the same model gives the same bytes (and checksum) whenever it is saved
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    with zipfile.ZipFile(buffer, "w") as archive:
        header = {"format": FORMAT, "version": VERSION, "model": tree}
        archive.writestr(member("model.json"), json.dumps(header))
        for index, array in enumerate(writer.arrays):
            stream = io.BytesIO()
            np.save(stream, array, allow_pickle=False)
            archive.writestr(member(f"arrays/{index}.npy"), stream.getvalue())
    return buffer.getvalue()


def is_safe_file(head: bytes) -> bool:
    """Whether a file's first bytes start a zip archive (the safe format's container)."""
    return head.startswith(b"PK\x03\x04")


def _sizes(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


def _check_members(archive: zipfile.ZipFile, file_size: int) -> list[zipfile.ZipInfo]:
    """Refuse, before reading anything, members that are duplicated, unknown or too large."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise UnsafeModelError(f"holds {len(infos)} members, more than {MAX_MEMBERS}")
    counts = collections.Counter(info.filename for info in infos)  # linear: 100,000 members
    duplicated = sorted(name for name, count in counts.items() if count > 1)
    if duplicated:
        raise UnsafeModelError(f"holds the member {duplicated[0]!r} more than once")
    if "model.json" not in counts:
        raise UnsafeModelError("has no model.json: it is not a complete model file")
    total, budget = 0, MAX_BASE_BYTES + MAX_EXPANSION * file_size
    for info in infos:
        if info.filename != "model.json" and not _ARRAY_MEMBER.match(info.filename):
            raise UnsafeModelError(f"holds an unexpected member {info.filename!r}")
        if info.flag_bits & 0x1:
            raise UnsafeModelError(f"holds an encrypted member {info.filename!r}")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FREE_BYTES and ratio > MAX_RATIO:
            raise UnsafeModelError(
                f"holds {info.filename!r}, which expands {ratio:.0f}-fold to "
                f"{_sizes(info.file_size)} (at most {MAX_RATIO}-fold is read)"
            )
        total += info.file_size
        if total > budget:
            raise UnsafeModelError(
                f"expands to more than {_sizes(budget)}, the most read from a file of "
                f"{_sizes(file_size)}"
            )
    return infos


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """Read one ``.npy`` member after checking that its header matches its size."""
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)  # fmt: skip
        if read_header is None:
            raise UnsafeModelError(f"{info.filename} has .npy version {version}")
        shape, _, dtype = read_header(stream)
        if dtype.hasobject:
            raise UnsafeModelError(f"{info.filename} holds Python objects")
        declared = math.prod(shape) * dtype.itemsize
        held = info.file_size - stream.tell()
    if declared != held:
        raise UnsafeModelError(
            f"{info.filename} declares an array of shape {shape} ({_sizes(declared)}) but "
            f"holds {_sizes(held)}"
        )
    return np.load(io.BytesIO(archive.read(info)), allow_pickle=False)


def _loads(data: bytes, trusted: dict[str, type]):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError) as exc:
        raise UnsafeModelError(f"is not a complete sklearn-braintumor model file ({exc})") from exc
    infos = _check_members(archive, len(data))
    header = json.loads(archive.read("model.json"))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise UnsafeModelError("is a zip archive, but not a sklearn-braintumor model file")
    version = header.get("version")
    if version not in READABLE_VERSIONS:
        raise UnsafeModelError(
            f"has format version {version!r}; this library reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}: save it again with a library that "
            "reads it, or update sklearn-braintumor"
        )
    arrays = {}
    for info in infos:
        match = _ARRAY_MEMBER.match(info.filename)
        if match:
            arrays[int(match.group(1))] = _read_array(archive, info)
    return _Reader(arrays, trusted, legacy=version == 1).decode(header.get("model"))


def loads(data: bytes, *, source: str = "<bytes>", trusted_types=None):
    """Rebuild an estimator from the bytes of a safe model file.

    Parameters
    ----------
    data : bytes
    source : str
        The file's name, for error messages.
    trusted_types : sequence of classes, optional
        Extra types the file may build, for this call only.

    Raises
    ------
    ModelFileError
        Anything wrong with the file, with ``source`` and what is wrong.
    """
    trusted = trusted_table(trusted_types)
    try:
        return _loads(data, trusted)
    except ModelFileError:
        raise
    except UnsafeModelError as exc:
        raise ModelFileError(source, str(exc)) from None
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, EOFError) as exc:
        raise ModelFileError(
            source, f"is not a complete sklearn-braintumor model file ({exc})"
        ) from None
    except Exception as exc:  # a damaged or crafted file fails in many ways: one error for all
        reason = str(exc).splitlines()[0][:300] if str(exc) else ""
        raise ModelFileError(
            source,
            f"could not be rebuilt ({type(exc).__name__}: {reason}); it is damaged, or "
            "was written by another version: save the model again",
        ) from exc
