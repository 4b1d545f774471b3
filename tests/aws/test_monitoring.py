"""[monitoring] planned and applied against moto: the EventBridge rule, its SNS topic and log
group targets with their policies, and the ECR budget."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
from reconcile_support import ACCOUNT, REGION, apply, clients, config, plan

from ecrcache.config.loading import parse_config
from ecrcache.reconcile.import_toml import to_toml
from ecrcache.reconcile.importer import import_config

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


def test_removing_the_section_leaves_everything_until_prune(aws: Any, ci_calls: Any) -> None:
    apply(full_config(), clients(aws))  # found by the rule's tag, under its own name
    bare = config(RULES)
    assert plan(bare, clients(aws)).plan.changes == ()
    # Once the section is removed the CI policy plan generates keeps granting on ecrcache's
    # monitoring resources still in the account (planning.kept_monitoring): every call of the
    # prune that deletes them is allowed.
    with ci_calls.isolated() as seen:
        c = clients(aws)
        apply(bare, c, prune=True)
        assert aws.client("events").list_rules()["Rules"] == []
        assert plan(bare, clients(aws), prune=True).plan.changes == ()
    assert {call.split(":")[0] for call, _check, _ok in seen} >= {"events", "sns", "logs"}
    assert [call for call, _check, allowed in seen if not allowed] == []
    assert sorted(m for m in c.mutating_calls if not m.startswith("ecr.")) == [
        "budgets.DeleteBudget",
        "events.DeleteRule",
        "events.RemoveTargets",
        "logs.DeleteLogGroup",
        "logs.DeleteResourcePolicy",
        "sns.DeleteTopic",
    ]


def test_the_ci_policy_applied_without_the_section_still_allows_its_prune(
    aws: Any, ci_calls: Any
) -> None:
    """The trap: CI applies the removal first (no --prune), which updates the CI policy; the
    prune after it runs with that policy. Each prune call is checked against the document
    ecrcache wrote to IAM, not one computed afresh."""
    from ecrcache.policy.iam import evaluate

    with_ci = {"ci_policy": {}}
    apply(config(RULES, monitoring=FULL, **with_ci), clients(aws))
    bare = config(RULES, **with_ci)
    removal = apply(bare, clients(aws))
    assert [n for n in removal.notes if "keeps granting on them" in n]
    iam = aws.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/ecrcache-ci"
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    with ci_calls.isolated() as seen:
        apply(bare, clients(aws), prune=True)
    assert aws.client("events").list_rules()["Rules"] == []
    checked = [(call, check) for call, check, _ok in seen if call.split(":")[0] != "iam"]
    assert any(call == "events:DeleteRule" for call, _ in checked)
    denied = [
        (call, check.resource)
        for call, check in checked
        if not evaluate(
            check.action,
            check.resource,
            identity_policies=[doc],
            context={"aws:RequestedRegion": REGION, **check.context},
        ).allowed
    ]
    assert denied == []
    # gone from the account, the grants go from the policy with the next apply, then nothing
    shrink = apply(bare, clients(aws))
    assert [ch.address for ch in shrink.plan.changes] == ["iam-policy.ecrcache-ci"]
    assert plan(bare, clients(aws)).plan.changes == ()


def test_switching_to_an_existing_topic_keeps_ecrcaches_until_prune(aws: Any) -> None:
    apply(full_config(), clients(aws))
    theirs = aws.client("sns").create_topic(Name="team-alerts")["TopicArn"]
    switched = full_config(topic=theirs)
    result = apply(switched, clients(aws))
    addresses = {ch.address: ch.action.value for ch in result.plan.changes}
    assert addresses == {
        "event-rule.ecrcache-ptc": "update",
        "budget.ecrcache-ecr-monthly": "update",
    }
    targets = aws.client("events").list_targets_by_rule(Rule="ecrcache-ptc")["Targets"]
    assert {t["Arn"] for t in targets} >= {theirs}
    assert plan(switched, clients(aws)).plan.changes == ()
    pruned = apply(switched, clients(aws), prune=True)
    assert [ch.address for ch in pruned.plan.changes] == ["sns-topic.ecrcache-ptc"]
    names = [t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"]]
    assert names == [theirs]  # never touches the topic it does not own


def test_changed_thresholds_and_limit_update_the_budget_in_place(aws: Any) -> None:
    apply(full_config(), clients(aws))
    changed = full_config(
        budget={
            **FULL["budget"],
            "limit_usd": 75,
            "actual_percent": [90],
            "emails": ["ops@example.com"],
        }
    )
    c = clients(aws)
    result = apply(changed, c)
    assert [(ch.address, ch.action.value) for ch in result.plan.changes] == [
        ("budget.ecrcache-ecr-monthly", "update")
    ]
    assert "budgets.DeleteBudget" not in c.mutating_calls  # the budget's history is kept
    assert plan(changed, clients(aws)).plan.changes == ()
    budget = aws.client("budgets").describe_budget(
        AccountId=ACCOUNT, BudgetName="ecrcache-ecr-monthly"
    )
    assert float(budget["Budget"]["BudgetLimit"]["Amount"]) == 75.0


def test_all_events_and_log_group_only(aws: Any) -> None:
    cfg = config(RULES, monitoring={"events": "all", "topic": False, "log_retention_days": 14})
    result = apply(cfg, clients(aws))
    assert sorted(ch.kind for ch in result.plan.changes if ch.kind != "rule") == [
        "event-rule",
        "log-group",
        "logs-policy",
    ]
    rule = aws.client("events").describe_rule(Name="ecrcache-pull-through-cache")
    assert "detail" not in json.loads(rule["EventPattern"])
    assert plan(cfg, clients(aws)).plan.changes == ()
    policies = aws.client("logs").describe_resource_policies()["resourcePolicies"]
    doc = json.loads(policies[0]["policyDocument"])
    assert doc["Statement"][0]["Resource"].endswith(
        "log-group:/aws/events/ecrcache-pull-through-cache:*"
    )


def test_retention_drift_is_planned_back(aws: Any) -> None:
    apply(full_config(), clients(aws))
    aws.client("logs").put_retention_policy(
        logGroupName="/aws/events/ecrcache-ptc", retentionInDays=1
    )
    changes = plan(full_config(), clients(aws)).plan.changes
    assert [(ch.address, [f.name for f in ch.fields]) for ch in changes] == [
        ("log-group./aws/events/ecrcache-ptc", ["retention_days"])
    ]


@pytest.mark.parametrize(
    "monitoring",
    [
        FULL,
        {"events": "all", "topic": False, "log_retention_days": 14},
        {"topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:team-alerts", "budget": {"limit_usd": 9.5}},
    ],
    ids=["full", "logs-only", "existing-topic"],
)
def test_import_reads_the_section_back_and_plans_empty(aws: Any, monitoring: Any) -> None:
    aws.client("sns").create_topic(Name="team-alerts")
    apply(config(RULES, monitoring=monitoring), clients(aws))
    c = clients(aws)
    result = import_config(c, region=REGION)
    doc = tomllib.loads(to_toml(result))
    assert doc == result.document
    assert [m for m in c.mutating_calls] == []
    cfg = parse_config(doc)
    assert cfg.monitoring is not None
    assert plan(cfg, clients(aws)).plan.changes == ()
