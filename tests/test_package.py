import importlib
import inspect
import subprocess
import sys

import pytest

SUBPACKAGES = [
    "sklearn_braintumor.datasets",
    "sklearn_braintumor.preprocessing",
    "sklearn_braintumor.features",
    "sklearn_braintumor.sampling",
    "sklearn_braintumor.model_selection",
    "sklearn_braintumor.nn",
    "sklearn_braintumor.classifiers",
    "sklearn_braintumor.metrics",
    "sklearn_braintumor.inspection",
    "sklearn_braintumor.utils",
    "sklearn_braintumor.exceptions",
]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_public_names_exist_and_are_documented(name):
    module = importlib.import_module(name)
    for public in module.__all__:
        obj = getattr(module, public)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{name}.{public} has no docstring"


def test_import_is_light_and_offline():
    code = (
        "import sys, sklearn_braintumor.datasets, sklearn_braintumor.preprocessing, "
        "sklearn_braintumor.features, sklearn_braintumor.sampling, "
        "sklearn_braintumor.model_selection;"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
