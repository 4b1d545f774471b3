"""Real-AWS behaviours the sandbox copies, found while fixing review findings; each names its
source."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrcache.doctor.files import ecr_token_expiry


def test_authorization_token_password_carries_its_expiry(aws: Any) -> None:
    """A decoded ``aws ecr get-login-password`` is base64 JSON: ``{"payload":...,"datakey":...,
    "version":"2","type":"DATA_KEY","expiration":1757147299}`` (the "EKS Cluster Games" write-up
    of Wiz's CTF, 2025); the token is valid for 12 hours (botocore ECR model,
    GetAuthorizationToken). moto 5.2's password is ``<account>-auth-token``, with no expiry:
    doctor's docker.login check could not say when a sandbox login expires."""
    ecr = aws.client("ecr", region_name="af-south-1")
    (data,) = ecr.get_authorization_token()["authorizationData"]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    doc = json.loads(base64.b64decode(password))
    assert set(doc) == {"payload", "datakey", "version", "type", "expiration"}
    assert (doc["version"], doc["type"]) == ("2", "DATA_KEY")
    assert doc["expiration"] == int(data["expiresAt"].timestamp())
    expiry = ecr_token_expiry(password)
    assert expiry is not None
    assert timedelta(hours=11, minutes=59) < expiry - datetime.now(UTC) <= timedelta(hours=12)
    # one password per registry, as ECR's differ
    two = ecr.get_authorization_token(registryIds=["111122223333", "444455556666"])
    passwords = [base64.b64decode(d["authorizationToken"]) for d in two["authorizationData"]]
    assert passwords[0] != passwords[1]
