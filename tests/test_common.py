"""The scikit-learn and imbalanced-learn estimator contracts, for every estimator.

Estimators that accept 2D tables run scikit-learn's ``parametrize_with_checks``
(and samplers imbalanced-learn's as well). Estimators that only make sense on
images declare ``input_tags.two_d_array = False`` like scikit-learn's own
``PatchExtractor`` (``TTAClassifier`` too: its transforms flip images);
scikit-learn then skips its checks, so ``test_image_estimator_contract``
checks the same API rules on image stacks.
Every check that cannot apply is listed once, with the reason, in
``EXPECTED_FAILED_CHECKS``.
"""

import pickle

import numpy as np
import pytest
from imblearn.utils.estimator_checks import parametrize_with_checks as imblearn_checks
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from sklearn_braintumor.classifiers import TTAClassifier, TumorFirstClassifier, TwoStageClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.features import GLCMFeatures, HOGFeatures
from sklearn_braintumor.preprocessing import (
    BrainCrop,
    Grayscale,
    ImageFlattener,
    ImageReader,
    IntensityScaler,
    Resize,
    RimRemover,
    ToRGB,
)
from sklearn_braintumor.sampling import (
    DuplicateRemover,
    GaussianNoise,
    ImageAugmenter,
    StyleBalancer,
    SyntheticLesions,
)

ESTIMATORS = [
    BrainCrop(),
    Resize((8, 8)),
    Grayscale(),
    ToRGB(),
    IntensityScaler(),
    IntensityScaler(method="zscore"),
    IntensityScaler(method="percentile"),
    RimRemover(width=1),
    ImageFlattener(),
    GLCMFeatures(),
    HOGFeatures(pixels_per_cell=(4, 4), downscale=1),
    GaussianNoise(random_state=0),
    GaussianNoise(n_copies=2, random_state=0),
    DuplicateRemover(),
    ImageAugmenter(rotation=10, random_state=0),
    SyntheticLesions(source=0, target=1, random_state=0),
    StyleBalancer(random_state=0),
    TTAClassifier(make_pipeline(ImageFlattener(), LogisticRegression(max_iter=500))),
    TumorFirstClassifier(LogisticRegression(max_iter=500), negative_class=0),
    TwoStageClassifier(
        LogisticRegression(max_iter=500),
        LogisticRegression(max_iter=500),
        negative_class=0,
        positive_label=-1,
    ),
]
SAMPLERS = [e for e in ESTIMATORS if hasattr(e, "fit_resample")]
TABLES = [e for e in ESTIMATORS if get_tags(e).input_tags.two_d_array]
IMAGE_ONLY = [e for e in ESTIMATORS if not get_tags(e).input_tags.two_d_array]

_ONE_LABEL = (
    "adding noise or augmented copies and removing duplicates do not balance classes, so "
    "one class is accepted on purpose (test_sampling.py::test_one_class_is_fine)"
)
_IMAGES_ONLY = (
    "imbalanced-learn's sampler checks feed 2D tables; ImageAugmenter warps images "
    "(input_tags.two_d_array=False) and the same behaviour is tested on image stacks in "
    "test_sampling.py and test_image_estimator_contract"
)
_IMAGE_SAMPLER_CHECKS = (
    "check_samplers_fit",
    "check_samplers_fit_resample",
    "check_samplers_list",
    "check_samplers_multiclass_ova",
    "check_samplers_preserve_dtype",
    "check_samplers_sample_indices",
    "check_samplers_2d_target",
)
EXPECTED_FAILED_CHECKS = {
    "GaussianNoise": {"check_samplers_one_label": _ONE_LABEL},
    "DuplicateRemover": {"check_samplers_one_label": _ONE_LABEL},
    "ImageAugmenter": {
        "check_samplers_one_label": _ONE_LABEL,
        **dict.fromkeys(_IMAGE_SAMPLER_CHECKS, _IMAGES_ONLY),
    },
    "SyntheticLesions": {
        "check_samplers_one_label": "it adds lesion copies to a class, it does not balance "
        "classes: one class is accepted (test_sampling.py)",
        **dict.fromkeys(
            _IMAGE_SAMPLER_CHECKS,
            "imbalanced-learn's sampler checks feed 2D "
            "tables; SyntheticLesions draws into images (input_tags.two_d_array="
            "False), tested on image stacks in test_sampling.py and "
            "test_image_estimator_contract",
        ),
    },
    "StyleBalancer": dict.fromkeys(
        ("check_samplers_one_label", *_IMAGE_SAMPLER_CHECKS),
        "imbalanced-learn's sampler checks feed 2D tables; StyleBalancer reads each image's "
        "thumbnail (input_tags.two_d_array=False); tested on image stacks, one class refused "
        "with a message, in test_sampling.py and test_image_estimator_contract",
    ),
}

_NO_NEGATIVE = (
    "the check's labels do not include the 'no tumour' class (negative_class=0), which "
    "TumorFirstClassifier refuses with a message (test_cross_source.py)"
)
EXPECTED_FAILED_CHECKS["TumorFirstClassifier"] = {
    "check_classifiers_train": "predict is on purpose not the argmax of predict_proba: the "
    "negative class needs a probability >= threshold (test_cross_source.py)",
    "check_classifiers_train(readonly_memmap=True)": "as check_classifiers_train",
    "check_classifiers_train(readonly_memmap=True,X_dtype=float32)": "as check_classifiers_train",
    **{name: _NO_NEGATIVE for name in ("check_estimators_dtypes", "check_fit2d_1feature",
                                       "check_classifier_data_not_an_array",
                                       "check_classifiers_classes")},
}  # fmt: skip
EXPECTED_FAILED_CHECKS["TwoStageClassifier"] = {
    "check_classifiers_train": "predict is on purpose not the argmax of predict_proba: the "
    "screen's decision rule decides the negative class (test_two_stage.py)",
    "check_classifiers_train(readonly_memmap=True)": "as check_classifiers_train",
    "check_classifiers_train(readonly_memmap=True,X_dtype=float32)": "as check_classifiers_train",
    **{name: _NO_NEGATIVE.replace("TumorFirstClassifier", "TwoStageClassifier").replace(
        "test_cross_source.py", "test_two_stage.py")
       for name in ("check_estimators_dtypes", "check_fit2d_1feature",
                    "check_classifier_data_not_an_array", "check_classifiers_classes")},
}  # fmt: skip


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@sklearn_checks(TABLES, expected_failed_checks=expected_failed_checks)
def test_sklearn_contract(estimator, check):
    check(estimator)


@imblearn_checks(SAMPLERS, expected_failed_checks=expected_failed_checks)
def test_imblearn_contract(estimator, check):
    check(estimator)


def test_table_names_real_estimators():
    names = {type(e).__name__ for e in ESTIMATORS}
    assert set(EXPECTED_FAILED_CHECKS) <= names


# tested with scikit-learn's checks in their own files, on networks small enough for them
CHECKED_ELSEWHERE = {
    "CNNClassifier": "test_classifiers.py::test_sklearn_contract",
    "ImageSampler": "a base class to subclass; its subclasses are in ESTIMATORS",
}


def public_estimator_classes():
    """Every estimator class a subpackage exports in ``__all__``."""
    import importlib
    import pkgutil

    from sklearn.base import BaseEstimator

    import sklearn_braintumor

    found = {}
    for info in pkgutil.iter_modules(sklearn_braintumor.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"sklearn_braintumor.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseEstimator):
                found[name] = obj
    return found


def test_every_public_estimator_runs_the_contract_checks():
    covered = {type(e).__name__ for e in [*ESTIMATORS, *PATH_ESTIMATORS]} | set(CHECKED_ELSEWHERE)
    classes = public_estimator_classes()
    assert {"CNNClassifier", "BrainCrop", "GaussianNoise", "GLCMFeatures"} <= set(classes)
    missing = sorted(set(classes) - covered)
    assert not missing, f"add an instance of {missing} to ESTIMATORS in tests/test_common.py"


def _apply(estimator, X, y):
    if hasattr(estimator, "fit_resample"):
        return estimator.fit_resample(X, y)[0]
    if hasattr(estimator, "predict_proba"):
        return estimator.fit(X, y).predict_proba(X)
    return estimator.fit(X, y).transform(X)


def _assert_same(a, b):
    if a.dtype == object:
        assert len(a) == len(b)
        for left, right in zip(a, b, strict=True):
            np.testing.assert_array_equal(left, right)
    else:
        np.testing.assert_array_equal(a, b)


def _plain(value):
    """A comparable form: estimators by their parameters, inside lists and tuples too."""
    if hasattr(value, "get_params"):
        return (type(value).__name__, _params(value))
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _params(estimator):
    """Parameters, with estimator-valued ones compared by their own parameters."""
    return {key: _plain(value) for key, value in estimator.get_params(deep=False).items()}


@pytest.mark.parametrize("estimator", IMAGE_ONLY, ids=lambda e: repr(e))
def test_image_estimator_contract(estimator):
    """scikit-learn's API checks, adapted to image stacks."""
    X, y = make_synthetic_mri(12, image_size=32, random_state=0)
    params = _params(estimator)
    assert not any(k.endswith("_") for k in vars(estimator))  # nothing set in __init__
    fresh = clone(estimator)
    assert _params(fresh) == params
    assert repr(fresh).startswith(type(estimator).__name__)
    assert fresh.set_params(**estimator.get_params(deep=False)) is fresh

    fitted = clone(estimator)
    first = _apply(fitted, X, y)
    assert _params(fitted) == params  # fit does not change parameters
    for value in estimator.get_params(deep=False).values():
        assert not hasattr(value, "classes_")  # nested estimators are cloned, not fitted
    if not hasattr(estimator, "fit_resample"):
        assert fitted.fit(X, y) is fitted
        if hasattr(estimator, "transform"):
            _assert_same(first, clone(estimator).fit_transform(X, y))
        # per-image operations: a subset gives the subset of the output
        output = fitted.transform if hasattr(estimator, "transform") else fitted.predict_proba
        _assert_same(output(X[3:7]), first[3:7])
    _assert_same(first, _apply(clone(estimator), X, y))  # deterministic
    restored = pickle.loads(pickle.dumps(fitted))
    _assert_same(_apply(restored, X, y), first)

    with pytest.raises(ValueError, match=r"image\[np\.newaxis\]"):
        clone(estimator).fit(X[0], y[:1])
    with pytest.raises(ValueError, match="no images"):
        _apply(clone(estimator), [], [])
    bad = X.astype(np.float32)
    bad[5, 3, 3] = np.nan
    with pytest.raises(ValueError, match="sample 5 contains NaN"):
        _apply(clone(estimator), bad, y)


# Estimators whose input is file paths. scikit-learn's common checks feed numeric arrays, so for
# an estimator tagged input_tags.string it yields only the checks that need no data (and warns
# "Can't test estimator ..."); test_path_estimator_contract checks the rest on real files.
PATH_ESTIMATORS = [ImageReader(), ImageReader(color_mode="rgb", n_jobs=1)]


@sklearn_checks(PATH_ESTIMATORS)
def test_path_estimator_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    from PIL import Image

    X, _ = make_synthetic_mri(12, image_size=32, random_state=0)
    folder = tmp_path_factory.mktemp("files")
    for i, image in enumerate(X):
        Image.fromarray(image).save(folder / f"{i}.png")
    return np.array([str(folder / f"{i}.png") for i in range(len(X))], dtype=object)


@pytest.mark.parametrize("estimator", PATH_ESTIMATORS, ids=lambda e: repr(e))
def test_path_estimator_contract(estimator, image_files):
    """The image-estimator contract above, on file paths."""
    params = _params(estimator)
    assert not any(k.endswith("_") for k in vars(estimator))
    fresh = clone(estimator)
    assert _params(fresh) == params and repr(fresh).startswith(type(estimator).__name__)
    assert fresh.set_params(**estimator.get_params(deep=False)) is fresh
    assert not get_tags(estimator).requires_fit and get_tags(estimator).input_tags.string
    first = clone(estimator).transform(image_files)  # stateless: no fit needed
    fitted = clone(estimator)
    assert fitted.fit(image_files) is fitted and _params(fitted) == params
    _assert_same(fitted.transform(image_files), first)
    _assert_same(clone(estimator).fit_transform(image_files), first)
    _assert_same(fitted.transform(image_files[3:7]), first[3:7])  # per file
    _assert_same(fitted.transform(list(image_files)), first)  # lists too
    restored = pickle.loads(pickle.dumps(fitted))
    _assert_same(restored.transform(image_files), first)
    with pytest.raises(ValueError, match="no file paths"):
        clone(estimator).fit_transform([])
    with pytest.raises(TypeError, match="sample 1 is ndarray"):
        clone(estimator).fit([image_files[0], np.zeros((4, 4))])
