"""Cheng et al. 2015: three tumour types on the figshare set, 5-fold patient-wise CV."""

from __future__ import annotations

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ..features import GLCMFeatures
from ..nn import GBMNet
from ..preprocessing import BrainCrop, IntensityScaler, Resize
from ._base import Model, Recipe, RunConfig
from ._common import cnn
from ._splits import GroupKFoldSplit


def _glcm_svm(config: RunConfig):  # deterministic: the seed changes nothing
    size = config.settings["image_size"]
    return make_pipeline(
        BrainCrop(),
        Resize((size, size)),
        GLCMFeatures(),
        StandardScaler(),
        SVC(C=10.0),
    )


def _gbmnet(config: RunConfig):
    s = config.settings
    size = s["image_size"]
    return make_pipeline(
        BrainCrop(),
        Resize((size, size)),
        IntensityScaler(method="percentile", percentiles=(1.0, 99.0), background=8),
        cnn(config, GBMNet, lr=1e-3, batch_size=64,
            max_epochs=s["max_epochs"], lr_schedule="cosine", train_split=0.1,
            keep_best=True, monitor="valid_loss",
            augment={"horizontal_flip": 0.5, "rotation": 10.0}),
    )  # fmt: skip


def _models(config: RunConfig) -> list[Model]:
    return [
        Model(
            "Fisher vector, augmented tumour region",
            build=None,
            unavailable=lambda config: "needs the tumour masks, which this recipe does not read",
        ),
        Model("GLCM + SVM, whole slice", _glcm_svm, note="texture features of the cropped brain"),
        Model("GBMNet", _gbmnet, note="the recommended recipe's network and schedule"),
    ]


RECIPE = Recipe(
    name="cheng",
    letter="F",
    title="Enhanced Performance of Brain Tumor Classification via Tumor Region Augmentation "
    "and Partition",
    citation="J. Cheng, W. Huang, S. Cao, R. Yang, W. Yang, Z. Yun, Z. Wang, Q. Feng, Enhanced "
    "Performance of Brain Tumor Classification via Tumor Region Augmentation and Partition, "
    "PLoS ONE 10(10): e0140381 (2015)",
    task="multiclass",
    data="the figshare set of 3064 T1-weighted contrast-enhanced slices from 233 patients "
    "(`--dataset figshare-cheng-3064` after `braintumor fetch figshare-cheng-3064`, or `--data` "
    "a folder with its .mat files)",
    split=GroupKFoldSplit(n_splits=5),
    models=_models,
    classes=("glioma", "meningioma", "pituitary"),
    profiles={
        "quick": {
            "image_size": 64,
            "max_epochs": 30,
            "deviations": [
                "whole slices cropped to the brain instead of the tumour region (the masks "
                "are not read), 64 px",
            ],
        },
        "paper": {
            "image_size": 128,
            "max_epochs": 60,
            "deviations": [
                "whole slices cropped to the brain instead of the tumour region (the masks "
                "are not read), 128 px",
            ],
        },
    },
    tiny={"image_size": 32, "max_epochs": 1},
    reported={"Fisher vector, augmented tumour region": {"accuracy": 0.9128}},
    reported_source="its abstract (mean accuracy of the 5-fold patient-wise cross-validation)",
    metrics=("accuracy", "balanced_accuracy", "macro_f1"),
    protocol=(
        "Slices rescaled to 8 bits per slice, cropped to the brain, resized; 5-fold "
        "cross-validation in which all slices of a patient are in one fold (the dataset's "
        "published cvind.mat folds where present, else StratifiedGroupKFold over patient IDs); "
        "every model trained once per fold and the accuracy averaged over folds. The paper's "
        "Fisher-vector features come from the tumour region (its masks, dilated and split into "
        "rings); the rows here classify the whole slice: GLCM texture features with an RBF SVM, "
        "and GBMNet with the recommended schedule (Adam lr 1e-3, cosine, 10 % validation, best "
        "epoch restored)."
    ),
)
