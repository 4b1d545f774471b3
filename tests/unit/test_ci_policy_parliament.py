"""parliament (PyPI, duo-labs) audits the generated policies: the CI policy for a tiny config,
the example, 500 repositories with 50 rules (realistic and worst-case names), one passing
roles; and the registry policy's puller statements.

"No errors" here means stricter than "no finding of high severity": parliament must report
nothing at all, except the findings below, each matched exactly (the same issue on one more
action fails) and explained. parliament's copy of the Service Authorization Reference
(``iam_definition.json``) also proves that every condition key the CI policy uses is one its
actions take.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import botocore
import pytest
from parliament import analyze_policy_string, enhance_finding
from test_ci_policy_size import ACCOUNT, REALISTIC, REGION, WORST, big_config

from ecrcache.config.ci_policy import ci_policy_for
from ecrcache.config.loading import parse_config
from ecrcache.config.schema import Config
from ecrcache.policy.permissions import PERMISSIONS
from ecrcache.policy.policies import ACTION_FAMILIES, puller_statements

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"

# RESOURCE_STAR (severity LOW): reads that must see every repository or principal, on "*".
# - plan/import: ecrcache finds the repositories it tagged wherever they are (tags are only
#   readable per repository, and DescribeRepositories has no prefix filter), reads their
#   lifecycle policies and counts their images (ListImages) before a delete, and asks KMS
#   whether a repository's key is the AWS-managed one (DescribeKey reads key metadata only);
# - cost-report: every repository is on the bill (DescribeImages), application and unmanaged;
# - doctor: reads the policies of any role, user or group the pullers name, and the managed
#   policies attached to them (AWS-managed ones included) to evaluate them.
READS_ON_STAR = {
    "ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:GetLifecyclePolicy",
    "ecr:ListImages", "ecr:DescribeImages", "kms:DescribeKey",
    "iam:GetRole", "iam:GetUser", "iam:GetPolicy", "iam:GetPolicyVersion",
    "iam:GetRolePolicy", "iam:GetUserPolicy", "iam:GetGroupPolicy",
    "iam:ListAttachedRolePolicies", "iam:ListAttachedUserPolicies",
    "iam:ListAttachedGroupPolicies", "iam:ListRolePolicies", "iam:ListUserPolicies",
    "iam:ListGroupPolicies", "iam:ListGroupsForUser",
}  # fmt: skip
# RESOURCE_MISMATCH (MEDIUM) for ecr:BatchImportUpstreamImage only: parliament 1.6.4's data
# gives it no resource type, the current Service Authorization Reference gives it
# ``repository*`` (list_amazonelasticcontainerregistry.html), and the ECR user guide grants it
# on repositories in registry and repository policies (pull-through-cache-iam.html). On "*" it
# would let CI import into any repository; ecrcache keeps it on the cache prefixes.
IMPORT_MISMATCH = [{"action": "ecr:BatchImportUpstreamImage", "required_format": "*"}]


def explained(finding: Any) -> bool:
    if finding.issue == "RESOURCE_STAR":
        return set(finding.detail) <= READS_ON_STAR
    if finding.issue == "RESOURCE_MISMATCH":
        return bool(finding.detail == IMPORT_MISMATCH)
    return False


def findings(doc: dict[str, Any]) -> list[tuple[str, str, Any]]:
    policy = analyze_policy_string(json.dumps(doc, indent=2))
    return [(f.issue, f.severity, f.detail) for f in map(enhance_finding, policy.findings)]


def unexplained(doc: dict[str, Any]) -> list[tuple[str, str, Any]]:
    policy = analyze_policy_string(json.dumps(doc, indent=2))
    return [
        (f.issue, f.severity, f.detail)
        for f in map(enhance_finding, policy.findings)
        if not explained(f)
    ]


TINY = {"region": REGION, "rules": {"quay": {"upstream": "quay"}}, "ci_policy": {}}


@cache
def configs() -> dict[str, Config]:
    with_roles = {
        **TINY,
        "rules": {
            "mirror": {
                "upstream": "ecr",
                "url": "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
                "role_arn": f"arn:aws:iam::{ACCOUNT}:role/ecr-ptc-upstream",
            }
        },
        "templates": {
            "mirror": {"tags": {"team": "x"}, "role_arn": f"arn:aws:iam::{ACCOUNT}:role/tpl"}
        },
        "repositories": {"acme/api": {"tags": {"team": "x"}}},
    }
    return {
        "tiny": parse_config(TINY),
        "tiny-plan-only": parse_config({**TINY, "ci_policy": {"operations": ["plan"]}}),
        "example": parse_config(tomllib.loads(EXAMPLE.read_text())),
        "roles": parse_config(with_roles),
        "500-repositories-50-rules": big_config(REALISTIC),
        "worst-case-names": big_config(WORST),
    }


@pytest.mark.parametrize("name", list(configs()))
def test_ci_policy_has_no_unexplained_finding(name: str) -> None:
    doc = ci_policy_for(configs()[name], account_id=ACCOUNT, region=REGION)
    assert unexplained(doc) == []


def test_the_explanations_are_exact() -> None:
    """An action on "*" beyond the explained reads is reported, and so is a finding of any
    other kind: the filter hides nothing it was not written for."""
    doc = ci_policy_for(configs()["tiny"], account_id=ACCOUNT, region=REGION)
    doc["Statement"][0]["Action"].append("ecr:PutImage")
    assert [(i, s) for i, s, _ in unexplained(doc)] == [("RESOURCE_STAR", "LOW")]
    doc = ci_policy_for(configs()["tiny"], account_id=ACCOUNT, region=REGION)
    doc["Statement"][1]["Action"].append("ecr:PutImageTagMutabilty")  # misspelt
    assert "UNKNOWN_ACTION" in {i for i, _, _ in unexplained(doc)}
    # and what is explained really is reported by parliament
    issues = {i for i, _, _ in findings(ci_policy_for(configs()["example"], account_id=ACCOUNT,
                                                      region=REGION))}  # fmt: skip
    assert issues == {"RESOURCE_STAR", "RESOURCE_MISMATCH"}


@pytest.mark.parametrize("prefixes", [["quay", "ROOT"], REALISTIC])
def test_puller_statements_have_no_unexplained_finding(prefixes: list[str]) -> None:
    statements = puller_statements(
        partition="aws", account_id=ACCOUNT, region=REGION, cache_prefixes=prefixes,
        principals=[ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/eks-node"],
    )  # fmt: skip
    doc = {"Version": "2012-10-17", "Statement": statements}
    # INVALID_SID (LOW): parliament holds every Sid to IAM's identity-policy alphabet
    # [A-Za-z0-9]; this is a statement of ECR's registry policy (a resource policy), whose Sid
    # ecrcache prefixes with "ecrcache-" to find its own statements among others'
    left = [f for f in unexplained(doc) if f[0] != "INVALID_SID"]
    assert left == []


# --------------------------------------------------- the reference behind the conditions


@cache
def _definition(prefix: str) -> dict[str, Any]:
    import parliament

    path = Path(parliament.__file__).parent / "iam_definition.json"
    return next(s for s in json.loads(path.read_text()) if s["prefix"] == prefix)


def _resource_types(service: dict[str, Any], action: str) -> list[dict[str, Any]]:
    name = action.split(":", 1)[1]
    privilege = next(p for p in service["privileges"] if p["privilege"] == name)
    return list(privilege["resource_types"])


def test_every_condition_key_is_one_its_actions_take() -> None:
    ecr = _definition("ecr")
    repository = next(r for r in ecr["resources"] if r["resource"] == "repository")
    assert "aws:ResourceTag/${TagKey}" in repository["condition_keys"]
    doc = ci_policy_for(configs()["roles"], account_id=ACCOUNT, region=REGION)
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    # aws:ResourceTag: every action of the statement acts on the repository resource type
    for action in by_sid["EcrcacheAppRepositories"]["Action"]:
        kinds = {t["resource_type"] for t in _resource_types(ecr, action)}
        assert "repository*" in kinds, action
    # aws:RequestTag and aws:TagKeys: CreateRepository takes both
    (create,) = by_sid["EcrcacheNewAppRepositories"]["Action"]
    keys = {k for t in _resource_types(ecr, create) for k in t["condition_keys"]}
    assert {"aws:RequestTag/${TagKey}", "aws:TagKeys"} <= keys
    # iam:PassedToService: PassRole takes it
    passrole = _resource_types(_definition("iam"), "iam:PassRole")
    assert "iam:PassedToService" in {k for t in passrole for k in t["condition_keys"]}


def test_action_families_match_exactly_their_members() -> None:
    """Each pattern matches its members and no other ECR action, in parliament's copy of the
    reference and in botocore's ECR model (operations, plus the permission-only
    BatchImportUpstreamImage)."""
    known = {f"ecr:{p['privilege']}" for p in _definition("ecr")["privileges"]}
    model = Path(botocore.__file__).parent / "data/ecr/2015-09-21/service-2.json.gz"
    with gzip.open(model) as f:
        known |= {f"ecr:{op}" for op in json.load(f)["operations"]}
    for pattern, members in ACTION_FAMILIES.items():
        matched = {a for a in known if fnmatch.fnmatchcase(a.lower(), pattern.lower())}
        assert matched == set(members), pattern


def test_every_action_of_the_table_is_known_to_parliament() -> None:
    for permission in PERMISSIONS:
        for action in permission.actions:
            prefix, name = action.split(":", 1)
            names = {p["privilege"] for p in _definition(prefix)["privileges"]}
            assert name in names, action
