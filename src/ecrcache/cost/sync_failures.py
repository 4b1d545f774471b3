"""Pull-through cache sync failures per rule prefix, from the events ``[monitoring]``'s log
group holds (pure, and the one read that fetches them).

Each log event is an EventBridge event as the rule delivered it (ECR user guide, "Amazon ECR
events and EventBridge", "Event for a pull through cache action"): ``detail`` carries
``sync-status``, ``ecr-repository-prefix``, ``upstream-registry-url``, ``failure-code`` and
``failure-reason``. Events that are not failed syncs (a rule with ``events = "all"``) and lines
that are not such events are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

WINDOW_HOURS = 24


@dataclass(frozen=True)
class SyncFailures:
    """The failed syncs of one rule prefix in the window; ``last_*`` from the newest one."""

    prefix: str
    count: int
    last_code: str
    last_reason: str
    upstream: str
    last_at_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "count": self.count,
            "last_failure_code": self.last_code,
            "last_failure_reason": self.last_reason,
            "upstream": self.upstream,
            "last_at_ms": self.last_at_ms,
        }


def summarise(events: Iterable[tuple[int, str]]) -> tuple[SyncFailures, ...]:
    """``events``: (timestamp in ms, message) pairs; one summary per prefix, by prefix."""
    by_prefix: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for at, message in events:
        try:
            event = json.loads(message)
        except ValueError:
            continue
        detail = event.get("detail") if isinstance(event, dict) else None
        if not isinstance(detail, dict) or detail.get("sync-status") != "FAILED":
            continue
        prefix = str(detail.get("ecr-repository-prefix") or "ROOT")
        by_prefix.setdefault(prefix, []).append((at, detail))
    out = []
    for prefix, items in sorted(by_prefix.items()):
        at, last = max(items, key=lambda item: item[0])
        out.append(
            SyncFailures(
                prefix=prefix,
                count=len(items),
                last_code=str(last.get("failure-code", "")),
                last_reason=str(last.get("failure-reason", "")),
                upstream=str(last.get("upstream-registry-url", "")),
                last_at_ms=at,
            )
        )
    return tuple(out)


def read_sync_failures(
    clients: Any, log_group: str, *, now_ms: int, hours: int = WINDOW_HOURS
) -> tuple[SyncFailures, ...] | None:
    """The failures of the last ``hours`` from ``log_group`` (FilterLogEvents, paged); None
    when the log group does not exist (not applied yet)."""
    from ecrcache.aws import aws_errors, error_code

    events: list[tuple[int, str]] = []
    with aws_errors(f"read sync failures from log group {log_group}"):
        try:
            pages = clients.logs.get_paginator("filter_log_events").paginate(
                logGroupName=log_group, startTime=now_ms - hours * 3_600_000, endTime=now_ms
            )
            for page in pages:
                events.extend((e["timestamp"], e["message"]) for e in page.get("events", []))
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
    return summarise(events)
