"""dev.py, the set-up-and-run script the README's two commands use."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("dev", Path(__file__).parents[1] / "dev.py")
dev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dev)


def test_reproduce_runs_the_default_recipe_unless_one_is_named():
    assert dev.reproduce_args([]) == ["recommended"]
    assert dev.reproduce_args(["--quiet", "--out", "r"]) == ["recommended", "--quiet", "--out", "r"]
    assert dev.reproduce_args(["gbmnet", "--data", "D"]) == ["gbmnet", "--data", "D"]
