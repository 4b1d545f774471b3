"""``ecrcache outputs``: registry URL, login command, pull prefixes with examples, CI policy ARN."""

from __future__ import annotations

import sys

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, load, open_clients, options, region_for
from ecrcache.cli.helptext import command_help
from ecrcache.cli.targets import across_targets


@app.command("outputs", **command_help("outputs"))
def outputs(ctx: typer.Context) -> None:
    """What people need to use the cache: registry, docker login, pull prefixes, CI policy."""
    across_targets(ctx, "outputs", outputs, locals())
    from ecrcache.reconcile.outputs import compute_outputs

    opts = options(ctx)
    config = load(opts)
    region = region_for(opts, config)
    account_id = config.account_id
    arn: str | None = None
    if account_id is None or config.ci_policy is not None:
        # AWS only for what the config does not say: who we are, and whether the policy exists.
        from ecrcache.reconcile.live_policies import read_iam_policies
        from ecrcache.reconcile.planning import check_account

        with open_clients(opts, region) as clients:
            account_id = clients.account_id
            check_account(config, account_id)
            if config.ci_policy is not None:
                found = read_iam_policies(clients, frozenset({config.ci_policy.name}))
                arn = found[0].arn if found else None
    result = compute_outputs(config, account_id=account_id, region=region, ci_policy_arn=arn)
    if opts.json:
        emit_json("outputs", result.to_dict())
        return
    from ecrcache.render.outputs import render_outputs

    render_outputs(result, sys.stdout, no_color=opts.no_color)
