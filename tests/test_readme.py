"""The README's Quickstart, run verbatim in a fresh folder holding ``scans/``."""

import csv
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.utils import load

ROOT = Path(__file__).resolve().parent.parent


def quickstart_blocks():
    """The Quickstart section's shell block and Python block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    shell = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    python = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    return shell, python


def test_quickstart_runs_verbatim_line_by_line(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    sample = load_sample("test")
    for i in range(0, 200, 25):
        Image.fromarray(sample.images[i]).save(scans / f"scan{i}.png")
    shell, python = quickstart_blocks()
    for line in shell.splitlines():
        command = line.split("#", 1)[0].strip()
        if not command:
            continue
        words = shlex.split(command)
        assert words[0] == "braintumor", line
        command = [sys.executable, "-m", "sklearn_braintumor", *words[1:]]
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (line, done.stderr[-3000:])
        assert "Traceback" not in done.stderr, line
    script = tmp_path / "quickstart.py"
    script.write_text(python)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Accuracy 0.7650" in done.stdout  # the figure the snippet's comment states
    saved = load(tmp_path / "hog-svm.btm")
    assert set(saved.predict(sample.images[:20])) <= set(sample.target_names)  # class names
    with open(tmp_path / "predictions.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 8
    classes = [c[len("proba_") :] for c in rows[0] if c.startswith("proba_")]
    for row in rows:
        proba = [float(row[f"proba_{c}"]) for c in classes]
        assert row["most_probable"] == classes[int(np.argmax(proba))]
    with open(tmp_path / "binary.csv", newline="") as stream:
        assert "proba_notumor" in next(csv.reader(stream))  # one healthy-class spelling
