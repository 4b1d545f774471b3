"""Real AWS behaviours the sandbox reproduces for pull counts, each with its source.

- ECR user guide, "Amazon ECR repository metrics"
  (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-repository-metrics.html): ECR
  sends ``RepositoryPullCount`` to CloudWatch, namespace ``AWS/ECR``, dimension
  ``RepositoryName``, statistic Sum, automatically for private repositories.
- botocore's CloudWatch model (GetMetricDataInput.MetricDataQueries): "A single GetMetricData
  call can include as many as 500 MetricDataQuery structures".
- CloudWatch user guide, "Amazon CloudWatch concepts": "Metrics are uniquely defined by a
  name, a namespace, and zero or more dimensions".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.exceptions
import pytest

from ecrcache.cost.pull_counts import queries
from ecrcache.sandbox.pulls import simulate_pull

ACCOUNT = "123456789012"
REGION = "af-south-1"


@pytest.fixture
def cloudwatch(aws: boto3.session.Session) -> Any:
    aws.client("ecr").create_pull_through_cache_rule(
        ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws"
    )
    return aws.client("cloudwatch")


def _sum(cloudwatch: Any, repository: str, *, days: int = 7) -> list[float]:
    now = datetime.now(UTC)
    out = cloudwatch.get_metric_data(
        MetricDataQueries=queries([repository]),
        StartTime=now - timedelta(days=days),
        EndTime=now + timedelta(minutes=1),
    )
    return [float(v) for r in out["MetricDataResults"] for v in r["Values"]]


def test_each_pull_counts_once_in_repository_pull_count(cloudwatch: Any) -> None:
    """ECR user guide, "Amazon ECR repository metrics": AWS/ECR RepositoryPullCount by
    RepositoryName, Sum. A simulated pull (test-pull's and warm's in the sandbox) counts one."""
    for _ in range(3):
        simulate_pull(
            account_id=ACCOUNT, region=REGION, repository="ecr-public/docker/library/nginx"
        )
    simulate_pull(account_id=ACCOUNT, region=REGION, repository="ecr-public/docker/library/redis")
    assert sum(_sum(cloudwatch, "ecr-public/docker/library/nginx")) == 3
    assert sum(_sum(cloudwatch, "ecr-public/docker/library/redis")) == 1
    listed = cloudwatch.list_metrics(Namespace="AWS/ECR", MetricName="RepositoryPullCount")
    dims = sorted(d["Value"] for m in listed["Metrics"] for d in m["Dimensions"])
    assert dims == ["ecr-public/docker/library/nginx", "ecr-public/docker/library/redis"]
    assert {d["Name"] for m in listed["Metrics"] for d in m["Dimensions"]} == {"RepositoryName"}


def test_a_pull_is_counted_at_its_own_time(cloudwatch: Any) -> None:
    """The metric is sent in 1-minute periods (same page): a pull ten days ago is outside a
    seven-day window and inside a fourteen-day one."""
    simulate_pull(
        account_id=ACCOUNT,
        region=REGION,
        repository="ecr-public/docker/library/nginx",
        pulled_at=datetime.now(UTC) - timedelta(days=10),
    )
    assert sum(_sum(cloudwatch, "ecr-public/docker/library/nginx", days=7)) == 0
    assert sum(_sum(cloudwatch, "ecr-public/docker/library/nginx", days=14)) == 1


def test_get_metric_data_takes_at_most_500_queries(cloudwatch: Any) -> None:
    """botocore's CloudWatch model: "as many as 500 MetricDataQuery structures" a call."""
    now = datetime.now(UTC)
    names = [f"ecr-public/repo-{i}" for i in range(501)]
    with pytest.raises(botocore.exceptions.ClientError) as err:
        cloudwatch.get_metric_data(
            MetricDataQueries=queries(names), StartTime=now - timedelta(days=1), EndTime=now
        )
    assert err.value.response["Error"]["Code"] == "ValidationError"
    ok = cloudwatch.get_metric_data(
        MetricDataQueries=queries(names[:500]), StartTime=now - timedelta(days=1), EndTime=now
    )
    assert len(ok["MetricDataResults"]) == 500


def test_a_metric_is_its_namespace_name_and_dimensions(cloudwatch: Any) -> None:
    """CloudWatch user guide, "Amazon CloudWatch concepts": "Metrics are uniquely defined by a
    name, a namespace, and zero or more dimensions". The same name and dimension in another
    namespace is another metric (moto 5.2.5 leaves the namespace out when dimensions are
    given)."""
    simulate_pull(account_id=ACCOUNT, region=REGION, repository="ecr-public/docker/library/nginx")
    cloudwatch.put_metric_data(
        Namespace="Team/Builds",
        MetricData=[
            {
                "MetricName": "RepositoryPullCount",
                "Dimensions": [
                    {"Name": "RepositoryName", "Value": "ecr-public/docker/library/nginx"}
                ],
                "Value": 40,
            }
        ],
    )
    assert sum(_sum(cloudwatch, "ecr-public/docker/library/nginx")) == 1
