"""``ecrcache import``: write a config from what exists in the account (reads only)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from ecrcache import nextcommand
from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, open_clients, options
from ecrcache.cli.helptext import command_help
from ecrcache.cli.options import GlobalOptions
from ecrcache.errors import UsageError


def import_region(opts: GlobalOptions) -> str:
    """--region, else (in the sandbox) the one region the sandbox holds a cache in, else
    AWS_REGION / AWS_DEFAULT_REGION: there is no config to read it from."""
    if opts.sandbox and not opts.region:
        from ecrcache.sandbox.regions import populated_regions

        held = populated_regions()
        if len(held) == 1:
            return held[0]
        if held:
            raise UsageError(
                f"the sandbox holds a cache in {len(held)} regions: {', '.join(held)}",
                hint=f"pass --region, e.g. `ecrcache import --sandbox --region {held[0]}`",
            )
    region = opts.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise UsageError(
            "no region to import from",
            hint="pass --region (e.g. --region af-south-1) or set AWS_REGION",
        )
    return region


def write_new(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` atomically; without ``force``, never over an existing file."""
    from ecrcache.atomicfile import write_atomic

    if path.exists() and not force:
        raise UsageError(f"{path} exists", hint="pass --force to overwrite it")
    try:
        # 0644: a config, not a secret (mkstemp's 0600 would surprise)
        write_atomic(path, text.encode("utf-8"), mode=0o644, replace=force)
    except FileExistsError:
        raise UsageError(f"{path} exists", hint="pass --force to overwrite it") from None


@app.command("import", **command_help("import"))
def import_(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, "--out", metavar="PATH", help="Write the config here (default: standard output)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    ci_policy_name: str = typer.Option(
        "ecrcache-ci", "--ci-policy-name", metavar="NAME", help="The CI IAM policy to look for."
    ),
) -> None:
    """Write a config from what exists in the account, so that plan with it is empty."""
    from ecrcache.reconcile.import_toml import to_toml
    from ecrcache.reconcile.importer import import_config
    from ecrcache.render.console import warn

    opts = options(ctx)
    region = import_region(opts)
    if out is not None and out.exists() and not force:
        raise UsageError(f"{out} exists", hint="pass --force to overwrite it")
    with open_clients(opts, region) as clients:
        result = import_config(clients, region=region, ci_policy_name=ci_policy_name)
        account_id = clients.account_id
    header = (
        f"Written by `ecrcache import` from account {account_id} in {region}.",
        nextcommand.for_run(
            "Check it with `ecrcache plan -c <this file>`: it should show no changes."
        ),
    )
    text = to_toml(result, header=header)
    if out is not None:
        write_new(out, text, force=force)
    if opts.json:
        emit_json(
            "import",
            {
                "account_id": account_id,
                "region": region,
                "path": str(out) if out is not None else None,
                "document": result.document,
            },
            warnings=result.notes,
        )
        return
    for note in result.notes:
        warn(note)
    if out is None:
        sys.stdout.write(text)
        return
    doc = result.document
    nouns = (("rules", "rule"), ("templates", "template"), ("repositories", "repository"))
    counts = ", ".join(
        f"{n} {key if n != 1 else one}" for key, one in nouns if (n := len(doc.get(key, {})))
    )
    parts = [counts] if counts else []
    parts += [k for k in ("scanning", "pullers", "ci_policy") if k in doc]
    sys.stdout.write(
        f"Wrote {out}: {', '.join(parts) or 'nothing ecrcache manages yet'}.\n"
        f"Check it: ecrcache plan -c {out} --detailed-exitcode\n"
    )
