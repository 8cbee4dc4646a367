"""The types a safe model file may build: a registry of stable names, never an import by name.

A model file names each class it holds by a *stable name*: the public place
users import it from (``sklearn_braintumor.classifiers.CNNClassifier``,
``sklearn.svm.SVC``, ``torch.optim.Adam``), not the private module that
defines it today, so moving a class between private modules does not break
saved files. The loader looks a name up in this registry and builds the
object it finds there; it never imports a module because a file names it.

The registry is the union of:

- the public classes of this library's estimator and network subpackages
  (:data:`LIBRARY_NAMESPACES`);
- scikit-learn's and imbalanced-learn's public estimator classes (anything
  with ``get_params`` defined inside that package) in the public modules of
  :data:`SKLEARN_NAMESPACES`;
- the losses and optimizers of :data:`TORCH_TYPES`;
- the types a user registers with :func:`register_safe_type`, or passes to
  :func:`~sklearn_braintumor.utils.load` as ``trusted_types``.

Each namespace's module is imported from this table the first time a file
names something in it, and its classes are compared by identity.
"""

from __future__ import annotations

import importlib
import threading

#: This library's subpackages whose public classes (``__all__``) a model file may hold.
LIBRARY_NAMESPACES = tuple(
    f"sklearn_braintumor.{name}"
    for name in ("classifiers", "features", "model_selection", "nn", "preprocessing", "sampling")
)
#: scikit-learn's and imbalanced-learn's public modules holding estimators.
SKLEARN_NAMESPACES = (
    *(f"sklearn.{name}" for name in (
        "calibration", "cluster", "compose", "covariance", "cross_decomposition",
        "decomposition", "discriminant_analysis", "dummy", "ensemble", "feature_extraction",
        "feature_extraction.image", "feature_extraction.text", "feature_selection", "frozen",
        "gaussian_process", "gaussian_process.kernels", "impute", "isotonic",
        "kernel_approximation", "kernel_ridge", "linear_model", "manifold", "mixture",
        "model_selection", "multiclass", "multioutput", "naive_bayes", "neighbors",
        "neural_network", "pipeline", "preprocessing", "random_projection", "semi_supervised",
        "svm", "tree",
    )),
    "imblearn", "imblearn.combine", "imblearn.ensemble", "imblearn.over_sampling",
    "imblearn.pipeline", "imblearn.under_sampling",
)  # fmt: skip
#: The torch classes a classifier's ``criterion`` / ``optimizer`` may name.
TORCH_TYPES = {
    "torch.nn": ("BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"),
    "torch.optim": ("Adam", "AdamW", "RMSprop", "SGD"),
}
# format version 1 named torch classes by their defining module
_LEGACY_TORCH = {
    "torch.nn.modules.loss": "torch.nn",
    "torch.optim.adam": "torch.optim",
    "torch.optim.adamw": "torch.optim",
    "torch.optim.rmsprop": "torch.optim",
    "torch.optim.sgd": "torch.optim",
}

_lock = threading.RLock()  # a namespace import may look up another
_namespaces: dict[str, dict[str, type]] = {}
_user_types: dict[str, type] = {}


class UnsafeModelError(ValueError):
    """A model cannot be written to, or read from, the safe format."""


def qualified_name(cls: type) -> str:
    """Return ``module.QualName`` of a class (where it is defined today)."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _members(namespace: str) -> dict[str, type]:
    """Return the classes of one registered namespace by name (imported once, from the table)."""
    with _lock:
        if namespace in _namespaces:
            return _namespaces[namespace]
        module = importlib.import_module(namespace)  # a name from the tables above only
        if namespace in TORCH_TYPES:
            members = {name: getattr(module, name) for name in TORCH_TYPES[namespace]}
        elif namespace in LIBRARY_NAMESPACES:
            members = {
                name: obj
                for name in module.__all__
                if isinstance(obj := getattr(module, name), type)
                and not issubclass(obj, BaseException)
            }
        else:
            root = namespace.split(".")[0]
            members = {
                name: obj
                for name in dir(module)
                if not name.startswith("_")
                and isinstance(obj := getattr(module, name), type)
                and obj.__module__.split(".")[0] == root
                and hasattr(obj, "get_params")
            }
        _namespaces[namespace] = members
        return members


def _known_namespace(namespace: str) -> bool:
    return (
        namespace in LIBRARY_NAMESPACES
        or namespace in SKLEARN_NAMESPACES
        or (namespace in TORCH_TYPES)
    )


def public_path(name: str) -> str:
    """``pkg.sub._private.mod.Class`` -> ``pkg.sub.Class``: where a class is imported from."""
    module, _, attr = name.rpartition(".")
    if module in _LEGACY_TORCH:
        return f"{_LEGACY_TORCH[module]}.{attr}"
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_"):
            parts = parts[:i]
            break
    return ".".join([*parts, attr])


def resolve(name: str, trusted: dict[str, type] | None = None, *, legacy: bool = False) -> type:
    """Return the registered class a model file names, or raise ``UnsafeModelError``.

    Parameters
    ----------
    name : str
        The stable name written in the file.
    trusted : dict, optional
        Extra types for this load only (``trusted_types``), by stable name.
    legacy : bool, default=False
        The file is format version 1, which named classes by their defining
        module: map the name to its public place first.
    """
    if not isinstance(name, str):
        raise UnsafeModelError(f"names a type by {name!r}, which is not a name")
    for table in (trusted or {}, _user_types):
        if name in table:
            return table[name]
    stable = public_path(name) if legacy else name
    namespace, _, attr = stable.rpartition(".")
    cls = _members(namespace).get(attr) if _known_namespace(namespace) else None
    if cls is None:
        raise UnsafeModelError(
            f"names the type {name!r}, which the safe format does not load: it is not one "
            "of the registered types. If you trust the file and know that type, import it "
            "and pass it as load(..., trusted_types=[TYPE]) or call "
            "sklearn_braintumor.utils.register_safe_type(TYPE)"
        )
    return cls


def stable_name(cls: type, trusted: dict[str, type] | None = None) -> str:
    """Return the name under which ``cls`` is registered, or raise ``UnsafeModelError``."""
    for table in (trusted or {}, _user_types):
        for name, registered in table.items():
            if registered is cls:
                return name
    candidate = public_path(qualified_name(cls))
    namespace, _, attr = candidate.rpartition(".")
    if _known_namespace(namespace) and _members(namespace).get(attr) is cls:
        return candidate
    # a class public in another registered namespace than its module suggests
    root = cls.__module__.split(".")[0]
    for namespace in (*LIBRARY_NAMESPACES, *SKLEARN_NAMESPACES, *TORCH_TYPES):
        if namespace.split(".")[0] == root:
            for name, registered in _members(namespace).items():
                if registered is cls:
                    return f"{namespace}.{name}"
    raise UnsafeModelError(
        f"the type {qualified_name(cls)} is not registered with the safe format; register it "
        "with sklearn_braintumor.utils.register_safe_type (then loading needs the same "
        "registration), or save with format='joblib' (a pickle, loaded only with trusted=True)"
    )


def trusted_table(types) -> dict[str, type]:
    """Map each of the classes passed as ``trusted_types`` to its qualified name."""
    table = {}
    for cls in types or ():
        if not isinstance(cls, type):
            raise TypeError(f"trusted_types holds {cls!r}, which is not a class")
        table[qualified_name(cls)] = cls
    return table


def safe_types() -> dict[str, type]:
    """Return every type a safe model file may build, by the stable name files use.

    The library's public estimator and network classes, scikit-learn's and
    imbalanced-learn's public estimators, the torch losses and optimizers of
    :data:`TORCH_TYPES`, and what :func:`register_safe_type` added.

    Returns
    -------
    types : dict of str to type
        Sorted by name.

    Examples
    --------
    >>> from sklearn_braintumor.utils import safe_types
    >>> types = safe_types()
    >>> types["sklearn_braintumor.classifiers.CNNClassifier"].__name__
    'CNNClassifier'
    >>> "sklearn.svm.SVC" in types, "gzip.GzipFile" in types
    (True, False)
    """
    found = {
        f"{namespace}.{name}": cls
        for namespace in (*LIBRARY_NAMESPACES, *SKLEARN_NAMESPACES, *TORCH_TYPES)
        for name, cls in _members(namespace).items()
    }
    found.update(_user_types)
    return dict(sorted(found.items()))


def register_safe_type(cls: type, *, name: str | None = None) -> type:
    """Let the safe model format store and rebuild instances (or uses) of ``cls``.

    The format builds only registered types. Register a class of your own
    (an estimator, a ``torch.nn.Module`` given as ``module=``, a loss) before
    saving a model that holds it, and again, in the loading program, before
    loading. Registering a type says you trust its ``__init__`` and methods
    with the parameters a model file may give them; do it only for your own
    code or code you trust. Usable as a class decorator.

    Parameters
    ----------
    cls : type
        The class.
    name : str, optional
        The stable name written in files, default ``module.QualName``. Give
        one if the class may move between modules: files keep loading as
        long as the name is registered.

    Returns
    -------
    cls : type
        The class itself.

    Raises
    ------
    TypeError
        If ``cls`` is not a class.
    ValueError
        If ``name`` is already registered for another class.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator, TransformerMixin
    >>> from sklearn_braintumor.utils import register_safe_type
    >>> @register_safe_type
    ... class Doubler(TransformerMixin, BaseEstimator):
    ...     def fit(self, X, y=None):
    ...         return self
    ...     def transform(self, X):
    ...         return 2 * X
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_safe_type takes a class, got {cls!r}")
    name = qualified_name(cls) if name is None else name
    with _lock:
        if _user_types.get(name, cls) is not cls:
            raise ValueError(f"{name!r} is already registered for {_user_types[name]!r}")
        _user_types[name] = cls
    return cls
