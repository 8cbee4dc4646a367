"""What the folder benchmarks share: the folder to read, and one process per way of reading it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def class_folder(folder: Path | None, tmp: str) -> Path:
    """``folder``, else the real 4-class Training folder, else the embedded sample as JPEGs."""
    if folder is not None:
        return folder
    if (SHARED / "brain-tumor-mri-4class").is_dir():
        return SHARED / "brain-tumor-mri-4class" / "Training"
    from PIL import Image

    from sklearn_braintumor.datasets import load_sample

    sample = load_sample("all")
    folder = Path(tmp) / "sample"
    for i, (image, label) in enumerate(zip(sample.images, sample.target, strict=True)):
        target = folder / sample.target_names[label]
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(target / f"{i:04d}.jpg", quality=90)
    return folder


def run_children(script: str, folder: Path, modes, options: list[str]) -> dict:
    """Run ``script FOLDER --child MODE OPTIONS`` per mode; return each one's JSON last line.

    Each way runs in a fresh process, so its peak resident memory is its own.
    """
    results = {}
    for mode in modes:
        command = [sys.executable, script, str(folder), "--child", mode, *options]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        results[mode] = json.loads(out.strip().splitlines()[-1])
    return results
