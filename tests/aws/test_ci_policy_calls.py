"""The suite-wide CI policy check (tests/ci_policy_calls.py): it sees ecrcache's calls with the
resource and condition keys IAM authorizes, it catches a call the policy does not grant, and a
denied call fails the session. Plus the calls that were missing from the table before: each
is now made, seen, and granted."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import boto3
from reconcile_support import ACCOUNT, REGION, apply, clients, config, cred, example_roles, plan

from ci_policy_calls import CallRecorder, Check
from ecrcache.config.loading import parse_config

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
TESTS = Path(__file__).parents[1]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecr-template"
UPSTREAM_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecr-ptc-upstream"


def calls(sink: list[tuple[str, Check, bool]]) -> set[str]:
    return {call for call, _, _ in sink}


def denied(sink: list[tuple[str, Check, bool]]) -> list[tuple[str, Check]]:
    return [(call, check) for call, check, ok in sink if not ok]


def test_apply_and_plan_of_the_example_are_granted(
    aws: boto3.session.Session, ci_calls: CallRecorder
) -> None:
    cfg = parse_config(tomllib.loads(EXAMPLE.read_text()))
    env = {"DOCKERHUB_TOKEN": "t1", "GHCR_TOKEN": "t2"}
    example_roles(aws)  # the puller role the example names
    with ci_calls.isolated() as sink:
        apply(cfg, clients(aws), env)
        assert plan(cfg, clients(aws), env).plan.empty
    assert {"ecr:CreatePullThroughCacheRule", "ecr:CreateRepository", "iam:CreatePolicy"} <= calls(
        sink
    )
    assert denied(sink) == []
    create = next(c for call, c, _ in sink if call == "ecr:CreateRepository")
    # the tags of a create request are part of its authorization
    assert create.context["aws:RequestTag/managed-by"] == "ecrcache"
    assert sorted(create.context["aws:TagKeys"]) == ["managed-by", "team"]


def test_a_call_the_policy_does_not_grant_is_caught(
    aws: boto3.session.Session, ci_calls: CallRecorder
) -> None:
    """Someone else's repository, outside every cache prefix and not tagged by ecrcache:
    ecrcache's CI policy grants no change to it."""
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="other/thing")
    cfg = config({"quay": {"upstream": "quay"}}, ci_policy={})
    c = clients(aws)
    with ci_calls.isolated() as sink:
        assert cfg is not None  # the config of this "run", found on the stack
        c.ecr.put_image_tag_mutability(repositoryName="other/thing", imageTagMutability="IMMUTABLE")
    ((call, check),) = denied(sink)
    assert call == "ecr:PutImageTagMutability"
    assert check.resource == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/other/thing"
    assert "aws:ResourceTag/managed-by" not in check.context


def test_the_calls_once_missing_from_the_table_are_granted(
    aws: boto3.session.Session, ci_calls: CallRecorder
) -> None:
    """PutImageTagMutability, PutImageScanningConfiguration, UntagResource (an application
    repository's settings and tags change), RestoreSecret (a secret scheduled for deletion is
    wanted again), PutLifecyclePolicy on cache repositories (backfill), PassRole for a rule's
    and a template's role."""
    iam = boto3.client("iam", region_name=REGION)
    for name in ("ecr-template", "ecr-ptc-upstream"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="quay/old/image")  # before its template: backfill
    rules: dict[str, Any] = {
        "quay": {"upstream": "quay"},
        "hub": {"upstream": "docker-hub", "credentials": cred("hub")},
        "mirror": {
            "upstream": "ecr",
            "url": "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
            "role_arn": UPSTREAM_ROLE,
        },
    }
    repo: dict[str, Any] = {"tags": {"team": "a", "cost": "x"}}
    first = config(
        rules,
        repositories={"acme/api": repo},
        ci_policy={},
        templates={"quay": {"lifecycle": {"keep_last": 5}, "tags": {"t": "1"}, "role_arn": ROLE}},
    )
    c = clients(aws)
    with ci_calls.isolated() as sink:
        apply(first, c)
    boto3.client("secretsmanager", region_name=REGION).delete_secret(
        SecretId="ecr-pullthroughcache/hub", RecoveryWindowInDays=7
    )
    second = config(
        rules,
        repositories={
            "acme/api": {"tags": {"team": "b"}, "tag_mutability": "IMMUTABLE", "scan_on_push": True}
        },
        ci_policy={},
        templates={
            "quay": {
                "lifecycle": {"keep_last": 3},
                "tags": {"t": "1"},
                "role_arn": ROLE,
                "backfill": True,
            }
        },
    )
    with ci_calls.isolated() as more:
        apply(second, c)
        assert plan(second, c).plan.empty
    sink += more
    wanted = {
        "ecr:PutImageTagMutability",
        "ecr:PutImageScanningConfiguration",
        "ecr:UntagResource",
        "ecr:TagResource",
        "ecr:PutLifecyclePolicy",
        "ecr:UpdateRepositoryCreationTemplate",
        "secretsmanager:RestoreSecret",
    }
    assert wanted <= calls(sink)
    assert denied(sink) == []
    passed = {(ch.resource, ch.context["iam:PassedToService"]) for _, ch, _ in sink
              if ch.action == "iam:PassRole"}  # fmt: skip
    assert (ROLE, "ecr.amazonaws.com") in passed
    assert (UPSTREAM_ROLE, "pullthroughcache.ecr.amazonaws.com") in passed
    backfilled = {ch.resource for call, ch, _ in sink if call == "ecr:PutLifecyclePolicy"}
    assert f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/quay/old/image" in backfilled


CHECKED_SESSION = """
import boto3
from moto import mock_aws

from ecrcache.aws import Clients
from ecrcache.config.loading import parse_config


def test_makes_a_denied_call():
    cfg = parse_config({"region": "af-south-1", "rules": {"quay": {"upstream": "quay"}}})
    with mock_aws():
        session = boto3.session.Session(region_name="af-south-1")
        session.client("ecr").create_repository(repositoryName="other/thing")
        Clients(session, "af-south-1").ecr.delete_repository(repositoryName="other/thing")
    assert cfg is not None
"""


def test_a_denied_call_fails_the_session_though_every_test_passed(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text())
    (tmp_path / "test_session.py").write_text(CHECKED_SESSION)
    env = {"PYTHONPATH": f"{TESTS}{':'}{TESTS.parent / 'src'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "1 passed" in done.stdout
    assert done.returncode == 1, done.stdout + done.stderr
    assert "AWS calls the generated CI policy denies" in done.stdout
    assert "test_makes_a_denied_call: ecr:DeleteRepository needs ecr:DeleteRepository on " in (
        done.stdout
    )
