"""Real-AWS behaviours of policy storage that moto lacks, one test each, with its source.

The sandbox (ecrcache.sandbox.policy_storage) stores registry, repository and creation template
policies as ECR does; these pin it, so the apply-then-plan tests exercise the canonical form.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from reconcile_support import make_roles

from ecrcache.policy import equivalent

REGION = "af-south-1"
ACCOUNT = "123456789012"
OTHER = "111122223333"
ROLES = [f"arn:aws:iam::{ACCOUNT}:role/{n}" for n in ("a-nodes", "b-ci", "c-batch", "d-web")]


@pytest.fixture(autouse=True)
def _roles(aws: boto3.session.Session) -> None:
    make_roles(aws, ROLES)


def policy(principal: Any, action: Any = "ecr:CreateRepository", **extra: Any) -> str:
    statement = {
        "Sid": "Test",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": action,
        "Resource": "*",
        **extra,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def statement(text: str) -> dict[str, Any]:
    return json.loads(text)["Statement"][0]  # type: ignore[no-any-return]


def registry_round_trip(session: boto3.session.Session, text: str) -> str:
    ecr = session.client("ecr")
    ecr.put_registry_policy(policyText=text)
    return ecr.get_registry_policy()["policyText"]  # type: ignore[no-any-return]


def test_an_account_id_principal_reads_back_as_the_root_arn(aws: boto3.session.Session) -> None:
    # IAM user guide, "AWS account principals": an account ID and arn:aws:iam::ID:root "behave
    # the same way"; awspolicyequivalence's stringPrincipalsEqual: "Handle AWS converting
    # account ID principal to root IAM user ARN" (what ECR returns after PutRegistryPolicy).
    got = statement(registry_round_trip(aws, policy([OTHER, ROLES[0]])))
    assert sorted(got["Principal"]["AWS"]) == sorted([f"arn:aws:iam::{OTHER}:root", ROLES[0]])


def test_principal_lists_come_back_in_another_order(aws: boto3.session.Session) -> None:
    # hashicorp/terraform-provider-aws#19365: "aws_ecr_repository_policy tries to enforce order
    # of principals when AWS insists on a different random ordering" (fixed by #22004, pinned
    # by the TestAccECRRepositoryPolicy_IAM_principalOrder acceptance test).
    sent = sorted(ROLES)
    got = statement(registry_round_trip(aws, policy(sent)))["Principal"]["AWS"]
    assert sorted(got) == sent and got != sent
    again = statement(registry_round_trip(aws, policy(list(reversed(sent)))))
    assert again["Principal"]["AWS"] == got  # ECR's own order, whatever order was sent


def test_one_element_lists_come_back_as_strings(aws: boto3.session.Session) -> None:
    # hashicorp/awspolicyequivalence, PoliciesAreEquivalent: "treating single element string
    # arrays as equivalent to a string without an array, as the AWS endpoints do".
    text = policy([ROLES[0]], ["ecr:CreateRepository"], Resource=["*"])
    got = statement(registry_round_trip(aws, text))
    assert got["Principal"]["AWS"] == ROLES[0]
    assert got["Action"] == "ecr:CreateRepository" and got["Resource"] == "*"
    assert equivalent(text, registry_round_trip(aws, text), partition="aws")


def test_a_repository_policy_is_stored_as_ecr_stores_it(aws: boto3.session.Session) -> None:
    # Same sources: SetRepositoryPolicy/GetRepositoryPolicy is where #19365 was seen.
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName="acme/api")
    text = policy([OTHER], ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
    ecr.set_repository_policy(repositoryName="acme/api", policyText=text)
    got = ecr.get_repository_policy(repositoryName="acme/api")["policyText"]
    assert statement(got)["Principal"]["AWS"] == f"arn:aws:iam::{OTHER}:root"
    assert equivalent(text, got, partition="aws") and got != text


def test_a_templates_repository_policy_is_stored_as_ecr_stores_it(
    aws: boto3.session.Session,
) -> None:
    # A template's repositoryPolicy becomes the repository policy of every repository it
    # creates: ECR stores it in the same form as SetRepositoryPolicy (sources above).
    ecr = aws.client("ecr")
    text = policy([OTHER, *ROLES], ["ecr:BatchGetImage"])
    ecr.create_repository_creation_template(
        prefix="quay", appliedFor=["PULL_THROUGH_CACHE"], repositoryPolicy=text
    )
    (t,) = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    got = statement(t["repositoryPolicy"])
    assert f"arn:aws:iam::{OTHER}:root" in got["Principal"]["AWS"]
    assert got["Action"] == "ecr:BatchGetImage"
    ecr.update_repository_creation_template(prefix="quay", repositoryPolicy=policy([OTHER]))
    (t,) = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    assert statement(t["repositoryPolicy"])["Principal"]["AWS"] == f"arn:aws:iam::{OTHER}:root"


def test_the_root_arn_is_in_the_registrys_partition() -> None:
    # The root ARN is arn:PARTITION:iam::ID:root (awspolicyequivalence's comment, and the ARN
    # format of the IAM user guide): in China regions the partition is aws-cn.
    from moto import mock_aws

    from ecrcache.sandbox.ecr_extension import install

    install()
    with mock_aws():
        ecr = boto3.client("ecr", region_name="cn-north-1")
        ecr.put_registry_policy(policyText=policy(OTHER))
        got = statement(ecr.get_registry_policy()["policyText"])
    assert got["Principal"]["AWS"] == f"arn:aws-cn:iam::{OTHER}:root"


def test_iam_returns_a_managed_policy_url_encoded_as_sent(aws: boto3.session.Session) -> None:
    # IAM API reference, GetPolicyVersion / PolicyVersion.Document: "The policy document
    # returned in this structure is URL-encoded compliant with RFC 3986"; IAM keeps the
    # document as sent (no principal rewriting in an identity policy). botocore decodes it
    # (handlers.json_decode_policies): moto 5.2 sent it unencoded, so a "%2F" in a document
    # came back as "/".
    iam = aws.client("iam")
    resource = "arn:aws:s3:::bucket/a%2Fb"
    st = {"Effect": "Allow", "Action": "a:B", "Resource": resource}
    text = json.dumps({"Version": "2012-10-17", "Statement": [st]})
    arn = iam.create_policy(PolicyName="p", PolicyDocument=text)["Policy"]["Arn"]
    raw: list[bytes] = []
    iam.meta.events.register(
        "before-parse.iam.GetPolicyVersion",
        lambda response_dict, **_: raw.append(response_dict["body"]),
    )
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    assert got == json.loads(text) and got["Statement"][0]["Resource"] == resource
    assert quote(text).encode() in raw[0]
    created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=text)["PolicyVersion"]
    assert "Document" not in created  # "not returned in the response to CreatePolicyVersion"


def test_server_mode_stores_policies_as_ecr_does(aws: boto3.session.Session) -> None:
    # The same storage over HTTP (moto's ThreadedMotoServer, as `sandbox serve` uses it).
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        ecr = boto3.client("ecr", region_name=REGION, endpoint_url=f"http://{host}:{port}")
        ecr.put_registry_policy(policyText=policy([OTHER]))
        got = statement(ecr.get_registry_policy()["policyText"])
    finally:
        server.stop()
    assert got["Principal"]["AWS"] == f"arn:aws:iam::{OTHER}:root"


@pytest.mark.parametrize("text", ["not json", "[]"])
def test_what_is_no_policy_document_is_still_refused(aws: boto3.session.Session, text: str) -> None:
    # Storage never hides moto's (and ECR's) validation of what was sent.
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        aws.client("ecr").put_registry_policy(policyText=text)
