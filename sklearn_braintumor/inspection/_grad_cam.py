"""Grad-CAM heatmaps of a fitted CNNClassifier, mapped back onto the input images."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..preprocessing import BrainCrop, Resize


def _split(estimator):
    """Return ``(transformer steps, CNNClassifier)`` of a fitted classifier or pipeline.

    Searches and wrappers (TTAClassifier, TumorFirstClassifier, a pretrained
    model) are looked through to the pipeline they hold: the heatmaps are
    those of the images as given, not of test-time augmented copies.
    """
    from ..utils._traversal import unwrap

    estimator = unwrap(estimator)
    steps = [step for _, step in getattr(estimator, "steps", [("only", estimator)])]
    classifier = steps[-1]
    if not hasattr(classifier, "net_") or not hasattr(classifier, "module_"):
        raise ValueError(
            f"grad_cam needs a fitted CNNClassifier or a pipeline ending in one, got "
            f"{type(classifier).__name__}"
        )
    transformers = [step for step in steps[:-1] if hasattr(step, "transform")]
    return transformers, classifier


def _shape(image) -> tuple[int, int]:
    return tuple(np.asarray(image).shape[:2])


def _forward(transformers, images):
    """Apply the transformers, recording how to map a heatmap back through each of them."""
    undo = []
    for step in transformers:
        before = [_shape(image) for image in images]
        if isinstance(step, BrainCrop):
            boxes, _ = step.crop_boxes(images)
            undo.append(("crop", before, boxes))
        elif isinstance(step, Resize):
            undo.append(("resize", before, None))
        images = step.transform(images)
        if len(images) and images[0].ndim >= 2 and not isinstance(step, (BrainCrop, Resize)):
            after = [_shape(image) for image in images]
            if images.ndim != 2 and after != before:
                raise ValueError(
                    f"grad_cam cannot map heatmaps back through {type(step).__name__}, which "
                    "changes the image size; only BrainCrop and Resize can"
                )
    return images, undo


def _backward(heatmaps, undo):
    for kind, shapes, boxes in reversed(undo):
        if kind == "resize":
            heatmaps = [
                cv2.resize(h, (w, hgt), interpolation=cv2.INTER_LINEAR)
                for h, (hgt, w) in zip(heatmaps, shapes, strict=True)
            ]
        else:  # crop: paste each heatmap into the full image, zero outside the box
            pasted = []
            for h, (hgt, w), (top, bottom, left, right) in zip(heatmaps, shapes, boxes,
                                                               strict=True):  # fmt: skip
                full = np.zeros((hgt, w), dtype=np.float32)
                full[top:bottom, left:right] = h
                pasted.append(full)
            heatmaps = pasted
    return heatmaps


def grad_cam(estimator, images, target=None, *, batch_size: int = 32) -> np.ndarray:
    """Grad-CAM heatmaps for images, aligned with the images as given.

    The class-activation map of the network's ``gradcam_layer`` (Selvaraju
    et al. 2017, computed with Captum's ``LayerGradCam``, ReLU applied) is
    upsampled to the network's input, then mapped back through the
    pipeline's ``Resize`` and ``BrainCrop`` steps, so each heatmap has the
    size of its input image and is zero outside the crop. Each heatmap is
    scaled to a maximum of 1, or is all zeros where no location speaks for
    the class (the ReLU of Grad-CAM removes negative evidence).

    Parameters
    ----------
    estimator : CNNClassifier or pipeline ending in one
        Fitted. Its network must name a ``gradcam_layer`` (all of
        :mod:`sklearn_braintumor.nn` do).
    images : array-like or list
        Images as the estimator's ``predict`` takes them.
    target : label, array-like of labels, or None, default=None
        Class to explain: None explains each image's predicted class.
    batch_size : int, default=32

    Returns
    -------
    heatmaps : ndarray
        ``(n_images, height, width)`` float32 in [0, 1], or an object array
        when the images differ in size.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.inspection import grad_cam
    >>> from sklearn_braintumor.pretrained import load_pretrained
    >>> images = load_sample("test").images[:2]
    >>> heatmaps = grad_cam(load_pretrained("4class"), images)
    >>> heatmaps.shape, float(heatmaps.max()) <= 1.0
    ((2, 224, 224), True)
    """
    from captum.attr import LayerAttribution, LayerGradCam

    from ..utils._images import stack_images

    transformers, classifier = _split(estimator)
    if getattr(classifier, "reader", None) is not None:
        raise ValueError(
            "grad_cam maps heatmaps back through the pipeline's own Resize and BrainCrop "
            "steps; a CNNClassifier with a reader= reads and transforms files inside fit. "
            "Explain images with a classifier trained on images in memory"
        )
    module = classifier.module_
    layer_name = getattr(module, "gradcam_layer", None)
    if not layer_name:
        raise ValueError(f"{type(module).__name__} does not name a gradcam_layer")
    layer = dict(module.named_modules())[layer_name]
    network_input, undo = _forward(transformers, images)
    X = classifier._to_tensor(network_input, reset=False)
    device = next(module.parameters()).device
    classes = list(classifier.classes_)
    if target is None:
        proba = classifier.predict_proba(network_input)
        indices = proba.argmax(axis=1)
    else:
        labels = np.broadcast_to(np.asarray(target, dtype=object), (len(X),))
        unknown = set(labels.tolist()) - set(classes)
        if unknown:
            raise ValueError(f"target {sorted(map(str, unknown))} not in classes_ {classes}")
        indices = np.array([classes.index(label) for label in labels])
    cam = LayerGradCam(module, layer)
    was_training = module.training
    module.eval()
    heatmaps = []
    try:
        for start in range(0, len(X), batch_size):
            batch = X[start : start + batch_size].to(device)
            with torch.enable_grad():
                attribution = cam.attribute(
                    batch, target=torch.as_tensor(indices[start : start + batch_size]).to(device),
                    relu_attributions=True,
                )  # fmt: skip
            upsampled = LayerAttribution.interpolate(attribution, tuple(batch.shape[2:]),
                                                     interpolate_mode="bilinear")  # fmt: skip
            heatmaps.extend(upsampled[:, 0].detach().float().cpu().numpy())
    finally:
        module.train(was_training)
    heatmaps = [h / h.max() if h.max() > 0 else h for h in _backward(heatmaps, undo)]
    return stack_images([np.asarray(h, dtype=np.float32) for h in heatmaps])


def plot_grad_cam(estimator, images, target=None, *, ncols: int = 4, alpha: float = 0.45,
                  titles=None, y_true=None):  # fmt: skip
    """Draw a gallery of images with their Grad-CAM heatmaps overlaid.

    Parameters
    ----------
    estimator : CNNClassifier or pipeline ending in one
        Fitted.
    images : array-like or list
        A few images (one panel each).
    target : label, array-like of labels, or None, default=None
        As in :func:`grad_cam`.
    ncols : int, default=4
    alpha : float, default=0.45
        Opacity of the heatmap.
    titles : sequence of str or None, default=None
        Panel titles; default the predicted class name and its probability
        (the model's own decision, ``predict``), preceded by the true class
        when ``y_true`` is given.
    y_true : array-like of labels or None, default=None
        The true classes, as class names or as indices into ``classes_``.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.inspection import plot_grad_cam
    >>> from sklearn_braintumor.pretrained import load_pretrained
    >>> test = load_sample("test")
    >>> truth = np.asarray(test.target_names)[test.target[:2]]
    >>> figure = plot_grad_cam(load_pretrained("4class"), test.images[:2], y_true=truth, ncols=2)
    >>> figure.axes[0].get_title().splitlines()[0]
    'true glioma'
    """
    import matplotlib.pyplot as plt

    heatmaps = grad_cam(estimator, images, target)
    if titles is None:
        proba = estimator.predict_proba(images)
        classes = np.asarray(estimator.classes_)
        predicted = np.asarray(estimator.predict(images))
        column = {label: k for k, label in enumerate(classes.tolist())}
        titles = [f"predicted {label} ({p[column[label]]:.2f})"
                  for label, p in zip(predicted.tolist(), proba, strict=True)]  # fmt: skip
        if y_true is not None:
            truth = [classes[t] if isinstance(t, (int, np.integer)) and t not in column else t
                     for t in np.asarray(y_true).tolist()]  # fmt: skip
            titles = [f"true {t}\n{title}" for t, title in zip(truth, titles, strict=True)]
    n = len(heatmaps)
    nrows = int(np.ceil(n / ncols))
    figure, axes = plt.subplots(nrows, ncols, figsize=(3 * ncols, 3 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, image, heatmap, title in zip(axes.ravel(), images, heatmaps, titles, strict=False):
        ax.imshow(np.asarray(image), cmap="gray")
        ax.imshow(heatmap, cmap="jet", alpha=alpha, vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure
