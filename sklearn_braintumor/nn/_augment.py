"""Random augmentation of whole training batches, on the device where they live."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..utils._validation import check_augmentation

CURVE_SEGMENTS = 5  # pieces of BatchAugment's random intensity curves
RANDOM_CONV_SIDES = (1, 3, 5, 7)  # kernel sides of BatchAugment's random convolutions


def _uniform(n: int, low: float, high: float, device) -> torch.Tensor:
    return torch.rand(n, device=device) * (high - low) + low


class BatchAugment(nn.Module):
    """Flip, rotate, shear, translate, zoom, crop, blur, re-contrast and add noise to a batch.

    Every image of a batch ``(N, C, H, W)`` draws its own parameters; the
    geometric ones are combined into one affine sampling grid (bilinear,
    pixels outside the image become 0, the MRI background), then the
    intensity changes (histogram swap, gamma, contrast, brightness,
    inversion; all on inputs in [0, 1], background kept at 0), a Gaussian
    blur and additive noise follow. The intensity changes make a network
    rely less on how one collection's scanner and export render tissue
    (see "Scans from other sources" in the user guide). Random numbers come from torch's generator
    on the batch's device, which ``CNNClassifier`` seeds from ``random_state``,
    so training with augmentation is reproducible. The module is the identity
    in evaluation mode and when every strength is 0.

    Parameters
    ----------
    horizontal_flip, vertical_flip : float, default=0.5 and 0.0
        Probability of each flip.
    rotation : float, default=0.0
        Largest rotation in degrees.
    shear : float, default=0.0
        Largest x-shear angle in degrees.
    translation : float, default=0.0
        Largest shift as a fraction of the image side.
    zoom : float, default=0.0
        Zoom factor drawn in ``[1 - zoom, 1 + zoom]``.
    crop_scale : tuple of (float, float) or None, default=None
        Random resized crop: the fraction of the area kept, drawn in this
        range (aspect ratio in [3/4, 4/3]), stretched back to the full size.
    blur_sigma : float, default=0.0
        Largest Gaussian blur sigma in pixels.
    noise_std : float, default=0.0
        Standard deviation of additive Gaussian noise (inputs are in [0, 1]).
    gamma : float, default=0.0
        Random gamma correction ``x ** g`` with ``log g`` drawn in
        ``[-gamma, gamma]``.
    contrast : float, default=0.0
        Intensities scaled by a factor in ``[1 - contrast, 1 + contrast]``
        around the image's mean tissue intensity.
    brightness : float, default=0.0
        A shift in ``[-brightness, brightness]`` added to the tissue.
    invert : float, default=0.0
        Probability of inverting the tissue intensities (``1 - x`` inside the
        head, background kept black): T1-like images look T2-like.
    histogram_swap : float, default=0.0
        Probability that an image takes the intensity histogram of another
        image of the batch (rank-preserving quantile mapping): its anatomy
        stays, its grey levels become another collection's.
    intensity_curve : float, default=0.0
        Probability that an image's tissue goes through a random,
        possibly non-monotonic intensity curve (piecewise linear through
        six random levels): dark and bright tissue may both end up bright,
        as cerebrospinal fluid and a lesion do on T2-weighted slices, so the
        contrast of one MRI sequence stops telling the classes apart.
    random_conv : float, default=0.0
        Probability that an image goes through a random convolution
        (RandConv, Xu et al., ICLR 2021): a kernel with Gaussian weights, drawn
        per image (its side, 1, 3, 5 or 7, per batch; on grey images a side of 1
        keeps or inverts the contrast), restyles local texture, sharpness and
        contrast while shapes stay; the result is brought to the image's own
        tissue mean and spread and mixed with it at a random share.

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import BatchAugment
    >>> augment = BatchAugment(horizontal_flip=1.0, rotation=10.0)
    >>> augment.train()(torch.rand(4, 1, 32, 32)).shape
    torch.Size([4, 1, 32, 32])
    """

    def __init__(self, horizontal_flip=0.5, vertical_flip=0.0, rotation=0.0, shear=0.0,
                 translation=0.0, zoom=0.0, crop_scale=None, blur_sigma=0.0,
                 noise_std=0.0, gamma=0.0, contrast=0.0, brightness=0.0, invert=0.0,
                 histogram_swap=0.0, intensity_curve=0.0,
                 random_conv=0.0) -> None:  # fmt: skip
        super().__init__()
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rotation = rotation
        self.shear = shear
        self.translation = translation
        self.zoom = zoom
        self.crop_scale = crop_scale
        self.blur_sigma = blur_sigma
        self.noise_std = noise_std
        self.gamma = gamma
        self.contrast = contrast
        self.brightness = brightness
        self.invert = invert
        self.histogram_swap = histogram_swap
        self.intensity_curve = intensity_curve
        self.random_conv = random_conv
        check_augmentation(
            self, horizontal_flip=horizontal_flip, vertical_flip=vertical_flip, rotation=rotation,
            shear=shear, translation=translation, zoom=zoom, crop_scale=crop_scale,
            blur_sigma=blur_sigma, noise_std=noise_std, gamma=gamma, contrast=contrast,
            brightness=brightness, invert=invert, histogram_swap=histogram_swap,
            intensity_curve=intensity_curve, random_conv=random_conv,
        )  # fmt: skip

    def extra_repr(self) -> str:
        names = ("horizontal_flip", "vertical_flip", "rotation", "shear", "translation", "zoom",
                 "crop_scale", "blur_sigma", "noise_std", "gamma", "contrast", "brightness",
                 "invert", "histogram_swap", "intensity_curve", "random_conv")  # fmt: skip
        return ", ".join(f"{name}={getattr(self, name)}" for name in names)

    def _theta(self, n: int, device) -> torch.Tensor:
        """Affine maps from output to input coordinates (normalised to [-1, 1])."""
        one = torch.ones(n, device=device)
        flip_x = torch.where(torch.rand(n, device=device) < self.horizontal_flip, -one, one)
        flip_y = torch.where(torch.rand(n, device=device) < self.vertical_flip, -one, one)
        angle = _uniform(n, -self.rotation, self.rotation, device) * (math.pi / 180)
        shear = torch.tan(_uniform(n, -self.shear, self.shear, device) * (math.pi / 180))
        zoom = _uniform(n, 1 - self.zoom, 1 + self.zoom, device)
        scale_x, scale_y = one / zoom, one / zoom
        shift_x = _uniform(n, -self.translation, self.translation, device) * 2
        shift_y = _uniform(n, -self.translation, self.translation, device) * 2
        if self.crop_scale is not None:
            area = _uniform(n, *self.crop_scale, device)
            ratio = torch.exp(_uniform(n, math.log(3 / 4), math.log(4 / 3), device))
            width = torch.sqrt(area * ratio).clamp(max=1.0)
            height = torch.sqrt(area / ratio).clamp(max=1.0)
            shift_x = shift_x + (torch.rand(n, device=device) * 2 - 1) * (1 - width)
            shift_y = shift_y + (torch.rand(n, device=device) * 2 - 1) * (1 - height)
            scale_x, scale_y = scale_x * width, scale_y * height
        cos, sin = torch.cos(angle), torch.sin(angle)
        # input = R(angle) @ Shear @ diag(scale * flip) @ output + shift
        a = torch.stack([cos, -sin, sin, cos], dim=1).view(n, 2, 2)
        s = torch.stack([one, shear, torch.zeros_like(one), one], dim=1).view(n, 2, 2)
        d = torch.diag_embed(torch.stack([scale_x * flip_x, scale_y * flip_y], dim=1))
        linear = a @ s @ d
        return torch.cat([linear, torch.stack([shift_x, shift_y], dim=1)[..., None]], dim=2)

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        radius = max(1, math.ceil(3 * self.blur_sigma))
        sigma = _uniform(n, 0.0, self.blur_sigma, x.device).clamp(min=1e-3)
        offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
        kernel = torch.exp(-0.5 * (offsets[None] / sigma[:, None]) ** 2)
        kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)
        flat = x.reshape(1, n * c, h, w)
        flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"),
                        kernel[:, None, None, :], groups=n * c)  # fmt: skip
        flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"),
                        kernel[:, None, :, None], groups=n * c)  # fmt: skip
        return flat.reshape(n, c, h, w)

    def _histogram_swap(self, x: torch.Tensor) -> torch.Tensor:
        """Give a random share of the images the grey levels of another batch image."""
        n = len(x)
        flat = x.reshape(n, -1)
        chosen = torch.rand(n, device=x.device) < self.histogram_swap
        donor = torch.randperm(n, device=x.device)
        order = flat.argsort(dim=1)
        levels = torch.gather(flat, 1, order)[donor]  # the donors' grey levels, ascending
        swapped = torch.empty_like(flat).scatter_(1, order, levels)  # k-th darkest gets k-th
        return torch.where(chosen[:, None], swapped, flat).reshape(x.shape)

    def _curve(self, x: torch.Tensor) -> torch.Tensor:
        """Map a random share of the images through random piecewise-linear intensity curves."""
        n, k = len(x), CURVE_SEGMENTS
        levels = torch.rand(n, k + 1, device=x.device, dtype=x.dtype)
        position = x.clamp(0, 1).reshape(n, -1) * k
        index = position.floor().clamp(max=k - 1).long()
        low, high = torch.gather(levels, 1, index), torch.gather(levels, 1, index + 1)
        curved = (low + (high - low) * (position - index)).reshape(x.shape)
        chosen = (torch.rand(n, device=x.device) < self.intensity_curve).view(n, 1, 1, 1)
        return torch.where(chosen, curved, x)

    def _random_conv(self, x: torch.Tensor) -> torch.Tensor:
        """Send a random share of the images through random convolutions (RandConv)."""
        n, c, h, w = x.shape
        side = int(RANDOM_CONV_SIDES[torch.randint(len(RANDOM_CONV_SIDES), (1,), device=x.device)])
        weight = torch.randn(n * c, 1, side, side, device=x.device, dtype=x.dtype) / side
        pad = side // 2
        out = F.conv2d(F.pad(x.reshape(1, n * c, h, w), (pad,) * 4, mode="reflect"), weight,
                       groups=n * c).reshape(x.shape)  # fmt: skip
        head = (x > 1e-3).to(x.dtype)
        area = head.sum(dim=(2, 3), keepdim=True).clamp(min=1)

        def moments(v):
            mean = (v * head).sum(dim=(2, 3), keepdim=True) / area
            var = (((v - mean) * head) ** 2).sum(dim=(2, 3), keepdim=True) / area
            return mean, var.sqrt().clamp(min=1e-6)

        (mean, std), (out_mean, out_std) = moments(x), moments(out)
        out = ((out - out_mean) / out_std * std + mean).clamp(0, 1)
        share = torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype)
        mixed = (share * x + (1 - share) * out) * head
        chosen = (torch.rand(n, device=x.device) < self.random_conv).view(n, 1, 1, 1)
        return torch.where(chosen, mixed, x)

    def _intensity(self, x: torch.Tensor) -> torch.Tensor:
        """Gamma, contrast, brightness and inversion inside the head (background stays 0)."""
        n = len(x)
        shape = (n, 1, 1, 1)
        head = (x > 1e-3).to(x.dtype)
        if self.histogram_swap > 0:
            x = self._histogram_swap(x)
        if self.intensity_curve > 0:
            x = self._curve(x)
        if self.gamma > 0:
            g = torch.exp(_uniform(n, -self.gamma, self.gamma, x.device)).view(shape)
            x = x.clamp(min=0) ** g
        if self.contrast > 0 or self.brightness > 0:
            area = head.sum(dim=(1, 2, 3), keepdim=True).clamp(min=1)
            mean = (x * head).sum(dim=(1, 2, 3), keepdim=True) / area
            factor = _uniform(n, 1 - self.contrast, 1 + self.contrast, x.device).view(shape)
            shift = _uniform(n, -self.brightness, self.brightness, x.device).view(shape)
            x = ((x - mean) * factor + mean + shift).clamp(0, 1)
        if self.invert > 0:
            flip = (torch.rand(n, device=x.device) < self.invert).view(shape)
            x = torch.where(flip, 1 - x, x)
        return x * head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return a randomly augmented copy of the batch ``x`` (identity in eval mode)."""
        if not self.training:
            return x
        geometric = (self.horizontal_flip or self.vertical_flip or self.rotation or self.shear
                     or self.translation or self.zoom or self.crop_scale is not None)  # fmt: skip
        if geometric:
            grid = F.affine_grid(self._theta(len(x), x.device), list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if (self.histogram_swap or self.gamma or self.contrast or self.brightness or self.invert
                or self.intensity_curve):  # fmt: skip
            x = self._intensity(x)
        if self.random_conv > 0:
            x = self._random_conv(x)
        if self.blur_sigma > 0:
            x = self._blur(x)
        if self.noise_std > 0:
            x = x + torch.randn_like(x) * self.noise_std
        return x
