"""What several commands share: loading the config, opening AWS (or the sandbox), printing."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from ecrcache.cli.options import GlobalOptions

if TYPE_CHECKING:
    from ecrcache.aws import Clients
    from ecrcache.config.schema import Config
    from ecrcache.config.targets import Target
    from ecrcache.rewrite.config_routes import Routes
    from ecrcache.rewrite.mapping import Mapping as CacheMapping

ACCOUNT_RE = re.compile(r"^[0-9]{12}$")


def options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def _target(opts: GlobalOptions) -> Target | None:
    """The target this command works on (``cli.targets.current_target``). Not imported when
    nothing can need it (rewrite's start-up): no --target, and no run across targets, which
    imports it first."""
    if not opts.targets and "ecrcache.cli.targets" not in sys.modules:
        return None
    from ecrcache.cli.targets import current_target

    return current_target(opts)


def load(opts: GlobalOptions) -> Config:
    from ecrcache.config.loading import load_config

    target = _target(opts)  # across [targets], or one --target: that target's config
    if target is not None:
        return target.config
    return load_config(opts.config_path)


def region_for(opts: GlobalOptions, config: Config | Routes | None) -> str:
    from ecrcache.errors import UsageError

    target = _target(opts)
    if target is not None:
        return target.region
    if opts.region:
        return opts.region
    if config is not None:
        return config.region
    raise UsageError("no region", hint="pass --region or set region in the config")


@contextmanager
def open_clients(opts: GlobalOptions, region: str) -> Iterator[Clients]:
    """Clients for the real account, or for the sandbox (saying so on stderr)."""
    from ecrcache.aws import Clients
    from ecrcache.cli.targets import active, for_target

    running = active()
    if running is not None:  # a target's clients (its role assumed), opened by the run
        yield running.clients()
        return
    if opts.sandbox:
        from ecrcache.render.console import note
        from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID, default_state_path, open_sandbox

        state = default_state_path()
        note(
            f"sandbox: simulated AWS account {SANDBOX_ACCOUNT_ID} in {region}; nothing leaves "
            f"this machine (state: {state}; reset with `ecrcache sandbox reset`)"
        )
        with open_sandbox(region=region, state_path=state) as session:
            yield for_target(opts, Clients(session, region, sandbox=True))
        return
    from ecrcache.aws import make_session
    from ecrcache.endpointurl import check_endpoint_url

    if os.environ.get("AWS_ENDPOINT_URL"):  # boto3 reads it itself; check it as the option
        check_endpoint_url(os.environ["AWS_ENDPOINT_URL"], option="AWS_ENDPOINT_URL")
    session = make_session(opts.profile, region)
    yield for_target(opts, Clients(session, region, endpoint_url=opts.endpoint_url))


def check_config_account(config: Config | None, clients: Clients) -> None:
    """Refuse (exit 3) credentials for another account than the config's ``account_id``; no
    AWS call when the config names none."""
    if config is None or config.account_id is None:
        return
    from ecrcache.reconcile.planning import check_account

    check_account(config, clients.account_id)


def emit_json(command: str, data: Mapping[str, Any], *, warnings: Sequence[str] = ()) -> None:
    from ecrcache.result import envelope, write_json

    write_json(envelope(command, data, warnings=warnings), sys.stdout)


def cache_mapping(
    opts: GlobalOptions, account_flag: str | None, *, config: Config | Routes | None = None
) -> CacheMapping:
    """Routes from the config (``config``, or loaded now; rewrite passes just the routing keys,
    ``config_routes``); registry host from account and region, STS only as a last resort."""
    from ecrcache.config.upstreams import registry_host
    from ecrcache.errors import UsageError
    from ecrcache.rewrite.mapping import Mapping, routes_from_rules

    if config is None or opts.targets:  # --target: that target's rules, not the file's top
        config = load(opts)
    region = region_for(opts, config)  # the config always names one
    account = account_flag or config.account_id or os.environ.get("AWS_ACCOUNT_ID")
    # a spoke's pulls go to the hub's registry, whatever its own account is
    account, region = config.registry_of(account or "", region)
    if not account:
        with open_clients(opts, region) as clients:
            account = clients.account_id
    if not ACCOUNT_RE.match(account):
        raise UsageError(f"{account!r} is not an AWS account ID", hint="12 digits")
    host = registry_host(account, region)
    return Mapping(routes_from_rules(config.rule_list), host)
