"""Plain ``torch.nn.Module``s: one per paper architecture, layers and losses."""

from ._losses import FocalLoss
from ._models import (
    BaroneBaselineCNN,
    BaroneImprovedCNN,
    GaussianNoise,
    GBMNet,
    LiCNN,
    LiuCNN,
    SimpleCNN,
)

__all__ = [
    "BaroneBaselineCNN",
    "BaroneImprovedCNN",
    "FocalLoss",
    "GBMNet",
    "GaussianNoise",
    "LiCNN",
    "LiuCNN",
    "SimpleCNN",
]
