"""``ecrcache outputs``: what people need to use the cache, computed from the config (pure).

The registry URL, the docker login command, each rule's pull prefix with an example image in
its upstream and cache forms (mapped by ``rewrite.mapping``, as ``ecrcache rewrite`` maps it),
and the CI policy's ARN when it exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ecrcache.config.rules import RuleConfig
from ecrcache.config.schema import Config
from ecrcache.config.upstreams import registry_host
from ecrcache.rewrite import refs
from ecrcache.rewrite.mapping import Mapping, routes_from_rules

# An image each upstream really serves (or a plausible path, where the registry is the user's).
EXAMPLES = {
    "docker-hub": "nginx:1.27",
    "quay": "quay.io/prometheus/node-exporter:v1.8.0",
    "k8s": "registry.k8s.io/pause:3.10",
    "ecr-public": "public.ecr.aws/docker/library/alpine:3.20",
    "github-container-registry": "ghcr.io/<org>/<image>:<tag>",
    "gitlab-container-registry": "registry.gitlab.com/<group>/<project>/<image>:<tag>",
    "chainguard": "cgr.dev/chainguard/static:latest",
    "azure-container-registry": "{url}/<image>:<tag>",
    "ecr": "{url}/{upstream_prefix}<image>:<tag>",
}
# Placeholders stand in for the user's own names. The mapping needs a valid reference, so each
# goes through it as a word no rule prefix or registry host holds, and is put back after.
_PLACEHOLDERS = ("<org>", "<group>", "<project>", "<image>", "<tag>")


@dataclass(frozen=True)
class PullPrefix:
    """One rule: where its images are pulled from, and one image in both forms."""

    prefix: str
    upstream: str
    upstream_url: str
    pull_prefix: str
    example: str
    cached_example: str


@dataclass(frozen=True)
class Outputs:
    account_id: str
    region: str
    registry: str
    login_command: str
    ecrcache_login: str
    pull_prefixes: tuple[PullPrefix, ...]
    ci_policy_name: str | None
    ci_policy_arn: str | None  # None: not created yet (or no [ci_policy] in the config)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_outputs(
    config: Config, *, account_id: str, region: str, ci_policy_arn: str | None
) -> Outputs:
    # a spoke pulls from the hub's registry, with a token from the hub's region
    pull_account, pull_region = config.registry_of(account_id, region)
    host = registry_host(pull_account, pull_region)
    return Outputs(
        account_id=account_id,
        region=region,
        registry=host,
        login_command=(
            f"aws ecr get-login-password --region {pull_region} | "
            f"docker login --username AWS --password-stdin {host}"
        ),
        ecrcache_login=f"ecrcache login --region {pull_region}",
        pull_prefixes=tuple(_pull_prefix(r, host) for r in config.rule_list),
        ci_policy_name=config.ci_policy.name if config.ci_policy is not None else None,
        ci_policy_arn=ci_policy_arn if config.ci_policy is not None else None,
    )


def _pull_prefix(rule: RuleConfig, host: str) -> PullPrefix:
    example = example_for(rule)
    # One rule's routes only: another rule for the same host must not take its example.
    mapping = Mapping(routes_from_rules([rule]), host)
    cached = mapping.forward(refs.parse_normalized(_concrete(example)))
    assert cached is not None  # the example is built from the rule's own host
    return PullPrefix(
        prefix=rule.prefix,
        upstream=rule.upstream,
        upstream_url=rule.resolved_url,
        pull_prefix=f"{host}/" if rule.prefix == "ROOT" else f"{host}/{rule.prefix}/",
        example=example,
        cached_example=_placeholders_back(str(cached)),
    )


def example_for(rule: RuleConfig) -> str:
    """An upstream image reference the rule serves (placeholders for the user's own names)."""
    up = f"{rule.upstream_prefix}/" if rule.upstream_prefix else ""
    return EXAMPLES[rule.upstream].format(url=rule.resolved_url, upstream_prefix=up)


def _concrete(example: str) -> str:
    for p in _PLACEHOLDERS:
        example = example.replace(p, f"ecrcache-placeholder-{p[1:-1]}")
    return example


def _placeholders_back(text: str) -> str:
    for p in _PLACEHOLDERS:
        text = text.replace(f"ecrcache-placeholder-{p[1:-1]}", p)
    return text
