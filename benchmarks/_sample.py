"""What the CPU training benchmarks share: the embedded sample, cropped and resized once."""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.preprocessing import BrainCrop, Resize


def cropped_sample(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The sample's 600 training slices cropped to the brain at ``size`` px, and class names."""
    sample = load_sample("train")
    X = Resize((size, size)).fit_transform(BrainCrop().fit_transform(sample.images))
    return X, np.asarray(sample.target_names)[sample.target]


def sample_setup(doc: str, epochs: int) -> tuple[argparse.Namespace, np.ndarray, np.ndarray, str]:
    """Parse ``--epochs`` (default ``epochs``) and ``--size``, and load the cropped sample.

    Returns the options, the images and labels, and the line on the machine
    and the data that every CPU training benchmark prints first.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    X, y = cropped_sample(args.size)
    line = (
        f"{os.cpu_count()} cores, torch {torch.__version__}, default threads "
        f"{torch.get_num_threads()}, {len(X)} images of {args.size} px, batch 64"
    )
    return args, X, y, line
