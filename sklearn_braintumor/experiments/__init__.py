"""Reproductions of the published experiments, one recipe per paper.

Each recipe holds a paper's data protocol, its pipelines (preprocessing,
samplers, classifier, search space where the paper tuned) and the numbers the
paper reported. :func:`run_recipe` runs it under the paper's protocol and a
leakage-free one; :func:`write_report` writes the report folder. From a shell:
``braintumor list`` and ``braintumor reproduce NAME``.
"""

from ._barone import RECIPE as _BARONE
from ._barone import ShareOfReference
from ._base import Model, Recipe, RunConfig, RunResult, Split, run_recipe, summarize
from ._data import ExperimentData, load_experiment_data
from ._gbmnet import RECIPE as _GBMNET
from ._li import RECIPE as _LI
from ._liaqat import RECIPE as _LIAQAT
from ._liu import RECIPE as _LIU
from ._recommended import BINARY_RECIPE as _RECOMMENDED_BINARY
from ._recommended import RECIPE as _RECOMMENDED
from ._report import write_report

RECIPES = {
    r.name: r for r in (_LIU, _BARONE, _LIAQAT, _GBMNET, _LI, _RECOMMENDED, _RECOMMENDED_BINARY)
}
"""The recipes by name, in the papers' order (A to E), then ``recommended`` and
``recommended-binary`` (the recipes of the shipped pretrained models)."""


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
    "ExperimentData",
    "Model",
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
