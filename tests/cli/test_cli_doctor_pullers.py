"""pullers.first-pull on the sandbox, with moto's AWS-managed policies loaded so that node roles
can carry AmazonEC2ContainerRegistryReadOnly / PullOnly as in a real account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doctor_support import EXAMPLE, Doctor, account, example_without

from ecrcache.sandbox import seed

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
TRUST_EC2 = json.dumps(seed.TRUST_EC2)


# Pull actions as an inline policy: cheaper than loading moto's ~1,300 AWS-managed policies,
# which only the tests about those policies do (``managed_policies``).
PULL_INLINE = seed.NODE_ECR_PULL  # the pull actions a node role has, as the sandbox seeds them


@pytest.fixture
def managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def _yes(result: dict) -> None:  # type: ignore[type-arg]
    result["fix"]["commands"] = [
        c + " --yes" if c.split()[-1] == "apply" else c for c in result["fix"]["commands"]
    ]


def _node_role(*, attach: str | None = None, inline: dict | None = None) -> None:  # type: ignore[type-arg]
    with account() as s:
        iam = s.client("iam")
        # A new sandbox holds an eks-node role with pull permissions (sandbox/seed.py): this
        # test's role replaces it.
        for name in iam.list_role_policies(RoleName="eks-node")["PolicyNames"]:
            iam.delete_role_policy(RoleName="eks-node", PolicyName=name)
        iam.delete_role(RoleName="eks-node")
        iam.create_role(RoleName="eks-node", AssumeRolePolicyDocument=TRUST_EC2)
        if attach:
            iam.attach_role_policy(RoleName="eks-node", PolicyArn=attach)
        if inline:
            iam.put_role_policy(
                RoleName="eks-node", PolicyName="extra", PolicyDocument=json.dumps(inline)
            )


@pytest.fixture
def doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Doctor:
    return Doctor(tmp_path, capsys, EXAMPLE.read_text())


def test_read_only_node_role_without_registry_policy(
    doctor: Doctor, managed_policies: None
) -> None:
    _node_role(attach=READ_ONLY)
    doctor.apply()
    assert doctor.check("pullers.first-pull")["status"] == "pass"  # ReadOnly + registry policy
    with account() as s:
        s.client("ecr").delete_registry_policy()
    r = doctor.check("pullers.first-pull")
    assert r["status"] == "fail"
    assert "may not BatchImportUpstreamImage, CreateRepository" in r["finding"]
    assert r["fix"]["commands"] == [f"ecrcache --sandbox -c {doctor.config} apply"]
    _yes(r)
    doctor.fix(r)
    assert doctor.check("pullers.first-pull")["status"] == "pass"


def test_role_without_pull_permissions_gets_an_inline_policy(doctor: Doctor) -> None:
    _node_role()
    doctor.apply()
    r = doctor.check("pullers.first-pull")
    assert r["status"] == "fail"
    assert "BatchGetImage" in r["finding"] and "GetAuthorizationToken" in r["finding"]
    assert "BatchImportUpstreamImage" not in r["finding"]  # the registry policy grants it
    (cmd,) = r["fix"]["commands"]
    assert cmd.startswith(
        "aws iam put-role-policy --role-name eks-node --policy-name ecrcache-pull-through-cache "
    )
    assert '"Resource":"*"' in cmd  # GetAuthorizationToken takes no resource
    assert "repository/docker-hub/*" in cmd and "repository/quay/*" in cmd
    doctor.fix(r)
    assert doctor.check("pullers.first-pull")["status"] == "pass"


def test_explicit_deny_is_named(doctor: Doctor) -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoNewRepos",
                "Effect": "Deny",
                "Action": "ecr:CreateRepository",
                "Resource": "*",
            },
            *PULL_INLINE["Statement"],
        ],
    }
    _node_role(inline=deny)
    doctor.apply()
    r = doctor.check("pullers.first-pull")
    assert r["status"] == "fail" and "may not CreateRepository" in r["finding"]
    assert any("denied by policy extra (statement NoNewRepos)" in d for d in r["details"])


def test_no_pullers_declared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = Doctor(tmp_path, capsys, example_without("pullers", "ci_policy"))
    d.apply()
    r = d.check("pullers.first-pull")
    assert r["status"] == "warn" and "no [pullers]" in r["finding"]
    assert "<node-role>" in r["fix"]["config"]
    _node_role(inline=PULL_INLINE)
    _yes(r)
    d.fix(r, fill={"<node-role>": "eks-node"})
    assert d.check("pullers.first-pull")["status"] == "pass"


def test_other_account_puller_is_judged_on_the_registry_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = EXAMPLE.read_text().replace(
        'principals = ["arn:aws:iam::123456789012:role/eks-node"]', 'principals = ["111122223333"]'
    )
    d = Doctor(tmp_path, capsys, config)
    d.apply()
    r = d.check("pullers.first-pull")
    # the registry policy lets it fill the cache, but nothing on the repository side lets
    # another account read what it filled
    assert (
        r["status"] == "fail"
        and "111122223333 may not BatchCheckLayerAvailability" in (r["finding"])
    )
    assert any("assumed its own account's IAM policies" in x for x in r["details"])
    assert "repository_policy = '" in r["fix"]["config"]
    _yes(r)
    d.fix(r)
    after = d.check("pullers.first-pull")
    assert after["status"] == "pass", after


def test_pull_only_node_role_passes_with_a_note(doctor: Doctor, managed_policies: None) -> None:
    _node_role(attach="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")
    doctor.apply()
    r = doctor.check("pullers.first-pull")
    assert r["status"] == "pass"
    assert any("BatchCheckLayerAvailability, which docker" in x for x in r["details"])
