"""Frozen types of ``[monitoring]``'s resources, shared by desired and live state.

Policies and event patterns are canonical JSON text (sorted keys), so the diff is plain
comparison. ``tags`` are compared: ecrcache tags what it creates ``managed-by=ecrcache``, which
is also what lets a prune find them as its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecrcache.reconcile.resources import MANAGED_TAGS, Tags


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule on the default bus with its targets: (target id, ARN) pairs."""

    name: str
    pattern: str
    description: str = "ecrcache: ECR pull through cache sync events"
    state: str = "ENABLED"
    targets: tuple[tuple[str, str], ...] = ()
    tags: Tags = MANAGED_TAGS
    arn: str | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class Topic:
    """ecrcache's SNS topic, with the topic policy that lets EventBridge (and Budgets) publish."""

    name: str
    policy: str
    tags: Tags = MANAGED_TAGS
    arn: str | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class LogGroup:
    name: str
    retention_days: int | None
    tags: Tags = MANAGED_TAGS

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class LogsPolicy:
    """A CloudWatch Logs resource policy (account-wide, by name) letting EventBridge write."""

    name: str
    document: str

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class BudgetAlert:
    kind: str  # ACTUAL or FORECASTED
    threshold: float  # percent of the limit
    subscribers: tuple[tuple[str, str], ...]  # (EMAIL|SNS, address), sorted


@dataclass(frozen=True)
class Budget:
    """A monthly COST budget filtered to ECR, with its alerts."""

    name: str
    limit_usd: float
    filters: str
    alerts: tuple[BudgetAlert, ...] = ()
    tags: Tags = MANAGED_TAGS

    @property
    def key(self) -> str:
        return self.name
