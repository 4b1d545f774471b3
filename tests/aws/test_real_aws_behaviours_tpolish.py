"""How long an assumed role's session lasts on AWS, and the sandbox holding to it, so a long
run there meets the expiry a real one does (and the refresh of aws.assume_role_session).
Each test names its source."""

from __future__ import annotations

import datetime
import json
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from targets_support import client_in, make_target_role

ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecrcache"


def _sts_model() -> Any:
    return botocore.session.get_session().get_service_model("sts")


def _seconds_left(creds: dict[str, Any]) -> float:
    now = datetime.datetime.now(datetime.UTC)
    return float((creds["Expiration"] - now).total_seconds())


def test_the_model_bounds_a_session_from_15_minutes_to_12_hours() -> None:
    # Source: botocore's sts model, roleDurationSecondsType: min 900, max 43200 (checked by
    # botocore before sending; AssumeRoleRequest.DurationSeconds documents the role's maximum)
    shape = _sts_model().operation_model("AssumeRole").input_shape.members["DurationSeconds"]
    assert (shape.metadata["min"], shape.metadata["max"]) == (900, 43200)
    assert "maximum session duration set for the role" in shape.documentation


def test_a_session_lasts_one_hour_unless_asked(aws: Any) -> None:
    # Source: AssumeRole API reference (sts model, DurationSeconds): "By default, the value is
    # set to 3600 seconds"
    make_target_role(aws, ACCOUNT)
    creds = aws.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="s1")["Credentials"]
    assert 3500 < _seconds_left(creds) <= 3600


def test_longer_than_the_roles_maximum_is_a_validation_error(aws: Any) -> None:
    # Source: sts model, DurationSeconds: "If you specify a value higher than this setting ...
    # the operation fails"; the message as AWS sends it (ValidationError, HTTP 400)
    make_target_role(aws, ACCOUNT)
    sts = aws.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=ROLE, RoleSessionName="s1", DurationSeconds=7200)
    err = caught.value.response
    assert err["Error"]["Code"] == "ValidationError"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Error"]["Message"] == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    # raised on the role, it is allowed
    iam = client_in(aws, "iam", ACCOUNT, "us-east-1")
    iam.update_role(RoleName="ecrcache", MaxSessionDuration=7200)
    creds = sts.assume_role(RoleArn=ROLE, RoleSessionName="s1", DurationSeconds=7200)
    assert 7100 < _seconds_left(creds["Credentials"]) <= 7200


def test_role_chaining_is_limited_to_one_hour(aws: Any) -> None:
    # Source: sts model, DurationSeconds: "Role chaining limits your ... role session to a
    # maximum of one hour"; AWS's message for it (ValidationError)
    first = make_target_role(aws, ACCOUNT, name="hop")
    second = make_target_role(aws, "333333333333", trusted=f"arn:aws:iam::{ACCOUNT}:root")
    client_in(aws, "iam", "333333333333", "us-east-1").update_role(
        RoleName="ecrcache", MaxSessionDuration=43200
    )
    creds = aws.client("sts").assume_role(RoleArn=first, RoleSessionName="hop")["Credentials"]
    hop = aws.client(
        "sts",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    with pytest.raises(ClientError) as caught:
        hop.assume_role(RoleArn=second, RoleSessionName="s2", DurationSeconds=7200)
    assert caught.value.response["Error"]["Message"] == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining."
    )
    assert hop.assume_role(RoleArn=second, RoleSessionName="s2", DurationSeconds=3600)


def test_over_http_the_served_sandbox_refuses_it_too(sandbox_server: Any) -> None:
    # Source: as above; `sandbox serve` (ThreadedMotoServer) answers as the in-process mock.
    import boto3

    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
    )
    iam = session.client("iam", endpoint_url=sandbox_server.endpoint)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn = iam.create_role(RoleName="served", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    sts = session.client("sts", endpoint_url=sandbox_server.endpoint)
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=3601)
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert sts.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=3600)
