"""fetch_dataset against a real HTTP server on 127.0.0.1 serving fixture archives."""

import dataclasses
import hashlib
import http.server
import importlib.machinery
import io
import json
import sys
import threading
import types
import zipfile
from functools import partial
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import mat_slice
from PIL import Image

from sklearn_braintumor.datasets import (
    DATASETS,
    clear_data_home,
    fetch_dataset,
    get_data_home,
    make_synthetic_mri,
)
from sklearn_braintumor.datasets._fetch import MANIFEST_NAME
from sklearn_braintumor.exceptions import ChecksumError, DownloadError

CLASSES = ["glioma", "meningioma", "notumor", "pituitary"]


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def _four_class_zip():
    images, _ = make_synthetic_mri(24, image_size=16, random_state=0)
    members, index = {}, 0
    for split, per_class in (("Training", 4), ("Testing", 2)):
        for name in CLASSES:
            for k in range(per_class):
                path = f"brain-tumor-mri-dataset/{split}/{name}/{split[:2]}-{k}.png"
                members[path] = _png(images[index])
                index += 1
    members["brain-tumor-mri-dataset/README.txt"] = b"fixture"
    return _zip(members)


def _yes_no_zip():
    images, _ = make_synthetic_mri(6, image_size=16, random_state=1)
    members = {
        "yes/Y1.jpg": _png(images[0]),
        "yes/Y 2.png": _png(images[1]),
        "no/1 no.jpeg": _png(images[2]),
        "brain_tumor_dataset/yes/Y1.jpg": _png(images[0]),
        "brain_tumor_dataset/no/1 no.jpeg": _png(images[2]),
    }
    return _zip(members)


FIGSHARE_SLICES = [  # file number, label code, patient, image size
    (1, 1, "P001", 24),
    (2, 2, "P001", 24),
    (3, 3, "P002", 16),
    (10, 2, "P003", 24),
]


def _figshare_zip():
    rng = np.random.RandomState(0)
    parts = {"brainTumorDataPublic_1-2.zip": {}, "brainTumorDataPublic_3-10.zip": {}}
    for number, label, pid, size in FIGSHARE_SLICES:
        image = rng.randint(0, 3000, size=(size, size)).astype(np.int16)
        image[0, 0] = 3000
        part = "brainTumorDataPublic_1-2.zip" if number <= 2 else "brainTumorDataPublic_3-10.zip"
        parts[part][f"{number}.mat"] = mat_slice(image, label, pid)
    cv = io.BytesIO()
    with h5py.File(cv, "w") as handle:
        handle["cvind"] = np.array([[1.0, 2.0, 3.0, 5.0]])
    members = {name: _zip(content) for name, content in parts.items()}
    members["cvind.mat"] = cv.getvalue()
    members["README.txt"] = b"cjdata.label: 1 meningioma, 2 glioma, 3 pituitary"
    return _zip(members)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, plus /truncated/NAME that promises more bytes than it sends."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/truncated/"):
            payload = (Path(self.directory) / self.path.split("/", 2)[2]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    files = {
        "four.zip": _four_class_zip(),
        "yesno.zip": _yes_no_zip(),
        "figshare.zip": _figshare_zip(),
        "not-a-zip.zip": b"<html>Sign in to download</html>",
        "unsafe.zip": _zip({"../../escaped.txt": b"x", "ok.txt": b"y"}),
    }
    for name, payload in files.items():
        (folder / name).write_bytes(payload)
    return folder, {name: hashlib.sha256(p).hexdigest() for name, p in files.items()}


@pytest.fixture
def server(archives):
    folder, _ = archives
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Handler, directory=str(folder))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _point(monkeypatch, name, url, sha256=None):
    info = dataclasses.replace(DATASETS[name], url=url, sha256=sha256, kaggle_handle=None)
    monkeypatch.setitem(DATASETS, name, info)
    return info


def _leftovers(home):
    return sorted(p.name for p in home.iterdir()) if home.exists() else []


def test_split_dataset_downloads_once_then_reads_cache(server, monkeypatch, data_home):
    httpd, base = server
    _point(monkeypatch, "brain-tumor-mri-4class", f"{base}/four.zip")
    data = fetch_dataset("brain-tumor-mri-4class")
    assert data.target_names == CLASSES
    assert data.images.shape == (24, 16, 16)
    assert (data.subset == "train").sum() == 16 and (data.subset == "test").sum() == 8
    np.testing.assert_array_equal(np.bincount(data.target), [6, 6, 6, 6])
    assert data.path == data_home / "brain-tumor-mri-4class"
    assert _leftovers(data_home) == ["brain-tumor-mri-4class"]
    manifest = json.loads((data.path / MANIFEST_NAME).read_text())
    assert manifest["source"] == f"{base}/four.zip"
    assert len(manifest["files"]) == 25  # 24 images and the README
    assert "Licence: CC0" in data.DESCR

    httpd.shutdown()  # the second call must not need the server
    X_test, y_test = fetch_dataset("brain-tumor-mri-4class", subset="test", return_X_y=True)
    assert X_test.shape == (8, 16, 16)
    np.testing.assert_array_equal(X_test, data.images[data.subset == "test"])
    np.testing.assert_array_equal(y_test, data.target[data.subset == "test"])
    rgb = fetch_dataset("brain-tumor-mri-4class", subset="train", color_mode="rgb")
    assert rgb.images.shape == (16, 16, 16, 3)


def test_known_checksum_is_verified(server, archives, monkeypatch, data_home):
    _, base = server
    _, digests = archives
    _point(monkeypatch, "brain-mri-yes-no", f"{base}/yesno.zip", sha256="0" * 64)
    with pytest.raises(ChecksumError, match=f"{base}/yesno.zip") as info:
        fetch_dataset("brain-mri-yes-no")
    assert "expected 0000" in str(info.value)
    assert _leftovers(data_home) == []

    _point(
        monkeypatch,
        "brain-mri-yes-no",
        f"{base}/yesno.zip",
        sha256=digests["yesno.zip"],
    )
    data = fetch_dataset("brain-mri-yes-no")
    assert data.target_names == ["no", "yes"]
    assert data.target.tolist() == [0, 1, 1]  # the duplicate folder is not loaded
    assert [Path(f).name for f in data.filenames] == ["1 no.jpeg", "Y 2.png", "Y1.jpg"]
    manifest = json.loads((data.path / MANIFEST_NAME).read_text())
    assert manifest["archive_sha256"] == digests["yesno.zip"]
    assert manifest["archive_sha256_known_in_advance"] is True
    with pytest.raises(ValueError, match="no official split"):
        fetch_dataset("brain-mri-yes-no", subset="train")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("truncated/four.zip", "incomplete|IncompleteRead|failed"),
        ("missing.zip", "404"),
        ("not-a-zip.zip", "not a readable zip"),
        ("unsafe.zip", "unsafe path"),
    ],
)
def test_broken_downloads_leave_no_cache(server, monkeypatch, data_home, path, message):
    _, base = server
    _point(monkeypatch, "brain-tumor-mri-4class", f"{base}/{path}")
    with pytest.raises(DownloadError, match=message) as info:
        fetch_dataset("brain-tumor-mri-4class")
    assert f"{base}/{path}" in str(info.value)
    assert _leftovers(data_home) == []
    assert not (data_home.parent / "escaped.txt").exists()


def test_missing_without_download_says_what_to_run(monkeypatch, data_home):
    with pytest.raises(FileNotFoundError, match="braintumor fetch figshare-cheng-3064"):
        fetch_dataset("figshare-cheng-3064", download_if_missing=False)
    with pytest.raises(ValueError, match="unknown dataset"):
        fetch_dataset("mnist")
    with pytest.raises(ValueError, match="subset"):
        fetch_dataset("brain-tumor-mri-4class", subset="validation")


def test_tampered_or_missing_cached_files_are_detected(server, monkeypatch, data_home):
    _, base = server
    _point(monkeypatch, "brain-tumor-mri-4class", f"{base}/four.zip")
    root = fetch_dataset("brain-tumor-mri-4class").path
    victim = root / "brain-tumor-mri-dataset" / "Testing" / "glioma" / "Te-0.png"
    victim.write_bytes(_png(np.zeros((16, 16), dtype=np.uint8)))
    with pytest.raises(ChecksumError, match=r"Te-0\.png changed since it was downloaded"):
        fetch_dataset("brain-tumor-mri-4class", download_if_missing=False)
    victim.unlink()
    with pytest.raises(ChecksumError, match=r"Te-0\.png recorded at download is missing"):
        fetch_dataset("brain-tumor-mri-4class", subset="train")
    (root / "brain-tumor-mri-dataset" / "README.txt").write_text("edited")
    with pytest.raises(ChecksumError, match="README"):
        fetch_dataset("brain-tumor-mri-4class", subset="train")


def test_figshare_mat_files_with_patient_groups(server, monkeypatch, data_home):
    _, base = server
    _point(monkeypatch, "figshare-cheng-3064", f"{base}/figshare.zip")
    data = fetch_dataset("figshare-cheng-3064")
    assert data.target_names == ["glioma", "meningioma", "pituitary"]
    # slices 1, 2, 3, 10 with codes 1 (meningioma), 2 (glioma), 3 (pituitary), 2
    assert data.target.tolist() == [1, 0, 2, 0]
    assert data.groups.tolist() == ["P001", "P001", "P002", "P003"]
    assert data.cv_fold.tolist() == [1, 2, 3, 5]
    assert [Path(f).name for f in data.filenames] == [
        "1.mat",
        "2.mat",
        "3.mat",
        "10.mat",
    ]
    assert data.images.dtype == object  # one slice is 16x16, the others 24x24
    assert data.images[2].shape == (16, 16)
    assert all(im.dtype == np.uint8 and im.max() == 255 for im in data.images)
    assert not list(data.path.rglob("*.zip"))  # nested zips were unpacked

    from sklearn.model_selection import GroupKFold

    for train, test in GroupKFold(n_splits=3).split(data.images, data.target, data.groups):
        assert not set(data.groups[train]) & set(data.groups[test])
    rgb = fetch_dataset("figshare-cheng-3064", color_mode="rgb")
    assert rgb.images[0].shape == (24, 24, 3)


def test_kagglehub_is_used_when_installed(monkeypatch, data_home):
    calls = []

    def dataset_download(handle, path=None, *, force_download=False, output_dir=None):
        calls.append(handle)
        images, _ = make_synthetic_mri(2, image_size=16, random_state=0)
        for name, image in zip(("yes/Y1.jpg", "no/N1.jpg"), images, strict=True):
            target = Path(output_dir) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_png(image))
        return output_dir

    module = types.ModuleType("kagglehub")
    module.__spec__ = importlib.machinery.ModuleSpec("kagglehub", None)
    module.dataset_download = dataset_download
    monkeypatch.setitem(sys.modules, "kagglehub", module)
    data = fetch_dataset("brain-mri-yes-no")
    assert calls == [DATASETS["brain-mri-yes-no"].kaggle_handle]
    assert data.target.tolist() == [0, 1]
    manifest = json.loads((data.path / MANIFEST_NAME).read_text())
    assert manifest["source"].startswith("kagglehub:")
    assert manifest["archive_sha256"] is None

    def failing(handle, **kwargs):
        raise RuntimeError("403 Forbidden")

    module.dataset_download = failing
    clear_data_home()
    with pytest.raises(DownloadError, match=r"kagglehub could not download.*403"):
        fetch_dataset("brain-mri-yes-no")
    assert _leftovers(data_home) == []


def test_data_home(tmp_path, monkeypatch, data_home):
    assert get_data_home() == data_home and data_home.is_dir()
    explicit = get_data_home(tmp_path / "elsewhere")
    assert explicit == tmp_path / "elsewhere" and explicit.is_dir()
    monkeypatch.delenv("SKLEARN_BRAINTUMOR_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / "sklearn_braintumor_data"
    clear_data_home()
    assert not (tmp_path / "home" / "sklearn_braintumor_data").exists()


def test_cache_damage_is_named_with_what_to_do(server, monkeypatch, data_home):
    _, base = server
    _point(monkeypatch, "brain-tumor-mri-4class", f"{base}/four.zip")
    root = fetch_dataset("brain-tumor-mri-4class").path
    # an image added to the cache after the download is not silently loaded
    extra = root / "brain-tumor-mri-dataset" / "Training" / "glioma" / "added.png"
    extra.write_bytes(_png(np.zeros((16, 16), dtype=np.uint8)))
    with pytest.raises(ChecksumError, match=r"not there at download, e\.g\. .*added\.png"):
        fetch_dataset("brain-tumor-mri-4class", download_if_missing=False)
    extra.unlink()
    manifest = root / MANIFEST_NAME
    manifest.write_text("{ half a manifest")
    with pytest.raises(ChecksumError, match=f"download record {manifest} is damaged"):
        fetch_dataset("brain-tumor-mri-4class", download_if_missing=False)
    manifest.unlink()  # a deleted record: the folder is refused, not overwritten
    with pytest.raises(DownloadError, match=r"has no download record.*Delete"):
        fetch_dataset("brain-tumor-mri-4class")
