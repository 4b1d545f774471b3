"""``ecrcache status``: per cache prefix, what is stored and whether it matches its template."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, open_clients, options, region_for
from ecrcache.cli.cost import applications, check_concurrency, load_optional, prefixes_of
from ecrcache.cli.helptext import command_help

if TYPE_CHECKING:
    from ecrcache.config.schema import Config


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
            },
        )
    else:
        render_status(lines, sys.stdout, region=region, no_color=opts.no_color)
    return 0
