"""scikit-learn compatible brain MRI tumour classification.

Subpackages
-----------
datasets
    Loaders for image folders, the embedded sample, public datasets and
    synthetic phantoms.
utils
    Image hashing helpers shared by the other subpackages.
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
