"""doctor's IAM reading on moto: a role's attached AWS-managed and inline policies, a user's own
and its groups', evaluated by ecrcache.policy.iam as pullers.first-pull does."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from ecrcache.aws import Clients
from ecrcache.doctor.iam import Principal, PrincipalNotFound, identity_policies
from ecrcache.policy.iam import evaluate

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
REPO = "arn:aws:ecr:af-south-1:123456789012:repository/quay/doctor-probe/image"


@pytest.fixture
def iam_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto import mock_aws

    with mock_aws():
        yield boto3.session.Session(region_name="af-south-1")


def test_role_policies_read_and_evaluated(iam_session: boto3.session.Session) -> None:
    iam = iam_session.client("iam")
    iam.create_role(RoleName="eks-node", AssumeRolePolicyDocument=TRUST, Path="/nodes/")
    iam.attach_role_policy(RoleName="eks-node", PolicyArn=READ_ONLY)
    inline = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="eks-node", PolicyName="s3", PolicyDocument=json.dumps(inline))
    p = Principal.parse("arn:aws:iam::123456789012:role/nodes/eks-node")
    assert (p.kind, p.name, p.account) == ("role", "eks-node", "123456789012")
    found = identity_policies(Clients(iam_session, "af-south-1"), p)
    assert [n for n, _ in found] == ["AmazonEC2ContainerRegistryReadOnly", "s3"]
    docs = [d for _, d in found]
    # ReadOnly reads the cache but cannot fill it (ECR-FACTS, common misconceptions)
    assert evaluate("ecr:BatchGetImage", REPO, identity_policies=docs).allowed
    assert not evaluate("ecr:BatchImportUpstreamImage", REPO, identity_policies=docs).allowed
    assert not evaluate("ecr:CreateRepository", REPO, identity_policies=docs).allowed


def test_user_and_group_policies(iam_session: boto3.session.Session) -> None:
    iam = iam_session.client("iam")
    iam.create_user(UserName="ci")
    iam.create_group(GroupName="pullers")
    iam.add_user_to_group(GroupName="pullers", UserName="ci")
    iam.attach_group_policy(GroupName="pullers", PolicyArn=READ_ONLY)
    found = identity_policies(
        Clients(iam_session, "af-south-1"), Principal.parse("arn:aws:iam::123456789012:user/ci")
    )
    assert [n for n, _ in found] == ["pullers/AmazonEC2ContainerRegistryReadOnly"]


def test_missing_role(iam_session: boto3.session.Session) -> None:
    with pytest.raises(PrincipalNotFound):
        identity_policies(
            Clients(iam_session, "af-south-1"),
            Principal.parse("arn:aws:iam::123456789012:role/nope"),
        )


def test_account_principal() -> None:
    p = Principal.parse("111122223333")
    assert (p.arn, p.kind) == ("arn:aws:iam::111122223333:root", "account")
