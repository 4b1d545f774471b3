"""The policies built from the permissions table (pure): the CI identity policy and the puller
statements of the registry policy.

This module owns the repository ARN helpers, ``ci_policy()`` with its compaction (action
families written as one pattern, cache repository names collapsed until the document fits) and
its size, and ``puller_statements()``; the table they read is ``ecrcache.policy.permissions``.

Sources:
- Tags as the scope of application repositories: the ``repository`` resource type takes the
  ``aws:ResourceTag/${TagKey}`` condition key, so every action on a repository does;
  CreateRepository and TagResource take ``aws:RequestTag/${TagKey}`` and ``aws:TagKeys`` (the
  Service Authorization Reference cited in ``ecrcache.policy.permissions``; parliament's copy
  of it, ``iam_definition.json``, is checked by tests/unit/test_ci_policy_parliament.py). "If
  tags are specified in the resource-creating action, AWS performs additional authorization on
  the ecr:CreateRepository action to verify if users have permissions to create tags"
  (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-supported-iam-actions-tagging.html).
- iam:PassRole takes the ``iam:PassedToService`` condition key. A template's custom role is
  assumed by ``ecr.amazonaws.com`` (the trust policy in "Create an IAM role for repository
  creation templates", and the templates' service-linked role trusts the same service); an
  ECR-upstream rule's role by ``pullthroughcache.ecr.amazonaws.com`` ("Setting up permissions for
  cross-account ECR to ECR PTC": "identifies Amazon ECR pull through cache as the AWS service
  principal"). AWS does not document which of the two ECR names as PassedToService, so the
  statement allows exactly these two, for the roles the config names only.
- Size: "You cannot exceed ... 6,144 characters" for a managed policy, "IAM doesn't count white
  space when calculating the size of a policy against this limit"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ecrcache.policy.permissions import Permission, Scope, permissions_for

MANAGED_POLICY_MAX_CHARS = 6_144  # IAM managed policy size, whitespace not counted
MANAGED_BY = ("managed-by", "ecrcache")  # the tag ecrcache puts on what it creates
# the principals ECR assumes a passed role as (see the module docstring)
PASSED_TO = ("ecr.amazonaws.com", "pullthroughcache.ecr.amazonaws.com")
SECRET_PREFIX = "ecr-pullthroughcache/"
PULLER_SID = "ecrcache-pullthroughcache"


# Registry-level action families written as one pattern when a statement grants every member:
# each pattern matches exactly these actions among ECR's (the Service Authorization Reference,
# as parliament's iam_definition.json and botocore's model list them; a test holds it), and a
# future action it would match belongs to the same family. About 340 characters of 6,144.
ACTION_FAMILIES: dict[str, frozenset[str]] = {
    "ecr:*PullThroughCacheRule*": frozenset(
        f"ecr:{verb}PullThroughCacheRule" for verb in ("Create", "Update", "Delete", "Validate")
    )
    | {"ecr:DescribePullThroughCacheRules"},
    "ecr:*RepositoryCreationTemplate*": frozenset(
        f"ecr:{verb}RepositoryCreationTemplate" for verb in ("Create", "Update", "Delete")
    )
    | {"ecr:DescribeRepositoryCreationTemplates"},
    "ecr:*RegistryPolicy": frozenset(f"ecr:{v}RegistryPolicy" for v in ("Put", "Get", "Delete")),
    "ecr:*RegistryScanningConfiguration": frozenset(
        f"ecr:{v}RegistryScanningConfiguration" for v in ("Put", "Get")
    ),
}


def _compact(actions: Iterable[str]) -> list[str]:
    out = set(actions)
    for pattern, members in ACTION_FAMILIES.items():
        if members <= out:
            out = (out - members) | {pattern}
    return sorted(out)


# ---------------------------------------------------------------------------- ARNs


def repository_arn(*, partition: str, account_id: str, region: str, name: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account_id}:repository/{name}"


def cache_repositories_arn(*, partition: str, account_id: str, region: str, prefix: str) -> str:
    """Every repository a rule with ``prefix`` creates (``ROOT``: every repository)."""
    name = "*" if prefix == "ROOT" else prefix.strip("/") + "/*"
    return repository_arn(partition=partition, account_id=account_id, region=region, name=name)


def _cache_arns(partition: str, account_id: str, region: str, prefixes: Sequence[str]) -> list[str]:
    return _arns(partition, account_id, region, _exact_names(prefixes))


def _arns(partition: str, account_id: str, region: str, names: Iterable[str]) -> list[str]:
    arns = {
        repository_arn(partition=partition, account_id=account_id, region=region, name=n)
        for n in names
    }
    everything = repository_arn(partition=partition, account_id=account_id, region=region, name="*")
    return [everything] if everything in arns else sorted(arns)


def _exact_names(prefixes: Iterable[str]) -> list[str]:
    return sorted({"*" if p == "ROOT" else p.strip("/") + "/*" for p in prefixes})


def _collapsed_names(prefixes: Sequence[str]) -> Iterable[list[str]]:
    """Ever coarser repository name patterns covering ``prefixes``, the exact ones first: the
    first path segment of each prefix, then shared leading characters (``p1*``), then ``*``.
    Each step grants more than the rules need; the caller takes the first that fits."""
    yield _exact_names(prefixes)
    segments = sorted({"ROOT" if p == "ROOT" else p.strip("/").split("/")[0] for p in prefixes})
    yield _exact_names(segments)
    for k in range(max((len(s) for s in segments), default=0) - 1, 0, -1):
        yield sorted(
            {"*" if s == "ROOT" else s + "/*" if len(s) <= k else s[:k] + "*" for s in segments}
        )
    yield ["*"]


# ---------------------------------------------------------------------------- policies


def ci_policy(
    *,
    partition: str,
    account_id: str,
    region: str,
    cache_prefixes: Sequence[str],
    app_repositories: Sequence[str],
    operations: Sequence[str],
    policy_name: str = "ecrcache-ci",
    pass_roles: Sequence[str] = (),
    app_tag_keys: Sequence[str] = (),
    monitoring_arns: Sequence[str] = (),
    cache_registry: tuple[str, str] | None = None,
    cache_actions: frozenset[str] | None = None,
    other_policies: Sequence[str] = (),
) -> dict[str, Any]:
    """A least-privilege identity policy for ``operations``: one statement per resource scope,
    in a fixed order with stable Sids, actions and resources sorted, so equal inputs give equal
    documents.

    Application repositories are not listed by name (500 ARNs would be seven times IAM's limit):
    the statement for them holds on repositories tagged ``managed-by=ecrcache`` only, and
    creating one requires that tag in the request, with no tag key but ``app_tag_keys`` (the
    keys the config's repositories declare), so a new repository cannot be tagged into another
    tag-based policy. No statement grants adding ``managed-by`` to a repository that lacks it:
    adopting a repository ecrcache did not create takes someone allowed to tag it.
    Roles are passed only to ECR (``iam:PassedToService``). ``[monitoring]``'s calls are granted
    on the ARNs of its rule, topic, log group and budget (``monitoring_arns``), and only when
    the config declares the section. Cache repository ARNs leave the
    region to an ``aws:RequestedRegion`` condition. An action granted on "*" is not repeated in
    a narrower statement. Scopes with nothing to grant are left out.

    If the document would exceed IAM's 6,144-character limit, the cache repository resources are
    collapsed step by step (``a/b/*`` and ``a/c/*`` to ``a/*``, then ``p01/*`` and ``p02/*`` to
    ``p0*``) until it fits, granting a little more than the rules need rather than failing;
    ``validate`` warns long before (see ``ci_policy_size``).

    A spoke's cache repositories are another account's (``cache_registry``: the hub's account
    and region), where only ``cache_actions`` are granted; ``other_policies`` are managed
    policies it maintains besides this one (the spoke's pull policy)."""
    wanted = [
        _only(p, cache_actions) if p.scope is Scope.CACHE_REPOSITORIES else p
        for op in dict.fromkeys(operations)
        for p in permissions_for(op)
    ]
    cache_account, cache_region = cache_registry or (account_id, region)
    every_repository = repository_arn(
        partition=partition, account_id=account_id, region=region, name="*"
    )
    keys = sorted({*app_tag_keys, MANAGED_BY[0]})
    resources: dict[Scope, list[str]] = {
        Scope.ANY: ["*"],
        Scope.CACHE_REPOSITORIES: [],  # chosen below
        Scope.APP_REPOSITORIES: [every_repository],
        Scope.NEW_APP_REPOSITORIES: [every_repository] if app_repositories else [],
        Scope.CACHE_SECRETS: [
            f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{SECRET_PREFIX}*"
        ],
        Scope.CI_POLICY: [
            f"arn:{partition}:iam::{account_id}:policy/{name}"
            for name in sorted({policy_name, *other_policies})
        ],
        Scope.PASSED_ROLES: sorted(set(pass_roles)),
        Scope.MONITORING: sorted(set(monitoring_arns)),
        Scope.MONITORING_ANY: ["*"] if monitoring_arns else [],
    }
    conditions: dict[Scope, dict[str, Any]] = {
        # any tag key: a tag no longer declared is removed, and on its own repositories
        # ecrcache may do all the rest anyway
        Scope.APP_REPOSITORIES: {
            "StringEquals": {f"aws:ResourceTag/{MANAGED_BY[0]}": MANAGED_BY[1]}
        },
        Scope.NEW_APP_REPOSITORIES: {
            "StringEquals": {f"aws:RequestTag/{MANAGED_BY[0]}": MANAGED_BY[1]},
            "ForAllValues:StringEquals": {"aws:TagKeys": keys},
        },
        Scope.PASSED_ROLES: {"StringEquals": {"iam:PassedToService": list(PASSED_TO)}},
        # the region once, not in each of up to 50 ARNs: the same grant, 13 characters less
        # per ARN in ap-southeast-2 (aws:RequestedRegion is a global key; a request for an ECR
        # repository goes to its region's endpoint)
        Scope.CACHE_REPOSITORIES: {"StringEquals": {"aws:RequestedRegion": cache_region}},
    }
    for names in _collapsed_names(cache_prefixes):
        resources[Scope.CACHE_REPOSITORIES] = _arns(partition, cache_account, "*", names)
        policy = _policy(wanted, resources, conditions)
        if _size(policy) <= MANAGED_POLICY_MAX_CHARS:
            break
    return policy


def _only(p: Permission, actions: frozenset[str] | None) -> Permission:
    if actions is None:
        return p
    return Permission(p.operation, p.scope, tuple(a for a in p.actions if a in actions), p.why)


def _policy(
    wanted: Sequence[Permission],
    resources: dict[Scope, list[str]],
    conditions: dict[Scope, dict[str, Any]],
) -> dict[str, Any]:
    everywhere = {a for p in wanted if p.scope is Scope.ANY for a in p.actions}
    statements = []
    for scope in Scope:
        actions = sorted({a for p in wanted if p.scope is scope for a in p.actions})
        if scope is not Scope.ANY:
            actions = [a for a in actions if a not in everywhere]
        else:
            actions = _compact(actions)
        if actions and resources[scope]:
            resource: str | list[str] = resources[scope]
            if len(resource) == 1:
                resource = resource[0]
            statement: dict[str, Any] = {
                "Sid": f"Ecrcache{scope.value}",
                "Effect": "Allow",
                "Action": actions,
                "Resource": resource,
            }
            if scope in conditions:
                statement["Condition"] = conditions[scope]
            statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def _size(policy: dict[str, Any]) -> int:
    # IAM does not count whitespace towards the managed policy size
    return len(json.dumps(policy, separators=(",", ":")))


def puller_statements(
    *,
    partition: str,
    account_id: str,
    region: str,
    principals: Sequence[str],
    cache_prefixes: Sequence[str],
) -> list[dict[str, Any]]:
    """Registry permissions policy statements letting ``principals`` (account ids or IAM ARNs)
    populate the cache: BatchImportUpstreamImage and CreateRepository on the cache prefixes only.

    Those are two of the three actions a registry policy may hold (with ReplicateImage); the pull
    actions themselves (BatchGetImage, ...) must come from the principals' identity policies,
    e.g. AmazonEC2ContainerRegistryReadOnly. Sids start with ``ecrcache-`` so apply can find and
    replace its own statements in a registry policy it shares. Empty when nothing is given."""
    if not principals or not cache_prefixes:
        return []
    return [
        {
            "Sid": PULLER_SID,
            "Effect": "Allow",
            "Principal": {"AWS": sorted(set(principals))},
            "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            "Resource": _cache_arns(partition, account_id, region, cache_prefixes),
        }
    ]
