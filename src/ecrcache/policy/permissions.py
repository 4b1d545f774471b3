"""Which IAM actions each ecrcache operation needs, on which resources (pure).

One table, as cloud-custodian declares ``permissions`` on each action (c7n/resources/ecr.py): the
CI policy, the registry policy for pullers and doctor's checks are all generated from it.

Sources:
- Pull-through cache permissions (BatchImportUpstreamImage, CreateRepository and where each may be
  granted): https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html
- Registry policy: "Amazon ECR only enforces the following permissions at the private registry
  level": ecr:ReplicateImage, ecr:BatchImportUpstreamImage, ecr:CreateRepository
  (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions.html, the version
  before the REGISTRY_POLICY_SCOPE V2 account setting, which widens it to every ECR action; the
  puller statements stay within the narrow set so they work under both).
- Resource-level support: Service Authorization Reference for ECR,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
  ("If there is no value for this column, you must specify all resources ("*")"). Repository
  actions take ``repository*``; registry-level actions (GetAuthorizationToken, the pull-through
  cache rule and creation template actions, registry policy and scanning) take "*".
  Secrets Manager's ListSecrets and IAM policy ARNs follow the same reference.
- Tags as the scope of application repositories: the ``repository`` resource type takes the
  ``aws:ResourceTag/${TagKey}`` condition key, so every action on a repository does;
  CreateRepository and TagResource take ``aws:RequestTag/${TagKey}`` and ``aws:TagKeys`` (the
  same reference; parliament's copy of it, ``iam_definition.json``, is checked by
  tests/unit/test_ci_policy_parliament.py). "If tags are specified in the resource-creating
  action, AWS performs additional authorization on the ecr:CreateRepository action to verify if
  users have permissions to create tags"
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
from dataclasses import dataclass
from enum import Enum
from typing import Any

MANAGED_POLICY_MAX_CHARS = 6_144  # IAM managed policy size, whitespace not counted
MANAGED_BY = ("managed-by", "ecrcache")  # the tag ecrcache puts on what it creates
# the principals ECR assumes a passed role as (see the module docstring)
PASSED_TO = ("ecr.amazonaws.com", "pullthroughcache.ecr.amazonaws.com")
SECRET_PREFIX = "ecr-pullthroughcache/"
PULLER_SID = "ecrcache-pullthroughcache"
REGISTRY_POLICY_ACTIONS = frozenset(
    {"ecr:ReplicateImage", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}
)


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


class Scope(Enum):
    """The kind of resource an action is granted on; values are stable Sid stems."""

    ANY = "Registry"  # actions without resource-level permissions: Resource "*"
    CACHE_REPOSITORIES = "CacheRepositories"  # repository/<cache prefix>/*
    APP_REPOSITORIES = "AppRepositories"  # repositories tagged managed-by=ecrcache
    NEW_APP_REPOSITORIES = "NewAppRepositories"  # created with that tag (and declared keys only)
    CACHE_SECRETS = "CacheSecrets"  # secret:ecr-pullthroughcache/*
    CI_POLICY = "CiPolicy"  # the managed policy ecrcache maintains for CI
    PASSED_ROLES = "PassedRoles"  # custom role ARNs given to rules and templates


@dataclass(frozen=True)
class Permission:
    """``actions`` that ``operation`` needs on resources of kind ``scope``; ``why`` for doctor."""

    operation: str
    scope: Scope
    actions: tuple[str, ...]
    why: str


_PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
_RULE_READ = ("ecr:DescribePullThroughCacheRules",)
_TEMPLATE_READ = ("ecr:DescribeRepositoryCreationTemplates",)


def _p(operation: str, scope: Scope, actions: Iterable[str], why: str) -> Permission:
    return Permission(operation, scope, tuple(sorted(set(actions))), why)


PERMISSIONS: tuple[Permission, ...] = (
    _p("login", Scope.ANY, ["ecr:GetAuthorizationToken"], "a registry token; Resource '*' only"),
    _p(
        "plan",
        Scope.ANY,
        [
            *_RULE_READ,
            *_TEMPLATE_READ,
            "ecr:DescribeRegistry",
            "ecr:GetRegistryPolicy",
            "ecr:GetRegistryScanningConfiguration",
            "secretsmanager:ListSecrets",
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:GetLifecyclePolicy",
            "ecr:ListImages",
            "kms:DescribeKey",
        ],
        "read rules, templates, registry settings and cache secrets; find the repositories "
        "ecrcache tagged as its own, wherever they are (tags are only readable per repository); "
        "whether a repository's KMS key is the AWS-managed one (kms:DescribeKey)",
    ),
    _p(
        "plan",
        Scope.APP_REPOSITORIES,
        ["ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:ListTagsForResource"],
        "read the application repositories the config declares",
    ),
    _p(
        "plan",
        Scope.CACHE_REPOSITORIES,
        ["ecr:DescribeRepositories", "ecr:GetLifecyclePolicy"],
        "read the settings backfill compares on cached repositories",
    ),
    _p(
        "plan",
        Scope.CACHE_SECRETS,
        ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        "compare a secret's value digest with the desired one",
    ),
    _p(
        "plan",
        Scope.CI_POLICY,
        ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
        "read the CI policy and its versions",
    ),
    _p(
        "import",
        Scope.ANY,
        [
            *_RULE_READ,
            *_TEMPLATE_READ,
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:GetLifecyclePolicy",
            "ecr:GetRegistryPolicy",
            "ecr:GetRegistryScanningConfiguration",
        ],
        "read everything a config can declare; never a secret's value",
    ),
    _p(
        "import",
        Scope.CACHE_SECRETS,
        ["secretsmanager:DescribeSecret"],
        "the secrets the rules use, by name (never their values)",
    ),
    _p(
        "import",
        Scope.CI_POLICY,
        ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
        "read the CI policy",
    ),
    _p("outputs", Scope.CI_POLICY, ["iam:GetPolicy"], "the CI policy's ARN, if it exists"),
    _p(
        "apply.rule",
        Scope.ANY,
        [
            "ecr:CreatePullThroughCacheRule",
            "ecr:UpdatePullThroughCacheRule",
            "ecr:DeletePullThroughCacheRule",
            "ecr:ValidatePullThroughCacheRule",
            *_RULE_READ,
        ],
        "pull-through cache rules are registry-level: Resource '*'",
    ),
    _p(
        "apply.rule",
        Scope.PASSED_ROLES,
        ["iam:PassRole"],
        "a rule with a custom role (ECR-to-ECR) passes it to ECR",
    ),
    _p(
        "apply.secret",
        Scope.CACHE_SECRETS,
        [
            "secretsmanager:CreateSecret",
            "secretsmanager:PutSecretValue",
            "secretsmanager:DescribeSecret",
            "secretsmanager:DeleteSecret",
            "secretsmanager:RestoreSecret",
            "secretsmanager:TagResource",
        ],
        "upstream credentials live under ecr-pullthroughcache/ (RestoreSecret: one scheduled "
        "for deletion is wanted again)",
    ),
    _p(
        "apply.template",
        Scope.ANY,
        [
            "ecr:CreateRepositoryCreationTemplate",
            "ecr:UpdateRepositoryCreationTemplate",
            "ecr:DeleteRepositoryCreationTemplate",
            *_TEMPLATE_READ,
        ],
        "creation templates are registry-level: Resource '*'",
    ),
    _p(
        "apply.template",
        Scope.CACHE_REPOSITORIES,
        [
            "ecr:CreateRepository",
            "ecr:PutLifecyclePolicy",
            "ecr:DeleteLifecyclePolicy",
            "ecr:PutImageTagMutability",
        ],
        "the user guide lists CreateRepository among the template permissions; backfill gives "
        "cache repositories made before their template its lifecycle policy and tag mutability",
    ),
    _p(
        "apply.template",
        Scope.PASSED_ROLES,
        ["iam:PassRole"],
        "a template with a custom role (KMS, resource tags) passes it to ECR",
    ),
    _p(
        "apply.repository",
        Scope.NEW_APP_REPOSITORIES,
        ["ecr:CreateRepository"],
        "create application repositories, tagged managed-by=ecrcache as they are created",
    ),
    _p(
        "apply.repository",
        Scope.APP_REPOSITORIES,
        [
            "ecr:DescribeRepositories",
            "ecr:PutLifecyclePolicy",
            "ecr:GetLifecyclePolicy",
            "ecr:DeleteLifecyclePolicy",
            "ecr:PutImageTagMutability",
            "ecr:PutImageScanningConfiguration",
            "ecr:TagResource",
            "ecr:UntagResource",
            "ecr:DeleteRepository",
        ],
        "the repositories ecrcache made (tagged managed-by=ecrcache): settings, lifecycle "
        "policies, tags, and delete with --prune",
    ),
    _p(
        "apply.scanning",
        Scope.ANY,
        ["ecr:PutRegistryScanningConfiguration", "ecr:GetRegistryScanningConfiguration"],
        "registry scanning is registry-level",
    ),
    _p(
        "apply.registry-policy",
        Scope.ANY,
        ["ecr:PutRegistryPolicy", "ecr:GetRegistryPolicy", "ecr:DeleteRegistryPolicy"],
        "the registry permissions policy for pullers",
    ),
    _p(
        "apply.iam-policy",
        Scope.CI_POLICY,
        [
            "iam:CreatePolicy",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:ListPolicyVersions",
            "iam:CreatePolicyVersion",
            "iam:DeletePolicyVersion",
            "iam:TagPolicy",
            "iam:DeletePolicy",
        ],
        "the CI managed policy (an update is a new default version)",
    ),
    _p("pull.first", Scope.ANY, ["ecr:GetAuthorizationToken"], "docker login"),
    _p(
        "pull.first",
        Scope.CACHE_REPOSITORIES,
        [*_PULL, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
        "a first pull imports the image and creates its repository",
    ),
    _p("pull.cached", Scope.ANY, ["ecr:GetAuthorizationToken"], "docker login"),
    _p(
        "pull.cached",
        Scope.CACHE_REPOSITORIES,
        [*_PULL, "ecr:BatchImportUpstreamImage"],
        "BatchImportUpstreamImage still imports new tags into an existing repository",
    ),
    _p("push", Scope.ANY, ["ecr:GetAuthorizationToken"], "docker login"),
    _p(
        "push",
        Scope.APP_REPOSITORIES,
        [
            "ecr:BatchCheckLayerAvailability",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
            "ecr:BatchGetImage",
        ],
        "push layers and manifests to application repositories",
    ),
    _p("test-pull", Scope.ANY, ["ecr:GetAuthorizationToken"], "registry token for the pull"),
    _p(
        "test-pull",
        Scope.CACHE_REPOSITORIES,
        [
            *_PULL,
            "ecr:BatchImportUpstreamImage",
            "ecr:CreateRepository",
            "ecr:DescribeRepositories",
            "ecr:DescribeImages",
            "ecr:GetLifecyclePolicy",
        ],
        "a cold pull, a warm pull, then a look at what ECR created",
    ),
    _p(
        "status",
        Scope.ANY,
        [
            *_RULE_READ,
            *_TEMPLATE_READ,
            "ecr:DescribeRepositories",
            "ecr:GetRegistryScanningConfiguration",
        ],
        "DescribeRepositories has no prefix filter, so listing cache repositories needs '*'",
    ),
    _p(
        "status",
        Scope.CACHE_REPOSITORIES,
        ["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetLifecyclePolicy"],
        "images, sizes, last pulls and lifecycle drift per cached repository "
        "(BatchGetImage reads an index's children)",
    ),
    _p(
        "cost-report",
        Scope.ANY,
        [
            *_RULE_READ,
            *_TEMPLATE_READ,
            "ecr:DescribeRepositories",
            "ecr:DescribeImages",
            "ce:GetCostAndUsage",
        ],
        "list repositories (no prefix filter) and the images of each (cached, application and "
        "unmanaged storage are all on the bill); --actual reads it from Cost Explorer",
    ),
    _p(
        "cost-report",
        Scope.CACHE_REPOSITORIES,
        ["ecr:BatchGetImage", "ecr:GetLifecyclePolicy"],
        "an index's platform images and the lifecycle rules that would save storage",
    ),
    _p(
        "prune",
        Scope.ANY,
        [*_RULE_READ, "ecr:DescribeRepositories"],
        "find the cache repositories (no prefix filter)",
    ),
    _p(
        "prune",
        Scope.CACHE_REPOSITORIES,
        ["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:BatchDeleteImage", "ecr:DeleteRepository"],
        "delete stale images (DeleteRepository only with --whole-repositories)",
    ),
    _p(
        "cost-report",
        Scope.APP_REPOSITORIES,
        ["ecr:GetLifecyclePolicy"],
        "lifecycle rules of application repositories",
    ),
    _p(
        "doctor",
        Scope.ANY,
        [
            "ecr:GetAuthorizationToken",
            *_RULE_READ,
            "ecr:ValidatePullThroughCacheRule",
            *_TEMPLATE_READ,
            "ecr:GetRegistryPolicy",
            "ecr:DescribeRepositories",
        ],
        "check credentials, rules, templates and the registry policy",
    ),
    _p(
        "doctor",
        Scope.ANY,
        [
            "iam:GetRole",
            "iam:GetUser",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:GetRolePolicy",
            "iam:ListAttachedUserPolicies",
            "iam:ListUserPolicies",
            "iam:GetUserPolicy",
            "iam:ListGroupsForUser",
            "iam:ListAttachedGroupPolicies",
            "iam:ListGroupPolicies",
            "iam:GetGroupPolicy",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
        ],
        "read the pullers' and template roles' policies (any role, user, group or managed "
        "policy, AWS-managed ones included) to evaluate them",
    ),
    _p(
        "doctor",
        Scope.CACHE_SECRETS,
        ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        "the secrets exist and hold the keys ECR reads (values are never shown)",
    ),
    _p("doctor", Scope.CACHE_REPOSITORIES, ["ecr:DescribeImages"], "tag immutability in use"),
)


def operations() -> tuple[str, ...]:
    """Every operation id in the table, in table order."""
    return tuple(dict.fromkeys(p.operation for p in PERMISSIONS))


def permissions_for(operation: str) -> tuple[Permission, ...]:
    """The table entries of one operation; ``ValueError`` for an unknown operation id."""
    found = tuple(p for p in PERMISSIONS if p.operation == operation)
    if not found:
        raise ValueError(f"unknown operation {operation!r}; known: {', '.join(operations())}")
    return found


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
    Roles are passed only to ECR (``iam:PassedToService``). Cache repository ARNs leave the
    region to an ``aws:RequestedRegion`` condition. An action granted on "*" is not repeated in
    a narrower statement. Scopes with nothing to grant are left out.

    If the document would exceed IAM's 6,144-character limit, the cache repository resources are
    collapsed step by step (``a/b/*`` and ``a/c/*`` to ``a/*``, then ``p01/*`` and ``p02/*`` to
    ``p0*``) until it fits, granting a little more than the rules need rather than failing;
    ``validate`` warns long before (see ``ci_policy_size``)."""
    wanted = [p for op in dict.fromkeys(operations) for p in permissions_for(op)]
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
        Scope.CI_POLICY: [f"arn:{partition}:iam::{account_id}:policy/{policy_name}"],
        Scope.PASSED_ROLES: sorted(set(pass_roles)),
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
        Scope.CACHE_REPOSITORIES: {"StringEquals": {"aws:RequestedRegion": region}},
    }
    for names in _collapsed_names(cache_prefixes):
        resources[Scope.CACHE_REPOSITORIES] = _arns(partition, account_id, "*", names)
        policy = _policy(wanted, resources, conditions)
        if _size(policy) <= MANAGED_POLICY_MAX_CHARS:
            break
    return policy


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
