"""Pulls per repository from CloudWatch, where ECR publishes them, and the read that fetches them.

What ECR publishes (ECR user guide, "Amazon ECR repository metrics",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-repository-metrics.html): namespace
``AWS/ECR``, metric ``RepositoryPullCount`` ("the total number of pulls for the images in the
repository"), one dimension ``RepositoryName``, most useful statistic ``Sum``, sent in 1-minute
periods, automatically for private repositories (not public ones). It is per repository, not
per image, and the page does not say whether pulls through a cache rule are counted apart: a
cached repository is a private repository, so they are read as any other pull. ECR's other
CloudWatch metrics (``AWS/Usage`` ``CallCount`` per API action, "Amazon ECR usage metrics") are
account-wide and are not read.

GetMetricData takes "as many as 500 MetricDataQuery structures" a call and returns "as many as
100,800 data points", paged by NextToken (botocore's CloudWatch model and paginator). Periods
of whole days (status: one a day; cost-report: one over its whole window): 1-hour data is kept
for 455 days, so such a period is valid over that whole range (the same model's retention
notes). The module is pure but for ``read_pull_counts``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ecrcache.cost.report import Repository, groups_of

NAMESPACE = "AWS/ECR"
METRIC = "RepositoryPullCount"
DIMENSION = "RepositoryName"
STAT = "Sum"
PERIOD_S = 86_400
MAX_QUERIES = 500
MAX_DAYS = 455  # CloudWatch keeps 1-hour data for 455 days
METRIC_NAME = f"CloudWatch {NAMESPACE} {METRIC}"
CLOUDWATCH = "cloudwatch"
RECORDED = "lastRecordedPullTime"


@dataclass(frozen=True)
class PullCounts:
    """Pulls per repository over ``days`` days up to ``until``.

    ``source`` is ``CLOUDWATCH`` when the metric had data for any repository asked about: then
    every repository asked about has a count (0 where CloudWatch holds no data point, as it
    publishes none for a minute without pulls). Otherwise ``RECORDED``, ``counts`` is empty and
    ``reason`` says why (no data, or the call was denied)."""

    days: int
    until: datetime
    source: str
    counts: Mapping[str, int] = field(default_factory=dict)
    last_pull_day: Mapping[str, datetime] = field(default_factory=dict)  # its period's start
    reason: str = ""
    period_s: int = PERIOD_S

    def pulled_by(self) -> dict[str, datetime]:
        """Per repository, the latest moment its last counted pull can have been (the end of
        that period, not after ``until``)."""
        step = timedelta(seconds=self.period_s)
        return {n: min(at + step, self.until) for n, at in self.last_pull_day.items()}

    @property
    def from_metric(self) -> bool:
        return self.source == CLOUDWATCH

    def note(self) -> str:
        if self.from_metric:
            per = {PERIOD_S: " and day", self.days * PERIOD_S: ""}.get(
                self.period_s, f" and {self.period_s} s"
            )
            return (
                f"Pulls are {METRIC_NAME} (Sum per repository{per}, last {self.days} days), "
                f"fresher than {RECORDED}, which ECR refreshes about once a day."
            )
        return f"Pulls from {RECORDED}: {self.reason}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "metric": {
                "namespace": NAMESPACE,
                "name": METRIC,
                "dimension": DIMENSION,
                "statistic": STAT,
                "period_seconds": self.period_s,
            },
            "days": self.days,
            "until": self.until.isoformat(),
            "note": self.note(),
        }


def batches(names: Sequence[str], size: int = MAX_QUERIES) -> list[Sequence[str]]:
    """Repository names in GetMetricData-sized groups, in order."""
    return [names[i : i + size] for i in range(0, len(names), size)]


def queries(names: Sequence[str], period_s: int = PERIOD_S) -> list[dict[str, Any]]:
    """One MetricStat query per repository; Ids ``r0``, ``r1``... (an Id must start with a
    lower-case letter, and a repository name may hold characters an Id may not)."""
    return [
        {
            "Id": f"r{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": METRIC,
                    "Dimensions": [{"Name": DIMENSION, "Value": name}],
                },
                "Period": period_s,
                "Stat": STAT,
            },
            "ReturnData": True,
        }
        for i, name in enumerate(names)
    ]


def summarise(
    names: Sequence[str],
    results: Iterable[Mapping[str, Any]],
    *,
    days: int,
    until: datetime,
    reason_if_empty: str = "",
    period_s: int = PERIOD_S,
) -> PullCounts:
    """PullCounts from GetMetricData's MetricDataResults for the queries of ``names`` (results
    of one Id may come in several pages: they add up)."""
    counts: dict[str, float] = {}
    last: dict[str, datetime] = {}
    seen = False
    for result in results:
        rid = str(result.get("Id", ""))
        if not rid.startswith("r") or not rid[1:].isdigit() or int(rid[1:]) >= len(names):
            continue
        name = names[int(rid[1:])]
        for at, value in zip(result.get("Timestamps", ()), result.get("Values", ()), strict=False):
            seen = True
            counts[name] = counts.get(name, 0.0) + float(value)
            if float(value) > 0:
                day = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
                last[name] = max(last.get(name, day), day)
    if not seen:
        return PullCounts(
            days,
            until,
            RECORDED,
            reason=reason_if_empty
            or f"{METRIC_NAME} has no data for these repositories in the last {days} days",
            period_s=period_s,
        )
    return PullCounts(
        days,
        until,
        CLOUDWATCH,
        counts={n: round(counts.get(n, 0.0)) for n in names},
        last_pull_day=last,
        period_s=period_s,
    )


def read_pull_counts(
    clients: Any,
    repositories: Sequence[str],
    *,
    days: int,
    now: datetime,
    period_s: int = PERIOD_S,
) -> PullCounts:
    """Pulls of ``repositories`` over the last ``days`` days in periods of ``period_s`` (an
    hour, a day, or the whole window: one sum per repository), ending at the next boundary of
    the hour or day (GetMetricData, 500 queries a call, paged). Denied or no data: a PullCounts
    with ``source`` RECORDED saying so."""
    from ecrcache.aws import ACCESS_CODES, aws_errors, error_code

    days = max(1, min(days, MAX_DAYS))
    # ending at the next boundary of the period, or of the day for longer ones (midnight UTC)
    align = min(period_s, PERIOD_S)
    epoch = int(now.timestamp())
    until = datetime.fromtimestamp(epoch - epoch % align + align, tz=UTC)
    start = until - timedelta(days=days)
    names = sorted(dict.fromkeys(repositories))
    if not names:
        return PullCounts(
            days,
            until,
            RECORDED,
            reason="no cached repository to count pulls of",
            period_s=period_s,
        )
    results: list[Mapping[str, Any]] = []
    offsets: list[str] = []
    paginator = clients.cloudwatch.get_paginator("get_metric_data")
    with aws_errors(f"read {METRIC_NAME}"):
        try:
            for batch in batches(names):
                base = len(offsets)
                offsets.extend(batch)
                for page in paginator.paginate(
                    MetricDataQueries=queries(batch, period_s),
                    StartTime=start,
                    EndTime=until,
                    ScanBy="TimestampAscending",
                ):
                    for r in page.get("MetricDataResults", ()):
                        # re-number this batch's Ids into the whole list's
                        results.append({**r, "Id": f"r{base + int(str(r['Id'])[1:])}"})
        except Exception as exc:
            code = error_code(exc)
            if code in ACCESS_CODES:
                return PullCounts(
                    days,
                    until,
                    RECORDED,
                    reason=f"cloudwatch:GetMetricData was denied ({code})",
                    period_s=period_s,
                )
            raise
    return summarise(offsets, results, days=days, until=until, period_s=period_s)


@dataclass(frozen=True)
class RepositoryPulls:
    """One cached repository's pulls: CloudWatch's count and day of the latest pull (None
    without the metric), and the newest ``lastRecordedPullTime`` of its images."""

    repository: str
    prefix: str
    pulls: int | None
    last_pull_day: datetime | None
    last_recorded_pull: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "prefix": self.prefix,
            "pulls": self.pulls,
            "last_pull_day": self.last_pull_day.date().isoformat() if self.last_pull_day else None,
            "last_recorded_pull": (
                self.last_recorded_pull.isoformat() if self.last_recorded_pull else None
            ),
        }


def repository_pulls(
    repositories: Sequence[Repository], prefix_of: Mapping[str, str], counts: PullCounts
) -> tuple[RepositoryPulls, ...]:
    """A line per repository in ``prefix_of`` (name -> its cache prefix), most pulled first
    (then the most recently recorded, then by name)."""
    out = []
    for repo in repositories:
        if repo.name not in prefix_of:
            continue
        recorded = [g.last_pulled_at for g in groups_of(repo.images) if g.last_pulled_at]
        out.append(
            RepositoryPulls(
                repository=repo.name,
                prefix=prefix_of[repo.name],
                pulls=counts.counts.get(repo.name, 0) if counts.from_metric else None,
                last_pull_day=counts.last_pull_day.get(repo.name),
                last_recorded_pull=max(recorded) if recorded else None,
            )
        )
    epoch = datetime.min.replace(tzinfo=UTC)
    return tuple(
        sorted(
            out,
            key=lambda r: (
                -(r.pulls or 0),
                -(r.last_recorded_pull or epoch).timestamp(),
                r.repository,
            ),
        )
    )
