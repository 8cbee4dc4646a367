"""Reproductions of the published experiments, one recipe per paper.

Each recipe holds a paper's data protocol, its pipelines (preprocessing,
samplers, classifier, search space where the paper tuned) and the numbers the
paper reported. :func:`run_recipe` runs it under the paper's protocol and a
leakage-free one; :func:`write_report` writes the report folder. From a shell:
``braintumor list`` and ``braintumor reproduce NAME``.
"""

import importlib
import pkgutil

from ._barone import ShareOfReference
from ._base import Model, Recipe, RunConfig, RunResult, run_recipe, summarize
from ._data import ExperimentData, load_experiment_data
from ._report import write_report
from ._splits import Arm, GroupKFoldSplit, OfficialSplit, RandomSplit, Split


def _discover() -> dict:
    """Every :class:`Recipe` defined at the top level of a module of this package.

    Adding a recipe is adding one module: nothing here names it.
    """
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Recipe):
                other = found.setdefault(value.name, value)
                if other is not value:
                    raise RuntimeError(f"two recipes are named {value.name!r}")
    ordered = sorted(found.values(), key=lambda r: (r.letter == "", r.letter, r.name))
    return {recipe.name: recipe for recipe in ordered}


RECIPES = _discover()
"""The recipes by name, found in this package's modules: the papers' in their order (A to E),
then the library's own (``recommended``, whose two networks are those of
``recommended-binary`` and ``recommended-4class``: the recipes of the shipped pretrained
models)."""


def get_recipe(name: str) -> Recipe:
    """Return a recipe by name or by its paper's letter (``"gbmnet"`` or ``"D"``).

    Parameters
    ----------
    name : str

    Returns
    -------
    Recipe

    Examples
    --------
    >>> from sklearn_braintumor.experiments import get_recipe
    >>> get_recipe("D").name, get_recipe("recommended").task
    ('gbmnet', 'multiclass')
    """
    for recipe in RECIPES.values():
        if name == recipe.name or (recipe.letter and name.upper() == recipe.letter):
            return recipe
    known = ", ".join(f"{r.name} ({r.letter})" if r.letter else r.name for r in RECIPES.values())
    raise ValueError(f"unknown recipe {name!r}; known: {known}")


__all__ = [
    "RECIPES",
    "Arm",
    "ExperimentData",
    "GroupKFoldSplit",
    "Model",
    "OfficialSplit",
    "RandomSplit",
    "Recipe",
    "RunConfig",
    "RunResult",
    "ShareOfReference",
    "Split",
    "get_recipe",
    "load_experiment_data",
    "run_recipe",
    "summarize",
    "write_report",
]
