"""Paper A: Liu et al., the 14-layer LeakyReLU CNN on the yes/no set."""

from __future__ import annotations

from sklearn.pipeline import make_pipeline

from ..nn import LiuCNN
from ..preprocessing import Resize
from ._base import Model, Recipe, RunConfig
from ._common import cnn, not_in_torchvision, transfer, transfer_rows
from ._splits import RandomSplit


def _liu_cnn(config: RunConfig):
    s = config.settings
    size = s["image_size"]
    return make_pipeline(
        Resize((size, size)),
        cnn(
            config,
            LiuCNN,
            lr=s["lr"],
            batch_size=32,
            max_epochs=s["max_epochs"],
            early_stopping=8,
            monitor="valid_loss",
            train_split=0.2,
            augment={"horizontal_flip": 0.5, "rotation": 15.0, "zoom": 0.1},
        ),
    )


def _transfer(config: RunConfig, backbone: str, weights):
    s = config.settings
    size = s["transfer_size"]
    return make_pipeline(
        Resize((size, size)),
        transfer(
            config,
            backbone,
            weights,
            module__head=(),
            lr=1e-4,
            batch_size=32,
            max_epochs=s["max_epochs"],
            early_stopping=8,
            train_split=0.2,
            augment={"horizontal_flip": 0.5},
        ),
    )


def _models(config: RunConfig) -> list[Model]:
    return [
        Model("LiuCNN", _liu_cnn, note="the paper's own 14-layer network"),
        *transfer_rows(
            {"inception_v3": "InceptionV3", "mobilenet_v2": "MobileNetV2", "vgg16": "VGG16"},
            _transfer,
        ),
        not_in_torchvision("InceptionResNetV2"),
    ]


RECIPE = Recipe(
    name="liu",
    letter="A",
    title="Brain Tumor Classification on MRI in Light of Molecular Markers",
    citation="J. Liu, G. Yuan, W. Zeng, H. Tang, W. Zhang, X. Lin, X. Xu, D. Huang, Y. Wang, "
    "Brain Tumor Classification on MRI in Light of Molecular Markers (2020)",
    task="binary",
    data="the 253-image yes/no set (`--data` a folder with yes/ and no/); the text "
    "also speaks of 1p/19q co-deletion data it does not use",
    split=RandomSplit(test_size=0.2, random_state=0, cv=3),
    models=_models,
    profiles={
        "quick": {
            "image_size": 128,
            "transfer_size": 128,
            "max_epochs": 60,
            "lr": 1e-3,
            "backbones": True,
            "deviations": [
                "128 px instead of 256 (LiuCNN's final 5x5 pooling then sees 8x8 maps, 1x1 out)",
                "at most 60 epochs (early stopping, patience 8, usually ends sooner)",
            ],
        },
        "paper": {
            "image_size": 256,
            "transfer_size": 224,
            "max_epochs": 200,
            "lr": 1e-3,
            "backbones": True,
            "deviations": [],
        },
    },
    tiny={"image_size": 104, "transfer_size": 64, "max_epochs": 2, "lr": 1e-3, "backbones": False},
    reported={
        "LiuCNN": {"macro_precision": 0.9746, "macro_recall": 0.9634, "macro_f1": 0.9637},
        "InceptionV3": {"macro_f1": 0.9600},
        "MobileNetV2": {"macro_f1": 0.9200},
        "InceptionResNetV2": {"macro_f1": 0.9153},
        "VGG16": {"macro_f1": 0.9123},
    },
    reported_source="Tables 3 and 4 (precision, recall and F1 averaged over the two classes)",
    metrics=("accuracy", "macro_precision", "macro_recall", "macro_f1", "cv_macro_f1"),
    protocol=(
        "Images resized, scaled to [0, 1]; a stratified random 20 % test split; LiuCNN "
        "(14 layers, LeakyReLU, Gaussian noise layer during training) trained with Adam "
        "(lr 1e-3, batch 32), on-the-fly flips, rotation and zoom, early stopping on the "
        "validation loss (min_delta 0.001, patience 8) on a 20 % validation split, best "
        "epoch restored; 3-fold stratified cross-validation of the same pipeline on the "
        "training part is reported beside the test figures. Fine-tuned ImageNet backbones "
        "(InceptionV3, MobileNetV2, VGG16) run only where torchvision and their weights "
        "are present locally. The paper's Keras details (dropout rates, noise level, "
        "augmentation ranges) are not given; the recipe's choices are in LiuCNN's docstring."
    ),
)
