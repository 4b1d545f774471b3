"""``export cloudformation`` for a hub, a spoke and ``[targets]``: the template describes exactly
what apply creates (resource by resource, through export/cfn_mapping's table, as in
test_export_cloudformation), and passes cfn-lint. A hub: its registry policy's statements for
the spokes, its pull-through templates' repository policy merged with the spokes' pull
statements. A spoke: its ``ecrcache-hub-pull`` managed policy, and no rules, templates or
secrets. ``[targets]``: ``--target NAME`` writes that target's template; several targets are one
multi-document YAML stream, one template each, applied in each target's account (AssumeRole)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from reconcile_support import ACCOUNT, ENV, REGION, TOKEN, make_roles
from test_export_cloudformation import lint_errors, matched

from ecrcache.cli.app import run as run_cli
from ecrcache.config.loading import parse_config
from ecrcache.config.schema import Config
from ecrcache.config.targets import expand_targets
from ecrcache.export.cloudformation import cloudformation_template
from targets_support import make_target_role

HUB, SPOKE = "111111111111", "333333333333"
PULLER = f"arn:aws:iam::{ACCOUNT}:role/eks-node"
ORG = "o-a1b2c3d4e5"
USER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "read",
            "Effect": "Allow",
            "Principal": {"AWS": PULLER},
            "Action": ["ecr:BatchGetImage"],
        }
    ],
}
RULES = """
[rules.docker-hub]
upstream = "docker-hub"
credentials = { secret = "ecr-pullthroughcache/docker-hub", username = "bot", token.env = "TOK" }
[rules.quay]
upstream = "quay"
"""
HUB_TOML = f"""
region = "{REGION}"
{RULES}
[templates.ROOT]
lifecycle = {{ keep_last = 10 }}
repository_policy = '{json.dumps(USER_POLICY)}'
[templates.quay]
applied_for = ["CREATE_ON_PUSH"]
[pullers]
principals = ["{PULLER}"]
[hub]
spoke_accounts = ["{SPOKE}"]
organization_id = "{ORG}"
[ci_policy]
"""
SPOKE_TOML = f"""
region = "{REGION}"
{RULES}
[templates.ROOT]
lifecycle = {{ keep_last = 10 }}
[pullers]
principals = ["{PULLER}"]
[spoke]
hub_account_id = "{HUB}"
[ci_policy]
"""
TARGETS_TOML = f"""
region = "{REGION}"
{RULES}
[templates.ROOT]
lifecycle = {{ keep_last = 10 }}
[targets.hub]
role_arn = "arn:aws:iam::{HUB}:role/ecrcache"
hub = {{ spoke_accounts = ["{SPOKE}"] }}
[targets.spoke]
role_arn = "arn:aws:iam::{SPOKE}:role/ecrcache"
spoke = {{ hub_target = "hub" }}
ci_policy = {{}}
"""


def load(text: str) -> Config:
    return parse_config(tomllib.loads(text))


def kinds(want: dict[tuple[str, str | None], Any]) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for kind, name in sorted(want, key=str):
        out.setdefault(kind, []).append(name)
    return out


def test_a_hub_template_declares_its_spoke_statements_as_apply_sends_them(
    aws: boto3.session.Session,
) -> None:
    make_roles(aws, [PULLER])
    cfg = load(HUB_TOML)
    want = matched(aws, cfg, ENV, {"Token": TOKEN})
    assert kinds(want) == {
        "AWS::ECR::PullThroughCacheRule": ["docker-hub", "quay"],
        "AWS::ECR::RegistryPolicy": [None],
        "AWS::ECR::RepositoryCreationTemplate": ["ROOT", "quay"],
        "AWS::IAM::ManagedPolicy": ["ecrcache-ci"],
        "AWS::SecretsManager::Secret": ["ecr-pullthroughcache/docker-hub"],
    }
    registry = want[("AWS::ECR::RegistryPolicy", None)]["PolicyText"]["Statement"]
    by_sid = {s.get("Sid"): s for s in registry}
    assert by_sid["ecrcache-hub-spokes"]["Principal"] == {"AWS": f"arn:aws:iam::{SPOKE}:root"}
    assert by_sid["ecrcache-hub-organization"]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": ORG}
    }
    # the pull-through template: the user's statement and the spokes' pull statements
    root = want[("AWS::ECR::RepositoryCreationTemplate", "ROOT")]
    sids = [s["Sid"] for s in json.loads(root["RepositoryPolicy"])["Statement"]]
    assert sorted(sids) == ["ecrcache-hub-pull", "ecrcache-hub-pull-organization", "read"]
    # a push-only template is no cache repository's: no spoke statements
    assert "RepositoryPolicy" not in want[("AWS::ECR::RepositoryCreationTemplate", "quay")]
    assert lint_errors(cloudformation_template(cfg, region=REGION)) == []


def test_a_spoke_template_holds_its_pull_policy_and_nothing_of_the_hubs(
    aws: boto3.session.Session,
) -> None:
    cfg = load(SPOKE_TOML)
    want = matched(aws, cfg, ENV, {})
    assert kinds(want) == {"AWS::IAM::ManagedPolicy": ["ecrcache-ci", "ecrcache-hub-pull"]}
    pull = want[("AWS::IAM::ManagedPolicy", "ecrcache-hub-pull")]["PolicyDocument"]
    assert f"arn:aws:ecr:{REGION}:{HUB}:repository/docker-hub/*" in json.dumps(pull)
    template = cloudformation_template(cfg, region=REGION)
    assert "Parameters" not in template  # no secret: the hub holds the upstream credentials
    assert lint_errors(template) == []


def _export(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> list[Any]:
    code = run_cli(["-c", str(path), "export", "cloudformation", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return list(yaml.safe_load_all(out))


def _assumed(aws: boto3.session.Session, account: str) -> boto3.session.Session:
    """A session in ``account``, through AssumeRole (the sandbox checks the role's trust)."""
    role = make_target_role(aws, account)
    creds = aws.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def test_targets_export_one_template_each_as_apply_makes_them(
    aws: boto3.session.Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ecrcache.toml"
    path.write_text(TARGETS_TOML)
    targets = {t.name: t for t in expand_targets(tomllib.loads(TARGETS_TOML))}
    (hub_doc,) = _export(capsys, path, "--target", "hub")
    both = _export(capsys, path)
    assert len(both) == 2
    for doc, name in zip(both, ["hub", "spoke"], strict=True):
        assert doc == cloudformation_template(targets[name].config, region=REGION)
        assert lint_errors(doc) == []
    assert both[0] == hub_doc
    hub = matched(_assumed(aws, HUB), targets["hub"].config, ENV, {"Token": TOKEN}, account=HUB)
    spoke = matched(_assumed(aws, SPOKE), targets["spoke"].config, ENV, {}, account=SPOKE)
    assert "AWS::ECR::RegistryPolicy" in kinds(hub)
    assert kinds(spoke) == {"AWS::IAM::ManagedPolicy": ["ecrcache-ci", "ecrcache-hub-pull"]}
    pull = spoke[("AWS::IAM::ManagedPolicy", "ecrcache-hub-pull")]["PolicyDocument"]
    assert f":{HUB}:repository/quay/*" in json.dumps(pull)  # hub_target: the hub's account
