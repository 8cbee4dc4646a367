"""
A CNN after SMOTE, in one imbalanced-learn pipeline
===================================================

Crop and resize the slices, flatten them so SMOTE can oversample the rare
class inside the pipeline, and train GBMNet on the result; SMOTE only ever
sees training data. The report gives every metric the papers use.
"""

import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.metrics import evaluation_report
from sklearn_braintumor.nn import GBMNet
from sklearn_braintumor.preprocessing import BrainCrop, ImageFlattener, Resize

train, test = load_sample("train"), load_sample("test")

# %%
# Keep a third of the gliomas to make the training set imbalanced.
rng = np.random.RandomState(0)
drop = rng.choice(np.flatnonzero(train.target == 0), 100, replace=False)
keep = np.setdiff1d(np.arange(len(train.target)), drop)
X, y = train.images[keep], train.target[keep]
print("training counts:", np.bincount(y))

pipe = make_pipeline(
    BrainCrop(),
    Resize((64, 64)),
    ImageFlattener(),
    SMOTE(random_state=0),
    CNNClassifier(GBMNet, input_shape=(64, 64), max_epochs=12, lr=2e-3, random_state=0),
)
pipe.fit(X, y)

# %%
report = evaluation_report(pipe, test.images, test.target, target_names=test.target_names)
print(report.to_markdown())
report.plot()
