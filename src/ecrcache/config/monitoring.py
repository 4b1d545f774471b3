"""``[monitoring]``: watching the cache, declared like the rest. Pure.

An EventBridge rule on ECR's "ECR Pull Through Cache Action" events (failed syncs, or all),
delivered to an SNS topic (ecrcache's own, or an existing one by ARN) and/or a CloudWatch Logs
group ecrcache creates; and an AWS Budgets monthly cost budget filtered to ECR. Everything is
checked here, before any AWS call: names as each service's API model allows them, ARNs,
thresholds, e-mail addresses.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ecrcache.config.base import Problem, StrictModel

# EventBridge PutRule Name: [\.\-_A-Za-z0-9]+, 1-64 (botocore events model, RuleName)
RULE_NAME_RE = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
# SNS CreateTopic: "Up to 256 characters... uppercase and lowercase ASCII letters, numbers,
# underscores, and hyphens" (SNS API reference, CreateTopic Name)
TOPIC_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TOPIC_ARN_RE = re.compile(
    r"^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"
)
# CloudWatch Logs LogGroupName: [\.\-_/#A-Za-z0-9]+, 1-512 (botocore logs model)
LOG_GROUP_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
# PutRetentionPolicy retentionInDays: the values the logs model's Days documentation lists
RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
# Budgets BudgetName: [^:\\]+, 1-100 (botocore budgets model)
BUDGET_NAME_RE = re.compile(r"^[^:\\]{1,100}$")
# A plain address check (local@domain.tld): Budgets accepts at most 10 e-mail subscribers per
# notification ("each notification can have one SNS subscriber and up to 10 email
# subscribers", CreateBudget NotificationsWithSubscribers).
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_EMAILS = 10
# "A budget can have up to five notifications" (CreateBudget NotificationsWithSubscribers)
MAX_NOTIFICATIONS = 5
# NotificationThreshold: max 15,000,000,000 (botocore budgets model); a percentage here
MAX_THRESHOLD = 1_000_000.0

DEFAULT_NAME = "ecrcache-pull-through-cache"


class BudgetConfig(StrictModel):
    """A monthly cost budget on ECR. Thresholds are percentages of ``limit_usd``."""

    name: str = "ecrcache-ecr-monthly"
    limit_usd: float = Field(gt=0)
    actual_percent: tuple[float, ...] = (80.0, 100.0)
    forecast_percent: tuple[float, ...] = (100.0,)
    emails: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not BUDGET_NAME_RE.match(v):
            raise Problem(f"{v!r} is not a budget name", "1-100 characters, no ':' or '\\'")
        return v

    @field_validator("actual_percent", "forecast_percent")
    @classmethod
    def _thresholds(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        for t in v:
            if not 0 < t <= MAX_THRESHOLD:
                raise Problem(
                    f"threshold {t:g}% is out of range",
                    f"a percentage of limit_usd above 0 and at most {MAX_THRESHOLD:,.0f}",
                )
        if len(set(v)) != len(v):
            raise Problem("a threshold is listed twice", "list each percentage once")
        return tuple(sorted(v))

    @field_validator("emails")
    @classmethod
    def _emails(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for e in v:
            if not EMAIL_RE.match(e):
                raise Problem(f"{e!r} is not an e-mail address", 'e.g. "ops@example.com"')
        if len(v) > MAX_EMAILS:
            raise Problem(
                f"{len(v)} e-mail addresses; Budgets allows {MAX_EMAILS} per notification",
                "send to a list address, or to the SNS topic",
            )
        return tuple(sorted(set(v)))

    @model_validator(mode="after")
    def _count(self) -> BudgetConfig:
        n = len(self.actual_percent) + len(self.forecast_percent)
        if n == 0:
            raise Problem("a budget with no threshold notifies nobody", "set actual_percent")
        if n > MAX_NOTIFICATIONS:
            raise Problem(
                f"{n} thresholds; Budgets allows {MAX_NOTIFICATIONS} notifications per budget",
                "drop some of actual_percent and forecast_percent",
            )
        return self


class MonitoringConfig(StrictModel):
    """What watches the cache. ``topic``: true for ecrcache's own SNS topic (named ``name``), an
    SNS topic ARN to use an existing one, false for none. ``log_retention_days``: a log group
    ``/aws/events/<name>`` with that retention, or none when absent."""

    name: str = DEFAULT_NAME
    events: Literal["failed", "all"] = "failed"
    topic: bool | str = True
    log_retention_days: int | None = None
    budget: BudgetConfig | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not RULE_NAME_RE.match(v) or not TOPIC_NAME_RE.match(v):
            raise Problem(
                f"{v!r} cannot name an EventBridge rule and an SNS topic",
                "1-64 letters, digits, '-' and '_'",
            )
        return v

    @field_validator("topic")
    @classmethod
    def _topic(cls, v: bool | str) -> bool | str:
        if isinstance(v, str) and not TOPIC_ARN_RE.match(v):
            raise Problem(
                f"{v!r} is not an SNS topic ARN",
                "arn:aws:sns:REGION:ACCOUNT:NAME, or true for ecrcache's own topic",
            )
        return v

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int | None) -> int | None:
        if v is not None and v not in RETENTION_DAYS:
            near = min(RETENTION_DAYS, key=lambda d: abs(d - v))
            raise Problem(
                f"CloudWatch Logs does not keep events for {v} days",
                f"one of {', '.join(map(str, RETENTION_DAYS))} (nearest: {near})",
            )
        return v

    @model_validator(mode="after")
    def _targets(self) -> MonitoringConfig:
        if self.topic is False and self.log_retention_days is None:
            raise Problem(
                "the event rule has no target: no topic and no log group",
                "set topic = true (or an SNS topic ARN), or log_retention_days = 30",
            )
        if self.budget is not None and self.topic is False and not self.budget.emails:
            raise Problem(
                "the budget notifies nobody: no topic and no e-mail addresses",
                'add emails = ["ops@example.com"] to [monitoring.budget], or a topic',
                subpath="budget",
            )
        return self

    @property
    def log_group(self) -> str | None:
        # /aws/events/: the prefix EventBridge's console uses for its log targets, and the one
        # its logs resource policy covers
        return None if self.log_retention_days is None else f"/aws/events/{self.name}"

    @property
    def owns_topic(self) -> bool:
        return self.topic is True

    def iam_resources(
        self, *, partition: str, region: str, account_id: str, everything: bool = False
    ) -> list[str]:
        """The ARNs ecrcache acts on (``everything``: every name the section could use, for a
        prune after it was removed), as IAM names them (Service Authorization Reference)."""
        at = f"{region}:{account_id}"
        out = [f"arn:{partition}:events:{at}:rule/{self.name}"]
        if self.owns_topic or everything:
            out.append(f"arn:{partition}:sns:{at}:{self.name}")
        group = self.log_group or (f"/aws/events/{self.name}" if everything else None)
        if group is not None:
            arn = f"arn:{partition}:logs:{at}:log-group:{group}"
            out += [arn, f"{arn}:*"]
        budget = self.budget.name if self.budget else None
        if budget is None and everything:
            budget = BudgetConfig.model_fields["name"].default
        if budget is not None:
            out.append(f"arn:{partition}:budgets::{account_id}:budget/{budget}")
        return out

    def topic_arn(self, *, partition: str, region: str, account_id: str) -> str | None:
        if isinstance(self.topic, str):
            return self.topic
        if self.topic:
            return f"arn:{partition}:sns:{region}:{account_id}:{self.name}"
        return None
