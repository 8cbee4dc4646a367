"""What users read speaks of the library and its users: no internal paths or project talk."""

import re
from pathlib import Path

import pytest

from sklearn_braintumor._cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = re.compile(
    r"\.\./shared|\bissue \d+\b|this project's|\bwas lent\b|lent to|no GPU was available"
    r"|on this machine|\bthis machine\b|not yet done|/tmp/run/",
    re.IGNORECASE,
)


def user_files():
    """README, the docs sources and committed reports, examples, the package's own text."""
    files = [ROOT / "README.md", ROOT / "CHANGELOG.md"]
    for pattern in ("*.md", "*.rst", "reproduction/**/*.md", "reproduction/**/*.json"):
        files += sorted((ROOT / "docs").glob(pattern))
    files += sorted((ROOT / "examples").glob("*.py"))
    files += sorted((ROOT / "sklearn_braintumor").rglob("*.py"))
    files += sorted((ROOT / "sklearn_braintumor").rglob("*.rst"))
    files += sorted((ROOT / "sklearn_braintumor" / "pretrained" / "models").glob("*.json"))
    return [f for f in files if "_build" not in f.parts and "generated" not in f.parts]


@pytest.mark.parametrize("path", user_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_internal_text_in_what_users_read(path):
    hits = [
        f"{number}: {line.strip()[:120]}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if INTERNAL.search(line)
    ]
    assert not hits, "\n".join(hits)


def test_no_internal_text_in_cli_help():
    parser = build_parser()
    texts = [parser.format_help()]
    subparsers = next(a for a in parser._actions if a.dest == "command")
    texts += [sub.format_help() for sub in subparsers.choices.values()]
    assert len(texts) > 8
    for text in texts:
        assert not INTERNAL.search(text), INTERNAL.search(text).group(0)


def public_names():
    """(module, name) for every name in a public module's ``__all__``."""
    import importlib
    import pkgutil

    import sklearn_braintumor

    modules = [sklearn_braintumor]
    modules += [importlib.import_module(f"sklearn_braintumor.{info.name}")
                for info in pkgutil.iter_modules(sklearn_braintumor.__path__)
                if not info.name.startswith("_")]  # fmt: skip
    return [(m.__name__, name) for m in modules for name in getattr(m, "__all__", [])
            if not name.startswith("__")]  # fmt: skip


def test_every_public_name_has_an_api_entry():
    api = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    sections = re.split(r"\.\. currentmodule:: ", api)[1:]
    documented = set()
    for section in sections:
        module, _, body = section.partition("\n")
        for line in body.splitlines():
            match = re.fullmatch(r"   ([A-Za-z_][A-Za-z0-9_]*)", line)
            if match:
                documented.add((module.strip(), match.group(1)))
    # constants are described in prose beside their functions
    prose = {name for _, name in public_names() if f"``{name}``" in api}
    missing = sorted(f"{m}.{n}" for m, n in public_names()
                     if (m, n) not in documented and n not in prose)  # fmt: skip
    assert not missing, f"add to docs/api.rst: {missing}"


def test_logs_off_a_terminal_have_no_colour_codes_or_progress_bars(tmp_path):
    import subprocess
    import sys

    code = (
        "from sklearn_braintumor.classifiers import CNNClassifier\n"
        "from sklearn_braintumor.datasets import make_synthetic_mri\n"
        "X, y = make_synthetic_mri(520, image_size=16, random_state=0)\n"  # 104 batches of 4
        "CNNClassifier(max_epochs=2, batch_size=4, verbose=1, module__hidden=8,"
        " device='cpu').fit(X, y)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert "valid_loss" in result.stdout  # the epoch table is printed
    assert "\x1b[" not in result.stdout + result.stderr  # but without colours
    assert "it/s" not in result.stderr  # and no progress bar lines


def test_every_public_class_and_function_has_an_example():
    import importlib
    import inspect

    owned_elsewhere = {"InvalidParameterError"}  # scikit-learn's class, re-exported
    missing = []
    for module, name in public_names():
        obj = getattr(importlib.import_module(module), name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and name not in owned_elsewhere:
            if "Examples\n--------" not in (inspect.getdoc(obj) or ""):
                missing.append(f"{module}.{name}")
    assert not missing, f"add an Examples section (a doctest) to {missing}"
