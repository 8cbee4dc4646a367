"""The safe model format's view of a CNNClassifier: parameters, fitted state, rebuilding."""

from __future__ import annotations

import inspect

from ..utils._device import resolve_device
from ._net import AugmentingNet
from ._ood import GUARD_ATTRIBUTES


class StateMixin:
    """What :func:`sklearn_braintumor.utils.save` stores of a CNNClassifier, and the way back."""

    def _safe_state(self) -> tuple[dict, dict]:
        """Return parameters and fitted state for :func:`sklearn_braintumor.utils.save`.

        The trained network is stored as its ``state_dict`` (arrays); the
        per-epoch history without its per-batch rows.
        """
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if not k.startswith("callbacks__")}  # fmt: skip
        params["callbacks"] = None  # training-time objects (files, trials), not the model
        if not hasattr(self, "net_"):
            return params, {}
        state = {
            "classes_": self.classes_,
            "input_shape_": tuple(self.input_shape_),
            "input_dtype_": self.input_dtype_,
            "input_range_": tuple(self.input_range_),
            "valid_indices_": self.valid_indices_,
            "history_": [{k: v for k, v in row.items() if k != "batches"} for row in self.history_],
            "weights_": dict(self.module_.state_dict()),
        }
        for name in ("n_features_in_", "reader_", *GUARD_ATTRIBUTES):
            if hasattr(self, name):
                state[name] = getattr(self, name)
        return params, state

    @classmethod
    def _from_safe_state(cls, params: dict, state: dict):
        """Rebuild a classifier saved in the safe format: its network ready to predict."""
        from skorch.history import History

        estimator = cls(**params)
        if not state:
            return estimator
        weights, history = state.pop("weights_"), state.pop("history_")
        for key, value in state.items():
            setattr(estimator, key, value)
        if not isinstance(estimator.module, type):
            raise ValueError("a saved CNNClassifier must name its module class")
        # a model trained on a GPU predicts on a machine without one
        device = resolve_device(estimator.device, fallback=True)
        # the weights come from the file: a module that could fetch pretrained weights
        # (TransferNet(weights="imagenet", download=True)) never touches the network on load
        accepted = inspect.signature(estimator.module).parameters
        overrides = {k: v for k, v in (("weights", None), ("download", False)) if k in accepted}
        net = estimator._make_net(
            AugmentingNet,
            module=estimator.module,
            criterion=estimator.criterion,
            module_overrides=overrides,
            train_split=None,
            verbose=0,
            device=device,
            **estimator._prefixed(("criterion__", "optimizer__")),
        )
        net.initialize()
        net.module_.load_state_dict(weights)
        net.module_.eval()
        net.history = History(history)
        estimator.net_ = net
        estimator.history_ = net.history
        return estimator
