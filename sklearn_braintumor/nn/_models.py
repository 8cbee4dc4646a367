"""The papers' architectures as plain ``torch.nn.Module``s.

Every model takes ``n_classes``, ``in_channels`` and ``input_size`` (height,
width); :class:`~sklearn_braintumor.classifiers.CNNClassifier` fills them in
from the data. Dense layers are sized by running the feature extractor once on
a zero tensor of ``input_size``, so any size the layer arithmetic allows works,
and a size it does not allow raises a ``ValueError`` that says so (there is no
silent adaptive pooling: only ``GBMNet(pooling="max" | "avg")`` pools globally,
on request). Each model names the module Grad-CAM should hook in
``gradcam_layer``; models output logits.
"""

from __future__ import annotations

import torch
from torch import nn


class GaussianNoise(nn.Module):
    """Add zero-mean Gaussian noise in training mode only (Keras' ``GaussianNoise``).

    Parameters
    ----------
    std : float, default=0.1
        Standard deviation of the noise.

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import GaussianNoise
    >>> layer = GaussianNoise(std=0.1)
    >>> x = torch.zeros(2, 1, 4, 4)
    >>> bool((layer.train()(x) != 0).any()), bool((layer.eval()(x) == 0).all())
    (True, True)
    """

    def __init__(self, std: float = 0.1) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` plus noise while training, ``x`` unchanged in evaluation."""
        if self.training and self.std > 0:
            return x + torch.randn_like(x) * self.std
        return x


class MixStyle(nn.Module):
    """Mix feature-map styles between the images of a batch while training (MixStyle).

    Each image's per-channel mean and standard deviation (its "style": the
    contrast and texture statistics an early convolution sees) are replaced
    by a random convex mix of its own and another image's of the same batch,
    the weight drawn from Beta(``alpha``, ``alpha``), for a share ``p`` of the
    batches (Zhou et al., ICLR 2021, "Domain generalization with MixStyle").
    The content (the normalised maps) stays the image's own, so a network
    cannot rely on the statistics of the collection a scan comes from. The
    identity in evaluation mode.

    Parameters
    ----------
    p : float, default=0.5
        Share of training batches mixed.
    alpha : float, default=0.1
        Parameter of the Beta distribution of the mixing weight.
    eps : float, default=1e-6
        Added to the variance before the square root.

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import MixStyle
    >>> _ = torch.manual_seed(0)
    >>> x = torch.rand(4, 3, 8, 8)
    >>> bool(torch.equal(MixStyle(p=1.0).eval()(x), x))
    True
    >>> bool(torch.allclose(MixStyle(p=1.0).train()(x), x))
    False
    """

    def __init__(self, p: float = 0.5, alpha: float = 0.1, eps: float = 1e-6) -> None:
        super().__init__()
        self.p, self.alpha, self.eps = float(p), float(alpha), float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` with mixed styles while training (for a share ``p`` of calls)."""
        if not self.training or x.shape[0] < 2:
            return x
        return self._mix(x)

    @torch.jit.unused
    def _mix(self, x):  # no annotations: TorchScript reads an unused stub's as Tensor
        """Mix the styles (left out of TorchScript: exported models only evaluate)."""
        if torch.rand(()).item() >= self.p:
            return x
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x.var(dim=(2, 3), keepdim=True) + self.eps).sqrt()
        mean, std = mean.detach(), std.detach()
        normed = (x - mean) / std
        weight = torch.distributions.Beta(self.alpha, self.alpha).sample((x.shape[0], 1, 1, 1))
        weight = weight.to(device=x.device, dtype=x.dtype)
        other = torch.randperm(x.shape[0], device=x.device)
        mixed_mean = weight * mean + (1 - weight) * mean[other]
        mixed_std = weight * std + (1 - weight) * std[other]
        return normed * mixed_std + mixed_mean


class IBN(nn.Module):
    """Instance normalisation on half the channels, batch normalisation on the rest (IBN-a).

    Instance normalisation removes each image's own mean and spread from its
    channels, so a collection's contrast and brightness no longer reach the
    layers above through them; the batch-normalised half keeps what tells
    the images apart (Pan et al., "Two at Once: Enhancing Learning and
    Generalization Capacities via IBN-Net", ECCV 2018).

    Parameters
    ----------
    width : int
        Channels of the input; the first ``width // 2`` are instance-normalised
        (with a learned scale and shift), the rest batch-normalised.

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import IBN
    >>> IBN(8)(torch.rand(2, 8, 16, 16)).shape
    torch.Size([2, 8, 16, 16])
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.half = width // 2
        self.instance = nn.InstanceNorm2d(self.half, affine=True)
        self.batch = nn.BatchNorm2d(width - self.half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first, second = torch.split(x, [self.half, self.batch.num_features], dim=1)
        return torch.cat([self.instance(first), self.batch(second)], 1)


class _SizedCNN(nn.Module):
    """A feature extractor followed by a classifier head sized from a dry run."""

    gradcam_layer = ""  # the module Grad-CAM hooks (no annotation: TorchScript reads them)

    def _finish(self, features: nn.Sequential, head, in_channels: int, input_size) -> None:
        self.features = features
        height, width = input_size
        try:
            with torch.no_grad():
                out = features.eval()(torch.zeros(1, in_channels, height, width))
        except RuntimeError as exc:
            raise ValueError(
                f"{type(self).__name__} cannot take {height}x{width} inputs: its "
                f"convolutions and poolings shrink them to nothing ({exc}). Resize the "
                "images to a larger size."
            ) from exc
        features.train()
        self.n_features = int(out.numel())
        self.feature_shape = tuple(out.shape[1:])
        self.classifier = head(self.n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits for a batch ``(N, C, H, W)``."""
        return self.classifier(torch.flatten(self.features(x), 1))


class GBMNet(_SizedCNN):
    """GBMnet of paper D: four conv-BN-ReLU-pool blocks, then dense 512 and dropout.

    Channels 8, 16, 32, 64 with 3x3 convolutions (stride 1, padding 1), each
    followed by BatchNorm, ReLU and 2x2 max pooling: 256 px inputs become
    16x16x64 maps; then flatten, dense 512 with ReLU, dropout, dense
    ``n_classes``.

    Parameters
    ----------
    n_classes : int, default=4
    in_channels : int, default=1
    input_size : tuple of (int, int), default=(256, 256)
    channels : tuple of int, default=(8, 16, 32, 64)
    hidden : int, default=512
    dropout : float, default=0.3
    mirror : bool, default=False
        Give the first convolution, beside each input channel, its left-right
        difference ``x - flip(x)``: on a brain crop centred on the midline a
        lesion on one side shows there, whatever the scanner or sequence.
    mixstyle : float, default=0.0
        When above 0, a :class:`MixStyle` layer with this ``p`` after each of
        the first two blocks: the images of a training batch swap feature
        statistics, so the collection's look predicts the class less.
    pooling : {"flatten", "max", "avg"}, default="flatten"
        How the last block's maps reach the dense layers: ``"flatten"`` keeps
        every position (the paper's network: the head can read where things
        are, the layout of the whole slice); ``"max"`` keeps each channel's
        strongest response anywhere (a detector of local patterns, whatever
        the slice around them), ``"avg"`` each channel's mean.
    instance_norm : int, default=0
        How many of the first blocks normalise half their channels per image
        (:class:`IBN`, instance normalisation) instead of over the batch: a
        scan's own contrast and brightness, its collection's look, reach the
        deeper blocks less.

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import GBMNet
    >>> net = GBMNet(n_classes=4, input_size=(64, 64)).eval()
    >>> net(torch.zeros(2, 1, 64, 64)).shape
    torch.Size([2, 4])
    """

    gradcam_layer = "features.block4.conv"

    def __init__(self, n_classes=4, in_channels=1, input_size=(256, 256),
                 channels=(8, 16, 32, 64), hidden=512, dropout=0.3,
                 mirror=False, mixstyle=0.0, pooling="flatten",
                 instance_norm=0) -> None:  # fmt: skip
        super().__init__()
        if pooling not in ("flatten", "max", "avg"):
            raise ValueError(f"pooling must be 'flatten', 'max' or 'avg', got {pooling!r}")
        if not 0 <= instance_norm <= len(channels) or int(instance_norm) != instance_norm:
            raise ValueError(
                f"instance_norm must be a whole number of blocks from 0 to {len(channels)}, "
                f"got {instance_norm!r}"
            )
        self.mirror = bool(mirror)
        blocks, previous = [], in_channels * (2 if mirror else 1)
        for index, width in enumerate(channels, start=1):
            block = nn.Sequential()
            block.add_module("conv", nn.Conv2d(previous, width, 3, padding=1))
            block.add_module("bn", IBN(width) if index <= instance_norm else nn.BatchNorm2d(width))
            block.add_module("relu", nn.ReLU(inplace=True))
            block.add_module("pool", nn.MaxPool2d(2))
            if mixstyle and index <= 2:
                block.add_module("mixstyle", MixStyle(p=mixstyle))
            blocks.append((f"block{index}", block))
            previous = width
        self.gradcam_layer = f"features.block{len(channels)}.conv"
        features = nn.Sequential()
        for name, block in blocks:
            features.add_module(name, block)
        if pooling != "flatten":
            pool = nn.AdaptiveMaxPool2d(1) if pooling == "max" else nn.AdaptiveAvgPool2d(1)
            features.add_module("pool", pool)
        self._finish(
            features,
            lambda n: nn.Sequential(nn.Linear(n, hidden), nn.ReLU(inplace=True),
                                    nn.Dropout(dropout), nn.Linear(hidden, n_classes)),
            in_channels * (2 if mirror else 1), input_size,
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits for a batch ``(N, C, H, W)``."""
        if self.mirror:  # each channel's left-right difference beside it
            x = torch.cat([x, x - torch.flip(x, dims=[3])], dim=1)
        return self.classifier(torch.flatten(self.features(x), 1))


class LiuCNN(_SizedCNN):
    """The 14-layer network of paper A, with LeakyReLU and training-time noise.

    3x3 valid convolutions: 16, 16, pool 2, dropout, 32, 32, pool 2, dropout,
    64, 64, pool 2, 128, 128, pool 5 (a 256 px input gives 24x24 then 4x4
    maps, as in the paper's table), Gaussian noise, flatten (2048), dense
    1024, dropout, dense ``n_classes``; LeakyReLU after every convolution and
    the hidden dense layer. The paper gives neither dropout rates nor the
    noise level; 0.25 and 0.1 are used here.

    Eight convolutions without normalisation layers lose the signal under
    PyTorch's default initialisation (and Keras' Glorot one): on the yes/no
    scans the features reaching the noise layer have a standard deviation of
    about 0.01, ten times below the noise, and the network learns nothing.
    He initialisation for LeakyReLU (``init="he"``, zero biases) keeps them
    near 1, so the noise acts as the regulariser the paper describes.

    Parameters
    ----------
    n_classes : int, default=2
    in_channels : int, default=1
    input_size : tuple of (int, int), default=(256, 256)
    dropout : float, default=0.25
    noise_std : float, default=0.1
    negative_slope : float, default=0.01
    init : {"he", "default"}, default="he"
        ``"he"``: Kaiming-normal weights for LeakyReLU and zero biases in
        every layer but the output one; ``"default"``: PyTorch's
        initialisation.

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import LiuCNN
    >>> net = LiuCNN(input_size=(256, 256)).eval()
    >>> net(torch.zeros(1, 1, 256, 256)).shape
    torch.Size([1, 2])
    """

    gradcam_layer = "features.conv128b"

    def __init__(self, n_classes=2, in_channels=1, input_size=(256, 256), dropout=0.25,
                 noise_std=0.1, negative_slope=0.01, init="he") -> None:  # fmt: skip
        super().__init__()
        if init not in ("he", "default"):
            raise ValueError(f"init must be 'he' or 'default', got {init!r}")
        layers, previous = [], in_channels
        plan = [(16, "a"), (16, "b"), "pool2", "drop", (32, "a"), (32, "b"), "pool2", "drop",
                (64, "a"), (64, "b"), "pool2", (128, "a"), (128, "b"), "pool5"]  # fmt: skip
        for index, step in enumerate(plan):
            if step == "pool2":
                layers.append((f"pool{index}", nn.MaxPool2d(2)))
            elif step == "pool5":
                layers.append((f"pool{index}", nn.MaxPool2d(5)))
            elif step == "drop":
                layers.append((f"drop{index}", nn.Dropout(dropout)))
            else:
                width, tag = step
                layers.append((f"conv{width}{tag}", nn.Conv2d(previous, width, 3)))
                layers.append((f"act{index}", nn.LeakyReLU(negative_slope)))
                previous = width
        layers.append(("noise", GaussianNoise(noise_std)))
        features = nn.Sequential()
        for name, layer in layers:
            features.add_module(name, layer)
        self._finish(
            features,
            lambda n: nn.Sequential(nn.Linear(n, 1024), nn.LeakyReLU(negative_slope),
                                    nn.Dropout(dropout), nn.Linear(1024, n_classes)),
            in_channels, input_size,
        )  # fmt: skip
        if init == "he":  # every layer followed by a LeakyReLU; the output layer as it was
            layers = [m for m in self.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
            for module in layers[:-1]:
                nn.init.kaiming_normal_(module.weight, a=negative_slope,
                                        nonlinearity="leaky_relu")  # fmt: skip
                nn.init.zeros_(module.bias)


class BaroneBaselineCNN(_SizedCNN):
    """The baseline of paper B: 46,596 parameters at 30x30 grayscale and 4 classes.

    conv 32 3x3 'same', ReLU, pool 2 (30 -> 15), conv 32 3x3 valid, ReLU,
    pool 2 (13 -> 6), flatten (1152), dense 32 ReLU, dense ``n_classes``, as
    in the paper's Keras summary.

    Parameters
    ----------
    n_classes : int, default=4
    in_channels : int, default=1
    input_size : tuple of (int, int), default=(30, 30)

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import BaroneBaselineCNN
    >>> net = BaroneBaselineCNN().eval()
    >>> net(torch.zeros(2, 1, 30, 30)).shape
    torch.Size([2, 4])
    """

    gradcam_layer = "features.conv2"

    def __init__(self, n_classes=4, in_channels=1, input_size=(30, 30)) -> None:
        super().__init__()
        features = nn.Sequential()
        features.add_module("conv1", nn.Conv2d(in_channels, 32, 3, padding=1))
        features.add_module("relu1", nn.ReLU(inplace=True))
        features.add_module("pool1", nn.MaxPool2d(2))
        features.add_module("conv2", nn.Conv2d(32, 32, 3))
        features.add_module("relu2", nn.ReLU(inplace=True))
        features.add_module("pool2", nn.MaxPool2d(2))
        self._finish(
            features,
            lambda n: nn.Sequential(nn.Linear(n, 32), nn.ReLU(inplace=True),
                                    nn.Linear(32, n_classes)),
            in_channels, input_size,
        )  # fmt: skip


def _same_conv_stack(in_channels, widths) -> nn.Sequential:
    features, previous = nn.Sequential(), in_channels
    for index, width in enumerate(widths, start=1):
        features.add_module(f"conv{index}", nn.Conv2d(previous, width, 3, padding=1))
        features.add_module(f"relu{index}", nn.ReLU(inplace=True))
        features.add_module(f"pool{index}", nn.MaxPool2d(2))
        previous = width
    return features


class BaroneImprovedCNN(_SizedCNN):
    """The improved CNN of paper B: 'same' conv + pool stacks, ReLU, dropout 0.07.

    The paper names the ingredients (3x3 'same' convolutions with max
    pooling, ReLU, dropout 0.07 after Optuna's 0.04, Adam lr 0.000319, focal
    loss) but not the layer widths; this reconstruction uses convolutions of
    32, 64 and 128 filters (30 -> 15 -> 7 -> 3), dense 128 and dropout.

    Parameters
    ----------
    n_classes : int, default=4
    in_channels : int, default=1
    input_size : tuple of (int, int), default=(30, 30)
    channels : tuple of int, default=(32, 64, 128)
    hidden : int, default=128
    dropout : float, default=0.07

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import BaroneImprovedCNN
    >>> net = BaroneImprovedCNN().eval()
    >>> net(torch.zeros(2, 1, 30, 30)).shape
    torch.Size([2, 4])
    """

    def __init__(self, n_classes=4, in_channels=1, input_size=(30, 30), channels=(32, 64, 128),
                 hidden=128, dropout=0.07) -> None:  # fmt: skip
        super().__init__()
        self.gradcam_layer = f"features.conv{len(channels)}"
        self._finish(
            _same_conv_stack(in_channels, channels),
            lambda n: nn.Sequential(nn.Dropout(dropout), nn.Linear(n, hidden),
                                    nn.ReLU(inplace=True), nn.Dropout(dropout),
                                    nn.Linear(hidden, n_classes)),
            in_channels, input_size,
        )  # fmt: skip


class SimpleCNN(_SizedCNN):
    """The "simple CNN" baseline of paper C: three convolutions and two dense layers.

    The paper says only "3 convolutional layers and 2 fully connected
    layers"; this uses 3x3 'same' convolutions of 32, 64, 128 filters, each
    with ReLU and 2x2 pooling, then dense 128 with ReLU and dense
    ``n_classes``.

    Parameters
    ----------
    n_classes : int, default=2
    in_channels : int, default=3
    input_size : tuple of (int, int), default=(224, 224)
    channels : tuple of int, default=(32, 64, 128)
    hidden : int, default=128

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import SimpleCNN
    >>> net = SimpleCNN(input_size=(64, 64)).eval()
    >>> net(torch.zeros(2, 3, 64, 64)).shape
    torch.Size([2, 2])
    """

    def __init__(self, n_classes=2, in_channels=3, input_size=(224, 224), channels=(32, 64, 128),
                 hidden=128) -> None:  # fmt: skip
        super().__init__()
        self.gradcam_layer = f"features.conv{len(channels)}"
        self._finish(
            _same_conv_stack(in_channels, channels),
            lambda n: nn.Sequential(nn.Linear(n, hidden), nn.ReLU(inplace=True),
                                    nn.Linear(hidden, n_classes)),
            in_channels, input_size,
        )  # fmt: skip


class LiCNN(_SizedCNN):
    """The network of paper E: four conv + pool blocks, dense 512, dropout 0.5.

    3x3 valid convolutions of 32, 64, 128, 128 filters, each with ReLU and
    2x2 max pooling (150 px becomes 7x7x128), flatten, dense 512 ReLU, dropout
    0.5, dense ``n_classes``; the paper feeds 150x150 RGB.

    Parameters
    ----------
    n_classes : int, default=4
    in_channels : int, default=3
    input_size : tuple of (int, int), default=(150, 150)
    dropout : float, default=0.5

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import LiCNN
    >>> net = LiCNN().eval()
    >>> net(torch.zeros(1, 3, 150, 150)).shape
    torch.Size([1, 4])
    """

    gradcam_layer = "features.conv4"

    def __init__(self, n_classes=4, in_channels=3, input_size=(150, 150), dropout=0.5) -> None:
        super().__init__()
        features, previous = nn.Sequential(), in_channels
        for index, width in enumerate((32, 64, 128, 128), start=1):
            features.add_module(f"conv{index}", nn.Conv2d(previous, width, 3))
            features.add_module(f"relu{index}", nn.ReLU(inplace=True))
            features.add_module(f"pool{index}", nn.MaxPool2d(2))
            previous = width
        self._finish(
            features,
            lambda n: nn.Sequential(nn.Linear(n, 512), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                    nn.Linear(512, n_classes)),
            in_channels, input_size,
        )  # fmt: skip
