"""Terminal output of cost-report, status and prune, and the inventory progress bar (rich).

Renderers take a file-like ``out`` so tests render into a string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TextIO

from rich.console import Console
from rich.markup import escape as _escape

from ecrcache.cost.document import stale_source_line
from ecrcache.cost.explorer import MonthlyCost
from ecrcache.cost.pricing import GB
from ecrcache.cost.prune import PrunePlan, PruneResult
from ecrcache.cost.report import METHOD, PULL_TIME_NOTE, CostReport, Usage
from ecrcache.cost.status import PrefixStatus
from ecrcache.render.console import console, err_console
from ecrcache.render.tables import Column, print_table
from ecrcache.render.words import counted


def gb(n: int) -> str:
    return f"{n / GB:,.2f}"


def usd(x: float) -> str:
    return f"${x:,.2f}"


def when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d") if t is not None else "never"


@contextmanager
def inventory_progress(*, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (only on a terminal); yields inventory's progress callback."""
    c = err_console()
    if not enabled or not c.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("reading repositories"),
        BarColumn(),
        MofNCompleteColumn(),
        console=c,
        transient=True,
    ) as progress:
        task = progress.add_task("inventory", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield on_progress


def _usage_table(
    c: Console, title: str, first: str, second: str, rows: Sequence[tuple[str, str, Usage]]
) -> None:
    columns = [
        Column(first),
        Column(second),
        Column("repos", "right"),
        Column("images", "right"),
        Column("GB", "right"),
        Column("USD/month", "right"),
    ]
    cells = [
        (
            _escape(a),
            _escape(b),
            str(u.repositories),
            str(u.images),
            gb(u.total_bytes),
            usd(u.monthly_usd),
        )
        for a, b, u in rows
    ]
    print_table(c, columns, cells, title=title, show_edge=False)


def render_cost_report(
    report: CostReport,
    out: TextIO,
    *,
    actual: Sequence[MonthlyCost] | None = None,
    docker_hub: Sequence[str] = (),
    no_color: bool = False,
) -> None:
    c = console(out, no_color=no_color)
    p = report.prices
    c.print(f"[bold]ECR cache cost, {report.region}[/] ({report.generated_at:%Y-%m-%d %H:%M} UTC)")
    c.print(
        f"Prices: storage {usd(p.storage_gb_month)}/GB-month, archive {usd(p.archive_gb_month)}, "
        f"transfer same region {usd(p.transfer_same_region_gb)}/GB, cross-region "
        f"{usd(p.transfer_cross_region_gb)}/GB, internet {usd(p.transfer_internet_gb)}/GB"
    )
    c.print(f"[dim]{_escape(p.source)}[/]")
    c.print("")
    _usage_table(
        c,
        "Per upstream",
        "prefix",
        "upstream",
        [(ln.name, ln.group, ln.usage) for ln in report.per_prefix],
    )
    c.print("")
    _usage_table(
        c,
        f"Top {counted(len(report.top_repositories), 'repository', 'repositories')}",
        "repository",
        "prefix",
        [(ln.name, ln.group, ln.usage) for ln in report.top_repositories],
    )
    t = report.total
    c.print("")
    c.print(
        f"[bold]Total:[/] {counted(t.repositories, 'repository', 'repositories')}, "
        f"{counted(t.images, 'image')}, "
        f"{gb(t.total_bytes)} GB, {usd(t.monthly_usd)}/month"
    )
    if report.free_tier_credit_usd:
        c.print(
            f"Legacy free tier (500 MB-month): -{usd(report.free_tier_credit_usd)}, "
            f"net {usd(report.net_monthly_usd)}/month"
        )
    c.print("")
    c.print(
        "[bold]What could go[/] (cached images; stale = not pulled for "
        f"{counted(report.stale_after_days, 'day')}):"
    )
    for label, s in (
        ("stale", report.stale),
        ("untagged", report.untagged),
        ("stale or untagged", report.stale_or_untagged),
    ):
        c.print(
            f"  {label}: {counted(s.images, 'image')}, {gb(s.bytes)} GB, "
            f"saves {usd(s.monthly_usd)}/month"
        )
    c.print(f"  [dim]stale decided by: {_escape(stale_source_line(report))}[/]")
    if report.lifecycle:
        c.print(
            "[bold]Creation templates' lifecycle policies, if applied to today's repositories:[/]"
        )
    for w in report.lifecycle:
        if w.problem:
            c.print(f"  {_escape(w.template)}: cannot evaluate ({_escape(w.problem)})")
            continue
        moved = f"; archives {gb(w.transition_bytes)} GB" if w.transition_bytes else ""
        c.print(
            f"  {_escape(w.template)} ({counted(w.repositories, 'repository', 'repositories')}): "
            f"expires {counted(w.expire.images, 'image')}, {gb(w.expire.bytes)} GB, saves "
            f"{usd(w.expire.monthly_usd)}/month{moved}"
        )
    if actual is not None:
        c.print("")
        c.print("[bold]Billed ECR cost (Cost Explorer, whole account and region set):[/]")
        for m in actual:
            est = " (estimated)" if m.estimated else ""
            c.print(f"  {m.start[:7]}: {m.amount:,.2f} {m.unit}{est}")
        if not actual:
            c.print("  no data")
    c.print("")
    for line in docker_hub:
        c.print(f"[dim]{_escape(line)}[/]")
    c.print(f"[dim]How: {_escape(METHOD)} {_escape(PULL_TIME_NOTE)}[/]")
    for note in report.notes:
        c.print(f"[yellow]Note:[/] {_escape(note)}")


def render_status(
    lines: Sequence[PrefixStatus], out: TextIO, *, region: str, no_color: bool = False
) -> None:
    c = console(out, no_color=no_color)
    columns = [
        Column(name, "right" if name in ("repos", "images", "GB") else "left")
        for name in (
            "prefix",
            "upstream",
            "repos",
            "images",
            "GB",
            "newest pull",
            "oldest pull",
            "lifecycle",
            "scan",
        )
    ]
    rows = []
    for s in lines:
        if s.template is None:
            lc = "no template"
        elif s.lifecycle_matches:
            lc = f"matches {s.template}"
        else:
            lc = f"{len(s.lifecycle_differs)} differ from {s.template}"
        scan = s.scan_frequency + ("" if s.scan_matches else f" ({len(s.scan_differs)} differ)")
        rows.append(
            (
                _escape(s.prefix),
                _escape(s.upstream),
                str(s.repositories),
                str(s.images),
                gb(s.stored_bytes),
                when(s.newest_pull),
                when(s.oldest_pull),
                _escape(lc),
                _escape(scan),
            )
        )
    print_table(c, columns, rows, title=f"Pull-through cache in {region}", show_edge=False)
    for s in lines:
        for name in s.lifecycle_differs:
            c.print(
                f"[yellow]lifecycle differs:[/] {_escape(name)} "
                f"(template {_escape(s.template or '')})"
            )
        for name in s.scan_differs:
            c.print(f"[yellow]scanning differs from the config:[/] {_escape(name)}")
    c.print(f"[dim]{_escape(PULL_TIME_NOTE)}[/]")


def render_prune_plan(
    plan: PrunePlan, out: TextIO, *, dry_run: bool, no_color: bool = False
) -> None:
    c = console(out, no_color=no_color)
    if not plan.deletions:
        c.print(
            "Nothing to prune: no image in scope unused for "
            f"{counted(plan.older_than_days, 'day')}."
        )
        return
    verb = "would delete" if dry_run else "deletes"
    for d in plan.deletions:
        what = "the whole repository" if d.whole_repository else counted(d.images, "image")
        c.print(f"  [red]-[/] {_escape(d.repository)}: {what}, {gb(d.bytes)} GB")
    c.print(
        f"[bold]Prune {verb}[/] {plan.images} of {counted(plan.images_in_scope, 'image')} in scope "
        f"({gb(plan.bytes)} GB), "
        f"{counted(plan.repositories_deleted, 'whole repository', 'whole repositories')}; "
        f"unused for {counted(plan.older_than_days, 'day')}."
    )
    if dry_run:
        c.print("[dim]Dry run: nothing was deleted. Run again with --yes to delete.[/]")


def render_prune_result(result: PruneResult, out: TextIO, *, no_color: bool = False) -> None:
    c = console(out, no_color=no_color)
    c.print(
        f"Deleted {counted(result.deleted_images, 'image')} and "
        f"{counted(len(result.deleted_repositories), 'repository', 'repositories')}."
    )
    for f in result.failures:
        c.print(f"[red]not deleted:[/] {_escape(f)}")
