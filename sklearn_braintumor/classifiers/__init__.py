"""scikit-learn classifiers for images: skorch CNNs, TTA, tumour-first and two-stage rules."""

from ._cnn import CNNClassifier
from ._ensemble import average_networks
from ._fine_tune import fine_tune
from ._ood import shift_score
from ._tta import TTAClassifier
from ._tumor_first import TumorFirstClassifier
from ._two_stage import TwoStageClassifier

__all__ = [
    "CNNClassifier",
    "TTAClassifier",
    "TumorFirstClassifier",
    "TwoStageClassifier",
    "average_networks",
    "fine_tune",
    "shift_score",
]
