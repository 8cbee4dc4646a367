"""A scikit-learn classifier around skorch for convolutional networks on image arrays."""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from torch import nn

from ..inspection._mri import not_mri
from ..nn import BatchAugment, GBMNet
from ..utils._device import cuda_devices
from ._cnn_input import InputMixin, _take
from ._cnn_net import NetMixin, _accepts, _init_names
from ._cnn_state import StateMixin
from ._cnn_targets import TargetsMixin, _is_explicit
from ._net import AcceleratedNet, AugmentingNet
from ._ood import (
    GUARD_ATTRIBUTES,
    fit_guard,
    guard_features,
    guard_layer,
    project,
    shift_score,
    typicality,
)

_PREFIXES = ("module__", "optimizer__", "criterion__", "callbacks__")


class CNNClassifier(InputMixin, NetMixin, TargetsMixin, StateMixin, ClassifierMixin, BaseEstimator):
    """Train a convolutional network on image arrays as a scikit-learn classifier.

    A skorch ``NeuralNetClassifier`` is built inside ``fit`` (the estimator
    wraps it rather than subclassing it, so scikit-learn's contract holds:
    ``__init__`` only stores parameters, ``clone`` never carries trained
    weights). Labels of any type are encoded (``classes_`` holds the real
    ones); uint8 images are scaled to [0, 1] float32 (uint16 by 65535),
    other dtypes are used as they are, and prediction input is scaled the same
    way or refused when it cannot be (``input_dtype_``);
    ``n_classes``, ``in_channels`` and ``input_size`` are passed to the module
    when its constructor takes them. ``predict_proba`` applies a softmax to the
    module's logits whatever the training criterion.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=GBMNet
        The network. A class is instantiated in ``fit`` with the
        ``module__*`` parameters; an instance is deep-copied before training.
    input_shape : tuple or None, default=None
        Shape of one image, needed for 2D input ``(n_samples, n_values)`` such
        as the output of ``ImageFlattener`` or SMOTE: ``(height, width)``,
        ``(height, width, channels)`` or ``(channels, height, width)``. Rows
        are read in the library's channels-last order (as ``ImageFlattener``
        writes them). A 2D array without ``input_shape`` is taken as images of
        one row, ``(1, n_values)``.
    criterion : torch.nn.Module class, default=torch.nn.CrossEntropyLoss
        Loss on logits and class indices, e.g. :class:`~sklearn_braintumor.nn.FocalLoss`.
    optimizer : torch.optim.Optimizer class, default=torch.optim.Adam
    lr : float, default=1e-3
    batch_size : int, default=32
    max_epochs : int, default=10
    sampler : imbalanced-learn sampler or None, default=None
        Resamples the training images inside ``fit``, after the validation
        split is drawn, so validation images are all real (SMOTE placed before
        the classifier in a pipeline would also put synthetic images into the
        validation split). It sees the images as given to ``fit``, before
        pixel scaling (uint8 stays uint8), as it would in a pipeline ahead of
        the classifier: samplers that take 2D tables (SMOTE) get flattened
        images, samplers of this library that take images get images. The
        sampler sees the real labels (a ``sampling_strategy`` can name
        classes), and is seeded from ``random_state`` only when its own
        ``random_state`` is None. Nested parameters work:
        ``sampler__k_neighbors``.
    reader : transformer or pipeline or None, default=None
        With a reader, ``X`` holds image file paths (a 1D sequence) and the
        reader turns each batch of paths into images of one shape, e.g.
        ``make_pipeline(ImageReader(), BrainCrop(), Resize((64, 64)))``:
        training and prediction then hold one batch of decoded images at a
        time, so folders larger than memory train with bounded RAM. The
        reader is cloned and fitted on the first batch (``reader_``), so its
        steps should be stateless. Cannot be combined with ``sampler``.
    augment : dict or BatchAugment or None, default=None
        On-the-fly augmentation of training batches (never of validation or
        prediction batches), on the device where the batch lives: a dict of
        :class:`~sklearn_braintumor.nn.BatchAugment` options, e.g.
        ``{"horizontal_flip": 0.5, "rotation": 30, "crop_scale": (0.9, 1.0)}``,
        or an instance.
    class_weight : {"balanced"} or dict or None, default=None
        Class weights computed from the training data of each ``fit`` and
        passed to the criterion as ``weight``.
    coarse_labels : dict or None, default=None
        Labels that stand for any one of several classes, for images whose
        class is only partly known: ``{"tumor": ["glioma", "meningioma",
        "pituitary"]}`` lets ``y`` hold ``"tumor"`` for scans known to show a
        tumour of unknown type (a yes/no collection) beside the 4-class
        labels. Such an image trains the network to put its probability on
        the group (loss ``-log`` of the group's total probability,
        :class:`~sklearn_braintumor.nn.CoarseLabelLoss`); it never enters the
        validation split, ``classes_`` or ``class_weight``'s counts. The
        grouped classes must occur in ``y``.
    callbacks : list or None, default=None
        skorch callbacks added after the built-in ones (``Checkpoint``,
        ``EpochScoring``, ``GradientNormClipping``, ``LRScheduler``, Optuna's
        ``SkorchPruningCallback``, ...), as instances or ``(name, callback)``
        pairs; unnamed ones are named after their class, as in skorch. Their
        parameters, and those of the built-in ``lr_schedule`` and
        ``early_stopping`` callbacks, are set with the ``callbacks__NAME__``
        prefix: ``callbacks__early_stopping__patience=5``. Callbacks belong to
        training and are not stored by the safe model format.
    early_stopping : int or None, default=None
        Patience in epochs; stops when ``monitor`` has not improved by
        ``1e-3`` for that many epochs and restores the best epoch's weights.
        Needs ``train_split``.
    keep_best : bool, default=False
        Train all ``max_epochs`` (unless early stopping ends sooner), then
        restore the weights of the epoch with the best ``monitor`` value:
        model selection on the validation split, never on test data. Needs
        ``train_split``.
    average_weights : float or None, default=None
        Average the network's weights after every training step of the last
        ``average_weights`` share of the epochs (0.5: the second half; rounded
        to whole epochs, at least the last one), and
        end training with that average instead of the last epoch's weights;
        the batch-norm statistics are then estimated afresh from the training
        images (stochastic weight averaging, densely, as SWAD does: Izmailov et
        al. 2018, Cha et al. 2021). It costs one pass over the training images.
        Cannot be combined with ``keep_best``, ``early_stopping`` or
        ``accelerate``.
    monitor : {"valid_loss", "valid_acc", "valid_f1"}, default="valid_loss"
        What early stopping and ``keep_best`` watch; ``"valid_f1"`` is the
        macro F1 on the validation split (paper C keeps the best
        validation-F1 epoch).
    lr_schedule : {None, "cosine"}, default=None
        ``"cosine"`` anneals the learning rate from ``lr`` towards 0 over
        ``max_epochs`` (``torch.optim.lr_scheduler.CosineAnnealingLR``, one
        step per epoch).
    train_split : float, int, CV splitter, callable, tuple or None, default=0.2
        The validation images (``valid_indices_``), drawn from the fully
        labelled training images: a float is the fraction and an int the
        number held out, stratified and seeded by ``random_state``; a
        scikit-learn CV splitter or skorch's ``ValidSplit`` gives its first
        split (a CV splitter gets the images as the network sees them,
        channels last, or the file paths with a ``reader``:
        ``LeakageFreeSplit(test_size=0.1)`` keeps every copy of a validation
        image out of training); a callable takes skorch's ``(dataset, y)`` and returns two
        torch ``Subset``s (as ``ValidSplit`` does); a tuple ``(X_valid,
        y_valid)`` is validation data of its own (``valid_indices_`` is then
        None). None trains on everything.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        ``"auto"`` uses CUDA when available. With ``accelerate``, the
        launcher chooses the device: ``"auto"``, or ``"cpu"`` for CPU
        processes.
    accelerate : bool or dict or None, default=None
        Train through Hugging Face accelerate (skorch's ``AccelerateMixin``):
        True, or a dict of ``accelerate.Accelerator`` options among
        ``mixed_precision`` (``"no"``, ``"bf16"``, ``"fp16"``) and
        ``kwargs_handlers``. In a script started by ``accelerate launch`` or
        ``torchrun`` with several processes (one per GPU), each process
        trains on its share of every epoch's batches (DistributedDataParallel)
        and ``batch_size`` is per process; validation and prediction run on
        all images in every process. Needs ``pip install accelerate``;
        accelerate keeps one mixed precision per Python process. The fitted
        classifier pickles and predicts like one trained without it.
    channels_last : bool, default=True
        Store the network's weights channels-last (NHWC), which PyTorch's CPU
        and GPU convolutions run faster on; inputs stay NCHW tensors.
    n_threads : int or None, default=None
        Torch CPU threads while fitting and predicting (restored afterwards);
        None keeps torch's setting (one per core). Beside another busy process
        on a small machine, torch's default threads wait on each other and an
        epoch can take 10-20 times longer: ``n_threads=1`` avoids it (user
        guide, "CPU threads"; ``benchmarks/bench_threads.py`` measures it).
    warm_start : bool, default=False
        When True, ``fit`` on a fitted classifier continues training its
        network on the new images (fine-tuning) instead of starting afresh:
        same classes (a label outside ``classes_`` is an error), same image
        shape and pixel scaling, a new validation split drawn from the new
        images, a fresh optimizer and schedule, ``history_`` continued. See
        also ``partial_fit``.
    ood_rate : float or None, default=0.05
        The scale of the shift guard (``score_samples``, ``shift_score``):
        after training, the feature maps of the network's last convolution
        (per-channel mean and standard deviation; the last linear layer's
        input for a network without convolutions) are summarised over the
        training images (class means, one shared covariance), and
        ``ood_offset_`` is set so that this share of the validation images
        has a shift of 1 or more (of the training images when
        ``train_split`` is None). None skips it (one extra pass over the
        training images is saved). Whether an image is a brain MRI slice at
        all (``predict_ood``) does not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seeds torch (weights, dropout, batch order) and the validation split.
        With an int, fits on CPU are reproducible.
    verbose : int, default=0
        0 prints nothing; 1 prints skorch's per-epoch table, and a progress
        bar during epochs of 100 batches or more.
    **kwargs
        Parameters with a prefix, as in skorch: ``module__dropout=0.5``,
        ``optimizer__weight_decay=1e-4``, ``criterion__gamma=2``. They can be
        searched with ``GridSearchCV`` (``cnnclassifier__module__dropout``).
        Batches are sliced from the in-memory training tensor (no
        ``DataLoader``), so there are no ``iterator_*`` options.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net (a subclass that applies ``augment``).
    module_ : torch.nn.Module
        The trained network.
    history_ : skorch.History
        Per-epoch losses and scores.
    valid_indices_ : ndarray of int64 or None
        Indices (into the ``X`` given to ``fit``) of the validation images.
    input_shape_ : tuple of (int, int, int)
        ``(channels, height, width)`` of the training images.
    input_dtype_ : {"uint8", "uint16", "float"}
        How training pixels were scaled: /255, /65535, or as they were.
    input_range_ : tuple of (float, float)
        Smallest and largest training pixel value (of the first batch with
        ``reader``). Prediction input is checked against both: see
        "Input scaling" in the user guide.
    n_features_in_ : int
        Values per sample, for 2D input.
    ood_offset_ : float
        ``score_samples`` below this flags an image as unlike the training
        images (set when ``ood_rate`` is not None).
    ood_means_ : ndarray of shape (n_classes, n_features)
        Per-class mean of the training images' guard features.
    ood_precision_ : ndarray of shape (n_features, n_features)
        Inverse of their shared (Ledoit-Wolf) covariance.
    ood_projection_ : ndarray or None
        The centre and leading principal components the features are
        projected onto when they have more than 256 values.

    Examples
    --------
    >>> from sklearn_braintumor.classifiers import CNNClassifier
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> X, y = make_synthetic_mri(64, image_size=32, random_state=0)
    >>> clf = CNNClassifier(max_epochs=2, random_state=0, module__hidden=32).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 4)
    """

    _parameter_constraints: ClassVar[dict] = {
        "module": [type, HasMethods(["forward"])],
        "input_shape": [tuple, list, None],
        "criterion": [type, callable],
        "optimizer": [type],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "sampler": [HasMethods(["fit_resample"]), None],
        "reader": [HasMethods(["transform"]), None],
        "augment": [dict, BatchAugment, None],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "coarse_labels": [dict, None],
        "callbacks": [list, None],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "keep_best": ["boolean"],
        "average_weights": [Interval(RealNotInt, 0, 1, closed="right"), None],
        "monitor": [StrOptions({"valid_loss", "valid_acc", "valid_f1"})],
        "lr_schedule": [StrOptions({"cosine"}), None],
        "train_split": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
            HasMethods(["split"]),
            callable,
            tuple,
            None,
        ],
        "device": [str],
        "accelerate": ["boolean", dict, None],
        "channels_last": ["boolean"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "warm_start": ["boolean"],
        "ood_rate": [Interval(RealNotInt, 0, 1, closed="neither"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        module=GBMNet,
        *,
        input_shape=None,
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr: float = 1e-3,
        batch_size: int = 32,
        max_epochs: int = 10,
        sampler=None,
        reader=None,
        augment=None,
        class_weight=None,
        coarse_labels: dict | None = None,
        callbacks: list | None = None,
        early_stopping: int | None = None,
        keep_best: bool = False,
        average_weights: float | None = None,
        monitor: str = "valid_loss",
        lr_schedule: str | None = None,
        train_split=0.2,
        device: str = "auto",
        accelerate: bool | dict | None = None,
        channels_last: bool = True,
        n_threads: int | None = None,
        warm_start: bool = False,
        ood_rate: float | None = 0.05,
        random_state=None,
        verbose: int = 0,
        **kwargs,
    ) -> None:
        self.module = module
        self.input_shape = input_shape
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.sampler = sampler
        self.reader = reader
        self.augment = augment
        self.class_weight = class_weight
        self.coarse_labels = coarse_labels
        self.callbacks = callbacks
        self.early_stopping = early_stopping
        self.keep_best = keep_best
        self.average_weights = average_weights
        self.monitor = monitor
        self.lr_schedule = lr_schedule
        self.train_split = train_split
        self.device = device
        self.accelerate = accelerate
        self.channels_last = channels_last
        self.n_threads = n_threads
        self.warm_start = warm_start
        self.ood_rate = ood_rate
        self.random_state = random_state
        self.verbose = verbose
        self._set_prefixed(kwargs)

    # -- parameters -------------------------------------------------------------------------

    def _set_prefixed(self, params: dict) -> None:
        for key, value in params.items():  # validated in fit, as scikit-learn asks
            setattr(self, key, value)

    def _extra(self) -> dict:
        names = set(self._get_param_names())
        return {
            k: v
            for k, v in vars(self).items()
            if k not in names and not k.startswith("_") and not k.endswith("_")
        }

    def _prefixed(self, prefix: str | tuple = _PREFIXES) -> dict:
        return {k: v for k, v in self._extra().items() if k.startswith(prefix)}

    def get_params(self, deep: bool = True) -> dict:
        """Get parameters, the prefixed ``module__*``-style ones included.

        Parameters
        ----------
        deep : bool, default=True
            Also return the ``sampler``'s and the ``reader``'s parameters as
            ``sampler__*`` and ``reader__*``.

        Returns
        -------
        params : dict
        """
        params = super().get_params(deep=False)
        params.update(self._extra())
        for name in ("sampler", "reader"):
            inner = getattr(self, name)
            if deep and hasattr(inner, "get_params"):
                params.update({f"{name}__{k}": v for k, v in inner.get_params().items()})
        return params

    def set_params(self, **params):
        """Set parameters, prefixed ones (``module__dropout=...``) included.

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self : CNNClassifier
        """
        prefixed = {k: v for k, v in params.items() if k.startswith(_PREFIXES)}
        self._set_prefixed(prefixed)
        rest = {k: v for k, v in params.items() if k not in prefixed}
        return super().set_params(**rest) if rest else self

    # -- training ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        unknown = [k for k in self._extra() if not k.startswith(_PREFIXES)]
        iterators = [k for k in unknown if k.startswith(("iterator_train", "iterator_valid"))]
        if iterators:
            raise InvalidParameterError(
                f"CNNClassifier does not take {iterators}: batches are sliced from an in-memory "
                "tensor, with no DataLoader to configure; set batch_size, and use reader= for "
                "images that do not fit in memory"
            )
        if unknown:
            import difflib

            rest = {k: k.split("__", 1)[-1] for k in unknown}
            known = [*self._get_param_names(), *(p + r for r in rest.values() for p in _PREFIXES)]
            hints = {k: difflib.get_close_matches(k, known, n=1, cutoff=0.75) for k in unknown}
            for k in unknown:  # a module argument given without its prefix
                if not hints[k] and "__" not in k and _accepts(self.module, k):
                    hints[k] = [f"module__{k}"]
            said = "; ".join(f"{k!r}: did you mean {h[0]!r}?" for k, h in hints.items() if h)
            raise InvalidParameterError(
                f"CNNClassifier got unexpected parameters {unknown}; nested parameters start "
                f"with one of {_PREFIXES}" + (f" ({said})" if said else "")
            )
        if isinstance(self.train_split, (str, bytes)):  # strings have a .split method
            raise InvalidParameterError(
                "The 'train_split' parameter of CNNClassifier must be None, a fraction, a "
                "number of images, a scikit-learn CV splitter, skorch's ValidSplit, a "
                f"callable(dataset, y) or (X_valid, y_valid); got {self.train_split!r}"
            )
        if isinstance(self.train_split, tuple) and not _is_explicit(self.train_split):
            raise InvalidParameterError(
                "The 'train_split' parameter of CNNClassifier as validation data must be "
                f"(X_valid, y_valid), got a tuple of {len(self.train_split)}"
            )

    @_fit_context(prefer_skip_nested_validation=False)  # sampler, reader, module are checked
    def fit(self, X, y, sample_weight=None, groups=None):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]), list, \
                or (n_samples, n_values) with ``input_shape``
            Training images of one shape.
        y : array-like of shape (n_samples,)
            Labels (strings or numbers).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights that scale each training image's loss (the
            mean over a batch of weight x loss: a weight of 2 counts an image
            about as twice, 0 leaves it out of the gradient). Validation
            losses stay unweighted. Needs a criterion with a ``reduction``
            parameter (the default ``CrossEntropyLoss``, ``NLLLoss``,
            ``FocalLoss``); not with ``coarse_labels`` images or a
            ``sampler``. With metadata routing, request it with
            ``set_fit_request(sample_weight=True)``.
        groups : array-like of shape (n_samples,), default=None
            Group labels of the images for the validation split, as
            ``cross_validate`` passes them: a CV splitter ``train_split``
            (``LeakageFreeSplit``, ``StratifiedGroupKFold``) keeps each group
            on one side. Give the copy groups of the original images
            (``duplicate_groups(X)``) when the classifier sits after a crop or
            resize in a pipeline (``pipe.fit(X, y, cnnclassifier__groups=...)``):
            copies of one scan processed differently can look unlike each other
            once cropped. Needs a CV splitter ``train_split``. With metadata
            routing, request it with ``set_fit_request(groups=True)``.

        Returns
        -------
        self : CNNClassifier

        Notes
        -----
        With an int ``random_state`` the network is seeded from it and torch's
        global random state (CPU and CUDA) is restored afterwards: the
        caller's own random stream is not changed by fitting.
        """
        return self._forked_fit(X, y, warm=self.warm_start and hasattr(self, "net_"),
                                sample_weight=sample_weight, groups=groups)  # fmt: skip

    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, classes=None, sample_weight=None, groups=None):
        """Train the network further on ``X``: ``max_epochs`` more epochs, as skorch does.

        The first call on an unfitted classifier trains from scratch (its
        ``classes`` argument, when given, fixes ``classes_`` so later calls
        may bring labels the first one lacked); later calls continue from the
        fitted weights, as ``fit`` does with ``warm_start=True``: a new
        validation split of the new images, a fresh optimizer, ``history_``
        continued, a label outside ``classes_`` refused.

        Parameters
        ----------
        X : array-like
            Images of the training shape.
        y : array-like of shape (n_samples,)
        classes : array-like or None, default=None
            All the classes, on the first call; checked against ``classes_``
            on later calls.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.
        groups : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        self : CNNClassifier
        """
        fitted = hasattr(self, "net_")
        if classes is not None:
            wanted = np.unique(np.asarray(classes))
            if fitted and not np.array_equal(wanted, self.classes_):
                raise ValueError(
                    f"classes {wanted.tolist()} differ from the fitted classes_ "
                    f"{self.classes_.tolist()}"
                )
        return self._forked_fit(X, y, warm=fitted, classes=classes, sample_weight=sample_weight,
                                groups=groups)  # fmt: skip

    def _forked_fit(self, X, y, *, warm: bool, classes=None, sample_weight=None, groups=None):
        self._check_params()  # before n_threads is applied
        devices = cuda_devices()
        with (
            self._threads(),
            torch.random.fork_rng(devices=devices, enabled=self.random_state is not None),
        ):
            return self._fit(X, y, warm=warm, classes=classes, sample_weight=sample_weight,
                             groups=groups)  # fmt: skip

    def _fit(self, X, y, *, warm: bool = False, classes=None, sample_weight=None, groups=None):
        from skorch.helper import predefined_split

        self._check_param_relations(warm)
        accelerator = self._accelerator()
        if warm:  # the network's input stays as trained: same shape, same pixel scaling
            previous = ({k: v.detach().clone() for k, v in self.module_.state_dict().items()},
                        list(self.history_))  # fmt: skip
        if self.sampler is None:
            X_tensor = self._to_tensor(X, reset=not warm)
        else:  # in memory (no reader): the sampler takes the images as given, before scaling
            images = self._images_to_array(X, reset=not warm)
            X_tensor = self._array_to_tensor(images, reset=not warm)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X_tensor, y)
        y_encoded, coarse, group_rows, encoder = self._encode_targets(y, warm, classes)
        weight = self._sample_weight(sample_weight, len(y), coarse)
        seed = self._draw_seed(accelerator)
        criterion, criterion_kwargs = self._criterion(y_encoded, coarse, group_rows)
        others = self._prefixed("optimizer__")
        train_X, train_y, valid, train_index = self._validation_split(
            X_tensor, y_encoded, coarse, encoder, seed, groups
        )
        if self.sampler is not None:
            rows = slice(None) if train_index is None else train_index
            train_X, train_y = self._resample(images[rows], train_y, seed)
        if weight is not None:  # per-image losses, weighted in AugmentingNet.get_loss
            rows = train_index if self.valid_indices_ is not None else slice(None)
            others["iterator_train__sample_weight"] = torch.as_tensor(weight[rows])
            criterion_kwargs["reduction"] = "none"
        if accelerator is None:
            net_class, placement = AugmentingNet, {"device": self._device()}
        else:  # accelerate places the module and the batches
            net_class, placement = AcceleratedNet, {"accelerator": accelerator, "device": None}
        net = self._make_net(
            net_class,
            module=self.module if isinstance(self.module, type) else copy.deepcopy(self.module),
            criterion=criterion,
            train_split=None if valid is None else predefined_split(valid),
            callbacks=self._callbacks(
                len(train_X), main_process=accelerator is None or accelerator.is_main_process
            )
            + list(self.callbacks or []),
            **self._log_sink(accelerator),
            **self._prefixed("callbacks__"),
            verbose=self.verbose,
            **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
            **others,
            **placement,
        )
        if self.augment is not None:
            net.augment_options = (
                dict(self.augment)
                if isinstance(self.augment, dict)
                else {name: getattr(self.augment, name) for name in _init_names(BatchAugment)}
            )
        self._train(net, train_X, train_y, previous if warm else None, accelerator, seed)
        net.drop_training_state()
        self.net_ = net
        self.history_ = net.history
        self._fit_guard(X_tensor, y_encoded, coarse, None if valid is None else valid.X)
        return self

    def _check_param_relations(self, warm: bool) -> None:
        """Refuse parameter combinations that cannot work, before any data is converted."""
        if warm and self.accelerate not in (None, False):
            raise ValueError(
                "continuing training (warm_start=True, partial_fit) is not available with "
                "accelerate; fine-tune without it"
            )
        if self.reader is not None and self.sampler is not None:
            raise InvalidParameterError(
                "sampler= resamples images held in memory and cannot be combined with reader="
            )
        if self.average_weights is not None:
            clash = [name for name, on in (("keep_best", self.keep_best),
                                           ("early_stopping", self.early_stopping is not None),
                                           ("accelerate", self.accelerate not in (None, False)))
                     if on]  # fmt: skip
            if clash:
                raise InvalidParameterError(
                    f"average_weights ends training with the average of the last epochs' "
                    f"weights and cannot be combined with {' or '.join(clash)}"
                )

    def _fit_guard(self, X_tensor, y_encoded: np.ndarray, coarse: np.ndarray, valid_X) -> None:
        """Summarise the training images' features; set the flagging threshold."""
        for name in GUARD_ATTRIBUTES:
            self.__dict__.pop(name, None)
        if self.ood_rate is None or guard_layer(self.module_)[0] is None:
            return
        train = ~coarse
        if self.valid_indices_ is not None:
            train[self.valid_indices_] = False
        rows = np.flatnonzero(train)
        features = guard_features(self.net_, _take(X_tensor, rows))
        self.ood_projection_, self.ood_means_, self.ood_precision_ = fit_guard(
            features, y_encoded[rows], len(self.classes_)
        )
        if valid_X is not None:
            features = guard_features(self.net_, valid_X)
        features = project(features, self.ood_projection_)
        scores = typicality(features, self.ood_means_, self.ood_precision_)
        # "lower": at most ood_rate of these images score below the threshold
        self.ood_offset_ = float(np.quantile(scores, self.ood_rate, method="lower"))

    @property
    def module_(self) -> nn.Module:
        """The trained network, ``net_.module_``.

        A property rather than a copy of the reference: pickled as an attribute
        of the classifier, a network trained on a GPU would bypass skorch's
        mapping of its weights to the CPU and not load on a machine without one.
        """
        return self.net_.module_

    # -- prediction -------------------------------------------------------------------------

    def predict_proba(self, X) -> np.ndarray:
        """Return class probabilities (softmax of the network's logits).

        Parameters
        ----------
        X : array-like
            Images of the training shape (or rows of ``input_shape``).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return torch.softmax(self._logits(X), dim=1).numpy()

    def predict_log_proba(self, X) -> np.ndarray:
        """Return the logarithm of the class probabilities (log-softmax of the logits).

        Parameters
        ----------
        X : array-like
            Images of the training shape (or rows of ``input_shape``).

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; finite where ``log(predict_proba)``
            would underflow to ``-inf``.
        """
        return torch.log_softmax(self._logits(X), dim=1).numpy()

    def _logits(self, X) -> torch.Tensor:
        """Return the network's outputs for ``X``, in float64 on the CPU."""
        check_is_fitted(self, "net_")
        with self._threads():
            logits = self.net_.forward(self._to_tensor(X, reset=False), training=False)
        return logits.double()

    def predict(self, X) -> np.ndarray:
        """Return the most probable class of each image.

        Parameters
        ----------
        X : array-like
            Images of the training shape (or rows of ``input_shape``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score_samples(self, X) -> np.ndarray:
        """Return how much each image is like the training images (higher: more alike).

        The score is minus the squared Mahalanobis distance from the image's
        guard features (the last convolution's per-channel statistics) to the
        nearest class mean of the training images' features (one covariance
        shared by the classes). Images scoring below ``ood_offset_`` have a
        ``shift_score`` of 1 or more.

        Parameters
        ----------
        X : array-like
            Images of the training shape (or rows of ``input_shape``).

        Returns
        -------
        scores : ndarray of float32 of shape (n_samples,)
        """
        return self._proba_and_scores(X)[1]

    def _proba_and_scores(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Return ``predict_proba`` and ``score_samples`` of ``X`` from one forward pass."""
        check_is_fitted(self, "net_")
        if not hasattr(self, "ood_offset_"):
            raise ValueError(
                "this CNNClassifier has no out-of-distribution guard: it was fitted with "
                "ood_rate=None or a module with neither an nn.Conv2d nor an nn.Linear layer"
            )
        with self._threads():
            features, logits = guard_features(
                self.net_, self._to_tensor(X, reset=False), with_logits=True
            )
        features = project(features, self.ood_projection_)
        # float32: the network's features carry no more precision than that
        scores = typicality(features, self.ood_means_, self.ood_precision_).astype(np.float32)
        return torch.softmax(logits.double(), dim=1).numpy(), scores

    def shift_score(self, X) -> np.ndarray:
        """Return how unlike the training collections each image is (1.0: the threshold).

        See :func:`~sklearn_braintumor.classifiers.shift_score`.

        Parameters
        ----------
        X : array-like
            Images of the training shape (or rows of ``input_shape``).

        Returns
        -------
        shift : ndarray of float of shape (n_samples,)
        """
        return shift_score(self, X)

    def predict_ood(self, X) -> np.ndarray:
        """Flag images that are not brain MRI slices (photographs, pages, noise, blanks).

        The images' own properties decide, not the network (see
        :func:`~sklearn_braintumor.inspection.not_mri_reasons`): give the images
        as read from files, before cropping. How unlike the training
        collections a real slice is, is ``shift_score``.

        Parameters
        ----------
        X : array-like
            Images of the training shape (or rows of ``input_shape``).

        Returns
        -------
        flags : ndarray of bool of shape (n_samples,)
        """
        check_is_fitted(self, "net_")
        return not_mri(self._images_to_array(X, reset=False))  # channels-last images

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.random_state is None
        return tags
