"""Gray-level co-occurrence (GLCM) texture features."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from functools import lru_cache
from numbers import Integral
from typing import ClassVar

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from skimage.feature import graycomatrix, graycoprops
from sklearn.utils._param_validation import Interval

from ..preprocessing._base import ImageTransformer
from ..preprocessing._color import Grayscale

PROPERTIES = (
    "contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM",
    "mean", "variance", "std", "entropy",
)  # fmt: skip
_DTYPE_RANGES = {"u1": (0.0, 256.0), "u2": (0.0, 65536.0), "b1": (0.0, 2.0)}


def quantize(image: np.ndarray, levels: int, value_range: tuple[float, float]) -> np.ndarray:
    """Map intensities in ``[low, high)`` onto the integers ``0 .. levels - 1``.

    ``q = floor((x - low) / (high - low) * levels)``, clipped to the valid
    levels; for uint8 images with ``value_range=(0, 256)`` and 256 levels,
    ``q == x``.

    Parameters
    ----------
    image : ndarray
        One grayscale image.
    levels : int
        Number of gray levels, 2 to 256.
    value_range : tuple of (float, float)
        ``(low, high)`` of the intensity scale.

    Returns
    -------
    quantized : ndarray of uint8
    """
    low, high = value_range
    scaled = (np.asarray(image, dtype=np.float64) - low) * (levels / (high - low))
    return np.clip(np.floor(scaled), 0, levels - 1).astype(np.uint8)


@lru_cache(maxsize=4)
def _weights(levels: int) -> np.ndarray:
    """Per-cell weights whose products with P give the moments of the six classic properties."""
    i, j = np.meshgrid(np.arange(levels, dtype=np.float64), np.arange(levels, dtype=np.float64),
                       indexing="ij")  # fmt: skip
    d = i - j
    return np.stack([d * d, np.abs(d), 1.0 / (1.0 + d * d), i, j, i * i, j * j, i * j]).reshape(
        8, -1
    )


def glcm_properties(matrix: np.ndarray, properties) -> np.ndarray:
    """Properties of normalised co-occurrence matrices, as ``graycoprops`` computes them.

    The six classic properties come from one matrix product of fixed weights
    with P (``graycoprops`` makes a pass over the float64 matrix per
    property, and most of the time of a 256-level GLCM is spent there); the
    results equal scikit-image's up to floating-point rounding. Other
    properties are delegated to ``graycoprops``.

    Parameters
    ----------
    matrix : ndarray of shape (levels, levels, n_distances, n_angles)
        Normalised matrices from ``graycomatrix(..., normed=True)``.
    properties : sequence of str

    Returns
    -------
    values : ndarray of shape (n_properties * n_distances * n_angles,)
    """
    levels = matrix.shape[0]
    flat = matrix.reshape(levels * levels, -1)
    moments = _weights(levels) @ flat
    asm = np.einsum("ij,ij->j", flat, flat)
    mean_i, mean_j = moments[3], moments[4]
    std_i = np.sqrt(np.maximum(moments[5] - mean_i**2, 0.0))
    std_j = np.sqrt(np.maximum(moments[6] - mean_j**2, 0.0))
    constant = (std_i < 1e-15) | (std_j < 1e-15)  # scikit-image defines correlation as 1 there
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.where(constant, 1.0, (moments[7] - mean_i * mean_j) / (std_i * std_j))
    fast = {
        "contrast": moments[0], "dissimilarity": moments[1], "homogeneity": moments[2],
        "energy": np.sqrt(asm), "correlation": correlation, "ASM": asm,
    }  # fmt: skip
    return np.concatenate(
        [fast[p] if p in fast else graycoprops(matrix, p).ravel() for p in properties]
    )


def _glcm_rows(images, indices, distances, angles, levels, properties, symmetric, value_range):
    rows = []
    for index in indices:
        q = quantize(images[index], levels, value_range)  # a new array: memmaps are read-only
        matrix = graycomatrix(q, distances, angles, levels=levels, symmetric=symmetric, normed=True)
        rows.append(glcm_properties(matrix, properties))
    return rows


class GLCMFeatures(ImageTransformer, auto_wrap_output_keys=("transform",)):
    """Gray-level co-occurrence texture features of each image, as a 2D table.

    Each image is converted to grayscale (luma), quantised to ``levels`` gray
    levels, and its normalised co-occurrence matrix for every distance and
    angle is summarised by each property (scikit-image's ``graycomatrix``, and
    the definitions of its ``graycoprops``: the six classic properties are
    computed in one pass, equal to ``graycoprops`` up to floating-point
    rounding and about four times faster at 256 levels). Columns are ordered
    property, then distance, then angle, and named
    ``glcm_<property>_d<distance>_a<degrees>``.

    Parameters
    ----------
    distances : sequence of int, default=(1,)
        Pixel offsets.
    angles : sequence of float, default=(0, pi/4, pi/2, 3 pi/4)
        Offset directions in radians.
    levels : int, default=32
        Gray levels after quantisation (2 to 256). Fewer levels are faster
        and less noisy; 256 keeps uint8 images unquantised.
    properties : sequence of str, default=("contrast", "dissimilarity", \
            "homogeneity", "energy", "correlation", "ASM")
        Any of scikit-image's ``graycoprops`` properties: also ``"mean"``,
        ``"variance"``, ``"std"``, ``"entropy"``.
    symmetric : bool, default=True
        Count each pair in both directions.
    value_range : tuple of (float, float) or None, default=None
        Intensity scale ``(low, high)`` mapped onto the levels. None means
        ``(0, 256)`` for uint8, ``(0, 65536)`` for uint16 and ``(0, 1)`` for
        floats (as after ``IntensityScaler()``); floats outside [0, 1] then
        raise an error asking for ``value_range``.
    n_jobs : int or None, default=None
        Processes for joblib (``-1``: all cores). Images are split into one
        chunk per job; a stacked array is shared with the workers through one
        read-only memory map instead of being copied to each.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import make_synthetic_mri
    >>> from sklearn_braintumor.features import GLCMFeatures
    >>> X, y = make_synthetic_mri(3, image_size=32, random_state=0)
    >>> glcm = GLCMFeatures(properties=("energy",), angles=(0.0,))
    >>> glcm.fit_transform(X).shape, list(glcm.get_feature_names_out())
    ((3, 1), ['glcm_energy_d1_a0'])
    """

    _parameter_constraints: ClassVar[dict] = {
        "distances": ["array-like"],
        "angles": ["array-like"],
        "levels": [Interval(Integral, 2, 256, closed="both")],
        "properties": ["array-like"],
        "symmetric": ["boolean"],
        "value_range": [tuple, list, None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        distances: Sequence[int] = (1,),
        angles: Sequence[float] = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4),
        levels: int = 32,
        properties: Sequence[str] = (
            "contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM",
        ),
        symmetric: bool = True,
        value_range: tuple[float, float] | None = None,
        n_jobs: int | None = None,
    ) -> None:  # fmt: skip
        self.distances = distances
        self.angles = angles
        self.levels = levels
        self.properties = properties
        self.symmetric = symmetric
        self.value_range = value_range
        self.n_jobs = n_jobs

    def _check_param_relations(self) -> None:
        if not len(self.distances) or any(
            not isinstance(d, numbers.Integral) or d < 1 for d in self.distances
        ):
            raise self._invalid(
                f"'distances' parameter must hold positive ints, got {self.distances!r}"
            )
        if not len(self.angles):
            raise self._invalid("'angles' parameter must not be empty")
        unknown = [p for p in self.properties if p not in PROPERTIES]
        if unknown or not len(self.properties):
            raise self._invalid(
                f"'properties' parameter has unknown GLCM properties {unknown}; choose from "
                f"{PROPERTIES}"
            )
        if self.value_range is not None and (
            len(self.value_range) != 2 or not self.value_range[1] > self.value_range[0]
        ):
            raise self._invalid(
                "'value_range' parameter must be (low, high) with high > low, got "
                f"{self.value_range!r}"
            )

    def _range(self, image: np.ndarray, index: int) -> tuple[float, float]:
        if self.value_range is not None:
            low, high = self.value_range  # checked in _check_param_relations
            return float(low), float(high)
        key = image.dtype.str[1:]
        if key in _DTYPE_RANGES:
            return _DTYPE_RANGES[key]
        if image.dtype.kind == "f":
            if image.min() < 0 or image.max() > 1:
                raise ValueError(
                    f"sample {index} has float values in [{image.min():g}, {image.max():g}]; "
                    "GLCMFeatures maps floats in [0, 1] onto its levels: scale the images "
                    "with IntensityScaler() first or pass value_range=(low, high)"
                )
            return 0.0, 1.0 + 1e-9  # 1.0 falls into the top level
        raise ValueError(f"sample {index} has dtype {image.dtype}; pass value_range=(low, high)")

    def _transform_images(self, images):
        gray = Grayscale().fit_transform(images)
        ranges = {self._range(image, i) for i, image in enumerate(gray)}
        if len(ranges) > 1:
            raise ValueError("images of different dtypes need an explicit value_range")
        args = (
            list(self.distances), list(self.angles), self.levels, list(self.properties),
            self.symmetric, ranges.pop(),
        )  # fmt: skip
        n_jobs = min(effective_n_jobs(self.n_jobs), len(gray))
        if n_jobs == 1:
            rows = _glcm_rows(gray, range(len(gray)), *args)
        else:
            chunks = np.array_split(np.arange(len(gray)), n_jobs)
            if gray.dtype != object:  # one stack, memory-mapped once by joblib for all workers
                jobs = (delayed(_glcm_rows)(gray, chunk, *args) for chunk in chunks)
            else:  # differently sized images: each worker gets its own
                jobs = (
                    delayed(_glcm_rows)([gray[i] for i in chunk], range(len(chunk)), *args)
                    for chunk in chunks
                )
            rows = [row for part in Parallel(n_jobs=n_jobs)(jobs) for row in part]
        return np.asarray(rows, dtype=np.float64)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Return ``glcm_<property>_d<distance>_a<degrees>`` for each column.

        Parameters
        ----------
        input_features : None
            Ignored (pixels have no names).

        Returns
        -------
        feature_names_out : ndarray of str
        """
        self._validate_params()
        self._check_param_relations()
        names = [
            f"glcm_{p}_d{d}_a{round(float(np.degrees(a)))}"
            for p in self.properties
            for d in self.distances
            for a in self.angles
        ]
        return np.asarray(names, dtype=object)
