"""Real ECR behaviour the node route depends on, as the sandbox reproduces it. Each test names
its source."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("af-south-1", "123456789012.dkr.ecr.af-south-1.amazonaws.com"),
        ("cn-north-1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_authorization_token_lasts_12_hours_for_the_default_registry(
    aws: Any, region: str, host: str
) -> None:
    """botocore ECR model, GetAuthorizationToken: "If you do not specify a registry, the
    default registry is assumed"; "The authorization token is valid for 12 hours".
    proxyEndpoint uses the partition's DNS suffix (botocore partitions.json: aws-cn is
    amazonaws.com.cn). ecr-credential-provider calls it with no registryIds for docker.io
    images and caches the token for half its remaining life (cloud-provider-aws
    cmd/ecr-credential-provider/main.go), so a past expiry would disable its cache."""
    ecr = aws.client("ecr", region_name=region)
    before = datetime.now(UTC)
    (data,) = ecr.get_authorization_token()["authorizationData"]
    assert data["proxyEndpoint"] == f"https://{host}"
    left = data["expiresAt"] - before
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12, minutes=1)
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and password


def test_authorization_token_for_named_registries(aws: Any) -> None:
    """Same model: registryIds selects the registries, one AuthorizationData each."""
    ecr = aws.client("ecr", region_name="af-south-1")
    got = ecr.get_authorization_token(registryIds=["111122223333", "444455556666"])
    assert [d["proxyEndpoint"] for d in got["authorizationData"]] == [
        "https://111122223333.dkr.ecr.af-south-1.amazonaws.com",
        "https://444455556666.dkr.ecr.af-south-1.amazonaws.com",
    ]
