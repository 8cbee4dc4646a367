#!/usr/bin/env python3
"""Set up the project's virtual environment when needed, then run a task.

    python3 dev.py reproduce [ARGS]  # main job: `braintumor reproduce recommended` on the
                                     # embedded sample (ARGS: another recipe and/or options)
    python3 dev.py test [ARGS]       # ruff, then the whole pytest suite (ARGS go to pytest)
    python3 dev.py cli ARGS          # any `braintumor` command, e.g. `cli info`
    python3 dev.py docs              # the Sphinx site into docs/_build/html (-W)
    python3 dev.py lowest-skorch     # the classifier tests against the lowest skorch declared

The first run creates ``.venv`` beside this file and installs the package with
its test and transfer (torchvision) extras; later runs reinstall only when
``pyproject.toml`` or the torch choice changed. Where no CUDA device is present
torch and torchvision are pinned to a pair that imports together (on x86_64
``torch==2.14.1 torchvision==0.29.1``; set ``BRAINTUMOR_TORCH`` to other pip
requirements to override, or to an empty string for none); with a GPU, pip
picks both from the project's own version ranges.
Only the standard library is used here, so any Python >= 3.10 can run it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".dev-install-stamp"
# Without a GPU, pin a torch + torchvision pair that imports together on this kind of machine
# (PyPI's torchvision does not load beside the 2.13.0 CPU build). x86_64 has no CPU build of
# that pair here, so it takes the CUDA build of 2.14.1, which runs on the CPU.
CPU_TORCH = {
    "x86_64": "torch==2.14.1 torchvision==0.29.1",
    "aarch64": "torch==2.9.1 torchvision==0.24.1",
}
EXTRAS = {
    "reproduce": "test,transfer",
    "test": "test,transfer",
    "cli": "test,transfer",
    "docs": "test,transfer,docs",
    "lowest-skorch": "test,transfer",
}
# the tests that exercise skorch (the net, callbacks, splits, accelerate, lazy reading)
SKORCH_TESTS = [
    "tests/test_classifiers.py", "tests/test_cnn_skorch_idioms.py",
    "tests/test_ood_and_warm_start.py", "tests/test_accelerate.py", "tests/test_reader.py",
]  # fmt: skip


def lowest_skorch() -> str:
    """Return the lowest skorch version pyproject.toml declares (``skorch>=X``)."""
    import re

    match = re.search(r'"skorch>=([0-9.]+)', (ROOT / "pyproject.toml").read_text())
    if match is None:
        sys.exit("pyproject.toml declares no lower bound for skorch")
    return match.group(1)


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
    default = "" if _has_cuda() else CPU_TORCH.get(platform.machine(), "")
    torch_requirement = os.environ.get("BRAINTUMOR_TORCH", default)
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + torch_requirement.encode() + extras.encode()
    ).hexdigest()
    python = _bin("python")
    if python.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return python
    if not python.exists():
        what = torch_requirement or "torch from the project's ranges"
        print(f"first run: creating {VENV}, installing {what} (torch with its CUDA libraries "
              "is about 5.5 GB to download unless pip has it cached), then this package and "
              "its extras; later runs reuse it", flush=True)  # fmt: skip
        _run([sys.executable, "-m", "venv", VENV])
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if torch_requirement:
        _run([*pip, *torch_requirement.split()])
    _run([*pip, "--editable", f".[{extras}]"])
    STAMP.write_text(wanted)
    return python


def reproduce_args(rest: list[str]) -> list[str]:
    """Return ``braintumor reproduce``'s arguments: options alone go to ``recommended``."""
    return rest if rest and not rest[0].startswith("-") else ["recommended", *rest]


def main(argv: list[str]) -> int:
    """Dispatch ``reproduce``, ``test``, ``cli``, ``docs`` or ``lowest-skorch``."""
    if not argv or argv[0] not in EXTRAS:
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    python = ensure_env(EXTRAS[task])
    if task == "reproduce":
        command = [python, "-m", "sklearn_braintumor", "reproduce", *reproduce_args(rest)]
        return subprocess.run(command, cwd=ROOT).returncode
    if task == "cli":
        return subprocess.run([python, "-m", "sklearn_braintumor", *rest], cwd=ROOT).returncode
    if task == "lowest-skorch":  # that skorch shadows the installed one for these tests only
        target = VENV / "lowest-skorch"
        version = lowest_skorch()
        if not (target / f"skorch-{version}.dist-info").exists():
            shutil.rmtree(target, ignore_errors=True)
            _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target,
                  f"skorch=={version}"])  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(target)}
        command = [python, "-m", "pytest", "-p", "no:cacheprovider", *SKORCH_TESTS, *rest]
        return subprocess.run(command, cwd=ROOT, env=env).returncode
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
