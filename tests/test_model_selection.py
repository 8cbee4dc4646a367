import io

import numpy as np
import pytest
from PIL import Image
from sklearn.model_selection import StratifiedGroupKFold

from sklearn_braintumor.datasets import load_sample, make_synthetic_mri
from sklearn_braintumor.model_selection import audit_split, clean_test_mask, duplicate_groups
from sklearn_braintumor.model_selection._duplicates import near_pairs
from sklearn_braintumor.utils import hamming_distances


def _recompressed(image, quality=70):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("L"))


@pytest.fixture(scope="module")
def images():
    return load_sample("train").images[:40]


def test_groups_of_exact_and_near_copies(images):
    near = _recompressed(images[3])
    brighter = np.clip(images[5].astype(int) + 6, 0, 255).astype(np.uint8)
    stack = np.concatenate([images[:10], images[[2]], near[None], brighter[None]])
    exact = duplicate_groups(stack, method="exact")
    assert exact.tolist() == [*range(10), 2, 10, 11]
    groups = duplicate_groups(stack)  # phash, distance <= 4
    assert groups.tolist() == [*range(10), 2, 3, 5]
    assert duplicate_groups(list(stack)).tolist() == groups.tolist()


def test_grouped_cv_never_splits_copies(images):
    stack = np.concatenate([images, images[:10]])
    y = np.arange(len(stack)) % 2
    groups = duplicate_groups(stack)
    for train, test in StratifiedGroupKFold(n_splits=3).split(stack, y, groups):
        assert not set(groups[train]) & set(groups[test])
        assert not {stack[i].tobytes() for i in train} & {stack[i].tobytes() for i in test}


def test_block_wise_pairs_equal_brute_force():
    rng = np.random.RandomState(0)
    base = rng.randint(0, 2**63, size=700, dtype=np.uint64)
    flips = np.uint64(1) << rng.randint(0, 64, size=700).astype(np.uint64)
    hashes = np.concatenate([base, base ^ flips, base[:300]])  # 1700 > one block
    i, j, d = near_pairs(hashes, None, 3)
    full = hamming_distances(hashes)
    expected = {(a, b) for a, b in zip(*np.nonzero(full <= 3), strict=True) if a < b}
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected
    np.testing.assert_array_equal(d, full[i, j])


def test_audit_split_counts(images):
    train, y_train = images[:30], np.arange(30) % 3
    test = np.concatenate([images[30:], images[[0, 1]], _recompressed(images[2])[None]])
    y_test = np.array([0] * 10 + [0, 2, 2])  # images[1] has label 1 in training
    audit = audit_split(
        train,
        test,
        y_train=y_train,
        y_test=y_test,
        target_names=["glioma", "meningioma", "pituitary"],
    )
    assert (audit.n_train, audit.n_test, audit.n_exact, audit.n_near) == (30, 13, 2, 3)
    np.testing.assert_array_equal(np.flatnonzero(audit.near_mask), [10, 11, 12])
    assert audit.per_class == {
        "glioma": (11, 1, 1),
        "meningioma": (0, 0, 0),
        "pituitary": (2, 1, 2),
    }
    assert audit.n_label_conflicts == 1
    assert {tuple(p[:2]) for p in audit.pairs} == {(10, 0), (11, 1), (12, 2)}
    table = audit.to_markdown()
    assert "| all | 13 | 2 | 3 | 10 |" in table and str(audit) == table
    np.testing.assert_array_equal(clean_test_mask(train, test), ~audit.near_mask)


def test_bad_arguments():
    X, _ = make_synthetic_mri(3, image_size=32, random_state=0)
    with pytest.raises(ValueError, match="method"):
        duplicate_groups(X, method="md5")
    with pytest.raises(ValueError, match="max_distance"):
        duplicate_groups(X, max_distance=65)
    with pytest.raises(ValueError, match="no images"):
        audit_split([], X)


def test_leakage_free_split_keeps_copies_together():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.exceptions import InvalidParameterError
    from sklearn_braintumor.model_selection import LeakageFreeSplit, audit_split
    from sklearn_braintumor.preprocessing import ImageFlattener, Resize

    sample = load_sample("train")
    copies = np.arange(0, 600, 6)  # a hundred images twice
    X = np.concatenate([sample.images, sample.images[copies]])
    y = np.concatenate([sample.target, sample.target[copies]])
    splitter = LeakageFreeSplit(n_splits=3, test_size=0.2, random_state=0)
    splits = list(splitter.split(X, y))
    assert len(splits) == splitter.get_n_splits() == 3
    for train, test in splits:
        assert not set(train) & set(test)
        assert int(audit_split(X[train], X[test]).near_mask.sum()) == 0
        assert 0.15 < len(test) / len(X) < 0.25
        np.testing.assert_allclose(np.bincount(y[test]) / len(test), 0.25, atol=0.05)
    # a plain random split of the same images leaks
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(len(X)), test_size=0.2, random_state=0)
    assert int(audit_split(X[train], X[test]).near_mask.sum()) > 0
    pipe = make_pipeline(Resize((16, 16)), ImageFlattener(), LogisticRegression(max_iter=300))
    scores = cross_val_score(pipe, X, y, cv=LeakageFreeSplit(n_splits=2, random_state=0))
    assert scores.shape == (2,)
    with pytest.raises(InvalidParameterError, match="'n_splits' parameter"):
        list(LeakageFreeSplit(n_splits=9, test_size=0.2).split(X, y))
    with pytest.raises(InvalidParameterError, match="'test_size' parameter"):
        list(LeakageFreeSplit(test_size=0.8).split(X, y))


def test_leakage_free_split_has_parameters_so_a_classifier_holding_it_clones_and_saves(tmp_path):
    from sklearn.base import clone

    from sklearn_braintumor.classifiers import CNNClassifier
    from sklearn_braintumor.datasets import make_synthetic_mri
    from sklearn_braintumor.model_selection import LeakageFreeSplit
    from sklearn_braintumor.utils import load, save

    split = LeakageFreeSplit(test_size=0.25, random_state=3)
    assert split.get_params() == {"n_splits": 1, "test_size": 0.25, "max_distance": 4,
                                  "random_state": 3}  # fmt: skip
    assert split.set_params(max_distance=2) is split and split.max_distance == 2
    with pytest.raises(ValueError, match="Invalid parameter 'seed'"):
        split.set_params(seed=1)
    X, y = make_synthetic_mri(40, image_size=16, random_state=0)
    clf = CNNClassifier(max_epochs=1, module__hidden=4, train_split=split, random_state=0)
    copy = clone(clf)
    assert copy.train_split is not split and copy.train_split.get_params() == split.get_params()
    clf.set_params(train_split__random_state=5).fit(X, y)
    assert split.random_state == 5
    loaded = load(save(clf, tmp_path / "model.btm"))  # the safe format
    assert repr(loaded.train_split) == repr(split)
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
