"""ecrcache.policy.iam: table-driven checks of the IAM evaluation rules ecrcache relies on.

AWS managed policy documents come from moto's snapshot, moto/iam/aws_managed_policies.py in the
installed moto (5.2.x): AmazonEC2ContainerRegistryReadOnly v3 (2019-12-10) and
AmazonEC2ContainerRegistryPullOnly v1 (2024-10-04).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecrcache.policy.iam import Outcome, evaluate

ACCOUNT = "111122223333"
OTHER = "444455556666"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/docker-hub/library/nginx"
APP_REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/team/app"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/node"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/node/i-0123"
ALLOW = Outcome.ALLOW
DENY = Outcome.EXPLICIT_DENY
NONE = Outcome.IMPLICIT_DENY


def managed(name: str) -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)[name]["Document"]


READ_ONLY = "AmazonEC2ContainerRegistryReadOnly"
PULL_ONLY = "AmazonEC2ContainerRegistryPullOnly"
POWER_USER = "AmazonEC2ContainerRegistryPowerUser"


@pytest.mark.parametrize(
    ("policy", "action", "outcome"),
    [
        (READ_ONLY, "ecr:GetAuthorizationToken", ALLOW),
        (READ_ONLY, "ecr:BatchGetImage", ALLOW),
        (READ_ONLY, "ecr:GetDownloadUrlForLayer", ALLOW),
        (READ_ONLY, "ecr:BatchCheckLayerAvailability", ALLOW),
        (READ_ONLY, "ecr:BatchImportUpstreamImage", NONE),
        (READ_ONLY, "ecr:CreateRepository", NONE),
        (PULL_ONLY, "ecr:BatchGetImage", ALLOW),
        (PULL_ONLY, "ecr:BatchImportUpstreamImage", ALLOW),
        (PULL_ONLY, "ecr:CreateRepository", NONE),
        (PULL_ONLY, "ecr:BatchCheckLayerAvailability", NONE),
        (POWER_USER, "ecr:PutImage", ALLOW),
        (POWER_USER, "ecr:CreateRepository", NONE),
        (POWER_USER, "ecr:BatchImportUpstreamImage", NONE),
    ],
)
def test_aws_managed_ecr_policies(policy: str, action: str, outcome: Outcome) -> None:
    decision = evaluate(action, REPO, identity_policies=[managed(policy)])
    assert decision.outcome is outcome
    assert decision.certain
    assert (decision.decided_by is None) is (outcome is NONE)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


IDENTITY_CASES = [
    ("wildcard action", [allow("ecr:Get*")], "ecr:GetAuthorizationToken", REPO, ALLOW),
    (
        "actions ignore case",
        [allow("ECR:getauthorizationTOKEN")],
        "ecr:GetAuthorizationToken",
        REPO,
        ALLOW,
    ),
    ("? matches one character", [allow("ecr:Batch?etImage")], "ecr:BatchGetImage", REPO, ALLOW),
    ("? needs exactly one", [allow("ecr:Batch?Image")], "ecr:BatchGetImage", REPO, NONE),
    ("prefix wildcard does not leak", [allow("ecr:Get*")], "ecr:BatchGetImage", REPO, NONE),
    ("service wildcard", [allow("*")], "secretsmanager:CreateSecret", REPO, ALLOW),
    (
        "resource wildcard",
        [allow("ecr:CreateRepository", REPO.rsplit("/", 2)[0] + "/*")],
        "ecr:CreateRepository",
        REPO,
        ALLOW,
    ),
    (
        "resources are case-sensitive",
        [allow("ecr:CreateRepository", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/Docker-Hub/*")],
        "ecr:CreateRepository",
        REPO,
        NONE,
    ),
    (
        "resource outside the prefix",
        [allow("ecr:CreateRepository", REPO + "-x/*")],
        "ecr:CreateRepository",
        REPO,
        NONE,
    ),
    ("resource list", [allow("ecr:PutImage", [APP_REPO, REPO])], "ecr:PutImage", REPO, ALLOW),
    (
        "action list",
        [allow(["ecr:PutImage", "ecr:BatchGetImage"])],
        "ecr:BatchGetImage",
        REPO,
        ALLOW,
    ),
    (
        "NotAction allows the rest",
        [{"Effect": "Allow", "NotAction": "ecr:Delete*", "Resource": "*"}],
        "ecr:CreateRepository",
        REPO,
        ALLOW,
    ),
    (
        "NotAction excludes its own",
        [{"Effect": "Allow", "NotAction": ["ecr:Delete*"], "Resource": "*"}],
        "ecr:DeleteRepository",
        REPO,
        NONE,
    ),
    (
        "NotResource",
        [{"Effect": "Allow", "Action": "ecr:*", "NotResource": APP_REPO}],
        "ecr:PutImage",
        APP_REPO,
        NONE,
    ),
    (
        "NotResource elsewhere",
        [{"Effect": "Allow", "Action": "ecr:*", "NotResource": APP_REPO}],
        "ecr:PutImage",
        REPO,
        ALLOW,
    ),
    (
        "explicit deny wins",
        [allow("ecr:*"), deny("ecr:CreateRepository", REPO)],
        "ecr:CreateRepository",
        REPO,
        DENY,
    ),
    (
        "deny elsewhere does not",
        [allow("ecr:*"), deny("ecr:CreateRepository", APP_REPO)],
        "ecr:CreateRepository",
        REPO,
        ALLOW,
    ),
    ("nothing granted", [], "ecr:CreateRepository", REPO, NONE),
]


@pytest.mark.parametrize(
    ("statements", "action", "resource", "outcome"),
    [pytest.param(s, a, r, o, id=name) for name, s, a, r, o in IDENTITY_CASES],
)
def test_identity_policy_matching(
    statements: list[dict[str, Any]], action: str, resource: str, outcome: Outcome
) -> None:
    assert evaluate(action, resource, identity_policies=[doc(*statements)]).outcome is outcome


def test_statement_may_be_a_single_object_and_decision_names_it() -> None:
    policy = {"Statement": {"Sid": "Pull", "Effect": "Allow", "Action": "ecr:*", "Resource": "*"}}
    decision = evaluate("ecr:BatchGetImage", REPO, identity_policies=[{}, policy])
    assert decision.allowed
    assert (decision.decided_by.source, decision.decided_by.sid) == ("identity[1]", "Pull")


def registry_statement(principal: Any, effect: str = "Allow") -> dict[str, Any]:
    return {
        "Sid": "ecrcache-pullers",
        "Effect": effect,
        "Principal": principal,
        "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
        "Resource": f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/docker-hub/*",
    }


@pytest.mark.parametrize(
    ("principal_spec", "principal_arn", "outcome"),
    [
        ("*", ROLE, ALLOW),
        ({"AWS": "*"}, ROLE, ALLOW),
        ({"AWS": ACCOUNT}, ROLE, NONE),  # delegated to the account: IAM must grant it
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, ROLE, NONE),
        ({"AWS": [f"arn:aws:iam::{OTHER}:root", ROLE]}, ROLE, ALLOW),
        ({"AWS": ROLE}, SESSION, ALLOW),  # a role's session is the role
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"}, ROLE, NONE),
        ({"AWS": OTHER}, ROLE, NONE),
        ({"Service": "ecr.amazonaws.com"}, "ecr.amazonaws.com", ALLOW),
        ({"Service": "ecr.amazonaws.com"}, ROLE, NONE),
    ],
)
def test_resource_policy_principals(
    principal_spec: Any, principal_arn: str, outcome: Outcome
) -> None:
    decision = evaluate(
        "ecr:CreateRepository",
        REPO,
        identity_policies=[],
        resource_policy=doc(registry_statement(principal_spec)),
        principal_arn=principal_arn,
    )
    assert decision.outcome is outcome
    if outcome is ALLOW:
        assert decision.decided_by.source == "resource"


@pytest.mark.parametrize("account", [ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"])
def test_an_account_principal_delegates_to_identity_policies(account: str) -> None:
    registry = doc(registry_statement({"AWS": account}))
    granted = doc(allow("ecr:CreateRepository"))
    kwargs: dict[str, Any] = {"resource_policy": registry, "principal_arn": ROLE}
    assert evaluate("ecr:CreateRepository", REPO, identity_policies=[granted], **kwargs).allowed
    assert not evaluate("ecr:CreateRepository", REPO, identity_policies=[], **kwargs).allowed
    denied = doc(registry_statement({"AWS": account}, effect="Deny"))
    decision = evaluate(
        "ecr:CreateRepository", REPO, identity_policies=[granted], resource_policy=denied,
        principal_arn=ROLE,
    )  # fmt: skip
    assert decision.outcome is DENY  # a Deny naming the account applies to everyone in it


def test_same_account_one_side_is_enough_and_a_deny_on_either_side_wins() -> None:
    registry = doc(registry_statement({"AWS": ROLE}))
    kwargs: dict[str, Any] = {"resource_policy": registry, "principal_arn": ROLE}
    assert evaluate("ecr:CreateRepository", REPO, identity_policies=[], **kwargs).allowed
    identity_deny = doc(allow("ecr:*"), deny("ecr:CreateRepository"))
    assert (
        evaluate("ecr:CreateRepository", REPO, identity_policies=[identity_deny], **kwargs).outcome
        is DENY
    )
    registry_deny = doc(registry_statement({"AWS": ROLE}, effect="Deny"))
    decision = evaluate(
        "ecr:CreateRepository",
        REPO,
        identity_policies=[doc(allow("ecr:*"))],
        resource_policy=registry_deny,
        principal_arn=ROLE,
    )
    assert decision.outcome is DENY and decision.decided_by.source == "resource"


def test_cross_account_needs_both_sides() -> None:
    other_role = f"arn:aws:iam::{OTHER}:role/ci"
    registry = doc(registry_statement({"AWS": OTHER}))
    only_resource = evaluate(
        "ecr:CreateRepository",
        REPO,
        identity_policies=[],
        resource_policy=registry,
        principal_arn=other_role,
    )
    assert only_resource.outcome is NONE
    both = evaluate(
        "ecr:CreateRepository",
        REPO,
        identity_policies=[doc(allow("ecr:*"))],
        resource_policy=registry,
        principal_arn=other_role,
    )
    assert both.allowed
    only_identity = evaluate(
        "ecr:CreateRepository",
        REPO,
        identity_policies=[doc(allow("ecr:*"))],
        principal_arn=other_role,
    )
    assert only_identity.outcome is NONE


def conditional(operator: str, key: str, value: Any) -> dict[str, Any]:
    return doc(allow("ecr:BatchGetImage", "*", Condition={operator: {key: value}}))


TAG = "aws:PrincipalTag/team"
SOURCE = "aws:SourceArn"
CONDITION_CASES = [
    ("StringEquals", TAG, "ci", {TAG: "ci"}, ALLOW),
    ("StringEquals", TAG, "ci", {TAG: "CI"}, NONE),
    ("StringEquals", TAG, ["dev", "ci"], {TAG: "ci"}, ALLOW),  # values are ORed
    ("StringEquals", TAG, "ci", {}, NONE),
    ("StringEquals", "AWS:PRINCIPALTAG/team", "ci", {TAG: "ci"}, ALLOW),  # key names ignore case
    ("StringEqualsIfExists", TAG, "ci", {}, ALLOW),
    ("StringEqualsIfExists", TAG, "ci", {TAG: "dev"}, NONE),
    ("StringNotEquals", TAG, "dev", {TAG: "ci"}, ALLOW),
    ("StringNotEquals", TAG, ["dev", "ci"], {TAG: "ci"}, NONE),
    ("StringNotEquals", TAG, "dev", {}, ALLOW),  # a missing key passes a negated operator
    ("StringEqualsIgnoreCase", TAG, "CI", {TAG: "ci"}, ALLOW),
    ("StringLike", TAG, "c?", {TAG: "ci"}, ALLOW),
    ("StringLike", TAG, "ops-*", {TAG: "ci"}, NONE),
    ("StringNotLike", TAG, "ops-*", {TAG: "ci"}, ALLOW),
    ("ArnLike", SOURCE, f"arn:aws:iam::{ACCOUNT}:role/*", {SOURCE: ROLE}, ALLOW),
    ("ArnLike", SOURCE, f"arn:aws:iam::{OTHER}:role/*", {SOURCE: ROLE}, NONE),
    ("ArnLike", SOURCE, "arn:aws:iam::*:role/node", {SOURCE: ROLE}, ALLOW),
    ("ArnEquals", SOURCE, ROLE, {SOURCE: ROLE}, ALLOW),
    ("ArnLikeIfExists", SOURCE, "arn:aws:iam::*:role/x", {}, ALLOW),
    ("ArnNotLike", SOURCE, "arn:aws:iam::*:role/x", {SOURCE: ROLE}, ALLOW),
    ("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": "true"}, ALLOW),
    ("Bool", "aws:SecureTransport", True, {"aws:SecureTransport": "false"}, NONE),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true", {}, ALLOW),
    ("Null", TAG, "true", {}, ALLOW),
    ("Null", TAG, "false", {}, NONE),
]


@pytest.mark.parametrize(
    ("operator", "key", "value", "context", "outcome"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(CONDITION_CASES)],
)
def test_condition_operators(
    operator: str, key: str, value: Any, context: dict[str, str], outcome: Outcome
) -> None:
    decision = evaluate(
        "ecr:BatchGetImage",
        REPO,
        identity_policies=[conditional(operator, key, value)],
        context=context,
    )
    assert decision.outcome is outcome
    assert decision.unknown == () and decision.certain


def test_conditions_are_anded_across_keys_and_operators() -> None:
    policy = doc(
        allow(
            "ecr:BatchGetImage",
            "*",
            Condition={
                "StringEquals": {TAG: "ci", "aws:RequestedRegion": "eu-west-1"},
                "Bool": {"aws:SecureTransport": "true"},
            },
        )
    )
    context = {TAG: "ci", "aws:RequestedRegion": "eu-west-1", "aws:SecureTransport": "true"}
    assert evaluate("ecr:BatchGetImage", REPO, identity_policies=[policy], context=context).allowed
    for key in context:
        partial = {k: v for k, v in context.items() if k != key}
        assert not evaluate(
            "ecr:BatchGetImage", REPO, identity_policies=[policy], context=partial
        ).allowed


@pytest.mark.parametrize(
    "condition",
    [
        {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
        {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
        {"ForAnyValue:NumericEquals": {"aws:MultiFactorAuthAge": ["0"]}},
        {"ForEvery:StringEquals": {"aws:TagKeys": ["team"]}},
        {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}},
    ],
)
def test_unsupported_conditions_are_reported_as_unknown(condition: dict[str, Any]) -> None:
    unknown_allow = doc(allow("ecr:BatchGetImage", "*", Condition=condition))
    decision = evaluate("ecr:BatchGetImage", REPO, identity_policies=[unknown_allow])
    assert decision.outcome is NONE
    assert not decision.certain
    assert len(decision.unknown) == 1 and decision.unknown[0].effect == "Allow"
    # an unknown Deny leaves an Allow uncertain, but an explicit Deny stays certain
    unknown_deny = doc(allow("ecr:*"), deny("ecr:BatchGetImage", "*", Condition=condition))
    decision = evaluate("ecr:BatchGetImage", REPO, identity_policies=[unknown_deny])
    assert decision.allowed and not decision.certain
    both = doc(deny("ecr:*"), deny("ecr:BatchGetImage", "*", Condition=condition))
    decision = evaluate("ecr:BatchGetImage", REPO, identity_policies=[both])
    assert decision.outcome is DENY and decision.certain


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "ecr:*", "Resource": "*"},  # no Effect
        {"Effect": "Allow", "Action": "ecr:*", "NotAction": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Allow", "Action": 3, "Resource": "*"},
    ],
)
def test_malformed_policies_raise(statement: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        evaluate("ecr:BatchGetImage", REPO, identity_policies=[doc(statement)])
