"""import against moto with ecrcache's extension: an account with every kind present, made by
apply and by hand, imports into a config that validates and plans empty, without reading a
single secret value."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import boto3
import pytest
from reconcile_support import ACCOUNT, REGION, apply, clients, config, cred, example_roles, plan

from ecrcache.config.loading import parse_config
from ecrcache.reconcile.import_toml import to_toml
from ecrcache.reconcile.importer import import_config

ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecr-template"
KMS = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
RAW_LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "written by hand",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": ["release-"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 20,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)
FOREIGN = {
    "Sid": "SomeoneElse",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": ["ecr:ReplicateImage"],
    "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*",
}

RULES: dict[str, dict[str, Any]] = {
    "docker-hub": {"upstream": "docker-hub", "credentials": cred("docker-hub")},
    "quay": {"upstream": "quay"},
    "k8s": {"upstream": "k8s"},
    "azure": {
        "upstream": "azure-container-registry",
        "url": "acmeregistry.azurecr.io",
        "credentials": {"secret": "ecr-pullthroughcache/azure"},  # made by hand below
    },
    "mirror": {
        "upstream": "ecr",
        "url": "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/ecr-ptc-upstream",
        "upstream_prefix": "team-a",
    },
}
EVERYTHING: dict[str, Any] = {
    "templates": {
        "docker-hub": {
            "description": "Docker Hub cache",
            "tags": {"team": "platform", "cost-centre": "42"},
            "encryption": "KMS",
            "kms_key": KMS,
            "role_arn": ROLE,
            "lifecycle": {"expire_untagged_after_days": 3, "archive_unpulled_after_days": 90},
        },
        "quay": {
            "applied_for": ["PULL_THROUGH_CACHE", "CREATE_ON_PUSH"],
            "tag_mutability": "MUTABLE_WITH_EXCLUSION",
            "tag_mutability_exclusions": ["latest", "v*"],
            "lifecycle": {"policy": RAW_LIFECYCLE},
            "repository_policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "read",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                            "Action": ["ecr:BatchGetImage"],
                        }
                    ],
                }
            ),
        },
        "k8s": {"lifecycle": {"keep_last": 5, "keep_tagged": {"v1.*": 3, "stable": 1}}},
    },
    "repositories": {
        "acme/api": {
            "tag_mutability": "IMMUTABLE",
            "scan_on_push": True,
            "tags": {"team": "platform"},
            "lifecycle": {"keep_last": 10, "expire_archived_after_days": 120},
        },
        "acme/web": {},
    },
    "scanning": {"type": "BASIC", "rules": [{"frequency": "SCAN_ON_PUSH", "filters": ["acme/*"]}]},
    "pullers": {"principals": [f"arn:aws:iam::{ACCOUNT}:role/eks-node", "111122223333"]},
    "ci_policy": {"name": "ecrcache-ci"},
}


def _build(aws: boto3.session.Session, cfg: dict[str, Any]) -> None:
    """Apply ``cfg`` after making by hand what a config only references or leaves alone."""
    example_roles(aws)  # the puller role (ECR refuses a principal IAM does not know)
    sm = aws.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="ecr-pullthroughcache/azure", SecretString='{"username":"u"}')
    ecr = aws.client("ecr", region_name=REGION)
    ecr.put_registry_policy(
        policyText=json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN]})
    )
    ecr.create_repository(repositoryName="by-hand/tool")  # not ecrcache's: left out
    apply(config(cfg.pop("rules"), **cfg), clients(aws))


def _import(aws: boto3.session.Session, **kw: Any) -> tuple[Any, list[str]]:
    c = clients(aws)
    result = import_config(c, region=REGION, **kw)
    return result, c.calls


def _round_trip(aws: boto3.session.Session, **kw: Any) -> tuple[Any, list[str], Any]:
    """Import, write TOML, read it back, validate and plan."""
    result, calls = _import(aws, **kw)
    text = to_toml(result)
    doc = tomllib.loads(text)
    assert doc == result.document
    cfg = parse_config(doc)
    return result, calls, plan(cfg, clients(aws))


def test_every_kind_imports_and_plans_empty(aws: boto3.session.Session) -> None:
    _build(aws, {"rules": dict(RULES), **EVERYTHING})
    result, calls, after = _round_trip(aws)
    assert after.plan.empty, [c.address for c in after.plan.changes]
    assert not after.plan.problems
    assert "secretsmanager.GetSecretValue" not in calls
    assert [c for c in calls if not c.split(".")[1].startswith(("Describe", "List", "Get"))] == []
    doc = result.document
    assert doc["account_id"] == ACCOUNT and doc["region"] == REGION
    assert doc["rules"]["docker-hub"] == {
        "upstream": "docker-hub",
        "credentials": {"secret": "ecr-pullthroughcache/docker-hub"},
    }
    assert doc["rules"]["azure"]["url"] == "acmeregistry.azurecr.io"
    assert doc["rules"]["mirror"] == RULES["mirror"]
    assert "url" not in doc["rules"]["quay"]
    # friendly lifecycle where it compiles exactly, raw JSON where it does not
    assert doc["templates"]["docker-hub"]["lifecycle"] == {
        "expire_untagged_after_days": 3,
        "archive_unpulled_after_days": 90,
    }
    assert doc["templates"]["k8s"]["lifecycle"] == {
        "keep_last": 5,
        "keep_tagged": {"v1.*": 3, "stable": 1},
    }
    assert json.loads(doc["templates"]["quay"]["lifecycle"]["policy"]) == json.loads(RAW_LIFECYCLE)
    assert doc["templates"]["docker-hub"]["tags"] == {"team": "platform", "cost-centre": "42"}
    assert doc["templates"]["docker-hub"]["kms_key"] == KMS
    assert doc["templates"]["quay"]["tag_mutability_exclusions"] == ["latest", "v*"]
    assert doc["templates"]["quay"]["applied_for"] == ["CREATE_ON_PUSH", "PULL_THROUGH_CACHE"]
    # the managed-by tag is ecrcache's, not the user's; defaults are left out
    assert doc["repositories"] == {
        "acme/api": {
            "tag_mutability": "IMMUTABLE",
            "scan_on_push": True,
            "tags": {"team": "platform"},
            "lifecycle": {"keep_last": 10, "expire_archived_after_days": 120},
        },
        "acme/web": {},
    }
    assert doc["scanning"] == EVERYTHING["scanning"]
    assert doc["pullers"] == {"principals": sorted(EVERYTHING["pullers"]["principals"])}
    assert doc["ci_policy"] == {"name": "ecrcache-ci"}  # default operations: not written
    assert any("by-hand/tool" in n for n in result.notes)
    assert any("docker-hub is managed by ecrcache" in n for n in result.notes)
    assert not any("azure is managed" in n for n in result.notes)  # made by hand: referenced


def test_managed_secret_comment_sits_above_its_credentials(aws: boto3.session.Session) -> None:
    _build(aws, {"rules": {"docker-hub": RULES["docker-hub"]}})
    result, _ = _import(aws)
    lines = to_toml(result).splitlines()
    i = lines.index("[rules.docker-hub.credentials]")
    above = " ".join(lines[i - 3 : i])
    assert lines[i - 3].startswith("# rules.docker-hub: secret ecr-pullthroughcache/docker-hub")
    assert "token source" in above and lines[i - 4] == ""
    assert all(len(line) <= 100 for line in lines if line.startswith("#"))


def test_policies_are_literal_multiline_strings(aws: boto3.session.Session) -> None:
    _build(aws, {"rules": dict(RULES), **EVERYTHING})
    result, _ = _import(aws)
    text = to_toml(result)
    assert "repository_policy = '''\n{\n" in text
    assert "policy = '''\n{\n" in text
    assert '\\"' not in text  # no escaped JSON anywhere


def test_root_rule_and_ecrcache_repositories(aws: boto3.session.Session) -> None:
    # an application repository made while there was no ROOT rule, then a ROOT rule
    _build(aws, {"rules": {"quay": RULES["quay"]}, "repositories": {"acme/api": {}}})
    apply(config({"ROOT": {"upstream": "ecr-public"}}), clients(aws))
    result, _, after = _round_trip(aws)
    assert after.plan.empty, [c.address for c in after.plan.changes]
    assert result.document["rules"]["ROOT"] == {"upstream": "ecr-public"}
    # A ROOT rule only serves names no repository holds: the app repository stays declared.
    assert list(result.document["repositories"]) == ["acme/api"]


@pytest.mark.parametrize(
    ("operations", "written"),
    [
        (["plan", "apply.rule"], ["plan", "apply.rule"]),
        # doctor grants GetAuthorizationToken too: login adds nothing, so it is not written
        (["login", "status", "doctor"], ["status", "doctor"]),
        (["pull.first", "pull.cached", "push"], ["pull.first", "push"]),
        # plan's reads on "*" are left out of apply.repository's narrower statement
        (["plan", "apply.repository"], ["plan", "apply.repository"]),
    ],
)
def test_ci_policy_operations_are_recovered(
    aws: boto3.session.Session, operations: list[str], written: list[str]
) -> None:
    _build(
        aws,
        {
            "rules": {"quay": RULES["quay"]},
            "repositories": {"acme/api": {}},  # so that push's repository actions show
            "ci_policy": {"name": "ci", "operations": operations},
        },
    )
    result, _, after = _round_trip(aws, ci_policy_name="ci")
    assert after.plan.empty
    assert result.document["ci_policy"] == {"name": "ci", "operations": written}


def test_ci_policy_not_found_under_another_name(aws: boto3.session.Session) -> None:
    _build(aws, {"rules": {"quay": RULES["quay"]}, "ci_policy": {"name": "ci"}})
    result, _ = _import(aws)  # looks for ecrcache-ci
    assert "ci_policy" not in result.document


def test_foreign_ci_policy_document_is_rewritten_on_apply(aws: boto3.session.Session) -> None:
    _build(aws, {"rules": {"quay": RULES["quay"]}})
    iam = aws.client("iam", region_name=REGION)
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    iam.create_policy(PolicyName="ecrcache-ci", PolicyDocument=json.dumps(doc))
    result, _ = _import(aws)
    assert result.document["ci_policy"] == {"name": "ecrcache-ci"}
    lines = to_toml(result).splitlines()
    i = lines.index("[ci_policy]")
    assert "apply will rewrite it" in lines[i - 2] + lines[i - 1]


def test_empty_account_gives_a_valid_minimal_config(aws: boto3.session.Session) -> None:
    result, _, after = _round_trip(aws)
    assert result.document == {"version": 1, "region": REGION, "account_id": ACCOUNT}
    assert after.plan.empty


def test_every_kind_with_a_root_rule_plans_empty(aws: boto3.session.Session) -> None:
    """A ROOT rule rules out application repositories (every name is a cache name), so this
    account holds every other kind, a ROOT template and pullers granted on every repository."""
    everything = {k: v for k, v in EVERYTHING.items() if k != "repositories"}
    templates = {**everything["templates"], "ROOT": {"lifecycle": {"keep_last": 50}}}
    rules = {**RULES, "ROOT": {"upstream": "ecr-public"}}
    _build(aws, {"rules": rules, **everything, "templates": templates})
    result, calls, after = _round_trip(aws)
    assert after.plan.empty, [c.address for c in after.plan.changes]
    assert "secretsmanager.GetSecretValue" not in calls
    assert set(result.document["rules"]) == set(rules)
    assert result.document["templates"]["ROOT"] == {"lifecycle": {"keep_last": 50}}
    assert not any("by-hand/tool" in n for n in result.notes)  # under ROOT: a cache repository
