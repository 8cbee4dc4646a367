"""Walking fitted models: searches, wrappers holding one ``estimator_``, and pipelines.

Duck-typed (attributes, never classes), as scikit-learn's own ``_estimator_has``
is, so every subpackage can look through a model without importing the
classes that wrap it.
"""

from __future__ import annotations


def unwrap(estimator):
    """Return the fitted estimator inside searches (``best_estimator_``) and wrappers.

    Wrappers are meta-estimators holding one fitted ``estimator_``, such as
    :class:`~sklearn_braintumor.classifiers.TTAClassifier`.
    """
    while True:
        inner = getattr(estimator, "best_estimator_", None) or getattr(
            estimator, "estimator_", None
        )
        if inner is None:
            return estimator
        estimator = inner


def nesting(estimator) -> list:
    """Return ``estimator`` and what it holds, outermost first, down to the last one.

    Looks through searches (``best_estimator_``), wrappers holding one fitted
    ``estimator_`` and pipelines (their last step): a pretrained model gives
    ``[TumorFirstClassifier, TTAClassifier, Pipeline, CNNClassifier]``.
    """
    chain = [estimator]
    while True:
        step = chain[-1]
        if hasattr(step, "steps"):
            chain.append(step.steps[-1][1])
            continue
        inner = getattr(step, "best_estimator_", None) or getattr(step, "estimator_", None)
        if inner is None:
            return chain
        chain.append(inner)


def find_classifier(estimator):
    """Return the fitted step that holds ``history_``, or None.

    Searches, wrappers (see :func:`unwrap`) and pipelines are looked through.
    """
    estimator = unwrap(estimator)
    steps = getattr(estimator, "steps", None)
    for step in reversed([s for _, s in steps] if steps else [estimator]):
        step = unwrap(step)
        if hasattr(step, "history_"):
            return step
    return None
