"""``ecrcache cost-report``: storage and monthly cost per upstream and repository, what could go.

Also the helpers status and prune share: the config is optional for these read-mostly commands
(``--region`` is enough), and the cache's prefixes come from the live rules.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import (
    check_config_account,
    emit_json,
    load,
    open_clients,
    options,
    region_for,
)
from ecrcache.cli.helptext import command_help
from ecrcache.cli.options import GlobalOptions
from ecrcache.cli.targets import across_targets
from ecrcache.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from ecrcache.config.schema import Config
    from ecrcache.cost.inventory import Inventory
    from ecrcache.cost.pull_counts import PullCounts

DEFAULT_STALE_DAYS = 90


def load_optional(opts: GlobalOptions) -> Config | None:
    """The config if there is one; None when the default file is absent (``--region`` then)."""
    if not opts.config_explicit and not opts.config_path.exists():
        return None
    return load(opts)


def applications(config: Config | None) -> list[str]:
    """Application repository names: the keys of ``[repositories]`` (kept apart from the cache)."""
    return sorted(getattr(config, "repositories", None) or {})


def stale_days(config: Config | None, given: int | None) -> int:
    if given is not None:
        if given < 1:
            raise UsageError("--older-than/--stale-days must be at least 1")
        return given
    cost = getattr(config, "cost", None)
    return cost.stale_after_days if cost is not None else DEFAULT_STALE_DAYS


def prefixes_of(inventory: Inventory) -> dict[str, str]:
    """Live rule prefix -> upstream registry."""
    return {r.prefix: r.upstream for r in inventory.rules}


def check_concurrency(value: int) -> int:
    from ecrcache.cost.inventory import MAX_CONCURRENCY

    if not 1 <= value <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be 1 to {MAX_CONCURRENCY}")
    return value


@app.command("cost-report", **command_help("cost-report"))
def cost_report(
    ctx: typer.Context,
    top: int = typer.Option(10, "--top", min=1, help="How many repositories to list."),
    stale_after: int | None = typer.Option(
        None, "--stale-days", help="Not pulled for this many days is stale (config: 90)."
    ),
    actual: bool = typer.Option(
        False, "--actual", help="Add the billed ECR cost of the last 3 months (Cost Explorer)."
    ),
    fmt: str = typer.Option("text", "--format", help="text or csv (JSON: --output json)."),
    concurrency: int = typer.Option(
        10, "--concurrency", help="DescribeImages calls in flight (1-10)."
    ),
) -> int:
    """Storage and monthly cost per upstream and repository; stale and untagged images."""
    across_targets(ctx, "cost-report", cost_report, locals())
    from datetime import UTC, datetime

    from ecrcache.cost.document import docker_hub_lines, report_doc, write_csv
    from ecrcache.cost.explorer import actual_costs
    from ecrcache.cost.inventory import read_inventory
    from ecrcache.cost.pricing import prices_for
    from ecrcache.cost.report import cost_report as make_report
    from ecrcache.render.console import warn
    from ecrcache.render.cost import inventory_progress, render_cost_report

    opts = options(ctx)
    if fmt not in ("text", "csv"):
        raise UsageError("--format must be text or csv", hint="for JSON use --output json")
    config = load_optional(opts)
    region = region_for(opts, config)
    cost_cfg = getattr(config, "cost", None)
    try:
        prices = prices_for(
            region,
            overrides=cost_cfg.prices.as_dict() if cost_cfg else None,
            region_overrides={r: p.as_dict() for r, p in cost_cfg.region_prices.items()}
            if cost_cfg
            else None,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with open_clients(opts, region) as clients:
        check_config_account(config, clients)
        with inventory_progress(enabled=not opts.json and fmt == "text") as progress:
            inv = read_inventory(
                clients, concurrency=check_concurrency(concurrency), progress=progress
            )
        billed = actual_costs(clients, today=datetime.now(UTC).date()) if actual else None
        days = stale_days(config, stale_after)
        pulls = _metric_pulls(clients, inv, config, days=days, now=datetime.now(UTC))
    report = make_report(
        inv.repositories,
        prefixes=prefixes_of(inv),
        applications=applications(config),
        templates=inv.templates,
        prices=prices,
        now=datetime.now(UTC),
        stale_after_days=days,
        top=top,
        free_tier=bool(cost_cfg and cost_cfg.free_tier_500mb),
        repository_pulls=pulls.pulled_by() if pulls.from_metric else None,
        pull_source_note="" if pulls.from_metric else f"({pulls.reason})",
    )
    hub = [r.prefix for r in inv.rules if r.upstream == "docker-hub"]
    if opts.json:
        emit_json(
            "cost-report",
            report_doc(report, actual=billed, docker_hub_prefixes=hub),
            warnings=report.notes,
        )
    elif fmt == "csv":
        write_csv(report, sys.stdout, actual=billed)
        for note in report.notes:
            warn(note)
    else:
        render_cost_report(
            report,
            sys.stdout,
            actual=billed,
            docker_hub=docker_hub_lines(report, hub),
            no_color=opts.no_color,
        )
    return 0


def _metric_pulls(
    clients: object, inv: Inventory, config: Config | None, *, days: int, now: datetime
) -> PullCounts:
    """ECR's RepositoryPullCount for the cached repositories: one sum over the stale window
    (CloudWatch keeps it 455 days), which is all "stale" asks (was it pulled since?); or why
    there is none."""
    from ecrcache.cost.pull_counts import MAX_DAYS, PERIOD_S, read_pull_counts
    from ecrcache.cost.report import APPLICATION, UNMANAGED, classify

    prefixes, apps = prefixes_of(inv), applications(config)
    cached = [
        r.name
        for r in inv.repositories
        if classify(r.name, prefixes, apps) not in (APPLICATION, UNMANAGED)
    ]
    days = min(days, MAX_DAYS)
    return read_pull_counts(clients, cached, days=days, now=now, period_s=days * PERIOD_S)
