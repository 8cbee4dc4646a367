#!/usr/bin/env python3
"""Set up the project's virtual environment when needed, then run a task.

    python3 dev.py demo        # main job on the embedded sample
    python3 dev.py test [ARGS] # ruff, then the whole pytest suite (ARGS go to pytest)
    python3 dev.py cli ARGS    # any `braintumor` command, e.g. `cli info`
    python3 dev.py docs        # the Sphinx site into docs/_build/html (warnings are errors)

The first run creates ``.venv`` beside this file and installs the package with
its test extra; later runs reinstall only when ``pyproject.toml`` or the torch
choice changed. Where no CUDA device is present torch is pinned to a CPU build
(``torch==2.13.0``; set ``BRAINTUMOR_TORCH`` to another pip requirement to
override); with a GPU, pip picks torch from the project's own version range.
Only the standard library is used here, so any Python >= 3.10 can run it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".dev-install-stamp"
CPU_TORCH = "torch==2.13.0"
EXTRAS = {"demo": "test", "test": "test", "cli": "test", "docs": "test,docs"}


def _has_cuda() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    result = subprocess.run([smi, "-L"], capture_output=True, text=True, check=False)
    return result.returncode == 0 and "GPU" in result.stdout


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def _run(command: list[str | Path]) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT)


def ensure_env(extras: str = "test") -> Path:
    """Create and fill ``.venv`` if missing or stale; return its python."""
    if sys.version_info < (3, 10):  # noqa: UP036 (dev.py runs before any check)
        sys.exit(f"Python >= 3.10 is required, this is {sys.version.split()[0]}")
    torch_requirement = os.environ.get("BRAINTUMOR_TORCH") or ("" if _has_cuda() else CPU_TORCH)
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + torch_requirement.encode() + extras.encode()
    ).hexdigest()
    python = _bin("python")
    if python.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return python
    if not python.exists():
        _run([sys.executable, "-m", "venv", VENV])
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if torch_requirement:
        _run([*pip, torch_requirement])
    _run([*pip, "--editable", f".[{extras}]"])
    STAMP.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    """Dispatch ``demo``, ``test``, ``cli`` or ``docs``."""
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    python = ensure_env(EXTRAS[task])
    if task == "demo":
        return subprocess.run([python, "-m", "sklearn_braintumor", "demo"], cwd=ROOT).returncode
    if task == "cli":
        return subprocess.run([python, "-m", "sklearn_braintumor", *rest], cwd=ROOT).returncode
    if task == "docs":
        build = ["-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"]
        env = {**os.environ, "MPLBACKEND": "Agg"}
        return subprocess.run([python, *build, *rest], cwd=ROOT, env=env).returncode
    checks = [
        [python, "-m", "ruff", "check", "."],
        [python, "-m", "ruff", "format", "--check", "."],
        [python, "-m", "pytest", *rest],
    ]
    status = 0
    for command in checks:
        print("+", " ".join(str(part) for part in command[1:]), flush=True)
        status = subprocess.run(command, cwd=ROOT).returncode or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
