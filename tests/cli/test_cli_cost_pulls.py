"""cost-report's "stale" with ECR's pull counts: a pull CloudWatch counted in the last 24 hours
(which lastRecordedPullTime may not show yet) keeps its repository's images out of stale, and
the report says which source decided, in text and JSON."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "aws"))
from cli_support import cli
from cost_seed import ACCOUNT, GIB, REGION, seed

from ecrcache.sandbox.pull_metrics import publish_pull

CONFIG = """
region = "af-south-1"
[rules.ecr-public]
upstream = "ecr-public"
[rules.quay]
upstream = "quay"
[rules.k8s]
upstream = "k8s"
[cost]
stale_after_days = 90
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: boto3.session.Session) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    seed(aws)  # stale by lastRecordedPullTime: nginx 1.26 (120 days), prometheus (100 days)
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    return path


def _report(capsys: pytest.CaptureFixture[str], config: Path) -> dict[str, object]:
    code, out, err = cli(capsys, "cost-report", "-c", str(config), "-o", "json")
    assert code == 0, err
    data: dict[str, object] = json.loads(out)["data"]
    return data


def test_without_a_recent_counted_pull_the_recorded_time_decides(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _report(capsys, config)
    assert data["stale"] == {"images": 2, "bytes": 2 * GIB, "monthly_usd": pytest.approx(0.2)}
    source = data["stale_source"]
    assert isinstance(source, dict)
    assert source["source"] == "lastRecordedPullTime"
    assert "no data" in source["note"]  # the seeded pulls are all older than two days


def test_a_pull_counted_an_hour_ago_keeps_its_repository_out_of_stale(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    publish_pull(
        account_id=ACCOUNT,
        region=REGION,
        repository="quay/prometheus/prometheus",
        at=now - timedelta(hours=1),
    )
    # three days ago is in nginx 1.26's lastRecordedPullTime if it was that image: no effect
    publish_pull(
        account_id=ACCOUNT,
        region=REGION,
        repository="ecr-public/library/nginx",
        at=now - timedelta(days=3),
    )
    data = _report(capsys, config)
    assert data["stale"] == {"images": 1, "bytes": GIB, "monthly_usd": pytest.approx(0.1)}
    source = data["stale_source"]
    assert isinstance(source, dict)
    assert source["source"] == "cloudwatch" and source["kept_by_metric"] == 1
    assert "RepositoryPullCount" in source["note"]
    code, out, err = cli(capsys, "cost-report", "-c", str(config), "--no-color")
    assert code == 0, err
    assert "stale: 1 images, 1.00 GB" in out
    assert "stale decided by: lastRecordedPullTime, and CloudWatch AWS/ECR" in out
    assert "(1 image(s) kept by it)" in out
