"""Plain ``torch.nn.Module``s: one per paper architecture, layers, losses, batch augmentation."""

from ._augment import BatchAugment
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
    "BatchAugment",
    "FocalLoss",
    "GBMNet",
    "GaussianNoise",
    "LiCNN",
    "LiuCNN",
    "SimpleCNN",
]
