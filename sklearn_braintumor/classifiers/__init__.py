"""scikit-learn classifiers for images: CNNs through skorch, TTA, tumour-first decisions."""

from ._cnn import CNNClassifier
from ._fine_tune import fine_tune
from ._ood import shift_score
from ._tta import TTAClassifier
from ._tumor_first import TumorFirstClassifier

__all__ = [
    "CNNClassifier",
    "TTAClassifier",
    "TumorFirstClassifier",
    "fine_tune",
    "shift_score",
]
