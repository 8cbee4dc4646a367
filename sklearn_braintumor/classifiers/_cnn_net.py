"""Building the inner skorch net of a CNNClassifier: device, accelerate, callbacks."""

from __future__ import annotations

import contextlib
import inspect
import sys

import torch
from sklearn.utils._param_validation import InvalidParameterError

from ..utils._device import resolve_device
from ._averaging import WeightAveraging
from ._data import TensorBatches
from ._net import console_print

_ACCELERATOR_OPTIONS = ("mixed_precision", "kwargs_handlers")


def _init_names(cls) -> list[str]:
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


def _accepts(callable_, name: str) -> bool:
    try:
        parameters = inspect.signature(callable_).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


def softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over classes: the inner skorch net's ``predict_nonlinearity``."""
    return torch.softmax(logits, dim=-1)


class NetMixin:
    """CNNClassifier's network side: device, accelerate, callbacks, training."""

    @contextlib.contextmanager
    def _threads(self):
        """Run the block with ``n_threads`` torch threads, then restore the setting."""
        wanted = getattr(self, "n_threads", None)  # None for models saved before it existed
        if wanted is None:
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(int(wanted))
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _device(self) -> str:
        return resolve_device(self.device)

    def _accelerator(self):
        """Return the ``accelerate.Accelerator`` that ``accelerate`` asks for, or None."""
        if self.accelerate is None or self.accelerate is False:
            return None
        options = {} if self.accelerate is True else dict(self.accelerate)  # constraints checked
        unknown = sorted(set(options) - set(_ACCELERATOR_OPTIONS))
        if unknown:
            raise InvalidParameterError(
                f"The 'accelerate' parameter of CNNClassifier takes the Accelerator options "
                f"{list(_ACCELERATOR_OPTIONS)}, got {unknown}"
            )
        if self.device == "cpu":
            options["cpu"] = True
        elif self.device != "auto":
            raise InvalidParameterError(
                "with accelerate, the launcher chooses the device: device must be 'auto' or "
                f"'cpu', got {self.device!r}"
            )
        try:
            from accelerate import Accelerator
        except ImportError as exc:
            raise ImportError(
                "CNNClassifier(accelerate=...) needs Hugging Face accelerate: "
                "pip install accelerate"
            ) from exc
        try:
            return Accelerator(**options)
        except ValueError as exc:
            if "already been initialized" not in str(exc):
                raise
            raise ValueError(
                "accelerate keeps one mixed precision and device per Python process, and this "
                "process already set up another; fit in a new process, or leave the precision "
                f"to `accelerate launch --mixed_precision ...` ({exc})"
            ) from exc

    def _module_kwargs(self, n_classes: int) -> dict:
        kwargs = {k[len("module__") :]: v for k, v in self._prefixed("module__").items()}
        target = self.module if isinstance(self.module, type) else None
        if target is not None:
            channels, height, width = self.input_shape_
            for name, value in (
                ("n_classes", n_classes),
                ("in_channels", channels),
                ("input_size", (height, width)),
            ):
                if name not in kwargs and _accepts(target, name):
                    kwargs[name] = value
        return kwargs

    def _callbacks(self, n_samples: int, *, main_process: bool = True) -> list:
        from skorch.callbacks import EarlyStopping, EpochScoring, LRScheduler, ProgressBar
        from skorch.utils import noop

        callbacks = []
        # long epochs, on a terminal (a bar in a log file is a line per update)
        long_epochs = n_samples / self.batch_size >= 100
        if self.verbose and main_process and long_epochs and sys.stderr.isatty():
            callbacks.append(("progress_bar", ProgressBar()))
        if self.monitor == "valid_f1":
            callbacks.append(
                ("valid_f1", EpochScoring("f1_macro", lower_is_better=False, name="valid_f1"))
            )
        if self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(
                        policy=torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs
                    ),
                )
            )
        if self.early_stopping is not None or self.keep_best:
            if self.train_split is None:
                name = "early_stopping" if self.early_stopping is not None else "keep_best"
                raise InvalidParameterError(f"{name} needs a train_split to watch")
            # without early stopping, a patience longer than training only keeps the best epoch
            patience = self.early_stopping or self.max_epochs + 1
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor=self.monitor,
                        patience=patience,
                        threshold=1e-3,
                        threshold_mode="abs",
                        lower_is_better=self.monitor == "valid_loss",
                        load_best=True,
                        sink=print if main_process else noop,
                    ),
                )
            )
        if self.average_weights is not None:
            callbacks.append(("average_weights", WeightAveraging(self.average_weights)))
        return callbacks

    def _log_sink(self, accelerator) -> dict:
        """Return the epoch table's printer: no colour codes when stdout is not a terminal.

        skorch's PrintLog prints to any sink other than ``print`` whatever
        ``verbose`` says, so the sink is only replaced when the table is wanted
        (accelerate's net sets its own).
        """
        if not self.verbose or accelerator is not None:
            return {}
        return {"callbacks__print_log__sink": console_print}

    def _make_net(self, net_class, *, module, criterion, module_overrides=None, **kwargs):
        """Build the skorch net (training in ``fit``, prediction for a loaded model).

        What both share: optimizer and schedule settings, encoded classes,
        logits out, batches sliced from tensors, the module's size arguments,
        channels-last storage. ``kwargs`` add the split, callbacks, prefixed
        criterion / optimizer arguments and the placement; ``module_overrides``
        replaces some of the module's own arguments.
        """
        module_kwargs = {**self._module_kwargs(len(self.classes_)), **(module_overrides or {})}
        net = net_class(
            module=module,
            criterion=criterion,
            optimizer=self.optimizer,
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            classes=list(range(len(self.classes_))),
            # the inner net's predict_proba gives probabilities, so skorch's EpochScoring with
            # probability scorers (neg_log_loss, roc_auc_ovr) works; ours reads the logits
            predict_nonlinearity=softmax,
            iterator_train=TensorBatches,
            iterator_valid=TensorBatches,
            iterator_train__shuffle=True,
            **{f"module__{k}": v for k, v in module_kwargs.items()},
            **kwargs,
        )
        net.channels_last = self.channels_last
        return net

    @staticmethod
    def _train(net, train_X, train_y, previous, accelerator, seed) -> None:
        """Train ``net``: from scratch, or on from ``previous`` (weights, history)."""
        from skorch.history import History

        if previous is not None:
            net.initialize()
            net.module_.load_state_dict(previous[0])
            net.partial_fit(train_X, train_y)
            offset = len(previous[1])
            net.history = History(
                previous[1] + [{**row, "epoch": row["epoch"] + offset} for row in net.history]
            )
        elif accelerator is None:
            net.fit(train_X, train_y)
        else:
            net.shuffle_seed = seed
            net.fit(train_X, train_y).release()
