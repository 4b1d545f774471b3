"""Run a plan against the account: one handler per (kind, action), in the plan's order.

Handlers survive a lost response (AWS applied the call, botocore retried it): "already exists"
counts as done when the object read back is what the plan wanted, "already gone" counts as done,
and no retry creates a second object (``idempotent``). On a failure apply stops and the
ApplyError lists exactly what had been applied.

This module holds the runner, its context and report, and the dispatch table (``HANDLERS``);
the handlers live in ``handlers``, a module per resource kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecrcache import interrupts
from ecrcache.aws import Clients
from ecrcache.errors import ApplyError, CredentialSourceError, EcrcacheError, Interrupted
from ecrcache.reconcile.bounded import Stopped, run_bounded
from ecrcache.reconcile.handlers.iam import create_iam_policy, delete_iam_policy, update_iam_policy
from ecrcache.reconcile.handlers.monitoring import (
    create_budget,
    delete_budget,
    delete_event_rule,
    delete_log_group,
    delete_logs_policy,
    delete_topic,
    put_event_rule,
    put_log_group,
    put_logs_policy,
    put_topic,
    update_budget,
)
from ecrcache.reconcile.handlers.registry import put_registry_policy, update_scanning
from ecrcache.reconcile.handlers.repositories import (
    create_repository,
    delete_repository,
    update_repository,
    update_repository_settings,
)
from ecrcache.reconcile.handlers.rules import create_rule, delete_rule, replace_rule, update_rule
from ecrcache.reconcile.handlers.secrets import create_secret, delete_secret, update_secret
from ecrcache.reconcile.handlers.templates import create_template, delete_template, update_template
from ecrcache.reconcile.plan import Action, Change, Plan


@dataclass(frozen=True)
class Applied:
    address: str
    action: str


@dataclass
class ApplyContext:
    clients: Clients
    account_id: str
    region: str
    # secret name -> ARN, seeded from live state and updated as secrets are created
    secret_arns: dict[str, str] = field(default_factory=dict)
    on_event: Callable[[str, Change], None] = lambda event, change: None


@dataclass(frozen=True)
class ApplyReport:
    applied: tuple[Applied, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"applied": [{"address": a.address, "action": a.action} for a in self.applied]}


Handler = Callable[[ApplyContext, Change], None]


def run(plan: Plan, ctx: ApplyContext) -> ApplyReport:
    """Apply every change in order. Deletes come after creates (the plan sorts them so). A run
    of changes of a kind in ``POOLED`` (backfill's writes: one repository each, independent of
    each other) goes through the bounded pool (``bounded``); the rest one after another.

    Stops at the first failure or Ctrl-C, wherever it lands (in a handler, between changes,
    in the progress callback), with an error listing exactly the changes made; each is also
    recorded in the run's ledger (``interrupts.record_applied``) as soon as it is made.
    A plan holding a value apply does not have (``require_values``) is refused before the
    first change."""
    require_values(plan)
    done: list[Applied] = []
    changes = plan.changes
    current: Change | None = None  # the change whose handler is running, if one is
    i = 0
    try:
        while i < len(changes):
            change = changes[i]
            key = (change.kind, change.action)
            j = i + 1
            while key in POOLED and j < len(changes) and _key(changes[j]) == key:
                j += 1
            if j - i > 1:
                _run_pooled(changes[i:j], ctx, done)
            else:
                handler = HANDLERS[key]
                entry = Applied(change.address, change.action.value)
                current = change
                ctx.on_event("start", change)
                handler(ctx, change)
                done.append(entry)  # a C call right after the return: no interrupt lands between
                current = None
                interrupts.record_applied(f"{entry.action} {entry.address}")
                ctx.on_event("done", change)
            i = j
    except _PoolStopped as stop:
        raise stop.error from stop.error.__cause__
    except (EcrcacheError, KeyboardInterrupt) as exc:
        if current is not None:
            ctx.on_event("failed", current)
        raise _stopped(exc, current, done) from exc
    return ApplyReport(tuple(done))


def require_values(plan: Plan) -> None:
    """Refuse a plan with a value still unknown that apply cannot learn itself (a new secret
    whose token source has no value now), before any change: nothing is half-applied. Every
    value was read when the plan was made, so this is known before the first call."""
    missing = plan.missing_values()
    if not missing:
        return
    address, why = missing[0]
    kind, _, name = address.partition(".")
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    raise CredentialSourceError(
        f"{kind} {name} does not exist yet and its value is not available: {why}{more}",
        hint="run apply where the token source has the value (plan shows it as "
        "(known after apply) until then); nothing was changed",
    )


def _key(change: Change) -> tuple[str, Action]:
    return (change.kind, change.action)


class _PoolStopped(Exception):
    """The pool stopped: ``error`` is already the run's final error."""

    def __init__(self, error: EcrcacheError) -> None:
        super().__init__(error.message)
        self.error = error


def _run_pooled(changes: Sequence[Change], ctx: ApplyContext, done: list[Applied]) -> None:
    """Independent changes on the bounded pool; events are reported from this thread as each
    finishes. The first failure (or Ctrl-C) stops the rest: what finished counts as applied."""
    handler = HANDLERS[(changes[0].kind, changes[0].action)]
    _ = ctx.clients.ecr  # built here, once: cached_property is not thread-safe
    reported: set[int] = set()

    def finished(change: Change) -> None:
        reported.add(id(change))
        done.append(Applied(change.address, change.action.value))
        interrupts.record_applied(f"{change.action.value} {change.address}")
        ctx.on_event("start", change)
        ctx.on_event("done", change)

    try:
        run_bounded(lambda change: handler(ctx, change), changes, each=finished)
    except Stopped as stopped:
        for change in stopped.done:
            if id(change) not in reported:
                finished(change)
        exc = stopped.cause
        if not isinstance(exc, EcrcacheError | KeyboardInterrupt):
            raise exc from None  # a bug, not AWS: as it is
        at = stopped.item if isinstance(stopped.item, Change) else None
        if at is not None:
            ctx.on_event("failed", at)
        error = _stopped(exc, at, done)
        error.__cause__ = exc
        raise _PoolStopped(error) from None


def _stopped(
    exc: EcrcacheError | KeyboardInterrupt, current: Change | None, done: Sequence[Applied]
) -> EcrcacheError:
    """The error for a run stopped by ``exc``, in ``current``'s handler or (None) between two."""
    applied = tuple(f"{a.action} {a.address}" for a in done)
    first = f"{exc.hint}. " if isinstance(exc, EcrcacheError) and exc.hint else ""
    hint = interrupts.applied_hint(applied, before=first)
    if current is None:
        where = f"after {applied[-1]}" if applied else "before the first change"
        if isinstance(exc, KeyboardInterrupt):
            return Interrupted(f"apply interrupted {where}", hint=hint, applied=applied)
        return ApplyError(f"apply failed {where}: {exc.message}", hint=hint, applied=applied)
    address = f"{current.action.value} {current.address}"
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted(f"{address} interrupted", hint=hint, applied=applied)
    return ApplyError(f"{address} failed: {exc.message}", hint=hint, applied=applied)


# Kinds whose changes are independent, one repository each: applied on the bounded pool.
POOLED = frozenset({("repository-settings", Action.UPDATE)})

HANDLERS: dict[tuple[str, Action], Handler] = {
    ("secret", Action.CREATE): create_secret,
    ("secret", Action.UPDATE): update_secret,
    ("secret", Action.DELETE): delete_secret,
    ("rule", Action.CREATE): create_rule,
    ("rule", Action.UPDATE): update_rule,
    ("rule", Action.REPLACE): replace_rule,
    ("rule", Action.DELETE): delete_rule,
    ("iam-policy", Action.CREATE): create_iam_policy,
    ("iam-policy", Action.UPDATE): update_iam_policy,
    ("iam-policy", Action.DELETE): delete_iam_policy,
    ("template", Action.CREATE): create_template,
    ("template", Action.UPDATE): update_template,
    ("template", Action.DELETE): delete_template,
    ("repository", Action.CREATE): create_repository,
    ("repository", Action.UPDATE): update_repository,
    ("repository", Action.DELETE): delete_repository,
    ("repository-settings", Action.UPDATE): update_repository_settings,
    ("scanning", Action.UPDATE): update_scanning,
    ("registry-policy", Action.CREATE): put_registry_policy,
    ("registry-policy", Action.UPDATE): put_registry_policy,
    ("sns-topic", Action.CREATE): put_topic,
    ("sns-topic", Action.UPDATE): put_topic,
    ("sns-topic", Action.DELETE): delete_topic,
    ("log-group", Action.CREATE): put_log_group,
    ("log-group", Action.UPDATE): put_log_group,
    ("log-group", Action.DELETE): delete_log_group,
    ("logs-policy", Action.CREATE): put_logs_policy,
    ("logs-policy", Action.UPDATE): put_logs_policy,
    ("logs-policy", Action.DELETE): delete_logs_policy,
    ("event-rule", Action.CREATE): put_event_rule,
    ("event-rule", Action.UPDATE): put_event_rule,
    ("event-rule", Action.DELETE): delete_event_rule,
    ("budget", Action.CREATE): create_budget,
    ("budget", Action.UPDATE): update_budget,
    ("budget", Action.DELETE): delete_budget,
}
