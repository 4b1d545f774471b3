"""Compose files by Compose's own names (compose.yaml, compose.yml, docker-compose.yaml,
docker-compose.yml and their .override files), not by "compose" anywhere in the name."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecrcache.rewrite.files import rewrite_file_text
from ecrcache.rewrite.mapping import Mapping, Route

REGISTRY = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
MAPPING = Mapping(
    (Route("docker-hub", "docker-hub", ("docker.io", "registry-1.docker.io")),), REGISTRY
)
# Two documents: never Compose by content, so only the name can make it one.
VALUES = "app:\n  image: nginx:1.27\n---\nother: 1\n"


@pytest.mark.parametrize(
    "name",
    [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yaml",
        "docker-compose.yml",
        "compose.override.yaml",
        "docker-compose.override.yml",
    ],
)
def test_compose_names_are_compose(name: str) -> None:
    found = rewrite_file_text(Path(name), VALUES, MAPPING)
    assert found.kind == "compose"
    assert found.after == VALUES  # Compose reads services.<name>.image only


@pytest.mark.parametrize(
    "name", ["decompose.yaml", "composer.yml", "compose-notes.yaml", "my-compose.yml"]
)
def test_names_that_only_contain_compose_are_not(name: str) -> None:
    found = rewrite_file_text(Path(name), VALUES, MAPPING)
    assert found.kind == "helm-values"
    assert found.after == VALUES.replace("nginx:1.27", f"{REGISTRY}/docker-hub/library/nginx:1.27")


def test_a_compose_file_by_another_name_is_still_found_by_its_content() -> None:
    text = "services:\n  web:\n    image: nginx:1.27\n"
    found = rewrite_file_text(Path("stack.yaml"), text, MAPPING)
    assert found.kind == "compose" and f"{REGISTRY}/docker-hub/library/nginx:1.27" in found.after
