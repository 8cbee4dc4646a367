"""Looking inside fitted models and at their inputs.

Learning curves, Grad-CAM heatmaps, and whether an image is a brain MRI slice at all.
"""

from ._grad_cam import grad_cam, plot_grad_cam
from ._history import plot_history
from ._mri import not_mri, not_mri_reasons

__all__ = ["grad_cam", "not_mri", "not_mri_reasons", "plot_grad_cam", "plot_history"]
