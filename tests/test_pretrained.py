"""The shipped pretrained models: loading safely, predicting, the card, the guard, export."""

import csv
import hashlib
import json
import shutil

import joblib
import numpy as np
import pytest
from PIL import Image
from skimage import data

from sklearn_braintumor import predict_folder
from sklearn_braintumor._cli import main
from sklearn_braintumor.classifiers import fine_tune, shift_score
from sklearn_braintumor.classifiers._ood import final_classifier
from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.exceptions import ModelFileError
from sklearn_braintumor.pretrained import (
    DEFAULT_MODEL,
    PRETRAINED,
    _registry,
    list_pretrained,
    load_pretrained,
    pretrained_card,
)
from sklearn_braintumor.pretrained._cards import render_cards
from sklearn_braintumor.pretrained._checksums import SHA256


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


@pytest.fixture(scope="module")
def test_sample():
    return load_sample("test")


def unlike_mri():
    """Photographs (in colour, as read from files), a page, blank and noise images."""
    rng = np.random.default_rng(0)
    images = {name: getattr(data, name)() for name in ("astronaut", "coffee", "chelsea", "rocket")}
    images["page"] = data.page()
    images["black"] = np.zeros((224, 224, 3), np.uint8)
    images["white"] = np.full((224, 224, 3), 255, np.uint8)
    images["grey"] = np.full((224, 224, 3), 128, np.uint8)
    images["noise"] = np.repeat(rng.integers(0, 256, (224, 224, 1)), 3, axis=2).astype(np.uint8)
    return images


def test_registry_cards_and_budget():
    assert list_pretrained()[0] == DEFAULT_MODEL == "4class-screened"
    assert set(list_pretrained()) == {"4class-screened", "4class", "binary"}
    total = 0
    for name in list_pretrained():
        card = pretrained_card(name)
        # what a model card must say: data and licence, figures with commands, weak spots
        assert "CC0" in card["training_data"] and "not a medical device" in (
            card["not_a_medical_device"].lower()
        )
        stages = PRETRAINED[name].stages
        if stages:  # combines shipped models: no file, no training of its own
            assert card["stages"] == list(stages) and "sha256" not in card
            assert not PRETRAINED[name].weights_file.exists()
            assert card["n_bytes"] == sum(pretrained_card(s)["n_bytes"] for s in stages)
        else:
            payload = PRETRAINED[name].weights_file.read_bytes()
            assert hashlib.sha256(payload).hexdigest() == card["sha256"]
            total += len(payload)
        # a recipe's report measures one network; the build tool measures what it assembles
        members = PRETRAINED[name].members
        assembled = stages or bool(members)
        for key in ("official_testing", "clean_testing", "other_source"):
            assert card["figures"][key]["command"].startswith(
                "python3 tools/build_pretrained.py" if assembled else "braintumor reproduce"
            )
        if members:  # the card says what each network was trained with
            assert card["members"] == [{"seed": m.seed, "settings": dict(m.settings)}
                                       for m in members]  # fmt: skip
            assert card["held_out_healthy"]["n_healthy"] >= 100
            recipe_line = next(line for line in render_cards([card]).splitlines()
                               if "**Recipe**" in line)  # fmt: skip
            assert f"{len(members)} networks (seed 0; seed 1; seed 0, lesions=mass" in recipe_line
        assert 0 <= card["figures"]["other_source"]["sensitivity"] <= 1
        assert card["guard"]["command"].startswith("python3 tools/build_pretrained.py")
        assert card["weak_spots"]
    assert total <= 8 * 1024 * 1024
    with pytest.raises(ValueError, match=r"unknown pretrained model 'nope'.*4class"):
        load_pretrained("nope")


def test_default_model_predicts_the_sample(model, test_sample):
    assert model.classes_.tolist() == ["glioma", "meningioma", "notumor", "pituitary"]
    images = list(test_sample.images)
    predicted = model.predict(images)
    truth = np.asarray(test_sample.target_names)[test_sample.target]
    # 200 Testing images of the 4-class set: the card reports the whole split
    assert np.mean(predicted == truth) >= 0.9
    proba = model.predict_proba(images[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_binary_model(test_sample):
    binary = load_pretrained("binary")
    assert binary.classes_.tolist() == ["notumor", "tumor"]
    truth = np.where(np.asarray(test_sample.target_names)[test_sample.target] == "notumor",
                     "notumor", "tumor")  # fmt: skip
    assert np.mean(binary.predict(list(test_sample.images)) == truth) >= 0.9


def _copy_registry(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    shutil.copytree(_registry.MODELS_DIR, folder)
    monkeypatch.setattr(_registry, "MODELS_DIR", folder)
    return folder


def test_tampered_file_is_refused(tmp_path, monkeypatch):
    folder = _copy_registry(tmp_path, monkeypatch)
    weights = folder / "4class.btm"
    payload = bytearray(weights.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    weights.write_bytes(bytes(payload))
    with pytest.raises(ModelFileError, match="does not match its recorded SHA-256"):
        load_pretrained("4class")
    # the digest that counts is recorded in the package's code, not in the editable card
    card = json.loads((folder / "4class.json").read_text())
    card["sha256"] = hashlib.sha256(payload).hexdigest()
    (folder / "4class.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="does not match its recorded SHA-256"):
        load_pretrained("4class")
    assert pretrained_card("4class")["sha256"] == SHA256["4class"]


class _Payload:
    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(_Payload.marker),))


def test_pickle_payload_is_refused_even_with_a_matching_checksum(tmp_path, monkeypatch):
    folder = _copy_registry(tmp_path, monkeypatch)
    _Payload.marker = str(tmp_path / "code-ran")
    weights = folder / "4class.btm"
    joblib.dump(_Payload(), weights)
    monkeypatch.setitem(SHA256, "4class", hashlib.sha256(weights.read_bytes()).hexdigest())
    with pytest.raises(ValueError):
        load_pretrained("4class")
    assert not (tmp_path / "code-ran").exists()


def test_missing_model_file_says_what_to_run(tmp_path, monkeypatch):
    folder = _copy_registry(tmp_path, monkeypatch)
    (folder / "binary.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"tools/build_pretrained\.py"):
        load_pretrained("binary")


def test_ood_flags_photographs_documents_blank_and_noise(model):
    images = unlike_mri()
    flags = model.predict_ood(list(images.values()))
    assert dict(zip(images, flags.tolist(), strict=True)) == dict.fromkeys(images, True)


def test_ood_spares_real_scans_and_shift_ranks_them(model, test_sample):
    train = load_sample("train")
    assert not model.predict_ood(list(train.images)).any()
    assert not model.predict_ood(list(test_sample.images)).any()
    assert final_classifier(model).ood_rate == 0.05
    # images of the model's training split: about the rate at or above shift 1
    assert np.mean(shift_score(model, list(train.images)) >= 1) <= 0.07
    # Testing images lie further (8.8 % of the whole Testing split, on the model card); of the
    # sample's 200 Testing images 27 were at or above 1 when measured
    assert 0.10 <= np.mean(model.shift_score(list(test_sample.images)) >= 1) <= 0.17


def test_predict_command_without_a_model(model, tmp_path, test_sample, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    picked = range(0, 200, 50)
    for i in picked:
        Image.fromarray(test_sample.images[i]).save(folder / f"scan{i}.png")
    Image.fromarray(data.astronaut()).save(folder / "holiday.jpg")
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(folder), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "not brain MRI slices: 1 (column ood" in printed
    with open(out, newline="") as stream:
        rows = {row["path"]: row for row in csv.DictReader(stream)}
    holiday = rows.pop("holiday.jpg")  # read in colour for the check, in grey for the model
    assert holiday["ood"] == "True" and holiday["predicted"] == ""
    assert holiday["note"].startswith("not a brain MRI slice: a colour image")
    assert [rows[f"scan{i}.png"]["ood"] for i in picked] == ["False"] * len(picked)
    # predictions that explain themselves: most_probable is the argmax, a note says why not
    classes = model.classes_.tolist()
    for row in rows.values():
        proba = [float(row[f"proba_{c}"]) for c in classes]
        assert row["most_probable"] == classes[int(np.argmax(proba))]
        ruled = row["predicted"] != row["most_probable"]
        assert ruled == ("tumour first: notumor needs p >=" in row["note"])
    assert "decision: tumour first: notumor only where its probability is at least" in printed
    expected = model.predict([test_sample.images[i] for i in picked])
    assert [rows[f"scan{i}.png"]["predicted"] for i in picked] == expected.tolist()
    truth = np.asarray(test_sample.target_names)[test_sample.target]
    assert np.mean(expected == truth[list(picked)]) >= 0.75
    binary_out = tmp_path / "binary.csv"
    argv = ["predict", str(folder), "--model", "binary", "--out", str(binary_out), "--quiet"]
    assert main(argv) == 0
    assert "proba_tumor" in binary_out.read_text().splitlines()[0]


def test_predict_folder_is_public(model, tmp_path, test_sample):
    for i in range(3):
        Image.fromarray(test_sample.images[i]).save(tmp_path / f"{i}.png")
    summary = predict_folder(model, tmp_path, tmp_path / "out" / "p.csv")
    assert summary["n_images"] == 3 and summary["n_ood"] == 0


def test_models_command(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "4class-screened (default)" in out and "binary" in out and "not a medical device" in out
    assert main(["models", "4class"]) == 0
    card = capsys.readouterr().out
    for phrase in ("CC0", "held-out yes/no set", "Shift", "Not an MRI slice", "Weak spots",
                   "SHA-256", "build_pretrained.py"):  # fmt: skip
        assert phrase in card
    assert "**" not in card and "`" not in card and "|---" not in card  # text for a terminal


def test_onnx_export_without_torchvision_prints_no_lookup_notes(tmp_path, capfd, monkeypatch):
    """torch's exporter logs a line per torchvision operator it cannot find; none is used."""
    import importlib.util

    pytest.importorskip("onnxscript")
    find_spec = importlib.util.find_spec

    def without_torchvision(name, *args, **kwargs):
        return None if name == "torchvision" else find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_torchvision)
    assert main(["export", "4class", "--out", str(tmp_path / "m.onnx")]) == 0
    captured = capfd.readouterr()
    assert "torchvision" not in captured.err + captured.out
    assert "network ->" in captured.out


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_matches_predict_proba(tmp_path, test_sample, fmt):
    import torch

    model = load_pretrained("4class")
    out = tmp_path / ("m.onnx" if fmt == "onnx" else "m.pt")
    assert main(["export", "4class", "--format", fmt, "--out", str(out)]) == 0
    spec = json.loads(out.with_suffix(".json").read_text())
    assert spec["classes"] == model.classes_.tolist()
    assert [step["class"].rsplit(".", 1)[1] for step in spec["preprocessing"]] == [
        "BrainCrop", "Resize", "IntensityScaler",
    ]  # fmt: skip
    assert spec["test_time_augmentation"] == ["identity", "hflip"]
    # parameters in JSON types, so a reader in another language needs no Python parser
    assert spec["preprocessing"][1]["params"]["shape"] == [64, 64]
    assert spec["preprocessing"][0]["params"]["threshold"] == 45
    if fmt == "onnx":
        ort = pytest.importorskip("onnxruntime")
        session = ort.InferenceSession(str(out))

        def run(batch):
            return session.run(None, {"image": batch})[0]
    else:
        network = torch.jit.load(str(out))

        def run(batch):
            with torch.no_grad():
                return network(torch.from_numpy(batch)).numpy()

    images = list(test_sample.images[:8])
    pipeline = model.estimator_.estimator_  # TumorFirst -> TTA -> fitted pipeline
    proba = []
    for variant in (images, [image[:, ::-1] for image in images]):
        batch = np.asarray(pipeline[:-1].transform(variant), dtype=np.float32)[:, None]
        exported = run(batch)
        np.testing.assert_allclose(
            exported, pipeline[-1].predict_proba(pipeline[:-1].transform(variant)), atol=1e-5
        )
        proba.append(exported)
    # the JSON's recipe around the graph gives the model's own probabilities
    np.testing.assert_allclose(np.mean(proba, axis=0), model.predict_proba(images), atol=1e-5)
    assert main(["export", "4class", "--format", fmt, "--out", str(out)]) == 1  # no overwrite


def test_fine_tune_continues_from_the_pretrained_weights():
    sample = load_sample("train")
    model = load_pretrained("4class")
    cnn = final_classifier(model)
    before = {k: v.clone() for k, v in cnn.module_.state_dict().items()}
    epochs = len(cnn.history_)
    X = list(sample.images[::10])
    y = np.asarray(sample.target_names)[sample.target[::10]]
    assert fine_tune(model, X, y, max_epochs=1, lr=1e-5, random_state=0) is model
    assert len(cnn.history_) == epochs + 1
    after = cnn.module_.state_dict()
    changes = [float((after[k] - before[k]).abs().max()) for k in before
               if before[k].is_floating_point()]  # fmt: skip
    # continued, not restarted: the weights moved a little, not to a new initialisation
    assert 0 < max(changes) < 0.05
    assert np.mean(model.predict(X) == y) >= 0.9
    with pytest.raises(ValueError, match="continuing training keeps the classes"):
        fine_tune(model, X[:20], ["astrocytoma"] * 20, max_epochs=1)


def test_fine_tune_passes_copy_groups_to_the_validation_split():
    from sklearn_braintumor.model_selection import LeakageFreeSplit

    sample = load_sample("train")
    X = list(sample.images[::5])
    y = np.asarray(sample.target_names)[sample.target[::5]]
    groups = np.arange(120) // 2  # pairs said to be copies, though their pixels differ
    from sklearn_braintumor.classifiers import CNNClassifier

    bare = CNNClassifier(max_epochs=1, module__hidden=4, random_state=0)
    small = [image[::7, ::7] for image in X]  # 32 px
    for model, images in ((load_pretrained("4class"), X), (bare.fit(small, y), small)):
        split = LeakageFreeSplit(test_size=0.25, random_state=0)
        fine_tune(model, images, y, groups=groups, max_epochs=1, lr=1e-5, train_split=split)
        valid = final_classifier(model).valid_indices_
        train = np.setdiff1d(np.arange(120), valid)
        assert len(valid) and not set(groups[valid]) & set(groups[train])


def test_prediction_runs_the_network_twice_per_image_not_three_times(model, test_sample, tmp_path):
    # flip TTA needs two passes; the guard reads its features from the identity view's pass
    from sklearn_braintumor.classifiers._ood import proba_and_scores

    images = list(test_sample.images[:16])
    network = final_classifier(model).net_.module_
    seen = []
    handle = network.register_forward_hook(
        lambda module, inputs, output: seen.append(len(inputs[0]))
    )
    try:
        proba, scores = proba_and_scores(model, images)
        assert sum(seen) == 2 * len(images)
        for i, image in enumerate(images):
            Image.fromarray(image).save(tmp_path / f"{i:02d}.png")
        seen.clear()
        predict_folder(model, tmp_path, tmp_path / "out" / "p.csv")
        assert sum(seen) == 2 * len(images)
    finally:
        handle.remove()
    np.testing.assert_array_equal(proba, model.predict_proba(images))  # the same outputs
    np.testing.assert_array_equal(scores, model.score_samples(images))
    with open(tmp_path / "out" / "p.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    flags = [row["ood"] == "True" for row in rows]
    assert flags == model.predict_ood(images).tolist()


def test_default_model_screens_with_binary_and_types_with_4class(model, test_sample):
    """The default combines the shipped models: binary says "no tumour", 4class the type."""
    binary, four = load_pretrained("binary"), load_pretrained("4class")
    images = list(test_sample.images[:40])
    predicted = model.predict(images)
    np.testing.assert_array_equal(predicted == "notumor", binary.predict(images) == "notumor")
    types = four.predict_proba(images)
    tumour_types = np.array(["glioma", "meningioma", "pituitary"])
    expected = tumour_types[types[:, [0, 1, 3]].argmax(axis=1)]
    np.testing.assert_array_equal(predicted[predicted != "notumor"],
                                  expected[predicted != "notumor"])  # fmt: skip
    proba = model.predict_proba(images)
    np.testing.assert_allclose(proba[:, 2], binary.predict_proba(images)[:, 0], atol=1e-6)
    np.testing.assert_allclose(shift_score(model, images), shift_score(four, images))
    assert model.threshold_ == binary.threshold_


def test_default_model_is_not_exported_or_fine_tuned_as_one(model, tmp_path, capsys):
    assert main(["export", "4class-screened", "--out", str(tmp_path / "m.onnx")]) != 0
    assert "TwoStageClassifier" in capsys.readouterr().err
    with pytest.raises(TypeError, match="fine-tune its stages"):
        fine_tune(model, [np.zeros((64, 64), np.uint8)] * 2, ["notumor", "glioma"])
