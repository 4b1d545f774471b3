"""``import`` of a hub account against moto with ecrcache's extension: apply a hub's config, then
import the account: ``[hub]`` comes back from ecrcache's spoke statements in the registry policy
(accounts, a role, the organization and its paths), the templates' repository policies without
the spokes' pull statements ([hub] adds them), and ``plan`` with the imported file is empty."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import boto3
from reconcile_support import ACCOUNT, REGION, apply, clients, config, cred, make_roles, plan

from ecrcache.config.loading import parse_config
from ecrcache.reconcile.import_toml import to_toml
from ecrcache.reconcile.importer import import_config
from targets_support import client_in

SPOKE, OTHER = "333333333333", "444444444444"
SPOKE_ROLE = f"arn:aws:iam::{OTHER}:role/eks-node"
PULLER = f"arn:aws:iam::{ACCOUNT}:role/eks-node"
ORG = "o-a1b2c3d4e5"
PATH = f"{ORG}/r-ab12/ou-ab12-11111111/*"
USER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "read",
            "Effect": "Allow",
            "Principal": {"AWS": PULLER},
            "Action": "ecr:BatchGetImage",
        }
    ],
}
HUB: dict[str, Any] = {
    "spoke_accounts": [SPOKE],
    "spoke_principals": [SPOKE_ROLE],
    "organization_id": ORG,
    "organizational_unit_paths": [PATH],
}
RULES = {
    "docker-hub": {"upstream": "docker-hub", "credentials": cred("docker-hub")},
    "quay": {"upstream": "quay"},
}


def _hub_account(aws: boto3.session.Session, **top: Any) -> None:
    make_roles(aws, [PULLER])
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    client_in(aws, "iam", OTHER, "us-east-1").create_role(
        RoleName="eks-node", AssumeRolePolicyDocument=trust
    )
    apply(config(RULES, **top), clients(aws))


def _round_trip(aws: boto3.session.Session) -> tuple[Any, Any]:
    result = import_config(clients(aws), region=REGION)
    cfg = parse_config(tomllib.loads(to_toml(result)))
    return result, plan(cfg, clients(aws))


def test_a_hub_imports_its_hub_table_and_plans_empty(aws: boto3.session.Session) -> None:
    _hub_account(
        aws,
        templates={
            "ROOT": {"lifecycle": {"keep_last": 10}},
            "quay": {"repository_policy": json.dumps(USER_POLICY)},
        },
        pullers={"principals": [PULLER]},
        hub=HUB,
    )
    result, after = _round_trip(aws)
    assert after.plan.empty, [c.address for c in after.plan.changes]
    doc = result.document
    assert doc["hub"] == HUB
    assert doc["pullers"] == {"principals": [PULLER]}
    # the spokes' pull statements are [hub]'s: only the user's own policy is imported
    assert "repository_policy" not in doc["templates"]["ROOT"]
    assert json.loads(doc["templates"]["quay"]["repository_policy"]) == USER_POLICY
    assert not any(n.startswith(("hub:", "pullers:")) for n in result.notes), result.notes


def test_a_hub_without_pullers_imports_no_pullers(aws: boto3.session.Session) -> None:
    _hub_account(aws, templates={"ROOT": {}}, hub={"spoke_accounts": [SPOKE]})
    result, after = _round_trip(aws)
    assert after.plan.empty, [c.address for c in after.plan.changes]
    assert result.document["hub"] == {"spoke_accounts": [SPOKE]}
    assert "pullers" not in result.document


def test_changed_spoke_statements_are_noted(aws: boto3.session.Session) -> None:
    """A hub statement narrowed by hand imports as [hub], with a note that apply rewrites it."""
    _hub_account(aws, templates={"ROOT": {}}, hub={"spoke_accounts": [SPOKE]})
    ecr = aws.client("ecr")
    doc = json.loads(ecr.get_registry_policy()["policyText"])
    for st in doc["Statement"]:
        if st["Sid"] == "ecrcache-hub-spokes":
            st["Action"] = ["ecr:CreateRepository"]
    ecr.put_registry_policy(policyText=json.dumps(doc))
    result, after = _round_trip(aws)
    assert result.document["hub"] == {"spoke_accounts": [SPOKE]}
    assert any("hub: ecrcache's spoke statements" in n for n in result.notes)
    assert [c.address for c in after.plan.changes] == ["registry-policy.registry"]
