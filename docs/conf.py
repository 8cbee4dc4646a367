"""Sphinx configuration: builds offline (no intersphinx), warnings are errors (-W)."""

import sys
from pathlib import Path

import sklearn_braintumor

sys.path.insert(0, str(Path(__file__).parent))  # gallery_order, named in sphinx_gallery_conf

project = "sklearn-braintumor"
author = "sklearn-braintumor developers"
release = version = sklearn_braintumor.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# _*.md: fragments included by other pages (the model cards), not pages of their own
exclude_patterns = ["_build", "generated/*.examples", "_*.md"]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
# signatures show defaults as written (module=GBMNet), not their repr (<class '...GBMNet'>)
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
myst_heading_anchors = 3
html_theme = "pydata_sphinx_theme"
html_title = "sklearn-braintumor"
# the nav bar fits on one line at 1280 px: three page links, the rest under "More"
html_theme_options = {"navigation_with_keys": False, "header_links_before_dropdown": 3}
# the user-guide pages are all top level: their "Section navigation" sidebar would be empty and
# take 220 px from the code blocks, so they have none (the API and gallery pages keep theirs)
html_sidebars = {
    page: []
    for page in ("index", "install", "getting_started", "pretrained", "datasets", "preprocessing",
                 "leakage", "cross_source", "models", "evaluation", "reproduction", "scaling",
                 "contributing", "benchmarks")
}  # fmt: skip
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "show_memory": False,
    "within_subsection_order": "gallery_order.ExampleOrder",
    # "Examples using X" on each API page (the minigallery in the autosummary templates)
    "backreferences_dir": "generated",
    "doc_module": ("sklearn_braintumor",),
}
