"""Apply, then plan is empty, for every resource kind, with the sandbox storing policies as AWS
does (account IDs as root ARNs, principal lists reordered, one-element lists collapsed;
ecrcache.sandbox.policy_storage): what the canonical form (ecrcache.policy) is for."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from reconcile_support import ACCOUNT, REGION, apply, clients, config, make_roles, plan

from ecrcache.reconcile.plan import Action

OTHER = "111122223333"
ROLES = [f"arn:aws:iam::{ACCOUNT}:role/{n}" for n in ("zeta-nodes", "alpha-ci", "mid-batch")]


@pytest.fixture(autouse=True)
def _roles(aws: boto3.session.Session) -> None:
    make_roles(aws, ROLES)


TEMPLATE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PullFromProd",
                "Effect": "allow",
                "Principal": {"AWS": [OTHER, ROLES[0], ROLES[1]]},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            },
            {"Sid": "", "Effect": "Deny", "Principal": "*", "Action": ["ecr:DeleteRepository"]},
        ],
    }
)
RULES = {
    "docker-hub": {
        "upstream": "docker-hub",
        "credentials": {
            "secret": "ecr-pullthroughcache/docker-hub",
            "username": "bot",
            "token": {"env": "TOK"},
        },
    },
    "quay": {"upstream": "quay"},
}


def everything(**changes: Any) -> Any:
    """A config with every resource kind, its policies written the way people write them."""
    sections: dict[str, Any] = {
        "templates": {
            "quay": {
                "lifecycle": {"keep_last": 30},
                "repository_policy": TEMPLATE_POLICY,
                "backfill": True,
            }
        },
        "repositories": {"acme/api": {"lifecycle": {"keep_last": 10}, "tags": {"team": "a"}}},
        "scanning": {"type": "BASIC", "rules": [{"frequency": "SCAN_ON_PUSH", "filters": ["*"]}]},
        "pullers": {"principals": [ROLES[0], OTHER, ROLES[2], ROLES[1]]},
        "ci_policy": {},
    }
    sections.update(changes)
    return config(RULES, **sections)


def settle(session: boto3.session.Session, cfg: Any) -> None:
    """apply; then the plan is empty and a second apply makes no mutating call."""
    apply(cfg, clients(session))
    again = clients(session)
    result = apply(cfg, again)
    assert result.plan.empty, [c.address for c in result.plan.changes]
    assert again.mutating_calls == []


def test_every_kind_settles_with_policies_stored_as_aws_stores_them(
    aws: boto3.session.Session,
) -> None:
    ecr = clients(aws).ecr
    ecr.create_repository(repositoryName="quay/prometheus/node-exporter")  # for backfill
    settle(aws, everything())
    live = plan(everything(), clients(aws)).live
    for kind in (
        "secrets",
        "rules",
        "templates",
        "repositories",
        "repository_settings",
        "scanning",
        "registry_policy",
        "iam_policies",
    ):
        assert getattr(live, kind), f"no {kind} in the test account"
    # The sandbox did store them in AWS's form, so the empty plan is the canonical form's doing.
    registry = json.loads(ecr.get_registry_policy()["policyText"])
    (ours,) = [s for s in registry["Statement"] if s["Sid"].startswith("ecrcache-")]
    principals = ours["Principal"]["AWS"]
    assert f"arn:aws:iam::{OTHER}:root" in principals and OTHER not in principals
    assert principals != sorted(principals)
    (template,) = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    (stored,) = [s for s in json.loads(template["repositoryPolicy"])["Statement"] if s.get("Sid")]
    assert f"arn:aws:iam::{OTHER}:root" in stored["Principal"]["AWS"]


def test_a_changed_principal_is_one_update_then_settles(aws: boto3.session.Session) -> None:
    settle(aws, everything())
    fewer = everything(pullers={"principals": [OTHER, ROLES[1]]})
    result = plan(fewer, clients(aws))
    assert [(c.address, c.action) for c in result.plan.changes] == [
        ("registry-policy.registry", Action.UPDATE)
    ]
    settle(aws, fewer)


def test_a_template_policy_with_another_principal_is_one_update(
    aws: boto3.session.Session,
) -> None:
    settle(aws, everything())
    changed = TEMPLATE_POLICY.replace(OTHER, "444455556666")
    cfg = everything(
        templates={"quay": {"lifecycle": {"keep_last": 30}, "repository_policy": changed}}
    )
    result = plan(cfg, clients(aws))
    (change,) = result.plan.changes
    assert change.address == "template.quay"
    assert [f.name for f in change.fields] == ["repository_policy"]
    settle(aws, cfg)


def test_other_statements_are_written_back_exactly_as_read(aws: boto3.session.Session) -> None:
    ecr = clients(aws).ecr
    foreign = {
        "Sid": "ReplicationFromProd",
        "Principal": {"AWS": [OTHER, "222233334444"]},
        "Effect": "Allow",
        "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
        "Resource": [f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*"],
    }
    ecr.put_registry_policy(
        policyText=json.dumps({"Version": "2012-10-17", "Statement": [foreign]})
    )
    as_stored = json.loads(ecr.get_registry_policy()["policyText"])["Statement"][0]
    settle(aws, everything())
    statements = json.loads(ecr.get_registry_policy()["policyText"])["Statement"]
    (theirs,) = [s for s in statements if not s["Sid"].startswith("ecrcache-")]
    assert json.dumps(theirs) == json.dumps(as_stored)  # key order and all
