"""Building blocks the recipes share: classifiers seeded per run, transfer rows."""

from __future__ import annotations

from ..classifiers import CNNClassifier
from ..nn import TransferNet
from ._base import Model, RunConfig


def cnn(config: RunConfig, module, **params) -> CNNClassifier:
    """Return a CNNClassifier seeded, placed and made verbose as the run asks."""
    return CNNClassifier(
        module,
        random_state=config.seed,
        device=config.device,
        verbose=config.verbose,
        **params,
    )


def transfer(config: RunConfig, backbone: str, weights, **params) -> CNNClassifier:
    """Return a CNNClassifier around a torchvision backbone (:class:`TransferNet`)."""
    return cnn(config, TransferNet, module__backbone=backbone, module__weights=weights, **params)


def transfer_unavailable(backbone: str, weights):
    """``unavailable`` callable of a torchvision backbone row."""

    def check(config: RunConfig) -> str | None:
        if not config.settings.get("backbones", True):
            return (
                f"the {config.profile} profile leaves the ImageNet-size backbones out "
                "(use --profile paper, GPU recommended)"
            )
        if config.profile == "paper" and config.device == "cpu":
            return (
                "no GPU: an ImageNet-size backbone takes hours per run on a CPU (run with "
                "--device cuda)"
            )
        from ..nn._transfer import _torchvision, imagenet_weights_path

        try:
            _torchvision()
        except Exception as exc:  # ImportError, or a torchvision built for another torch
            reason = str(exc).splitlines()[0]
            return f"torchvision not usable here ({reason})"
        if weights == "imagenet":
            path = imagenet_weights_path(backbone)[0]
            if not path.is_file():
                return (
                    f"ImageNet weights not available ({path.name} is not in torchvision's cache; "
                    f"`braintumor fetch-weights {backbone}` puts it there)"
                )
        return None

    return check


def transfer_rows(names: dict, build, *, weights_options=("imagenet",)) -> list[Model]:
    """One Model per (backbone, weights) with the availability check attached.

    ``names`` maps a torchvision backbone to its row name; ``build(config,
    backbone, weights)`` returns the estimator; ``weights_options`` holds
    ``None`` (random initialisation) and/or ``"imagenet"``.
    """
    rows = []
    for weights in weights_options:
        for backbone, name in names.items():
            suffix = {None: " (random init)", "imagenet": " (ImageNet)"}[weights]
            label = name if len(weights_options) == 1 else name + suffix
            rows.append(
                Model(
                    label,
                    lambda config, b=backbone, w=weights: build(config, b, w),
                    unavailable=transfer_unavailable(backbone, weights),
                )
            )
    return rows


def not_in_torchvision(name: str) -> Model:
    """Return a row the library cannot build because torchvision has no such network."""
    return Model(name, build=None, unavailable=lambda config: "no such network in torchvision")
