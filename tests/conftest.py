"""Shared fixtures: an isolated data home per test and no network beyond loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _check_host(host) -> None:
    if host is None or str(host) in _LOCAL_NAMES:
        return
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        raise OSError(f"tests may not reach the network (host {host!r})") from None
    if not address.is_loopback:
        raise OSError(f"tests may not reach the network (address {host})")


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check_host(address[0])
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check_host(address[0])
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    _check_host(host.decode() if isinstance(host, bytes) else host)
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    """A fresh dataset cache for each test, also set as the default."""
    home = tmp_path / "data_home"
    monkeypatch.setenv("SKLEARN_BRAINTUMOR_DATA", str(home))
    return home


_PREDICT = """
import sys, numpy as np, torch
from sklearn_braintumor.utils import load
assert not torch.cuda.is_available()
np.save(sys.argv[3], load(sys.argv[1], trusted=True).predict_proba(np.load(sys.argv[2])))
"""


@pytest.fixture
def predict_without_gpu(tmp_path):
    """``predict(model_file, X)``: probabilities from a process that sees no GPU.

    The model (a pickle) is loaded with ``utils.load(trusted=True)``; ``tests/`` is on the path, so
    networks defined in test helpers (``ddp_worker.IdNet``) unpickle.
    """

    def predict(model_file, X):
        np.save(tmp_path / "X.npy", X)
        path = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": path}
        subprocess.run(
            [sys.executable, "-c", _PREDICT, str(model_file), str(tmp_path / "X.npy"),
             str(tmp_path / "proba.npy")],
            check=True, env=env, timeout=120,
        )  # fmt: skip
        return np.load(tmp_path / "proba.npy")

    return predict


def mat_slice(image, label, pid) -> bytes:
    """One slice in the figshare set's MATLAB v7.3 layout (``cjdata``), as bytes."""
    import io

    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        group = handle.create_group("cjdata")
        group["image"] = image.T  # MATLAB's column-major order, as the real files
        group["label"] = np.array([[float(label)]])
        group["PID"] = np.array([[ord(c)] for c in pid], dtype=np.uint16)
        group["tumorMask"] = np.zeros(image.shape[::-1], dtype=np.uint8)
    return buffer.getvalue()
