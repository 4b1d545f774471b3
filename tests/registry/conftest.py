"""Fixtures for tests against a real distribution registry on loopback (see regsupport.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from regsupport import RegistryServer, registry_binary, registry_pair

SKIP_REASON = (
    "the distribution registry binary (Debian package docker-registry) is not installed; "
    "apt-get install docker-registry (.ci/run does)"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if registry_binary() is not None:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("registry"):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def shared_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RegistryServer, ...]]:
    """An upstream and a proxy kept for a whole module: tests must use distinct repositories."""
    with registry_pair(tmp_path_factory.mktemp("registries")) as pair:
        yield pair


@pytest.fixture
def fresh_pair(tmp_path: Path) -> Iterator[tuple[RegistryServer, ...]]:
    """A pair of its own, for tests that stop the upstream."""
    with registry_pair(tmp_path / "registries") as pair:
        yield pair
