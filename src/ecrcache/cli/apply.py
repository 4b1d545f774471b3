"""``ecrcache apply``: plan, show, confirm, reconcile."""

from __future__ import annotations

import sys

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, load, open_clients, options, region_for
from ecrcache.cli.helptext import command_help
from ecrcache.cli.prompts import ask_line
from ecrcache.cli.targets import across_targets
from ecrcache.errors import Cancelled, UnsafePlanError, UsageError


@app.command("apply", **command_help("apply"))
def apply(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    prune: bool = typer.Option(
        False,
        "--prune",
        help="Also delete what the config does not declare and ecrcache made: the secrets, "
        "empty application repositories, IAM policies and [monitoring] resources tagged "
        "managed-by=ecrcache, the repository creation templates marked [managed-by=ecrcache] "
        "in their description, and the pull-through cache rules holding a secret of "
        "ecrcache's (rules, repositories and policies need --force; repositories holding "
        "images also --delete-images). Anything else is listed, never deleted. Cached images "
        "are never deleted (see prune).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Allow deleting or replacing rules, and crossing thresholds."
    ),
    delete_images: bool = typer.Option(
        False,
        "--delete-images",
        help="With --prune: also delete application repositories that still hold images.",
    ),
    checksum: str | None = typer.Option(
        None, "--checksum", help="Refuse unless the plan's checksum is this one (from plan)."
    ),
) -> None:
    """Make the account match the config. Idempotent: a second apply changes nothing."""
    across_targets(ctx, "apply", apply, locals())
    from ecrcache.reconcile.apply import ApplyContext, require_values, run
    from ecrcache.reconcile.credentials import SourceReader
    from ecrcache.reconcile.planning import make_plan
    from ecrcache.render.console import apply_progress, note, render_plan, warn
    from ecrcache.render.progress import read_progress

    opts = options(ctx)
    config = load(opts)
    with open_clients(opts, region_for(opts, config)) as clients:
        with read_progress() as progress:
            result = make_plan(
                config,
                clients,
                reader=SourceReader(),
                prune=prune,
                delete_images=delete_images,
                progress=progress,
            )
        plan = result.plan
        doc = {"account_id": result.account_id, "region": result.region, **plan.to_dict()}
        for w in result.warnings:
            warn(w)
        if not opts.json:
            render_plan(
                doc,
                sys.stdout,
                account_id=result.account_id,
                region=result.region,
                no_color=opts.no_color,
            )
            for n in result.notes:
                note(n)
        require_values(plan)  # before the checksum and the prompt: nothing to confirm
        if checksum is not None and not plan.accepts_checksum(checksum):
            raise UnsafePlanError(
                "the plan changed since it was reviewed (checksum differs)",
                hint="run plan again, review it, and pass its new checksum",
            )
        unsafe = plan.unsafe_reasons(result.safety)
        if unsafe and not force:
            more = f" (and {len(unsafe) - 1} more)" if len(unsafe) > 1 else ""
            raise UnsafePlanError(
                f"refusing to apply: {unsafe[0]}{more}",
                hint="review the plan, then run apply again with --force",
            )
        if plan.empty:
            if opts.json:
                emit_json("apply", {**doc, "applied": []}, warnings=result.warnings + result.notes)
            return
        if not yes:
            if opts.json and sys.stdin.isatty():  # stdout is the envelope's: show it on stderr
                render_plan(
                    doc,
                    sys.stderr,
                    account_id=result.account_id,
                    region=result.region,
                    no_color=opts.no_color,
                )
            _confirm()
        with apply_progress(len(plan.changes), enabled=not opts.json) as on_event:
            report = run(
                plan,
                ApplyContext(
                    clients=clients,
                    account_id=result.account_id,
                    region=result.region,
                    secret_arns={s.name: s.arn for s in result.live.secrets.values() if s.arn},
                    on_event=on_event,
                ),
            )
    if opts.json:
        emit_json("apply", {**doc, **report.to_dict()}, warnings=result.warnings + result.notes)
        return
    s = plan.summary()
    sys.stdout.write(
        f"Apply complete: {s['add']} added, {s['change']} changed, {s['replace']} replaced, "
        f"{s['destroy']} destroyed.\n"
    )


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise UsageError(
            "apply needs confirmation, and standard input is not a terminal",
            hint="review with `ecrcache plan`, then run apply with --yes",
        )
    # On stderr, read by hand (cli/prompts.py): stdout holds the plan and nothing else.
    answer = ask_line("Apply these changes? Only 'yes' will be accepted: ") or ""  # "": ended
    if answer.strip() != "yes":
        raise Cancelled("Apply cancelled.", hint="nothing was changed")  # Terraform's words, exit 1
