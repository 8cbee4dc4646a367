"""scikit-learn compatible brain MRI tumour classification.

Subpackages
-----------
datasets
    Loaders for image folders, the embedded sample, public datasets and
    synthetic phantoms.
pretrained
    Models shipped with the package, ready to predict (:func:`predict_folder`).
deploy
    Using fitted models: :func:`predict_folder`, ``export_model``.
utils
    Helpers shared by the other subpackages: hashing, validation, saving.
"""

from ._version import __version__

__all__ = ["__version__", "predict_folder"]


def __getattr__(name: str):
    # imported on first use, so `import sklearn_braintumor` (and the CLI) starts fast
    if name == "predict_folder":
        from .deploy import predict_folder

        return predict_folder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
