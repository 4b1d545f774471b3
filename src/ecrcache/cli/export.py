"""``ecrcache export cloudformation``: the desired state as a CloudFormation template (offline)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, load, options, region_for
from ecrcache.cli.helptext import command_help
from ecrcache.cli.targets import across_targets

export_app = typer.Typer(
    help="Export the config to another engine (CloudFormation).",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


@export_app.command("cloudformation", **command_help("export cloudformation"))
def cloudformation(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="PATH",
        help="Write the template here, replacing it (default: standard output).",
    ),
) -> None:
    """The config as a CloudFormation template (YAML) for StackSets: one per region, any account."""
    across_targets(ctx, "export", cloudformation, locals())
    from ecrcache.export.cloudformation import cloudformation_template, to_yaml

    opts = options(ctx)
    config = load(opts)
    region = region_for(opts, config)
    template = cloudformation_template(config, region=region)
    parameters = sorted(template.get("Parameters", {}))
    if out is not None:
        from ecrcache.atomicfile import write_atomic

        # write_atomic's own FileWriteError says what is wrong (a missing directory included)
        write_atomic(out, to_yaml(template).encode("utf-8"), mode=0o644)
    if opts.json:
        data: dict[str, Any] = {
            "region": region,
            "out": str(out) if out else None,
            "parameters": parameters,
        }
        if out is None:  # the template itself is the JSON output
            data["template"] = template
        emit_json("export", data)
        return
    if out is None:
        sys.stdout.write(to_yaml(template))
    if parameters:
        from ecrcache.render.console import note

        note(
            "pass these parameters to the stack (secrets, never in the template): "
            + ", ".join(parameters)
        )
