"""Handlers for ``[monitoring]``: the SNS topic, the log group and its resource policy, the
EventBridge rule with its targets, the Budgets budget.

Repeats are harmless: CreateTopic returns the existing topic of that name, PutRule,
PutTargets, PutResourcePolicy, PutRetentionPolicy, SetTopicAttributes and TagResource set the
same value again, and deletes count "not found" as done. CreateLogGroup's "already exists" is
done (the retention and tags are set after it either way), and CreateBudget's "duplicate" is
done when the budget read back is the one planned.
"""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any

from ecrcache.aws import aws_errors, error_code, translate
from ecrcache.errors import AwsError
from ecrcache.reconcile import idempotent
from ecrcache.reconcile.desired_monitoring import budget_arn, log_group_arn
from ecrcache.reconcile.handlers.common import tag_list
from ecrcache.reconcile.live_monitoring import NOT_FOUND, _budget
from ecrcache.reconcile.monitoring_resources import (
    Budget,
    BudgetAlert,
    EventRule,
    LogGroup,
    LogsPolicy,
    Topic,
)
from ecrcache.reconcile.plan import Change

if TYPE_CHECKING:
    from ecrcache.reconcile.apply import ApplyContext


def _names(change: Change) -> set[str]:
    return {f.name for f in change.fields}


# --- SNS topic ---------------------------------------------------------------------------


def put_topic(ctx: ApplyContext, change: Change) -> None:
    want = change.after
    assert isinstance(want, Topic)
    sns = ctx.clients.sns
    have = change.before if isinstance(change.before, Topic) else None
    with aws_errors(f"write SNS topic {want.name}"):
        if have is None or not have.arn:
            # CreateTopic is idempotent by name (it returns the existing topic's ARN)
            arn = sns.create_topic(Name=want.name, Tags=tag_list(want.tags))["TopicArn"]
        else:
            arn = have.arn
        if have is None or "policy" in _names(change):
            sns.set_topic_attributes(
                TopicArn=arn, AttributeName="Policy", AttributeValue=want.policy
            )
        if have is not None and "tags" in _names(change):
            sns.tag_resource(ResourceArn=arn, Tags=tag_list(want.tags))


def delete_topic(ctx: ApplyContext, change: Change) -> None:
    have = change.before
    assert isinstance(have, Topic) and have.arn
    arn = have.arn
    idempotent.delete(
        lambda: ctx.clients.sns.delete_topic(TopicArn=arn),
        gone=NOT_FOUND,
        doing=f"delete SNS topic {have.name}",
    )


# --- log group and the logs resource policy ------------------------------------------------


def put_log_group(ctx: ApplyContext, change: Change) -> None:
    want = change.after
    assert isinstance(want, LogGroup)
    logs = ctx.clients.logs
    doing = f"create log group {want.name}"
    if change.before is None:
        try:
            logs.create_log_group(logGroupName=want.name, tags=dict(want.tags))
        except Exception as exc:
            if error_code(exc) != "ResourceAlreadyExistsException":
                raise translate(exc, doing) from None
    names = _names(change) if change.before is not None else {"retention_days"}
    with aws_errors(doing):
        if "retention_days" in names and want.retention_days is not None:
            logs.put_retention_policy(logGroupName=want.name, retentionInDays=want.retention_days)
        elif "retention_days" in names:
            logs.delete_retention_policy(logGroupName=want.name)
        if change.before is not None and "tags" in names:
            arn = log_group_arn(want.name, region=ctx.region, account_id=ctx.account_id)
            logs.tag_resource(resourceArn=arn, tags=dict(want.tags))


def delete_log_group(ctx: ApplyContext, change: Change) -> None:
    have = change.before
    assert isinstance(have, LogGroup)
    idempotent.delete(
        lambda: ctx.clients.logs.delete_log_group(logGroupName=have.name),
        gone=NOT_FOUND,
        doing=f"delete log group {have.name}",
    )


def put_logs_policy(ctx: ApplyContext, change: Change) -> None:
    want = change.after
    assert isinstance(want, LogsPolicy)
    with aws_errors(f"write the CloudWatch Logs resource policy {want.name}"):
        ctx.clients.logs.put_resource_policy(policyName=want.name, policyDocument=want.document)


def delete_logs_policy(ctx: ApplyContext, change: Change) -> None:
    have = change.before
    assert isinstance(have, LogsPolicy)
    idempotent.delete(
        lambda: ctx.clients.logs.delete_resource_policy(policyName=have.name),
        gone=NOT_FOUND,
        doing=f"delete the CloudWatch Logs resource policy {have.name}",
    )


# --- EventBridge rule ----------------------------------------------------------------------


def put_event_rule(ctx: ApplyContext, change: Change) -> None:
    want = change.after
    assert isinstance(want, EventRule)
    have = change.before if isinstance(change.before, EventRule) else None
    ev = ctx.clients.events
    names = _names(change) if have is not None else {"pattern", "targets"}
    with aws_errors(f"write EventBridge rule {want.name}"):
        if have is None or names & {"pattern", "description", "state"}:
            kwargs: dict[str, Any] = {}
            if have is None:
                kwargs["Tags"] = tag_list(want.tags)  # PutRule tags only a new rule
            arn = ev.put_rule(
                Name=want.name,
                EventPattern=want.pattern,
                Description=want.description,
                State=want.state,
                **kwargs,
            )["RuleArn"]
        else:
            assert have.arn
            arn = have.arn
        if "targets" in names:
            stale = [i for i, _ in (have.targets if have else ()) if i not in dict(want.targets)]
            if stale:
                ev.remove_targets(Rule=want.name, Ids=stale)
            if want.targets:
                ev.put_targets(
                    Rule=want.name, Targets=[{"Id": i, "Arn": a} for i, a in want.targets]
                )
        if have is not None and "tags" in names:
            ev.tag_resource(ResourceARN=arn, Tags=tag_list(want.tags))


def delete_event_rule(ctx: ApplyContext, change: Change) -> None:
    have = change.before
    assert isinstance(have, EventRule)
    ev = ctx.clients.events
    doing = f"delete EventBridge rule {have.name}"
    if have.targets:  # EventBridge refuses to delete a rule that still has targets
        idempotent.delete(
            lambda: ev.remove_targets(Rule=have.name, Ids=[i for i, _ in have.targets]),
            gone=NOT_FOUND,
            doing=doing,
        )
    idempotent.delete(lambda: ev.delete_rule(Name=have.name), gone=NOT_FOUND, doing=doing)


# --- Budgets -------------------------------------------------------------------------------


def _notification(a: BudgetAlert) -> dict[str, Any]:
    return {
        "NotificationType": a.kind,
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": a.threshold,
        "ThresholdType": "PERCENTAGE",
    }


def _subscribers(a: BudgetAlert) -> list[dict[str, str]]:
    return [{"SubscriptionType": t, "Address": addr} for t, addr in a.subscribers]


def _budget_body(b: Budget) -> dict[str, Any]:
    return {
        "BudgetName": b.name,
        "BudgetLimit": {"Amount": f"{b.limit_usd:.2f}", "Unit": "USD"},
        "CostFilters": json.loads(b.filters),
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
    }


def create_budget(ctx: ApplyContext, change: Change) -> None:
    want = change.after
    assert isinstance(want, Budget)
    doing = f"create budget {want.name}"
    try:
        ctx.clients.budgets.create_budget(
            AccountId=ctx.account_id,
            Budget=_budget_body(want),
            NotificationsWithSubscribers=[
                {"Notification": _notification(a), "Subscribers": _subscribers(a)}
                for a in want.alerts
            ],
            ResourceTags=tag_list(want.tags),
        )
    except Exception as exc:
        if error_code(exc) != "DuplicateRecordException":
            raise translate(exc, doing) from None
        with aws_errors(f"read back after {doing}"):
            have = _budget(ctx.clients, want.name, ctx.account_id, ctx.region)
        if have != want:
            raise AwsError(
                f"cannot {doing}: it already exists with other settings",
                hint="it was made while this apply ran; the next plan shows how it differs",
                aws_code="DuplicateRecordException",
            ) from None


def update_budget(ctx: ApplyContext, change: Change) -> None:
    want, have = change.after, change.before
    assert isinstance(want, Budget) and isinstance(have, Budget)
    bud = ctx.clients.budgets
    names = _names(change)
    account = ctx.account_id
    with aws_errors(f"update budget {want.name}"):
        if names & {"limit_usd", "filters"}:
            bud.update_budget(AccountId=account, NewBudget=_budget_body(want))
        if "alerts" in names:
            keep = set(want.alerts) & set(have.alerts)
            for gone in (a for a in have.alerts if a not in keep):
                note = _notification(gone)
                idempotent.delete(
                    partial(
                        bud.delete_notification,
                        AccountId=account,
                        BudgetName=want.name,
                        Notification=note,
                    ),
                    gone=NOT_FOUND,
                    doing=f"update budget {want.name}",
                )
            for a in want.alerts:
                if a not in keep:
                    bud.create_notification(
                        AccountId=account,
                        BudgetName=want.name,
                        Notification=_notification(a),
                        Subscribers=_subscribers(a),
                    )
        if "tags" in names:
            bud.tag_resource(
                ResourceARN=budget_arn(want.name, region=ctx.region, account_id=account),
                ResourceTags=tag_list(want.tags),
            )


def delete_budget(ctx: ApplyContext, change: Change) -> None:
    have = change.before
    assert isinstance(have, Budget)
    idempotent.delete(
        lambda: ctx.clients.budgets.delete_budget(AccountId=ctx.account_id, BudgetName=have.name),
        gone=NOT_FOUND,
        doing=f"delete budget {have.name}",
    )
