"""cost-report's "stale" with ECR's pull counts: a pull CloudWatch counted in a repository that
holds one image dates that image's last pull (where it is newer than lastRecordedPullTime); in
a repository of several images lastRecordedPullTime decides; the report says which source
decided, in text and JSON."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _report(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> dict[str, Any]:
    code, out, err = cli(capsys, "cost-report", "-c", str(config), "-o", "json", *args)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)["data"]
    return data


def test_with_no_newer_counted_pull_the_figures_stay(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _report(capsys, config)
    assert data["stale"]["images"] == 2 and data["stale"]["bytes"] == 2 * GIB
    # the seeded pulls are counted too (nginx's within the 90 days), none newer than recorded
    assert data["stale_source"]["source"] == "cloudwatch"
    assert data["stale_source"]["kept_by_metric"] == 0


def test_without_data_in_the_window_the_recorded_time_decides_and_it_says_so(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _report(capsys, config, "--stale-days", "3")  # every seeded pull is older
    assert data["stale_source"]["source"] == "lastRecordedPullTime"
    assert "no data" in data["stale_source"]["note"]


def test_a_counted_pull_dates_the_only_image_of_its_repository(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    for repository in ("quay/prometheus/prometheus", "ecr-public/library/nginx"):
        publish_pull(
            account_id=ACCOUNT, region=REGION, repository=repository, at=now - timedelta(hours=1)
        )
    data = _report(capsys, config)
    # prometheus (one image, an index) is not stale now; nginx holds four images: its 1.26,
    # recorded 120 days ago, stays stale whatever tag the counted pull was of
    assert data["stale"]["images"] == 1 and data["stale"]["bytes"] == GIB
    source = data["stale_source"]
    assert source["source"] == "cloudwatch" and source["kept_by_metric"] == 1
    assert "RepositoryPullCount" in source["note"]
    code, out, err = cli(capsys, "cost-report", "-c", str(config), "--no-color")
    assert code == 0, err
    assert "stale: 1 image, 1.00 GB" in out
    assert "stale decided by: CloudWatch AWS/ECR RepositoryPullCount" in out
    assert "(1 image(s) not stale by it)" in out
