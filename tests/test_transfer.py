"""torchvision backbones: built from random weights or from state_dicts the tests save."""

import sys

import numpy as np
import pytest
import torch

pytest.importorskip("torchvision", reason="the test set-up installs the transfer extra")

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.nn import BACKBONES, TransferNet, imagenet_weights_path

SIZES = {"inception_v3": (80, 80)}


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_every_backbone_builds_and_runs(backbone):
    size = SIZES.get(backbone, (64, 64))
    net = TransferNet(backbone, n_classes=3, in_channels=1, input_size=size, head=(16,))
    out = net.eval()(torch.rand(2, 1, *size))
    assert out.shape == (2, 3)
    assert dict(net.named_modules())[net.gradcam_layer] is not None


def test_state_dict_weights_freeze_and_head(tmp_path):
    import torchvision

    source = torchvision.models.mobilenet_v2(weights=None)
    path = tmp_path / "mobilenet.pt"
    torch.save(source.state_dict(), path)
    net = TransferNet("mobilenet_v2", input_size=(64, 64), weights=path, freeze="features")
    for name, value in source.state_dict().items():
        if not name.startswith("classifier"):
            assert torch.equal(net.backbone.state_dict()[name], value)
    assert not any(p.requires_grad for p in net.backbone.parameters())
    assert all(p.requires_grad for p in net.head.parameters())
    # paper D's head: dense 64, ReLU, dropout 0.5, dense n
    linear = [m for m in net.head if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linear] == [64, 4]
    partly = TransferNet("mobilenet_v2", input_size=(64, 64), freeze=3)
    frozen = [all(not p.requires_grad for p in c.parameters())
              for c in partly.backbone.features.children()]  # fmt: skip
    assert frozen[:3] == [True] * 3 and not any(frozen[3:])


def test_missing_imagenet_weights_say_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path, url, _ = imagenet_weights_path("resnet50")
    assert str(path).startswith(str(tmp_path)) and not path.exists()
    with pytest.raises(FileNotFoundError, match=r"get_state_dict\(\)") as info:
        TransferNet("resnet50", weights="imagenet", input_size=(64, 64))
    assert url in str(info.value) and str(path) in str(info.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown backbone"):
        TransferNet("alexnet")
    with pytest.raises(ValueError, match="1 or 3 channels"):
        TransferNet(in_channels=4)
    with pytest.raises(ValueError, match="freeze"):
        TransferNet(freeze="half", input_size=(64, 64))


def test_cnn_classifier_trains_a_backbone():
    X, y = make_synthetic_mri(64, n_classes=2, image_size=64, random_state=0)
    clf = CNNClassifier(TransferNet, max_epochs=2, random_state=0, module__backbone="mobilenet_v2",
                        module__head=(16,), module__dropout=0.0)  # fmt: skip
    clf.fit(X, y)
    proba = clf.predict_proba(X[:4])
    assert proba.shape == (4, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert clf.module_.in_channels == 1


def test_missing_torchvision_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    with pytest.raises(ImportError, match=r"sklearn-braintumor\[transfer\]"):
        TransferNet()
