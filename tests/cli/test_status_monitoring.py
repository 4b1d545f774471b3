"""Watching the cache in the sandbox, end to end: ``apply`` a config with a [monitoring] log
group, pull through the cache with ``test-pull`` (the sandbox counts each pull in CloudWatch's
AWS/ECR RepositoryPullCount, as ECR does), deliver ECR's sync events through EventBridge
(PutEvents, the detail of ECR's sample event), then read it all back with ``status`` (text and
its JSON twin) and ``doctor``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli
from doctor_support import Doctor, account

EVENTS = json.loads((Path(__file__).parents[1] / "data/ecr_ptc_events.json").read_text())
REPO = "docker-hub/library/nginx"

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
events = "all"
topic = false
log_retention_days = 7
"""


def _entry(sample: str, **detail: str) -> dict[str, Any]:
    """A PutEvents entry carrying one of the data file's events (ECR's documented sample, or the
    failed sync reconstructed from it), with some detail fields changed."""
    e = EVENTS[sample]
    return {
        "Source": e["source"],
        "DetailType": e["detail-type"],
        "Detail": json.dumps({**e["detail"], **detail}),
        "Resources": e["resources"],
    }


@pytest.fixture
def watched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Doctor:
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_example")
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables to the terminal's width
    d = Doctor(tmp_path, capsys, CONFIG)
    d.apply()
    for _ in range(2):
        code, _, err = cli(capsys, "--sandbox", "-c", str(d.config), "test-pull", "nginx:1.27")
        assert code == 0, err
    with account() as s:
        out = s.client("events").put_events(
            Entries=[
                _entry("succeeded"),  # the rule takes all events; only failures are counted
                _entry("failed", **{"failure-reason": "an older failure"}),
                _entry(
                    "failed",
                    **{"ecr-repository-prefix": "quay", "upstream-registry-url": "quay.io"},
                ),
            ]
        )
        assert out["FailedEntryCount"] == 0
        # the newest docker-hub failure: its code and reason are the ones shown
        s.client("events").put_events(
            Entries=[_entry("failed", **{"failure-code": "UNAUTHORIZED"})]
        )
    return d


def _pulls_of(capsys: pytest.CaptureFixture[str], d: Doctor) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(capsys, "--sandbox", "-c", str(d.config), "status", "-o", "json")
    assert code == 0, err
    data = json.loads(out)["data"]
    counted = {r["repository"]: r for r in data["pulls"]["repositories"]}
    return counted[REPO]["pulls"], data


def test_status_json_shows_pull_counts_and_sync_failures(
    watched: Doctor, capsys: pytest.CaptureFixture[str]
) -> None:
    pulls, data = _pulls_of(capsys, watched)
    assert data["pulls"]["source"] == "cloudwatch"
    assert data["pulls"]["metric"]["namespace"] == "AWS/ECR"
    assert data["pulls"]["metric"]["name"] == "RepositoryPullCount"
    assert data["pulls"]["days"] == 7
    (nginx,) = [r for r in data["pulls"]["repositories"] if r["repository"] == REPO]
    assert nginx["prefix"] == "docker-hub"
    assert nginx["last_pull_day"] is not None and nginx["last_recorded_pull"] is not None
    failures = {f["prefix"]: f for f in data["sync_failures"]}
    assert sorted(failures) == ["docker-hub", "quay"]
    hub = failures["docker-hub"]
    assert hub["count"] == 2
    assert hub["last_failure_code"] == "UNAUTHORIZED"
    assert hub["last_failure_reason"] == "Unable to authenticate with the upstream registry"
    assert hub["upstream"] == "registry-1.docker.io"
    assert failures["quay"]["count"] == 1
    assert failures["quay"]["upstream"] == "quay.io"
    # each test-pull is one more pull in CloudWatch
    code, _, err = cli(capsys, "--sandbox", "-c", str(watched.config), "test-pull", "nginx:1.27")
    assert code == 0, err
    again, _ = _pulls_of(capsys, watched)
    assert again == pulls + 1 and pulls >= 2


def test_status_text_is_the_json_twin(watched: Doctor, capsys: pytest.CaptureFixture[str]) -> None:
    pulls, _ = _pulls_of(capsys, watched)
    code, out, err = cli(capsys, "--sandbox", "-c", str(watched.config), "status", "--no-color")
    assert code == 0, err
    assert "Pulls per repository, last 7 days" in out
    (row,) = [ln for ln in out.splitlines() if ln.strip().startswith(REPO)]
    assert [c for c in row.split() if c != "│"][1:3] == ["docker-hub", str(pulls)]
    assert "CloudWatch AWS/ECR RepositoryPullCount" in out
    assert "Sync failures, last 24 hours" in out
    assert "UNAUTHORIZED: Unable to authenticate with the upstream registry" in out
    assert "registry-1.docker.io" in out
    assert "ecrcache --sandbox doctor --check secret" in out  # hints in the sandbox carry it


def test_doctor_credential_checks_point_at_the_sync_failures(watched: Doctor) -> None:
    """`doctor --check secret` (the credential checks status points at) holds the sync-failure
    check; its fix names the failing rule's secret and the usual cause."""
    _, data = watched.run("--check", "secret")
    ids = [r["id"] for r in data["checks"]]
    assert "secret.sync-failures" in ids and "secret.exists" in ids
    (result,) = [r for r in data["checks"] if r["id"] == "secret.sync-failures"]
    assert result["status"] == "warn", result
    text = json.dumps(result)
    assert "3 failed sync(s)" in text
    assert (
        "docker-hub: 2 failed sync(s), last UNAUTHORIZED: Unable to authenticate with the "
        "upstream registry (registry-1.docker.io)" in text
    )
    assert "ecr-pullthroughcache/docker-hub" in result["fix"]["summary"]
    assert "expired" in result["fix"]["summary"]


def test_without_the_metric_status_falls_back_to_the_recorded_pull_time_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository under a rule that no pull created (CloudWatch has no RepositoryPullCount
    for it): status says where its pull times come from instead."""
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_example")
    monkeypatch.setenv("COLUMNS", "200")
    d = Doctor(tmp_path, capsys, CONFIG)
    d.apply()
    with account() as s:
        s.client("ecr").create_repository(repositoryName="quay/coreos/etcd")
    code, out, err = cli(capsys, "--sandbox", "-c", str(d.config), "status", "-o", "json")
    assert code == 0, err
    pulls = json.loads(out)["data"]["pulls"]
    assert pulls["source"] == "lastRecordedPullTime"
    assert "has no data" in pulls["note"]
    assert [(r["repository"], r["pulls"]) for r in pulls["repositories"]] == [
        ("quay/coreos/etcd", None)
    ]
    code, out, err = cli(capsys, "--sandbox", "-c", str(d.config), "status", "--no-color")
    assert code == 0, err
    assert "Last recorded pull per repository" in out
    assert "pull counts: Pulls from lastRecordedPullTime" in out
