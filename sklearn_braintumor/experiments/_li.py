"""Paper E: Li, a four-block CNN on 150x150 RGB with augmentation."""

from __future__ import annotations

from sklearn.pipeline import make_pipeline

from ..nn import LiCNN
from ..preprocessing import Resize, ToRGB
from ._base import Model, Recipe, RunConfig
from ._common import cnn
from ._splits import OfficialSplit


def _li_cnn(config: RunConfig):
    s = config.settings
    size = s["image_size"]
    return make_pipeline(
        Resize((size, size)),
        ToRGB(),
        cnn(
            config,
            LiCNN,
            lr=1e-3,
            batch_size=32,
            max_epochs=s["max_epochs"],
            early_stopping=s["patience"],
            train_split=0.2,
            augment={
                "rotation": 20.0,
                "translation": 0.1,
                "zoom": 0.1,
                "horizontal_flip": 0.5,
                "vertical_flip": 0.5,
            },
        ),
    )


RECIPE = Recipe(
    name="li",
    letter="E",
    title="Classification of brain tumors based on magnetic resonance imaging (MRI) using "
    "deep learning models",
    citation="S. Li, Classification of brain tumors based on magnetic resonance imaging (MRI) "
    "using deep learning models, Yangtze University",
    task="multiclass",
    data="the 4-class set at 150x150 RGB, part of Training held out for validation "
    "(`--data` a folder with Training/ and Testing/)",
    split=OfficialSplit(),
    models=lambda config: [Model("LiCNN", _li_cnn)],
    profiles={
        "quick": {
            "image_size": 64,
            "max_epochs": 15,
            "patience": None,
            "deviations": ["64 px instead of 150, 15 epochs (the paper does not give its count)"],
        },
        "paper": {
            "image_size": 150,
            "max_epochs": 100,
            "patience": 6,
            "deviations": [
                "trained until the validation loss stopped improving (patience 6 epochs, at "
                "most 100), the best epoch restored (the paper gives no epoch count)"
            ],
        },
    },
    tiny={"image_size": 64, "max_epochs": 1},
    reported={"LiCNN": {"valid_accuracy": 0.96}},
    reported_source="its text and Figure 4 (final validation accuracy; no test figure is given)",
    metrics=("valid_accuracy", "accuracy", "balanced_accuracy", "macro_f1"),
    protocol=(
        "Images resized, repeated to 3 channels (the MRI slices are grayscale), scaled to "
        "[0, 1]; official Training / Testing split with 20 % of Training held out "
        "(stratified) for validation; on-the-fly rotation (20 degrees), translation (10 %), "
        "zoom (10 %), horizontal and vertical flips with zero fill; LiCNN (4 x conv3x3 ReLU + "
        "max pool with 32, 64, 128, 128 filters, dense 512, dropout 0.5), Adam lr 1e-3, "
        "batch 32, categorical cross-entropy; the last epoch is evaluated (the paper profile "
        "stops when the validation loss no longer improves and restores the best epoch). The "
        "paper reports "
        "only validation accuracy; the test figures are this library's addition."
    ),
)
