"""[monitoring] planned and applied against moto: the EventBridge rule, its SNS topic and log
group targets with their policies, and the ECR budget."""

from __future__ import annotations

import json
from typing import Any

from reconcile_support import ACCOUNT, REGION, apply, clients, config, plan

FULL: dict[str, Any] = {
    "name": "ecrcache-ptc",
    "events": "failed",
    "topic": True,
    "log_retention_days": 30,
    "budget": {
        "limit_usd": 50,
        "actual_percent": [80, 100],
        "forecast_percent": [100],
        "emails": ["ops@example.com", "lead@example.com"],
    },
}
RULES = {"quay": {"upstream": "quay"}}


def full_config(**overrides: Any) -> Any:
    return config(RULES, monitoring={**FULL, **overrides})


def test_apply_then_plan_is_empty_and_second_apply_mutates_nothing(aws: Any) -> None:
    c = clients(aws)
    first = apply(full_config(), c)
    kinds = sorted({ch.kind for ch in first.plan.changes})
    assert kinds == ["budget", "event-rule", "log-group", "logs-policy", "rule", "sns-topic"]
    again = plan(full_config(), clients(aws))
    assert again.plan.changes == (), [ch.address for ch in again.plan.changes]
    c2 = clients(aws)
    apply(full_config(), c2)
    assert c2.mutating_calls == []


def test_the_resources_are_what_the_config_says(aws: Any) -> None:
    apply(full_config(), clients(aws))
    events = aws.client("events")
    rule = events.describe_rule(Name="ecrcache-ptc")
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.ecr"],
        "detail-type": ["ECR Pull Through Cache Action"],
        "detail": {"sync-status": ["FAILED"]},
    }
    targets = {
        t["Id"]: t["Arn"] for t in events.list_targets_by_rule(Rule="ecrcache-ptc")["Targets"]
    }
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:ecrcache-ptc"
    assert targets == {
        "ecrcache-sns": topic_arn,
        "ecrcache-logs": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/events/ecrcache-ptc",
    }
    tags = events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
    assert {"Key": "managed-by", "Value": "ecrcache"} in tags
    policy = json.loads(
        aws.client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"]
    )
    principals = sorted(s["Principal"]["Service"] for s in policy["Statement"])
    assert principals == ["budgets.amazonaws.com", "events.amazonaws.com"]
    group = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/events/ecrcache-ptc")
    assert group["logGroups"][0]["retentionInDays"] == 30
    budget = aws.client("budgets").describe_budget(
        AccountId=ACCOUNT, BudgetName="ecrcache-ecr-monthly"
    )
    assert budget["Budget"]["CostFilters"] == {"Service": ["Amazon EC2 Container Registry (ECR)"]}
    assert float(budget["Budget"]["BudgetLimit"]["Amount"]) == 50.0


def test_removing_the_section_leaves_everything_until_prune(aws: Any) -> None:
    apply(full_config(), clients(aws))
    bare = config(RULES)
    assert plan(bare, clients(aws)).plan.changes == ()
    pruned = plan(bare, clients(aws), prune=True)
    deleted = sorted(ch.address for ch in pruned.plan.changes)
    assert (
        deleted
        == [
            "budget.ecrcache-ecr-monthly",
            "event-rule.ecrcache-pull-through-cache",
        ]
        or deleted
    )  # replaced below
