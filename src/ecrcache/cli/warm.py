"""``ecrcache warm``: pull images through the cache ahead of need, and report each one.

Exit codes: 0 every image is in the cache (cached now or already), 1 any image failed (each
failure is in the report, the others still ran), 2 bad input (a malformed reference, a file
that is not YAML or a Dockerfile, nothing to warm); 3 the registry refused the credentials.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import (
    cache_mapping,
    check_config_account,
    emit_json,
    load,
    open_clients,
    options,
    region_for,
)
from ecrcache.cli.helptext import command_help
from ecrcache.cli.options import GlobalOptions
from ecrcache.errors import UsageError

if TYPE_CHECKING:
    from ecrcache.config.schema import Config
    from ecrcache.registry import Credentials, Platform
    from ecrcache.registry.warm import CacheInspector, WarmJob, WarmReport
    from ecrcache.rewrite.mapping import Mapping

MAX_CONCURRENCY = 16
BLOB_WORKERS = 4  # per image, as test-pull


@app.command("warm", **command_help("warm"))
def warm_command(
    ctx: typer.Context,
    args: list[str] | None = typer.Argument(
        None, metavar="REF... | PATH...", help="Image references, or files with --file."
    ),
    file: bool = typer.Option(
        False, "--file", "-f", help="The arguments are files or directories (as rewrite reads)."
    ),
    platform: list[str] | None = typer.Option(
        None, "--platform", help="os/arch[/variant] to warm (repeatable; default: every one)."
    ),
    concurrency: int = typer.Option(
        4, "--concurrency", help=f"Images pulled at a time (1-{MAX_CONCURRENCY})."
    ),
    registry_url: str | None = typer.Option(
        None,
        "--registry-url",
        hidden=True,
        help="Pull from this registry instead of ECR, mapping references through the config's "
        "rules (no ECR lookups); credentials as test-pull reads them.",
    ),
) -> int:
    """Pull images through the cache now: the ones given, or every one in the files."""
    from ecrcache.cli.testpull import _platform

    opts = options(ctx)
    if not args:
        raise UsageError("nothing to warm", hint="pass image references, or files with --file")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be 1 to {MAX_CONCURRENCY}")
    plats = tuple(dict.fromkeys(_platform(p) for p in platform or ()))
    config = load(opts)
    if registry_url:
        report = _on_registry(opts, config, registry_url, args, file, plats, concurrency)
    else:
        report = _through_ecr(opts, config, args, file, plats, concurrency)
    if opts.json:
        emit_json("warm", report.to_dict(), warnings=report.warnings)
    else:
        from ecrcache.render.console import warn
        from ecrcache.render.warm import render_warm

        for w in report.warnings:
            warn(w)
        render_warm(report, sys.stdout, no_color=not opts.color)
    return 1 if report.failed else 0


def _jobs(
    mapping: Mapping, args: list[str], file: bool, registry_url: str | None
) -> tuple[tuple[WarmJob, ...], tuple[str, ...]]:
    from ecrcache.registry.warm import jobs_from_files, jobs_from_references

    if not file:
        return jobs_from_references(args, mapping, registry_url=registry_url)
    jobs, warnings = jobs_from_files((Path(a) for a in args), mapping, registry_url=registry_url)
    if not jobs:
        warnings += (
            "no image references found in the files (as rewrite reads them): nothing to warm",
        )
    return jobs, warnings


def _through_ecr(
    opts: GlobalOptions,
    config: Config,
    args: list[str],
    file: bool,
    plats: tuple[Platform, ...],
    concurrency: int,
) -> WarmReport:
    from ecrcache.registry.warm import EcrInspector, simulate_images

    with open_clients(opts, region_for(opts, config)) as clients:
        check_config_account(config, clients)
        account = config.account_id or clients.account_id
        jobs, warnings = _jobs(cache_mapping(opts, account, config=config), args, file, None)
        inspector = EcrInspector(clients.ecr)
        if opts.sandbox:
            from ecrcache.render.warm import warm_progress

            with warm_progress(len(jobs), enabled=_progress(opts)) as on_done:
                simulated = simulate_images(
                    jobs,
                    inspector=inspector,
                    account_id=clients.account_id,
                    region=clients.region,
                    platforms=plats,
                    on_done=on_done,
                )
            return _with_warnings(simulated, warnings)
        from ecrcache.cli.testpull import _ecr_credentials

        credentials = _ecr_credentials(clients) if any(j.target for j in jobs) else None
        report = _pull(opts, jobs, credentials, inspector, plats, concurrency)
    return _with_warnings(report, warnings)


def _on_registry(
    opts: GlobalOptions,
    config: Config,
    registry_url: str,
    args: list[str],
    file: bool,
    plats: tuple[Platform, ...],
    concurrency: int,
) -> WarmReport:
    from ecrcache.cli.testpull import _env_credentials
    from ecrcache.registry.warm import NoInspector
    from ecrcache.rewrite.mapping import Mapping, routes_from_rules

    url = (registry_url if "://" in registry_url else f"https://{registry_url}").rstrip("/")
    mapping = Mapping(routes_from_rules(config.rule_list), urlsplit(url).netloc)
    jobs, warnings = _jobs(mapping, args, file, url)
    report = _pull(opts, jobs, _env_credentials(), NoInspector(), plats, concurrency)
    return _with_warnings(report, warnings)


def _pull(
    opts: GlobalOptions,
    jobs: tuple[WarmJob, ...],
    credentials: Credentials | None,
    inspector: CacheInspector,
    plats: tuple[Platform, ...],
    concurrency: int,
) -> WarmReport:
    from ecrcache.registry import RegistryClient
    from ecrcache.registry.warm import warm_images
    from ecrcache.render.warm import warm_progress

    with warm_progress(len(jobs), enabled=_progress(opts)) as on_done:
        return warm_images(
            jobs,
            client_factory=lambda url: RegistryClient(
                url, credentials=credentials, max_connections=concurrency * BLOB_WORKERS
            ),
            inspector=inspector,
            platforms=plats,
            concurrency=concurrency,
            blob_workers=BLOB_WORKERS,
            on_done=on_done,
        )


def _progress(opts: GlobalOptions) -> bool:
    """A progress bar only for a person watching: text output, stderr a terminal."""
    return not opts.json and sys.stderr.isatty()


def _with_warnings(report: WarmReport, warnings: tuple[str, ...]) -> WarmReport:
    from dataclasses import replace

    return replace(report, warnings=tuple(dict.fromkeys(warnings + report.warnings)))
