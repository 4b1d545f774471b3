"""``status``'s table of pulls per cached repository (CloudWatch, or lastRecordedPullTime)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from ecrcache.cost.pull_counts import PullCounts, RepositoryPulls
from ecrcache.render.console import _escape, console
from ecrcache.render.tables import Column, print_table
from ecrcache.render.words import counted

SHOWN = 30  # rows on a terminal; --output json lists every repository


def _day(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d") if at else "-"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at else "never"


def render_pull_counts(
    lines: Sequence[RepositoryPulls], counts: PullCounts, out: TextIO, *, no_color: bool = False
) -> None:
    c = console(out, no_color=no_color)
    if not lines:
        return
    shown = lines[:SHOWN]
    if counts.from_metric:
        columns = [
            Column("repository"),
            Column("prefix"),
            Column("pulls", "right"),
            Column("last pull (day)"),
            Column("recorded pull"),
        ]
        rows: list[tuple[str, ...]] = [
            (
                _escape(r.repository),
                _escape(r.prefix),
                str(r.pulls or 0),
                _day(r.last_pull_day),
                _when(r.last_recorded_pull),
            )
            for r in shown
        ]
        title = f"Pulls per repository, last {counted(counts.days, 'day')}"
    else:
        columns = [Column("repository"), Column("prefix"), Column("recorded pull")]
        rows = [
            (_escape(r.repository), _escape(r.prefix), _when(r.last_recorded_pull)) for r in shown
        ]
        title = "Last recorded pull per repository"
    print_table(c, columns, rows, title=title, show_edge=False)
    if len(lines) > SHOWN:
        more = counted(len(lines) - SHOWN, "more repository", "more repositories")
        c.print(f"[dim]{more}: --output json lists them all[/]")
    if counts.from_metric:
        c.print(f"[dim]{_escape(counts.note())}[/]")
    else:
        c.print(f"[yellow]pull counts:[/] {_escape(counts.note())}")
