"""status shows the pull-through cache sync failures of the last 24 hours per rule prefix,
read from [monitoring]'s log group, where EventBridge put them (PutEvents in moto)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from ecrcache.cli.app import run

CONFIG = """version = 1
region = "af-south-1"
[rules.quay]
upstream = "quay"
[monitoring]
events = "all"
topic = false
log_retention_days = 7
"""


def _event(prefix: str, status: str, code: str = "", reason: str = "") -> dict[str, str]:
    detail = {
        "sync-status": status,
        "ecr-repository-prefix": prefix,
        "repository-name": f"{prefix}/library/alpine",
        "upstream-registry-url": {"docker-hub": "registry-1.docker.io"}.get(prefix, "quay.io"),
    }
    if code:
        detail |= {"failure-code": code, "failure-reason": reason}
    return {
        "Source": "aws.ecr",
        "DetailType": "ECR Pull Through Cache Action",
        "Detail": json.dumps(detail),
    }


@pytest.fixture
def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: boto3.session.Session) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    assert run(["apply", "-c", str(path), "--yes"]) == 0
    aws.client("events").put_events(
        Entries=[
            _event("docker-hub", "FAILED", "AUTH_FAILED", "the first one"),
            _event("quay", "SUCCESS"),  # the rule takes all events; status counts failures
            _event("quay", "FAILED", "UPSTREAM_UNAVAILABLE", "quay.io answered 503"),
        ]
    )
    aws.client("events").put_events(
        Entries=[_event("docker-hub", "FAILED", "AUTH_FAILED", "token expired")]
    )
    return path


def test_status_json_counts_failures_per_prefix(
    applied: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = run(["status", "-c", str(applied), "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    failures = {f["prefix"]: f for f in json.loads(out)["data"]["sync_failures"]}
    assert sorted(failures) == ["docker-hub", "quay"]
    assert failures["docker-hub"]["count"] == 2
    assert failures["docker-hub"]["upstream"] == "registry-1.docker.io"
    assert failures["quay"]["count"] == 1
    assert failures["quay"]["last_failure_code"] == "UPSTREAM_UNAVAILABLE"


def test_status_text_shows_the_table_and_points_at_the_secret_checks(
    applied: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps the table to the terminal's width
    capsys.readouterr()
    code = run(["status", "-c", str(applied), "--no-color"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Sync failures, last 24 hours" in out
    assert "UPSTREAM_UNAVAILABLE: quay.io answered 503" in out
    assert "AUTH_FAILED: token expired" in out  # the newest failure of the prefix
    assert "ecrcache doctor --check secret" in out


def test_without_a_log_group_status_says_nothing_of_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: boto3.session.Session,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code = run(["--region", "af-south-1", "status", "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["data"]["sync_failures"] is None
