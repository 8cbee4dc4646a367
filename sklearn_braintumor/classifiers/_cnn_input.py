"""Turning images (arrays, lists, files) into the network's float tensors."""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.base import clone

from ..utils._images import PIXEL_PEAKS
from ..utils._validation import check_images
from ._data import LazyImages

_CHANNELS = (1, 3, 4)


def _take(X, index):
    """``X[index]`` for a tensor; the unread files at ``index`` for :class:`LazyImages`."""
    return X.take(index) if isinstance(X, LazyImages) else X[index]


class SplitterImages(Sequence):
    """Rows of the network's input as a CV splitter sees them: images, channels last.

    ``images[i]`` is row ``rows[i]`` of ``X`` (the scaled float tensor
    ``(n, channels, height, width)``) as an ``(height, width)`` array for one
    channel, ``(height, width, channels)`` otherwise, made when indexed, so a
    splitter that only counts rows costs nothing and one that hashes the
    images (``LeakageFreeSplit``) holds one at a time.
    """

    def __init__(self, X: torch.Tensor, rows: np.ndarray) -> None:
        self.X = X
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        if not isinstance(index, numbers.Integral):
            return SplitterImages(self.X, self.rows[index])
        image = self.X[self.rows[index]].numpy().transpose(1, 2, 0)
        return image[..., 0] if image.shape[2] == 1 else image


def splitter_images(X, rows: np.ndarray):
    """Return what a CV splitter ``train_split`` gets as ``X``: the images, or file paths."""
    return X.paths[rows] if isinstance(X, LazyImages) else SplitterImages(X, rows)


def _channels_last(input_shape) -> tuple[int, int, int]:
    """``(height, width, channels)`` from an ``input_shape`` given either way round."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        return (*shape, 1)
    if len(shape) == 3 and shape[-1] in _CHANNELS:
        return shape
    if len(shape) == 3 and shape[0] in _CHANNELS:
        return (shape[1], shape[2], shape[0])
    raise ValueError(
        f"input_shape must be (height, width), (height, width, channels) or "
        f"(channels, height, width) with 1, 3 or 4 channels, got {input_shape!r}"
    )


class InputMixin:
    """CNNClassifier's input side: shapes, channels, pixel scaling, lazy files."""

    def _to_tensor(self, X, *, reset: bool):
        """Return the network input: a tensor, or :class:`LazyImages` with a reader."""
        if self.reader is None:
            return self._images_to_tensor(X, reset=reset)
        if isinstance(X, (str, os.PathLike)) or np.ndim(X) != 1:
            raise ValueError(
                "with a reader, X must be a 1D sequence of image file paths, got "
                f"{type(X).__name__} of shape {np.shape(X)}"
            )
        paths = np.asarray(X, dtype=object)
        if len(paths) == 0:
            raise ValueError("X holds no file paths")
        if reset:  # the first batch fits the reader and fixes the input shape
            self.reader_ = clone(self.reader)
            self._images_to_tensor(self.reader_.fit_transform(paths[: self.batch_size]), reset=True)
        return LazyImages(paths, lambda batch: self._images_to_tensor(
            self.reader_.transform(batch), reset=False))  # fmt: skip

    def _images_to_tensor(self, X, *, reset: bool) -> torch.Tensor:
        return self._array_to_tensor(self._images_to_array(X, reset=reset), reset=reset)

    def _array_to_tensor(self, array: np.ndarray, *, reset: bool) -> torch.Tensor:
        """Scale channels-last images and return them channels-first, as float32."""
        scaled = self._scale(array, reset=reset)
        return torch.from_numpy(np.ascontiguousarray(scaled.transpose(0, 3, 1, 2)))

    def _images_to_array(self, X, *, reset: bool) -> np.ndarray:
        """Check ``X`` and return it as channels-last images in their own dtype.

        Sets ``input_shape_`` (and ``n_features_in_`` for rows of a table)
        when ``reset``; checks them otherwise.
        """
        images = check_images(X, estimator=self, allow_2d=True, same_shape=True)
        array = images if isinstance(images, np.ndarray) else np.stack(images)
        # trained on images (not rows of a table), a 2D array of one image's shape is one image
        if array.ndim == 2 and not reset and not hasattr(self, "n_features_in_"):
            if tuple(array.shape) == tuple(self.input_shape_[1:]) and self.input_shape_[0] == 1:
                raise ValueError(
                    f"got one 2D array of shape {array.shape}, the shape of one training image: "
                    "is it one image? pass image[np.newaxis], a batch of one"
                )
        if array.ndim == 2:
            if reset:
                self.n_features_in_ = array.shape[1]
            elif hasattr(self, "n_features_in_") and array.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {array.shape[1]} features, but CNNClassifier is expecting "
                    f"{self.n_features_in_} features as input"
                )
            shape = (
                (1, array.shape[1], 1)
                if self.input_shape is None
                else _channels_last(self.input_shape)
            )
            if int(np.prod(shape)) != array.shape[1]:
                raise ValueError(
                    f"input_shape {self.input_shape!r} holds {int(np.prod(shape))} values, but "
                    f"each row of X has {array.shape[1]}"
                )
            array = array.reshape(len(array), *shape)
        elif array.ndim == 3:
            array = array[..., np.newaxis]
        chw = (array.shape[3], array.shape[1], array.shape[2])
        if reset:
            self.input_shape_ = chw
        elif chw != self.input_shape_:
            raise ValueError(
                f"CNNClassifier was fitted on images of shape (channels, height, width) = "
                f"{self.input_shape_}, got {chw}"
            )
        return array

    def _scale(self, array: np.ndarray, *, reset: bool) -> np.ndarray:
        """Scale pixels to what the network trains on, the same way at fit and predict.

        At fit the input's kind and value range are recorded (``input_dtype_``,
        ``input_range_``): uint8 is divided by 255, uint16 by 65535, anything
        else is used as float32. At predict, integer pixels given to a model
        trained on uint8 / uint16 are scaled the same way when they lie in
        that dtype's range; floats given to such a model, values far outside
        the training range, and bool images are refused with an error.
        """
        if array.dtype == bool:
            raise ValueError(
                "CNNClassifier got boolean images; pass pixel intensities (uint8 0-255, or "
                "floats), e.g. mask.astype(np.uint8) * 255"
            )
        low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
        if reset:
            kind = array.dtype.name if array.dtype in (np.uint8, np.uint16) else "float"
            self.input_dtype_, self.input_range_ = kind, (low, high)
        kind = getattr(self, "input_dtype_", None)
        if kind is None:  # fitted by an earlier version, which scaled by the input's dtype
            kind = array.dtype.name if array.dtype in (np.uint8, np.uint16) else "unchecked"
        peak = PIXEL_PEAKS.get(kind)
        if peak is not None:
            if array.dtype.kind not in "ui":
                raise ValueError(
                    f"CNNClassifier was fitted on {kind} images (0-{peak}), got {array.dtype} "
                    f"values in [{low:g}, {high:g}]; pass {kind} images as in training "
                    f"(np.clip(X, 0, {peak}).astype(np.{kind})). Integer images outside "
                    "0-65535 reach it as floats when a step before it (Resize) converted them"
                )
            if low < 0 or high > peak:
                raise ValueError(
                    f"CNNClassifier was fitted on {kind} images (0-{peak}), got {array.dtype} "
                    f"values in [{low:g}, {high:g}], outside that range"
                )
            return array.astype(np.float32) / np.float32(peak)
        if kind == "float" and not reset:
            train_low, train_high = self.input_range_
            margin = max(train_high - train_low, 1e-6)
            if low < train_low - margin or high > train_high + margin:
                raise ValueError(
                    f"CNNClassifier was fitted on values in [{train_low:g}, {train_high:g}], "
                    f"got {array.dtype} values in [{low:g}, {high:g}], far outside that range; "
                    "scale the images as in training"
                )
        return array.astype(np.float32, copy=False)
