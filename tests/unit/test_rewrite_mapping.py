"""Mapping upstream references to the cache and back, and rewriting one reference."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecrcache.config.upstreams import registry_host
from ecrcache.errors import InvalidReferenceError
from ecrcache.rewrite import refs
from ecrcache.rewrite.mapping import Mapping, Route, routes_from_rules
from ecrcache.rewrite.text import rewrite_in_file, rewrite_reference, split_name

HOST = registry_host("123456789012", "af-south-1")
OTHER_ECR = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"


@dataclass(frozen=True)
class Rule:
    prefix: str
    upstream: str
    url: str | None = None
    upstream_prefix: str | None = None


RULES = (
    Rule("docker-hub", "docker-hub"),
    Rule("quay", "quay"),
    Rule("github", "github-container-registry"),
    Rule("k8s", "k8s"),
    Rule("ecr-public", "ecr-public"),
    Rule("team", "ecr", OTHER_ECR, "platform/team"),
    Rule("whole", "ecr", OTHER_ECR),
)
MAPPING = Mapping(routes_from_rules(RULES), HOST)
DIGEST = "sha256:" + "ab" * 32


def test_routes_carry_every_host_alias_and_root_is_no_prefix() -> None:
    routes = routes_from_rules([Rule("ROOT", "docker-hub"), RULES[5]])
    assert routes[0] == Route(
        "", "docker-hub", ("docker.io", "index.docker.io", "registry-1.docker.io")
    )
    assert routes[1] == Route("team", "ecr", (OTHER_ECR,), "platform/team")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("nginx", f"{HOST}/docker-hub/library/nginx"),
        ("nginx:latest", f"{HOST}/docker-hub/library/nginx:latest"),
        ("docker.io/nginx:1", f"{HOST}/docker-hub/library/nginx:1"),
        ("index.docker.io/library/nginx:1", f"{HOST}/docker-hub/library/nginx:1"),
        ("registry-1.docker.io/nginx:1", f"{HOST}/docker-hub/library/nginx:1"),
        ("bitnami/redis:7", f"{HOST}/docker-hub/bitnami/redis:7"),
        (f"nginx:1@{DIGEST}", f"{HOST}/docker-hub/library/nginx:1@{DIGEST}"),
        (f"quay.io/org/app@{DIGEST}", f"{HOST}/quay/org/app@{DIGEST}"),
        ("QUAY.IO/org/app:v1", f"{HOST}/quay/org/app:v1"),
        ("ghcr.io/o/r/deep:1", f"{HOST}/github/o/r/deep:1"),
        ("registry.k8s.io/pause:3.9", f"{HOST}/k8s/pause:3.9"),
        ("public.ecr.aws/nginx/nginx:1", f"{HOST}/ecr-public/nginx/nginx:1"),
        # ECR upstream: the longest matching upstream prefix wins over the prefix-less rule.
        (f"{OTHER_ECR}/platform/team/api:2", f"{HOST}/team/api:2"),
        (f"{OTHER_ECR}/platform/other:2", f"{HOST}/whole/platform/other:2"),
        # Already in the cache, or no rule: unchanged.
        (f"{HOST}/docker-hub/library/nginx:1", f"{HOST}/docker-hub/library/nginx:1"),
        ("gcr.io/distroless/static:nonroot", "gcr.io/distroless/static:nonroot"),
        ("quay.io:443/org/app", "quay.io:443/org/app"),
    ],
)
def test_forward(before: str, after: str) -> None:
    result = rewrite_reference(before, MAPPING)
    assert result.after == after
    assert (result.warning is None) == (after != before or before.startswith(HOST))


def test_root_rule_has_no_prefix() -> None:
    mapping = Mapping(routes_from_rules([Rule("ROOT", "docker-hub")]), HOST)
    assert rewrite_reference("nginx:1", mapping).after == f"{HOST}/library/nginx:1"


@pytest.mark.parametrize(
    ("cache", "upstream"),
    [
        (f"{HOST}/docker-hub/library/nginx:1", "docker.io/library/nginx:1"),
        (f"{HOST}/quay/org/app@{DIGEST}", f"quay.io/org/app@{DIGEST}"),
        (f"{HOST}/team/api:2", f"{OTHER_ECR}/platform/team/api:2"),
        (f"{HOST}/unknown/x:1", f"{HOST}/unknown/x:1"),
        ("nginx:1", "nginx:1"),
    ],
)
def test_reverse(cache: str, upstream: str) -> None:
    assert rewrite_reference(cache, MAPPING, reverse=True).after == upstream


component = st.from_regex(r"\A[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8})?\Z")


@given(
    host=st.sampled_from(["docker.io", "quay.io", "ghcr.io", "registry.k8s.io", "public.ecr.aws"]),
    path=st.lists(component, min_size=1, max_size=3).map("/".join),
    suffix=st.sampled_from(["", ":1.2", f"@{DIGEST}", f":v1@{DIGEST}"]),
)
def test_reverse_undoes_forward(host: str, path: str, suffix: str) -> None:
    upstream = f"{host}/{path}{suffix}"
    cached = rewrite_reference(upstream, MAPPING).after
    assert cached.startswith(HOST + "/")
    assert cached.endswith(suffix)
    back = rewrite_reference(cached, MAPPING, reverse=True).after
    assert refs.parse_image(back) == refs.parse_image(upstream)


def test_repository_name_over_ecr_limit_is_an_error() -> None:
    long = "docker.io/" + "/".join(["a" * 49] * 5)  # a 249-character path: valid upstream
    with pytest.raises(InvalidReferenceError, match="ECR allows 256"):
        rewrite_reference(long, MAPPING)


@pytest.mark.parametrize(
    ("text", "name", "suffix"),
    [
        ("ghcr.io/a/b:${V:-x/y}", "ghcr.io/a/b", ":${V:-x/y}"),
        ("localhost:5000/app", "localhost:5000/app", ""),
        ("golang:${GO}-alpine@sha256:00", "golang", ":${GO}-alpine@sha256:00"),
        ("$REG/app:1", "$REG/app", ":1"),
    ],
)
def test_split_name_sees_through_variables(text: str, name: str, suffix: str) -> None:
    assert split_name(text) == (name, suffix)


@pytest.mark.parametrize(
    ("text", "after", "warns"),
    [
        (
            "golang:${GO_VERSION}-alpine",
            f"{HOST}/docker-hub/library/golang:${{GO_VERSION}}-alpine",
            False,
        ),
        ("${REGISTRY}/app:1", "${REGISTRY}/app:1", True),
        ("{{ .Values.image }}", "{{ .Values.image }}", True),
    ],
)
def test_rewrite_in_file_tolerates_variables_in_the_tag(text: str, after: str, warns: bool) -> None:
    result = rewrite_in_file(text, MAPPING)
    assert result.after == after
    assert bool(result.warning) is warns
