"""average_networks / EnsembleNet: networks trained apart, answering as one."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sklearn_braintumor.classifiers import (
    CNNClassifier,
    TTAClassifier,
    TumorFirstClassifier,
    average_networks,
)
from sklearn_braintumor.classifiers._tumor_first import threshold_keeping
from sklearn_braintumor.model_selection import LeakageFreeSplit
from sklearn_braintumor.nn import EnsembleNet, GBMNet, SimpleCNN
from sklearn_braintumor.preprocessing import IntensityScaler
from sklearn_braintumor.utils import load, save


def images(n=60, seed=0):
    """Bright-square phantoms: 'tumor' images hold a brighter square than 'notumor' ones."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 60, size=(n, 16, 16))
    y = np.where(np.arange(n) % 2 == 0, "notumor", "tumor")
    X[y == "tumor", 5:10, 5:10] += 150
    return X.astype(np.float32), y


def cnn(seed, **params):
    settings = {"module__channels": (4, 8), "module__hidden": 16, **params}
    return CNNClassifier(max_epochs=2, batch_size=16, random_state=seed, module=GBMNet,
                         ood_rate=0.1, **settings)  # fmt: skip


def screened(seed):
    pipeline = make_pipeline(IntensityScaler(), cnn(seed, train_split=LeakageFreeSplit(
        test_size=0.25, random_state=seed)))  # fmt: skip
    tta = TTAClassifier(pipeline, transforms=("identity", "hflip"))
    return TumorFirstClassifier(tta, negative_class="notumor", threshold="auto",
                                negative_recall=0.9)  # fmt: skip


def test_the_module_returns_log_mean_probabilities_and_filters_member_arguments():
    torch.manual_seed(0)
    net = EnsembleNet(SimpleCNN, n_members=3, n_classes=2, in_channels=1,
                      input_size=(32, 32)).eval()  # fmt: skip
    x = torch.rand(5, 1, 32, 32)
    mean = torch.stack([m(x).softmax(1) for m in net.members]).mean(0)
    torch.testing.assert_close(net(x).exp(), mean)
    assert net.gradcam_layer.startswith("members.2.")
    assert dict(net.named_modules())[net.gradcam_layer] is not None

    class NoSize(torch.nn.Module):  # takes neither input_size nor in_channels
        def __init__(self, n_classes=2):
            super().__init__()
            self.linear = torch.nn.Linear(4, n_classes)

        def forward(self, x):
            return self.linear(x)

    small = EnsembleNet(NoSize, n_members=2, n_classes=3, in_channels=1, input_size=(2, 2))
    assert small(torch.zeros(1, 4)).shape == (1, 3)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module class"):
        EnsembleNet(NoSize(), n_members=2)
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="n_members must be a positive integer"):
            EnsembleNet(NoSize, n_members=bad)


def test_averaged_networks_predict_the_mean_and_survive_the_safe_format(tmp_path):
    X, y = images()
    members = [cnn(seed, train_split=None).fit(X, y) for seed in (0, 1, 2)]
    ensemble = average_networks(members)
    assert isinstance(ensemble.module_, EnsembleNet) and len(ensemble.module_.members) == 3
    mean = np.mean([m.predict_proba(X) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(X), mean, atol=1e-5)
    assert ensemble.predict(X).tolist() == members[0].classes_[mean.argmax(1)].tolist()
    # the guard reads the last convolution: the last member's, with its fitted statistics
    np.testing.assert_allclose(ensemble.shift_score(X), members[-1].shift_score(X), rtol=1e-6)
    save(ensemble, tmp_path / "ensemble.btm")
    loaded = load(tmp_path / "ensemble.btm")
    np.testing.assert_allclose(loaded.predict_proba(X), mean, atol=1e-5)
    assert loaded.get_params()["module__n_members"] == 3
    assert loaded.get_params()["module__module"] is GBMNet
    # the members are untouched
    np.testing.assert_allclose(members[0].predict_proba(X), mean * 0 + members[0].predict_proba(X))
    assert not isinstance(members[0].module_, EnsembleNet)


def test_a_wrapped_recipe_keeps_its_steps_and_takes_its_threshold_from_unseen_negatives():
    X, y = images(80)
    members = [screened(seed).fit(X, y) for seed in (0, 1)]
    ensemble = average_networks(members)
    assert type(ensemble) is TumorFirstClassifier
    assert ensemble.threshold_ == members[0].threshold_  # no negatives given: kept
    mean = np.mean([m.predict_proba(X) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(X), mean, atol=1e-5)
    network = ensemble.estimator_.estimator_.steps[-1][1]
    splits = [m.estimator_.estimator_.steps[-1][1].valid_indices_ for m in members]
    assert network.valid_indices_.tolist() == np.intersect1d(*splits).tolist()
    assert set(splits[0].tolist()) != set(splits[1].tolist())

    negatives = images(40, seed=5)[0][images(40, seed=5)[1] == "notumor"]
    chosen = average_networks(members, negatives=negatives)
    assert chosen.threshold_ == threshold_keeping(chosen, negatives)
    column = list(chosen.classes_).index("notumor")
    kept = chosen.predict_proba(negatives)[:, column]
    kept = kept[kept >= 0.5]
    assert np.mean(kept >= chosen.threshold_) >= 0.9 or chosen.threshold_ == 0.5
    # the first model is not changed by building the ensemble
    assert not isinstance(members[0].estimator_.estimator_.steps[-1][1].module_, EnsembleNet)


def test_models_built_differently_are_refused():
    X, y = images()
    fitted = cnn(0, train_split=None).fit(X, y)
    with pytest.raises(ValueError, match="at least one"):
        average_networks([])
    with pytest.raises(NotFittedError):
        average_networks([fitted, cnn(1)])
    wider = cnn(1, train_split=None, module__hidden=32).fit(X, y)
    with pytest.raises(ValueError, match=r"model 1's network differs .*module__hidden"):
        average_networks([fitted, wider])
    other = cnn(1, train_split=None).fit(X, np.where(y == "tumor", "glioma", y))
    with pytest.raises(ValueError, match="model 1 has other classes"):
        average_networks([fitted, other])
    with pytest.raises(ValueError, match="model 1 is not built as model 0"):
        average_networks([fitted, make_pipeline(IntensityScaler(), cnn(1, train_split=None))
                          .fit(X, y)])  # fmt: skip
    with pytest.raises(ValueError, match="already an ensemble"):
        average_networks([average_networks([fitted])])
    with pytest.raises(ValueError, match="does not end in a fitted CNNClassifier"):
        average_networks([IntensityScaler().fit(X)])
