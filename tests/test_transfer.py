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
    with pytest.raises(FileNotFoundError, match="braintumor fetch-weights resnet50") as info:
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


# -- ImageNet weights: fetched once on request, from a server or a local file -------------------


@pytest.fixture
def weights_server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving ``tmp_path / "served"``; counts requests."""
    import http.server
    import threading
    from functools import partial

    folder = tmp_path / "served"
    folder.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=folder))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def test_fetch_weights_downloads_once_checks_the_hash_and_leaves_nothing_half_written(
    weights_server, tmp_path, monkeypatch
):
    import hashlib
    import io

    from sklearn_braintumor.exceptions import DownloadError
    from sklearn_braintumor.nn import _transfer, fetch_imagenet_weights

    folder, base, hits = weights_server
    cache = tmp_path / "hub"
    state = {"weight": torch.arange(6.0).reshape(2, 3)}  # a tiny, locally made state dict
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    (folder / "w.pth").write_bytes(payload)
    target = cache / "checkpoints" / f"vgg16-{prefix}.pth"
    monkeypatch.setattr(
        _transfer, "imagenet_weights_path", lambda b: (target, f"{base}/w.pth", "W.DEFAULT")
    )
    monkeypatch.setattr(_transfer, "_expected_bytes", lambda b: len(payload))
    path = fetch_imagenet_weights("vgg16")
    assert path == target and path.read_bytes() == payload and hits == ["/w.pth"]
    assert torch.equal(torch.load(path, weights_only=True)["weight"], state["weight"])
    assert fetch_imagenet_weights("vgg16") == target and hits == ["/w.pth"]  # cached: no request
    # a file whose content does not match the name's hash prefix is refused, nothing cached
    target.unlink()
    (folder / "other.pth").write_bytes(payload + b"x")
    with pytest.raises(DownloadError, match=f"expected {prefix}; nothing was cached"):
        fetch_imagenet_weights("vgg16", url=f"{base}/other.pth")
    with pytest.raises(DownloadError, match=r"download of .* failed"):
        fetch_imagenet_weights("vgg16", url=f"{base}/missing.pth")
    assert sorted(p.name for p in target.parent.iterdir()) == []
    # without network: a file downloaded elsewhere, through the command line
    from sklearn_braintumor._cli import main

    copy = tmp_path / "downloaded-elsewhere.pth"
    copy.write_bytes(payload)
    assert main(["fetch-weights", "vgg16", "--file", str(copy)]) == 0
    assert target.read_bytes() == payload and hits == ["/w.pth", "/other.pth", "/missing.pth"]
    copy.write_bytes(b"not weights")
    assert main(["fetch-weights", "vgg16", "--file", str(copy)]) == 1
    assert target.read_bytes() == payload  # the good file stays
    with pytest.raises(ValueError, match="unknown backbone"):
        fetch_imagenet_weights("alexnet")


def test_transfer_net_downloads_imagenet_weights_only_when_asked(
    weights_server, tmp_path, monkeypatch
):
    import hashlib
    import io

    import torchvision

    from sklearn_braintumor.nn import _transfer

    folder, base, hits = weights_server
    source = torchvision.models.mobilenet_v2(weights=None)  # stands in for ImageNet's
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    payload = buffer.getvalue()
    target = (
        tmp_path
        / "hub"
        / "checkpoints"
        / (f"mobilenet_v2-{hashlib.sha256(payload).hexdigest()[:8]}.pth")
    )
    (folder / target.name).write_bytes(payload)
    monkeypatch.setattr(
        _transfer, "imagenet_weights_path",
        lambda b: (target, f"{base}/{target.name}", "W.DEFAULT"),
    )  # fmt: skip
    monkeypatch.setattr(_transfer, "_expected_bytes", lambda b: len(payload))
    with pytest.raises(FileNotFoundError, match="braintumor fetch-weights mobilenet_v2"):
        TransferNet("mobilenet_v2", weights="imagenet", input_size=(64, 64))
    assert hits == []  # never downloaded unless asked
    net = TransferNet("mobilenet_v2", weights="imagenet", download=True, input_size=(64, 64))
    assert hits == [f"/{target.name}"] and target.is_file()
    for name, value in source.state_dict().items():
        if not name.startswith("classifier"):
            assert torch.equal(net.backbone.state_dict()[name], value)
