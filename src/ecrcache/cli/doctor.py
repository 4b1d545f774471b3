"""``ecrcache doctor``: named checks of the cache set-up, each failure with its fix.

Exit codes: 0 every check passed, warned or was skipped; 1 a check failed or crashed;
2 bad arguments (an unknown --check ID).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ecrcache.cli.app import app
from ecrcache.cli.common import emit_json, open_clients, options
from ecrcache.cli.helptext import command_help
from ecrcache.cli.options import GlobalOptions
from ecrcache.cli.targets import across_targets

if TYPE_CHECKING:
    from ecrcache.aws import Clients
    from ecrcache.config.schema import Config
    from ecrcache.doctor.context import Context
    from ecrcache.doctor.env import Env
    from ecrcache.doctor.model import Check
    from ecrcache.errors import EcrcacheError


@app.command("doctor", **command_help("doctor"))
def doctor(
    ctx: typer.Context,
    list_checks: bool = typer.Option(False, "--list-checks", help="List the checks and exit."),
    check: list[str] = typer.Option(
        [], "--check", metavar="ID", help="Run only this check or category (repeatable)."
    ),
    image: str | None = typer.Option(
        None, "--image", metavar="REF", help="Also check one image reference."
    ),
    root: Path = typer.Option(
        Path("/"), "--root", help="Read /etc/docker and /etc/containerd under this directory."
    ),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds for each network check."),
    node: bool = typer.Option(
        False, "--node", help="Check this node (or --root DIR) against the config instead."
    ),
    no_fallback: bool = typer.Option(
        False, "--no-fallback", help="With --node: the node must never fall back to upstreams."
    ),
) -> int:
    """Check credentials, rules, secrets, templates, IAM for first pulls, Docker and network."""
    across_targets(ctx, "doctor", doctor, locals())
    from ecrcache.doctor.checks import CHECKS
    from ecrcache.doctor.runner import run_checks, select

    checks = CHECKS
    if node:  # the node's files against the config; AWS only to learn a missing account_id
        from ecrcache.doctor.checks_node import CHECKS as checks

    opts = options(ctx)
    if list_checks:
        return _list(opts, checks)
    selected = select(checks, check, image=image is not None)
    config, config_error = _load(opts)
    region, region_source = _region(opts, config)
    aws_region = None if node and config is not None and config.account_id else region
    with _clients(opts, aws_region) as clients:
        env = _env(opts, config, config_error, clients, region, region_source, root)
        env.image, env.timeout = image, timeout
        env.root, env.no_fallback = root, no_fallback
        if clients is None and node and config is not None and config.account_id:
            env.context = _node_context(env.context, config.account_id)
        report = run_checks(checks, selected, env)
    if opts.json:
        emit_json("doctor", report.to_dict())
    else:
        from ecrcache.render.doctor import render_report

        render_report(report, sys.stdout, no_color=not opts.color)
    return 0 if report.healthy else 1


def _node_context(context: Context, account_id: str) -> Context:
    """doctor --node with the config's account_id: no AWS call, the account from the file."""
    from dataclasses import replace

    from ecrcache.config.upstreams import registry_host

    registry = f"https://{registry_host(account_id, context.region)}" if context.region else None
    return replace(
        context,
        account_id=account_id,
        caller_arn="config file account_id (no AWS call)",
        registry_url=registry,
    )


def _list(opts: GlobalOptions, checks: tuple[Check, ...]) -> int:
    if opts.json:
        emit_json("doctor", {"checks": [c.describe() for c in checks]})
    else:
        from ecrcache.render.doctor import render_check_list

        render_check_list(checks, sys.stdout, no_color=not opts.color)
    return 0


def _load(opts: GlobalOptions) -> tuple[Config | None, EcrcacheError | None]:
    from ecrcache.cli.common import load
    from ecrcache.errors import ConfigError

    try:
        return load(opts), None  # a target's own config across [targets]
    except ConfigError as exc:
        return None, exc


def _target_name() -> str | None:
    from ecrcache.cli.targets import active

    running = active()
    return running.target.name if running is not None else None


def _region(opts: GlobalOptions, config: Config | None) -> tuple[str | None, str]:
    from ecrcache.cli.targets import active

    running = active()
    if running is not None:
        return running.target.region, f"target {running.target.name}"
    if opts.region:
        return opts.region, "--region"
    if config is not None:
        return config.region, f"config file {opts.config_path}"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name):
            return os.environ[name], f"environment {name}"
    return None, "not set"


@contextmanager
def _clients(opts: GlobalOptions, region: str | None) -> Iterator[Clients | None]:
    if region is None:
        yield None
        return
    from ecrcache.doctor.context import doctor_clients

    with open_clients(opts, region) as clients:
        yield doctor_clients(clients)


def _hub_registry(config: Config | None, region: str | None) -> str | None:
    """A spoke's registry is the hub's (None: the caller's own, from its identity)."""
    if config is None or config.spoke is None or region is None:
        return None
    from ecrcache.config.upstreams import registry_host

    return f"https://{registry_host(*config.registry_of('', region))}"


def _env(
    opts: GlobalOptions,
    config: Config | None,
    config_error: EcrcacheError | None,
    clients: Clients | None,
    region: str | None,
    region_source: str,
    root: Path,
) -> Env:
    from ecrcache.cli.doctor_hub import hub_clients
    from ecrcache.doctor.context import build_context
    from ecrcache.doctor.env import Env, Live, MachinePaths
    from ecrcache.doctor.fixes import Commands
    from ecrcache.registry.dockerconfig import default_config_path

    live = Live(clients) if clients is not None else None
    hub, hub_unreadable = hub_clients(opts, config) if clients is not None else (None, None)
    context = build_context(
        clients=clients,
        live=live,
        region=region,
        region_source=region_source,
        profile=opts.profile,
        config_path=str(opts.config_path),
        registry_url=_hub_registry(config, region),
    )
    commands = Commands(
        region=region,
        profile=opts.profile,
        config_path=str(opts.config_path) if opts.config_explicit else None,
        sandbox=opts.sandbox,
        region_flag=opts.region,
        target=_target_name(),
    )
    paths = MachinePaths(
        docker_config=default_config_path(),
        daemon_json=root / "etc/docker/daemon.json",
        containerd_certs=root / "etc/containerd/certs.d",
        containerd_config=root / "etc/containerd/config.toml",
    )
    return Env(
        context=context,
        commands=commands,
        paths=paths,
        config=config,
        config_error=config_error,
        clients=clients,
        hub_clients=hub,
        hub_unreadable=hub_unreadable,
        _live=live,
    )
