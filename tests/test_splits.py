"""Split strategies as objects, the data they read (groups, folds) and the figshare recipe."""

import dataclasses

import h5py
import numpy as np
import pytest
from conftest import mat_slice

from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.experiments import (
    RECIPES,
    Arm,
    ExperimentData,
    GroupKFoldSplit,
    Model,
    Recipe,
    Split,
    load_experiment_data,
    run_recipe,
    write_report,
)
from sklearn_braintumor.experiments._report import render_markdown
from sklearn_braintumor.model_selection import audit_split

CLASSES = ["glioma", "meningioma", "pituitary"]
# figshare label codes: 1 meningioma, 2 glioma, 3 pituitary
CODES = {"glioma": 2, "meningioma": 1, "pituitary": 3}


def _three_class_phantoms(n, random_state=0):
    X, y = make_synthetic_mri(2 * n, image_size=48, random_state=random_state)
    keep = np.flatnonzero(y > 0)[:n]  # phantom class 0 has no lesion: not a tumour type
    return X[keep], y[keep] - 1


def _data(n=60, slices_per_patient=3, folds=None):
    X, y = _three_class_phantoms(n)
    X[1] = X[0]  # a copy across two patients when they land in different folds
    y[1] = y[0]
    return ExperimentData(
        X, y, list(CLASSES), None, np.array([f"{i}.mat" for i in range(n)]),
        np.array([f"{i:064x}" for i in range(n)]), "phantoms",
        groups=np.arange(n) // slices_per_patient, folds=folds,
    )  # fmt: skip


def test_group_kfold_keeps_each_patient_in_one_fold_and_tests_every_image_once():
    data = _data()
    arms, _ = GroupKFoldSplit(n_splits=5, random_state=0).arms(data, data.images)
    paper = [arm for arm in arms if arm.name == "paper"]
    clean = [arm for arm in arms if arm.name == "leakage_free"]
    assert [arm.fold for arm in paper] == [1, 2, 3, 4, 5] == [arm.fold for arm in clean]
    for side in (paper, clean):
        tested = np.concatenate([arm.test for arm in side])
        assert sorted(tested) == list(range(len(data.target)))  # each image tested once
        for arm in side:
            assert not set(data.groups[arm.train]) & set(data.groups[arm.test])
    for arm in clean:  # and no copy across on the leakage-free side
        audit = audit_split(data.images[arm.train], data.images[arm.test])
        assert audit.near_mask.sum() == 0
    assert paper[0].title == "paper's protocol, fold 1"


def test_published_folds_are_used_when_the_data_has_them():
    folds = (np.arange(60) // 3) % 5 + 1  # whole patients per fold, as cvind.mat
    data = _data(folds=folds)
    arms, _ = GroupKFoldSplit().arms(data, data.images)
    paper = [arm for arm in arms if arm.name == "paper"]
    for arm in paper:
        assert set(folds[arm.test]) == {arm.fold}
    assert "published 5 folds (0 of 20 patients in more than one fold)" in paper[0].description
    drawn, _ = GroupKFoldSplit(use_published_folds=False).arms(data, data.images)
    assert "StratifiedGroupKFold" in drawn[0].description


def test_a_split_by_patient_needs_patient_ids():
    data = dataclasses.replace(_data(), groups=None)
    with pytest.raises(ValueError, match="has no patient IDs"):
        GroupKFoldSplit().arms(data, data.images)


def test_a_new_protocol_is_a_subclass_not_a_branch_in_the_runner():
    class FirstHalf(Split):
        """Train on the first half, test on the second (both arms the same here)."""

        def arms(self, data, images):
            half = len(data.target) // 2
            train, test = np.arange(half), np.arange(half, len(data.target))
            return [Arm("paper", train, test, "first half"),
                    Arm("leakage_free", train, test, "first half")], ["halved"]  # fmt: skip

    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.preprocessing import ImageFlattener

    recipe = Recipe(
        name="halves", letter="", title="t", citation="c", task="multiclass", data="d",
        split=FirstHalf(), classes=tuple(CLASSES), reported={}, reported_source="",
        models=lambda config: [Model("majority", lambda config: make_pipeline(
            ImageFlattener(), DummyClassifier()))],
        profiles={"quick": {"deviations": []}, "paper": {"deviations": []}},
        metrics=("accuracy",), protocol="p",
    )  # fmt: skip
    result = run_recipe(recipe, _data(), device="cpu", log=lambda line: None)
    assert result.split_notes == ["halved"]
    assert [r["arm"] for r in result.records] == ["paper", "leakage_free"]
    # images of two collections in one dataset: the report counts them
    data = _data()
    data.source = np.where(np.arange(len(data.target)) < 20, "figshare", "sartaj")
    result = run_recipe(recipe, data, device="cpu", log=lambda line: None)
    text = render_markdown(result, argv=["reproduce", "halves"], figures=[])
    assert "- Collections: figshare 20, sartaj 40." in text


@pytest.fixture
def figshare_folder(tmp_path):
    """60 phantom slices of 20 patients in the figshare .mat layout, with cvind.mat."""
    X, y = _three_class_phantoms(60, random_state=1)
    root = tmp_path / "figshare"
    root.mkdir()
    for i, (image, label) in enumerate(zip(X, y, strict=True), 1):
        pid = f"P{(i - 1) // 3:03d}"
        (root / f"{i}.mat").write_bytes(
            mat_slice(image.astype(np.int16) * 8, CODES[CLASSES[label]], pid)
        )
    with h5py.File(root / "cvind.mat", "w") as handle:
        handle["cvind"] = ((np.arange(60) // 3) % 5 + 1).astype(float)[None, :]
    return root


def test_the_figshare_recipe_runs_patient_wise_on_the_dataset_layout(figshare_folder, tmp_path):
    data = load_experiment_data(figshare_folder)
    assert data.target_names == CLASSES
    assert len(np.unique(data.groups)) == 20 and sorted(np.unique(data.folds)) == [1, 2, 3, 4, 5]
    assert (data.sources == "figshare").all()
    recipe = RECIPES["cheng"]
    assert isinstance(recipe.split, GroupKFoldSplit) and recipe.classes == tuple(CLASSES)
    tiny = dataclasses.replace(recipe, profiles={**recipe.profiles,
                                                 "quick": recipe.profiles["tiny"]})  # fmt: skip
    result = run_recipe(tiny, data, device="cpu", log=lambda line: None)
    for model in ("GLCM + SVM, whole slice", "GBMNet"):
        records = [r for r in result.records if r["model"] == model]
        assert sorted((r["arm"], r["fold"]) for r in records) == sorted(
            (arm, fold) for arm in ("paper", "leakage_free") for fold in range(1, 6)
        )
        tested = sum(r["metrics"]["n_samples"] for r in records if r["arm"] == "paper")
        assert tested == 60  # every slice tested once across the five folds
    assert "needs the tumour masks" in result.unavailable["Fisher vector, augmented tumour region"]
    out = write_report(result, tmp_path / "report", argv=["reproduce", "cheng"])
    text = (out / "report.md").read_text()
    assert "paper's protocol, fold 5" in text and "91.28" in text
    assert "published 5 folds (0 of 20 patients in more than one fold)" in text
    assert "- Patients: 20 (" in text


def test_a_four_class_recipe_refuses_the_three_class_figshare_data(figshare_folder):
    with pytest.raises(ValueError, match="classifies the classes"):
        run_recipe(RECIPES["gbmnet"], load_experiment_data(figshare_folder), device="cpu",
                   log=lambda line: None)  # fmt: skip
