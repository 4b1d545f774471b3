"""Fixtures for tests against a real containerd (Debian package ``containerd``) and a real
distribution registry standing in for ECR, both on loopback (containerd on a private socket)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "registry"))

from containerd_support import Containerd, start_containerd
from regsupport import RegistryServer, registry_binary, run_registry


@pytest.fixture
def containerd(tmp_path: Path) -> Iterator[Containerd]:
    """A containerd of this test's own: root and state under tmp_path, a private socket, no
    CRI plugin, no systemd; killed at teardown. Skips, saying why, where it cannot run."""
    with start_containerd(tmp_path / "containerd") as daemon:
        yield daemon


@pytest.fixture
def ecr_standin(tmp_path: Path) -> Iterator[RegistryServer]:
    """A distribution registry with htpasswd basic auth, as ECR answers: the cache."""
    if registry_binary() is None:
        pytest.skip("the distribution registry (Debian package docker-registry) is not installed")
    with run_registry(tmp_path / "registry") as server:
        yield server
