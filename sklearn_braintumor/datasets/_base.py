"""Where downloaded datasets are cached."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["clear_data_home", "get_data_home"]

DATA_HOME_ENV = "SKLEARN_BRAINTUMOR_DATA"


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder that caches downloaded datasets, creating it if needed.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. ``None`` means the environment variable
        ``SKLEARN_BRAINTUMOR_DATA`` if it is set, else
        ``~/sklearn_braintumor_data``. ``~`` is expanded.

    Returns
    -------
    data_home : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_braintumor.datasets import get_data_home
    >>> home = get_data_home(tempfile.mkdtemp())
    >>> home.is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or Path("~", "sklearn_braintumor_data")
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def clear_data_home(data_home: str | os.PathLike | None = None) -> None:
    """Delete every cached dataset in the data home.

    Parameters
    ----------
    data_home : str or path-like, default=None
        As for :func:`get_data_home`.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_braintumor.datasets import clear_data_home, get_data_home
    >>> home = get_data_home(tempfile.mkdtemp())
    >>> clear_data_home(home)
    >>> home.exists()
    False
    """
    shutil.rmtree(get_data_home(data_home))
