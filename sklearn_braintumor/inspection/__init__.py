"""Looking inside fitted models: learning curves."""

from ._history import plot_history

__all__ = ["plot_history"]
