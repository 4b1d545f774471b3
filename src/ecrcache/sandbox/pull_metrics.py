"""ECR's pull-count metric in the sandbox, and GetMetricData's query limit moto lacks.

ECR "sends repository pull count metrics to Amazon CloudWatch ... automatically for private
repositories": namespace ``AWS/ECR``, metric ``RepositoryPullCount``, dimension
``RepositoryName``, statistic Sum (ECR user guide, "Amazon ECR repository metrics",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-repository-metrics.html). A simulated
pull (``pulls.simulate_pull``, behind test-pull and warm in the sandbox) publishes one data
point of 1 at the pull's time, written to moto's CloudWatch backend directly: the page names the
unit "Integer", which is no CloudWatch unit, so none is set (a query without a unit matches).

GetMetricData: "A single GetMetricData call can include as many as 500 MetricDataQuery
structures" (botocore's CloudWatch model, GetMetricDataInput.MetricDataQueries); moto takes any
number, botocore checks no maximum, so ``install()`` refuses more, as the service does. A query
naming its metric's dimensions reads that metric only: namespace, name and dimensions ("Metrics
are uniquely defined by a name, a namespace, and zero or more dimensions", CloudWatch user
guide, "Amazon CloudWatch concepts"); moto 5.2.5 leaves the namespace out of that comparison.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

NAMESPACE = "AWS/ECR"
METRIC = "RepositoryPullCount"
DIMENSION = "RepositoryName"
MAX_QUERIES = 500


def publish_pull(*, account_id: str, region: str, repository: str, at: datetime) -> None:
    """Record one pull of ``repository`` at ``at`` as ECR reports it to CloudWatch."""
    from moto.cloudwatch.models import cloudwatch_backends

    # moto keeps metric timestamps as naive UTC (what its request parser gives it)
    naive = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    cloudwatch_backends[account_id][region].put_metric_data(
        NAMESPACE,
        [
            {
                "MetricName": METRIC,
                "Dimensions": [{"Name": DIMENSION, "Value": repository}],
                "Value": 1,
                "Timestamp": naive,
            }
        ],
    )


class _Only:
    """A stand-in backend holding one metric's data points, for moto's GetMetricData."""

    def __init__(self, data: list[Any]) -> None:
        self._data = data

    def get_all_metrics(self) -> list[Any]:
        return self._data


def _key(namespace: str, name: str, dimensions: Any) -> tuple[str, str, frozenset[Any]]:
    return namespace, name, frozenset(dimensions)


def _limited(original: Any) -> Any:
    def get_metric_data(
        self: Any,
        queries: list[dict[str, Any]],
        start_time: Any,
        end_time: Any,
        scan_by: str = "TimestampAscending",
    ) -> Any:
        from moto.cloudwatch.exceptions import ValidationError

        if len(queries) > MAX_QUERIES:
            raise ValidationError(
                f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
            )
        stats = [q.get("MetricStat") for q in queries]
        if not all(s and s["Metric"].get("Dimensions") for s in stats):
            return original(self, queries, start_time, end_time, scan_by)
        # Queries naming a metric by its dimensions: each one reads only its own metric's data
        # (moto compares every query with every data point; 500 repositories' pull counts over
        # months cost seconds of CPU), and a metric is its namespace, name and dimensions, as
        # CloudWatch defines it (moto's comparison leaves the namespace out).
        by_metric: dict[tuple[str, str, frozenset[Any]], list[Any]] = {}
        for md in self.get_all_metrics():
            dims = ((d.name, d.value) for d in md.dimensions)
            by_metric.setdefault(_key(md.namespace, md.name, dims), []).append(md)
        out = []
        for query, stat in zip(queries, stats, strict=True):
            assert stat is not None
            m = stat["Metric"]
            dims = ((d["Name"], d["Value"]) for d in m["Dimensions"])
            only = _Only(by_metric.get(_key(m["Namespace"], m["MetricName"], dims), []))
            out += original(only, [query], start_time, end_time, scan_by)
        return out

    get_metric_data._ecrcache_limited = True  # type: ignore[attr-defined]
    return get_metric_data


def install() -> None:
    """GetMetricData refuses more than 500 queries. Idempotent; class-level."""
    from moto.cloudwatch.models import CloudWatchBackend

    current = CloudWatchBackend.get_metric_data
    if not getattr(current, "_ecrcache_limited", False):
        CloudWatchBackend.get_metric_data = _limited(current)  # type: ignore[method-assign]
