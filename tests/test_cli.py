import subprocess
import sys

import pytest

from sklearn_braintumor import __version__
from sklearn_braintumor._cli import main


def test_info(capsys, data_home):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"sklearn-braintumor {__version__}" in out
    assert "scikit-learn" in out and "torch" in out
    assert f"data home: {data_home}" in out
    assert "cached datasets: none" in out
    assert "device: " in out


def test_datasets(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in (
        "sample",
        "brain-tumor-mri-4class",
        "figshare-cheng-3064",
        "brain-mri-yes-no",
    ):
        assert name in out
    assert "not downloaded" in out


def test_fetch_error_is_reported(capsys, monkeypatch):
    assert main(["fetch", "mnist"]) == 1
    assert "unknown dataset 'mnist'" in capsys.readouterr().err


def test_demo_prints_report(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Classification report" in out
    for name in ("glioma", "meningioma", "notumor", "pituitary", "accuracy"):
        assert name in out


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_braintumor", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and __version__ in result.stdout
    with pytest.raises(SystemExit):
        main([])


def test_demo_on_a_folder(tmp_path, capsys):
    from PIL import Image

    from sklearn_braintumor.datasets import make_synthetic_mri

    X, y = make_synthetic_mri(48, image_size=64, random_state=0)
    for i, (image, label) in enumerate(zip(X, y, strict=True)):
        part = "Training" if i < 36 else "Testing"
        folder = tmp_path / part / f"class{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i}.png")
    assert main(["demo", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "36 training and 12 test images" in out and "HOGFeatures()" in out
    assert "<function" not in out  # a readable pipeline
