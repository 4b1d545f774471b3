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
number, botocore checks no maximum, so ``install()`` refuses more, as the service does.
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


def _limited(original: Any) -> Any:
    def get_metric_data(self: Any, queries: list[dict[str, Any]], *args: Any, **kw: Any) -> Any:
        from moto.cloudwatch.exceptions import ValidationError

        if len(queries) > MAX_QUERIES:
            raise ValidationError(
                f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
            )
        return original(self, queries, *args, **kw)

    get_metric_data._ecrcache_limited = True  # type: ignore[attr-defined]
    return get_metric_data


def install() -> None:
    """GetMetricData refuses more than 500 queries. Idempotent; class-level."""
    from moto.cloudwatch.models import CloudWatchBackend

    current = CloudWatchBackend.get_metric_data
    if not getattr(current, "_ecrcache_limited", False):
        CloudWatchBackend.get_metric_data = _limited(current)  # type: ignore[method-assign]
