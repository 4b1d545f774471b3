"""read_pull_counts against the sandbox's CloudWatch: batches of 500 queries, counts per
repository, and the fall-back to lastRecordedPullTime when there is no data or the call is
denied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from reconcile_support import ACCOUNT, REGION, clients

from ecrcache.cost.pull_counts import CLOUDWATCH, RECORDED, read_pull_counts
from ecrcache.errors import AwsError
from ecrcache.sandbox.pull_metrics import publish_pull


def _pull(repository: str, at: datetime, times: int = 1) -> None:
    for _ in range(times):
        publish_pull(account_id=ACCOUNT, region=REGION, repository=repository, at=at)


def test_1200_repositories_take_three_calls_and_every_one_gets_a_count(aws: Any) -> None:
    now = datetime.now(UTC)
    names = [f"quay/team/image-{i:04d}" for i in range(1200)]
    _pull(names[3], now - timedelta(days=2), times=2)
    _pull(names[700], now - timedelta(hours=1))  # second batch: Ids are renumbered
    _pull(names[1199], now - timedelta(days=6), times=4)  # third batch
    _pull(names[5], now - timedelta(days=9))  # outside the 7 days
    c = clients(aws)
    counts = read_pull_counts(c, names, days=7, now=now)
    assert c.calls.count("cloudwatch.GetMetricData") == 3
    assert counts.source == CLOUDWATCH
    assert len(counts.counts) == 1200
    assert (counts.counts[names[3]], counts.counts[names[700]], counts.counts[names[1199]]) == (
        2,
        1,
        4,
    )
    assert counts.counts[names[5]] == 0 and counts.counts[names[0]] == 0
    assert sorted(counts.last_pull_day) == sorted([names[3], names[700], names[1199]])
    assert counts.last_pull_day[names[700]].date() == now.date()


def test_hourly_periods_say_how_late_the_last_pull_can_have_been(aws: Any) -> None:
    now = datetime.now(UTC).replace(minute=30)
    _pull("quay/a", now - timedelta(hours=3))
    counts = read_pull_counts(clients(aws), ["quay/a", "quay/b"], days=2, now=now, period_s=3600)
    assert counts.from_metric and counts.counts == {"quay/a": 1, "quay/b": 0}
    by = counts.pulled_by()["quay/a"]
    assert now - timedelta(hours=3) <= by <= now - timedelta(hours=2)


def test_no_data_falls_back_and_says_so(aws: Any) -> None:
    counts = read_pull_counts(clients(aws), ["quay/a"], days=7, now=datetime.now(UTC))
    assert counts.source == RECORDED and counts.counts == {}
    assert "has no data" in counts.note()
    assert counts.to_dict()["source"] == "lastRecordedPullTime"


def test_a_denied_call_falls_back_and_says_so(aws: boto3.session.Session) -> None:
    # IAM is not enforced by any stateful fake here, hence the Stubber (error path only)
    c = clients(aws)
    with Stubber(c.cloudwatch) as stub:
        stub.add_client_error("get_metric_data", "AccessDenied", "not allowed", 403)
        counts = read_pull_counts(c, ["quay/a"], days=7, now=datetime.now(UTC))
    assert counts.source == RECORDED
    assert counts.reason == "cloudwatch:GetMetricData was denied (AccessDenied)"
    assert "denied" in counts.note()


def test_another_error_is_one_line_naming_the_read(aws: boto3.session.Session) -> None:
    c = clients(aws)
    with Stubber(c.cloudwatch) as stub:
        stub.add_client_error("get_metric_data", "InvalidNextToken", "bad token", 400)
        with pytest.raises(AwsError, match="cannot read CloudWatch AWS/ECR RepositoryPullCount"):
            read_pull_counts(c, ["quay/a"], days=7, now=datetime.now(UTC))


def test_no_repository_makes_no_call(aws: Any) -> None:
    c = clients(aws)
    counts = read_pull_counts(c, [], days=7, now=datetime.now(UTC))
    assert counts.source == RECORDED and c.calls == []
