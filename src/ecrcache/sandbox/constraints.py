"""Server-side constraints of the ECR API that botocore's client does not check.

Pure (no moto, no boto3). Values come from the botocore ECR model (service-2.json): botocore's
parameter validation only enforces ``min`` lengths and required members, so max lengths, patterns
and enums reach the service, which answers InvalidParameterException. ECR's own wording is
"Invalid parameter at '<member>' failed to satisfy constraint: '<reason>'" (seen for
repositoryName and, through CloudFormation, for ecrRepositoryPrefix).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from ecrcache.config.partitions import dns_suffix_pattern

_PREFIX_RE = r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
ROOT = "ROOT"

UPSTREAM_REGISTRIES = (
    "ecr",
    "ecr-public",
    "quay",
    "k8s",
    "docker-hub",
    "github-container-registry",
    "azure-container-registry",
    "gitlab-container-registry",
    "chainguard",
)
# User guide: these upstreams "require authentication with AWS Secrets Manager secret".
SECRET_UPSTREAMS = frozenset(
    {
        "docker-hub",
        "github-container-registry",
        "gitlab-container-registry",
        "azure-container-registry",
        "chainguard",
    }
)
APPLIED_FOR = ("REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH")
ENCRYPTION_TYPES = ("AES256", "KMS", "KMS_DSSE")
TAG_MUTABILITY = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")
EXCLUSION_FILTER_TYPES = ("WILDCARD",)
MAX_RULES_PER_REGISTRY = 50  # service quota, "not adjustable"
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Field:
    """One string member's constraints, as the model states them."""

    name: str
    min_len: int = 0
    max_len: int | None = None
    pattern: str | None = None
    enum: Collection[str] = ()


PTC_PREFIX_MAX = 30
ECR_REPOSITORY_PREFIX = Field("ecrRepositoryPrefix", 2, PTC_PREFIX_MAX, _PREFIX_RE)
UPSTREAM_REPOSITORY_PREFIX = Field("upstreamRepositoryPrefix", 2, PTC_PREFIX_MAX, _PREFIX_RE)
UPSTREAM_REGISTRY = Field("upstreamRegistry", enum=UPSTREAM_REGISTRIES)
CREDENTIAL_ARN = Field(
    "credentialArn",
    50,
    612,
    r"^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/"
    r"[a-zA-Z0-9\/_+=.@-]+$",
)
CUSTOM_ROLE_ARN = Field("customRoleArn", 0, 2048)
REGISTRY_ID = Field("registryId", pattern=r"^[0-9]{12}$")
TEMPLATE_PREFIX = Field("prefix", 1, 256, _PREFIX_RE)
DESCRIPTION = Field("description", 0, 256)
ENCRYPTION_TYPE = Field("encryptionType", enum=ENCRYPTION_TYPES)
# The model's pattern has no end anchor; re.match (prefix match) reproduces that faithfully.
KMS_KEY = Field("kmsKey", 0, 2048, r"^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+")
IMAGE_TAG_MUTABILITY = Field("imageTagMutability", enum=TAG_MUTABILITY)
EXCLUSION_FILTER = Field("filter", 1, 128, r"^[0-9a-zA-Z._*-]{1,128}$")
EXCLUSION_FILTER_TYPE = Field("filterType", enum=EXCLUSION_FILTER_TYPES)
REPOSITORY_POLICY = Field("repositoryPolicy", 0, 10240)
LIFECYCLE_POLICY = Field("lifecyclePolicy", 0, 30720)
APPLIED_FOR_ITEM = Field("appliedFor", enum=APPLIED_FOR)
MAX_RESULTS_MIN, MAX_RESULTS_MAX = 1, 1000
EXCLUSION_FILTERS_MIN, EXCLUSION_FILTERS_MAX = 1, 5
PREFIX_FILTER_MAX = 100  # DescribePullThroughCacheRules.ecrRepositoryPrefixes


def violation(field: Field, value: str) -> str | None:
    """The ECR-style message for ``value`` breaking ``field``'s constraints, or None."""
    where = f"Invalid parameter at '{field.name}' failed to satisfy constraint: "
    if len(value) < field.min_len:
        return where + f"'Member must have length greater than or equal to {field.min_len}'"
    if field.max_len is not None and len(value) > field.max_len:
        return where + f"'Member must have length less than or equal to {field.max_len}'"
    if field.pattern is not None and not re.match(field.pattern, value):
        return where + f"'Member must satisfy regular expression pattern: {field.pattern}'"
    if field.enum and value not in field.enum:
        return where + f"'Member must satisfy enum value set: [{', '.join(field.enum)}]'"
    return None


def same_prefix(a: str, b: str) -> bool:
    """ECR treats a prefix as ending in '/' whether or not it is written ('ecr-public/')."""
    return a.rstrip("/") == b.rstrip("/")


# upstreamRegistryUrl per upstream (model doc of CreatePullThroughCacheRuleRequest). chainguard's
# host is not in the model doc; cgr.dev is Chainguard's registry (unverified against ECR).
UPSTREAM_URLS: dict[str, str] = {
    "ecr-public": r"public\.ecr\.aws",
    "docker-hub": r"registry-1\.docker\.io",
    "quay": r"quay\.io",
    "k8s": r"registry\.k8s\.io",
    "github-container-registry": r"ghcr\.io",
    "gitlab-container-registry": r"registry\.gitlab\.com",
    "azure-container-registry": r"[a-z0-9-]+\.azurecr\.io",
    "chainguard": r"cgr\.dev",
    # any partition's DNS suffix (botocore's partitions.json): aws-cn, aws-eusc, ISO partitions
    "ecr": r"[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\." + dns_suffix_pattern(),
}


def upstream_for_url(url: str) -> str | None:
    """The upstreamRegistry value a URL belongs to (ECR infers it when the request omits it)."""
    for kind, pattern in UPSTREAM_URLS.items():
        if re.fullmatch(pattern, url):
            return kind
    return None
