"""Scans from other collections: multi-source loading, the source splitter, the confound
audit, coarse labels, cross-source scoring in recipes, and `braintumor evaluate`."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from sklearn_braintumor._cli import main
from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import ImageSource, load_image_sources, make_synthetic_mri
from sklearn_braintumor.experiments import RECIPES, ExperimentData, run_recipe, write_report
from sklearn_braintumor.experiments import _cross_source as xs
from sklearn_braintumor.experiments._cross_source import collapse
from sklearn_braintumor.model_selection import LeaveOneSourceOut, source_audit
from sklearn_braintumor.nn import BatchAugment, CoarseLabelLoss
from sklearn_braintumor.utils._hashing import hamming_distances
from sklearn_braintumor.utils._traversal import find_classifier

NAMES = ["glioma", "meningioma", "notumor", "pituitary"]
TUMOR_TYPES = {"tumor": ["glioma", "meningioma", "pituitary"]}


def _write(folder, images):
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"img {i}.png")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A 4-class folder (Training/Testing) and a yes/no folder of phantoms."""
    root = tmp_path_factory.mktemp("sources")
    X, y = make_synthetic_mri(64, image_size=48, random_state=1)
    for part, rows in (("Training", slice(0, 48)), ("Testing", slice(48, 64))):
        for k, name in enumerate(NAMES):
            _write(root / "four" / part / name, X[rows][y[rows] == (k + 1) % 4])
    Xb, yb = make_synthetic_mri(20, n_classes=2, image_size=40, random_state=2)
    _write(root / "yesno" / "yes", Xb[yb == 1])
    _write(root / "yesno" / "no", Xb[yb == 0])
    return root


# -- loading -------------------------------------------------------------------------------------


def test_load_image_sources_maps_labels_and_keeps_the_source(folders):
    data = load_image_sources([folders / "four", f"{folders / 'yesno'}:yes=tumor,no=notumor"])
    assert data.source_names == ["four", "yesno"]
    assert sorted(set(data.source)) == ["four", "yesno"]
    assert (data.source == "yesno").sum() == 20 and (data.source == "four").sum() == 64
    assert data.target_names == [*NAMES, "tumor"]  # first appearance: 4-class, then "tumor"
    labels = np.asarray(data.target_names)[data.target]
    yes = (data.source == "yesno") & (data.folder_label == "yes")
    assert set(labels[yes]) == {"tumor"}
    assert set(labels[(data.source == "yesno") & (data.folder_label == "no")]) == {"notumor"}
    assert set(data.subset[data.source == "four"]) == {"train", "test"}
    assert set(data.subset[data.source == "yesno"]) == {""}
    assert data.images.dtype == object  # 48 px and 40 px images stay a list
    assert len(data.sha256) == len(data.filenames) == len(data.target) == 84
    assert "yes -> tumor" in data.DESCR


def test_image_source_parse_and_bad_mappings(folders):
    source = ImageSource.parse("/data/yes-no:yes=tumour,no=notumor")
    assert source.name == "yes-no" and source.mapping == {"yes": "tumour", "no": "notumor"}
    assert ImageSource.parse("/data/yes-no").mapping is None
    with pytest.raises(ValueError, match="is empty"):
        ImageSource(folders / "yesno", {})
    with pytest.raises(ValueError, match=r"'maybe' is not CLASS=LABEL"):
        ImageSource.parse("dir:yes=tumor,maybe")
    # a class folder the mapping does not cover: named, before any image is decoded
    with pytest.raises(ValueError, match=r"class folder\(s\) \['no'\] match no mapping entry"):
        load_image_sources([f"{folders / 'yesno'}:yes=tumor"])
    with pytest.raises(ValueError, match=r"mapped class\(es\) \['maybe'\] have no folder"):
        load_image_sources([f"{folders / 'yesno'}:yes=tumor,no=notumor,maybe=tumor"])
    with pytest.raises(ValueError, match="share a name"):
        load_image_sources([folders / "yesno", folders / "yesno"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_sources([folders / "missing"])


# -- leave one source out ------------------------------------------------------------------------


def test_leave_one_source_out_never_mixes_sources():
    rng = np.random.default_rng(0)
    sources = rng.choice(["a", "b", "c", "d"], size=60)
    X = np.zeros((60, 3))
    cv = LeaveOneSourceOut()
    splits = list(cv.split(X, groups=sources))
    assert cv.get_n_splits(groups=sources) == len(splits) == 4
    for (train, test), name in zip(splits, ["a", "b", "c", "d"], strict=True):
        assert set(sources[test]) == {name}
        assert name not in set(sources[train])
        assert len(train) + len(test) == 60
    chosen = list(LeaveOneSourceOut(test_sources=["c"]).split(X, groups=sources))
    assert len(chosen) == 1 and set(sources[chosen[0][1]]) == {"c"}
    with pytest.raises(ValueError, match="needs groups"):
        list(cv.split(X))
    with pytest.raises(ValueError, match="at least 2 sources"):
        list(cv.split(X, groups=["a"] * 60))
    with pytest.raises(ValueError, match=r"not present: \['e'\]"):
        list(LeaveOneSourceOut(test_sources=["e"]).split(X, groups=sources))
    # as a scikit-learn cv: the held-out source is scored by a model that never saw it
    y = rng.integers(0, 2, 60)
    scores = cross_val_score(LogisticRegression(), rng.normal(size=(60, 3)), y, groups=sources,
                             cv=LeaveOneSourceOut())  # fmt: skip
    assert len(scores) == 4


# -- confound audit ------------------------------------------------------------------------------


def _styled(X, rng):
    """A collection's "style": darker, more contrast, a scanner's grain."""
    out = X.astype(float) ** 1.3 / 255**0.3
    out += rng.normal(0, 12, X.shape) * (X > 0)
    return np.clip(out, 0, 255).astype(np.uint8)


def test_audit_finds_a_planted_collection_style_and_not_a_missing_one():
    rng = np.random.default_rng(0)
    X, y = make_synthetic_mri(160, n_classes=2, image_size=48, random_state=3)
    labels = np.where(y == 1, "tumor", "notumor")
    sources = np.repeat(["first", "second"], 80)
    styled = X.copy()
    styled[80:] = _styled(X[80:], rng)
    confounded = source_audit(styled, sources, labels)
    assert {row["label"] for row in confounded.rows} == {"notumor", "tumor"}
    assert confounded.max_within_class > 0.9  # told apart within each label
    assert confounded.overall["balanced_accuracy"] > 0.9
    clean = source_audit(X, sources, labels)
    assert clean.max_within_class < 0.75  # same generator: near chance (0.5)
    assert "source told apart" in clean.to_markdown()
    with pytest.raises(ValueError, match="at least 2 sources"):
        source_audit(X, np.repeat("one", 160))
    # float images on [0, 1] and 16-bit images are read on their own scale, as uint8 ones
    from sklearn_braintumor.model_selection._sources import _style_features

    reference = _style_features(styled)
    for scaled in (styled.astype(np.float32) / 255, styled.astype(np.uint16) * 257):
        features = _style_features(scaled)
        np.testing.assert_allclose(features[:, : 32 * 32], reference[:, : 32 * 32], atol=0.01)
        histogram_change = np.abs(features[:, 32 * 32 :] - reference[:, 32 * 32 :]).sum(axis=1)
        assert histogram_change.max() < 0.2


# -- coarse labels -------------------------------------------------------------------------------


def test_coarse_label_loss_is_minus_log_of_the_group_probability():
    logits = torch.tensor([[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 0.0]])
    groups = torch.tensor([[True, True, False, True]])
    loss = CoarseLabelLoss(torch.nn.CrossEntropyLoss, groups)
    p = torch.softmax(logits, 1)
    expected_coarse = -torch.log(p[1, [0, 1, 3]].sum())
    expected_fine = torch.nn.functional.cross_entropy(logits[:1], torch.tensor([1]))
    got = loss(logits, torch.tensor([1, 4]))
    assert torch.allclose(got, (expected_fine + expected_coarse) / 2)
    assert torch.allclose(
        loss(logits, torch.tensor([1, 2])),
        torch.nn.functional.cross_entropy(logits, torch.tensor([1, 2])),
    )


def test_cnn_learns_from_coarse_labels_without_making_them_classes():
    X, y = make_synthetic_mri(96, image_size=32, random_state=0)
    labels = np.array(["notumor", "glioma", "meningioma", "pituitary"], dtype=object)[y]
    labels[:24] = np.where(y[:24] > 0, "tumor", "notumor")
    clf = CNNClassifier(max_epochs=2, random_state=0, module__hidden=16, batch_size=16,
                        coarse_labels=TUMOR_TYPES).fit(X, labels)  # fmt: skip
    assert list(clf.classes_) == NAMES and clf.predict_proba(X[:3]).shape == (3, 4)
    coarse = np.flatnonzero(labels == "tumor")
    assert not np.isin(clf.valid_indices_, coarse).any()  # validation: fully labelled only
    with pytest.raises(ValueError, match=r"groups \['astrocytoma'\], which no image of y has"):
        CNNClassifier(max_epochs=1, coarse_labels={"tumor": ["glioma", "astrocytoma"]}).fit(
            X, labels
        )
    with pytest.raises(ValueError, match="coarse_labels must be a dict"):
        CNNClassifier(max_epochs=1, coarse_labels={"tumor": "glioma"}).fit(X, labels)


def test_copies_of_coarse_images_stay_out_of_validation_with_groups():
    from sklearn_braintumor.model_selection import LeakageFreeSplit

    X, y = make_synthetic_mri(96, image_size=32, random_state=0)
    labels = np.array(["notumor", "glioma", "meningioma", "pituitary"], dtype=object)[y]
    labels[:24] = np.where(y[:24] > 0, "tumor", "notumor")  # a yes/no collection
    groups = np.arange(96)
    groups[24:48] = groups[:24]  # each of its scans has a copy among the typed ones
    tied = np.arange(24, 48)[labels[:24] == "tumor"]  # fully labelled copies of coarse scans
    for seed in range(3):
        split = LeakageFreeSplit(test_size=0.25, random_state=seed)
        clf = CNNClassifier(max_epochs=1, random_state=0, module__hidden=4,
                            coarse_labels=TUMOR_TYPES, train_split=split)  # fmt: skip
        valid = clf.fit(X, labels, groups=groups).valid_indices_
        assert (
            not np.isin(valid, tied).any()
            and not np.isin(valid, np.flatnonzero(labels == "tumor")).any()
        )
        assert len(valid) >= 10
    # without groups the splitter judges copies on the pixels: these are not copies
    valid = clf.fit(X, labels).valid_indices_
    assert np.isin(valid, tied).any()


def test_intensity_augmentation_keeps_the_background_and_the_anatomy():
    x = torch.rand(8, 1, 16, 16) * 0.9 + 0.05
    x[..., :3, :] = 0  # background rows
    augment = BatchAugment(horizontal_flip=0, gamma=0.5, contrast=0.4, brightness=0.1,
                           invert=0.5, histogram_swap=0.5).train()  # fmt: skip
    torch.manual_seed(0)
    out = augment(x)
    assert torch.all(out[..., :3, :] == 0) and out.min() >= 0 and out.max() <= 1
    assert not torch.allclose(out, x)
    swap = BatchAugment(horizontal_flip=0, histogram_swap=1.0).train()
    swapped = swap(x)
    for a, b in zip(x.flatten(1), swapped.flatten(1), strict=True):  # same order of grey levels
        inside = a > 0
        assert torch.equal(a[inside].argsort(), b[inside].argsort())
    assert torch.equal(augment.eval()(x), x)
    with pytest.raises(ValueError, match="'invert' parameter of BatchAugment"):
        BatchAugment(invert=2.0)
    with pytest.raises(ValueError, match="'contrast' parameter of BatchAugment"):
        BatchAugment(contrast=1.5)


def test_intensity_curves_can_brighten_dark_and_bright_tissue_alike():
    from sklearn_braintumor.nn._augment import CURVE_SEGMENTS

    levels = torch.linspace(0.02, 1.0, 50)
    x = levels.repeat(64, 1, 4, 1)  # 64 images, each every grey level
    x[..., 0, :] = 0  # a background row
    curve = BatchAugment(horizontal_flip=0, intensity_curve=1.0).train()
    torch.manual_seed(0)
    out = curve(x)
    assert torch.all(out[..., 0, :] == 0) and out.min() >= 0 and out.max() <= 1
    tissue = out[:, 0, 1]  # the curve each image went through, over the grey levels
    # piecewise linear through CURVE_SEGMENTS + 1 levels: the same input, the same output
    assert torch.equal(out[:, 0, 1], out[:, 0, 3])
    steps = tissue.diff(dim=1)
    assert ((steps > 0).any(1) & (steps < 0).any(1)).any()  # some curves are not monotonic
    assert CURVE_SEGMENTS >= 2
    half = BatchAugment(horizontal_flip=0, intensity_curve=0.5).train()
    torch.manual_seed(1)
    changed = (half(x) != x).flatten(1).any(1).float().mean()
    assert 0.25 < changed < 0.75
    assert torch.equal(curve.eval()(x), x)
    with pytest.raises(ValueError, match="'intensity_curve' parameter of BatchAugment"):
        BatchAugment(intensity_curve=1.5)


def test_random_convolutions_restyle_texture_keep_shapes_background_and_tissue_levels(monkeypatch):
    from sklearn_braintumor.datasets import make_synthetic_mri
    from sklearn_braintumor.nn import _augment

    # a 1 x 1 kernel on grey images only keeps or inverts the contrast: larger ones here
    monkeypatch.setattr(_augment, "RANDOM_CONV_SIDES", (3, 5, 7))

    images, _ = make_synthetic_mri(32, image_size=48, random_state=0)
    x = torch.as_tensor(images[:, None] / 255.0, dtype=torch.float32)
    head = x > 1e-3
    conv = BatchAugment(horizontal_flip=0, random_conv=1.0).train()
    torch.manual_seed(0)
    out = conv(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.all(out[~head] == 0) and out.min() >= 0 and out.max() <= 1
    changed = (out - x).abs().flatten(1).amax(1) > 1e-3
    assert changed.float().mean() > 0.8  # a mixing share near 1 leaves an image nearly as it was

    # the tissue keeps about its own mean grey level: the style changes, not the exposure
    def tissue_mean(images):
        return (images * head).flatten(1).sum(1) / head.flatten(1).sum(1)

    assert torch.allclose(tissue_mean(x), tissue_mean(out), atol=0.08)
    torch.manual_seed(0)
    assert torch.equal(conv(x), out)  # torch's generator decides everything
    half = BatchAugment(horizontal_flip=0, random_conv=0.5).train()
    torch.manual_seed(1)
    share = ((half(x) - x).abs().flatten(1).amax(1) > 1e-3).float().mean()
    assert 0.2 < share < 0.8
    assert torch.equal(conv.eval()(x), x)
    with pytest.raises(ValueError, match="'random_conv' parameter of BatchAugment"):
        BatchAugment(random_conv=1.5)


# -- recipes scored on other collections ---------------------------------------------------------


def _phantoms(n, seed, size=64, names=NAMES):
    X, y = make_synthetic_mri(n, image_size=size, random_state=seed)
    return X, np.array([2, 0, 1, 3])[y] if names is NAMES else y


def _four_class(n_train=72, n_test=36):
    X, y = _phantoms(n_train + n_test, 0)
    subset = np.array(["train"] * n_train + ["test"] * n_test)
    files = np.array([f"{s}/{i}.png" for i, s in enumerate(subset)])
    return ExperimentData(X, y, list(NAMES), subset, files,
                          np.array([f"{i:064x}" for i in range(len(y))]), "phantoms",
                          name="four")  # fmt: skip


def _yes_no(four, n=30, copies=2):
    X, y = make_synthetic_mri(n, n_classes=2, image_size=56, random_state=7)
    X, y = list(X), y.copy()
    train = np.flatnonzero(four.subset == "train")
    for k in range(copies):  # copies of 4-class training tumours, labelled yes
        index = train[np.flatnonzero(four.target[train] != 2)[k]]
        X[k], y[k] = four.images[index], 1
    return ExperimentData(X, y, ["no", "yes"], None, np.array([f"{i}.png" for i in range(n)]),
                          np.array([f"{i + 500:064x}" for i in range(n)]), "yes/no phantoms",
                          name="yesno")  # fmt: skip


def _tiny(name):
    recipe = RECIPES[name]  # its own tiny profile, run as the quick one
    return dataclasses.replace(recipe, profiles={**recipe.profiles,
                                                 "quick": recipe.profiles["tiny"]})  # fmt: skip


def test_recipe_scored_on_another_collection_drops_copies_first(tmp_path):
    four = _four_class()
    yes_no = _yes_no(four)
    lines = []
    result = run_recipe(_tiny("recommended"), four, device="cpu", external=[yes_no],
                        log=lines.append)  # fmt: skip
    record = next(r for r in result.records if r["arm"] == "paper")
    scores = record["external"]["yesno"]
    assert scores["n_copies"] >= 2  # the planted copies of training images are not scored
    assert scores["n_tumor"] + scores["n_healthy"] + scores["n_copies"] == 30
    assert 0 <= scores["sensitivity"] <= 1 and 0 <= scores["specificity"] <= 1
    # the separation from the Testing healthy scans, whatever the threshold
    assert 0 <= scores["auc_vs_test_healthy"] <= 1
    # and from healthy scans with no copy trained on: Testing's without a copy in training
    # and the networks' validation scans (a split without copies)
    assert 0 <= scores["auc_vs_unseen_healthy"] <= 1 and scores["n_unseen_healthy"] > 0
    fitted = result.estimators["paper", record["model"]]
    # the validation scans counted are the screen's (its p(notumor) is the model's)
    screen = find_classifier(fitted.screen_)
    assert screen is not find_classifier(fitted)
    train, test = (np.flatnonzero(four.subset == side) for side in ("train", "test"))
    names = np.asarray(NAMES)
    valid_healthy = int(np.sum(names[four.target[train]][screen.valid_indices_] == "notumor"))
    images = list(four.images)
    unseen_test = ~xs.copies(xs.hashes([images[i] for i in test]),
                             xs.hashes([images[i] for i in train]))  # fmt: skip
    test_healthy = int(np.sum(unseen_test & (names[four.target[test]] == "notumor")))
    assert valid_healthy > 0
    assert scores["n_unseen_healthy"] == valid_healthy + test_healthy
    assert 0 < scores["n_unseen_healthy_scans"] <= scores["n_unseen_healthy"]
    assert result.audit["overall"]["counts"]["four"] == 108
    assert any("yesno: tumour sensitivity" in line for line in lines)
    out = write_report(result, tmp_path / "report")
    text = (out / "report.md").read_text()
    assert "| other source: yesno |" in text and "## Other sources" in text
    assert "source told apart" in text
    assert "against the healthy scans with no copy trained on (n " in text
    assert "distinct scans; each distinct scan counted once on both sides)" in text
    assert "ROC AUC of its tumours against the test set's healthy scans 0." in text
    saved = json.loads((out / "results.json").read_text())
    assert saved["other_sources"]["summary"]["GBMNet, screened"]["yesno"]
    # 4-class predictions collapse to tumour / no tumour
    assert collapse(["glioma", "notumor", "pituitary", "no_tumor"]).tolist() == [
        True, False, True, False,
    ]  # fmt: skip


def test_the_separation_counts_each_distinct_scan_once():
    # one healthy scan copied nine times among ten healthy images: counted per image, its
    # copies decide the AUC; counted per distinct scan, it is one scan of two
    p_tumours = np.array([0.2, 0.3, 0.4])
    p_healthy = np.r_[np.full(9, 0.1), 0.9]  # the copied scan looks like a tumour
    groups = np.r_[np.zeros(9, int), 1]
    assert xs.auc_vs_healthy(p_tumours, p_healthy) == pytest.approx(0.1)
    assert xs.auc_vs_healthy(p_tumours, p_healthy, healthy_groups=groups) == pytest.approx(0.5)
    # the tumour side too: two copies of the tumour found worst weigh one scan of two
    p_tumours = np.array([0.95, 0.95, 0.2])
    tumour_groups = np.array([0, 0, 1])
    assert xs.auc_vs_healthy(p_tumours, p_healthy[-2:]) == pytest.approx(1 / 6)
    assert xs.auc_vs_healthy(p_tumours, p_healthy[-2:],
                             tumour_groups=tumour_groups) == pytest.approx(1 / 4)  # fmt: skip
    assert xs.group_weights(np.array([3, 3, 5, 3])).tolist() == [1 / 3, 1 / 3, 1.0, 1 / 3]


def test_a_collection_trained_on_and_scored_is_held_out_in_part():
    four = _four_class()
    yes_no = _yes_no(four, copies=0)
    result = run_recipe(_tiny("recommended"), four, device="cpu", external=[yes_no],
                        train_extra=[yes_no], seeds=2)  # fmt: skip
    for record in result.records:
        if record["arm"] == "paper":
            scores = record["external"]["yesno"]
            assert scores["held_out"] and 5 <= scores["n_tumor"] + scores["n_healthy"] <= 15
    assert any("held out" in note for note in result.source_notes)
    added = [n for n in result.source_notes if "trained on (paper's protocol" in n]
    assert len(added) == 2  # a hold-out per seed


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_a_recipe_gives_its_network_the_copy_groups_of_the_images_as_loaded():
    from sklearn.dummy import DummyClassifier

    from sklearn_braintumor.experiments import Model

    class Recorder(DummyClassifier):
        def fit(self, X, y, groups=None):
            self.X_, self.groups_ = list(X), groups
            return super().fit(np.zeros((len(y), 1)), y)

    four = _four_class()
    yes_no = _yes_no(four, copies=2)  # two yes/no scans copy 4-class training tumours
    row = Model("recorder", lambda config: Recorder(), groups_param="groups")
    recipe = dataclasses.replace(_tiny("recommended"), models=lambda config: [row])
    result = run_recipe(recipe, four, device="cpu", train_extra=[yes_no])
    fitted = result.estimators["paper", "recorder"]
    X, groups = fitted.X_, np.asarray(fitted.groups_)
    assert len(groups) == len(X) > 72
    for i in range(len(X)):  # exact copies share a group: the planted ones, the repeats
        same = [j for j in range(len(X)) if np.array_equal(X[i], X[j])]
        assert len(set(groups[same].tolist())) == 1
    repeated = [i for i in range(72, len(X)) if sum(np.array_equal(X[i], x) for x in X) > 1]
    assert len(repeated) > 2  # coarse tumour scans, repeated per epoch
    planted = [i for i in range(72) if any(np.array_equal(four.images[i], x) for x in X[72:])]
    assert len(planted) == 2 and len(np.unique(groups)) < len(X)


def test_a_scan_on_a_wider_canvas_is_a_copy_and_held_out_with_it():
    X, _ = make_synthetic_mri(4, image_size=128, random_state=0)
    wider = np.pad(X[0], 16)  # the same scan with a wider black margin: another crop
    hashes = xs.hashes([*X, wider])
    assert hashes.shape == (5, 2)
    # the whole image's pHash misses it, the head's finds it
    assert hamming_distances(hashes[:1, 0], hashes[4:, 0])[0, 0] > xs.NEAR
    assert hamming_distances(hashes[:1, 1], hashes[4:, 1])[0, 0] <= xs.NEAR_HEAD
    assert xs.copies(hashes[4:], hashes[:4]).tolist() == [True]
    assert xs.copies(hashes[1:4], hashes[:1]).tolist() == [False, False, False]
    source = xs.SourceSet(None, [*X, wider], np.array(["tumor"] * 5, dtype=object),
                          np.ones(5, dtype=bool), hashes)  # fmt: skip
    sides = [xs.holdout(source, seed, fraction=0.5) for seed in range(6)]
    assert all(held[0] == held[4] for held in sides)  # never on both sides of the hold-out
    assert any(held[0] for held in sides) and not all(held[0] for held in sides)


def test_binary_recipe_and_bad_mappings_fail_before_training():
    four = _four_class()
    yes_no = _yes_no(four)
    result = run_recipe(_tiny("gbmnet"), four, device="cpu", external=[yes_no])
    assert "sensitivity" in result.records[0]["external"]["yesno"]
    lines = []
    unknown = dataclasses.replace(yes_no, target_names=["no", "cancer"])
    with pytest.raises(ValueError, match=r"yesno: label 'cancer' is not a class the model knows"):
        run_recipe(_tiny("recommended"), four, device="cpu", external=[unknown], log=lines.append)
    assert lines == []  # refused before anything ran
    with pytest.raises(ValueError, match="cannot train this recipe's 4-class models"):
        run_recipe(_tiny("gbmnet"), four, device="cpu", train_extra=[yes_no], log=lines.append)
    assert lines == []


def test_cli_reproduce_external_and_evaluate(folders, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(RECIPES, "recommended", _tiny("recommended"))
    out = tmp_path / "rec"
    yes_no = f"{folders / 'yesno'}:yes=tumour,no=notumor"
    argv = ["reproduce", "recommended", "--data", str(folders / "four"), "--external", yes_no,
            "--out", str(out), "--device", "cpu", "--quiet", "--save-model"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "scored on: yesno" in printed and "other source: yesno" in printed
    model = out / "models" / "gbmnet-screened.btm"
    report = tmp_path / "eval.json"
    assert main(["evaluate", str(model), str(folders / "yesno"), "--map", "yes=tumor,no=notumor",
                 "--json", str(report)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "tumour sensitivity" in printed and "true \\ predicted" in printed
    saved = json.loads(report.read_text())
    assert saved["n_images"] == 20 and saved["classes"] == NAMES
    assert sum(map(sum, saved["confusion_matrix"])) == 20
    # the separation whatever the threshold, and how unlike the training collections
    from sklearn.metrics import roc_auc_score

    from sklearn_braintumor.classifiers import shift_score
    from sklearn_braintumor.datasets import load_image_folder
    from sklearn_braintumor.utils import load

    loaded, scans = load(model), load_image_folder(folders / "yesno")
    tumor = np.asarray(scans.target_names)[scans.target] == "yes"
    p_healthy = loaded.predict_proba(list(scans.images))[:, NAMES.index("notumor")]
    assert saved["roc_auc"] == pytest.approx(roc_auc_score(tumor, 1 - p_healthy))
    shift = shift_score(loaded, list(scans.images))
    assert saved["shift_median"] == pytest.approx(np.median(shift), rel=1e-5)
    assert saved["shifted_share"] == pytest.approx(np.mean(shift >= 1))
    assert "ROC AUC, tumour vs healthy" in printed and "model card's accuracy" in printed
    assert saved["n_not_mri"] == 0 and "not brain MRI slices" not in printed
    # a blank image among the scans is counted (and stays in the figures, as labelled)
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(folders / "yesno" / "no" / "blank.png")
    try:
        again = ["evaluate", str(model), str(folders / "yesno"), "--map", "yes=tumor,no=notumor",
                 "--json", str(report), "--overwrite"]  # fmt: skip
        assert main(again) == 0
    finally:
        (folders / "yesno" / "no" / "blank.png").unlink()
    assert json.loads(report.read_text())["n_not_mri"] == 1
    assert "not brain MRI slices (photographs, pages, noise, blanks): 1" in capsys.readouterr().out
    # bad mappings are refused before any training or prediction, naming the problem
    assert main([*argv[:5], f"{folders / 'yesno'}:yes=tumor", "--out", str(tmp_path / "x")]) == 1
    assert "match no mapping entry" in capsys.readouterr().err
    assert main(["evaluate", str(model), str(folders / "yesno"), "--map", "yes=cancer,no=no"]) == 1
    assert "label 'cancer' is not a class the model knows" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_tumor_first_decides_no_tumour_only_with_enough_probability():
    from sklearn.dummy import DummyClassifier

    from sklearn_braintumor.classifiers import TumorFirstClassifier

    X = np.zeros((10, 1))
    y = ["glioma"] * 3 + ["meningioma"] * 3 + ["notumor"] * 4
    plain = DummyClassifier(strategy="prior").fit(X, y)
    assert plain.predict(X[:1])[0] == "notumor"  # 0.4 beats 0.3 and 0.3
    first = TumorFirstClassifier(DummyClassifier(strategy="prior")).fit(X, y)
    assert first.predict(X[:1])[0] == "glioma" and first.threshold_ == 0.5
    np.testing.assert_array_equal(first.predict_proba(X), plain.predict_proba(X))
    low = TumorFirstClassifier(DummyClassifier(strategy="prior"), threshold=0.35).fit(X, y)
    assert low.predict(X[:1])[0] == "notumor"
    with pytest.raises(ValueError, match="negative_class 'healthy' is not one of the classes"):
        TumorFirstClassifier(DummyClassifier(), negative_class="healthy").fit(X, y)
    with pytest.raises(ValueError, match="needs a CNNClassifier with a train_split"):
        TumorFirstClassifier(DummyClassifier(), threshold="auto").fit(X, y)


def test_auto_threshold_keeps_the_validation_recall_of_no_tumour():
    from sklearn_braintumor.classifiers import TumorFirstClassifier

    X, y = make_synthetic_mri(160, image_size=32, random_state=0)
    labels = np.array(NAMES)[np.array([2, 0, 1, 3])[y]]
    cnn = CNNClassifier(max_epochs=3, random_state=0, module__hidden=16, train_split=0.5)
    model = TumorFirstClassifier(cnn, threshold="auto", negative_recall=0.9).fit(X, labels)
    assert 0.5 <= model.threshold_ <= 0.95
    valid = model.estimator_.valid_indices_
    negative = valid[labels[valid] == "notumor"]
    called = model.predict(X[negative]) == "notumor"
    assert called.mean() >= 0.9 or model.threshold_ == 0.5


def test_auto_threshold_is_not_pinned_by_negatives_already_wrong():
    from sklearn.base import BaseEstimator, ClassifierMixin

    from sklearn_braintumor.classifiers import TumorFirstClassifier

    class Scored(ClassifierMixin, BaseEstimator):
        """Returns a fixed notumor probability per sample (X holds it)."""

        def fit(self, X, y):
            self.classes_ = np.array(["glioma", "notumor"])
            self.history_ = []
            self.valid_indices_ = np.arange(len(y))  # every sample is a validation sample
            return self

        def predict_proba(self, X):
            p = np.asarray(X, dtype=float)[:, 0]
            return np.stack([1 - p, p], axis=1)

    # 100 negatives: 5 the network gets wrong (0.1), 95 spread over 0.6 ... 0.99
    scores = np.concatenate([np.full(5, 0.1), np.linspace(0.6, 0.99, 95)])
    X, y = scores[:, None], np.array(["notumor"] * 100)
    model = TumorFirstClassifier(Scored(), threshold="auto", negative_recall=0.98).fit(X, y)
    assert 0.6 < model.threshold_ < 0.62  # the 2 % quantile of the 95, not 0.5
    called = model.predict(X[5:]) == "notumor"
    assert called.mean() >= 0.97


def test_the_healthy_holdout_is_one_draw_of_whole_negative_groups():
    from sklearn_braintumor.experiments._cross_source import healthy_holdout

    groups = np.repeat(np.arange(40), 3)  # 40 copy groups of three
    negative = groups % 2 == 0  # 20 groups of healthy scans
    negative[1] = False  # a group of mixed labels still counts as a negative group
    held = healthy_holdout(groups, negative, 0.25)
    assert held.sum() == 5 * 3  # a quarter of the 20 negative groups, each whole
    assert set(np.unique(groups[held]).tolist()) <= set(range(0, 40, 2))
    np.testing.assert_array_equal(held, healthy_holdout(groups, negative, 0.25))  # fixed draw
    assert healthy_holdout(groups, negative, 0.0).sum() == 0
    with pytest.raises(ValueError, match=r"share must be in \[0, 1\)"):
        healthy_holdout(groups, negative, 1.0)
