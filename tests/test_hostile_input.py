"""Folders, files and servers prepared as an attacker would: predict, loaders, fetch, export.

Each case failed on the library before these limits: a FIFO hung ``predict``, a
link to ``/dev/zero`` ran it out of memory, a link to a system folder made it
predict system files, file names went into the CSV as spreadsheet formulas,
two runs on one ``--out`` replaced each other, a JPEG with zeroed bytes decoded
without a word, ``fetch-weights`` had no size cap or deadline.
"""

import csv
import http.server
import io
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image
from sklearn.pipeline import make_pipeline

from sklearn_braintumor import predict_folder
from sklearn_braintumor._cli import main
from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import (
    decode_image,
    load_image_folder,
    make_synthetic_mri,
    read_image,
)
from sklearn_braintumor.deploy import _predict
from sklearn_braintumor.exceptions import DownloadError, ImageReadError
from sklearn_braintumor.preprocessing import Resize
from sklearn_braintumor.utils import _io, save
from sklearn_braintumor.utils._persistence import replacing

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, /dev/zero and links")


@pytest.fixture(scope="module")
def model():
    X, y = make_synthetic_mri(32, image_size=24, random_state=0)
    names = np.array(["glioma", "meningioma", "notumor", "pituitary"])[y]
    cnn = CNNClassifier(max_epochs=1, random_state=0, module__hidden=8)
    return make_pipeline(Resize((24, 24)), cnn).fit(X, names)


def _scans(folder, n=3):
    X, _ = make_synthetic_mri(n, image_size=32, random_state=1)
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(X):
        Image.fromarray(image).save(folder / f"scan{i}.png")
    return folder


def _rows(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return {row["path"]: row for row in csv.DictReader(stream)}


def _in_thread(function, seconds=60):
    """Run ``function`` in a thread; fail (instead of hanging the suite) if it blocks."""
    result = {}

    def run():
        try:
            result["value"] = function()
        except BaseException as exc:  # re-raised in the test's thread
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    if "error" in result:
        raise result["error"]
    return result["value"]


@posix_only
def test_fifos_devices_and_links_leading_out_are_skipped_not_read(model, tmp_path):
    folder = _scans(tmp_path / "scans")
    os.mkfifo(folder / "waiting.png")  # opening it for reading would block forever
    (folder / "zero.png").symlink_to("/dev/zero")  # reading it would never end
    (folder / "gone.png").symlink_to(tmp_path / "missing.png")
    system = _scans(tmp_path / "elsewhere", n=2)  # stands for /usr/share: outside the folder
    (folder / "linked").symlink_to(system)
    (folder / "one.png").symlink_to(system / "scan0.png")
    inside = folder / "again.png"
    inside.symlink_to(folder / "scan1.png")  # a link within the folder is read
    out = tmp_path / "p.csv"
    summary = _in_thread(lambda: predict_folder(model, folder, out))
    assert summary["n_images"] == 4 and summary["n_skipped"] == 5
    assert sorted(_rows(out)) == ["again.png", "scan0.png", "scan1.png", "scan2.png"]
    summary = predict_folder(model, folder, out, overwrite=True, follow_links=True)
    assert summary["n_images"] == 7 and summary["n_skipped"] == 3  # FIFO, device, broken link
    # the reader refuses them by itself too (a file swapped after the walk)
    with pytest.raises(ImageReadError, match="is a FIFO"):
        _in_thread(lambda: read_image(folder / "waiting.png"), seconds=30)
    with pytest.raises(ImageReadError, match="is a device"):
        read_image(folder / "zero.png")
    # the loaders walk the same way, and say what they skipped
    (tmp_path / "data" / "a").mkdir(parents=True)
    os.mkfifo(tmp_path / "data" / "a" / "fifo.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "data" / "a" / "x.png")
    with pytest.warns(UserWarning, match=r"skipped 1 entries:\n.*fifo\.png: not a regular file"):
        data = _in_thread(lambda: load_image_folder(tmp_path / "data"))
    assert len(data.target) == 1


@posix_only
def test_the_cli_counts_what_it_skipped(model, tmp_path, capsys):
    folder = _scans(tmp_path / "scans")
    os.mkfifo(folder / "waiting.png")
    path = save(model, tmp_path / "m.btm")
    command = ["predict", str(folder), "--model", str(path), "--out", str(tmp_path / "p.csv")]
    assert _in_thread(lambda: main([*command, "--quiet"])) == 0
    assert "1 entries skipped: not regular files" in capsys.readouterr().out


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(model, tmp_path):
    folder = _scans(tmp_path / "scans", n=1)
    image = np.asarray(Image.open(folder / "scan0.png"))
    names = ["=HYPERLINK(1).png", "+1.png", "-2.png", "@SUM(1).png", "plain.png"]
    for name in names:
        Image.fromarray(image).save(folder / name)
    (folder / "=broken.png").write_bytes(b"not an image")
    predict_folder(model, folder, tmp_path / "p.csv")
    rows = _rows(tmp_path / "p.csv")
    for name in names[:-1]:
        assert f"'{name}" in rows, sorted(rows)
    assert "plain.png" in rows and rows["'=broken.png"]["error"]
    assert _predict.csv_cell("=1+1") == "'=1+1" and _predict.csv_cell("scan") == "scan"


def test_two_runs_on_one_new_output_do_not_replace_each_other(model, tmp_path):
    folder = _scans(tmp_path / "scans", n=1)
    out = tmp_path / "p.csv"
    predict_folder(model, folder, out)
    first = out.read_bytes()
    with pytest.raises(FileExistsError, match=r"p\.csv already exists; pass overwrite=True"):
        predict_folder(model, folder, out)  # the Python function follows the CLI's rule
    assert predict_folder(model, folder, out, overwrite=True)["n_images"] == 1
    # the race: another run creates the file while this one works; this one fails, keeps it
    racer = tmp_path / "race.csv"
    with pytest.raises(FileExistsError, match="already exists"):
        with replacing(racer, ".partial", exclusive=True) as tmp:
            tmp.write_text("second run")
            racer.write_text("first run")
    assert racer.read_text() == "first run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv", "race.csv", "scans"]
    assert len(first) > 0


def test_images_over_the_pixel_limit_are_error_rows(model, tmp_path, monkeypatch):
    folder = _scans(tmp_path / "scans", n=1)
    Image.new("L", (7000, 7000)).save(folder / "bomb.png")  # 49 megapixels in 50 KB
    assert (folder / "bomb.png").stat().st_size < 200_000
    summary = predict_folder(model, folder, tmp_path / "p.csv")
    assert summary["n_failed"] == 1
    assert "megapixel limit" in _rows(tmp_path / "p.csv")["bomb.png"]["error"]
    monkeypatch.setattr(_io, "MAX_PIXELS", 1000)
    with pytest.raises(ImageReadError, match=r"is 32 x 32 pixels, more than"):
        read_image(folder / "scan0.png")


def test_batches_are_bounded_in_pixels_as_well_as_in_files(model, tmp_path, monkeypatch):
    folder = _scans(tmp_path / "scans", n=6)
    sizes = []

    class Counting:
        classes_ = model.classes_

        def predict_proba(self, images):
            sizes.append(len(images))
            return model.predict_proba(images)

    monkeypatch.setattr(_predict, "MAX_BATCH_PIXELS", 2 * 32 * 32)
    predict_folder(Counting(), folder, tmp_path / "p.csv", batch_size=256, n_threads=2)
    assert sizes == [2, 2, 2]


def _jpeg(image, quality=90):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return bytearray(buffer.getvalue())


def test_a_jpeg_with_damaged_data_is_refused(tmp_path, model):
    from sklearn_braintumor.datasets import load_sample

    image = load_sample("test").images[0]
    data = _jpeg(image)
    middle = len(data) // 2
    damaged = bytearray(data)
    damaged[middle : middle + 200] = bytes(200)  # 200 zeroed bytes: Pillow decodes it silently
    with pytest.raises(ImageReadError, match=r"damaged\.jpg.*damaged JPEG data \(Corrupt JPEG"):
        decode_image(bytes(damaged), name="damaged.jpg")
    np.testing.assert_array_equal(decode_image(bytes(data), name="fine.jpg"),
                                  np.asarray(Image.open(io.BytesIO(bytes(data)))))  # fmt: skip
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "damaged.jpg").write_bytes(bytes(damaged))
    (folder / "fine.jpg").write_bytes(bytes(data))
    predict_folder(model, folder, tmp_path / "p.csv")
    rows = _rows(tmp_path / "p.csv")
    assert "damaged JPEG data" in rows["damaged.jpg"]["error"] and rows["fine.jpg"]["predicted"]


def test_integer_images_of_any_dtype_predict_as_uint8_and_errors_name_their_dtype():
    X, y = make_synthetic_mri(16, image_size=24, random_state=0)
    model = make_pipeline(Resize((16, 16)), CNNClassifier(max_epochs=1, random_state=0,
                                                          module__hidden=4)).fit(X, y)  # fmt: skip
    np.testing.assert_array_equal(model.predict_proba(X.astype(np.int64)), model.predict_proba(X))
    with pytest.raises(ValueError, match=r"got float32 values.*Integer images outside 0-65535"):
        model.predict(X.astype(np.int64) * 1000)
    with pytest.raises(ValueError, match=r"fitted on uint8 images \(0-255\), got int64 values"):
        model[-1].predict(X[:, :16, :16].astype(np.int64) * 1000)


# -- the command line --------------------------------------------------------------------------


def test_evaluate_refuses_a_malformed_map(tmp_path, capsys):
    folder = tmp_path / "yesno"
    for name in ("yes", "no"):
        _scans(folder / name, n=1)
    assert main(["evaluate", "binary", str(folder), "--map", "yes:tumor"]) == 1
    err = capsys.readouterr().err
    assert "'yes:tumor' is not CLASS=LABEL" in err and "Traceback" not in err


def test_export_below_a_file_and_on_a_full_disk(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["export", "4class", "--format", "torchscript",
                 "--out", str(tmp_path / "file" / "x.pt")]) == 1  # fmt: skip
    assert "which is a file" in capsys.readouterr().err
    # a file-size limit stands in for a full disk: writes past it fail (EFBIG) like ENOSPC
    code = f"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))
from sklearn_braintumor._cli import main
sys.exit(main(["export", "4class", "--format", "torchscript", "--out", {str(tmp_path / "m.pt")!r}]))
"""
    if not hasattr(os, "setrlimit") and sys.platform == "win32":
        pytest.skip("no file-size limit on Windows")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=300)  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    assert "braintumor export: error:" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no temporary left


# -- fetch-weights -----------------------------------------------------------------------------


@pytest.fixture
def hostile_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            try:
                if self.path == "/endless":
                    block = bytes(2**16)
                    for _ in range(2**12):  # 256 MiB at most, bounded in count
                        self.wfile.write(block)
                elif self.path == "/drip":
                    for _ in range(40):  # a byte every 0.25 s, 10 s at most
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.25)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_weights_has_a_size_cap_and_a_deadline(hostile_server, tmp_path, monkeypatch):
    from sklearn_braintumor.nn import _transfer, fetch_imagenet_weights

    target = tmp_path / "hub" / "checkpoints" / "vgg16-00000000.pth"
    monkeypatch.setattr(
        _transfer, "imagenet_weights_path", lambda b: (target, "unused", "W.DEFAULT")
    )
    monkeypatch.setattr(_transfer, "_expected_bytes", lambda b: 100_000)
    with pytest.raises(DownloadError, match="goes past 165536 bytes, the most expected"):
        fetch_imagenet_weights("vgg16", url=f"{hostile_server}/endless")
    monkeypatch.setattr(_transfer, "FETCH_DEADLINE", 1.0)
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"did not finish within 1 s"):
        fetch_imagenet_weights("vgg16", url=f"{hostile_server}/drip", timeout=5)
    assert time.monotonic() - start < 5
    if os.name == "posix":
        with pytest.raises(DownloadError, match="/dev/zero: is a device"):
            fetch_imagenet_weights("vgg16", file="/dev/zero")
    big = tmp_path / "big.pth"
    big.write_bytes(bytes(200_000))
    with pytest.raises(DownloadError, match="larger than"):
        fetch_imagenet_weights("vgg16", file=big)
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_fetch_weights_without_torchvision_is_one_line(monkeypatch, capsys):
    from sklearn_braintumor.nn import _transfer

    def missing():
        raise ImportError("torchvision is needed for transfer backbones: pip install "
                          "'sklearn-braintumor[transfer]'")  # fmt: skip

    monkeypatch.setattr(_transfer, "_torchvision", missing)
    assert main(["fetch-weights", "vgg16"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sklearn-braintumor[transfer]" in err
