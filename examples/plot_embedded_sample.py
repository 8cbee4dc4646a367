"""
The embedded brain MRI sample
=============================

Load the real sample shipped with sklearn-braintumor, check that its training
and test parts share no duplicate, and show a few slices of each class.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.utils import hamming_distances, phash

data = load_sample("all")
print(data.DESCR.split("\n\n")[1])
for subset in ("train", "test"):
    counts = np.bincount(data.target[data.subset == subset])
    print(subset, dict(zip(data.target_names, counts.tolist(), strict=True)))

# %%
# Perceptual hashes find near duplicates: the closest train/test pair of the
# sample still differs in many bits (<= 4 would be a near duplicate).
hashes = phash(data.images)
train = data.subset == "train"
print("closest train/test pair:", hamming_distances(hashes[train], hashes[~train]).min())

# %%
# Four training slices per class.
fig, axes = plt.subplots(4, 4, figsize=(8, 8))
for row, name in enumerate(data.target_names):
    indices = np.flatnonzero((data.target == row) & train)[:4]
    for ax, index in zip(axes[row], indices, strict=True):
        ax.imshow(data.images[index], cmap="gray")
        ax.set_axis_off()
    axes[row, 0].set_title(name, loc="left")
fig.tight_layout()
plt.show()
