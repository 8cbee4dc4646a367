"""scikit-learn classifiers for image arrays: CNNs through skorch, test-time augmentation."""

from ._cnn import CNNClassifier
from ._tta import TTAClassifier

__all__ = ["CNNClassifier", "TTAClassifier"]
