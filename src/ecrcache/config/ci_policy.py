"""The CI policy and the registry policy statements a config gives, and how close they are to
AWS's size limits (pure: ``validate`` warns from these without an AWS call).

desired.py builds the CI policy with ``ci_policy_for``, so validate, plan and the test suite's
call check (tests/ci_policy_calls.py) all see the same document.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ecrcache.config.schema import Config
from ecrcache.config.upstreams import partition
from ecrcache.policy.permissions import operations
from ecrcache.policy.policies import MANAGED_POLICY_MAX_CHARS, ci_policy, puller_statements

# PutRegistryPolicy's policyText: at most 10,240 characters (botocore's ECR model,
# RegistryPolicyText max); the registry policy also holds statements that are not ecrcache's
REGISTRY_POLICY_MAX_CHARS = 10_240
WARN_SHARE = 0.9  # warn from 90% of a limit
PLACEHOLDER_ACCOUNT = "123456789012"  # same length as any account ID: sizes come out exact
# A spoke's CI makes none of these: the hub's config applies its rules, templates and secrets,
# and prunes its cache. On the hub's cache repositories it only pulls and reads.
HUB_ONLY_OPERATIONS = frozenset({"apply.rule", "apply.secret", "apply.template", "prune"})
SPOKE_CACHE_ACTIONS = frozenset(
    {
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchImportUpstreamImage",
        "ecr:CreateRepository",  # a first pull creates the cache repository
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetLifecyclePolicy",
    }
)


def pass_roles(config: Config) -> list[str]:
    """The custom roles rules (ECR upstreams) and templates hand to ECR."""
    rules = [r.role_arn for r in config.rule_list if r.role_arn]
    templates = [t.role_arn for t in config.templates.values() if t.role_arn]
    return sorted({*rules, *templates})


def app_tag_keys(config: Config) -> list[str]:
    """Every tag key the config's application repositories carry (managed-by comes anyway)."""
    return sorted({k for r in config.repositories.values() for k in r.tags})


def ci_policy_for(
    config: Config,
    *,
    account_id: str,
    region: str,
    ops: Sequence[str] | None = None,
    cache_prefixes: Sequence[str] | None = None,
    kept_monitoring: Sequence[str] = (),
) -> dict[str, Any]:
    """The CI policy document for ``config``; ``ops`` defaults to the config's operations
    (every operation in the table when it names none), ``cache_prefixes`` to the config's rules
    (desired adds the live rules an apply leaves in place), ``kept_monitoring`` the names of
    ecrcache's [monitoring] resources still in the account after the section was removed."""
    chosen = ops
    if chosen is None:
        chosen = (config.ci_policy.operations if config.ci_policy else None) or operations()
    spoke: dict[str, Any] = {}
    if config.spoke is not None:
        # the cache is the hub's: no rule, template or secret here, and on the hub's
        # repositories nothing but pulls, first pulls and reads
        chosen = [op for op in chosen if op not in HUB_ONLY_OPERATIONS]
        cache_prefixes = None  # the hub's rules, not this account's live ones
        spoke = {
            "cache_registry": config.registry_of("", region),
            "cache_actions": SPOKE_CACHE_ACTIONS,
            "other_policies": [config.spoke.pull_policy],
        }
    return ci_policy(
        partition=partition(region),
        account_id=account_id,
        region=region,
        cache_prefixes=sorted(
            cache_prefixes if cache_prefixes is not None else config.cache_prefixes
        ),
        app_repositories=sorted(config.repositories),
        operations=chosen,
        policy_name=config.ci_policy.name if config.ci_policy else "ecrcache-ci",
        pass_roles=pass_roles(config),
        app_tag_keys=app_tag_keys(config),
        monitoring_arns=monitoring_arns(
            config, account_id=account_id, region=region, kept=kept_monitoring
        ),
        **spoke,
    )


def monitoring_arns(
    config: Config, *, account_id: str, region: str, kept: Sequence[str] = ()
) -> list[str]:
    """What [monitoring] acts on: while the section is declared, its names; once it is removed,
    the names of ecrcache's own (tagged) rules still in the account, ``kept`` (found by plan),
    so that the `apply --prune` that deletes them still may, however the CI policy was last
    applied. Nothing for a config that never had the section: the grants are about 1,200
    characters of IAM's 6,144, too many to give every config for a prune it never needs."""
    part = partition(region)
    if config.monitoring is not None:
        return config.monitoring.iam_resources(
            partition=part, region=region, account_id=account_id, everything=True
        )
    from ecrcache.config.monitoring import MonitoringConfig

    return [
        arn
        for name in sorted(set(kept))
        for arn in MonitoringConfig(name=name).iam_resources(
            partition=part, region=region, account_id=account_id, everything=True
        )
    ]


def policy_chars(doc: Any) -> int:
    """A policy's size as IAM counts it: the JSON without whitespace."""
    return len(json.dumps(doc, separators=(",", ":")))


def _hub_statements(config: Config, account: str) -> list[dict[str, Any]]:
    from ecrcache.config.hub_checks import spokes
    from ecrcache.policy.hub import hub_registry_statements

    who = spokes(config)
    if who is None:
        return []
    return hub_registry_statements(
        who,
        partition=partition(config.region),
        account_id=account,
        region=config.region,
        cache_prefixes=sorted(config.cache_prefixes),
    )


def size_warnings(config: Config) -> list[str]:
    """One line per policy at or above 90% of its AWS size limit, naming both figures."""
    account = config.account_id or PLACEHOLDER_ACCOUNT
    out = []
    if config.ci_policy is not None:
        size = policy_chars(ci_policy_for(config, account_id=account, region=config.region))
        if size >= WARN_SHARE * MANAGED_POLICY_MAX_CHARS:
            out.append(
                f"ci_policy: the generated policy is {size:,} of the {MANAGED_POLICY_MAX_CHARS:,} "
                "characters IAM allows a managed policy (whitespace not counted); beyond it, "
                "cache prefixes are granted by shorter, wider patterns: fewer rules, shorter "
                "prefixes or fewer [ci_policy] operations keep it exact"
            )
    if config.pullers is not None or config.hub is not None:
        statements = puller_statements(
            partition=partition(config.region),
            account_id=account,
            region=config.region,
            principals=config.pullers.principals if config.pullers is not None else (),
            cache_prefixes=sorted(config.cache_prefixes),
        ) + _hub_statements(config, account)
        size = policy_chars({"Version": "2012-10-17", "Statement": statements})
        if size >= WARN_SHARE * REGISTRY_POLICY_MAX_CHARS:
            out.append(
                f"pullers: ecrcache's registry policy statements are {size:,} of the "
                f"{REGISTRY_POLICY_MAX_CHARS:,} characters ECR allows a registry policy, "
                "before any statement that is not ecrcache's; use fewer principals (an "
                "account ID covers all its roles) or fewer rules"
            )
    return out
