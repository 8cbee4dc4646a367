"""
Searching CNN parameters with GridSearchCV
==========================================

``CNNClassifier`` passes ``module__*`` parameters to the network, so a grid
search can tune the dropout of GBMNet beside the learning rate. Folds are
grouped by near-duplicate images so that no copy of an image sits on both
sides of a split.
"""

import pandas as pd
from imblearn.pipeline import make_pipeline
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.inspection import plot_history
from sklearn_braintumor.model_selection import duplicate_groups
from sklearn_braintumor.nn import GBMNet
from sklearn_braintumor.preprocessing import BrainCrop, Resize

train, test = load_sample("train"), load_sample("test")
pipe = make_pipeline(
    BrainCrop(),
    Resize((48, 48)),
    CNNClassifier(GBMNet, max_epochs=6, train_split=None, random_state=0),
)
grid = {"cnnclassifier__module__dropout": [0.1, 0.5], "cnnclassifier__lr": [1e-3, 3e-3]}
search = GridSearchCV(pipe, grid, cv=StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0))
search.fit(train.images, train.target, groups=duplicate_groups(train.images))

# %%
results = pd.DataFrame(search.cv_results_)[
    ["param_cnnclassifier__module__dropout", "param_cnnclassifier__lr", "mean_test_score"]
]
print(f"best {search.best_params_}, test accuracy {search.score(test.images, test.target):.3f}")
results.sort_values("mean_test_score", ascending=False)

# %%
# The best model's learning curve (trained on every training image).
figure = plot_history(search.best_estimator_)
