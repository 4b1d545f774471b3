"""``ecrcache validate``: check the config offline. No AWS call."""

from __future__ import annotations

import sys

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, load, options
from ecrcache.cli.helptext import command_help
from ecrcache.cli.targets import across_targets
from ecrcache.render.words import counted


@app.command("validate", **command_help("validate"))
def validate(ctx: typer.Context) -> None:
    """Check the config offline: schema, AWS naming rules, credential rules."""
    across_targets(ctx, "validate", validate, locals())
    opts = options(ctx)
    config = load(opts)
    rules = [
        {
            "prefix": r.prefix,
            "upstream": r.upstream,
            "url": r.resolved_url,
            "credentials": r.credentials.secret if r.credentials else None,
        }
        for r in config.rule_list
    ]
    warnings = config.warnings()
    if opts.json:
        emit_json(
            "validate",
            {"file": str(opts.config_path), "valid": True, "region": config.region, "rules": rules},
            warnings=warnings,
        )
        return
    from ecrcache.render.console import warn

    for w in warnings:
        warn(w)
    names = ", ".join(r["prefix"] or "" for r in rules) or "none"
    sys.stdout.write(
        f"{opts.config_path} is valid: {counted(len(rules), 'rule')} in {config.region} ({names})\n"
    )
