"""The safe model format against crafted files: what the loader builds, reads and refuses.

Each crafted file is built here from a real saved model, edited as an attacker
would: a foreign type named through a module that imports it, a class in the
package's ``__main__``, a zip bomb, a missing array, duplicate members, wrong
weight shapes. Every refusal is one ``ModelFileError`` naming the file.
"""

import io
import json
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_braintumor._cli import main
from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.exceptions import ModelFileError
from sklearn_braintumor.preprocessing import ImageFlattener, Resize
from sklearn_braintumor.utils import _safe, _safe_types, load, register_safe_type, save


@pytest.fixture(scope="module")
def linear(tmp_path_factory):
    X, y = make_synthetic_mri(20, image_size=16, random_state=0)
    pipe = make_pipeline(Resize((8, 8)), ImageFlattener(), StandardScaler(), LogisticRegression())
    path = save(pipe.fit(X, y), tmp_path_factory.mktemp("m") / "linear.btm")
    return path, pipe, X


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    X, y = make_synthetic_mri(16, image_size=16, random_state=0)
    model = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(X, y)
    return save(model, tmp_path_factory.mktemp("m") / "cnn.btm"), model, X


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _write(path, members, header=None):
    """Write a zip with ``members`` (a list of (name, bytes)), ``model.json`` from ``header``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if header is not None:
            archive.writestr("model.json", json.dumps(header))
        for name, data in members:
            archive.writestr(name, data)
    return path


def _arrays(members):
    return [(k, v) for k, v in members.items() if k != "model.json"]


def _header(path):
    return json.loads(_members(path)["model.json"])


def _refused(path, match, **kwargs):
    with pytest.raises(ModelFileError, match=match) as info:
        load(path, **kwargs)
    assert info.value.path == str(path) and str(path) in str(info.value)
    return info.value


# -- what the loader builds ------------------------------------------------------------------


FOREIGN = [
    ("sklearn.datasets._covtype.GzipFile", {"filename": "TARGET", "mode": "wb"}),
    ("sklearn.datasets.GzipFile", {"filename": "TARGET", "mode": "wb"}),
    ("sklearn.externals.array_api_compat.numpy.memmap",
     {"filename": "TARGET", "mode": "w+", "shape": {"__tuple__": [8]}}),
    ("sklearn.callback._transport.Listener", {"address": ["127.0.0.1", 0]}),
    ("threading.Thread", {}),
    ("os.system", {}),
    ("sklearn_braintumor.utils._persistence.Path", {}),
    ("torch.nn.modules.loss.os.PathLike", {}),
]  # fmt: skip


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("name, params", FOREIGN, ids=[n for n, _ in FOREIGN])
def test_a_foreign_type_named_through_an_importing_module_is_not_built(
    linear, tmp_path, name, params, version
):
    target = tmp_path / "precious.txt"
    target.write_text("the user's data")
    params = {k: str(target) if v == "TARGET" else v for k, v in params.items()}
    header = {"format": _safe.FORMAT, "version": version,
              "model": {"__estimator__": name, "params": params, "state": {}}}  # fmt: skip
    crafted = _write(tmp_path / "crafted.btm", [], header)
    _refused(crafted, r"names the type .* which the safe format does not load")
    assert target.read_text() == "the user's data"  # not truncated
    # the same name as a class parameter, deep inside a valid model
    header = _header(linear[0])
    header["version"] = version
    header["model"]["params"]["memory"] = {"__class__": name}
    crafted = _write(tmp_path / "nested.btm", _arrays(_members(linear[0])), header)
    _refused(crafted, r"names the type")
    assert target.read_text() == "the user's data"


def test_a_class_in_the_packages_main_neither_imports_it_nor_exits(tmp_path):
    # importing sklearn_braintumor.__main__ once ran the CLI: SystemExit in the host program
    code = f"""
import json, sys, zipfile
from sklearn_braintumor.utils import load
for version in (1, 2):
    with zipfile.ZipFile({str(tmp_path / "main.btm")!r}, "w") as archive:
        archive.writestr("model.json", json.dumps({{"format": "sklearn-braintumor-model",
            "version": version, "model": {{"__estimator__": "sklearn_braintumor.__main__.main",
            "params": {{}}, "state": {{}}}}}}))
    try:
        load({str(tmp_path / "main.btm")!r})
    except ValueError as error:
        print("refused:", "does not load" in str(error))
print("imported:", "sklearn_braintumor.__main__" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["refused:", "True", "refused:", "True", "imported:", "False"]


def test_the_same_model_saves_to_the_same_bytes_whenever_it_is_saved(cnn, tmp_path, monkeypatch):
    import time

    _, model, X = cnn
    first = save(model, tmp_path / "a.btm").read_bytes()
    later = time.time() + 3 * 24 * 3600  # zip entries carry a date, 2 s to the step
    monkeypatch.setattr(time, "time", lambda: later)
    again = save(model, tmp_path / "b.btm").read_bytes()
    assert first == again
    with zipfile.ZipFile(tmp_path / "b.btm") as archive:
        infos = archive.infolist()
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in infos)
    np.testing.assert_array_equal(load(tmp_path / "b.btm").predict_proba(X), model.predict_proba(X))


def test_registered_names_are_stable_and_compared_by_identity(linear, cnn):
    header = json.dumps(_header(cnn[0]))
    for name in ("sklearn_braintumor.classifiers.CNNClassifier", "sklearn_braintumor.nn.GBMNet",
                 "torch.nn.CrossEntropyLoss", "torch.optim.Adam"):  # fmt: skip
        assert f'"{name}"' in header
    assert "._cnn." not in header and "modules.loss" not in header
    assert '"sklearn.linear_model.LogisticRegression"' in json.dumps(_header(linear[0]))
    # two public classes of one name in two namespaces stay apart
    from sklearn_braintumor import nn as bt_nn
    from sklearn_braintumor import sampling

    assert _safe_types.resolve("sklearn_braintumor.nn.GaussianNoise") is bt_nn.GaussianNoise
    assert _safe_types.resolve("sklearn_braintumor.sampling.GaussianNoise") is (
        sampling.GaussianNoise
    )


def test_a_file_of_format_version_1_still_loads(cnn, tmp_path):
    # version 1 named each class by its defining module (classifiers._cnn.CNNClassifier)
    path, model, X = cnn
    text = json.dumps(_header(path))
    for stable in set(re.findall(r'"__(?:estimator|class)__": "([^"]+)"', text)):
        where = _safe_types.qualified_name(_safe_types.resolve(stable))
        text = text.replace(f'"{stable}"', f'"{where}"')
    header = json.loads(text)
    header["version"] = 1
    assert "sklearn_braintumor.classifiers._cnn.CNNClassifier" in text
    old = _write(tmp_path / "v1.btm", _arrays(_members(path)), header)
    np.testing.assert_array_equal(load(old).predict_proba(X), model.predict_proba(X))
    header["version"] = 3
    _refused(_write(tmp_path / "v3.btm", _arrays(_members(path)), header),
             r"format version 3.*update sklearn-braintumor")  # fmt: skip


class Halver(ClassifierMixin, BaseEstimator):
    """A user's own estimator."""

    def __init__(self, scale=0.5):
        self.scale = scale

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return self.classes_[(np.asarray(X).reshape(len(X), -1).mean(axis=1) > 100).astype(int)]


class TinyNet(nn.Module):
    """A user's own network."""

    def __init__(self, n_classes=2, input_size=(16, 16), in_channels=1, hidden=4):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(in_channels * 16 * 16, n_classes))

    def forward(self, x):
        return self.layers(x)


def test_a_users_own_types_are_registered_explicitly(tmp_path, monkeypatch):
    monkeypatch.setattr(_safe_types, "_user_types", {})
    X, y = make_synthetic_mri(16, image_size=16, random_state=0)
    y = y % 2
    model = Halver().fit(X, y)
    with pytest.raises(ValueError, match="register_safe_type"):
        save(model, tmp_path / "h.btm")
    assert not (tmp_path / "h.btm").exists()
    path = save(model, tmp_path / "h.btm", trusted_types=[Halver])
    _refused(path, r"names the type .*Halver.*trusted_types")
    assert (load(path, trusted_types=[Halver]).predict(X) == model.predict(X)).all()
    register_safe_type(Halver)
    assert isinstance(load(path), Halver)
    # a network class given as module=: registered under a name of the user's choosing
    register_safe_type(TinyNet, name="mylab.TinyNet")
    net = CNNClassifier(TinyNet, max_epochs=1, random_state=0).fit(X, y)
    again = load(save(net, tmp_path / "net.btm"))
    assert again.module is TinyNet
    assert '"mylab.TinyNet"' in json.dumps(_header(tmp_path / "net.btm"))
    np.testing.assert_allclose(again.predict_proba(X), net.predict_proba(X), atol=1e-6)
    with pytest.raises(ValueError, match="already registered"):
        register_safe_type(Halver, name="mylab.TinyNet")
    with pytest.raises(TypeError, match="takes a class"):
        register_safe_type(Halver())


def test_fitted_state_cannot_replace_methods_or_parameters(linear, tmp_path):
    path = linear[0]
    for key in ("_validate_params", "predict_proba", "steps", "__class__", "named_steps"):
        header = _header(path)
        header["model"]["state"] = {key: None}
        crafted = _write(tmp_path / "state.btm", _arrays(_members(path)), header)
        _refused(crafted, rf"sets (the attribute )?'{key}'")


# -- limits before reading -------------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_it_is_inflated(linear, tmp_path):
    bomb = tmp_path / "bomb.btm"
    members = _members(linear[0])
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.json", members["model.json"])
        with archive.open("arrays/0.npy", "w", force_zip64=True) as stream:
            zeros = bytes(2**20)
            for _ in range(96):  # 96 MiB of zeros in about 100 KB
                stream.write(zeros)
    assert bomb.stat().st_size < 2**20
    _refused(bomb, r"arrays/0\.npy.*expands \d+-fold")
    # without the ratio rule, the budget for a file of this size refuses it too
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(_safe, "MAX_RATIO", 10**6)
    try:
        _refused(bomb, r"expands to more than 6\d\.\d MiB, the most read from a file of")
    finally:
        monkeypatch.undo()


def test_a_declared_array_larger_than_its_member_is_refused(linear, tmp_path):
    members = _members(linear[0])
    fake = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        fake,
        {"descr": "<f8", "fortran_order": False, "shape": (2**40,)},  # 8 TiB declared
    )
    members["arrays/0.npy"] = fake.getvalue() + bytes(64)
    _refused(_write(tmp_path / "huge.btm", members.items()), r"declares an array of shape \(1099")


def test_missing_duplicate_and_unexpected_members(linear, tmp_path):
    members = _members(linear[0])
    no_array = {k: v for k, v in members.items() if k != "arrays/0.npy"}
    _refused(_write(tmp_path / "a.btm", no_array.items()), r"refers to arrays/0\.npy, which")
    twice = [*members.items(), ("model.json", b'{"format": "x"}')]
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile warns, then writes it
        _write(tmp_path / "b.btm", twice)
    _refused(tmp_path / "b.btm", r"'model\.json' more than once")
    _refused(_write(tmp_path / "c.btm", [("arrays/0.npy", b"")]), "has no model.json")
    extra = [*members.items(), ("notes/run.sh", b"rm -rf ~")]
    _refused(_write(tmp_path / "d.btm", extra), r"unexpected member 'notes/run\.sh'")
    _refused(_write(tmp_path / "e.btm", [("model.json", b"[1, 2]")]), "not a sklearn-braintumor")
    _refused(_write(tmp_path / "f.btm", [("model.json", b"{not json")]), "not a complete")


def test_wrong_weight_shapes_and_objects_are_one_error(cnn, tmp_path):
    path = cnn[0]
    members = _members(path)
    header = _header(path)
    weights = header["model"]["state"]["weights_"]["__dict__"]
    first = next(iter(weights.values()))["__tensor__"]["__array__"]
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((3, 3), np.float32))
    members[f"arrays/{first}.npy"] = buffer.getvalue()
    members["model.json"] = json.dumps(header).encode()
    error = _refused(_write(tmp_path / "shape.btm", members.items()), "could not be rebuilt")
    assert "save the model again" in str(error)
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    members[f"arrays/{first}.npy"] = buffer.getvalue()
    _refused(_write(tmp_path / "objects.btm", members.items()), "holds Python objects")


def test_the_cli_reports_a_crafted_file_in_one_line(linear, tmp_path, capsys):
    crafted = _write(
        tmp_path / "crafted.btm",
        [],
        {
            "format": _safe.FORMAT,
            "version": 2,
            "model": {"__estimator__": "threading.Thread", "params": {}, "state": {}},
        },
    )
    scans = tmp_path / "scans"
    scans.mkdir()
    assert main(["predict", str(scans), "--model", str(crafted), "--quiet",
                 "--out", str(tmp_path / "p.csv")]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(crafted) in err and "Traceback" not in err


def test_loading_never_fetches_pretrained_weights(tmp_path, monkeypatch):
    # a file naming TransferNet(weights="imagenet", download=True) must not reach the network
    pytest.importorskip("torchvision")
    from sklearn_braintumor.nn import TransferNet, _transfer

    calls = []
    monkeypatch.setattr(_transfer, "fetch_imagenet_weights", lambda *a, **k: calls.append(a))
    X, y = make_synthetic_mri(16, image_size=32, random_state=0)
    model = CNNClassifier(TransferNet, max_epochs=1, random_state=0, batch_size=8, train_split=None,
                          module__backbone="mobilenet_v2", module__weights=None)  # fmt: skip
    model.fit(X, y % 2)
    path = save(model, tmp_path / "transfer.btm")
    header = _header(path)
    header["model"]["params"]["module__weights"] = "imagenet"
    header["model"]["params"]["module__download"] = True
    crafted = _write(tmp_path / "fetching.btm", _arrays(_members(path)), header)
    loaded = load(crafted)
    assert calls == []
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=1e-6)
    assert loaded.get_params()["module__weights"] == "imagenet"  # kept for a later fit


def test_the_registry_holds_only_the_packages_own_types():
    # a class re-exported by some module of scikit-learn (gzip.GzipFile, numpy.memmap) is not one
    from sklearn_braintumor.utils import safe_types

    types = safe_types()
    roots = {cls.__module__.split(".")[0] for cls in types.values()}
    assert roots <= {"sklearn", "imblearn", "sklearn_braintumor", "torch"}
    for name, cls in types.items():
        assert name.split(".")[0] == cls.__module__.split(".")[0], name
        assert _safe_types.resolve(name) is cls
    assert "sklearn.pipeline.Pipeline" in types and "torch.optim.Adam" in types
