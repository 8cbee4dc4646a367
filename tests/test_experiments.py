"""Recipes end to end at tiny size, the report folder, and `braintumor reproduce`."""

import dataclasses
import json
import os

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE

from sklearn_braintumor._cli import main
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.experiments import (
    RECIPES,
    ExperimentData,
    OfficialSplit,
    ShareOfReference,
    get_recipe,
    load_experiment_data,
    run_recipe,
    write_report,
)
from sklearn_braintumor.experiments import _report as report_module

NAMES = ["glioma", "meningioma", "notumor", "pituitary"]


def tiny(recipe):
    # every recipe's own tiny profile (the quick one with what makes it slow overridden), run
    # as its quick one: a recipe added later is tested the same way, with nothing to add here
    return dataclasses.replace(recipe, profiles={**recipe.profiles,
                                                 "quick": recipe.profiles["tiny"]})  # fmt: skip


def phantom_data(n_train=72, n_test=36, duplicate=True, classes=NAMES):
    """Synthetic data with an official split, three slices per "patient" (``groups``).

    Phantom class 0 (no lesion) is notumor; for ``classes`` without notumor
    (the figshare recipe's three tumour types) those phantoms are left out.
    """
    n = n_train + n_test
    X, y = make_synthetic_mri(2 * n, image_size=64, random_state=0)
    y = np.array([2, 0, 1, 3])[y]  # phantom class 0 has no lesion: call it notumor
    names_y = np.asarray(NAMES)[y]
    keep = np.flatnonzero(np.isin(names_y, classes))[:n]
    X, y = X[keep], np.array([list(classes).index(c) for c in names_y[keep]])
    subset = np.array(["train"] * n_train + ["test"] * n_test)
    if duplicate:  # a test image that is a copy of a training image
        X[n_train] = X[0]
        y[n_train] = y[0]
    names = np.array(
        [f"{s}/{classes[t]}/{i}.png" for i, (s, t) in enumerate(zip(subset, y, strict=True))]
    )
    return ExperimentData(
        X, y, list(classes), subset, names, np.array([f"{i:064x}" for i in range(len(y))]),
        "synthetic phantoms", groups=np.arange(len(y)) // 3,
    )  # fmt: skip


def test_registry_and_lookup():
    # the papers' recipes in their letters' order, then the library's own: a recipe added
    # later joins this order with nothing to add here
    names = list(RECIPES)
    assert names[:5] == ["liu", "barone", "liaqat", "gbmnet", "li"]
    letters = [RECIPES[name].letter for name in names]
    assert letters == sorted(letters, key=lambda letter: (letter == "", letter))
    assert {"recommended", "recommended-4class", "recommended-binary"} <= set(names)
    assert get_recipe("D") is RECIPES["gbmnet"] and get_recipe("e") is RECIPES["li"]
    with pytest.raises(ValueError, match=r"unknown recipe 'alexnet'; known: liu \(A\)"):
        get_recipe("alexnet")
    for recipe in RECIPES.values():
        assert set(recipe.profiles) == {"quick", "paper", "tiny"}
        for settings in recipe.profiles.values():
            assert isinstance(settings["deviations"], list)
        assert recipe.metrics
        assert recipe.reported or not recipe.letter  # every paper's recipe quotes its numbers
        for numbers in recipe.reported.values():
            assert all(0 < v <= 1 for v in numbers.values())  # fractions, not percent


@pytest.mark.parametrize("name", list(RECIPES))
def test_recipe_end_to_end(name, tmp_path):
    recipe = tiny(RECIPES[name])
    lines = []
    result = run_recipe(recipe, phantom_data(classes=recipe.classes), device="cpu",
                        log=lines.append)  # fmt: skip
    ran = {r["model"] for r in result.records}
    assert ran, "no model ran"
    assert ran | set(result.unavailable) == {m.name for m in recipe.models(_config(recipe))}
    for record in result.records:
        assert 0 <= record["metrics"]["accuracy"] <= 1
        assert record["arm"] in ("paper", "leakage_free")
    arms = {a.name: a for a in result.arms}
    # the leakage-free side never tests on an image that has a copy in its training part
    train, test = arms["leakage_free"].train, arms["leakage_free"].test
    assert len(np.intersect1d(train, test)) == 0
    if isinstance(recipe.split, OfficialSplit):
        assert len(test) < len(arms["paper"].test)  # the planted copy is left out
    if getattr(recipe.split, "dedupe", False):
        assert any("exact pixel duplicates removed: 1" in n for n in result.split_notes)
    assert any("training on" in line for line in lines)
    out = write_report(result, tmp_path / "report", argv=["reproduce", name])
    text = (out / "report.md").read_text()
    assert recipe.title in text and "braintumor reproduce " + name in text
    assert "tiny profile: a set-up check" in text
    data = json.loads((out / "results.json").read_text())
    assert data["recipe"] == recipe.name and data["runs"]
    assert data["data"]["file_list_sha256"] == result.data.file_list_hash
    figures = list((out / "figures").iterdir())
    assert figures and all(path.stat().st_size > 0 for path in figures)
    for path in figures:
        assert f"figures/{path.name}" in text


def _config(recipe):
    from sklearn_braintumor.experiments import RunConfig

    return RunConfig("quick", recipe.profiles["quick"], 0, "cpu", 0)


def test_recommended_screens_with_the_binary_recipe_and_types_with_the_4class_one():
    from sklearn_braintumor.classifiers import TwoStageClassifier

    def params(estimator):
        return {k: repr(v) for k, v in estimator.get_params().items()}

    config = _config(RECIPES["recommended"])
    model = RECIPES["recommended"].models(config)[0].build(config)
    assert isinstance(model, TwoStageClassifier) and model.n_jobs == 2
    for stage, name in ((model.screen, "recommended-binary"),
                        (model.estimator, "recommended-4class")):  # fmt: skip
        alone = RECIPES[name].models(config)[0].build(config)
        assert params(stage) == params(alone), name
    assert "TwoStageClassifier" in RECIPES["recommended"].protocol
    assert RECIPES["recommended"].coarse_training


def test_only_the_screen_blanks_the_head_rim():
    from sklearn_braintumor.preprocessing import IntensityScaler, RimRemover

    for name, blanks in (("recommended-binary", True), ("recommended-4class", False)):
        config = _config(RECIPES[name])
        pipeline = RECIPES[name].models(config)[0].build(config).estimator.estimator
        kinds = [type(step) for _, step in pipeline.steps]
        assert (RimRemover in kinds) is blanks, name
        if blanks:  # after the tissue scaling, which sets the background to 0
            assert kinds.index(RimRemover) == kinds.index(IntensityScaler) + 1
            assert pipeline.named_steps["rimremover"].width == 4
        assert ("RimRemover" in RECIPES[name].protocol) is blanks, name


def test_the_lesions_setting_gives_the_screen_mass_lesions_seeded_by_the_run():
    from sklearn_braintumor.experiments import RunConfig
    from sklearn_braintumor.sampling import SyntheticLesions

    for name, settings, expected in (
        ("recommended-binary", {}, None),
        ("recommended-binary", {"lesions": "mass"}, "mass"),
        ("recommended-4class", {"lesions": "mass"}, None),  # the 4-class network: never
    ):
        recipe = RECIPES[name]
        config = RunConfig("quick", {**recipe.profiles["quick"], **settings}, seed=3)
        clf = recipe.models(config)[0].build(config).estimator.estimator[-1]
        if expected is None:
            assert clf.sampler is None, (name, settings)
        else:
            assert isinstance(clf.sampler, SyntheticLesions)
            assert (clf.sampler.lesion, clf.sampler.random_state) == (expected, 3)


def test_unavailable_rows_are_reported_not_invented():
    recipe = tiny(RECIPES["gbmnet"])
    result = run_recipe(recipe, phantom_data(), device="cpu", log=lambda line: None)
    reason = result.unavailable["GBM_MobileNetV2net (frozen)"]
    assert "profile leaves the ImageNet-size backbones out" in reason
    table = report_module.results_table(result)
    row = next(line for line in table.splitlines() if "GBM_MobileNetV2net" in line)
    assert "77.31" in row and "not run:" in row  # the paper's number, and no number of ours


def test_seeds_give_mean_and_std(tmp_path):
    result = run_recipe(tiny(RECIPES["recommended"]), phantom_data(), seeds=2, device="cpu",
                        log=lambda line: None)  # fmt: skip
    assert [r["seed"] for r in result.records] == [0, 0, 1, 1]
    stats = report_module.aggregate(result)["paper"]["GBMNet, screened"]
    mean, std, n = stats["accuracy"]
    values = [r["metrics"]["accuracy"] for r in result.records if r["arm"] == "paper"]
    assert (
        n == 2 and mean == pytest.approx(np.mean(values)) and std == pytest.approx(np.std(values))
    )
    assert " ± " in report_module.results_table(result)


def test_binary_recipes_binarize_and_four_class_recipes_refuse_binary_data():
    data = phantom_data()
    binary = data.binarized()
    assert binary.target_names == ["notumor", "tumor"]
    np.testing.assert_array_equal(binary.target, (data.target != 2).astype(int))
    assert "notumor" in binary.notes[0]
    with pytest.raises(ValueError, match=r"classifies the classes \['glioma', 'meningioma'"):
        run_recipe(tiny(RECIPES["gbmnet"]), binary, device="cpu")
    odd = dataclasses.replace(data, target_names=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="cannot binarize"):
        odd.binarized()
    with pytest.raises(ValueError, match=r"classifies the classes .*has classes \['a', 'b'"):
        run_recipe(tiny(RECIPES["gbmnet"]), odd, device="cpu")
    # the class list is the recipe's: a recipe of other classes runs on data that has them
    abcd = dataclasses.replace(tiny(RECIPES["li"]), classes=("a", "b", "c", "d"))
    result = run_recipe(abcd, odd, device="cpu", log=lambda line: None)
    assert result.records
    no_split = dataclasses.replace(data, subset=None)
    with pytest.raises(ValueError, match="official Training/Testing split"):
        run_recipe(tiny(RECIPES["recommended"]), no_split, device="cpu")


def test_bad_run_options():
    recipe, data = tiny(RECIPES["recommended"]), phantom_data()
    with pytest.raises(ValueError, match="'profile' parameter of run_recipe must be one of"):
        run_recipe(recipe, data, profile="huge")
    with pytest.raises(ValueError, match="'seeds' parameter of run_recipe"):
        run_recipe(recipe, data, seeds=0)
    with pytest.raises(ValueError, match="'device' parameter must be"):
        run_recipe(recipe, data, device="tpu")
    with pytest.raises(ValueError, match="no CUDA device"):
        run_recipe(recipe, data, device="cuda")


def test_share_of_reference_with_smote():
    X = np.random.default_rng(0).normal(size=(130, 4))
    y = np.repeat([0, 1, 2, 3], [20, 30, 60, 20])
    names = np.array(NAMES)[y]
    strategy = ShareOfReference()  # names the classes: the classifier passes real labels
    _, resampled = SMOTE(sampling_strategy=strategy, random_state=0).fit_resample(X, names)
    counts = [int((resampled == name).sum()) for name in NAMES]
    assert counts == [51, 30, 60, 20]  # glioma to 85 % of notumor, nothing else
    assert strategy(np.repeat(["glioma", "notumor"], [90, 60])) == {"glioma": 90}  # never shrinks


def test_report_is_atomic_and_never_silently_overwritten(tmp_path, monkeypatch):
    result = run_recipe(tiny(RECIPES["recommended"]), phantom_data(), device="cpu",
                        log=lambda line: None)  # fmt: skip
    out = write_report(result, tmp_path / "run")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # not the 0700 of a temporary folder
    first = (out / "results.json").read_text()
    with pytest.raises(FileExistsError, match="--overwrite"):
        write_report(result, out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "_figures", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(result, tmp_path / "other")
    with pytest.raises(KeyboardInterrupt):
        write_report(result, out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no half report, no debris
    assert (out / "results.json").read_text() == first  # the earlier report is untouched
    monkeypatch.undo()
    write_report(result, out, overwrite=True, argv=["reproduce", "again"])
    assert "braintumor reproduce again" in (out / "report.md").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def _write_folder(root, layout):
    from PIL import Image

    rng = np.random.default_rng(0)
    for relative, count in layout.items():
        folder = root / relative
        folder.mkdir(parents=True)
        for i in range(count):
            Image.fromarray(rng.integers(0, 255, (20, 24), dtype=np.uint8)).save(
                folder / f"img {i}.png"
            )


def test_load_experiment_data_layouts(tmp_path):
    four = tmp_path / "four"
    _write_folder(four, {f"{part}/{name}": 2 for part in ("Training", "Testing")
                         for name in NAMES})  # fmt: skip
    data = load_experiment_data(four)
    assert data.target_names == NAMES and len(data.target) == 16
    assert sorted(set(data.subset)) == ["test", "train"] and (data.subset == "train").sum() == 8
    assert data.filenames[0] == "Training/glioma/img 0.png"  # relative: the hash is portable
    assert len(data.file_list_hash) == 64
    yes_no = tmp_path / "yesno"
    _write_folder(yes_no, {"no": 3, "yes": 4})
    data = load_experiment_data(yes_no)
    assert data.subset is None and data.binarized().counts() == {"notumor": 3, "tumor": 4}
    sample = load_experiment_data()
    assert len(sample.target) == 800 and "embedded sample" in sample.description
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_experiment_data(tmp_path / "missing")
    with pytest.raises(ValueError, match="not both"):
        load_experiment_data(four, "brain-mri-yes-no")
    with pytest.raises(FileNotFoundError, match="braintumor fetch brain-mri-yes-no"):
        load_experiment_data(dataset="brain-mri-yes-no")


def test_cli_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for recipe in RECIPES.values():
        assert recipe.name in out and recipe.title in out
    assert "gbmnet (D)" in out
    # every title starts in the same column, after the longest name
    starts = {line.index(recipe.title) for recipe in RECIPES.values()
              for line in out.splitlines() if recipe.title in line}  # fmt: skip
    assert len(starts) == 1


def test_cli_reproduce(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(RECIPES, "recommended", tiny(RECIPES["recommended"]))
    out = tmp_path / "rec"
    argv = ["reproduce", "recommended", "--out", str(out), "--device", "cpu", "--quiet",
            "--save-model"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "leakage-free protocol" in printed and "report: " in printed
    report = (out / "report.md").read_text()
    # figures measured on the full dataset are not set beside the sample's
    assert "embedded sample" in report and "93.14" not in report
    assert "measured on the full dataset, not on the embedded sample" in report
    # the command as it reproduces the run: where it wrote (--out) is the user's own choice
    assert "braintumor reproduce recommended --device cpu --quiet --save-model" in report
    assert str(out) not in report
    from sklearn_braintumor.datasets import load_sample
    from sklearn_braintumor.utils import load

    model = load(out / "models" / "gbmnet-screened.btm")
    assert list(model.classes_) == NAMES  # class names, not indices, for `braintumor predict`
    assert set(model.predict(load_sample("test").images[:5])) <= set(NAMES)
    assert main(argv) == 1  # an existing report is refused before anything runs
    assert "--overwrite" in capsys.readouterr().err
    assert main(["reproduce", "nope"]) == 1
    assert "unknown recipe" in capsys.readouterr().err


def test_backbone_rows_build_and_train_where_torchvision_loads():
    from sklearn.base import clone

    from sklearn_braintumor.experiments import RunConfig

    settings = {**RECIPES["liaqat"].profiles["tiny"], "backbones": True, "max_epochs": 1}
    config = RunConfig("quick", settings, 0, "cpu", 0)
    for name in ("liu", "liaqat", "gbmnet"):
        recipe = RECIPES[name]
        rows_config = RunConfig("quick", {**recipe.profiles["tiny"], "backbones": True}, 0,
                                "cpu", 0)  # fmt: skip
        for model in recipe.models(rows_config):
            if model.build is not None:  # every row that names a network builds a pipeline
                assert hasattr(clone(model.build(rows_config)), "fit")
    row = next(m for m in RECIPES["liaqat"].models(config) if m.name == "ResNet50 (random init)")
    reason = row.unavailable(config)
    if reason is not None:
        pytest.skip(reason)  # torchvision missing or not loadable beside this torch
    X, y = make_synthetic_mri(24, image_size=32, random_state=0)
    labels = np.array(["notumor", "tumor"])[(y > 0).astype(int)]
    fitted = clone(row.build(config)).fit(X, labels)
    assert fitted.predict_proba(X[:3]).shape == (3, 2)
    imagenet = next(m for m in RECIPES["liaqat"].models(config) if m.name == "VGG16 (ImageNet)")
    if (reason := imagenet.unavailable(config)) is not None:
        assert reason.startswith("ImageNet weights not available")


def test_reference_figures_only_beside_runs_on_the_full_data():
    from sklearn_braintumor.experiments._report import results_table

    recipe = tiny(RECIPES["recommended"])
    result = run_recipe(recipe, phantom_data(), device="cpu", log=lambda line: None)
    assert "93.14" in results_table(result)  # a folder of the dataset: the peer's figure shown
    result.data.name = "sample"
    assert "93.14" not in results_table(result)


def test_profiles_are_checked_when_a_recipe_is_defined():
    recipe = RECIPES["li"]
    paper = {**recipe.profiles["paper"]}
    paper["max_epoch"] = paper.pop("max_epochs")  # misspelt
    with pytest.raises(ValueError, match=r"profile 'paper' names the knobs \['max_epoch', "):
        dataclasses.replace(recipe, profiles={"quick": recipe.profiles["quick"], "paper": paper})
    with pytest.raises(ValueError, match=r"tiny overrides \['image_sise'\]"):
        dataclasses.replace(recipe, tiny={"image_sise": 8})


def test_a_new_recipe_is_one_new_module(tmp_path, monkeypatch):
    import sys

    import sklearn_braintumor.experiments as experiments

    (tmp_path / "_cheng.py").write_text(
        "import dataclasses\n"
        "from ._li import RECIPE as _LI\n"
        "RECIPE = dataclasses.replace(_LI, name='cheng', letter='F')\n"
    )
    monkeypatch.setattr(experiments, "__path__", [*experiments.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "sklearn_braintumor.experiments._cheng", raising=False)
    found = experiments._discover()
    assert list(found)[:6] == ["liu", "barone", "liaqat", "gbmnet", "li", "cheng"]
    assert found["li"] is RECIPES["li"]  # imported by the new module, still listed once
    sys.modules.pop("sklearn_braintumor.experiments._cheng", None)


def test_imagenet_size_rows_of_the_paper_profile_say_no_gpu_on_a_cpu():
    from sklearn_braintumor.experiments import RunConfig

    recipe = RECIPES["liaqat"]
    rows = {m.name: m for m in recipe.models(RunConfig("paper", recipe.profiles["paper"]))}
    row = rows["VGG16 (random init)"]
    reason = row.unavailable(RunConfig("paper", recipe.profiles["paper"], device="cpu"))
    assert reason.startswith("no GPU:") and "--device cuda" in reason
    assert rows["SimpleCNN"].unavailable is None
