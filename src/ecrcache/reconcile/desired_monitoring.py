"""``[monitoring]`` → desired resources. Pure.

The event pattern follows ECR's EventBridge documentation ("Amazon ECR events and EventBridge",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html, "Event for a pull
through cache action"): ``source`` ``aws.ecr``, ``detail-type`` ``ECR Pull Through Cache
Action``, and in ``detail`` ``sync-status`` (``SUCCESS`` or ``FAILED``), ``failure-code`` and
``failure-reason`` on failures, ``ecr-repository-prefix``, ``repository-name``,
``upstream-registry-url``, ``image-tag``/``image-digest``. Events are "emitted on a best effort
basis".

Policies:
- SNS topic policy: EventBridge publishes to a topic only when its policy allows
  ``events.amazonaws.com`` ``sns:Publish`` (EventBridge user guide, "Using resource-based
  policies for Amazon EventBridge", Amazon SNS permissions); Budgets likewise needs
  ``budgets.amazonaws.com`` (Budgets user guide, "Creating an Amazon SNS topic for budget
  notifications"). Each is held to this account (``aws:SourceAccount``) and, for EventBridge, to
  the rule (``aws:SourceArn``), as both guides recommend against the confused deputy.
- Logs resource policy: EventBridge writes to a log group through a CloudWatch Logs resource
  policy granting ``events.amazonaws.com`` and ``delivery.logs.amazonaws.com``
  ``logs:CreateLogStream`` and ``logs:PutLogEvents`` (EventBridge user guide, CloudWatch Logs
  permissions).
- Budget: a COST budget filtered by ``Service`` = ``Amazon EC2 Container Registry (ECR)``, the
  service name Cost Explorer and Budgets use for ECR (Terraform's aws_budgets_budget
  ``cost_filter { name = "Service" }``; cost/explorer.py filters Cost Explorer by the same name).
"""

from __future__ import annotations

import json
from typing import Any

from ecrcache.config.monitoring import MonitoringConfig
from ecrcache.config.upstreams import partition
from ecrcache.policy.canonical import canonical_text
from ecrcache.reconcile.monitoring_resources import (
    Budget,
    BudgetAlert,
    EventRule,
    LogGroup,
    LogsPolicy,
    Topic,
)

DETAIL_TYPE = "ECR Pull Through Cache Action"
ECR_SERVICE_NAME = "Amazon EC2 Container Registry (ECR)"
SNS_TARGET_ID = "ecrcache-sns"
LOGS_TARGET_ID = "ecrcache-logs"


def canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def event_pattern(events: str) -> dict[str, Any]:
    pattern: dict[str, Any] = {"source": ["aws.ecr"], "detail-type": [DETAIL_TYPE]}
    if events == "failed":
        pattern["detail"] = {"sync-status": ["FAILED"]}
    return pattern


def rule_arn(m: MonitoringConfig, *, region: str, account_id: str) -> str:
    return f"arn:{partition(region)}:events:{region}:{account_id}:rule/{m.name}"


def log_group_arn(name: str, *, region: str, account_id: str) -> str:
    return f"arn:{partition(region)}:logs:{region}:{account_id}:log-group:{name}"


def logs_policy_name(m: MonitoringConfig) -> str:
    return f"{m.name}-events"


def budget_arn(name: str, *, region: str, account_id: str) -> str:
    return f"arn:{partition(region)}:budgets::{account_id}:budget/{name}"


def monitoring_resources(m: MonitoringConfig, *, region: str, account_id: str) -> tuple[Any, ...]:
    """Every resource ``[monitoring]`` asks for."""
    part = partition(region)
    topic = m.topic_arn(partition=part, region=region, account_id=account_id)
    rule = rule_arn(m, region=region, account_id=account_id)
    out: list[Any] = []
    targets: list[tuple[str, str]] = []
    if topic is not None:
        targets.append((SNS_TARGET_ID, topic))
    if m.owns_topic and topic is not None:
        out.append(
            Topic(m.name, canonical_text(_topic_policy(m, topic, rule, account_id), partition=part))
        )
    if m.log_group is not None:
        group = log_group_arn(m.log_group, region=region, account_id=account_id)
        targets.append((LOGS_TARGET_ID, group))
        out.append(LogGroup(m.log_group, m.log_retention_days))
        out.append(
            LogsPolicy(
                logs_policy_name(m), canonical_text(_logs_policy(group, rule), partition=part)
            )
        )
    out.append(
        EventRule(m.name, canonical(event_pattern(m.events)), targets=tuple(sorted(targets)))
    )
    if m.budget is not None:
        b = m.budget
        subscribers = tuple(
            sorted([("EMAIL", e) for e in b.emails] + ([("SNS", topic)] if topic else []))
        )
        alerts = tuple(
            BudgetAlert(kind, t, subscribers)
            for kind, ts in (("ACTUAL", b.actual_percent), ("FORECASTED", b.forecast_percent))
            for t in ts
        )
        out.append(
            Budget(b.name, float(b.limit_usd), canonical({"Service": [ECR_SERVICE_NAME]}), alerts)
        )
    return tuple(out)


def _topic_policy(m: MonitoringConfig, topic: str, rule: str, account_id: str) -> dict[str, Any]:
    statements = [
        {
            "Sid": "ecrcache-eventbridge",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
        }
    ]
    if m.budget is not None:
        statements.append(
            {
                "Sid": "ecrcache-budgets",
                "Effect": "Allow",
                "Principal": {"Service": "budgets.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _logs_policy(group: str, rule: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ecrcache-eventbridge",
                "Effect": "Allow",
                "Principal": {"Service": ["delivery.logs.amazonaws.com", "events.amazonaws.com"]},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{group}:*",
                "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
            }
        ],
    }
