"""``status``'s table of pull-through cache sync failures (from [monitoring]'s log group)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from rich.table import Table

from ecrcache.cost.sync_failures import WINDOW_HOURS, SyncFailures
from ecrcache.render.console import _escape, console


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
    t = Table(
        title=f"Sync failures, last {WINDOW_HOURS} hours", title_justify="left", show_edge=False
    )
    for name in ("prefix", "failures", "last", "upstream", "last failure"):
        t.add_column(name, justify="right" if name == "failures" else "left")
    for f in failures:
        at = datetime.fromtimestamp(f.last_at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
        t.add_row(
            _escape(f.prefix),
            str(f.count),
            at,
            _escape(f.upstream),
            _escape(f"{f.last_code}: {f.last_reason}" if f.last_reason else f.last_code),
        )
    c.print(t)
    c.print(
        "[dim]an expired or wrong upstream token is the most common cause: "
        "`ecrcache doctor --check secret`[/]"
    )
