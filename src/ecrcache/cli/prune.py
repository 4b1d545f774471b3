"""``ecrcache prune``: delete cached images not pulled for N days. A dry run unless ``--yes``."""

from __future__ import annotations

import sys

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import (
    check_config_account,
    emit_json,
    open_clients,
    options,
    region_for,
)
from ecrcache.cli.cost import applications, check_concurrency, load_optional, stale_days
from ecrcache.cli.helptext import command_help
from ecrcache.errors import EXIT_FAILURE, UnsafePlanError, UsageError


@app.command("prune", **command_help("prune"))
def prune(
    ctx: typer.Context,
    older_than: int | None = typer.Option(
        None, "--older-than", help="Not pulled for this many days (config: stale_after_days)."
    ),
    prefix: list[str] = typer.Option(
        [],
        "--prefix",
        metavar="PREFIX",
        help="Only these cache prefixes (repeatable; default: all).",
    ),
    repository: list[str] = typer.Option(
        [],
        "--repository",
        metavar="NAME",
        help="Also this repository, application ones too (repeatable).",
    ),
    whole_repositories: bool = typer.Option(
        False, "--whole-repositories", help="Delete a repository whose every image is stale."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete (the default is a dry run)."),
    force: bool = typer.Option(False, "--force", help="Delete past the --max-share threshold."),
    max_share: float = typer.Option(
        0.5, "--max-share", min=0.0, max=1.0, help="Refuse to delete more than this share."
    ),
    concurrency: int = typer.Option(10, "--concurrency", help="DescribeImages in flight (1-10)."),
) -> int:
    """Delete images under cache prefixes not pulled for N days (dry run unless --yes)."""
    from datetime import UTC, datetime

    from ecrcache.cost.inventory import list_repositories, read_images
    from ecrcache.cost.prune import plan_prune, run_prune
    from ecrcache.cost.report import APPLICATION, UNMANAGED, classify
    from ecrcache.reconcile.live_secrets import read_rules
    from ecrcache.render.cost import inventory_progress, render_prune_plan, render_prune_result

    opts = options(ctx)
    config = load_optional(opts)
    region = region_for(opts, config)
    apps = applications(config)
    days = stale_days(config, older_than)
    with open_clients(opts, region) as clients:
        check_config_account(config, clients)
        prefixes = [r.prefix for r in read_rules(clients, {})]
        _check_prefixes(prefix, prefixes)

        def in_scope(name: str) -> bool:
            where = classify(name, prefixes, apps)
            return name in repository or (
                where not in (APPLICATION, UNMANAGED) and (not prefix or where in prefix)
            )

        names = [n for n in list_repositories(clients) if in_scope(n)]
        with inventory_progress(enabled=not opts.json) as progress:
            repos = read_images(
                clients, names, concurrency=check_concurrency(concurrency), progress=progress
            )
        plan = plan_prune(
            repos,
            prefixes=prefixes,
            applications=apps,
            named=repository,
            only_prefixes=prefix,
            older_than_days=days,
            now=datetime.now(UTC),
            whole_repositories=whole_repositories,
        )
        unsafe = plan.unsafe_reason(max_share)
        if unsafe and not force and yes:
            raise UnsafePlanError(
                f"prune refused: {unsafe}",
                hint="check the plan (run without --yes), then add --force or raise --max-share",
            )
        result = run_prune(plan, clients) if yes else None
    if opts.json:
        emit_json(
            "prune",
            {
                "region": region,
                "dry_run": result is None,
                "needs_force": unsafe,
                "plan": plan.to_dict(),
                "result": None
                if result is None
                else {
                    "deleted_images": result.deleted_images,
                    "deleted_repositories": list(result.deleted_repositories),
                    "failures": list(result.failures),
                },
            },
        )
    else:
        render_prune_plan(plan, sys.stdout, dry_run=result is None, no_color=opts.no_color)
        if result is not None:
            render_prune_result(result, sys.stdout, no_color=opts.no_color)
        elif unsafe:
            from ecrcache.render.console import warn

            warn(f"--yes will need --force: {unsafe}")
    return EXIT_FAILURE if result is not None and result.failures else 0


def _check_prefixes(given: list[str], prefixes: list[str]) -> None:
    """``--prefix`` names a rule's prefix, or it is a mistake: a typo would prune nothing and
    look like success."""
    unknown = [p for p in dict.fromkeys(given) if p not in prefixes]
    if not unknown:
        return
    have = ", ".join(sorted(prefixes)) if prefixes else "none: the account has no rules"
    raise UsageError(
        f"--prefix {', '.join(unknown)}: no pull-through cache rule has "
        f"{'that prefix' if len(unknown) == 1 else 'these prefixes'} (rule prefixes: {have})",
        hint="pass a prefix of one of the rules, or drop --prefix for all of them",
    )
