"""The billed ECR cost from Cost Explorer (``cost-report --actual``). Reads only.

GetCostAndUsage, monthly, filtered on the SERVICE dimension. Cost Explorer bills each request
($0.01 each, AWS's Cost Explorer pricing), so this makes exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ecrcache.aws import Clients, aws_errors

SERVICE = "Amazon EC2 Container Registry (ECR)"
METRIC = "UnblendedCost"


@dataclass(frozen=True)
class MonthlyCost:
    start: str  # YYYY-MM-DD, inclusive
    end: str  # exclusive
    amount: float
    unit: str
    estimated: bool


def month_range(today: date, months: int) -> tuple[str, str]:
    """The first day ``months`` whole months before this one, and the first of this month:
    the current, partial month is left out."""
    end = today.replace(day=1)
    year, month = end.year, end.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1).isoformat(), end.isoformat()


def actual_costs(clients: Clients, *, today: date, months: int = 3) -> tuple[MonthlyCost, ...]:
    """ECR's billed cost for each of the last ``months`` whole months. Raises AwsError."""
    start, end = month_range(today, months)
    # Cost Explorer has one endpoint (us-east-1); botocore resolves it from any region.
    ce: Any = clients.ce
    with aws_errors("read ECR costs from Cost Explorer (ce:GetCostAndUsage)"):
        resp = ce.get_cost_and_usage(
            TimePeriod={"Start": start, "End": end},
            Granularity="MONTHLY",
            Metrics=[METRIC],
            Filter={"Dimensions": {"Key": "SERVICE", "Values": [SERVICE]}},
        )
    out = []
    for r in resp.get("ResultsByTime", []):
        total = r.get("Total", {}).get(METRIC, {})
        out.append(
            MonthlyCost(
                start=r["TimePeriod"]["Start"],
                end=r["TimePeriod"]["End"],
                amount=float(total.get("Amount", 0) or 0),
                unit=str(total.get("Unit", "USD")),
                estimated=bool(r.get("Estimated", False)),
            )
        )
    return tuple(out)
