"""ecrcache.policy.permissions and ecrcache.policy.policies: the table, the CI policy and the
puller statements, proven with ecrcache.policy.iam (our evaluator) and AWS managed policies from
moto's snapshot (moto/iam/aws_managed_policies.py)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import botocore
import pytest

from ecrcache.policy.iam import Outcome, evaluate
from ecrcache.policy.permissions import (
    PERMISSIONS,
    REGISTRY_POLICY_ACTIONS,
    Scope,
    operations,
    permissions_for,
)
from ecrcache.policy.policies import MANAGED_POLICY_MAX_CHARS, ci_policy, puller_statements

P, ACCOUNT, REGION = "aws", "111122223333", "eu-west-1"
PREFIXES = ("docker-hub", "quay", "k8s/registry")
APPS = ("team/app", "team/worker")
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/eks-node"


def repo(name: str) -> str:
    return f"arn:{P}:ecr:{REGION}:{ACCOUNT}:repository/{name}"


def any_region(name: str) -> str:
    return f"arn:{P}:ecr:*:{ACCOUNT}:repository/{name}"


SECRET = f"arn:{P}:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
CACHED = repo("docker-hub/library/nginx")
NESTED_CACHED = repo("k8s/registry/pause")
APP = repo("team/app")
ELSEWHERE = repo("other/thing")

FIRST_PULL = (
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchImportUpstreamImage",
    "ecr:CreateRepository",
)
PUSH = (
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchCheckLayerAvailability",
)


def managed(name: str) -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)[name]["Document"]


def policy_for(*ops: str, prefixes: tuple[str, ...] = PREFIXES) -> dict[str, Any]:
    return ci_policy(
        partition=P,
        account_id=ACCOUNT,
        region=REGION,
        cache_prefixes=prefixes,
        app_repositories=APPS,
        operations=ops,
    )


def outcome(
    policy: dict[str, Any], action: str, resource: str, context: dict[str, Any] | None = None
) -> Outcome:
    # a request for a resource goes to the resource's region: aws:RequestedRegion says which
    region = resource.split(":")[3] if resource.startswith("arn:") else REGION
    context = {"aws:RequestedRegion": region or REGION, **(context or {})}
    return evaluate(action, resource, identity_policies=[policy], context=context).outcome


# the request context of a repository ecrcache created (apply tags them managed-by=ecrcache)
OURS = {"aws:ResourceTag/managed-by": "ecrcache"}


BRIEF_OPERATIONS = (
    "plan", "apply.rule", "apply.secret", "apply.template", "apply.repository", "apply.scanning",
    "apply.registry-policy", "apply.iam-policy", "pull.first", "pull.cached", "push", "login",
    "test-pull", "status", "cost-report", "prune", "doctor", "import", "outputs",
    "apply.monitoring",
)  # fmt: skip


def test_the_table_covers_every_operation() -> None:
    assert set(operations()) == set(BRIEF_OPERATIONS)
    with pytest.raises(ValueError, match="unknown operation"):
        permissions_for("deploy")


def _ecr_operations() -> set[str]:
    path = Path(botocore.__file__).parent / "data/ecr/2015-09-21/service-2.json.gz"
    return set(json.load(gzip.open(path))["operations"])


def test_every_ecr_action_is_an_api_operation_or_the_documented_permission_only_one() -> None:
    ecr_actions = {a.split(":", 1)[1] for p in PERMISSIONS for a in p.actions if a[:4] == "ecr:"}
    # BatchImportUpstreamImage is "[permission only]" (Service Authorization Reference)
    assert ecr_actions - _ecr_operations() == {"BatchImportUpstreamImage"}
    for permission in PERMISSIONS:
        for action in permission.actions:
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", action), action


REGISTRY_LEVEL = {
    "ecr:GetAuthorizationToken",
    "ecr:CreatePullThroughCacheRule",
    "ecr:UpdatePullThroughCacheRule",
    "ecr:DeletePullThroughCacheRule",
    "ecr:DescribePullThroughCacheRules",
    "ecr:ValidatePullThroughCacheRule",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:UpdateRepositoryCreationTemplate",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:PutRegistryPolicy",
    "ecr:GetRegistryPolicy",
    "ecr:DeleteRegistryPolicy",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:DescribeRegistry",
    "secretsmanager:ListSecrets",
}


def test_registry_level_actions_are_only_granted_on_star() -> None:
    for permission in PERMISSIONS:
        for action in permission.actions:
            if action in REGISTRY_LEVEL:
                assert permission.scope is Scope.ANY, (permission.operation, action)


@pytest.mark.parametrize(
    ("operation", "present", "absent"),
    [
        ("pull.first", FIRST_PULL, ()),
        ("pull.cached", FIRST_PULL[:4], ("ecr:CreateRepository",)),
        ("login", ("ecr:GetAuthorizationToken",), ("ecr:BatchGetImage",)),
    ],
)
def test_pull_facts(operation: str, present: tuple[str, ...], absent: tuple[str, ...]) -> None:
    actions = {a for p in permissions_for(operation) for a in p.actions}
    assert "ecr:GetAuthorizationToken" in actions
    assert set(present) <= actions
    assert not set(absent) & actions


@pytest.mark.parametrize("resource", [CACHED, NESTED_CACHED, repo("quay/prometheus/node")])
@pytest.mark.parametrize("action", FIRST_PULL)
def test_ci_policy_allows_a_first_pull_under_the_cache_prefixes(action: str, resource: str) -> None:
    policy = policy_for("pull.first")
    assert outcome(policy, action, resource) is Outcome.ALLOW
    assert outcome(policy, "ecr:GetAuthorizationToken", "*") is Outcome.ALLOW


@pytest.mark.parametrize(
    "resource",
    [
        ELSEWHERE,
        APP,
        repo("docker-hubx/library/nginx"),  # a prefix is a path segment, not a string prefix
        repo("k8s/other/pause"),
        f"arn:{P}:ecr:us-east-1:{ACCOUNT}:repository/docker-hub/library/nginx",
        f"arn:{P}:ecr:{REGION}:444455556666:repository/docker-hub/library/nginx",
    ],
)
@pytest.mark.parametrize("action", FIRST_PULL)
def test_ci_policy_denies_pull_actions_elsewhere(action: str, resource: str) -> None:
    assert outcome(policy_for("pull.first"), action, resource) is Outcome.IMPLICIT_DENY


def test_cached_pull_needs_no_create_repository() -> None:
    policy = policy_for("pull.cached")
    for action in FIRST_PULL[:4]:
        assert outcome(policy, action, CACHED) is Outcome.ALLOW
    assert outcome(policy, "ecr:CreateRepository", CACHED) is Outcome.IMPLICIT_DENY


@pytest.mark.parametrize("action", [*PUSH, "ecr:BatchGetImage"])
def test_push_is_allowed_on_app_repositories_only(action: str) -> None:
    """Application repositories are the ones ecrcache tagged as its own, not a list of names
    (500 names would not fit a managed policy): a repository without the tag is refused."""
    policy = policy_for("push")
    assert outcome(policy, action, APP, OURS) is Outcome.ALLOW
    assert outcome(policy, action, repo("team/worker"), OURS) is Outcome.ALLOW
    if action != "ecr:BatchGetImage":
        assert outcome(policy, action, CACHED) is Outcome.IMPLICIT_DENY
    assert outcome(policy, action, APP) is Outcome.IMPLICIT_DENY  # not tagged
    other = {"aws:ResourceTag/managed-by": "terraform"}
    assert outcome(policy, action, repo("team/app2"), other) is Outcome.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        ("ecr:DescribePullThroughCacheRules", "*", Outcome.ALLOW),
        ("ecr:DescribeRepositoryCreationTemplates", "*", Outcome.ALLOW),
        ("secretsmanager:ListSecrets", "*", Outcome.ALLOW),
        ("secretsmanager:GetSecretValue", SECRET, Outcome.ALLOW),
        ("secretsmanager:GetSecretValue",
         f"arn:{P}:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf", Outcome.IMPLICIT_DENY),
        ("ecr:GetLifecyclePolicy", APP, Outcome.ALLOW),  # plan reads every repository's
        ("iam:GetPolicyVersion", f"arn:{P}:iam::{ACCOUNT}:policy/ecrcache-ci", Outcome.ALLOW),
        ("ecr:CreatePullThroughCacheRule", "*", Outcome.IMPLICIT_DENY),  # plan only reads
        ("ecr:CreateRepository", APP, Outcome.IMPLICIT_DENY),
        ("secretsmanager:PutSecretValue", SECRET, Outcome.IMPLICIT_DENY),
    ],
)  # fmt: skip
def test_plan_reads_and_only_reads(action: str, resource: str, expected: Outcome) -> None:
    assert outcome(policy_for("plan"), action, resource) is expected


def test_apply_operations_write_where_they_should() -> None:
    policy = policy_for("apply.rule", "apply.secret", "apply.repository", "apply.template")
    assert outcome(policy, "ecr:CreatePullThroughCacheRule", "*") is Outcome.ALLOW
    assert outcome(policy, "secretsmanager:CreateSecret", SECRET) is Outcome.ALLOW
    assert outcome(policy, "ecr:PutLifecyclePolicy", APP, OURS) is Outcome.ALLOW
    assert outcome(policy, "ecr:PutLifecyclePolicy", APP) is Outcome.IMPLICIT_DENY
    # backfill: cache repositories take their template's lifecycle policy and tag mutability
    assert outcome(policy, "ecr:PutLifecyclePolicy", CACHED) is Outcome.ALLOW
    assert outcome(policy, "ecr:PutImageTagMutability", CACHED) is Outcome.ALLOW
    assert outcome(policy, "ecr:PutLifecyclePolicy", ELSEWHERE) is Outcome.IMPLICIT_DENY
    assert outcome(policy, "ecr:CreateRepository", CACHED) is Outcome.ALLOW  # templates need it
    assert outcome(policy, "ecr:CreateRepository", ELSEWHERE) is Outcome.IMPLICIT_DENY
    # an application repository is created only carrying ecrcache's tag, and no other key
    created = {"aws:RequestTag/managed-by": "ecrcache", "aws:TagKeys": ["managed-by"]}
    assert outcome(policy, "ecr:CreateRepository", ELSEWHERE, created) is Outcome.ALLOW
    extra = {**created, "aws:TagKeys": ["managed-by", "team"]}
    assert outcome(policy, "ecr:CreateRepository", ELSEWHERE, extra) is Outcome.IMPLICIT_DENY
    # no statement lets ecrcache put its tag on a repository it did not create
    adopt = {"aws:RequestTag/managed-by": "ecrcache", "aws:TagKeys": ["managed-by"]}
    assert outcome(policy, "ecr:TagResource", ELSEWHERE, adopt) is Outcome.IMPLICIT_DENY
    # no role to pass given: no PassRole statement at all
    assert (
        outcome(policy, "iam:PassRole", f"arn:{P}:iam::{ACCOUNT}:role/x") is Outcome.IMPLICIT_DENY
    )
    with_roles = ci_policy(
        partition=P, account_id=ACCOUNT, region=REGION, cache_prefixes=PREFIXES,
        app_repositories=APPS, operations=["apply.rule"],
        pass_roles=[f"arn:{P}:iam::{ACCOUNT}:role/ecr-upstream"],
    )  # fmt: skip
    role = f"arn:{P}:iam::{ACCOUNT}:role/ecr-upstream"
    for service in ("ecr.amazonaws.com", "pullthroughcache.ecr.amazonaws.com"):
        to_ecr = {"iam:PassedToService": service}
        assert outcome(with_roles, "iam:PassRole", role, to_ecr) is Outcome.ALLOW
        assert outcome(with_roles, "iam:PassRole", role + "2", to_ecr) is Outcome.IMPLICIT_DENY
    # the role goes to ECR only
    to_ec2 = {"iam:PassedToService": "ec2.amazonaws.com"}
    assert outcome(with_roles, "iam:PassRole", role, to_ec2) is Outcome.IMPLICIT_DENY
    assert outcome(with_roles, "iam:PassRole", role) is Outcome.IMPLICIT_DENY


def test_root_prefix_scopes_to_every_repository() -> None:
    policy = policy_for("pull.first", prefixes=("ROOT", "quay"))
    statement = next(s for s in policy["Statement"] if s["Sid"] == "EcrcacheCacheRepositories")
    assert statement["Resource"] == any_region("*")
    assert outcome(policy, "ecr:CreateRepository", ELSEWHERE) is Outcome.ALLOW


def test_ci_policy_is_stable_grouped_and_named() -> None:
    ops = list(operations())
    a = policy_for(*ops)
    b = ci_policy(
        partition=P, account_id=ACCOUNT, region=REGION, cache_prefixes=tuple(reversed(PREFIXES)),
        app_repositories=tuple(reversed(APPS)), operations=list(reversed(ops)),
    )  # fmt: skip
    assert json.dumps(a) == json.dumps(b)
    sids = [s["Sid"] for s in a["Statement"]]
    assert len(sids) == len(set(sids))
    assert all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids)  # IAM Sid characters
    assert sids[0] == "EcrcacheRegistry"
    for statement in a["Statement"]:
        assert statement["Action"] == sorted(set(statement["Action"]))


def _size(policy: dict[str, Any]) -> int:
    return len(json.dumps(policy, separators=(",", ":")))


@pytest.mark.parametrize(
    "prefixes",
    [
        [f"upstream-{i:02d}" for i in range(50)],
        [f"p{i:02d}-" + "x" * 26 for i in range(50)],  # 30 characters, the longest ECR allows
        [f"team{i:02d}/docker-hub-mirror-cache" for i in range(50)],
    ],
)
def test_fifty_prefixes_fit_a_managed_policy_and_still_cover_each(prefixes: list[str]) -> None:
    apps = [f"app/service-{i}" for i in range(10)]
    policy = ci_policy(
        partition=P, account_id=ACCOUNT, region="ap-southeast-2", cache_prefixes=prefixes,
        app_repositories=apps, operations=list(operations()),
    )  # fmt: skip
    assert _size(policy) <= MANAGED_POLICY_MAX_CHARS
    for prefix in prefixes:
        arn = f"arn:{P}:ecr:ap-southeast-2:{ACCOUNT}:repository/{prefix}/library/nginx"
        assert outcome(policy, "ecr:CreateRepository", arn) is Outcome.ALLOW
    outside = f"arn:{P}:ecr:ap-southeast-2:{ACCOUNT}:repository/zzz/nginx"
    assert outcome(policy, "ecr:CreateRepository", outside) is Outcome.IMPLICIT_DENY


def test_exact_resources_when_they_fit() -> None:
    policy = policy_for("pull.first")
    statement = next(s for s in policy["Statement"] if s["Sid"] == "EcrcacheCacheRepositories")
    assert statement["Resource"] == sorted(any_region(f"{p}/*") for p in PREFIXES)
    # the region is said once, in a condition
    assert statement["Condition"] == {"StringEquals": {"aws:RequestedRegion": REGION}}
    other_region = {"aws:RequestedRegion": "us-east-1"}
    assert outcome(policy, "ecr:CreateRepository", CACHED, other_region) is Outcome.IMPLICIT_DENY


def registry_policy(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "partition": P, "account_id": ACCOUNT, "region": REGION, "principals": [NODE_ROLE],
        "cache_prefixes": PREFIXES,
    } | overrides  # fmt: skip
    return {"Version": "2012-10-17", "Statement": puller_statements(**kwargs)}


def node_decision(action: str, resource: str, *, registry: bool) -> Outcome:
    return evaluate(
        action,
        resource,
        identity_policies=[managed("AmazonEC2ContainerRegistryReadOnly")],
        resource_policy=registry_policy() if registry else None,
        principal_arn=NODE_ROLE,
    ).outcome


@pytest.mark.parametrize("action", [*FIRST_PULL, "ecr:GetAuthorizationToken"])
def test_readonly_plus_puller_statements_make_a_first_pull(action: str) -> None:
    resource = "*" if action == "ecr:GetAuthorizationToken" else CACHED
    assert node_decision(action, resource, registry=True) is Outcome.ALLOW


@pytest.mark.parametrize("action", ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"])
def test_readonly_alone_cannot_populate_the_cache(action: str) -> None:
    assert node_decision(action, CACHED, registry=False) is Outcome.IMPLICIT_DENY
    # and the puller statements do not reach outside the cache prefixes
    assert node_decision(action, ELSEWHERE, registry=True) is Outcome.IMPLICIT_DENY


def test_puller_statements_shape() -> None:
    statements = puller_statements(
        partition=P, account_id=ACCOUNT, region=REGION,
        principals=[NODE_ROLE, ACCOUNT, NODE_ROLE], cache_prefixes=PREFIXES,
    )  # fmt: skip
    assert all(s["Sid"].startswith("ecrcache-") for s in statements)
    for s in statements:
        assert set(s["Action"]) <= REGISTRY_POLICY_ACTIONS  # what a registry policy may hold
        assert s["Principal"] == {"AWS": sorted({NODE_ROLE, ACCOUNT})}
    other_role = f"arn:aws:iam::{ACCOUNT}:role/other"
    decision = evaluate(
        "ecr:CreateRepository", CACHED, identity_policies=[],
        resource_policy=registry_policy(), principal_arn=other_role,
    )  # fmt: skip
    assert decision.outcome is Outcome.IMPLICIT_DENY
    assert (
        puller_statements(
            partition=P, account_id=ACCOUNT, region=REGION, principals=[], cache_prefixes=PREFIXES
        )
        == []
    )
