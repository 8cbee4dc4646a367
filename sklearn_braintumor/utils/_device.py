"""The compute device: "auto" resolved, a missing GPU refused or fallen back from, described."""

from __future__ import annotations


def resolve_device(device, *, fallback: bool = False, option: str = "device=") -> str:
    """Return the torch device a ``device`` setting means here.

    ``"auto"`` is CUDA when torch finds a GPU, else the CPU. A CUDA device
    asked for on a machine without one is an error naming ``option`` (how the
    user spelled the setting), or the CPU with ``fallback`` (a saved model
    trained on a GPU still predicts on a laptop). Anything else is returned
    as given.
    """
    import torch

    device = str(device)
    available = torch.cuda.is_available()
    if device == "auto":
        return "cuda" if available else "cpu"
    if device.startswith("cuda") and not available:
        if fallback:
            return "cpu"
        raise ValueError(
            f"{option}{device!r}, but torch {torch.__version__} finds no CUDA device here; "
            f"use {option}'auto' (CUDA when present) or 'cpu'"
        )
    return device


def describe_device(device: str | None = None) -> str:
    """Describe a resolved device in words (for reports); None: what ``"auto"`` gives here."""
    import torch

    if device is None:
        if torch.cuda.is_available():
            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            return f"cuda ({', '.join(names)}); device='auto' uses cuda"
        return f"cpu ({_threads(torch)}); no CUDA device found"
    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"cpu ({_threads(torch)})"


def _threads(torch) -> str:
    n = torch.get_num_threads()
    return f"{n} torch thread{'' if n == 1 else 's'}"


def cuda_devices() -> list[int]:
    """Return the indices of the CUDA devices torch sees (empty without one)."""
    import torch

    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
