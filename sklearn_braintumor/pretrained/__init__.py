"""Pretrained models shipped with the package: predict first, train later.

Each model is a fitted estimator in the library's safe model format (no code
runs when it loads), checked against the SHA-256 recorded when it was built.
It takes what its recipe's pipeline takes: a list of grayscale images of any
size (uint8, as read by :func:`~sklearn_braintumor.datasets.read_image`), and
it crops, resizes and scales them itself. ``4class-screened``, the default,
has no file of its own: it combines the other two
(:class:`~sklearn_braintumor.classifiers.TwoStageClassifier`), the ``binary``
model deciding tumour / no tumour and the ``4class`` model the tumour type.

>>> from sklearn_braintumor.pretrained import list_pretrained, load_pretrained
>>> list_pretrained()
['4class-screened', '4class', 'binary']
>>> model = load_pretrained("4class")
>>> model.classes_.tolist()
['glioma', 'meningioma', 'notumor', 'pituitary']
"""

from __future__ import annotations

import hashlib

import numpy as np

from ._checksums import SHA256
from ._registry import DEFAULT_MODEL, NOT_A_DEVICE, PRETRAINED, TRAINING_DATA


def list_pretrained() -> list[str]:
    """Return the names of the pretrained models, the default first.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from sklearn_braintumor.pretrained import list_pretrained
    >>> list_pretrained()[0]
    '4class-screened'
    """
    return list(PRETRAINED)


def _spec(name: str):
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained model {name!r}; available: {list_pretrained()}")
    return PRETRAINED[name]


def pretrained_card(name: str = DEFAULT_MODEL) -> dict:
    """Return a pretrained model's card: data, recipe, figures and their commands.

    Parameters
    ----------
    name : str, default="4class-screened"

    Returns
    -------
    card : dict
        ``name``, ``summary``, ``training_data``, ``intended_use``,
        ``weak_spots``, ``sha256`` (recorded in the package's code) and
        what was measured when the file was built: ``n_bytes``,
        ``classes``, ``figures`` (each with its ``command``), ``guard``,
        ``build_command``, ``versions``.

    Examples
    --------
    >>> from sklearn_braintumor.pretrained import pretrained_card
    >>> card = pretrained_card("4class")
    >>> card["classes"]
    ['glioma', 'meningioma', 'notumor', 'pituitary']
    """
    spec = _spec(name)
    return {
        "name": spec.name,
        "summary": spec.summary,
        "recipe": spec.recipe,
        "training_data": TRAINING_DATA,
        "intended_use": spec.intended_use,
        "not_a_medical_device": NOT_A_DEVICE,
        "weak_spots": list(spec.weak_spots),
        **spec.card(),
        **({"stages": list(spec.stages)} if spec.stages else {"sha256": SHA256[spec.name]}),
    }


def load_pretrained(name: str = DEFAULT_MODEL):
    """Return a shipped model, fitted and ready to ``predict``.

    The file is read once, its SHA-256 compared with the one recorded in the
    package's code when it was built (a changed file is refused, even with
    its card edited to match), and the estimator rebuilt by the safe model
    format's loader, which builds only registered types and runs nothing
    from the file.

    Parameters
    ----------
    name : str, default="4class-screened"
        One of :func:`list_pretrained`.

    Returns
    -------
    model : fitted classifier
        ``predict``, ``predict_proba``, ``shift_score`` (how unlike the
        training collections) and ``predict_ood`` (not a brain MRI slice) on
        a list of images of any size.

    Raises
    ------
    ValueError
        Unknown name.
    ModelFileError
        (a ``ValueError``) A file whose checksum or content is wrong.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.pretrained import load_pretrained
    >>> sample = load_sample()
    >>> model = load_pretrained("4class")
    >>> model.predict(sample.images[:2]).shape
    (2,)
    """
    from ..exceptions import ModelFileError
    from ..utils._safe import loads

    spec = _spec(name)
    spec.card()  # a missing card says how to build the model
    if spec.stages:
        return _two_stage(*(load_pretrained(stage) for stage in spec.stages))
    data = spec.weights_file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[name]:
        raise ModelFileError(
            str(spec.weights_file),
            f"does not match its recorded SHA-256 (expected {SHA256[name]}, got {digest}): it "
            "was changed or damaged; reinstall sklearn-braintumor",
        )
    return loads(data, source=str(spec.weights_file))


def _two_stage(screen, estimator):
    """Combine two fitted shipped models: ``screen`` says "no tumour", ``estimator`` the type."""
    from sklearn.frozen import FrozenEstimator

    from ..classifiers import TwoStageClassifier

    negative = estimator.negative_class
    positive = next(c for c in screen.classes_.tolist() if c != negative)
    model = TwoStageClassifier(FrozenEstimator(screen), FrozenEstimator(estimator),
                               negative_class=negative, positive_label=positive)  # fmt: skip
    # frozen stages train nothing: fit only checks that their classes fit together
    classes = estimator.classes_
    return model.fit(np.zeros((len(classes), 1)), classes)


__all__ = [
    "DEFAULT_MODEL",
    "PRETRAINED",
    "list_pretrained",
    "load_pretrained",
    "pretrained_card",
]
