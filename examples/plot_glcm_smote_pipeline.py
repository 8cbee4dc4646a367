"""
Brain crop, GLCM texture features and SMOTE in one grid search
==============================================================

Crop each slice to the head, resize it, describe it by gray-level
co-occurrence (GLCM) texture features, oversample the minority classes with
SMOTE inside the cross-validation folds, and tune a logistic regression, with
folds grouped so that near-duplicate images never straddle a split.

This is a shortcut control: a texture-only classical model sets the floor a
CNN has to clear. A network that does no better may be using texture and
intensity shortcuts rather than anatomy.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.preprocessing import StandardScaler

from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.features import GLCMFeatures
from sklearn_braintumor.model_selection import audit_split, duplicate_groups
from sklearn_braintumor.preprocessing import BrainCrop, Resize

train, test = load_sample("train"), load_sample("test")

# %%
# The sample was built without duplicates across its split; the audit confirms it.
print(audit_split(train.images, test.images, y_test=test.target, target_names=test.target_names))

# %%
# Make the training set imbalanced (few gliomas), as in paper B, so SMOTE has work to do.
rng = np.random.RandomState(0)
glioma = np.flatnonzero(train.target == 0)
keep = np.setdiff1d(np.arange(len(train.target)), rng.choice(glioma, 100, replace=False))
X, y = train.images[keep], train.target[keep]
print("training counts:", dict(zip(train.target_names, np.bincount(y).tolist(), strict=True)))

pipe = make_pipeline(
    BrainCrop(),
    Resize((128, 128)),
    GLCMFeatures(distances=(1, 3), n_jobs=2),
    StandardScaler(),
    SMOTE(random_state=0),
    LogisticRegression(max_iter=2000),
)
search = GridSearchCV(
    pipe,
    {"glcmfeatures__levels": [16, 32], "logisticregression__C": [0.1, 1.0]},
    cv=StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0),
    scoring="balanced_accuracy",
)
start = time.perf_counter()
search.fit(X, y, groups=duplicate_groups(X))
print(
    f"best {search.best_params_}, CV balanced accuracy {search.best_score_:.3f} "
    f"({time.perf_counter() - start:.0f} s)"
)
print(
    classification_report(
        test.target, search.predict(test.images), target_names=test.target_names, digits=3
    )
)

# %%
# What the crop keeps: one slice per class, before and after.
crop = BrainCrop()
fig, axes = plt.subplots(2, 4, figsize=(9, 5))
for column, label in enumerate(range(4)):
    image = test.images[np.flatnonzero(test.target == label)[0]]
    axes[0, column].imshow(image, cmap="gray")
    axes[0, column].set_title(test.target_names[label])
    axes[1, column].imshow(crop.fit_transform(image[np.newaxis])[0], cmap="gray")
for ax in axes.ravel():
    ax.set_axis_off()
fig.tight_layout()
plt.show()
