"""``[monitoring]`` read back for ``import``: the inverse of ``desired_monitoring`` (pure).

The section is rebuilt from ecrcache's EventBridge rule (found by its tag) and what it
delivers to: its own SNS topic (named as the rule: ``topic`` left at its default), another
topic (``topic`` = that ARN), the log group ``/aws/events/<name>`` (its retention), and the
budget under its default name. Defaults are left out.
"""

from __future__ import annotations

import json
from typing import Any

from ecrcache.config.monitoring import DEFAULT_NAME
from ecrcache.reconcile.desired_monitoring import LOGS_TARGET_ID, SNS_TARGET_ID
from ecrcache.reconcile.monitoring_resources import Budget, EventRule, LogGroup, Topic


def monitoring_section(found: tuple[Any, ...]) -> tuple[dict[str, Any] | None, list[str]]:
    """The ``[monitoring]`` table for what was read, and notes; (None, []) without a rule."""
    rules = [o for o in found if isinstance(o, EventRule)]
    if not rules:
        return None, []
    rule = rules[0]
    notes: list[str] = []
    body: dict[str, Any] = {}
    if rule.name != DEFAULT_NAME:
        body["name"] = rule.name
    pattern = json.loads(rule.pattern) if rule.pattern else {}
    if "detail" not in pattern:
        body["events"] = "all"
    targets = dict(rule.targets)
    topics = {o.name for o in found if isinstance(o, Topic)}
    sns = targets.get(SNS_TARGET_ID)
    if sns is None:
        body["topic"] = False
    elif not (sns.rsplit(":", 1)[-1] == rule.name and rule.name in topics):
        body["topic"] = sns
    groups = [o for o in found if isinstance(o, LogGroup)]
    if LOGS_TARGET_ID in targets and groups:
        if groups[0].retention_days is None:
            notes.append(
                f"log group {groups[0].name} keeps events forever, which [monitoring] cannot "
                "say: log_retention_days = 30 is written instead (apply sets it)"
            )
        body["log_retention_days"] = groups[0].retention_days or 30
    budgets = [o for o in found if isinstance(o, Budget)]
    if budgets:
        body["budget"] = _budget(budgets[0])
    return body, notes


def _budget(b: Budget) -> dict[str, Any]:
    out: dict[str, Any] = {"limit_usd": b.limit_usd}
    out["actual_percent"] = [a.threshold for a in b.alerts if a.kind == "ACTUAL"]
    out["forecast_percent"] = [a.threshold for a in b.alerts if a.kind == "FORECASTED"]
    emails = sorted({addr for a in b.alerts for kind, addr in a.subscribers if kind == "EMAIL"})
    if emails:
        out["emails"] = emails
    return out
