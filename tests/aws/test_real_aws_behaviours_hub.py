"""Real ECR behaviours hub and spoke relies on, as the sandbox reproduces them (each names its
source)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from ecrcache.sandbox import principal_validation
from targets_support import make_target_role

REGION = "af-south-1"
HUB, SPOKE = "111111111111", "333333333333"
SPOKE_ROLE = f"arn:aws:iam::{SPOKE}:role/eks-node"


def _in(aws: boto3.session.Session, account_id: str) -> boto3.session.Session:
    # the sandbox's AssumeRole needs the role to exist and trust the caller, as STS does
    try:
        make_target_role(aws, account_id, name="test")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    creds = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/test", RoleSessionName="test"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def _policy(principal: object, **extra: object) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ecrcache-hub-spokes",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                    "Resource": f"arn:aws:ecr:{REGION}:{HUB}:repository/docker-hub/*",
                    **extra,
                }
            ],
        }
    )


def test_a_registry_policy_naming_another_accounts_role_needs_that_role_to_exist(
    aws: boto3.session.Session,
) -> None:
    # aws/aws-cdk#16376 (fixing aws/aws-cdk#15070): "ECR validates that all principals included
    # in its Policy exist at the time of deploying the Repository, so if this cross-account
    # principal was not created before the Repository, its deployment would fail." The error
    # is ECR's 'Principal not found' (hashicorp/terraform-provider-aws#39064).
    hub = _in(aws, HUB).client("ecr")
    with pytest.raises(ClientError) as info:
        hub.put_registry_policy(policyText=_policy({"AWS": SPOKE_ROLE}))
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert info.value.response["Error"]["Message"] == principal_validation.PRINCIPAL_NOT_FOUND
    _in(aws, SPOKE).client("iam").create_role(RoleName="eks-node", AssumeRolePolicyDocument="{}")
    hub.put_registry_policy(policyText=_policy({"AWS": SPOKE_ROLE}))
    stored = json.loads(hub.get_registry_policy()["policyText"])
    assert stored["Statement"][0]["Principal"] == {"AWS": SPOKE_ROLE}


def test_a_spoke_account_and_an_organization_condition_are_accepted(
    aws: boto3.session.Session,
) -> None:
    # An account principal always resolves (ECR stores it as its root ARN: sandbox
    # policy_storage); "*" narrowed by aws:PrincipalOrgID is the IAM user guide's way to grant an
    # organization (reference_policies_condition-keys.html#condition-keys-principalorgid).
    hub = _in(aws, HUB).client("ecr")
    hub.put_registry_policy(policyText=_policy({"AWS": SPOKE}))
    assert json.loads(hub.get_registry_policy()["policyText"])["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{SPOKE}:root"
    }
    hub.put_registry_policy(
        policyText=_policy("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})
    )
    assert '"aws:PrincipalOrgID"' in hub.get_registry_policy()["policyText"]


def test_a_pull_action_is_refused_in_a_registry_policy(aws: boto3.session.Session) -> None:
    # Registry policy scope V1: "Amazon ECR only enforces the following permissions at the
    # private registry level": ReplicateImage, BatchImportUpstreamImage, CreateRepository
    # (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry-permissions-create.html);
    # hence the spokes' pull actions go in the templates' repository policy.
    hub = _in(aws, HUB).client("ecr")
    text = _policy({"AWS": SPOKE}).replace('"ecr:CreateRepository"', '"ecr:BatchGetImage"')
    with pytest.raises(ClientError) as info:
        hub.put_registry_policy(policyText=text)
    assert info.value.response["Error"]["Code"] in (
        "InvalidParameterException",
        "MalformedPolicyDocument",
    )
