"""``ecrcache status``: per cache prefix, what is stored and whether it matches its template."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import (
    check_config_account,
    emit_json,
    open_clients,
    options,
    region_for,
)
from ecrcache.cli.cost import applications, check_concurrency, load_optional, prefixes_of
from ecrcache.cli.helptext import command_help
from ecrcache.cli.targets import across_targets

if TYPE_CHECKING:
    from ecrcache.config.schema import Config

STATUS_PULL_DAYS = 7


def wanted_scanning(config: Config | None) -> dict[str, Any] | None:
    """The config's ``[scanning]`` in GetRegistryScanningConfiguration's shape, or None."""
    scanning = getattr(config, "scanning", None)
    if scanning is None:
        return None
    return {
        "scanType": scanning.type,
        "rules": [
            {
                "scanFrequency": rule.frequency,
                "repositoryFilters": [
                    {"filter": f, "filterType": "WILDCARD"} for f in rule.filters
                ],
            }
            for rule in scanning.rules
        ],
    }


@app.command("status", **command_help("status"))
def status(
    ctx: typer.Context,
    concurrency: int = typer.Option(10, "--concurrency", help="API calls in flight (1-10)."),
) -> int:
    """Cached repositories per upstream: images, size, pulls, template and scanning drift."""
    across_targets(ctx, "status", status, locals())
    from ecrcache.cost.inventory import read_inventory, read_lifecycle_policies, read_scanning
    from ecrcache.cost.report import APPLICATION, UNMANAGED, classify
    from ecrcache.cost.status import prefix_status
    from ecrcache.render.cost import inventory_progress, render_status

    opts = options(ctx)
    config = load_optional(opts)
    region = region_for(opts, config)
    apps = applications(config)
    n = check_concurrency(concurrency)
    with open_clients(opts, region) as clients:
        check_config_account(config, clients)
        with inventory_progress(enabled=not opts.json) as progress:
            inv = read_inventory(clients, concurrency=n, progress=progress)
        prefixes = prefixes_of(inv)
        cached = [
            r.name
            for r in inv.repositories
            if classify(r.name, prefixes, apps) not in (APPLICATION, UNMANAGED)
        ]
        policies = read_lifecycle_policies(clients, cached, concurrency=n)
        scanning = read_scanning(clients)
        log_group, failures = _sync_failures(clients, config)
        counts, pulls = _pulls(clients, inv.repositories, prefixes, apps)
    lines = prefix_status(
        inv.repositories,
        prefixes=prefixes,
        applications=apps,
        templates=inv.templates,
        repository_policies=policies,
        scanning=scanning,
        wanted_scanning=wanted_scanning(config),
    )
    if opts.json:
        emit_json(
            "status",
            {
                "region": region,
                "prefixes": [
                    {
                        "prefix": s.prefix,
                        "upstream": s.upstream,
                        "repositories": s.repositories,
                        "images": s.images,
                        "stored_bytes": s.stored_bytes,
                        "newest_pull": s.newest_pull.isoformat() if s.newest_pull else None,
                        "oldest_pull": s.oldest_pull.isoformat() if s.oldest_pull else None,
                        "never_pulled": s.never_pulled,
                        "template": s.template,
                        "lifecycle_matches": s.lifecycle_matches,
                        "lifecycle_differs": list(s.lifecycle_differs),
                        "scan_frequency": s.scan_frequency,
                        "scan_matches": s.scan_matches,
                        "scan_differs": list(s.scan_differs),
                    }
                    for s in lines
                ],
                "sync_failures": (None if failures is None else [f.to_dict() for f in failures]),
                "pulls": {**counts.to_dict(), "repositories": [p.to_dict() for p in pulls]},
            },
        )
    else:
        from ecrcache.render.pull_counts import render_pull_counts

        render_status(lines, sys.stdout, region=region, no_color=opts.no_color)
        render_pull_counts(pulls, counts, sys.stdout, no_color=opts.no_color)
        if log_group is not None:
            from ecrcache.render.sync_failures import render_sync_failures

            render_sync_failures(failures, sys.stdout, log_group=log_group, no_color=opts.no_color)
    return 0


def _sync_failures(clients: Any, config: Config | None) -> tuple[str | None, Any]:
    """[monitoring]'s log group and the sync failures of the last 24 hours in it (None: no
    log group declared, or not created yet)."""
    monitoring = getattr(config, "monitoring", None)
    log_group = monitoring.log_group if monitoring is not None else None
    if log_group is None:
        return None, None
    import time

    from ecrcache.cost.sync_failures import read_sync_failures

    return log_group, read_sync_failures(clients, log_group, now_ms=int(time.time() * 1000))


def _pulls(clients: Any, repositories: Any, prefixes: Any, apps: list[str]) -> tuple[Any, Any]:
    """Pulls per cached repository over the last 7 days, from CloudWatch's AWS/ECR
    RepositoryPullCount where ECR publishes it, else lastRecordedPullTime (and why)."""
    from datetime import UTC, datetime

    from ecrcache.cost.pull_counts import read_pull_counts, repository_pulls
    from ecrcache.cost.report import APPLICATION, UNMANAGED, classify

    prefix_of = {
        r.name: where
        for r in repositories
        if (where := classify(r.name, prefixes, apps)) not in (APPLICATION, UNMANAGED)
    }
    counts = read_pull_counts(
        clients, list(prefix_of), days=STATUS_PULL_DAYS, now=datetime.now(UTC)
    )
    return counts, repository_pulls(repositories, prefix_of, counts)
