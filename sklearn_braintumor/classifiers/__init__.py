"""scikit-learn classifiers for images: CNNs through skorch, TTA, tumour-first decisions."""

from ._cnn import CNNClassifier
from ._tta import TTAClassifier
from ._tumor_first import TumorFirstClassifier

__all__ = ["CNNClassifier", "TTAClassifier", "TumorFirstClassifier"]
