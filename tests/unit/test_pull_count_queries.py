"""The pure parts of pull counts: GetMetricData queries and batches, results merged across
pages, and what a counted pull does to cost-report's "stale"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ecrcache.cost.pull_counts import (
    CLOUDWATCH,
    MAX_QUERIES,
    RECORDED,
    batches,
    queries,
    summarise,
)
from ecrcache.cost.report import Group, ImageRecord, is_stale

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def test_queries_ask_ecrs_metric_with_ids_cloudwatch_accepts() -> None:
    qs = queries(["quay/a.b-c_d", "ROOT-ish/x"])
    assert [q["Id"] for q in qs] == ["r0", "r1"]
    # GetMetricData: an Id starts with a lower-case letter, then letters, digits, underscores
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9_]*", q["Id"]) for q in qs)
    stat = qs[0]["MetricStat"]
    assert stat["Metric"] == {
        "Namespace": "AWS/ECR",
        "MetricName": "RepositoryPullCount",
        "Dimensions": [{"Name": "RepositoryName", "Value": "quay/a.b-c_d"}],
    }
    assert (stat["Stat"], stat["Period"]) == ("Sum", 86_400)


def test_batches_hold_at_most_500() -> None:
    names = [f"r/{i}" for i in range(1001)]
    assert [len(b) for b in batches(names)] == [MAX_QUERIES, MAX_QUERIES, 1]
    assert [n for b in batches(names) for n in b] == names


def test_results_of_one_id_split_across_pages_add_up() -> None:
    pages = [
        {"Id": "r0", "Timestamps": [NOW - 2 * DAY], "Values": [3.0]},
        {"Id": "r1", "Timestamps": [], "Values": []},
        {"Id": "r0", "Timestamps": [NOW - DAY], "Values": [2.0]},
        {"Id": "zz", "Timestamps": [NOW], "Values": [99.0]},  # not ours: ignored
    ]
    counts = summarise(["a", "b"], pages, days=7, until=NOW)
    assert counts.source == CLOUDWATCH
    assert counts.counts == {"a": 5, "b": 0}
    assert counts.last_pull_day == {"a": NOW - DAY}


def test_no_data_point_at_all_is_no_metric() -> None:
    counts = summarise(["a"], [{"Id": "r0", "Timestamps": [], "Values": []}], days=7, until=NOW)
    assert counts.source == RECORDED and not counts.from_metric
    assert "no data" in counts.reason


def _group(last_pulled: datetime | None, pushed: datetime = NOW - 400 * DAY) -> Group:
    return Group(ImageRecord("sha256:a", ("v1",), 10, pushed, last_pulled))


def test_the_newer_of_the_recorded_and_the_counted_pull_decides() -> None:
    old = _group(NOW - 100 * DAY)
    assert is_stale(old, now=NOW, days=90)
    assert not is_stale(old, now=NOW, days=90, repository_pulled_at=NOW - 5 * DAY)
    assert is_stale(old, now=NOW, days=90, repository_pulled_at=NOW - 120 * DAY)
    # an older counted pull never makes a recently recorded image stale
    assert not is_stale(_group(NOW - DAY), now=NOW, days=90, repository_pulled_at=NOW - 300 * DAY)
