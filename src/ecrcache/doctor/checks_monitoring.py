"""The sync failures [monitoring]'s log group holds, pointed at the rules' credentials.

An expired or revoked upstream token is the most common reason ECR cannot sync: it shows up as
failed "ECR Pull Through Cache Action" events (ECR user guide, "Amazon ECR events and
EventBridge"), which the rule ecrcache declares writes to the log group.
"""

from __future__ import annotations

import time

from ecrcache.cost.sync_failures import WINDOW_HOURS, read_sync_failures
from ecrcache.doctor.env import Env
from ecrcache.doctor.model import (
    AWS_GATE,
    Finding,
    Fix,
    Need,
    Severity,
    check,
    passed,
    skipped,
    warning,
)
from ecrcache.doctor.secretfix import value_commands


@check(
    "secret.sync-failures",
    "No recent sync failures",
    Severity.WARNING,
    why="failed syncs are the only sign of an expired upstream token, an outage or a rate limit",
    needs=(Need.CONFIG, Need.AWS),
    after=AWS_GATE,
)
def sync_failures(env: Env) -> Finding:
    config = env.require_config()
    group = config.monitoring.log_group if config.monitoring is not None else None
    if group is None:
        return skipped("no [monitoring] log group to read failures from (log_retention_days)")
    assert env.clients is not None
    found = read_sync_failures(env.clients, group, now_ms=int(time.time() * 1000))
    if found is None:
        return skipped(f"log group {group} does not exist yet: run `ecrcache apply`")
    if not found:
        return passed(f"no failed sync in the last {WINDOW_HOURS} hours ({group})")
    lines = [
        f"{f.prefix}: {f.count} failed sync(s), last {f.last_code}: {f.last_reason} ({f.upstream})"
        for f in found
    ]
    secrets = sorted(
        {
            r.credentials.secret
            for r in config.rule_list
            if r.credentials and r.prefix in {f.prefix for f in found}
        }
    )
    fixes = [value_commands(env.commands, config, s, create=False) for s in secrets]
    summary = (
        "an expired or revoked upstream token is the most common cause: check the upstream "
        "credentials of these rules (`ecrcache doctor --check secret`); "
        + "; ".join(f.summary for f in fixes)
        if fixes
        else "these rules need no credentials: check the upstream's status and rate limits"
    )
    return warning(
        f"{sum(f.count for f in found)} failed sync(s) in the last {WINDOW_HOURS} hours",
        Fix(summary, tuple(dict.fromkeys(c for f in fixes for c in f.commands))),
        *lines,
    )


CHECKS = (sync_failures,)
