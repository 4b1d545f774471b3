"""What a hub or spoke config declares that is valid but will not work as meant. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecrcache.config.upstreams import partition
from ecrcache.policy.canonical import canonical_text
from ecrcache.policy.hub import Spokes, hub_repository_statements, merged_repository_policy

if TYPE_CHECKING:
    from ecrcache.config.schema import Config

# CreateRepositoryCreationTemplate's repositoryPolicy: at most 10,240 characters (botocore's
# ECR model, RepositoryPolicyText)
REPOSITORY_POLICY_MAX_CHARS = 10_240


def spokes(config: Config) -> Spokes | None:
    """The hub's spokes as ``policy.hub`` takes them (None unless ``[hub]``)."""
    if config.hub is None:
        return None
    return Spokes(
        principals=config.hub.principals,
        organization_id=config.hub.organization_id,
        organization_paths=tuple(sorted(config.hub.organizational_unit_paths)),
    )


def template_for(config: Config, prefix: str) -> str | None:
    """The prefix of the template ECR applies to repositories a rule with ``prefix`` creates:
    the one of the same prefix, else ROOT (PULL_THROUGH_CACHE templates only)."""
    ptc = {p for p, t in config.templates.items() if "PULL_THROUGH_CACHE" in t.applied_for}
    if prefix in ptc:
        return prefix
    return "ROOT" if "ROOT" in ptc else None


def hub_spoke_warnings(config: Config) -> list[str]:
    out: list[str] = []
    if config.hub is not None:
        bare = sorted(p for p in config.cache_prefixes if template_for(config, p) is None)
        if bare:
            out.append(
                "hub: no creation template applies to the repositories of "
                + ", ".join(f"rules.{p}" for p in bare)
                + ", so they get no repository policy and spokes cannot pull from them "
                "(add [templates.ROOT] or one per rule prefix)"
            )
    who = spokes(config)
    for key, t in config.templates.items():
        if who is None or "PULL_THROUGH_CACHE" not in t.applied_for:
            continue
        text = merged_repository_policy(t.repository_policy, hub_repository_statements(who))
        # as sent: canonical, an account ID written as its root ARN
        size = len(canonical_text(text, partition=partition(config.region)))
        if size > REPOSITORY_POLICY_MAX_CHARS:
            out.append(
                f"templates.{key}: with the spokes' pull statements its repository policy is "
                f"{size:,} characters, over the {REPOSITORY_POLICY_MAX_CHARS:,} ECR allows: "
                "name fewer spokes (an organization_id covers them all)"
            )
    if config.spoke is not None and config.templates:
        out.append(
            "spoke: [templates] are ignored: the hub's templates make the cache repositories "
            "(declare them in the hub's config)"
        )
    return out
