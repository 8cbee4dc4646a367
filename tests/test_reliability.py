"""Faults and misuse found by probing the library: each has its behaviour pinned here."""

import os
import pickle
import stat

import numpy as np
import pytest
import torch
from PIL import Image

from sklearn_braintumor._cli import main
from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import load_image_folder, make_synthetic_mri
from sklearn_braintumor.exceptions import ChecksumError, DownloadError, ImageReadError
from sklearn_braintumor.utils import save


@pytest.mark.parametrize(
    "error",
    [ImageReadError("scans/a.png", "not an image"), DownloadError("x"), ChecksumError("y")],
    ids=lambda e: type(e).__name__,
)
def test_every_library_exception_survives_pickling(error):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    if isinstance(error, ImageReadError):
        assert (again.path, again.reason) == (error.path, error.reason)


def _tiny_model(path):
    """A one-epoch CNN on 24 px phantoms, saved in the safe format; returns (path, X)."""
    X, y = make_synthetic_mri(24, image_size=24, random_state=0)
    return save(CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(X, y), path), X


def _folder(root, n_bad=1):
    X, _ = make_synthetic_mri(6, image_size=24, random_state=0)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(X[i]).save(root / name / f"{i}.png")
    for i in range(n_bad):
        (root / "a" / f"broken{i}.png").write_bytes(b"not a png")
    return root


def test_parallel_loading_reports_the_unreadable_file(tmp_path):
    root = _folder(tmp_path / "data")
    with pytest.raises(ImageReadError, match=r"broken0\.png"):  # not BrokenProcessPool
        load_image_folder(root, n_jobs=2, chunk_size=2)
    with pytest.warns(UserWarning, match="broken0.png"):
        data = load_image_folder(root, n_jobs=2, chunk_size=2, on_error="warn")
    assert len(data.target) == 6


def test_fit_leaves_the_global_torch_random_stream_alone():
    X, y = make_synthetic_mri(24, image_size=24, random_state=0)
    torch.manual_seed(5)
    expected = torch.rand(4)
    torch.manual_seed(5)
    first = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(X, y)
    assert torch.equal(torch.rand(4), expected)
    second = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_saved_models_and_prediction_files_honour_the_umask(tmp_path):
    X, y = make_synthetic_mri(24, image_size=24, random_state=0)
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(X, y)
    old = os.umask(0o022)
    try:
        model = save(clf, tmp_path / "model.btm")
        scans = tmp_path / "scans"
        scans.mkdir()
        for i in range(2):
            Image.fromarray(X[i]).save(scans / f"{i}.png")
        assert main(["predict", str(scans), "--model", str(model), "--out", str(tmp_path / "p.csv"),
                     "--quiet"]) == 0  # fmt: skip
    finally:
        os.umask(old)
    for path in (model, tmp_path / "p.csv"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_predict_refuses_a_bad_out_before_predicting_and_fails_when_nothing_was_read(
    tmp_path, capsys
):
    model, _ = _tiny_model(tmp_path / "model.btm")
    broken = tmp_path / "broken"
    broken.mkdir()
    for i in range(2):
        (broken / f"{i}.png").write_bytes(b"garbage")
    assert main(["predict", str(broken), "--model", str(model), "--out", str(tmp_path / "p.csv"),
                 "--quiet"]) == 1  # fmt: skip
    assert "none of the 2 files could be read" in capsys.readouterr().err
    assert main(["predict", str(broken), "--model", str(model), "--out", str(tmp_path),
                 "--quiet"]) == 1  # fmt: skip
    assert "is a folder" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    below = tmp_path / "file" / "p.csv"
    assert main(["predict", str(broken), "--model", str(model), "--out", str(below),
                 "--quiet"]) == 1  # fmt: skip
    assert "which is a file" in capsys.readouterr().err


# -- the safe model format -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_pipeline():
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.classifiers import TTAClassifier, TumorFirstClassifier
    from sklearn_braintumor.preprocessing import BrainCrop, Resize

    X, y = make_synthetic_mri(48, image_size=32, random_state=0)
    labels = np.array(["notumor", "glioma", "meningioma", "pituitary"])[y]
    cnn = CNNClassifier(max_epochs=2, random_state=0, module__hidden=16,
                        criterion__label_smoothing=0.1, augment={"rotation": 5.0})  # fmt: skip
    pipe = TumorFirstClassifier(TTAClassifier(make_pipeline(BrainCrop(), Resize((32, 32)), cnn)))
    return pipe.fit(X, labels), X


def test_safe_format_round_trip_predicts_the_same(fitted_pipeline, tmp_path):
    from sklearn_braintumor.utils import load

    pipe, X = fitted_pipeline
    path = save(pipe, tmp_path / "model.btm")
    again = load(path)
    np.testing.assert_array_equal(again.predict_proba(X), pipe.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), pipe.predict(X))
    assert again.get_params()["threshold"] == 0.5
    inner = again.estimator_.estimator_.steps[-1][1]
    assert len(inner.history_) == 2 and list(inner.classes_) == list(pipe.classes_)


def test_loading_a_model_file_runs_no_code_from_it(fitted_pipeline, tmp_path):
    import io
    import json
    import zipfile

    import joblib

    from sklearn_braintumor.utils import load

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    crafted = tmp_path / "shared_model.joblib"
    joblib.dump(Payload(), crafted)
    with pytest.raises(ValueError, match=r"is a pickle.*trusted=True"):
        load(crafted)
    assert main(["predict", str(tmp_path), "--model", str(crafted), "--quiet"]) == 1
    assert not (tmp_path / "pwned").exists()
    # a safe-format file edited to name another class or set a dunder attribute is refused
    pipe, _ = fitted_pipeline
    data = zipfile.ZipFile(io.BytesIO((save(pipe, tmp_path / "m.btm")).read_bytes()))
    header = json.loads(data.read("model.json"))
    for edit in ({"__estimator__": "os.system"}, {"state": {"__class__": None}}):
        tampered = dict(header, model={**header["model"], **edit})
        if "state" in edit:
            tampered["model"]["state"] = {**header["model"]["state"], **edit["state"]}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out:
            out.writestr("model.json", json.dumps(tampered))
        (tmp_path / "t.btm").write_bytes(buffer.getvalue())
        with pytest.raises(ValueError, match=r"safe format does not load|sets the attribute"):
            load(tmp_path / "t.btm")


def test_broken_model_files_name_the_path_and_what_they_are(fitted_pipeline, tmp_path):
    from sklearn_braintumor.utils import load

    pipe, _ = fitted_pipeline
    good = save(pipe, tmp_path / "m.btm").read_bytes()
    cases = {
        "empty.btm": (b"", "is an empty file"),
        "half.btm": (good[: len(good) // 2], "not a complete sklearn-braintumor model file"),
        "scan.btm": (b"\x89PNG\r\n\x1a\n" + b"0" * 20, "is an image, not a model"),
        "notes.btm": (b"hello", "not a model file of this library"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=message) as info:
            load(tmp_path / name)
        assert name in str(info.value)
    with pytest.raises(ValueError, match="pickle file name"):
        save(pipe, tmp_path / "m.joblib")
    from sklearn.preprocessing import FunctionTransformer

    with pytest.raises(ValueError, match="format='joblib'"):
        save(FunctionTransformer(np.log1p).fit(np.ones((2, 2))), tmp_path / "f.btm")
    assert not (tmp_path / "f.btm").exists()
    trusted = save(pipe, tmp_path / "m.joblib", format="joblib")
    assert load(trusted, trusted=True).predict(fitted_pipeline[1][:2]).shape == (2,)


# -- interrupted writes --------------------------------------------------------------------------


def _dead_pid():
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporaries_of_killed_writers_are_removed_on_the_next_write(tmp_path):
    from sklearn_braintumor.utils._persistence import atomic_write_text

    dead, alive = _dead_pid(), os.getpid()
    stale_file = tmp_path / f".model.btm.{dead}.x1.tmp"
    stale_dir = tmp_path / f".report.{dead}.x2.partial"
    running = tmp_path / f".model.btm.{alive}.x3.tmp"  # a writer that still runs: kept
    stale_file.write_bytes(b"14 MB of half a model")
    stale_dir.mkdir()
    (stale_dir / "figure.png").write_bytes(b"png")
    running.write_bytes(b"in progress")
    atomic_write_text(tmp_path / "model.btm", "x")
    assert not stale_file.exists() and running.exists()
    from sklearn_braintumor.experiments._report import check_output_folder

    check_output_folder(tmp_path / "report")
    assert not stale_dir.exists()


def test_an_interrupted_report_replacement_is_undone_or_finished(tmp_path):
    from sklearn_braintumor.experiments._report import check_output_folder

    out = tmp_path / "report"
    hidden = tmp_path / ".report.replaced"
    hidden.mkdir()
    (hidden / "report.md").write_text("old report")
    check_output_folder(out, overwrite=True)  # killed after the first rename: restored
    assert (out / "report.md").read_text() == "old report" and not hidden.exists()
    hidden.mkdir()
    check_output_folder(out, overwrite=True)  # killed after the second rename: finished
    assert out.exists() and not hidden.exists()


def test_reproduce_refuses_an_unwritable_out_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    argv = ["reproduce", "recommended", "--out", str(tmp_path / "file" / "report"), "--quiet"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "which is a file" in captured.err and "training on" not in captured.out
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main(["reproduce", "recommended", "--out", str(locked / "r"), "--quiet"]) == 1
        assert "is not writable" in capsys.readouterr().err


# -- input scaling -------------------------------------------------------------------------------


def test_prediction_input_is_scaled_as_in_training_or_refused():
    X, y = make_synthetic_mri(40, image_size=24, random_state=0)
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(X, y)
    assert clf.input_dtype_ == "uint8" and clf.input_range_ == (X.min(), X.max())
    expected = clf.predict_proba(X)
    for dtype in (np.int64, np.int32, np.uint16):  # the same pixels as other integers
        np.testing.assert_allclose(clf.predict_proba(X.astype(dtype)), expected, atol=1e-6)
    for bad, message in (
        (X.astype(np.float32), "fitted on uint8 images .* got float32"),
        (X.astype(np.float64) / 255, "fitted on uint8 images .* got float64"),
        (X.astype(np.int64) - 300, "outside that range"),
        (X > 100, "boolean images"),
    ):
        with pytest.raises(ValueError, match=message):
            clf.predict_proba(bad)
    # a model trained on floats in [0, 1] refuses uint8 (0-255) instead of answering wrongly
    scaled = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(X / 255.0, y)
    assert scaled.input_dtype_ == "float"
    with pytest.raises(ValueError, match="far outside that range"):
        scaled.predict_proba(X)
    np.testing.assert_allclose(
        scaled.predict_proba((X / 255.0).astype(np.float32)),
        scaled.predict_proba(X / 255.0),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="boolean images"):
        CNNClassifier(max_epochs=1).fit(X > 100, y)


# -- file names that are not UTF-8 ---------------------------------------------------------------


def _non_utf8_folders(root):
    names = ["glioma", "meningioma", "notumor", "pituitary"]
    X, y = make_synthetic_mri(48, image_size=32, random_state=0)
    for i, (image, label) in enumerate(zip(X, y, strict=True)):
        part = "Training" if i < 32 else "Testing"
        folder = root / "four" / part / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        raw = os.fsencode(folder) + b"/scan_\xe9_%d.png" % i  # Latin-1 name, not UTF-8
        Image.fromarray(image).save(os.fsdecode(raw))
    (root / "broken").mkdir()
    (root / "broken" / os.fsdecode(b"bad_\xff.png")).write_bytes(b"not an image")
    return root


def test_names_that_are_not_utf8_are_written_escaped(tmp_path, monkeypatch, capsys):
    import dataclasses
    import json

    from sklearn_braintumor.experiments import RECIPES

    root = _non_utf8_folders(tmp_path)
    model = save(CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(
        *make_synthetic_mri(24, image_size=32, random_state=0)), tmp_path / "m.btm")  # fmt: skip
    out = tmp_path / "p.csv"
    argv = ["predict", str(root / "four"), "--model", str(model), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    text = out.read_text(encoding="utf-8")
    assert "scan_\\xe9_0.png" in text and len(text.splitlines()) == 49
    assert main(["predict", str(root / "broken"), "--model", str(model), "--out",
                 str(tmp_path / "b.csv"), "--quiet"]) == 1  # fmt: skip
    assert "bad_\\xff.png" in (tmp_path / "b.csv").read_text(encoding="utf-8")
    recipe = RECIPES["recommended"]
    tiny = {**recipe.profiles["quick"], "image_size": 32, "max_epochs": 1, "deviations": []}
    monkeypatch.setitem(RECIPES, "recommended", dataclasses.replace(recipe,
                        profiles={"quick": tiny}))  # fmt: skip
    report = tmp_path / "report"
    assert main(["reproduce", "recommended", "--data", str(root / "four"), "--out", str(report),
                 "--device", "cpu", "--quiet", "--save-model"]) == 0  # fmt: skip
    assert len(json.loads((report / "results.json").read_text())["data"]["file_list_sha256"]) == 64


# -- errors that read like internals -------------------------------------------------------------


def test_errors_say_what_is_wrong_in_the_users_terms(tmp_path):
    from sklearn_braintumor.datasets import decode_image

    with pytest.raises(ImageReadError, match=r"'scan\.png': not an image, or an unsupported"):
        decode_image(b"garbage", name="scan.png")
    X, y = make_synthetic_mri(40, image_size=32, random_state=0)
    clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8).fit(X, y)
    with pytest.raises(ValueError, match=r"is it one image\? pass image\[np.newaxis\]"):
        clf.predict(X[0])
    mixed = np.array([1, "a"] * 20, dtype=object)
    with pytest.raises(ValueError, match="y mixes label types"):
        CNNClassifier(max_epochs=1).fit(X, mixed)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="finds no CUDA device here; use device='auto'"):
            CNNClassifier(max_epochs=1, device="cuda").fit(X, y)
    lonely = y.copy()
    lonely[0] = 7
    with pytest.raises(ValueError, match=r"class\(es\) \[7\] have a single image.*train_split"):
        CNNClassifier(max_epochs=1).fit(X, lonely)
    CNNClassifier(max_epochs=1, train_split=None, module__hidden=8).fit(X, lonely)  # works
    # a subsample too small to give every class a validation image (as in successive halving)
    few = np.flatnonzero(y == 0)[:2].tolist() + np.flatnonzero(y == 1)[:2].tolist()
    few += np.flatnonzero(y == 2)[:2].tolist() + np.flatnonzero(y == 3)[:2].tolist()
    with pytest.raises(ValueError, match=r"gives 2 validation images for 4 classes.*train_split"):
        CNNClassifier(max_epochs=1).fit(X[few], y[few])


# -- folders as users have them ------------------------------------------------------------------


def test_predict_counts_skipped_files_and_isolates_odd_channel_counts(tmp_path, capsys):
    model, X = _tiny_model(tmp_path / "m.btm")
    scans = tmp_path / "scans"
    scans.mkdir()
    for i in range(3):
        Image.fromarray(X[i]).save(scans / f"{i}.png")
    Image.fromarray(np.stack([X[3]] * 3, axis=-1)).save(scans / "rgb.png")
    np.save(scans / "volume.npy", X[0])
    (scans / "slice.dcm").write_bytes(b"DICM")
    out = tmp_path / "p.csv"
    argv = ["predict", str(scans), "--model", str(model), "--out", str(out), "--quiet"]
    assert main([*argv, "--color-mode", "unchanged"]) == 0  # not aborted by one RGB file
    printed = capsys.readouterr().out
    assert "2 files skipped: not images" in printed and "4 images (1 unreadable)" in printed
    rows = {line.split(",")[0]: line for line in out.read_text().splitlines()[1:]}
    assert set(rows) == {"0.png", "1.png", "2.png", "rgb.png"}
    assert "has 3 channel(s), the other images 1" in rows["rgb.png"]


def test_symlinked_folders_follow_one_rule(tmp_path):
    X, _ = make_synthetic_mri(8, image_size=16, random_state=0)
    outside = tmp_path / "outside"
    for name, rows in (("extra", slice(0, 2)), ("more_b", slice(2, 4))):
        (outside / name).mkdir(parents=True)
        for i, image in enumerate(X[rows]):
            Image.fromarray(image).save(outside / name / f"{i}.png")
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    Image.fromarray(X[4]).save(root / "a" / "own.png")
    (root / "a" / "linked").symlink_to(outside / "extra")  # a linked subfolder: followed
    (root / "a" / "loop").symlink_to(root / "a")  # a cycle: read once
    (root / "b").symlink_to(outside / "more_b")  # a linked class folder: followed
    data = load_image_folder(root)
    assert data.target_names == ["a", "b"]
    assert np.bincount(data.target).tolist() == [3, 2]


def test_a_jpeg_damaged_mid_file_or_truncated_is_refused(tmp_path):
    import io

    from sklearn_braintumor.datasets import decode_image

    X, _ = make_synthetic_mri(1, image_size=64, random_state=0)
    buffer = io.BytesIO()
    Image.fromarray(X[0]).save(buffer, format="JPEG", quality=90)
    data = bytearray(buffer.getvalue())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(16)  # damaged scan data, intact structure
    with pytest.raises(ImageReadError, match=r"damaged\.jpg.*damaged JPEG data"):
        decode_image(bytes(data), name="damaged.jpg")  # libjpeg's report, through simplejpeg
    with pytest.raises(ImageReadError, match=r"damaged\.jpg"):
        decode_image(bytes(data[:middle]), name="damaged.jpg")  # truncated: caught


def test_safe_format_keeps_private_fitted_state(tmp_path):
    # SVC keeps what predict needs in private attributes (_sparse, _probA, ...)
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from sklearn_braintumor.features import HOGFeatures
    from sklearn_braintumor.utils import load

    X, y = make_synthetic_mri(40, image_size=64, random_state=0)
    pipe = make_pipeline(HOGFeatures(), StandardScaler(),
                         SVC(probability=True, random_state=0)).fit(X, y)  # fmt: skip
    loaded = load(save(pipe, tmp_path / "svc.btm"))
    np.testing.assert_allclose(loaded.predict_proba(X[:5]), pipe.predict_proba(X[:5]))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_one_device_rule_for_estimators_recipes_and_saved_models():
    from sklearn_braintumor.utils._device import describe_device, resolve_device

    assert resolve_device("cpu") == "cpu"
    if torch.cuda.is_available():
        assert resolve_device("auto") == "cuda"
        return
    assert resolve_device("auto") == "cpu" and resolve_device("cuda:1", fallback=True) == "cpu"
    with pytest.raises(ValueError, match=r"--device 'cuda', but torch .* use --device 'auto'"):
        resolve_device("cuda", option="--device ")
    assert describe_device("cpu").startswith("cpu (") and "no CUDA" in describe_device()
