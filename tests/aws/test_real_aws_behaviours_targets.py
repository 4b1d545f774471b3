"""How STS AssumeRole behaves on AWS, and the sandbox with it (moto 5.2 plus ecrcache's
sandbox/assume_role_trust.py and statefile). Each test names its source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from targets_support import CALLER_ACCOUNT, client_in, make_target_role, role_arn

REGION = "eu-west-1"
TARGET = "111111111111"


def _assume(session: Any, arn: str, **kw: Any) -> dict[str, Any]:
    sts = session.client("sts", region_name=REGION)
    return dict(sts.assume_role(RoleArn=arn, RoleSessionName=kw.pop("name", "ecrcache"), **kw))


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    r = exc.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def test_assumed_credentials_act_in_the_roles_account(aws: Any) -> None:
    # Source: AssumeRole API reference (botocore sts model): "You can use the role's temporary
    # credentials in subsequent Amazon Web Services API calls to access resources in the
    # account that owns the role."
    arn = make_target_role(aws, TARGET)
    creds = _assume(aws, arn)["Credentials"]
    assumed = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )
    who = assumed.client("sts").get_caller_identity()
    assert who["Account"] == TARGET
    assert who["Arn"] == f"arn:aws:sts::{TARGET}:assumed-role/ecrcache/ecrcache"
    assumed.client("ecr").create_repository(repositoryName="only-in-target")
    mine = aws.client("ecr", region_name=REGION).describe_repositories()["repositories"]
    theirs = client_in(aws, "ecr", TARGET, REGION).describe_repositories()["repositories"]
    assert [r["repositoryName"] for r in theirs] == ["only-in-target"]
    assert mine == []


def test_a_role_that_does_not_exist_is_access_denied(aws: Any) -> None:
    # Source: AssumeRole API reference; STS answers AccessDenied (403) "User: <caller> is not
    # authorized to perform: sts:AssumeRole on resource: <role>" and does not say whether the
    # role exists (IAM user guide, troubleshooting roles: "I can't assume a role").
    with pytest.raises(ClientError) as exc:
        _assume(aws, role_arn("333333333333", "missing"))
    code, status, message = _error(exc)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:sts::{CALLER_ACCOUNT}:user/moto is not authorized to perform: "
        f"sts:AssumeRole on resource: {role_arn('333333333333', 'missing')}"
    )


def test_the_trust_policy_decides_who_may_assume(aws: Any) -> None:
    # Source: AssumeRole API reference: "To assume a role from a different account, your
    # Amazon Web Services account must be trusted by the role. The trust relationship is
    # defined in the role's trust policy".
    arn = make_target_role(aws, TARGET, trusted="arn:aws:iam::999999999999:root")
    with pytest.raises(ClientError) as exc:
        _assume(aws, arn)
    assert _error(exc)[:2] == ("AccessDenied", 403)


def test_the_external_id_must_match_the_trust_policys_condition(aws: Any) -> None:
    # Source: IAM user guide, "Access to AWS accounts owned by third parties" (the external
    # ID): the trust policy's "Condition": {"StringEquals": {"sts:ExternalId": ...}} must
    # match the ExternalId passed to AssumeRole; absent or different, the call is denied.
    arn = make_target_role(aws, TARGET, external_id="ext-1234")
    for wrong in ({}, {"ExternalId": "ext-9999"}):
        with pytest.raises(ClientError) as exc:
            _assume(aws, arn, **wrong)
        assert _error(exc)[0] == "AccessDenied"
    assert _assume(aws, arn, ExternalId="ext-1234")["Credentials"]["AccessKeyId"]


def test_session_names_follow_the_model_pattern(aws: Any) -> None:
    # Source: botocore sts model, roleSessionNameType: min 2, max 64, pattern [\w+=,.@-]*;
    # STS answers ValidationError (400) for a name outside it (moto checked only the length).
    arn = make_target_role(aws, TARGET)
    with pytest.raises(ClientError) as exc:
        _assume(aws, arn, name="has space")
    assert _error(exc)[:2] == ("ValidationError", 400)
    assert _assume(aws, arn, name="ci+job=1,x.y@z-w")["AssumedRoleUser"]["Arn"].endswith(
        "/ci+job=1,x.y@z-w"
    )


def test_roles_and_each_accounts_state_survive_the_sandbox_state_file(tmp_path: Path) -> None:
    # Source: the sandbox's own contract (statefile): every account and region moto holds is
    # saved; a role made in one run is assumable in the next, and what the assumed
    # credentials created stays in the role's account.
    from ecrcache.sandbox.runtime import open_sandbox

    state = tmp_path / "state"
    with open_sandbox(region=REGION, state_path=state) as session:
        arn = make_target_role(session, TARGET, external_id="ext-1234")
    with open_sandbox(region=REGION, state_path=state) as session:
        creds = _assume(session, arn, ExternalId="ext-1234")["Credentials"]
        assumed = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=REGION,
        )
        assumed.client("ecr").create_repository(repositoryName="kept")
    with open_sandbox(region=REGION, state_path=state) as session:
        theirs = client_in(session, "ecr", TARGET, REGION).describe_repositories()
        mine = session.client("ecr").describe_repositories()
        with pytest.raises(ClientError):
            _assume(session, arn)  # still checked after a reload: no external id
    assert [r["repositoryName"] for r in theirs["repositories"]] == ["kept"]
    assert mine["repositories"] == []
