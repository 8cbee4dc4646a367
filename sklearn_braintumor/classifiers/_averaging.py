"""Averaging a network's weights over the last part of training (``average_weights``)."""

from __future__ import annotations

import torch
from skorch.callbacks import Callback


class WeightAveraging(Callback):
    """Keep the running mean of the weights after every training step of the last epochs.

    Over the last ``round(share * max_epochs)`` epochs (at least the last
    one), the floating-point entries of the module's ``state_dict`` are averaged after
    each training batch (stochastic weight averaging, densely, as SWAD does).
    At the end of training the module takes the average, and its batch-norm
    statistics, which an average of weights does not give, are estimated
    afresh from the training images (one pass, no augmentation, cumulative
    mean). Used by ``CNNClassifier(average_weights=...)``.

    Parameters
    ----------
    share : float
        Share of ``max_epochs``, at the end of training, whose steps are
        averaged, in (0, 1].
    """

    def __init__(self, share: float) -> None:
        self.share = share

    def on_train_begin(self, net, X=None, y=None, **kwargs) -> None:
        self.mean_ = None
        self.steps_ = 0
        averaged = max(1, round(self.share * net.max_epochs))
        self.first_epoch_ = net.max_epochs - averaged + 1

    def on_batch_end(self, net, batch=None, training=False, **kwargs) -> None:
        if not training or len(net.history) < self.first_epoch_:
            return
        weights = {name: value for name, value in net.module_.state_dict().items()
                   if value.is_floating_point()}  # fmt: skip
        self.steps_ += 1
        with torch.no_grad():
            if self.mean_ is None:
                self.mean_ = {name: value.detach().clone() for name, value in weights.items()}
                return
            for name, value in weights.items():
                self.mean_[name].add_(value.detach() - self.mean_[name], alpha=1.0 / self.steps_)

    def on_train_end(self, net, X=None, y=None, **kwargs) -> None:
        if self.mean_ is None:  # training ended before averaging began
            return
        module = net.module_
        state = module.state_dict()
        state.update(self.mean_)
        module.load_state_dict(state)
        self.mean_ = None
        batch_norm = torch.nn.modules.batchnorm._BatchNorm
        norms = [m for m in module.modules()
                 if isinstance(m, batch_norm) and m.track_running_stats]  # fmt: skip
        if not norms:
            return
        momenta = [m.momentum for m in norms]
        module.eval()
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative mean over all batches
            m.train()
        with torch.no_grad():
            for Xi, _ in net.get_iterator(net.get_dataset(X, y), training=False):
                net.infer(Xi)
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        module.eval()
