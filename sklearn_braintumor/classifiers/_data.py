"""Batches sliced straight from in-memory tensors, instead of per-sample indexing."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Subset


class TensorBatches:
    """Iterate over ``(X_batch, y_batch)`` slices of a skorch dataset's tensors.

    skorch's default ``DataLoader`` fetches every sample on its own and
    collates them, which costs about 15 % of a small network's training time
    on two CPU cores. With the whole training set already one tensor, a batch
    is one indexing operation. Shuffling draws from torch's global generator,
    which ``CNNClassifier`` seeds from ``random_state``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
        Holds tensors ``X`` and ``y`` (``y`` may be None at prediction time).
    batch_size : int
    shuffle : bool, default=False
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool = False, **kwargs) -> None:
        if kwargs:
            raise TypeError(
                f"CNNClassifier's in-memory batch iterator takes no {sorted(kwargs)}; "
                "DataLoader options (iterator_train__*, iterator_valid__*) do not apply to it"
            )
        index = None
        if isinstance(dataset, Subset):
            index = torch.as_tensor(dataset.indices, dtype=torch.long)
            dataset = dataset.dataset
        self.X, self.y = dataset.X, dataset.y
        self.index = torch.arange(len(self.X)) if index is None else index
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self) -> int:
        return math.ceil(len(self.index) / self.batch_size)

    def __iter__(self):
        order = self.index[torch.randperm(len(self.index))] if self.shuffle else self.index
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            y = self.y[batch] if self.y is not None else torch.zeros(len(batch))
            yield self.X[batch], y


class LazyImages:
    """Image files that are read only when a batch of them is indexed.

    ``lazy[index]`` reads the files at ``index`` and returns them as one
    float tensor ``(n, channels, height, width)``, through ``load``; it stands
    in for the in-memory tensor that :class:`TensorBatches` slices, so
    training and prediction hold one batch of decoded images at a time.

    Parameters
    ----------
    paths : sequence of str or path-like
    load : callable
        ``load(paths) -> torch.Tensor`` for a 1D object array of paths.
    """

    def __init__(self, paths, load) -> None:
        self.paths = np.asarray(paths, dtype=object)
        self.load = load

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index) -> torch.Tensor:
        if isinstance(index, torch.Tensor):
            index = index.numpy()
        return self.load(self.paths[np.atleast_1d(index)])

    def take(self, index) -> LazyImages:
        """Return the files at ``index``, still unread."""
        return LazyImages(self.paths[np.asarray(index)], self.load)
