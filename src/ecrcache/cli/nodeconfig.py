"""``ecrcache node-config``: what a node needs to pull through the cache under the images'
original names (containerd hosts.toml, its config, the kubelet credential provider), raw or
wrapped for AL2023, Bottlerocket or Karpenter. No AWS call when the config names account_id."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import ACCOUNT_RE, emit_json, load, open_clients, options, region_for
from ecrcache.cli.helptext import command_help


@app.command("node-config", **command_help("node-config"))
def node_config(
    ctx: typer.Context,
    node_type: str = typer.Option(
        "files",
        "--node-type",
        "-t",
        help="files, al2023, bottlerocket, karpenter-al2023 or karpenter-bottlerocket.",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write the files under this directory instead of printing them."
    ),
    no_fallback: bool = typer.Option(
        False, "--no-fallback", help="Never let containerd fall back to the upstream registry."
    ),
    containerd_config: int = typer.Option(
        3, "--containerd-config", help="containerd config version: 3 (containerd 2.x) or 2."
    ),
    account_id: str | None = typer.Option(
        None, "--account-id", help="Registry account (default: the config's account_id)."
    ),
    cluster: str = typer.Option(
        "my-cluster", "--cluster", help="Karpenter: the cluster named in role and selectors."
    ),
) -> None:
    """Containerd mirrors, config and kubelet credential provider for nodes, from the config."""
    from ecrcache.errors import UsageError
    from ecrcache.node.bundle import build_bundle

    opts = options(ctx)
    config = load(opts)
    region = region_for(opts, config)
    account = account_id or config.account_id or os.environ.get("AWS_ACCOUNT_ID")
    # a spoke's nodes pull from the hub's registry
    account, region = config.registry_of(account or "", region)
    if not account:
        with open_clients(opts, region) as clients:
            account = clients.account_id
    if not ACCOUNT_RE.match(account):
        raise UsageError(f"{account!r} is not an AWS account ID", hint="12 digits")
    bundle = build_bundle(
        config,
        account_id=account,
        region=region,
        node_type=node_type,
        no_fallback=no_fallback,
        containerd_config_version=containerd_config,
        cluster=cluster,
    )
    written: list[str] = []
    if out is not None:
        from ecrcache.atomicfile import write_atomic

        for f in bundle.files:
            target = out / f.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, f.content.encode(), mode=int(f.mode, 8))
            written.append(str(target))
    if opts.json:
        data = bundle.to_dict()
        data["written"] = written
        emit_json("node-config", data)
        return
    from ecrcache.render.nodeconfig import render_node_config

    render_node_config(bundle, sys.stdout, written=written, no_color=not opts.color)
