"""Shared fixtures: an isolated data home per test and no network beyond loopback."""

from __future__ import annotations

import ipaddress
import socket

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
