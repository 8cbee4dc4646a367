"""Losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FocalLoss(nn.Module):
    """Multi-class focal loss on logits (Lin et al. 2017), as used in paper B.

    ``FL = -alpha_t * (1 - p_t) ** gamma * log(p_t)``, averaged over the
    batch, where ``p_t`` is the softmax probability of the true class. With
    ``gamma=0`` and ``alpha=1`` it equals cross-entropy.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter: larger values down-weight easy examples more.
    alpha : float or sequence of float, default=0.25
        A constant factor, or one weight per class.
    weight : torch.Tensor or None, default=None
        Per-class weights multiplied in as well (what ``class_weight`` sets).
    reduction : {"mean", "sum", "none"}, default="mean"
        As torch's losses: ``"none"`` returns one loss per sample (what
        ``CNNClassifier.fit(..., sample_weight=...)`` needs).

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import FocalLoss
    >>> logits, target = torch.tensor([[4.0, 0.0], [0.0, 4.0]]), torch.tensor([0, 0])
    >>> import torch.nn.functional as F
    >>> focal = FocalLoss(gamma=0.0, alpha=1.0)(logits, target)  # gamma=0, alpha=1: cross-entropy
    >>> bool(torch.isclose(focal, F.cross_entropy(logits, target)))
    True
    """

    def __init__(
        self, gamma: float = 2.0, alpha=0.25, weight: torch.Tensor | None = None,
        reduction: str = "mean",
    ) -> None:  # fmt: skip
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.gamma = gamma
        self.alpha = alpha
        self.weight = weight
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return the focal loss of ``logits`` (N, C) against class indices (N,), reduced."""
        log_p = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        factor = (1.0 - log_p.exp()).clamp(min=0.0) ** self.gamma
        if isinstance(self.alpha, (int, float)):
            factor = factor * self.alpha
        else:
            factor = factor * torch.as_tensor(self.alpha, dtype=logits.dtype,
                                              device=logits.device)[target]  # fmt: skip
        if self.weight is not None:
            factor = factor * self.weight.to(logits.device, logits.dtype)[target]
        losses = -(factor * log_p)
        if self.reduction == "none":
            return losses
        return losses.sum() if self.reduction == "sum" else losses.mean()


class CoarseLabelLoss(nn.Module):
    """A loss that also learns from labels naming a group of classes ("some tumour").

    Targets ``0 .. n_classes - 1`` are ordinary classes and go to
    ``criterion``; a target ``n_classes + g`` means "one of the classes of
    group ``g``" (an image known to show a tumour of unknown type), and its
    loss is ``-log`` of the total softmax probability of the group's classes.
    The batch loss is the mean over all samples. ``CNNClassifier(coarse_labels=...)``
    builds it; it is not needed directly.

    Parameters
    ----------
    criterion : torch.nn.Module class
        The loss of ordinarily labelled samples (mean reduction), e.g.
        ``torch.nn.CrossEntropyLoss``.
    groups : torch.Tensor of bool, shape (n_groups, n_classes)
        Row ``g`` marks the classes of group ``g``.
    **kwargs
        Passed to ``criterion`` (``label_smoothing=0.1``, ``weight=...``).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_braintumor.nn import CoarseLabelLoss
    >>> groups = torch.tensor([[True, True, False]])  # label 3 = "class 0 or 1"
    >>> loss = CoarseLabelLoss(nn.CrossEntropyLoss, groups)
    >>> logits = torch.tensor([[2.0, 2.0, -4.0], [0.0, 0.0, 5.0]])
    >>> bool(loss(logits, torch.tensor([3, 2])) < 0.05)
    True
    """

    def __init__(self, criterion, groups: torch.Tensor, **kwargs) -> None:
        super().__init__()
        self.criterion = criterion(**kwargs)
        self.register_buffer("groups", torch.as_tensor(groups, dtype=torch.bool))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return the mean loss of ``logits`` (N, C) against targets (N,)."""
        n_classes = logits.shape[1]
        coarse = target >= n_classes
        if not coarse.any():
            return self.criterion(logits, target)
        total = logits.new_zeros(())
        fine = ~coarse
        if fine.any():
            total = total + self.criterion(logits[fine], target[fine]) * fine.sum()
        log_p = F.log_softmax(logits[coarse].float(), dim=1)
        members = self.groups.to(logits.device)[target[coarse] - n_classes]
        group_log_p = torch.logsumexp(log_p.masked_fill(~members, float("-inf")), dim=1)
        return (total - group_log_p.sum()) / len(target)
