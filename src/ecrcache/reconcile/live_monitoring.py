"""Read ``[monitoring]``'s resources from the account, by name. Reads only.

Each resource is read by the name the config gives it (or, for a prune of a removed section,
the default names): EventBridge DescribeRule, ListTargetsByRule and ListTagsForResource; SNS
GetTopicAttributes and ListTagsForResource; CloudWatch Logs DescribeLogGroups (by prefix, then
the exact name), ListTagsForResource and DescribeResourcePolicies; Budgets DescribeBudget,
DescribeNotificationsForBudget, DescribeSubscribersForNotification and ListTagsForResource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ecrcache.aws import Clients, aws_errors, error_code
from ecrcache.config.monitoring import MonitoringConfig
from ecrcache.config.upstreams import partition
from ecrcache.policy.canonical import canonical_text
from ecrcache.reconcile.desired_monitoring import (
    budget_arn,
    canonical,
    log_group_arn,
    logs_policy_name,
)
from ecrcache.reconcile.monitoring_resources import (
    Budget,
    BudgetAlert,
    EventRule,
    LogGroup,
    LogsPolicy,
    Topic,
)

NOT_FOUND = frozenset({"ResourceNotFoundException", "NotFound", "NotFoundException"})


@dataclass(frozen=True)
class MonitoringNames:
    """The names of the resources to read."""

    rule: str
    topic: str | None  # ecrcache's own topic only
    log_group: str | None
    logs_policy: str | None
    budget: str | None

    @classmethod
    def of(cls, m: MonitoringConfig, *, everything: bool = False) -> MonitoringNames:
        """``everything``: every name the section could use (a prune after it was removed)."""
        return cls(
            rule=m.name,
            topic=m.name if (m.owns_topic or everything) else None,
            log_group=m.log_group or (f"/aws/events/{m.name}" if everything else None),
            logs_policy=logs_policy_name(m) if (m.log_group or everything) else None,
            budget=m.budget.name if m.budget else ("ecrcache-ecr-monthly" if everything else None),
        )


def discover_monitoring(clients: Clients) -> tuple[MonitoringNames, ...]:
    """ecrcache's EventBridge rules, found by their managed-by tag (one GetResources call, the
    Resource Groups Tagging API lists EventBridge rules), as the names to read for a prune after
    ``[monitoring]`` was removed: the rule's name is the section's ``name``, and the topic, log
    group and logs policy follow from it; the budget is looked for under its default name.
    A config that never had the section makes this one call and reads nothing else."""
    with aws_errors("find ecrcache's EventBridge rules by their tag"):
        pages = clients.tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": "managed-by", "Values": ["ecrcache"]}],
            ResourceTypeFilters=["events:rule"],
        )
        arns = [m["ResourceARN"] for page in pages for m in page["ResourceTagMappingList"]]
    names = sorted({arn.rsplit("rule/", 1)[-1] for arn in arns if ":rule/" in arn})
    return tuple(
        MonitoringNames.of(MonitoringConfig(name=n), everything=True)
        for n in names
        if "/" not in n  # a rule on a custom event bus: not ecrcache's
    )


def _missing(exc: Exception) -> bool:
    return error_code(exc) in NOT_FOUND


def _tags(listed: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((t["Key"], t["Value"]) for t in listed))


def read_monitoring(clients: Clients, names: MonitoringNames) -> tuple[Any, ...]:
    account, region = clients.account_id, clients.region
    out: list[Any] = []
    found = [
        _rule(clients, names.rule),
        _topic(clients, names.topic, account) if names.topic else None,
        _log_group(clients, names.log_group, account) if names.log_group else None,
        _logs_policy(clients, names.logs_policy) if names.logs_policy else None,
        _budget(clients, names.budget, account, region) if names.budget else None,
    ]
    out.extend(f for f in found if f is not None)
    return tuple(out)


def _rule(clients: Clients, name: str) -> EventRule | None:
    ev = clients.events
    with aws_errors(f"read EventBridge rule {name}"):
        try:
            r = ev.describe_rule(Name=name)
        except Exception as exc:
            if _missing(exc):
                return None
            raise
        targets = ev.list_targets_by_rule(Rule=name).get("Targets", [])
        tags = ev.list_tags_for_resource(ResourceARN=r["Arn"]).get("Tags", [])
    pattern = r.get("EventPattern")
    return EventRule(
        name=name,
        pattern=canonical(json.loads(pattern)) if pattern else "",
        description=r.get("Description", ""),
        state=r.get("State", "ENABLED"),
        targets=tuple(sorted((t["Id"], t["Arn"]) for t in targets)),
        tags=_tags(tags),
        arn=r["Arn"],
    )


def _topic(clients: Clients, name: str, account: str) -> Topic | None:
    region = clients.region
    arn = f"arn:{partition(region)}:sns:{region}:{account}:{name}"
    with aws_errors(f"read SNS topic {name}"):
        try:
            attrs = clients.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        except Exception as exc:
            if _missing(exc):
                return None
            raise
        tags = clients.sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
    policy = attrs.get("Policy")
    return Topic(
        name=name,
        policy=canonical_text(policy, partition=partition(region)) if policy else "",
        tags=_tags(tags),
        arn=arn,
    )


def _log_group(clients: Clients, name: str, account: str) -> LogGroup | None:
    logs = clients.logs
    with aws_errors(f"read log group {name}"):
        groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
        group = next((g for g in groups if g["logGroupName"] == name), None)
        if group is None:
            return None
        arn = log_group_arn(name, region=clients.region, account_id=account)
        tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
    return LogGroup(
        name=name,
        retention_days=group.get("retentionInDays"),
        tags=tuple(sorted(tags.items())),
    )


def _logs_policy(clients: Clients, name: str) -> LogsPolicy | None:
    with aws_errors("read the CloudWatch Logs resource policies"):
        policies = clients.logs.describe_resource_policies().get("resourcePolicies", [])
    p = next((p for p in policies if p["policyName"] == name), None)
    if p is None:
        return None
    return LogsPolicy(
        name, canonical_text(p["policyDocument"], partition=partition(clients.region))
    )


def _budget(clients: Clients, name: str, account: str, region: str) -> Budget | None:
    bud = clients.budgets
    with aws_errors(f"read budget {name}"):
        try:
            b = bud.describe_budget(AccountId=account, BudgetName=name)["Budget"]
        except Exception as exc:
            if _missing(exc):
                return None
            raise
        notes = bud.describe_notifications_for_budget(AccountId=account, BudgetName=name).get(
            "Notifications", []
        )
        alerts = []
        for n in notes:
            subs = bud.describe_subscribers_for_notification(
                AccountId=account, BudgetName=name, Notification=n
            ).get("Subscribers", [])
            alerts.append(
                BudgetAlert(
                    n["NotificationType"],
                    float(n["Threshold"]),
                    tuple(sorted((s["SubscriptionType"], s["Address"]) for s in subs)),
                )
            )
        tags = bud.list_tags_for_resource(
            ResourceARN=budget_arn(name, region=region, account_id=account)
        ).get("ResourceTags", [])
    return Budget(
        name=name,
        limit_usd=float(b["BudgetLimit"]["Amount"]),
        filters=canonical(b.get("CostFilters", {})),
        alerts=tuple(sorted(alerts, key=lambda a: (a.kind, a.threshold))),
        tags=_tags(tags),
    )
