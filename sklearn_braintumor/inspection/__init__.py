"""Looking inside fitted models: learning curves and Grad-CAM heatmaps."""

from ._grad_cam import grad_cam, plot_grad_cam
from ._history import plot_history

__all__ = ["grad_cam", "plot_grad_cam", "plot_history"]
