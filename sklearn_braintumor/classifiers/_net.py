"""The skorch nets that CNNClassifier builds: skorch's, plus batch augmentation."""

from __future__ import annotations

import re
import sys

import torch
from skorch import NeuralNetClassifier
from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor

from ..nn import BatchAugment


class AugmentingNet(NeuralNetClassifier):
    """skorch's ``NeuralNetClassifier`` that augments each training batch on its device.

    ``augment_options`` (a dict of :class:`~sklearn_braintumor.nn.BatchAugment`
    options, or None) and ``channels_last`` are set before ``initialize``; the
    module is built in ``initialize_module``, where skorch tracks torch
    components for device moves and pickling. The augmentation is applied
    where training batches are made (the training iterator's ``transform``),
    so skorch's own training step runs unchanged; validation and prediction
    batches are never augmented.
    """

    augment_options = None
    augment_ = None
    channels_last = False

    def initialize_module(self):
        """Initialise the network (channels-last if asked), then the augmentation module."""
        super().initialize_module()
        if self.channels_last:
            self.module_.to(memory_format=torch.channels_last)
        if self.augment_options is not None:
            self.augment_ = BatchAugment(**self.augment_options).to(self.device)
        return self

    def drop_training_state(self):
        """Forget what only training needed; return self.

        The validation images (``train_split``), early stopping's copy of the
        best weights and the learning-rate scheduler (which holds the
        optimizer) stay on the training device and are pickled outside
        skorch's device mapping: a model trained on a GPU would then not load
        on a machine without one.
        """
        from skorch.callbacks import EarlyStopping, LRScheduler

        self.train_split = None
        for _, callback in self.callbacks_:
            if isinstance(callback, EarlyStopping):
                callback.best_model_weights_ = None
            elif isinstance(callback, LRScheduler):
                callback.lr_scheduler_ = None
        return self

    def _batch_device(self):
        return self.device

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Return skorch's loss; with per-image weights (``(y, weight)``), their weighted mean.

        A criterion built with ``reduction="none"`` (``sample_weight`` given)
        returns one loss per image: training batches average weight x loss,
        validation batches the plain mean.
        """
        weight = None
        if isinstance(y_true, (tuple, list)):
            y_true, weight = y_true
        loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if loss.ndim == 0:
            return loss
        if weight is None:
            return loss.mean()
        return (loss * weight.to(loss.device, loss.dtype)).mean()

    def augmented(self, Xi):
        """Return the training batch ``Xi``, augmented on its device when the net augments."""
        if self.augment_ is None:
            return Xi
        return self.augment_.train()(to_tensor(Xi, device=self._batch_device()))

    def get_iterator(self, dataset, training=False):
        """Return skorch's batch iterator; training batches pass through the augmentation."""
        return self._augmenting(super().get_iterator(dataset, training=training), training)

    def _augmenting(self, iterator, training: bool):
        if training and self.augment_ is not None:
            iterator.transform = self.augmented
        return iterator


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def console_print(*args, **kwargs) -> None:
    """``print``, without skorch's colour codes when stdout is not a terminal (logs, files)."""
    if not sys.stdout.isatty():
        args = tuple(_ANSI.sub("", str(arg)) for arg in args)
    print(*args, **kwargs)


class _MainProcessPrint:
    """``print`` on accelerate's main process only; picklable, unlike ``Accelerator.print``."""

    def __call__(self, *args, **kwargs) -> None:
        from accelerate import PartialState

        if PartialState().is_main_process:
            console_print(*args, **kwargs)


class _TrainableOnly:
    """An accelerator seen through: ``prepare`` only wraps modules with trainable weights."""

    def __init__(self, accelerator) -> None:
        self._accelerator = accelerator

    def prepare(self, component):
        if isinstance(component, torch.nn.Module) and not any(
            p.requires_grad for p in component.parameters()
        ):
            return component.to(self._accelerator.device)
        return self._accelerator.prepare(component)

    def __getattr__(self, name):
        return getattr(self._accelerator, name)


class AcceleratedNet(AccelerateMixin, AugmentingNet):
    """:class:`AugmentingNet` trained through Hugging Face accelerate (skorch's mixin).

    skorch's ``AccelerateMixin`` prepares the module, criterion and optimizer
    (DDP on several processes, mixed precision) and runs the backward pass and
    optimizer step through the accelerator. What this class changes, because
    ``CNNClassifier`` slices batches from tensors instead of using a
    ``DataLoader`` that accelerate would shard:

    - training batches are sharded here (:class:`TensorBatches` with
      ``num_shards``), shuffled by ``generator_``, seeded alike in every
      process from ``shuffle_seed``; batches go to the accelerator's device;
    - validation and prediction run on the whole set in every process and are
      not gathered, so every process computes the same validation scores and
      callbacks (early stopping) decide alike in all of them;
    - the module stays wrapped until :meth:`release`, so that early stopping
      restores a best state dict of the same (wrapped) form it saved;
    - :meth:`release` unwraps the module and drops the accelerator, so the
      fitted net pickles and predicts like a plain skorch net.
    """

    shuffle_seed = None
    generator_ = None

    def __init__(self, *args, verbose=1, **kwargs) -> None:
        # PrintLog prints to any sink but ``print`` whatever ``verbose`` says
        sink = _MainProcessPrint() if verbose else print
        super().__init__(
            *args, verbose=verbose, unwrap_after_train=False, callbacks__print_log__sink=sink,
            **kwargs,
        )  # fmt: skip

    def _batch_device(self):
        return self.device if self.accelerator is None else self.accelerator.device

    def _initialize_accelerator(self):
        """Prepare as skorch's mixin does, leaving modules without trainable weights unwrapped.

        skorch prepares every module, the loss included, and the LR
        schedulers of the callbacks; on CPU processes accelerate then wraps
        each module in DistributedDataParallel, which refuses one without
        trainable parameters (the loss, the augmentation). skorch's own
        method runs, with an accelerator whose ``prepare`` moves such modules
        to the device instead (as accelerate itself does on GPUs).
        """
        accelerator = self.accelerator
        self.accelerator = _TrainableOnly(accelerator)
        try:
            return super()._initialize_accelerator()
        finally:
            self.accelerator = accelerator

    def initialize(self):
        """Initialise as skorch's mixin does, with the shuffling generator."""
        super().initialize()
        self.generator_ = torch.Generator()
        if self.shuffle_seed is not None:
            self.generator_.manual_seed(self.shuffle_seed)
        return self

    def get_iterator(self, dataset, training=False):
        """Return the batch iterator: sharded for training, on the accelerator's device."""
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        kwargs.setdefault("batch_size", self.batch_size)
        kwargs["device"] = self._batch_device()
        if training and self.accelerator is not None:
            kwargs.update(
                num_shards=self.accelerator.num_processes,
                shard_index=self.accelerator.process_index,
                generator=self.generator_,
            )
        iterator = self.iterator_train if training else self.iterator_valid
        return self._augmenting(iterator(dataset, **kwargs), training)

    def evaluation_step(self, batch, training=False):
        """Evaluate this process's batch without gathering (every process sees all of them)."""
        return NeuralNetClassifier.evaluation_step(self, batch, training=training)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Wait for every process; unwrapping waits for :meth:`release`."""
        self.accelerator.wait_for_everyone()
        return NeuralNetClassifier.on_train_end(self, net, X=X, y=y, **kwargs)

    def release(self):
        """Unwrap the trained module and optimizer and drop the accelerator; return self."""
        from accelerate.optimizer import AcceleratedOptimizer

        self._unwrap_accelerator()
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if isinstance(optimizer, AcceleratedOptimizer):
                setattr(self, name + "_", optimizer.optimizer)
        device = self.accelerator.device  # "cpu:0" on CPU processes, which torch.load refuses
        self.device = "cpu" if device.type == "cpu" else str(device)
        self.accelerator = None
        self.generator_ = None
        return self
