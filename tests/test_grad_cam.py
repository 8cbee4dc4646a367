import matplotlib
import numpy as np
import pytest
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.inspection import grad_cam, plot_grad_cam
from sklearn_braintumor.preprocessing import BrainCrop, IntensityScaler, Resize

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def lesions():
    X, y = make_synthetic_mri(400, image_size=64, random_state=0)
    X_test, y_test, masks = make_synthetic_mri(60, image_size=64, random_state=1,
                                               return_masks=True)  # fmt: skip
    # three blocks: an 8x8 activation map at 64 px, fine enough to locate a lesion; trained with
    # one torch thread, so that the model tested is the same whatever thread count the user runs
    # (with two, the sums run in another order and a different, equally valid model comes out)
    clf = CNNClassifier(max_epochs=12, lr=3e-3, random_state=0, module__channels=(8, 16, 32),
                        module__hidden=32)  # fmt: skip
    with threadpool_limits(1):
        clf.fit(X, y)
    return clf, X_test, y_test, masks


def test_heatmap_peaks_inside_the_lesion(lesions):
    clf, X, y, masks = lesions
    assert (clf.predict(X) == y).mean() > 0.9
    heatmaps = grad_cam(clf, X)
    assert heatmaps.shape == X.shape and heatmaps.dtype == np.float32
    maxima = heatmaps.reshape(60, -1).max(axis=1)
    assert heatmaps.min() >= 0 and np.isin(maxima, [0, 1]).all()  # 0: no positive evidence
    peaks = [np.unravel_index(h.argmax(), h.shape) for h in heatmaps]
    inside = [mask[r, c] for (r, c), mask, label in zip(peaks, masks, y, strict=True) if label]
    assert np.mean(inside) >= 0.8


def test_heatmaps_map_back_through_crop_and_resize(lesions):
    X = lesions[1]
    pipe = make_pipeline(
        BrainCrop(),
        Resize((64, 64)),
        IntensityScaler(),
        CNNClassifier(
            max_epochs=12, lr=3e-3, random_state=0, module__channels=(8, 16, 32), module__hidden=32
        ),
    )
    X_train, y_train = make_synthetic_mri(400, image_size=64, random_state=0)
    pipe.fit(X_train, y_train)
    padded = [np.pad(image, ((8, 0), (0, 12))) for image in X[:6]]  # other sizes than training
    heatmaps = grad_cam(pipe, padded)
    boxes, _ = BrainCrop().crop_boxes(padded)
    for image, heatmap, (top, bottom, left, right) in zip(padded, heatmaps, boxes, strict=True):
        assert heatmap.shape == image.shape
        outside = np.ones(image.shape, bool)
        outside[top:bottom, left:right] = False
        assert not heatmap[outside].any() and heatmap.max() == pytest.approx(1)
    explained = grad_cam(pipe, padded, target=0)  # one class for every image
    assert explained.shape == heatmaps.shape


def test_gallery_and_errors(lesions):
    clf, X, y, _ = lesions
    figure = plot_grad_cam(clf, X[:6], ncols=3)
    assert len(figure.axes) == 6 and all(len(ax.images) == 2 for ax in figure.axes)
    with pytest.raises(ValueError, match="not in classes_"):
        grad_cam(clf, X[:2], target="tumour")
    with pytest.raises(ValueError, match="fitted CNNClassifier"):
        grad_cam(LogisticRegression().fit(X.reshape(60, -1), y), X)
