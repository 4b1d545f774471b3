"""The sandbox's ListSecrets lags as Secrets Manager's does (sandbox/secrets_consistency.py), and
ecrcache reads the secrets it names with DescribeSecret, so that lag never shows in a plan.

Secrets Manager API reference, ListSecrets: "ListSecrets might not reflect changes from the last
five minutes. You can get more recent information for a specific secret by calling
DescribeSecret."
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from reconcile_support import REGION, apply, clients, config, cred, plan

from ecrcache.config.loading import parse_config
from ecrcache.reconcile.live_secrets import list_secrets
from ecrcache.sandbox import secrets_consistency
from ecrcache.sandbox.runtime import open_sandbox

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
EXAMPLE_ENV = {"DOCKERHUB_TOKEN": "t1", "GHCR_TOKEN": "t2"}
NAME = "ecr-pullthroughcache/docker-hub"
VALUE = json.dumps({"username": "u", "accessToken": "t"})


@pytest.fixture
def lag() -> Iterator[None]:
    """Secrets Manager's documented worst case: five minutes."""
    secrets_consistency.set_window(300)
    yield
    secrets_consistency.set_window(None)


def _listed(sm: object, **kw: object) -> list[str]:
    return [s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True, **kw)["SecretList"]]  # type: ignore[attr-defined]


def test_a_new_secret_is_described_at_once_and_listed_later(
    aws: boto3.session.Session, lag: None
) -> None:
    sm = aws.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(Name=NAME, SecretString=VALUE)["ARN"]
    assert sm.describe_secret(SecretId=NAME)["ARN"] == arn
    assert _listed(sm) == []
    secrets_consistency.settle()
    assert _listed(sm) == [NAME]


def test_a_deleted_secret_is_still_listed_as_it_was(aws: boto3.session.Session, lag: None) -> None:
    sm = aws.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name=NAME, SecretString=VALUE, Tags=[{"Key": "team", "Value": "a"}])
    secrets_consistency.settle()
    sm.tag_resource(SecretId=NAME, Tags=[{"Key": "team", "Value": "b"}])
    (entry,) = sm.list_secrets()["SecretList"]
    assert entry["Tags"] == [{"Key": "team", "Value": "a"}]  # the tag change is not seen yet
    sm.delete_secret(SecretId=NAME, RecoveryWindowInDays=7)
    (entry,) = sm.list_secrets()["SecretList"]  # scheduled for deletion: not seen yet either
    assert "DeletedDate" not in entry
    sm.delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
    assert _listed(sm) == [NAME]  # gone, and still listed
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.describe_secret(SecretId=NAME)
    secrets_consistency.settle()
    assert _listed(sm) == []


def test_filters_and_pages_apply_to_the_lagging_view(aws: boto3.session.Session, lag: None) -> None:
    sm = aws.client("secretsmanager", region_name=REGION)
    for i in range(5):
        sm.create_secret(Name=f"{NAME}-{i}", SecretString=VALUE)
    sm.create_secret(Name="other/secret", SecretString=VALUE)
    secrets_consistency.settle()
    sm.create_secret(Name=f"{NAME}-new", SecretString=VALUE)
    pages = sm.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": [NAME]}], PaginationConfig={"PageSize": 2}
    )
    names = [s["Name"] for page in pages for s in page["SecretList"]]
    assert names == [f"{NAME}-{i}" for i in range(5)]


def test_no_lag_when_the_window_is_zero(aws: boto3.session.Session) -> None:
    secrets_consistency.set_window(0)
    try:
        sm = aws.client("secretsmanager", region_name=REGION)
        sm.create_secret(Name=NAME, SecretString=VALUE)
        assert _listed(sm) == [NAME]
    finally:
        secrets_consistency.set_window(None)


def test_the_window_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(secrets_consistency.ENV_WINDOW, "12")
    assert secrets_consistency.window() == 12
    monkeypatch.setenv(secrets_consistency.ENV_WINDOW, "not a number")
    assert secrets_consistency.window() == secrets_consistency.DEFAULT_WINDOW_S
    monkeypatch.delenv(secrets_consistency.ENV_WINDOW)
    assert secrets_consistency.window() == secrets_consistency.DEFAULT_WINDOW_S


def test_the_lag_persists_between_sandbox_invocations(aws_env: Path, lag: None) -> None:
    with open_sandbox(region=REGION, state_path=aws_env) as session:
        session.client("secretsmanager").create_secret(Name=NAME, SecretString=VALUE)
    with open_sandbox(region=REGION, state_path=aws_env) as session:
        sm = session.client("secretsmanager")
        assert _listed(sm) == []  # seconds later, in another run: not listed yet
        assert sm.describe_secret(SecretId=NAME)["Name"] == NAME
        secrets_consistency.settle()
        assert _listed(sm) == [NAME]


def test_the_lag_holds_over_http(aws: boto3.session.Session, lag: None) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        sm = boto3.client(
            "secretsmanager", region_name=REGION, endpoint_url=f"http://{host}:{port}"
        )
        sm.create_secret(Name=NAME, SecretString=VALUE)
        assert _listed(sm) == []
        secrets_consistency.settle()
        assert _listed(sm) == [NAME]
    finally:
        server.stop()


def test_apply_then_plan_is_empty_with_the_lag(aws: boto3.session.Session, lag: None) -> None:
    cfg = parse_config(tomllib.loads(EXAMPLE.read_text()))
    aws.client("iam").create_role(RoleName="eks-node", AssumeRolePolicyDocument="{}")
    c = clients(aws)
    apply(cfg, c, EXAMPLE_ENV)
    # A plan built on the listing would see no secret at all now, and create them again.
    assert list_secrets(c) == ()
    c2 = clients(aws)
    again = plan(cfg, c2, EXAMPLE_ENV)
    assert again.plan.empty, [ch.address for ch in again.plan.changes]
    assert "secretsmanager.DescribeSecret" in c2.calls


def test_a_prune_confirms_what_the_listing_shows(aws: boto3.session.Session, lag: None) -> None:
    keep = {"quay": {"upstream": "quay"}}
    both = {**keep, "docker-hub": {"upstream": "docker-hub", "credentials": cred("docker-hub")}}
    c = clients(aws)
    apply(config(both), c)
    secrets_consistency.settle()
    # Deleted by hand: the listing still shows the managed secret for a while.
    aws.client("secretsmanager", region_name=REGION).delete_secret(
        SecretId=NAME, ForceDeleteWithoutRecovery=True
    )
    assert [s.name for s in list_secrets(c, managed_only=True)] == [NAME]
    pruned = plan(config(keep), clients(aws), prune=True)
    # No delete of the secret that is gone; and the rule, whose secret no longer exists to say
    # it was ecrcache's, is not provably ecrcache's any more: left alone (ownership.py).
    assert pruned.plan.changes == ()
    assert [(u.address, u.ours) for u in pruned.plan.unmanaged] == [("rule.docker-hub", False)]
    assert any("may not reflect changes from the last five minutes" in w for w in pruned.warnings)


def test_the_listing_finds_only_ecrcaches_secrets(aws: boto3.session.Session, lag: None) -> None:
    sm = aws.client("secretsmanager", region_name=REGION)
    mine = [{"Key": "managed-by", "Value": "ecrcache"}]
    sm.create_secret(Name=f"{NAME}-a", SecretString=VALUE, Tags=mine)
    # Tag filters match any key and any value by prefix: these two match the filters only.
    sm.create_secret(
        Name=f"{NAME}-b",
        SecretString=VALUE,
        Tags=[{"Key": "managed-by", "Value": "terraform"}, {"Key": "x", "Value": "ecrcache"}],
    )
    sm.create_secret(
        Name=f"{NAME}-c", SecretString=VALUE, Tags=[{"Key": "managed-by", "Value": "ecrcache2"}]
    )
    sm.create_secret(Name="elsewhere/d", SecretString=VALUE, Tags=mine)
    secrets_consistency.settle()
    assert [s.name for s in list_secrets(clients(aws), managed_only=True)] == [f"{NAME}-a"]
