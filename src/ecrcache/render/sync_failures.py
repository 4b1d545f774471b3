"""``status``'s table of pull-through cache sync failures (from [monitoring]'s log group)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from ecrcache import nextcommand
from ecrcache.cost.sync_failures import WINDOW_HOURS, SyncFailures
from ecrcache.render.console import _escape, console
from ecrcache.render.tables import Column, print_table


def render_sync_failures(
    failures: Sequence[SyncFailures] | None, out: TextIO, *, log_group: str, no_color: bool = False
) -> None:
    c = console(out, no_color=no_color)
    if failures is None:
        c.print(f"[yellow]sync failures:[/] log group {_escape(log_group)} does not exist yet")
        return
    if not failures:
        c.print(f"No pull-through cache sync failures in the last {WINDOW_HOURS} hours.")
        return
    columns = [
        Column(name, justify="right" if name == "failures" else "left")
        for name in ("prefix", "failures", "last", "upstream", "last failure")
    ]
    rows = []
    for f in failures:
        at = datetime.fromtimestamp(f.last_at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        rows.append(
            (
                _escape(f.prefix),
                str(f.count),
                at,
                _escape(f.upstream),
                _escape(f"{f.last_code}: {f.last_reason}" if f.last_reason else f.last_code),
            )
        )
    # a failure reason is long: never cut, one record per prefix when it does not fit
    print_table(
        c, columns, rows, title=f"Sync failures, last {WINDOW_HOURS} hours", show_edge=False
    )
    c.print(
        "[dim]an expired or wrong upstream token is the most common cause: "
        + nextcommand.for_run("`ecrcache doctor --check secret`")
        + "[/]"
    )
