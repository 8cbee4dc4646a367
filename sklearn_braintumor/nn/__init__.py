"""Plain ``torch.nn.Module``s: one per paper architecture, layers, losses, batch augmentation."""

from ._augment import BatchAugment
from ._ensemble import EnsembleNet
from ._losses import CoarseLabelLoss, FocalLoss
from ._models import (
    IBN,
    BaroneBaselineCNN,
    BaroneImprovedCNN,
    GaussianNoise,
    GBMNet,
    LiCNN,
    LiuCNN,
    MixStyle,
    SimpleCNN,
)
from ._transfer import BACKBONES, TransferNet, fetch_imagenet_weights, imagenet_weights_path

__all__ = [
    "BACKBONES",
    "IBN",
    "BaroneBaselineCNN",
    "BaroneImprovedCNN",
    "BatchAugment",
    "CoarseLabelLoss",
    "EnsembleNet",
    "FocalLoss",
    "GBMNet",
    "GaussianNoise",
    "LiCNN",
    "LiuCNN",
    "MixStyle",
    "SimpleCNN",
    "TransferNet",
    "fetch_imagenet_weights",
    "imagenet_weights_path",
]
