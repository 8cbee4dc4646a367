"""Exact and perceptual image hashes for duplicate detection."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image
from scipy.fft import dct


def pixel_hash(image: ArrayLike) -> str:
    """Return the MD5 hex digest of an image's pixel values, shape and dtype.

    Two images get the same digest exactly when their decoded arrays are
    identical, whatever file format or metadata they were stored with (this is
    the "MD5 of pixel values" de-duplication of the GBMnet paper).

    Parameters
    ----------
    image : array-like
        One image, any shape and dtype.

    Returns
    -------
    digest : str
        32 hexadecimal characters.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.utils import pixel_hash
    >>> image = np.zeros((4, 4), np.uint8)
    >>> pixel_hash(image) == pixel_hash(image.copy()), pixel_hash(image) == pixel_hash(image.T[:3])
    (True, False)
    """
    array = np.ascontiguousarray(image)
    digest = hashlib.md5(usedforsecurity=False)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def _phash_one(image: np.ndarray, hash_size: int, highfreq_factor: int) -> int:
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        pil = Image.fromarray(np.ascontiguousarray(array[..., :3], dtype=np.uint8))
    elif array.ndim == 2:
        pil = Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8))
    else:
        raise ValueError(
            f"phash expects 2D grayscale or (height, width, 3|4) images, got shape {array.shape}"
        )
    if array.dtype != np.uint8:
        raise ValueError(f"phash expects uint8 images, got dtype {array.dtype}")
    size = hash_size * highfreq_factor
    small = pil.convert("L").resize((size, size), Image.Resampling.LANCZOS)
    coefficients = dct(dct(np.asarray(small, dtype=np.float64), axis=0), axis=1)
    low = coefficients[:hash_size, :hash_size]
    bits = (low > np.median(low)).ravel()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def phash(
    images: ArrayLike | Iterable[ArrayLike],
    *,
    hash_size: int = 8,
    highfreq_factor: int = 4,
) -> np.ndarray:
    """Compute the DCT perceptual hash of one image or of each image in a sequence.

    The algorithm is the one of the ``ImageHash`` package (``imagehash.phash``):
    convert to 8-bit grayscale, resize to ``hash_size * highfreq_factor``
    squared pixels with Lanczos filtering, take the 2D DCT-II, keep the
    ``hash_size`` x ``hash_size`` lowest frequencies and set one bit per
    coefficient above their median. Bits are packed row-major, first bit most
    significant, so ``format(h, "016x")`` equals ``str(imagehash.phash(img))``.

    Parameters
    ----------
    images : array-like of shape (height, width[, channels]) or sequence of them
        uint8 images; a 2D array or a single (height, width, 3|4) array is one
        image, anything else a sequence (a stacked array or a list of
        differently sized images).
    hash_size : int, default=8
        Side of the kept low-frequency block; ``hash_size ** 2`` must be <= 64.
    highfreq_factor : int, default=4
        The image is resized to ``hash_size * highfreq_factor`` pixels a side.

    Returns
    -------
    hashes : ndarray of uint64
        A 0-d array for one image, else shape (n_images,).

    Examples
    --------
    >>> from sklearn_braintumor.datasets import load_sample
    >>> from sklearn_braintumor.utils import hamming_distances, phash
    >>> images = load_sample("test").images[:2]
    >>> hashes = phash(images)
    >>> hashes.dtype, int(hamming_distances(hashes)[0, 0])
    (dtype('uint64'), 0)
    """
    if hash_size * hash_size > 64:
        raise ValueError(f"hash_size={hash_size} gives more than 64 bits")
    if isinstance(images, np.ndarray) and images.dtype != object:
        if images.ndim == 2 or (images.ndim == 3 and images.shape[-1] in (3, 4)):
            return np.uint64(_phash_one(images, hash_size, highfreq_factor))
    return np.array(
        [_phash_one(np.asarray(img), hash_size, highfreq_factor) for img in images],
        dtype=np.uint64,
    )


def _bits(hashes: np.ndarray) -> np.ndarray:
    hashes = np.atleast_1d(np.asarray(hashes, dtype=np.uint64))
    return np.unpackbits(hashes.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)


def hamming_distances(hashes_a: ArrayLike, hashes_b: ArrayLike | None = None) -> np.ndarray:
    """Pairwise Hamming distances between two sets of 64-bit hashes.

    Parameters
    ----------
    hashes_a : array-like of uint64, shape (n_a,)
        Hashes from :func:`phash`.
    hashes_b : array-like of uint64, shape (n_b,), default=None
        Second set; ``None`` compares ``hashes_a`` with itself.

    Returns
    -------
    distances : ndarray of shape (n_a, n_b), dtype int64
        Number of differing bits for each pair.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_braintumor.utils import hamming_distances
    >>> hamming_distances(np.array([0b1011], dtype=np.uint64), np.array([0b0001], dtype=np.uint64))
    array([[2]])
    """
    bits_a = _bits(np.asarray(hashes_a)).astype(np.float32)
    bits_b = bits_a if hashes_b is None else _bits(np.asarray(hashes_b)).astype(np.float32)
    # |a xor b| = a.(1-b) + (1-a).b, as two matrix products (exact in float32).
    distances = bits_a @ (1.0 - bits_b).T + (1.0 - bits_a) @ bits_b.T
    return np.rint(distances).astype(np.int64)
