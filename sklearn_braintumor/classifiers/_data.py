"""Batches sliced straight from in-memory tensors, instead of per-sample indexing."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Subset

# share of a GPU's free memory that a training set may take to stay there for the whole fit
RESIDENT_SHARE = 0.25


def free_device_bytes(device: torch.device) -> int:
    """Free memory of a CUDA device in bytes (0 for any other device)."""
    if device.type != "cuda":
        return 0
    return torch.cuda.mem_get_info(device)[0]


def resident(dataset, name: str, device) -> torch.Tensor | None:
    """``dataset.<name>`` moved to ``device`` once and kept there, or as it is.

    A CPU tensor is moved to a CUDA ``device`` when it takes at most
    ``RESIDENT_SHARE`` of the device's free memory; the copy is cached on the
    dataset (skorch passes the same dataset every epoch), so batches are then
    sliced on the device instead of copied there one by one. Anything else
    (another device, a larger tensor, lazily read files) is returned unchanged.
    """
    tensor = getattr(dataset, name)
    if device is None or not isinstance(tensor, torch.Tensor) or tensor.device.type != "cpu":
        return tensor
    device = torch.device(device)
    cache = dataset.__dict__.setdefault("_resident", {})
    key = (name, str(device))
    if key not in cache:
        size = tensor.element_size() * tensor.nelement()
        fits = size <= RESIDENT_SHARE * free_device_bytes(device)
        cache[key] = tensor.to(device) if fits else tensor
    return cache[key]


class TensorBatches:
    """Iterate over ``(X_batch, y_batch)`` slices of a skorch dataset's tensors.

    skorch's default ``DataLoader`` fetches every sample on its own and
    collates them, which costs about 15 % of a small network's training time
    on two CPU cores. With the whole training set already one tensor, a batch
    is one indexing operation. Shuffling draws from ``generator``, or from
    torch's global generator, which ``CNNClassifier`` seeds from
    ``random_state``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
        Holds tensors ``X`` and ``y`` (``y`` may be None at prediction time).
    batch_size : int
    shuffle : bool, default=False
    device : torch.device or str or None, default=None
        Where the batches are moved; None leaves them where ``X`` is. On a
        CUDA device the dataset's tensors move there once, for every epoch,
        when they fit (:func:`resident`).
    num_shards, shard_index : int, default=1, 0
        Data-parallel training: every process iterates over the same global
        batches (so all processes must shuffle with equally seeded
        generators) and takes its own contiguous part of each, as
        ``torch.utils.data.DistributedSampler`` does; the order is padded by
        wrapping around so that every process gets the same number of
        samples per step. ``batch_size`` is each process's, as in accelerate:
        a global batch holds ``batch_size * num_shards`` samples.
    generator : torch.Generator or None, default=None
    transform : callable or None, default=None
        Applied to each ``X`` batch once it is on ``device``: the training
        augmentation of :class:`~sklearn_braintumor.classifiers.CNNClassifier`.
    sample_weight : torch.Tensor or None, default=None
        One weight per row of the dataset's ``X``: batches are then
        ``(X, (y, weight))``, which the net's ``get_loss`` unpacks.
    """

    def __init__(
        self,
        dataset,
        batch_size: int,
        shuffle: bool = False,
        *,
        device=None,
        num_shards: int = 1,
        shard_index: int = 0,
        generator: torch.Generator | None = None,
        transform=None,
        sample_weight: torch.Tensor | None = None,
        **kwargs,
    ) -> None:
        if kwargs:
            raise TypeError(
                f"CNNClassifier's in-memory batch iterator takes no {sorted(kwargs)}; "
                "DataLoader options (iterator_train__*, iterator_valid__*) do not apply to it"
            )
        index = None
        if isinstance(dataset, Subset):
            index = torch.as_tensor(dataset.indices, dtype=torch.long)
            dataset = dataset.dataset
        self.X, self.y = resident(dataset, "X", device), resident(dataset, "y", device)
        self.index = torch.arange(len(self.X)) if index is None else index
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = device
        self.num_shards = num_shards
        self.shard_index = shard_index
        self.step = batch_size * num_shards
        # samples per epoch over all shards, padded to a multiple of num_shards
        self.n_ordered = math.ceil(len(self.index) / num_shards) * num_shards
        self.generator = generator
        self.transform = transform
        self.sample_weight = sample_weight

    def __len__(self) -> int:
        return math.ceil(self.n_ordered / self.step)

    def __iter__(self):
        order = self.index
        if self.shuffle:
            order = order[torch.randperm(len(order), generator=self.generator)]
        if len(order) < self.n_ordered:  # wrap around, as DistributedSampler pads
            order = order.repeat(math.ceil(self.n_ordered / len(order)))[: self.n_ordered]
        for start in range(0, len(order), self.step):
            batch = order[start : start + self.step]
            if self.num_shards > 1:
                per_shard = len(batch) // self.num_shards
                batch = batch[self.shard_index * per_shard : (self.shard_index + 1) * per_shard]
            X = self.X[batch]
            y = self.y[batch] if self.y is not None else torch.zeros(len(batch))
            if self.device is not None:
                X, y = X.to(self.device), y.to(self.device)
            if self.transform is not None:
                X = self.transform(X)
            if self.sample_weight is not None:
                yield X, (y, self.sample_weight[batch].to(y.device))
            else:
                yield X, y


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
