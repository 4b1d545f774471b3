"""doctor across [targets] for a spoke whose hub is another target of the config: hub.first-pull
reads the hub's registry and template policies through the hub target's role (AssumeRole, whose
trust the sandbox checks as STS does), so it judges both sides of a first pull; a hub target
whose role cannot be assumed leaves the hub's side unseen and says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

from targets_support import client_in, seed_sandbox_roles

HUB, SPOKE = "111111111111", "333333333333"
REGION = "eu-west-1"
NODE = f"arn:aws:iam::{SPOKE}:role/eks-node"
CONFIG = f"""
region = "{REGION}"

[rules.docker-hub]
upstream = "docker-hub"
credentials = {{ secret = "ecr-pullthroughcache/docker-hub", username = "bot", token.env = "TOK" }}

[rules.quay]
upstream = "quay"

[templates.ROOT]
lifecycle = {{ keep_last = 10 }}

[targets.hub]
role_arn = "arn:aws:iam::{HUB}:role/ecrcache"
hub = {{ spoke_accounts = ["{SPOKE}"] }}

[targets.spoke]
role_arn = "arn:aws:iam::{SPOKE}:role/ecrcache"
spoke = {{ hub_target = "hub" }}
pullers = {{ principals = ["{NODE}"] }}
"""
NODE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _iam(state: Path, what: str) -> None:
    """In the spoke's account of the sandbox state: create the node role, or attach the hub
    pull policy (apply made it) to it."""
    from ecrcache.sandbox.runtime import open_sandbox

    with open_sandbox(region="us-east-1", state_path=state) as session:
        iam = client_in(session, "iam", SPOKE, "us-east-1")
        if what == "create":
            iam.create_role(RoleName="eks-node", AssumeRolePolicyDocument=json.dumps(NODE_TRUST))
        else:
            arn = f"arn:aws:iam::{SPOKE}:policy/ecrcache-hub-pull"
            iam.attach_role_policy(RoleName="eks-node", PolicyArn=arn)


def _applied(
    aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], hub_trusts: str
) -> str:
    seed_sandbox_roles(aws_env, [{"account": HUB, "trusted": hub_trusts}, {"account": SPOKE}])
    _iam(aws_env, "create")
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    if hub_trusts.startswith("arn:aws:iam::123456789012:"):
        code, _, err = cli(capsys, "--sandbox", "-c", str(path), "apply", "--yes")
        assert code == 0, err
    return str(path)


def _hub_first_pull(capsys: pytest.CaptureFixture[str], path: str) -> dict[str, Any]:
    code, out, _ = cli(
        capsys,
        "--sandbox",
        "-c",
        path,
        "-o",
        "json",
        "doctor",
        "--check",
        "hub.first-pull",
        "--target",
        "spoke",
    )
    (target,) = json.loads(out)["data"]["targets"]
    (finding,) = [c for c in target["data"]["checks"] if c["id"] == "hub.first-pull"]
    finding["exit_code"] = code
    return dict(finding)


@pytest.fixture
def tok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOK", "dckr_pat_0123456789abcdefTOKEN")


def test_the_spokes_doctor_reads_the_hub_target(
    aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tok: None
) -> None:
    path = _applied(aws_env, tmp_path, capsys, "arn:aws:iam::123456789012:root")
    finding = _hub_first_pull(capsys, path)
    # the node role lacks the pull policy: the identity side, not the hub's, and nothing unseen
    assert finding["status"] == "fail", finding
    assert f"{NODE} may not" in finding["finding"]
    text = json.dumps(finding)
    assert "not visible from here" not in text
    assert "the hub's registry policy does not allow it" not in text
    assert "this account's identity policies do not allow it" in text
    _iam(aws_env, "attach")
    finding = _hub_first_pull(capsys, path)
    assert finding["status"] == "pass", finding
    assert finding["exit_code"] == 0
    assert f"through {HUB}" in finding["finding"]


def test_the_hub_targets_own_policies_decide(
    aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tok: None
) -> None:
    """The hub's side is really read: with its registry policy gone, the hub side is named."""
    path = _applied(aws_env, tmp_path, capsys, "arn:aws:iam::123456789012:root")
    _iam(aws_env, "attach")
    from ecrcache.sandbox.runtime import open_sandbox

    with open_sandbox(region="us-east-1", state_path=aws_env) as session:
        client_in(session, "ecr", HUB, REGION).delete_registry_policy()
    finding = _hub_first_pull(capsys, path)
    assert finding["status"] == "fail", finding
    assert "CreateRepository" in finding["finding"]
    assert "the hub's registry policy does not allow it" in json.dumps(finding)


def test_a_hub_target_that_cannot_be_assumed_is_unseen_and_named(
    aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tok: None
) -> None:
    path = _applied(aws_env, tmp_path, capsys, "arn:aws:iam::999999999999:root")
    code, _, err = cli(capsys, "--sandbox", "-c", path, "--target", "spoke", "apply", "--yes")
    assert code == 0, err
    _iam(aws_env, "attach")
    finding = _hub_first_pull(capsys, path)
    assert finding["status"] == "warn", finding
    text = json.dumps(finding)
    assert "could not be read" in finding["finding"]
    assert f"the hub target hub: cannot assume arn:aws:iam::{HUB}:role/ecrcache" in text
    assert "trust policy" in text
