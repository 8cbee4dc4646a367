"""scikit-learn classifiers that train torch networks (through skorch) on image arrays."""

from ._cnn import CNNClassifier

__all__ = ["CNNClassifier"]
