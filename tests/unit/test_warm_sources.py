"""warm's jobs: references given, or found in files by rewrite (pure: no registry, no AWS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecrcache.errors import InvalidReferenceError
from ecrcache.registry.warm import jobs_from_files, jobs_from_references
from ecrcache.registry.warm.sources import HELM_PROBLEM, VARIABLE_PROBLEM
from ecrcache.rewrite.mapping import Mapping, Route

REGISTRY = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
MAPPING = Mapping(
    (
        Route("docker-hub", "docker-hub", ("docker.io", "registry-1.docker.io")),
        Route("quay", "quay", ("quay.io",)),
    ),
    REGISTRY,
)


def test_references_map_as_test_pull_resolves_them() -> None:
    jobs, warnings = jobs_from_references(
        ["nginx:1.27", "quay.io/org/app@sha256:" + "a" * 64, "ghcr.io/x/y:1"], MAPPING
    )
    assert [j.target.image if j.target else None for j in jobs] == [
        f"{REGISTRY}/docker-hub/library/nginx:1.27",
        f"{REGISTRY}/quay/org/app@sha256:" + "a" * 64,
        None,
    ]
    assert jobs[2].problem is not None and "ghcr.io" in jobs[2].problem
    # test-pull's "clients pull by the digest" warning does not apply: warm reports it itself
    assert warnings == ()


def test_the_same_image_twice_is_one_job() -> None:
    jobs, _ = jobs_from_references(["nginx:1.27", "docker.io/library/nginx:1.27"], MAPPING)
    assert len(jobs) == 1 and jobs[0].reference == "nginx:1.27"


def test_a_malformed_reference_is_bad_input() -> None:
    with pytest.raises(InvalidReferenceError):
        jobs_from_references(["nginx:1.27", "Not/Valid"], MAPPING)


def test_registry_url_replaces_the_scheme_and_host_to_pull_from() -> None:
    local = Mapping(MAPPING.routes, "127.0.0.1:5000")
    jobs, _ = jobs_from_references(["nginx:1"], local, registry_url="http://127.0.0.1:5000")
    assert jobs[0].target is not None
    assert jobs[0].target.registry_url == "http://127.0.0.1:5000"
    assert jobs[0].target.repository == "docker-hub/library/nginx"


def test_files_forward_reverse_variables_helm_and_warnings(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        "app:\n  image:\n    repository: bitnami/redis\n    tag: 7.4\n"
        "other:\n  image:\n    registry: quay.io\n    repository: org/thing\n"
        f"cached:\n  image: {REGISTRY}/quay/org/done:1\n"
        "templated:\n  image: nginx:${TAG}\n"
        "elsewhere:\n  image: ghcr.io/org/app:1\n"
    )
    jobs, warnings = jobs_from_files([tmp_path], MAPPING)
    summary = [(j.reference, j.sources, j.problem) for j in jobs]
    assert summary == [
        ("bitnami/redis:7.4", (f"{values}:3",), None),  # the tag from its own key
        ("quay.io/org/thing", (f"{values}:8",), HELM_PROBLEM),  # no tag: the chart's choice
        (f"{REGISTRY}/quay/org/done:1", (f"{values}:10",), None),
        ("nginx:${TAG}", (f"{values}:12",), VARIABLE_PROBLEM),
    ]
    assert warnings == (
        f"{values}:14: ghcr.io/org/app:1: no pull-through cache rule for ghcr.io; left unchanged",
    )
    assert jobs[0].target is not None
    assert jobs[0].target.image == f"{REGISTRY}/docker-hub/bitnami/redis:7.4"


@pytest.mark.parametrize(
    ("values", "reference", "image"),
    [
        (
            "image: {registry: docker.io, repository: bitnami/nginx, tag: 1.25}\n",
            "docker.io/bitnami/nginx:1.25",
            f"{REGISTRY}/docker-hub/bitnami/nginx:1.25",
        ),
        (  # 1.10 stays 1.10: the tag as written, not YAML's float
            "image:\n  registry: quay.io\n  repository: org/tool\n  tag: 1.10\n",
            "quay.io/org/tool:1.10",
            f"{REGISTRY}/quay/org/tool:1.10",
        ),
        (  # already in the cache form (rewrite's reverse pass)
            f"image:\n  registry: {REGISTRY}\n  repository: quay/org/tool\n  tag: '2'\n",
            f"{REGISTRY}/quay/org/tool:2",
            f"{REGISTRY}/quay/org/tool:2",
        ),
        (  # the registry from the global one, as rewrite resolves it
            "global:\n  imageRegistry: quay.io\nimage:\n  registry: quay.io\n"
            "  repository: org/tool\n  tag: v3\n",
            "quay.io/org/tool:v3",
            f"{REGISTRY}/quay/org/tool:v3",
        ),
    ],
    ids=["flow", "block", "cached", "global"],
)
def test_split_helm_blocks_resolve_as_rewrite_maps_them(
    tmp_path: Path, values: str, reference: str, image: str
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(values)
    jobs, warnings = jobs_from_files([path], MAPPING)
    assert warnings == ()
    assert [(j.reference, j.problem) for j in jobs] == [(reference, None)]
    assert jobs[0].target is not None and jobs[0].target.image == image


def test_dockerfile_stages_are_not_images(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE=alpine:3.20\nFROM $BASE AS build\nFROM build\nCOPY --from=build /a /a\n"
    )
    jobs, _ = jobs_from_files([dockerfile], MAPPING)
    assert [(j.reference, j.sources) for j in jobs] == [("alpine:3.20", (f"{dockerfile}:1",))]
    assert jobs[0].target is not None
    assert jobs[0].target.image == f"{REGISTRY}/docker-hub/library/alpine:3.20"
