"""
Where does the network look? Grad-CAM with the shipped model
============================================================

Load the pretrained 4-class model that ships with the package (no training),
classify test slices of the embedded sample, and draw Grad-CAM heatmaps over
the original images: the maps are computed on the network's last convolution
and mapped back through the resize and the brain crop.
"""

import numpy as np

from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.inspection import plot_grad_cam
from sklearn_braintumor.metrics import evaluation_report
from sklearn_braintumor.pretrained import load_pretrained

test = load_sample("test")
truth = np.asarray(test.target_names)[test.target]
model = load_pretrained("4class")

# %%
# The shipped model on the sample's 200 test slices (images from the official
# Testing split it never trained on; its card gives the figures on the whole
# split and on scans from another collection).
evaluation_report(model, list(test.images), truth)

# %%
# Two test slices per class, titled with the true class, the model's decision
# and the probability of the decided class.
picks = [i for label in range(4) for i in np.flatnonzero(test.target == label)[:2]]
figure = plot_grad_cam(model, test.images[picks], y_true=truth[picks], ncols=4)
