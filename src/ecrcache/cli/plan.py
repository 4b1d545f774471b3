"""``ecrcache plan``: diff the config against the live account."""

from __future__ import annotations

import sys

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, load, open_clients, options, region_for
from ecrcache.cli.helptext import command_help
from ecrcache.cli.targets import across_targets
from ecrcache.errors import EXIT_FAILURE, EcrcacheError

EXIT_CHANGES = 2  # Terraform's -detailed-exitcode: 0 no changes, 1 error, 2 changes


@app.command("plan", **command_help("plan"))
def plan(
    ctx: typer.Context,
    prune: bool = typer.Option(
        False,
        "--prune",
        help="Include deleting what the config does not declare and ecrcache made (see apply).",
    ),
    detailed_exitcode: bool = typer.Option(
        False, "--detailed-exitcode", help="Exit 0 with no changes, 1 on error, 2 with changes."
    ),
) -> int:
    """Show what apply would change in the account (reads only)."""
    across_targets(ctx, "plan", plan, locals())
    from ecrcache.reconcile.credentials import SourceReader
    from ecrcache.reconcile.planning import make_plan
    from ecrcache.render.console import note, render_plan, warn
    from ecrcache.render.progress import read_progress

    opts = options(ctx)
    try:
        config = load(opts)
        with open_clients(opts, region_for(opts, config)) as clients, read_progress() as progress:
            result = make_plan(
                config, clients, reader=SourceReader(), prune=prune, progress=progress
            )
    except EcrcacheError as exc:
        if detailed_exitcode:
            exc.exit_code = EXIT_FAILURE  # Terraform: every error is 1 under this flag
        raise
    doc = result.plan.to_dict()
    for w in result.warnings:
        warn(w)
    unsafe = result.plan.unsafe_reasons(result.safety)
    if opts.json:
        emit_json(
            "plan",
            {
                "account_id": result.account_id,
                "region": result.region,
                **doc,
                "needs_force": list(unsafe),
            },
            warnings=result.warnings + result.notes,
        )
    else:
        render_plan(
            doc,
            sys.stdout,
            account_id=result.account_id,
            region=result.region,
            no_color=opts.no_color,
        )
        for n in result.notes:
            note(n)
        if unsafe:
            warn(f"apply will need --force: {'; '.join(unsafe)}")
    if detailed_exitcode and not result.plan.empty:
        return EXIT_CHANGES
    return 0
