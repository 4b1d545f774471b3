"""Real-AWS answers to a repeated call (a retry after a lost response) that moto 5.2 lacks; the
sandbox gives them (src/ecrcache/sandbox/secret_deletion.py, iam_policy_deletion.py). One test
per behaviour, each naming its source."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}],
    }
)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


def test_delete_secret_of_a_secret_already_scheduled_for_deletion(
    aws: boto3.session.Session,
) -> None:
    # Source: botocore's model, secretsmanager 2017-10-17: DeleteSecret declares
    # InvalidRequestException, whose first listed cause is "The secret is scheduled for
    # deletion"; the message is the one AWS gives every operation on a secret in its recovery
    # window (external-secrets/kubernetes-external-secrets issue 114; Terraform AWS provider,
    # secretsmanager/secret_policy.go matches it).
    sm = aws.client("secretsmanager")
    sm.create_secret(Name="ecr-pullthroughcache/x", SecretString="v")
    sm.delete_secret(SecretId="ecr-pullthroughcache/x", RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as exc:
        sm.delete_secret(SecretId="ecr-pullthroughcache/x", RecoveryWindowInDays=7)
    assert _error(exc) == (
        "InvalidRequestException",
        "You can't perform this operation on the secret because it was marked for deletion.",
    )
    # ForceDeleteWithoutRecovery still deletes it at once, as on AWS
    sm.delete_secret(SecretId="ecr-pullthroughcache/x", ForceDeleteWithoutRecovery=True)


def test_delete_policy_refuses_a_policy_with_other_versions(aws: boto3.session.Session) -> None:
    # Source: IAM API reference, DeletePolicy ("you must delete all the policy's versions"),
    # DeleteConflict with the message the AWS CLI prints; the Terraform AWS provider deletes
    # the non-default versions first (iam/policy.go, resourcePolicyDelete).
    iam = aws.client("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=DOC, SetAsDefault=True)
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert _error(exc) == (
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete the "
        "policy's versions. The default version is deleted with the policy.",
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as gone:
        iam.delete_policy(PolicyArn=arn)
    assert _error(gone)[0] == "NoSuchEntity"  # a repeat of a delete that went through


def test_delete_policy_refuses_a_policy_still_attached(aws: boto3.session.Session) -> None:
    # Source: IAM API reference, DeletePolicy ("you must first detach the policy from all users,
    # groups, and roles"), DeleteConflict "Cannot delete a policy attached to entities."
    iam = aws.client("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.create_user(UserName="ci")
    iam.attach_user_policy(UserName="ci", PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert _error(exc) == ("DeleteConflict", "Cannot delete a policy attached to entities.")
    iam.detach_user_policy(UserName="ci", PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
