"""doctor's secret.sync-failures: the failed syncs of the last 24 hours in [monitoring]'s log
group, delivered there by EventBridge (PutEvents in the sandbox), pointed at the credentials of
the rules that failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doctor_support import Doctor, account

CONFIG = """version = 1
region = "af-south-1"
[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "bot"
token = { env = "DOCKERHUB_TOKEN" }
[rules.quay]
upstream = "quay"
[templates.ROOT]
[templates.ROOT.lifecycle]
keep_last = 5
[monitoring]
log_retention_days = 7
topic = false
"""


def _failed(prefix: str, code: str, reason: str) -> dict[str, str]:
    detail = {
        "sync-status": "FAILED",
        "ecr-repository-prefix": prefix,
        "upstream-registry-url": "registry-1.docker.io",
        "failure-code": code,
        "failure-reason": reason,
    }
    return {
        "Source": "aws.ecr",
        "DetailType": "ECR Pull Through Cache Action",
        "Detail": json.dumps(detail),
    }


@pytest.fixture
def doctor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Doctor:
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_example")
    d = Doctor(tmp_path, capsys, CONFIG)
    d.apply()
    return d


def test_no_failures_passes(doctor: Doctor) -> None:
    result = doctor.check("secret.sync-failures")
    assert result["status"] == "pass", result


def test_failed_syncs_warn_and_point_at_the_rules_secret(doctor: Doctor) -> None:
    with account() as s:
        s.client("events").put_events(
            Entries=[_failed("docker-hub", "UNAUTHORIZED", "token expired")] * 2
        )
    result = doctor.check("secret.sync-failures")
    assert result["status"] == "warn", result
    assert "2 failed sync(s)" in json.dumps(result)
    assert "docker-hub: 2 failed sync(s), last UNAUTHORIZED: token expired" in json.dumps(result)
    assert "ecr-pullthroughcache/docker-hub" in result["fix"]["summary"]
