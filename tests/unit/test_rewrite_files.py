"""Finding and rewriting references in YAML files and Dockerfiles: only reference bytes change."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.test_rewrite_mapping import HOST, RULES

from ecrcache.rewrite.files import rewrite_file_text
from ecrcache.rewrite.mapping import Mapping, routes_from_rules

MAPPING = Mapping(routes_from_rules(RULES), HOST)
C = HOST  # shorter tables


def rewrite(name: str, text: str, *, reverse: bool = False) -> str:
    return rewrite_file_text(Path(name), text, MAPPING, reverse=reverse).after


YAML_CASES = [
    pytest.param(
        "image: nginx # pinned later\n",
        f"image: {C}/docker-hub/library/nginx # pinned later\n",
        id="comment kept, no :latest added",
    ),
    pytest.param(
        "a:\n  image: 'quay.io/a/b:1'\nb:\n  image: \"ghcr.io/c/d@sha256:" + "0" * 64 + '"',
        f"a:\n  image: '{C}/quay/a/b:1'\nb:\n  image: \"{C}/github/c/d@sha256:" + "0" * 64 + '"',
        id="quotes kept, no final newline added",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Pod\nspec:\n  initContainers:\n  - image: busybox:1\n"
        "  containers:\n  - name: x\n    image: nginx:1\n---\n# second\n"
        "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n"
        "        spec:\n          containers:\n            - image: registry.k8s.io/pause:3\n",
        "apiVersion: v1\nkind: Pod\nspec:\n  initContainers:\n"
        f"  - image: {C}/docker-hub/library/busybox:1\n"
        f"  containers:\n  - name: x\n    image: {C}/docker-hub/library/nginx:1\n---\n# second\n"
        "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n"
        f"        spec:\n          containers:\n            - image: {C}/k8s/pause:3\n",
        id="every container list in every document",
    ),
    pytest.param(
        'global:\n  imageRegistry: ""\n'
        "image:\n  registry: docker.io\n  repository: bitnami/wordpress\n"
        '  tag: 6.5.3\n  digest: ""\n'
        'sidecarImage:\n  repository: nginx\n  tag: "1"\n'
        "tools:\n  image:\n    kubectl:\n"
        "      registry: registry.k8s.io\n      repository: kubectl\n",
        'global:\n  imageRegistry: ""\n'
        f"image:\n  registry: {C}\n  repository: docker-hub/bitnami/wordpress\n"
        '  tag: 6.5.3\n  digest: ""\n'
        f'sidecarImage:\n  repository: {C}/docker-hub/library/nginx\n  tag: "1"\n'
        "tools:\n  image:\n    kubectl:\n"
        f"      registry: {C}\n      repository: k8s/kubectl\n",
        id="helm blocks: registry split, repository-only, nested, global.imageRegistry alone",
    ),
    pytest.param(
        "image: {registry: quay.io, repository: org/app, tag: v1}\r\nother: x\r\n",
        f"image: {{registry: {C}, repository: quay/org/app, tag: v1}}\r\nother: x\r\n",
        id="flow mapping and CRLF",
    ),
    pytest.param(
        "a: &img nginx:1\nx:\n  image: *img\ny:\n  image: nginx:1\n",
        f"a: &img {C}/docker-hub/library/nginx:1\nx:\n  image: *img\n"
        f"y:\n  image: {C}/docker-hub/library/nginx:1\n",
        id="alias: rewritten once, at its anchor",
    ),
    pytest.param(
        "image: >-\n  nginx:1\nname: image\nrepository: nginx\n",
        "image: >-\n  nginx:1\nname: image\nrepository: nginx\n",
        id="folded scalar and unrelated keys left alone",
    ),
]


@pytest.mark.parametrize(("before", "after"), YAML_CASES)
def test_yaml(before: str, after: str) -> None:
    assert rewrite("values.yaml", before) == after


def test_yaml_is_idempotent_and_reversible() -> None:
    for case in YAML_CASES:
        before, after = case.values
        assert rewrite("values.yaml", after) == after
        assert rewrite("values.yaml", after, reverse=True).count(C) == 0 or before == after


COMPOSE = """\
services:
  app:
    image: ghcr.io/immich-app/server:${VERSION:-release}
  built:
    build: ./etl
    image: etl-kafka
  db:
    image: mariadb:10.9
"""


def test_compose_skips_names_of_local_builds_and_keeps_variables() -> None:
    result = rewrite_file_text(Path("docker-compose.yml"), COMPOSE, MAPPING)
    assert result.kind == "compose"
    assert [(e.line, e.before) for e in result.edits] == [
        (3, "ghcr.io/immich-app/server:${VERSION:-release}"),
        (8, "mariadb:10.9"),
    ]
    assert f"image: {C}/github/immich-app/server:${{VERSION:-release}}\n" in result.after
    assert "image: etl-kafka\n" in result.after


DOCKERFILE = """\
# syntax=docker/dockerfile:1.7
ARG BASE="python:3.12-slim"
ARG GO=1.22
FROM ${BASE} AS py
FROM --platform=$BUILDPLATFORM golang:${GO}-alpine AS Build
FROM build AS test
RUN <<EOF
FROM nginx
EOF
FROM scratch AS binaries-linux
COPY --from=Build /x /x
COPY --from=alpine:3 /etc/ssl /etc/ssl
RUN --mount=type=bind,from=busybox:1,target=/b \\
    --mount=from=test,target=/t true
FROM quay.io/org/app:1@sha256:{d} AS final
FROM binaries-$TARGETOS
FROM $UNKNOWN/app
""".replace("{d}", "0" * 64)


def test_dockerfile() -> None:
    result = rewrite_file_text(Path("Dockerfile"), DOCKERFILE, MAPPING)
    assert [(e.line, e.before) for e in result.edits] == [
        (1, "docker/dockerfile:1.7"),
        (2, "python:3.12-slim"),
        (5, "golang:${GO}-alpine"),
        (12, "alpine:3"),
        (13, "busybox:1"),
        (15, "quay.io/org/app:1@sha256:" + "0" * 64),
    ]
    assert [line for line, _ in result.warnings] == [17]
    assert f'ARG BASE="{C}/docker-hub/library/python:3.12-slim"\n' in result.after
    assert f"FROM --platform=$BUILDPLATFORM {C}/docker-hub/library/golang:${{GO}}-alpine" in (
        result.after
    )


def test_dockerfile_escape_directive_and_continuation() -> None:
    text = "# escape=`\nFROM --platform=linux/amd64 `\n  nginx:1 AS web\n"
    assert rewrite("Dockerfile", text) == (
        f"# escape=`\nFROM --platform=linux/amd64 `\n  {C}/docker-hub/library/nginx:1 AS web\n"
    )
