"""The upstream registries ECR's pull-through cache supports, and what each one requires.

Pure data. Source: the botocore ECR model's ``UpstreamRegistry`` enum and the user guide's
per-upstream URLs and credential rules (shared/ECR-FACTS.md sections 1 and 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ecrcache.config.partitions import dns_suffix_pattern, partition_for


class Credentials(StrEnum):
    NONE = "none"  # public upstream, no secret
    SECRET = "secret"  # Secrets Manager secret named ecr-pullthroughcache/...
    ROLE = "role"  # IAM role (ECR to ECR across accounts)


@dataclass(frozen=True)
class Upstream:
    """One kind of upstream registry.

    ``url`` is the value ECR expects in ``upstreamRegistryUrl`` (None where the user supplies it,
    as for Azure and ECR); ``hosts`` are every host name a user may write in an image reference
    for it; ``url_pattern`` checks a user-supplied URL.
    """

    kind: str
    title: str
    url: str | None
    hosts: tuple[str, ...]
    credentials: Credentials
    default_prefix: str
    url_pattern: re.Pattern[str] | None = None
    url_example: str | None = None
    # Docker Hub's official images live under library/ upstream.
    official_namespace: str | None = None


# Every partition's DNS suffix (amazonaws.com, .com.cn, .eu, the ISO ones): botocore's data.
_ECR_URL = re.compile(r"^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\." + dns_suffix_pattern() + "$")
_ACR_URL = re.compile(r"^[a-z0-9]{5,50}\.azurecr\.io$")

UPSTREAMS: dict[str, Upstream] = {
    u.kind: u
    for u in (
        Upstream(
            kind="docker-hub",
            title="Docker Hub",
            url="registry-1.docker.io",
            hosts=("docker.io", "index.docker.io", "registry-1.docker.io"),
            credentials=Credentials.SECRET,
            default_prefix="docker-hub",
            official_namespace="library",
        ),
        Upstream(
            kind="ecr-public",
            title="Amazon ECR Public",
            url="public.ecr.aws",
            hosts=("public.ecr.aws",),
            credentials=Credentials.NONE,
            default_prefix="ecr-public",
        ),
        Upstream(
            kind="quay",
            title="Quay",
            url="quay.io",
            hosts=("quay.io",),
            credentials=Credentials.NONE,
            default_prefix="quay",
        ),
        Upstream(
            kind="k8s",
            title="Kubernetes (registry.k8s.io)",
            url="registry.k8s.io",
            hosts=("registry.k8s.io",),
            credentials=Credentials.NONE,
            default_prefix="k8s",
        ),
        Upstream(
            kind="github-container-registry",
            title="GitHub Container Registry",
            url="ghcr.io",
            hosts=("ghcr.io",),
            credentials=Credentials.SECRET,
            default_prefix="github",
        ),
        Upstream(
            kind="gitlab-container-registry",
            title="GitLab Container Registry (gitlab.com only)",
            url="registry.gitlab.com",
            hosts=("registry.gitlab.com",),
            credentials=Credentials.SECRET,
            default_prefix="gitlab",
        ),
        Upstream(
            kind="azure-container-registry",
            title="Azure Container Registry",
            url=None,
            hosts=(),
            credentials=Credentials.SECRET,
            default_prefix="azure",
            url_pattern=_ACR_URL,
            url_example="myregistry.azurecr.io",
        ),
        Upstream(
            kind="chainguard",
            title="Chainguard Registry",
            # Not listed in the botocore model's doc; cgr.dev is Chainguard's registry host.
            url="cgr.dev",
            hosts=("cgr.dev",),
            credentials=Credentials.SECRET,
            default_prefix="chainguard",
        ),
        Upstream(
            kind="ecr",
            title="Amazon ECR (private, another region or account)",
            url=None,
            hosts=(),
            credentials=Credentials.ROLE,
            default_prefix="ecr",
            url_pattern=_ECR_URL,
            url_example="111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        ),
    )
}

KINDS: tuple[str, ...] = tuple(UPSTREAMS)


def upstream(kind: str) -> Upstream:
    """The catalogue entry for ``kind`` (KeyError for an unknown kind: validate first)."""
    return UPSTREAMS[kind]


def kind_for_host(host: str) -> str | None:
    """The upstream kind a registry host name belongs to, where the catalogue knows it."""
    host = host.lower()
    for u in UPSTREAMS.values():
        if host in u.hosts:
            return u.kind
    if _ACR_URL.match(host):
        return "azure-container-registry"
    if _ECR_URL.match(host):
        return "ecr"
    return None


def dns_suffix(region: str) -> str:
    """The partition's DNS suffix for ``region`` (botocore's partitions.json)."""
    return partition_for(region).dns_suffix


def partition(region: str) -> str:
    """The partition a region belongs to, as ARNs spell it (botocore's partitions.json)."""
    return partition_for(region).id


def registry_host(account_id: str, region: str) -> str:
    """The private registry host: ``<account>.dkr.ecr.<region>.<the partition's DNS suffix>``."""
    return f"{account_id}.dkr.ecr.{region}.{dns_suffix(region)}"
