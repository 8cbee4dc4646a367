"""torchvision backbones with the papers' classification heads."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import torch
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

#: backbone -> (torchvision builder, attribute holding its ImageNet classifier, Grad-CAM layer)
BACKBONES = {
    "vgg16": ("vgg16", "classifier", "backbone.features.28"),
    "resnet50": ("resnet50", "fc", "backbone.layer4"),
    "resnet101": ("resnet101", "fc", "backbone.layer4"),
    "resnet152": ("resnet152", "fc", "backbone.layer4"),
    "densenet121": ("densenet121", "classifier", "backbone.features.denseblock4"),
    "mobilenet_v2": ("mobilenet_v2", "classifier", "backbone.features.18"),
    "inception_v3": ("inception_v3", "fc", "backbone.Mixed_7c"),
}
# the part of each network that freeze="features" / freeze=n acts on
_FEATURES = {"vgg16": "features", "densenet121": "features", "mobilenet_v2": "features"}


def _torchvision():
    try:
        import torchvision
    except ImportError as exc:
        raise ImportError(
            "torchvision is needed for transfer backbones: pip install "
            "'sklearn-braintumor[transfer]' (or pip install torchvision matching your torch)"
        ) from exc
    return torchvision


def imagenet_weights_path(backbone: str) -> tuple[Path, str, str]:
    """Where torchvision caches ``backbone``'s ImageNet weights, their URL, and their enum.

    Examples
    --------
    >>> from sklearn_braintumor.nn import imagenet_weights_path
    >>> path, url, name = imagenet_weights_path("resnet18")  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'resnet18-f37072fd.pth'
    """
    torchvision = _torchvision()
    weights = torchvision.models.get_model_weights(BACKBONES[backbone][0]).DEFAULT
    filename = os.path.basename(urlparse(weights.url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / filename, weights.url, str(weights)


_HASH_PREFIX = re.compile(r"-([a-f0-9]{6,})\.")
#: seconds one fetch of weights may take in all (the largest, vgg16, is 528 MiB)
FETCH_DEADLINE = 3600.0
# torchvision records each file's size in MiB to 2-3 decimals: allow that rounding
_SIZE_SLACK = 2**16


def _expected_bytes(backbone: str) -> int | None:
    """Return the size torchvision records for ``backbone``'s weights file, in bytes."""
    weights = _torchvision().models.get_model_weights(BACKBONES[backbone][0]).DEFAULT
    size = weights.meta.get("_file_size")
    return None if size is None else round(size * 2**20)


def _copy_capped(source, destination: Path, max_bytes: int | None) -> str:
    """Copy a regular file of at most ``max_bytes``; return its SHA-256."""
    import hashlib

    from ..exceptions import DownloadError, ImageReadError
    from ..utils._io import read_file_bytes

    try:
        data = read_file_bytes(source, what="weights", max_bytes=max_bytes or 2**40)
    except ImageReadError as exc:
        raise DownloadError(f"cannot use {source}: {exc.reason}; nothing was cached") from exc
    destination.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def fetch_imagenet_weights(
    backbone: str, *, url: str | None = None, file: str | os.PathLike | None = None,
    timeout: float = 60.0,
) -> Path:  # fmt: skip
    """Put ``backbone``'s ImageNet weights into torchvision's cache, once; return the path.

    The one place where the library downloads weights, and only when called
    (``braintumor fetch-weights NAME`` from a shell, or
    ``TransferNet(weights="imagenet", download=True)``): a ``fit`` never does.
    The file is written under a temporary name and renamed when complete.
    Its size must match the size torchvision records (a larger body or file
    is cut off at that size, so an endless one cannot fill the disk), the
    whole download must end within :data:`FETCH_DEADLINE` seconds, and its
    SHA-256 must start with the hash prefix in torchvision's file name
    (``resnet50-11ad3fa6.pth``): a damaged or wrong file is refused and
    nothing is cached. Already cached: nothing is downloaded.

    torchvision publishes only that 8-hex-digit (32-bit) prefix of each
    file's SHA-256, so the check catches damaged, truncated and wrong files,
    not a file forged to match it. Weights are read with
    ``torch.load(weights_only=True)``, which builds tensors and runs no code
    from the file, so a forged file can give wrong weights, not run code.

    Parameters
    ----------
    backbone : str
        A key of :data:`BACKBONES`.
    url : str, optional
        Download from here instead of torchvision's address (a mirror).
    file : path, optional
        Copy a weights file obtained elsewhere (no network needed); its name
        may differ, its content must match torchvision's hash prefix.
    timeout : float, default=60.0
        Seconds to wait for the server.

    Returns
    -------
    path : Path
        The cached file, which ``weights="imagenet"`` reads.

    Raises
    ------
    DownloadError
        The download failed, was incomplete or its content does not match.

    Examples
    --------
    >>> from sklearn_braintumor.nn import fetch_imagenet_weights
    >>> path = fetch_imagenet_weights("mobilenet_v2")  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'mobilenet_v2-7ebf99e0.pth'
    """
    from ..datasets._fetch import _download
    from ..exceptions import DownloadError
    from ..utils._persistence import replacing

    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose from {sorted(BACKBONES)}")
    path, default_url, _ = imagenet_weights_path(backbone)
    if path.is_file() and file is None:
        return path
    match = _HASH_PREFIX.search(path.name)
    prefix = match.group(1) if match else ""
    expected = _expected_bytes(backbone)
    max_bytes = None if expected is None else expected + _SIZE_SLACK
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as partial:  # renamed over path only when the block completes
        if file is not None:
            what = str(file)
            digest = _copy_capped(file, partial, max_bytes)
        else:
            what = url or default_url
            digest = _download(what, partial, timeout, max_bytes=max_bytes, deadline=FETCH_DEADLINE)
        size = partial.stat().st_size
        if expected is not None and size < expected - _SIZE_SLACK:
            raise DownloadError(
                f"{what} is {size} bytes, but {backbone}'s ImageNet weights file {path.name} "
                f"is about {expected}; nothing was cached"
            )
        if not digest.startswith(prefix):
            raise DownloadError(
                f"{what} is not {backbone}'s ImageNet weights file {path.name}: its SHA-256 "
                f"starts {digest[: len(prefix)]}, expected {prefix}; nothing was cached"
            )
    return path


def _imagenet_state_dict(backbone: str, download: bool = False) -> dict:
    path, url, _ = imagenet_weights_path(backbone)
    if not path.is_file():
        if download:
            fetch_imagenet_weights(backbone)
        else:
            raise FileNotFoundError(
                f"ImageNet weights for {backbone} are not in torchvision's cache ({path}); "
                "nothing is downloaded unless asked. Fetch them once, where there is network, "
                f"with\n    braintumor fetch-weights {backbone}\n"
                f"(or TransferNet(..., weights='imagenet', download=True)); without network, "
                f"download {url} elsewhere and run\n"
                f"    braintumor fetch-weights {backbone} --file FILE"
            )
    return torch.load(path, map_location="cpu", weights_only=True)


class TransferNet(nn.Module):
    """A torchvision backbone, optionally ImageNet-initialised, with a new head.

    The backbone's ImageNet classifier is replaced by ``head`` hidden dense
    layers (ReLU, ``dropout``) and a final dense layer of ``n_classes``:
    ``head=(64,)`` with ``dropout=0.5`` is GBMnet's MobileNetV2 head (paper D),
    ``head=()`` a plain linear layer as in paper C's fine-tuned backbones.
    Grayscale input (``in_channels=1``) is repeated to the three channels the
    backbones expect.

    Parameters
    ----------
    backbone : {"vgg16", "resnet50", "resnet101", "resnet152", "densenet121", \
            "mobilenet_v2", "inception_v3"}, default="mobilenet_v2"
    n_classes : int, default=4
    in_channels : {1, 3}, default=3
    input_size : tuple of (int, int), default=(224, 224)
        Used to size the head (inception_v3 needs at least 75x75).
    weights : None, "imagenet" or path, default=None
        None: random initialisation. "imagenet": torchvision's default
        ImageNet weights, read from torchvision's cache (a missing file raises
        an error saying how to fetch it, unless ``download=True``). A path: a
        state_dict of the torchvision model saved with ``torch.save``.
    freeze : "features", "none" or int, default="none"
        "features": train only the new head; "none": fine-tune everything;
        n: freeze the first n child modules of the backbone's feature part.
    head : tuple of int, default=(64,)
        Hidden layer widths of the new head.
    dropout : float, default=0.5
        Dropout before each dense layer of the head.
    download : bool, default=False
        With ``weights="imagenet"``: download the weights into torchvision's
        cache when they are not there yet (:func:`fetch_imagenet_weights`).

    Attributes
    ----------
    gradcam_layer : str
        Name of the last convolutional block, for Grad-CAM.

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import TransferNet
    >>> net = TransferNet("resnet18", n_classes=4, input_size=(64, 64))  # doctest: +SKIP
    >>> net.eval()(torch.zeros(2, 3, 64, 64)).shape  # doctest: +SKIP
    torch.Size([2, 4])
    """

    def __init__(self, backbone="mobilenet_v2", n_classes=4, in_channels=3, input_size=(224, 224),
                 weights=None, freeze="none", head=(64,), dropout=0.5,
                 download=False) -> None:  # fmt: skip
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; choose from {sorted(BACKBONES)}")
        if in_channels not in (1, 3):
            raise ValueError(f"ImageNet backbones take 1 or 3 channels, got {in_channels}")
        builder, classifier_attr, self.gradcam_layer = BACKBONES[backbone]
        torchvision = _torchvision()
        kwargs = {"aux_logits": True, "init_weights": False} if backbone == "inception_v3" else {}
        net = getattr(torchvision.models, builder)(weights=None, **kwargs)
        if weights is not None:
            state = (
                _imagenet_state_dict(backbone, download)
                if weights == "imagenet"
                else torch.load(weights, map_location="cpu", weights_only=True)
            )
            net.load_state_dict(state)
        if backbone == "inception_v3":
            net.aux_logits, net.AuxLogits = False, None
        setattr(net, classifier_attr, nn.Identity())
        self.backbone = net
        self.in_channels = in_channels
        self._freeze(backbone, freeze)

        height, width = input_size
        with torch.no_grad():
            was_training = net.training
            try:
                n_features = net.eval()(torch.zeros(1, 3, height, width)).shape[1]
            except (RuntimeError, ValueError) as exc:
                raise ValueError(
                    f"{backbone} cannot take {height}x{width} inputs ({exc}); resize the images"
                ) from exc
            net.train(was_training)
        layers, previous = [], n_features
        for width_ in head:
            layers += [nn.Dropout(dropout), nn.Linear(previous, width_), nn.ReLU(inplace=True)]
            previous = width_
        layers += [nn.Dropout(dropout), nn.Linear(previous, n_classes)]
        self.head = nn.Sequential(*layers)

    def _freeze(self, backbone: str, freeze) -> None:
        if freeze == "none":
            return
        if freeze == "features":
            for parameter in self.backbone.parameters():
                parameter.requires_grad_(False)
            return
        if not isinstance(freeze, int) or freeze < 0:
            raise InvalidParameterError(
                f"The 'freeze' parameter of TransferNet must be 'features', 'none' or an int, "
                f"got {freeze!r}"
            )
        part = (
            getattr(self.backbone, _FEATURES[backbone]) if backbone in _FEATURES else self.backbone
        )
        for child in list(part.children())[:freeze]:
            for parameter in child.parameters():
                parameter.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits for a batch ``(N, C, H, W)``."""
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.head(self.backbone(x))
