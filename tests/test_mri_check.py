"""Is it a brain MRI slice at all (``ood``), and how unlike the training collections (``shift``)."""

import csv

import numpy as np
import pytest
from PIL import Image
from skimage import data

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import load_sample, make_synthetic_mri, read_image
from sklearn_braintumor.deploy import predict_folder
from sklearn_braintumor.deploy._predict import _read
from sklearn_braintumor.inspection import not_mri, not_mri_reasons

NAMES = np.array(["glioma", "meningioma", "notumor", "pituitary"])


def restyled(images, rng):
    """Phantoms in another collection's style: another contrast curve, blur, grain, size."""
    import cv2

    out = []
    for image in images:
        head = image > 10
        curve = (image / 255.0) ** rng.uniform(0.35, 0.5)  # tissue much brighter, flatter
        styled = np.where(head, curve * 255 * rng.uniform(0.7, 0.9), image).astype(np.float32)
        styled = cv2.GaussianBlur(styled, (0, 0), 1.2) + rng.normal(0, 12, image.shape)
        out.append(np.clip(cv2.resize(styled, (48, 48)), 0, 255).astype(np.uint8))
    return np.stack(out)


@pytest.fixture(scope="module")
def fitted():
    X, y = make_synthetic_mri(240, image_size=48, random_state=0)
    clf = CNNClassifier(max_epochs=4, random_state=0, module__hidden=32, train_split=0.25,
                        device="cpu", n_threads=1).fit(X, NAMES[y])  # fmt: skip
    return clf, X


def test_real_scans_and_head_phantoms_are_mri_slices():
    for part in ("train", "test"):
        assert not not_mri(load_sample(part).images).any()
    for size in (32, 64, 128):
        X, _ = make_synthetic_mri(60, image_size=size, noise=20, random_state=1)
        assert not_mri_reasons(X).tolist() == [""] * 60


def test_each_rule_names_what_it_saw():
    rng = np.random.default_rng(0)
    scan = load_sample("test").images[0]
    page = np.full((300, 220), 250, np.uint8)
    for row in range(20, 280, 10):  # lines of "text"
        page[row : row + 3, 15 : rng.integers(120, 205)] = rng.integers(0, 60)
    drawing = np.zeros((200, 200), np.uint8)
    drawing[40:160, 50:150], drawing[80:120, 80:120] = 180, 90
    stars = np.zeros((256, 256), np.uint8)
    stars[tuple(rng.integers(0, 256, (2, 300)))] = rng.integers(100, 256, 300)
    bright = (128 + 60 * np.sin(np.add.outer(np.arange(256) / 9, np.arange(256) / 13))).astype(
        np.uint8
    )
    reasons = not_mri_reasons([
        scan[:20, :40], data.astronaut(), np.full((224, 224), 3, np.uint8),
        rng.integers(0, 256, (224, 224)).astype(np.uint8), page, drawing, stars,
        bright + rng.integers(0, 30, bright.shape).astype(np.uint8),
    ])  # fmt: skip
    expected = ["too small to be a scan (20 x 40 pixels)", "a colour image", "blank or nearly",
                "noise or text", "a drawing or diagram", "a drawing or diagram",
                "no head-sized object", "no dark background"]  # fmt: skip
    for reason, start in zip(reasons, expected, strict=True):
        assert reason.startswith(start), (reason, start)
    assert not_mri([scan]).tolist() == [False]


def test_a_grey_photograph_with_a_dark_middle_has_no_dark_edges_a_slice_on_a_page_passes():
    import cv2
    from scipy import ndimage

    rng = np.random.default_rng(0)
    # a grey scene around a dark figure: dark pixels enough, but none at the edges
    field = cv2.GaussianBlur(rng.normal(0, 1, (240, 320)).astype(np.float32), (0, 0), 6)
    scene = 160 + 30 * field / field.std() + rng.normal(0, 6, field.shape)
    rows, cols = np.mgrid[:240, :320]
    figure = ((rows - 130) / 70) ** 2 + ((cols - 160) / 55) ** 2 < 1
    scene[figure] = 15 + 10 * rng.random(figure.sum())
    photo = np.clip(scene, 0, 255).astype(np.uint8)
    # a slice copied from a printed page: its background white, its edges the brightest
    scan = load_sample("test").images[0]
    labels, _ = ndimage.label(scan < 12)
    edge = np.r_[labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    page = np.where(np.isin(labels, edge[edge > 0]), 245, scan).astype(np.uint8)
    reasons = not_mri_reasons([photo, page, scan])
    assert reasons[0].startswith("no dark background at the edges (0% of them dark")
    assert reasons[1:].tolist() == ["", ""]


def test_muted_colour_is_flagged_a_coloured_mark_or_few_grey_levels_are_not():
    import cv2

    photo = data.astronaut().astype(np.float32)
    grey = photo.mean(axis=2, keepdims=True)
    muted = (grey + 0.18 * (photo - grey)).astype(np.uint8)  # 17 % of pixels coloured
    assert not_mri_reasons([muted])[0].startswith("a colour image (17% of pixels coloured)")
    scan = load_sample("test").images[0]
    marked = np.repeat(scan[..., None], 3, axis=2)
    side = scan.shape[1]
    cv2.arrowedLine(marked, (side // 8, side // 8), (side // 2, side // 2), (255, 0, 0), 3)
    cv2.putText(marked, "R 12", (10, side - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 255, 0), 2)
    quantised = scan // 10 * 10  # a slice saved with 26 grey levels, its pixels spread over them
    assert len(np.unique(quantised)) <= 26
    assert not_mri_reasons([marked, quantised]).tolist() == ["", ""]


def test_gradients_stripes_and_blobs_are_plain_patterns():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:256, 0:256] / 255.0
    r = np.hypot(x - 0.5, y - 0.5)
    patterns = [x, y, np.clip(1 - 1.6 * r, 0, 1), np.exp(-(r**2) / 0.05),
                0.5 + 0.5 * np.sin(40 * x), 0.5 + 0.5 * np.sin(30 * (x + y))]  # fmt: skip
    images = [(p * 255).astype(np.uint8) for p in patterns]
    images += [np.clip(i + rng.normal(0, 5, i.shape), 0, 255).astype(np.uint8) for i in images]
    reasons = not_mri_reasons(images)
    assert all(reason.startswith("a plain pattern, not anatomy") for reason in reasons), reasons
    # a head phantom's anatomy is not two profiles: it passes, as real slices do
    head, _ = make_synthetic_mri(1, image_size=128, random_state=0)
    assert not_mri_reasons(head).tolist() == [""]


def test_every_form_of_the_same_scan_gets_the_same_answer():
    scan = load_sample("test").images[3]
    rgb = np.repeat(scan[..., None], 3, axis=2)
    rgba = np.dstack([rgb, np.full(scan.shape, 255, np.uint8)])
    forms = [scan, scan[..., None], rgb, rgba, scan.astype(np.uint16) * 257,
             scan / 255.0, np.dstack([scan, np.full(scan.shape, 255, np.uint8)])]  # fmt: skip
    assert not_mri_reasons(forms).tolist() == [""] * len(forms)
    # a batch array is many images; one colour photograph goes in a list
    assert not_mri(np.stack([scan, scan])).tolist() == [False, False]
    assert not_mri([data.coffee()]).tolist() == [True]
    with pytest.raises(ValueError, match="image 1: expected images of shape"):
        not_mri_reasons([scan, np.zeros((10, 10, 5), np.uint8)])
    with pytest.raises(ValueError, match="a list of images or an array of shape"):
        not_mri_reasons(scan)


def test_another_collection_style_raises_shift_not_ood(fitted):
    clf, X = fitted
    other = restyled(X[:60], np.random.default_rng(0))
    assert not clf.predict_ood(other).any()  # still brain-like slices
    home, away = (
        np.median(clf.shift_score(X[clf.valid_indices_])),
        np.median(clf.shift_score(other)),
    )
    assert home < 1 < away
    rng = np.random.default_rng(1)
    non_images = np.stack([rng.integers(0, 256, (48, 48)), np.zeros((48, 48)),
                           np.full((48, 48), 200)]).astype(np.uint8)  # fmt: skip
    assert clf.predict_ood(non_images).all()


def test_folder_reads_colour_for_the_check_and_grey_for_the_model(tmp_path):
    scan = load_sample("test").images[5]
    files = {
        "l.png": Image.fromarray(scan),
        "rgb.jpg": Image.fromarray(data.astronaut()),
        "rgba.png": Image.fromarray(np.dstack([data.coffee(), np.full((400, 600), 200, np.uint8)])),
        "la.png": Image.fromarray(np.dstack([scan, np.full(scan.shape, 128, np.uint8)]), "LA"),
        "p.png": Image.fromarray(data.chelsea()).convert("P"),
        "i16.png": Image.fromarray(scan.astype(np.uint16) * 200),
        "one.png": Image.fromarray(scan > 80),
        "cmyk.jpg": Image.fromarray(data.rocket()).convert("CMYK"),
    }
    for name, image in files.items():
        image.save(tmp_path / name)
    for name in files:
        image, reason = _read(tmp_path / name, "grayscale")
        np.testing.assert_array_equal(image, read_image(tmp_path / name), err_msg=name)
        assert bool(reason) == (name in ("rgb.jpg", "rgba.png", "p.png", "cmyk.jpg", "one.png")), (
            name, reason)  # fmt: skip


def test_predict_folder_gives_no_class_to_what_is_not_a_scan(fitted, tmp_path):
    clf, X = fitted
    folder = tmp_path / "scans"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(X[i]).save(folder / f"scan{i}.png")
    Image.fromarray(data.astronaut()[100:148, 150:198]).save(folder / "photo.png")
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(folder / "blank.png")
    summary = predict_folder(clf, folder, tmp_path / "p.csv")
    assert summary["n_ood"] == 2
    with open(tmp_path / "p.csv", newline="") as stream:
        rows = {row["path"]: row for row in csv.DictReader(stream)}
    for name in ("photo.png", "blank.png"):
        assert rows[name]["ood"] == "True" and rows[name]["predicted"] == ""
        assert rows[name]["note"].startswith("not a brain MRI slice: ")
        assert rows[name]["most_probable"] in NAMES and rows[name]["shift"]
    assert [rows[f"scan{i}.png"]["ood"] for i in range(3)] == ["False"] * 3
    assert [rows[f"scan{i}.png"]["predicted"] for i in range(3)] == clf.predict(X[:3]).tolist()
