"""CNNClassifier against a hand-written PyTorch training loop, same model and data.

Usage: python benchmarks/bench_training.py [--sizes 64 128 256] [--rounds 3]

For each image size, GBMNet is trained for one epoch on the same images
(real 4-class Training slices resized to the size when ../shared/datasets is
present, synthetic phantoms otherwise), batch 32, Adam, cross-entropy, on the
CPU with torch's default threads. Contenders alternate (A/B/A/B) after a
warm-up; the printed ratio is the median per-round time ratio
CNNClassifier / plain loop (<= 1.05 is the target). Achieved GFLOP/s (3x the
analytic forward FLOPs per image) is printed beside the conv ceiling measured
in the same run (batch 32, 64 -> 64 channels, 112x112, 3x3, forward+backward).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import load_image_folder, make_synthetic_mri
from sklearn_braintumor.nn import GBMNet
from sklearn_braintumor.preprocessing import Resize

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
N_IMAGES = {64: 2048, 128: 768, 256: 160}


def forward_flops(module: nn.Module, size: int) -> float:
    """Multiply-adds x 2 of the convolutions and linear layers for one image."""
    flops = 0.0

    def hook(layer, inputs, output):
        nonlocal flops
        if isinstance(layer, nn.Conv2d):
            kernel = layer.kernel_size[0] * layer.kernel_size[1]
            flops += 2 * layer.in_channels * kernel * output[0].numel()
        elif isinstance(layer, nn.Linear):
            flops += 2 * layer.in_features * layer.out_features

    handles = [m.register_forward_hook(hook) for m in module.modules()]
    with torch.no_grad():
        module.eval()(torch.zeros(1, 1, size, size))
    for handle in handles:
        handle.remove()
    return flops


def conv_ceiling(repeats: int = 3) -> float:
    conv = nn.Conv2d(64, 64, 3, padding=1)
    x = torch.randn(32, 64, 112, 112, requires_grad=True)
    flops = 3 * 2 * 64 * 64 * 9 * 32 * 112 * 112
    conv(x).sum().backward()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        conv(x).sum().backward()
        best = min(best, time.perf_counter() - start)
    return flops / best / 1e9


def plain_loop(X: torch.Tensor, y: torch.Tensor, size: int, seed: int, *, epochs: int = 1,
               batch_size: int = 32, bf16: bool = False) -> None:  # fmt: skip
    """The reference: GBMNet, Adam, cross-entropy, hand-written, where ``X`` lives.

    ``X`` holds floats in [0, 1], or uint8 pixels scaled per batch (data kept
    on a GPU as uint8); ``bf16`` trains under bfloat16 autocast, channels-last.
    """
    torch.manual_seed(seed)
    model = GBMNet(n_classes=4, in_channels=1, input_size=(size, size)).to(X.device)
    if bf16:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X), device=X.device)
        for start in range(0, len(X), batch_size):
            index = order[start : start + batch_size]
            batch = X[index]
            if batch.dtype == torch.uint8:
                batch = batch.float().div_(255)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(X.device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(batch), y[index])
            loss.backward()
            optimizer.step()
    if X.device.type == "cuda":
        torch.cuda.synchronize(X.device)


def images_for(size: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    folder = SHARED / "brain-tumor-mri-4class" / "Training"
    if folder.is_dir():
        data = load_image_folder(folder)
        pick = np.random.RandomState(0).permutation(len(data.target))[:n]
        return Resize((size, size)).fit_transform(data.images[pick]), data.target[pick]
    return make_synthetic_mri(n, image_size=size, random_state=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--no-channels-last",
        dest="channels_last",
        action="store_false",
        help="train CNNClassifier with NCHW weights, as the plain loop",
    )
    args = parser.parse_args()
    source = "real Training slices" if (SHARED / "brain-tumor-mri-4class").is_dir() else "phantoms"
    ceiling = conv_ceiling()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, images: {source}, "
        f"CNNClassifier channels_last={args.channels_last}"
    )
    print(f"conv forward+backward ceiling: {ceiling:.0f} GFLOP/s\n")
    print("size  images  plain loop img/s  CNNClassifier img/s  time ratio  GFLOP/s (plain)")
    for size in args.sizes:
        n = N_IMAGES.get(size, 256)
        images, target = images_for(size, n)
        X = torch.from_numpy(images.astype(np.float32)[:, None] / 255)
        y = torch.from_numpy(target.astype(np.int64))
        clf = CNNClassifier(GBMNet, max_epochs=1, batch_size=32, lr=1e-3, train_split=None,
                            random_state=0, channels_last=args.channels_last)  # fmt: skip
        plain_loop(X[:64], y[:64], size, 0)  # warm-up both
        clf.fit(images[:64], target[:64])
        plain_times, ours_times = [], []
        for round_ in range(args.rounds):
            start = time.perf_counter()
            plain_loop(X, y, size, round_)
            plain_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            clf.fit(images, target)
            ours_times.append(time.perf_counter() - start)
        ratio = statistics.median(o / p for o, p in zip(ours_times, plain_times, strict=True))
        plain_rate = n / statistics.median(plain_times)
        ours_rate = n / statistics.median(ours_times)
        gflops = 3 * forward_flops(GBMNet(input_size=(size, size)), size) * plain_rate / 1e9
        print(f"{size:>4}  {n:>6}  {plain_rate:>16.0f}  {ours_rate:>19.0f}  {ratio:>10.3f}  "
              f"{gflops:>8.1f} of {ceiling:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
