"""The skorch net that CNNClassifier builds: skorch's, plus batch augmentation."""

from __future__ import annotations

from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ..nn import BatchAugment


class AugmentingNet(NeuralNetClassifier):
    """skorch's ``NeuralNetClassifier`` that augments each training batch on its device.

    ``augment_options`` (a dict of :class:`~sklearn_braintumor.nn.BatchAugment`
    options, or None) is set before ``initialize``; the module is built in
    ``initialize_module``, where skorch tracks torch components for device
    moves and pickling. Only training steps are augmented.
    """

    augment_options = None
    augment_ = None

    def initialize_module(self):
        """Initialise the network, then the augmentation module."""
        super().initialize_module()
        if self.augment_options is not None:
            self.augment_ = BatchAugment(**self.augment_options).to(self.device)
        return self

    def train_step_single(self, batch, **fit_params):
        """Run skorch's training step on an augmented copy of the batch."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        if self.augment_ is not None:
            Xi = self.augment_.train()(to_tensor(Xi, device=self.device))
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}
