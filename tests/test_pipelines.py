"""The pipelines of the issue: crop, resize, flatten or GLCM, SMOTE, classifier."""

import pickle

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.features import GLCMFeatures
from sklearn_braintumor.preprocessing import BrainCrop, ImageFlattener, Resize


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_synthetic_mri(150, n_classes=3, image_size=64, random_state=0)
    keep = np.flatnonzero((y != 2) | (np.arange(len(y)) % 3 == 0))  # class 2 is rare
    return X[keep], y[keep]


@pytest.mark.parametrize(
    ("features", "grid"),
    [
        (ImageFlattener(), {"logisticregression__C": [0.01, 1.0]}),
        (GLCMFeatures(), {"glcmfeatures__levels": [16, 32]}),
    ],
    ids=["flattener", "glcm"],
)
def test_grid_search_with_smote(imbalanced, features, grid):
    X, y = imbalanced
    assert np.bincount(y)[2] < np.bincount(y)[0] / 2
    pipe = make_pipeline(
        BrainCrop(), Resize((64, 64)), features, StandardScaler(),
        SMOTE(random_state=0), LogisticRegression(max_iter=500),
    )  # fmt: skip
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0), n_jobs=2)
    search.fit(X, y)
    assert search.best_score_ > 0.6  # chance is 1/3
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(restored.predict(X), search.predict(X))
    np.testing.assert_allclose(restored.predict_proba(X), search.predict_proba(X))
