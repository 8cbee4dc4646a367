"""CNNClassifier(average_weights=...): the network ends as the mean of its last steps' weights."""

import copy

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.utils import load, save

NAMES = np.array(["glioma", "meningioma", "notumor", "pituitary"])


class RecordSteps(Callback):
    """Copies of the weights after every training step, with the epoch it belongs to."""

    def on_train_begin(self, net, **kwargs):
        self.steps = []

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            state = net.module_.state_dict()
            self.steps.append((len(net.history), {k: v.detach().clone() for k, v in state.items()}))


def fit(average_weights, max_epochs=4, **params):
    X, y = make_synthetic_mri(96, image_size=32, random_state=0)
    recorder = RecordSteps()
    clf = CNNClassifier(max_epochs=max_epochs, batch_size=16, train_split=None, random_state=0,
                        average_weights=average_weights, callbacks=[recorder], device="cpu",
                        n_threads=1, module__hidden=16, **params)  # fmt: skip
    return clf.fit(X, NAMES[y]), recorder.steps, X


@pytest.mark.parametrize(
    "share, max_epochs, first",
    [(0.5, 4, 3), (0.3, 10, 8), (0.01, 4, 4), (1.0, 3, 1)],  # whole epochs, at least the last
)
def test_weights_are_the_mean_of_the_last_epochs_steps(share, max_epochs, first):
    clf, steps, _ = fit(share, max_epochs)
    averaged = [state for epoch, state in steps if epoch >= first]
    assert len(averaged) == (max_epochs - first + 1) * len(steps) // max_epochs
    final = clf.module_.state_dict()
    for name, value in final.items():
        if "running" in name or not value.is_floating_point():
            continue
        mean = torch.stack([state[name] for state in averaged]).mean(0)
        torch.testing.assert_close(value, mean, atol=1e-6, rtol=1e-5, msg=name)
    if first < max_epochs:  # not simply the last step's weights
        assert any(not torch.equal(final[n], steps[-1][1][n]) for n in final if "weight" in n)


def test_batch_norm_statistics_are_estimated_from_the_training_images():
    clf, _, X = fit(0.5)
    reference = copy.deepcopy(clf.module_)
    norms = [m for m in reference.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    images = torch.as_tensor(X, dtype=torch.float32)[:, None] / 255
    loader = torch.utils.data.DataLoader(images, batch_size=clf.batch_size)
    torch.optim.swa_utils.update_bn(loader, reference)
    fitted = dict(clf.module_.named_modules())
    for name, m in reference.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.testing.assert_close(fitted[name].running_mean, m.running_mean, atol=1e-5,
                                       rtol=1e-4)  # fmt: skip
            torch.testing.assert_close(fitted[name].running_var, m.running_var, atol=1e-5,
                                       rtol=1e-4)  # fmt: skip
    assert not clf.module_.training


def test_without_averaging_the_last_step_is_kept():
    clf, steps, _ = fit(None)
    final = clf.module_.state_dict()
    for name, value in steps[-1][1].items():
        torch.testing.assert_close(final[name], value, msg=name)


def test_averaged_model_saves_predicts_and_continues(tmp_path):
    clf, _, X = fit(1.0)
    save(clf, tmp_path / "m.btm")
    again = load(tmp_path / "m.btm")
    assert again.average_weights == 1.0
    np.testing.assert_allclose(again.predict_proba(X[:8]), clf.predict_proba(X[:8]), atol=1e-6)
    _, y = make_synthetic_mri(96, image_size=32, random_state=0)
    clf.set_params(warm_start=True, max_epochs=2).fit(X, NAMES[y])  # averages the new epochs
    assert len(clf.history_) == 6


@pytest.mark.parametrize(
    "params, clash",
    [({"keep_best": True, "train_split": 0.25}, "keep_best"),
     ({"early_stopping": 2, "train_split": 0.25}, "early_stopping"),
     ({"accelerate": True}, "accelerate")],
)  # fmt: skip
def test_refuses_what_picks_another_epoch(params, clash):
    X, y = make_synthetic_mri(32, image_size=32, random_state=0)
    clf = CNNClassifier(max_epochs=1, average_weights=0.5, device="cpu", **params)
    with pytest.raises(InvalidParameterError, match=f"cannot be combined with {clash}"):
        clf.fit(X, NAMES[y])


@pytest.mark.parametrize("value", [0, 1.5, 1])
def test_share_must_lie_in_zero_one(value):
    X, y = make_synthetic_mri(32, image_size=32, random_state=0)
    with pytest.raises(InvalidParameterError, match="average_weights"):
        CNNClassifier(max_epochs=1, average_weights=value).fit(X, NAMES[y])
