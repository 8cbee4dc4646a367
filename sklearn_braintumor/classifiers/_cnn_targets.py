"""Targets, weights, resampling and the validation split of a CNNClassifier's fit."""

from __future__ import annotations

import inspect
import math
import numbers

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ..nn._losses import CoarseLabelLoss
from ._cnn_input import _take, splitter_images


def _is_explicit(split) -> bool:
    """Whether ``train_split`` is validation data ``(X_valid, y_valid)``."""
    return isinstance(split, tuple) and len(split) == 2


def _is_splitter(split) -> bool:
    """Whether ``train_split`` is a scikit-learn CV splitter (not a string)."""
    return hasattr(split, "split") and not isinstance(split, (str, bytes))


class TargetsMixin:
    """CNNClassifier's data side of fit: labels, weights, sampler, validation split."""

    def _coarse(self, y: np.ndarray) -> tuple[np.ndarray, dict]:
        """Mask of the samples with a coarse label, and the groups that occur in ``y``."""
        if self.coarse_labels is None:
            return np.zeros(len(y), dtype=bool), {}
        if not all(
            isinstance(m, (list, tuple)) and len(m) >= 2 for m in self.coarse_labels.values()
        ):
            raise InvalidParameterError(
                "coarse_labels must be a dict of label -> list of at least 2 classes, e.g. "
                f"{{'tumor': ['glioma', 'meningioma', 'pituitary']}}, got {self.coarse_labels!r}"
            )
        present = set(np.unique(y).tolist())
        groups = {k: tuple(v) for k, v in self.coarse_labels.items() if k in present}
        coarse = np.isin(y, list(groups))
        if coarse.any() and self.sampler is not None:
            raise InvalidParameterError(
                "sampler= cannot resample images with coarse labels; use one or the other"
            )
        return coarse, groups

    def _sample_weight(self, sample_weight, n: int, coarse: np.ndarray):
        """Check ``sample_weight`` against the data and the other parameters."""
        if sample_weight is None:
            return None
        from sklearn.utils.validation import _check_sample_weight

        weight = _check_sample_weight(sample_weight, np.empty((n, 0)), dtype=np.float32)
        if (weight < 0).any():
            raise ValueError("sample_weight has negative values; weights must be >= 0")
        if self.sampler is not None or coarse.any():
            raise InvalidParameterError(
                "sample_weight cannot be combined with a sampler or with coarse_labels images: "
                "the resampled or coarse rows would have no weight of their own"
            )
        criterion = self.criterion
        if not isinstance(criterion, type) or (
            "reduction" not in inspect.signature(criterion).parameters
        ):
            raise InvalidParameterError(
                f"sample_weight needs per-image losses: criterion "
                f"{getattr(criterion, '__name__', criterion)!r} has no 'reduction' parameter"
            )
        return weight

    def _resample(self, images: np.ndarray, y: torch.Tensor, seed) -> tuple:
        """Apply ``sampler`` to the training images before they become tensors.

        ``images`` are channels-last in the dtype given to ``fit``. The sampler
        sees them as it would in an imbalanced-learn pipeline ahead of the
        classifier: uint8 stays uint8, one channel as 2D images for this
        library's image samplers, flattened rows for imbalanced-learn's table
        samplers (SMOTE, ...). Integer images that come back as floats are
        rounded into their dtype; the result is scaled as the training images.
        """
        sampler = clone(self.sampler)
        params = sampler.get_params()
        if seed is not None and "random_state" in params and params["random_state"] is None:
            sampler.set_params(random_state=seed)  # an explicit random_state is kept
        n, height, width, channels = images.shape
        if get_tags(sampler).input_tags.three_d_array:  # this library's image samplers
            data = images[..., 0] if channels == 1 else images
        else:
            data = images.reshape(n, -1)
        # the sampler sees the real labels, so strategies can name classes ({"glioma": 900})
        data, labels = sampler.fit_resample(data, self.classes_[y.numpy()])
        data = np.asarray(data)
        if images.dtype.kind in "ui" and data.dtype != images.dtype:
            limits = np.iinfo(images.dtype)
            data = np.clip(np.rint(data), limits.min, limits.max).astype(images.dtype)
        X_new = self._array_to_tensor(data.reshape(-1, height, width, channels), reset=False)
        y_new = np.searchsorted(self.classes_, np.asarray(labels))  # classes_ is sorted
        return X_new, torch.as_tensor(y_new, dtype=torch.int64)

    def _encode_targets(self, y: np.ndarray, warm: bool, classes) -> tuple:
        """Set ``classes_``; return encoded targets, the coarse mask, groups and the encoder.

        Coarse labels (``coarse_labels``) are encoded after the classes, one
        code per group; ``group_rows`` holds each group's member classes.
        """
        if y.dtype == object:
            kinds = {type(label).__name__ for label in y if not isinstance(label, (np.generic,))}
            if any(isinstance(label, str) for label in y) and len(kinds) > 1:
                raise ValueError(
                    f"y mixes label types ({', '.join(sorted(kinds))}), e.g. 1 and '1'; give "
                    "every label the same type (all strings or all numbers)"
                )
        check_classification_targets(y)
        coarse, groups = self._coarse(y)
        known = self.classes_ if warm else None if classes is None else np.unique(classes)
        if known is not None:
            new = sorted(set(y[~coarse].tolist()) - set(known.tolist()), key=str)
            if new:
                raise ValueError(
                    f"y holds class(es) {new} that the classifier does not know "
                    f"({known.tolist()}): continuing training keeps the classes; to add a "
                    "class, train a new classifier (warm_start=False) on all the classes"
                )
        encoder = LabelEncoder().fit(y[~coarse] if known is None else known)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"CNNClassifier needs samples of at least 2 classes; got {len(self.classes_)} "
                f"class{'' if len(self.classes_) == 1 else 'es'}: {self.classes_.tolist()}"
            )
        y_encoded = np.empty(len(y), dtype=np.int64)
        y_encoded[~coarse] = encoder.transform(y[~coarse])
        group_rows = []
        for index, (label, members) in enumerate(groups.items()):
            unknown = [m for m in members if m not in set(self.classes_.tolist())]
            if unknown:
                raise ValueError(
                    f"coarse label {label!r} groups {unknown}, which no image of y has; "
                    f"the classes are {self.classes_.tolist()}"
                )
            group_rows.append(np.isin(self.classes_, list(members)))
            y_encoded[y == label] = len(self.classes_) + index
        return y_encoded, coarse, group_rows, encoder

    def _draw_seed(self, accelerator) -> int | None:
        """Draw the fit's seed from ``random_state`` (shared by every accelerate process)."""
        seed = (
            None
            if self.random_state is None
            else int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        )
        if accelerator is not None:  # every process needs the same split, weights and shuffles
            if seed is None:
                seed = int(np.random.default_rng().integers(np.iinfo(np.int32).max))
            if accelerator.num_processes > 1:
                from accelerate.utils import broadcast_object_list

                seed = broadcast_object_list([seed])[0]
        if seed is not None:
            torch.manual_seed(seed)
        return seed

    def _criterion(self, y_encoded: np.ndarray, coarse: np.ndarray, group_rows: list) -> tuple:
        """Return the criterion and its keyword arguments (class weights, coarse groups)."""
        kwargs = {k[len("criterion__") :]: v for k, v in self._prefixed("criterion__").items()}
        if self.class_weight == "balanced":
            weights = compute_class_weight(
                "balanced", classes=np.arange(len(self.classes_)), y=y_encoded[~coarse]
            )
        elif isinstance(self.class_weight, dict):
            weights = np.array([self.class_weight.get(c, 1.0) for c in self.classes_])
        if self.class_weight is not None:
            kwargs["weight"] = torch.as_tensor(weights, dtype=torch.float32)
        if not group_rows:
            return self.criterion, kwargs
        return CoarseLabelLoss, {"criterion": self.criterion, "groups": np.stack(group_rows),
                                 **kwargs}  # fmt: skip

    def _validation_split(self, X_tensor, y_encoded, coarse, encoder, seed, groups) -> tuple:
        """Return training images and labels, the validation Dataset and the training rows.

        Sets ``valid_indices_`` (None unless the split is drawn from ``X``);
        coarse-labelled images always stay on the training side, and with
        ``groups`` so does every image of their groups.
        """
        from skorch.dataset import Dataset

        y_tensor = torch.from_numpy(y_encoded)
        self.valid_indices_ = None
        fine = np.flatnonzero(~coarse)
        if groups is not None:
            groups = column_or_1d(groups)
            check_consistent_length(y_encoded, groups)
            if not _is_splitter(self.train_split):
                raise ValueError(
                    "groups are given to fit, but train_split is "
                    f"{self.train_split!r}: groups need a scikit-learn CV splitter "
                    "train_split that uses them, e.g. LeakageFreeSplit(test_size=0.1) or "
                    "StratifiedGroupKFold(10)"
                )
        if _is_explicit(self.train_split):  # validation data given: (X_valid, y_valid)
            X_valid, y_valid = self.train_split
            y_valid = column_or_1d(y_valid)
            unknown = sorted(set(y_valid.tolist()) - set(self.classes_.tolist()), key=str)
            if unknown:
                raise ValueError(f"train_split's y_valid has classes {unknown} that y has not")
            valid_X = self._to_tensor(X_valid, reset=False)
            check_consistent_length(valid_X, y_valid)
            valid = Dataset(valid_X, torch.from_numpy(encoder.transform(y_valid)))
            return X_tensor, y_tensor, valid, None
        if self.train_split is None:
            return X_tensor, y_tensor, None, None
        # validation on fully labelled images only, none in a group with a coarse one
        trained = np.flatnonzero(coarse)
        if groups is not None and len(trained):
            tied = np.isin(groups[fine], groups[trained])
            trained, fine = np.concatenate([trained, fine[tied]]), fine[~tied]
        train_index, self.valid_indices_ = self._split(
            X_tensor, fine, y_encoded[fine], seed, None if groups is None else groups[fine]
        )
        train_index = np.sort(np.concatenate([train_index, trained]))
        valid = Dataset(_take(X_tensor, self.valid_indices_), y_tensor[self.valid_indices_])
        return _take(X_tensor, train_index), y_tensor[train_index], valid, train_index

    def _split(self, X_tensor, fine: np.ndarray, y_fine: np.ndarray, seed, groups) -> tuple:
        """Split the fully labelled rows ``fine`` into training and validation rows.

        A scikit-learn CV splitter gets those rows' images (``splitter_images``)
        and ``groups``, so one that groups copies (``LeakageFreeSplit``) can keep
        them on one side.
        """
        from skorch.dataset import Dataset, ValidSplit

        split = self.train_split
        positions = np.arange(len(fine))
        if isinstance(split, numbers.Real) and not isinstance(split, bool):
            counts = np.bincount(y_fine)
            present = counts > 0
            if counts[present].min() < 2:
                rare = self.classes_[present & (counts < 2)].tolist()
                raise ValueError(
                    f"class(es) {rare} have a single image: too few for the stratified "
                    f"validation split (train_split={split}); add images, drop the class, or "
                    "pass train_split=None"
                )
            n_valid = split if isinstance(split, numbers.Integral) else math.ceil(split * len(fine))
            n_classes = int(present.sum())
            if n_valid < n_classes or len(fine) - n_valid < n_classes:
                raise ValueError(
                    f"train_split={split} of {len(fine)} images gives {n_valid} validation "
                    f"images for {n_classes} classes: too few for a stratified split; pass "
                    "more images, a larger train_split, or train_split=None"
                )
            train, valid = train_test_split(
                positions, test_size=split, stratify=y_fine, random_state=seed
            )
        elif isinstance(split, ValidSplit):
            cv = split.check_cv(y_fine)
            train, valid = next(iter(cv.split(np.zeros((len(fine), 1)), y_fine)))
        elif _is_splitter(split):  # a scikit-learn CV splitter: its first split
            images = splitter_images(X_tensor, fine)
            train, valid = next(iter(split.split(images, y_fine, groups)))
        else:  # skorch's callable train_split(dataset, y) -> (train subset, valid subset)
            parts = split(Dataset(positions, y_fine), y_fine)
            if not all(hasattr(part, "indices") for part in parts):
                raise TypeError(
                    "a callable train_split must return two torch Subsets (with .indices), as "
                    f"skorch's ValidSplit does; got {[type(p).__name__ for p in parts]}"
                )
            train, valid = (np.asarray(part.indices) for part in parts)
        if len(valid) == 0 or len(train) == 0:
            raise ValueError(f"train_split={split!r} leaves no training or no validation image")
        return np.sort(fine[train]), np.sort(fine[valid])
