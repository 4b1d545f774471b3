"""Which IAM actions each ecrcache operation needs, on which resources (pure): the table.

One table, as cloud-custodian declares ``permissions`` on each action (c7n/resources/ecr.py): the
CI policy, the registry policy for pullers and doctor's checks are all generated from it
(``ecrcache.policy.policies`` builds the two policies). This module owns ``Scope``,
``Permission``, the per-operation table ``PERMISSIONS``, ``operations()`` and
``permissions_for()``. It is over 400 lines because it is data: one entry per operation and
resource scope, each with its reason.

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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

REGISTRY_POLICY_ACTIONS = frozenset(
    {"ecr:ReplicateImage", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}
)


class Scope(Enum):
    """The kind of resource an action is granted on; values are stable Sid stems."""

    ANY = "Registry"  # actions without resource-level permissions: Resource "*"
    CACHE_REPOSITORIES = "CacheRepositories"  # repository/<cache prefix>/*
    APP_REPOSITORIES = "AppRepositories"  # repositories tagged managed-by=ecrcache
    NEW_APP_REPOSITORIES = "NewAppRepositories"  # created with that tag (and declared keys only)
    CACHE_SECRETS = "CacheSecrets"  # secret:ecr-pullthroughcache/*
    CI_POLICY = "CiPolicy"  # the managed policy ecrcache maintains for CI
    PASSED_ROLES = "PassedRoles"  # custom role ARNs given to rules and templates
    MONITORING = "Monitoring"  # [monitoring]'s rule, topic, log group and budget, by ARN
    MONITORING_ANY = "MonitoringAccount"  # its calls without resource-level permissions


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
            "tag:GetResources",
        ],
        "read rules, templates, registry settings and cache secrets; find the repositories "
        "ecrcache tagged as its own by their tag (tag:GetResources, Resource '*' only), and read "
        "the tags of a declared repository that may not carry it yet; whether a repository's "
        "KMS key is the AWS-managed one (kms:DescribeKey)",
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
            "tag:GetResources",
        ],
        "read everything a config can declare (ecrcache's EventBridge rules found by their "
        "tag); never a secret's value",
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
    # [monitoring] (Service Authorization Reference: EventBridge rule/*, SNS topic, CloudWatch
    # Logs log-group, AWS Budgets budget resource types; CloudWatch Logs DescribeLogGroups and
    # the *ResourcePolicy actions take no resource type: "*"). Budgets' API calls are
    # authorized as budgets:ViewBudget (Describe*) and budgets:ModifyBudget (Create/Update/
    # Delete budget and notification); a call carrying tags needs the service's TagResource too.
    _p(
        "plan",
        Scope.MONITORING,
        [
            "events:DescribeRule",
            "events:ListTargetsByRule",
            "events:ListTagsForResource",
            "sns:GetTopicAttributes",
            "sns:ListTagsForResource",
            "logs:ListTagsForResource",
            "budgets:ViewBudget",
            "budgets:ListTagsForResource",
        ],
        "read [monitoring]'s rule, topic, log group and budget by name",
    ),
    _p(
        "plan",
        Scope.MONITORING_ANY,
        ["logs:DescribeLogGroups", "logs:DescribeResourcePolicies"],
        "find the log group and the logs resource policy (no resource-level permissions)",
    ),
    _p(
        "import",
        Scope.MONITORING,
        [
            "events:DescribeRule",
            "events:ListTargetsByRule",
            "events:ListTagsForResource",
            "sns:GetTopicAttributes",
            "sns:ListTagsForResource",
            "logs:ListTagsForResource",
            "budgets:ViewBudget",
            "budgets:ListTagsForResource",
        ],
        "read [monitoring] back from ecrcache's rule and what it delivers to",
    ),
    _p(
        "import",
        Scope.MONITORING_ANY,
        ["logs:DescribeLogGroups", "logs:DescribeResourcePolicies"],
        "find the log group and the logs resource policy",
    ),
    _p(
        "apply.monitoring",
        Scope.MONITORING,
        [
            "events:PutRule",
            "events:PutTargets",
            "events:RemoveTargets",
            "events:DeleteRule",
            "events:TagResource",
            "sns:CreateTopic",
            "sns:SetTopicAttributes",
            "sns:TagResource",
            "sns:DeleteTopic",
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:TagResource",
            "logs:DeleteLogGroup",
            "budgets:ModifyBudget",
            "budgets:TagResource",
        ],
        "the EventBridge rule and its targets, the SNS topic and its policy, the log group, "
        "the budget and its alerts, each tagged managed-by=ecrcache",
    ),
    _p(
        "apply.monitoring",
        Scope.MONITORING_ANY,
        ["logs:PutResourcePolicy", "logs:DeleteResourcePolicy"],
        "the logs resource policy that lets EventBridge write to the log group",
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
            "cloudwatch:GetMetricData",
        ],
        "DescribeRepositories has no prefix filter, so listing cache repositories needs '*'; "
        "pulls per repository from ECR's AWS/ECR RepositoryPullCount (GetMetricData has no "
        "resource-level permissions)",
    ),
    _p(
        "status",
        Scope.CACHE_REPOSITORIES,
        ["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetLifecyclePolicy"],
        "images, sizes, last pulls and lifecycle drift per cached repository "
        "(BatchGetImage reads an index's children)",
    ),
    _p(
        "status",
        Scope.MONITORING,
        ["logs:FilterLogEvents"],
        "the sync failures of the last 24 hours in [monitoring]'s log group",
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
            "cloudwatch:GetMetricData",
        ],
        "list repositories (no prefix filter) and the images of each (cached, application and "
        "unmanaged storage are all on the bill); --actual reads it from Cost Explorer; stale "
        "judged by ECR's AWS/ECR RepositoryPullCount where CloudWatch has it",
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
    _p(
        "doctor",
        Scope.MONITORING,
        ["logs:FilterLogEvents"],
        "recent sync failures in [monitoring]'s log group, against the rules' credentials",
    ),
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
