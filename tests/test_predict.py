"""`braintumor predict FOLDER --model MODEL`: a CSV of predictions for a folder of scans."""

import csv
import json

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sklearn_braintumor import predict_folder
from sklearn_braintumor._cli import main
from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.preprocessing import Resize
from sklearn_braintumor.utils import save

NAMES = np.array(["glioma", "meningioma", "notumor", "pituitary"])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    X, y = make_synthetic_mri(64, image_size=32, random_state=0)
    pipe = make_pipeline(
        Resize((32, 32)),
        CNNClassifier(max_epochs=2, random_state=0, module__hidden=16, device="cpu"),
    ).fit(X, NAMES[y])
    return save(pipe, tmp_path_factory.mktemp("model") / "model.btm"), pipe


@pytest.fixture
def scans(tmp_path):
    X, _ = make_synthetic_mri(5, image_size=48, random_state=1)
    folder = tmp_path / "scans"
    (folder / "patient 2").mkdir(parents=True)
    for i, image in enumerate(X[:3]):
        Image.fromarray(image).save(folder / f"scan_{i}.png")
    Image.fromarray(X[3]).resize((60, 40)).convert("RGB").save(folder / "patient 2" / "a.jpg")
    Image.fromarray(X[4]).save(folder / ".hidden.png")
    (folder / "broken.png").write_bytes(b"not an image")
    return folder


def read_rows(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def test_predict_command_writes_probabilities(model_file, scans, tmp_path, capsys):
    path, pipe = model_file
    out = tmp_path / "out" / "predictions.csv"
    assert main(["predict", str(scans), "--model", str(path), "--out", str(out), "--quiet"]) == 0
    assert "5 images (1 unreadable)" in capsys.readouterr().out
    rows = read_rows(out)
    assert [r["path"] for r in rows] == [
        "broken.png", "patient 2/a.jpg", "scan_0.png", "scan_1.png", "scan_2.png",
    ]  # fmt: skip
    assert list(rows[0]) == ["path", "predicted", "most_probable",
                             *(f"proba_{n}" for n in NAMES), "ood", "shift", "note",
                             "error"]  # fmt: skip
    assert rows[0]["predicted"] == "" and rows[0]["proba_glioma"] == "" and rows[0]["error"]
    images = [np.asarray(Image.open(scans / r["path"]).convert("L")) for r in rows[1:]]
    expected = pipe.predict_proba(images)
    got = np.array([[float(r[f"proba_{n}"]) for n in NAMES] for r in rows[1:]])
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert [r["predicted"] for r in rows[1:]] == list(pipe.predict(images))
    assert [r["ood"] for r in rows[1:]] == ["False"] * 4  # head phantoms: MRI-like slices
    assert rows[0]["ood"] == "" and rows[0]["shift"] == ""  # unreadable: neither
    shift = np.array([float(r["shift"]) for r in rows[1:]])
    inner = pipe[-1]
    np.testing.assert_allclose(shift, inner.shift_score(pipe[:-1].transform(images)), atol=1e-3)
    # an existing CSV is refused
    assert main(["predict", str(scans), "--model", str(path), "--out", str(out), "--quiet"]) == 1
    assert "--overwrite" in capsys.readouterr().err


def test_predict_summary_states_the_shift_in_terminal_and_json(model_file, scans, tmp_path,
                                                              capsys):  # fmt: skip
    path, pipe = model_file
    out, summary_file = tmp_path / "p.csv", tmp_path / "summary.json"
    args = ["predict", str(scans), "--model", str(path), "--out", str(out), "--quiet",
            "--json", str(summary_file)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    summary = json.loads(summary_file.read_text())
    shifts = [float(r["shift"]) for r in read_rows(out) if r["shift"]]
    assert summary["n_images"] == 5 and summary["n_failed"] == 1
    assert summary["shift_median"] == pytest.approx(np.median(shifts), abs=1e-3)
    assert summary["shifted_share"] == pytest.approx(np.mean(np.array(shifts) >= 1))
    assert "model card may not hold" in summary["shift_note"]
    assert summary["shift_note"] in printed and "summary ->" in printed
    # an existing summary is refused before anything runs, --overwrite replaces both files
    out.unlink()
    assert main(args) == 1 and "--overwrite" in capsys.readouterr().err
    assert not out.exists()
    assert main([*args, "--overwrite"]) == 0
    # a model without the guard: no shift, no sentence
    X, y = make_synthetic_mri(60, image_size=32, random_state=0)
    unguarded = clone(pipe).set_params(cnnclassifier__ood_rate=None).fit(X, NAMES[y])
    plain = predict_folder(unguarded, scans, tmp_path / "q.csv")
    assert plain["shift_median"] is None and plain["shift_note"] is None
    assert {r["shift"] for r in read_rows(tmp_path / "q.csv")} == {""}


def test_predict_raise_leaves_no_csv(model_file, scans, tmp_path):
    from sklearn_braintumor.exceptions import ImageReadError

    _, pipe = model_file
    out = tmp_path / "p.csv"
    with pytest.raises(ImageReadError, match=r"broken\.png"):
        predict_folder(pipe, scans, out, on_error="raise", batch_size=2)
    assert list(tmp_path.glob("*p.csv*")) == []
    summary = predict_folder(pipe, scans, out, batch_size=2)  # batches split the folder
    assert summary["n_images"] == 5 and summary["n_failed"] == 1
    assert len(read_rows(out)) == 5


def test_predict_errors(model_file, tmp_path, capsys):
    _, pipe = model_file
    assert main(["predict", str(tmp_path), "--model", str(tmp_path / "none.btm")]) == 1
    err = capsys.readouterr().err
    assert "utils.save" in err and "4class" in err  # names the pretrained models too
    with pytest.raises(SystemExit):  # one FOLDER; the model comes with --model
        main(["predict", "model.btm", str(tmp_path)])
    assert "unrecognized arguments" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no image files"):
        predict_folder(pipe, empty, tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        predict_folder(pipe, tmp_path / "missing", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="on_error"):
        predict_folder(pipe, empty, tmp_path / "x.csv", on_error="ignore")
