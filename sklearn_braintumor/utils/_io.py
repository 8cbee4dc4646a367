"""Decoding image bytes into uint8 arrays: the one place every loader goes through.

Conversions (documented in ``docs/datasets.md``):

- palette images (``P``, ``PA``) are expanded to RGB, or RGBA when they carry
  transparency; bilevel (``1``) becomes ``L`` with values 0 and 255;
- ``CMYK`` is converted to RGB with Pillow's conversion (``R = 255 - C - K``
  clipped, and so on);
- high bit-depth grayscale (``I;16*``, ``I``, ``F``) is rescaled linearly to
  0..255: zero stays black and the image maximum becomes 255 (negative
  values, which MRI magnitude images do not have, stretch the range down to
  their minimum instead); NaN or infinite values are an error;
- an alpha channel is composited over a black background (MRI background is
  black) for ``"grayscale"`` and ``"rgb"`` and kept for ``"unchanged"``;
- RGB to grayscale uses ITU-R 601-2 luma, Pillow's ``convert("L")``;
- the EXIF orientation tag, which phone photos of scans carry, is applied;
- a multi-frame file (TIFF stack, animated image) gives its first frame.

Limits (documented in ``docs/datasets.md``): only regular files are read
(FIFOs, devices and sockets, also behind a link, are refused without being
opened for a blocking read); a file over :data:`MAX_FILE_BYTES` or an image
over :data:`MAX_PIXELS` is refused before it is decoded; a JPEG whose
compressed data libjpeg reports as corrupt ("premature end of data segment",
"extraneous bytes before marker") is refused, where Pillow would silently
decode it with the damaged blocks filled in.
"""

from __future__ import annotations

import io
import os
import stat

import numpy as np
from PIL import Image, ImageOps
from sklearn.utils._param_validation import (
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)

from ..exceptions import ImageReadError
from ._images import rescale_to_uint8

#: File name suffixes read as images (compared case-insensitively).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

COLOR_MODES = ("grayscale", "rgb", "unchanged")

_HIGH_DEPTH_MODES = ("I", "F")

#: The largest image file read (bytes). MRI slices are well under 1 MB.
MAX_FILE_BYTES = 256 * 2**20
#: The most pixels one image may have: 40 megapixels (6,300 x 6,300), far above any MRI slice
#: or scanned film, far below what a decompression bomb asks for (Pillow stops at 179).
MAX_PIXELS = 40_000_000


COLOR_MODE = [StrOptions(set(COLOR_MODES))]
"""The constraint on every ``color_mode`` parameter (scikit-learn's declarative checks)."""


def check_color_mode(color_mode: str, caller: str = "color_mode") -> None:
    """Raise ``InvalidParameterError`` unless ``color_mode`` is one of :data:`COLOR_MODES`."""
    validate_parameter_constraints(
        {"color_mode": COLOR_MODE}, {"color_mode": color_mode}, caller_name=caller
    )


def _over_black(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _pil_to_array(image: Image.Image, color_mode: str) -> np.ndarray:
    mode = image.mode
    if mode == "1":
        image = image.convert("L")
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode.startswith("I;16") or mode in _HIGH_DEPTH_MODES:
        gray = rescale_to_uint8(np.asarray(image))
        image = Image.fromarray(gray, mode="L")
    elif mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        # YCbCr, LAB, HSV, RGBX, ...: Pillow knows how to reach RGB.
        image = image.convert("RGB")

    if color_mode == "unchanged":
        return np.asarray(image, dtype=np.uint8).copy()
    if image.mode in ("LA", "RGBA"):
        image = _over_black(image)
    if color_mode == "grayscale":
        return np.asarray(image.convert("L"), dtype=np.uint8).copy()
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def _check_jpeg_data(data: bytes, name: str) -> None:
    """Refuse JPEG data that libjpeg reports as corrupt (Pillow decodes it without a word).

    libjpeg-turbo's recoverable errors ("Corrupt JPEG data: ...") are raised by
    simplejpeg's strict mode; decoding at 1/8 scale still reads every
    compressed block, in about 0.2 ms for a 512 px slice.
    """
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_factor=8, strict=True)
    except ValueError as exc:
        message = str(exc)
        if message.startswith(("Corrupt JPEG data", "Premature end of JPEG file")):
            raise ImageReadError(name, f"damaged JPEG data ({message})") from exc
        # anything else (CMYK, 12-bit, arithmetic coding) is left to Pillow to decode or refuse


def read_file_bytes(path, *, what: str = "image", max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Return a regular file's bytes; refuse FIFOs, devices, sockets and oversized files.

    The file is opened non-blocking (a FIFO named ``scan.png`` cannot hang the
    caller) and checked with ``fstat`` on the open descriptor, so a link to
    ``/dev/zero`` is refused too.

    Raises
    ------
    ImageReadError
        Naming ``path``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ImageReadError(str(path), exc.strerror or str(exc)) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                    or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "a folder"
                    if stat.S_ISDIR(mode) else "not a regular file")  # fmt: skip
            raise ImageReadError(str(path), f"is {kind}, not a regular {what} file")
        with os.fdopen(os.dup(fd), "rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise ImageReadError(str(path), exc.strerror or str(exc)) from exc
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        limit = f"{max_bytes / 2**20:.0f} MiB" if max_bytes >= 2**20 else f"{max_bytes} bytes"
        raise ImageReadError(str(path), f"is larger than {limit}, the limit for one {what} file")
    return data


@validate_params({"color_mode": COLOR_MODE}, prefer_skip_nested_validation=True)
def decode_image(data: bytes, *, name: str, color_mode: str = "grayscale") -> np.ndarray:
    """Decode one encoded image into a uint8 array.

    Parameters
    ----------
    data : bytes
        The file's contents.
    name : str
        The file's path or archive member name, used in error messages.
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
        ``"grayscale"`` gives (height, width), ``"rgb"`` (height, width, 3),
        ``"unchanged"`` keeps the stored channels: (height, width) for
        single-channel files, (height, width, 2) for LA, 3 for RGB, 4 for RGBA
        and CMYK.

    Returns
    -------
    image : ndarray of uint8

    Raises
    ------
    ImageReadError
        If the bytes are not a readable image (unknown format, truncated,
        corrupt JPEG data, more than :data:`MAX_PIXELS` pixels, NaN in a
        floating-point TIFF).

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sklearn_braintumor.datasets import decode_image
    >>> buffer = io.BytesIO()
    >>> Image.fromarray(np.zeros((8, 6, 3), np.uint8)).save(buffer, format="PNG")
    >>> decode_image(buffer.getvalue(), name="scan.png").shape
    (8, 6)
    >>> decode_image(buffer.getvalue(), name="scan.png", color_mode="rgb").shape
    (8, 6, 3)
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageReadError(
                    name,
                    f"is {width} x {height} pixels, more than the {MAX_PIXELS // 10**6}-"
                    "megapixel limit for one image (not a scan, or a decompression bomb)",
                )
            if image.format == "JPEG":
                _check_jpeg_data(data, name)
            image.load()  # decode fully here: a truncated file fails now
            ImageOps.exif_transpose(image, in_place=True)
            return _pil_to_array(image, color_mode)
    except ImageReadError:
        raise
    except Image.UnidentifiedImageError as exc:  # PIL's message names a BytesIO object
        raise ImageReadError(name, "not an image, or an unsupported format") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageReadError(name, str(exc) or type(exc).__name__) from exc


@validate_params({"color_mode": COLOR_MODE}, prefer_skip_nested_validation=True)
def read_image(path, *, color_mode: str = "grayscale") -> np.ndarray:
    """Read and decode one image file, as :func:`decode_image` does its bytes.

    Parameters
    ----------
    path : str or path-like
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
        As in :func:`decode_image`; the shipped models take grayscale.

    Returns
    -------
    image : ndarray of uint8, shape (height, width[, channels])

    Raises
    ------
    ImageReadError
        Naming ``path``, when the file cannot be opened or decoded, is not a
        regular file (FIFO, device, socket) or is over :data:`MAX_FILE_BYTES`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from sklearn_braintumor.datasets import load_sample, read_image
    >>> path = Path(tempfile.mkdtemp()) / "scan.png"
    >>> Image.fromarray(load_sample("test").images[0]).save(path)
    >>> read_image(path).shape
    (224, 224)
    """
    return decode_image(read_file_bytes(path), name=str(path), color_mode=color_mode)
