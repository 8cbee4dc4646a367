"""Paper C: Liaqat et al., SimpleCNN and ImageNet backbones, tumour vs healthy."""

from __future__ import annotations

import torch
from sklearn.pipeline import make_pipeline

from ..nn import SimpleCNN
from ..preprocessing import Resize
from ._base import Model, Recipe, RunConfig
from ._common import cnn, transfer, transfer_rows
from ._splits import RandomSplit

_VALID = 0.15 / 0.85  # 70 / 15 / 15 of the whole: validation is 15/85 of the training part
_BACKBONES = {"densenet121": "DenseNet121", "resnet50": "ResNet50", "resnet101": "ResNet101",
              "resnet152": "ResNet152", "vgg16": "VGG16"}  # fmt: skip


def _train_params(config: RunConfig) -> dict:
    s = config.settings
    return dict(
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        lr=s["lr"],
        batch_size=32,
        max_epochs=s["max_epochs"],
        train_split=_VALID,
        keep_best=True,
        monitor="valid_f1",
        augment={"horizontal_flip": 0.5, "rotation": 10.0},
    )


def _simple(config: RunConfig):
    size = config.settings["image_size"]
    return make_pipeline(Resize((size, size)), cnn(config, SimpleCNN, **_train_params(config)))


def _transfer(config: RunConfig, backbone: str, weights):
    size = config.settings["transfer_size"]
    return make_pipeline(
        Resize((size, size)),
        transfer(
            config,
            backbone,
            weights,
            module__head=(),
            **_train_params(config),
        ),
    )


def _models(config: RunConfig) -> list[Model]:
    return [
        Model("SimpleCNN", _simple, note="3 conv + 2 dense layers, random init"),
        *transfer_rows(_BACKBONES, _transfer, weights_options=(None, "imagenet")),
    ]


RECIPE = Recipe(
    name="liaqat",
    letter="C",
    title="Deep Learning for Brain Tumor Classification from MRI Images",
    citation="E. Liaqat, R. Parmar, J. Ahmed, G. Sharma, Deep Learning for Brain Tumor "
    "Classification from MRI Images, University of Calgary",
    task="binary",
    data="a 4,600-image healthy / tumour set that is not public; run it on the 4-class "
    "set binarized (`--data` a folder with Training/ and Testing/) and on the yes/no set "
    "(`--data` a folder with yes/ and no/)",
    split=RandomSplit(test_size=0.15, random_state=42),
    models=_models,
    profiles={
        "quick": {
            "image_size": 48,
            "transfer_size": 64,
            "max_epochs": 10,
            "lr": 1e-2,
            "backbones": False,
            "deviations": [
                "grayscale 48 px instead of RGB 224 px, 10 epochs (the paper does not give "
                "its epoch count)",
                "SGD lr 1e-2 instead of 1e-4: a first quick run with 1e-4 learned nothing in 10 "
                "epochs (it predicted 'tumor' for every image)",
                "the ImageNet-size backbones are left out (hours per run on 2 CPU cores)",
            ],
        },
        "paper": {
            "image_size": 224,
            "transfer_size": 224,
            "max_epochs": 30,
            "lr": 1e-4,
            "backbones": True,
            "deviations": [
                "grayscale input repeated to 3 channels for the backbones",
                "30 epochs (the paper does not give its count)",
            ],
        },
    },
    tiny={"image_size": 32, "transfer_size": 32, "max_epochs": 2, "lr": 1e-2, "backbones": False},
    reported={
        "SimpleCNN": {"accuracy": 0.771, "macro_f1": 0.7052},
        "DenseNet121 (random init)": {"accuracy": 0.6507, "macro_f1": 0.5151},
        "ResNet50 (random init)": {"accuracy": 0.6826, "macro_f1": 0.5844},
        "ResNet101 (random init)": {"accuracy": 0.642, "macro_f1": 0.4642},
        "ResNet152 (random init)": {"accuracy": 0.6348, "macro_f1": 0.5385},
        "VGG16 (random init)": {"accuracy": 0.813, "macro_f1": 0.7825},
        "DenseNet121 (ImageNet)": {"accuracy": 0.8942, "macro_f1": 0.8902},
        "ResNet50 (ImageNet)": {"accuracy": 0.8826, "macro_f1": 0.8775},
        "ResNet101 (ImageNet)": {"accuracy": 0.8986, "macro_f1": 0.8829},
        "ResNet152 (ImageNet)": {"accuracy": 0.9217, "macro_f1": 0.9112},
        "VGG16 (ImageNet)": {"accuracy": 0.9783, "macro_f1": 0.9759},
    },
    reported_source="its results table (test accuracy and F1 on its own 4,600-image set; "
    "the F1 is compared with our macro F1)",
    metrics=("accuracy", "macro_f1", "roc_auc"),
    protocol=(
        "Labels binarized (no tumour / tumour); all images pooled and split stratified "
        "70 / 15 / 15 (train / validation / test) with seed 42; images resized and scaled to "
        "[0, 1], flips and small rotations on the fly; SGD with momentum 0.9, lr 1e-4 (in "
        "the paper profile), batch 32, cross-entropy; the epoch with the best validation "
        "macro F1 is kept and evaluated once on the test split. Backbones from random init "
        "and from ImageNet "
        "weights (the latter once torchvision's weight files are in its cache: "
        "`braintumor fetch-weights NAME`)."
    ),
)
