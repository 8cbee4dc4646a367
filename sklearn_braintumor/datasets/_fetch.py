"""Download, verify, cache and load the public datasets of :mod:`._registry`."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from http.client import HTTPException
from numbers import Real
from pathlib import Path, PurePosixPath

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._version import __version__
from ..exceptions import ChecksumError, DownloadError
from ..utils._images import stack_images
from ..utils._io import COLOR_MODE
from ..utils._persistence import atomic_write_text
from ._base import get_data_home
from ._figshare import load_figshare_folder
from ._folder import load_image_folder
from ._registry import DATASETS, DatasetInfo

__all__ = ["fetch_dataset"]

logger = logging.getLogger(__name__)

MANIFEST_NAME = ".sklearn_braintumor_manifest.json"
_CHUNK = 1 << 20
_SUBSETS = {"train": "Training", "test": "Testing"}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(
    url: str, destination: Path, timeout: float, *, max_bytes: int | None = None,
    deadline: float | None = None,
) -> str:  # fmt: skip
    """Stream ``url`` into ``destination``; return the SHA-256 of the bytes.

    ``timeout`` bounds each wait for the server; ``deadline`` (seconds) the
    whole download, so a server that sends a byte now and then cannot hold
    it forever; ``max_bytes`` the size, so an endless body cannot fill the
    disk (a larger ``Content-Length`` is refused before anything is written).
    """
    request = urllib.request.Request(
        url, headers={"User-Agent": f"sklearn-braintumor/{__version__}"}
    )
    digest = hashlib.sha256()
    received = 0
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            if max_bytes is not None and expected is not None and int(expected) > max_bytes:
                raise DownloadError(
                    f"{url} announces {int(expected)} bytes, more than the {max_bytes} expected"
                )
            with open(destination, "wb") as out:
                while block := response.read1(_CHUNK):  # returns what has arrived
                    received += len(block)
                    if max_bytes is not None and received > max_bytes:
                        raise DownloadError(
                            f"download of {url} goes past {max_bytes} bytes, the most expected; "
                            "nothing was cached"
                        )
                    if deadline is not None and time.monotonic() - start > deadline:
                        raise DownloadError(
                            f"download of {url} did not finish within {deadline:.0f} s "
                            f"({received} bytes received); nothing was cached"
                        )
                    out.write(block)
                    digest.update(block)
    except DownloadError:
        raise
    except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:
        raise DownloadError(f"download of {url} failed: {exc}") from exc
    if expected is not None and received != int(expected):
        raise DownloadError(f"download of {url} is incomplete: {received} of {expected} bytes")
    return digest.hexdigest()


def _safe_extract(archive: Path, destination: Path, source: str) -> None:
    """Extract a zip, refusing members that would land outside ``destination``."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.infolist():
                parts = PurePosixPath(member.filename.replace("\\", "/")).parts
                if (
                    member.filename.startswith(("/", "\\"))
                    or ".." in parts
                    or (parts and ":" in parts[0])
                ):
                    raise DownloadError(
                        f"archive from {source} holds an unsafe path "
                        f"{member.filename!r}; refusing to extract it"
                    )
            zipped.extractall(destination)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise DownloadError(f"archive from {source} is not a readable zip: {exc}") from exc


def _extract_nested(root: Path, source: str) -> None:
    """Unpack zips found inside an extracted tree (figshare ships zips in a zip)."""
    for inner in sorted(root.rglob("*.zip")):
        target = inner.with_suffix("")
        target.mkdir(exist_ok=True)
        _safe_extract(inner, target, f"{source} ({inner.name})")
        inner.unlink()


def _hash_tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): _sha256_file(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST_NAME
    }


def _kagglehub_download(handle: str, destination: Path) -> None:
    import kagglehub

    try:
        kagglehub.dataset_download(handle, output_dir=str(destination))
    except Exception as exc:  # kagglehub raises its own and requests' errors
        raise DownloadError(f"kagglehub could not download {handle!r}: {exc}") from exc


def _download_into_cache(info: DatasetInfo, home: Path, timeout: float) -> Path:
    """Download and extract ``info`` into ``home/info.name``, atomically."""
    final = home / info.name
    staging = Path(tempfile.mkdtemp(prefix=f".{info.name}-partial-", dir=home))
    try:
        tree = staging / "data"
        tree.mkdir()
        use_kagglehub = (
            info.kaggle_handle is not None and importlib.util.find_spec("kagglehub") is not None
        )
        if use_kagglehub:
            source = f"kagglehub:{info.kaggle_handle}"
            logger.info("downloading %s with kagglehub into %s", info.name, final)
            _kagglehub_download(info.kaggle_handle, tree)
            archive_sha256 = None
        else:
            source = info.url
            logger.info("downloading %s from %s into %s", info.name, info.url, final)
            archive = staging / "archive.zip"
            archive_sha256 = _download(info.url, archive, timeout)
            if info.sha256 is not None and archive_sha256 != info.sha256:
                raise ChecksumError(
                    f"SHA-256 of the archive downloaded from {info.url} is "
                    f"{archive_sha256}, expected {info.sha256}; nothing was cached"
                )
            _safe_extract(archive, tree, info.url)
            archive.unlink()
        _extract_nested(tree, source)
        manifest = {
            "name": info.name,
            "source": source,
            "archive_sha256": archive_sha256,
            "archive_sha256_known_in_advance": info.sha256 is not None,
            "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sklearn_braintumor_version": __version__,
            "files": _hash_tree(tree),
        }
        atomic_write_text(tree / MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=True))
        try:
            os.replace(tree, final)
        except OSError:
            # Another process finished the same download first: use its copy.
            if not (final / MANIFEST_NAME).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _find_folder(root: Path, required: tuple[str, ...]) -> Path:
    """Return the shallowest folder under ``root`` holding every ``required`` one."""
    level = [root]
    for _ in range(4):
        for folder in level:
            if all((folder / name).is_dir() for name in required):
                return folder
        level = sorted(
            child
            for folder in level
            for child in folder.iterdir()
            if child.is_dir() and not child.name.startswith(".")
        )
    raise DownloadError(
        f"no folder holding {list(required)} in the cached copy at {root}; "
        f"delete {root} and fetch again"
    )


def _read_manifest(root: Path) -> dict:
    """Return the download record of a cached dataset; a damaged one names its path."""
    path = root / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest.get("files"), dict):
            raise ValueError("no 'files' record")
    except (ValueError, OSError) as exc:  # JSONDecodeError is a ValueError
        raise ChecksumError(
            f"the download record {path} is damaged ({exc}); delete {root} and fetch again"
        ) from exc
    return manifest


def _verify(root: Path, manifest: dict, read: dict[str, str]) -> None:
    """Check the loaded files against the download record: the same list, the same SHA-256."""
    recorded = {str((root / relative).resolve()) for relative in manifest["files"]}
    extra = sorted(path for path in read if path not in recorded)
    if extra:
        raise ChecksumError(
            f"{len(extra)} file(s) in the cache at {root} were not there at download, e.g. "
            f"{extra[0]}; remove them, or delete {root} and fetch again"
        )
    for relative, expected in manifest["files"].items():
        path = root / relative
        if not path.is_file():
            raise ChecksumError(
                f"cached file {path} recorded at download is missing; delete {root} and fetch again"
            )
        actual = read.get(str(path.resolve())) or _sha256_file(path)
        if actual != expected:
            raise ChecksumError(
                f"cached file {path} changed since it was downloaded (SHA-256 "
                f"{actual}, recorded {expected}); delete {root} and fetch again"
            )


def _load_split_folders(root: Path, subset: str, color_mode: str, **options) -> Bunch:
    """Load ``Training`` / ``Testing`` below ``root`` (``options`` go to load_image_folder)."""
    base = _find_folder(root, tuple(_SUBSETS.values()))
    subsets = ["train", "test"] if subset == "all" else [subset]
    parts = []
    classes = None
    for name in subsets:
        part = load_image_folder(
            base / _SUBSETS[name], classes=classes, color_mode=color_mode, **options
        )
        classes = part.target_names
        parts.append((name, part))
    images = [image for _, part in parts for image in part.images]
    return Bunch(
        images=stack_images(images),
        target=np.concatenate([part.target for _, part in parts]),
        target_names=classes,
        filenames=np.concatenate([part.filenames for _, part in parts]),
        sha256=np.concatenate([part.sha256 for _, part in parts]),
        subset=np.concatenate([[name] * len(part.target) for name, part in parts]),
    )


def _load(info: DatasetInfo, root: Path, subset: str, color_mode: str) -> Bunch:
    if info.layout == "split_folders":
        return _load_split_folders(root, subset, color_mode)
    if subset != "all":
        raise ValueError(
            f"dataset {info.name!r} has no official split; use subset='all' "
            "and split it with scikit-learn"
        )
    if info.layout == "folders":
        base = _find_folder(root, info.classes)
        data = load_image_folder(base, classes=info.classes, color_mode=color_mode)
        del data["DESCR"]
        return data
    if info.layout == "figshare_mat":
        return load_figshare_folder(root, color_mode=color_mode)
    raise ValueError(f"unknown layout {info.layout!r} for dataset {info.name!r}")


def dataset_path(name: str, data_home: str | os.PathLike | None = None) -> Path | None:
    """Return the cache folder of dataset ``name`` if it has been fetched, else None."""
    root = get_data_home(data_home) / name
    return root if (root / MANIFEST_NAME).is_file() else None


@validate_params(
    {
        "name": [str],
        "download_if_missing": ["boolean"],
        "subset": [StrOptions({"all", *_SUBSETS})],
        "color_mode": COLOR_MODE,
        "return_X_y": ["boolean"],
        "timeout": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def fetch_dataset(
    name: str,
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    subset: str = "all",
    color_mode: str = "grayscale",
    return_X_y: bool = False,
    timeout: float = 60.0,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load a public brain MRI dataset, downloading it into the cache if needed.

    The first call downloads the archive (with ``kagglehub`` for Kaggle-hosted
    sets when that package is installed, otherwise from the source URL),
    checks its SHA-256 when the registry knows it, extracts it into a hidden
    temporary folder of the data home and renames that folder into place, so
    an interrupted or failed download leaves nothing behind. It then records
    the SHA-256 of every extracted file; every later call verifies the files
    against that record before returning them. The source hashes of these
    datasets could not be obtained when the registry was written, so for them
    this is trust on first use: the record protects against later corruption,
    not against a bad first download.

    Parameters
    ----------
    name : str
        A key of ``sklearn_braintumor.datasets.DATASETS``:
        ``"brain-tumor-mri-4class"``, ``"figshare-cheng-3064"`` or
        ``"brain-mri-yes-no"``. ``braintumor datasets`` lists them.
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False and the dataset is not cached, raise ``FileNotFoundError``
        instead of downloading.
    subset : {"all", "train", "test"}, default="all"
        For datasets with an official split (the 4-class set). Others accept
        ``"all"`` only.
    color_mode : {"grayscale", "rgb", "unchanged"}, default="grayscale"
        As in :func:`load_image_folder`.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.
    timeout : float, default=60
        Seconds to wait for the server before giving up.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images``, ``target``, ``target_names``, ``filenames``, ``sha256``,
        ``DESCR`` and ``path`` (the cache folder); ``subset`` ("train" or
        "test" per sample) for split datasets; ``groups`` (patient IDs) and,
        when the archive has it, ``cv_fold`` for ``"figshare-cheng-3064"``.
    (images, target) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the dataset is not cached and ``download_if_missing`` is False.
    DownloadError
        If the download or the extraction fails (the message names the URL).
    ChecksumError
        If the archive or a cached file does not match its SHA-256.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import fetch_dataset
    >>> data = fetch_dataset("brain-tumor-mri-4class", subset="test")  # doctest: +SKIP
    >>> data.images.shape, data.target_names  # doctest: +SKIP
    ((1311, 224, 224), ['glioma', 'meningioma', 'notumor', 'pituitary'])
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    info = DATASETS[name]
    home = get_data_home(data_home)
    root = dataset_path(name, home)
    if root is None:
        if not download_if_missing:
            raise FileNotFoundError(
                f"dataset {name!r} is not in {home}. Download it with "
                f"`braintumor fetch {name} --data-home {home}` or "
                f"fetch_dataset({name!r}, data_home={str(home)!r})."
            )
        if (home / name).exists():
            raise DownloadError(
                f"{home / name} exists but has no download record ({MANIFEST_NAME}): a damaged "
                f"or hand-made cache. Delete {home / name} and fetch again"
            )
        root = _download_into_cache(info, home, timeout)

    manifest = _read_manifest(root)
    data = _load(info, root, subset, color_mode)
    read = {
        str(Path(path).resolve()): digest
        for path, digest in zip(data.filenames, data.sha256, strict=True)
    }
    _verify(root, manifest, read)
    if return_X_y:
        return data.images, data.target
    counts = np.bincount(data.target, minlength=len(data.target_names))
    data.DESCR = "\n".join(
        [
            info.title,
            "=" * len(info.title),
            "",
            info.description,
            "",
            f"Source: {manifest['source']} (downloaded {manifest['downloaded_at']}).",
            f"Licence: {info.licence}.",
            f"Cite: {info.citation}",
            "",
            f"Loaded subset={subset!r}, color_mode={color_mode!r} from {root}:",
            *(f"  {cls}: {n}" for cls, n in zip(data.target_names, counts, strict=True)),
            "",
        ]
    )
    data.path = root
    return data
