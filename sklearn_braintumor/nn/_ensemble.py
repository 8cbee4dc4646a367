"""Several networks of one architecture that answer as one: their probabilities averaged."""

from __future__ import annotations

import inspect
import math

import torch
from torch import nn


class EnsembleNet(nn.Module):
    """``n_members`` networks built alike; the output is their averaged probabilities.

    The forward pass returns the logarithm of the mean of the members'
    softmax probabilities: a softmax of it gives the averaged probabilities
    back, so a classifier reads it as it reads any network's logits. Built to
    hold networks trained apart (on different images: bagging) and put
    together by :func:`sklearn_braintumor.classifiers.average_networks`,
    which saves, loads, exports and predicts as one network. Fitting a
    classifier with ``module=EnsembleNet`` trains the members jointly on
    the averaged output instead, which is not the same thing.

    Parameters
    ----------
    module : type of torch.nn.Module
        The members' class.
    n_members : int, default=3
        Number of members.
    **kwargs
        Passed to each member's constructor (``n_classes``, ``in_channels``,
        ``input_size`` only where the member's class accepts them).

    Attributes
    ----------
    members : torch.nn.ModuleList
    gradcam_layer : str
        The last member's Grad-CAM layer (``members.K.<its layer>``): Grad-CAM
        maps the averaged output through that member.

    Examples
    --------
    >>> import torch
    >>> from sklearn_braintumor.nn import EnsembleNet, SimpleCNN
    >>> net = EnsembleNet(SimpleCNN, n_members=2, n_classes=3, in_channels=1,
    ...                   input_size=(32, 32)).eval()
    >>> x = torch.rand(4, 1, 32, 32)
    >>> mean = torch.stack([m(x).softmax(1) for m in net.members]).mean(0)
    >>> bool(torch.allclose(net(x).softmax(1), mean, atol=1e-6))
    True
    """

    def __init__(self, module: type[nn.Module], n_members: int = 3, **kwargs) -> None:
        super().__init__()
        if not (isinstance(module, type) and issubclass(module, nn.Module)):
            raise TypeError(f"module must be a torch.nn.Module class, got {module!r}")
        if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 1:
            raise ValueError(f"n_members must be a positive integer, got {n_members!r}")
        parameters = inspect.signature(module).parameters
        open_ended = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
        optional = ("n_classes", "in_channels", "input_size")
        kwargs = {k: v for k, v in kwargs.items()
                  if open_ended or k in parameters or k not in optional}  # fmt: skip
        self.members = nn.ModuleList(module(**kwargs) for _ in range(n_members))
        self.log_n = math.log(n_members)
        layer = getattr(self.members[-1], "gradcam_layer", "")
        self.gradcam_layer = f"members.{n_members - 1}.{layer}" if layer else ""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the log of the members' mean probabilities for a batch ``(N, C, H, W)``."""
        outputs = [torch.log_softmax(member(x), dim=1) for member in self.members]
        return torch.logsumexp(torch.stack(outputs), dim=0) - self.log_n
