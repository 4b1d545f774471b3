"""What several commands share: loading the config, opening AWS (or the sandbox), printing."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from ecrcache.cli.options import GlobalOptions

if TYPE_CHECKING:
    from ecrcache.aws import Clients
    from ecrcache.config import Config


def options(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


def load(opts: GlobalOptions) -> Config:
    from ecrcache.config import load_config

    return load_config(opts.config_path)


def region_for(opts: GlobalOptions, config: Config | None) -> str:
    from ecrcache.errors import UsageError

    if opts.region:
        return opts.region
    if config is not None:
        return config.region
    raise UsageError("no region", hint="pass --region or set region in the config")


@contextmanager
def open_clients(opts: GlobalOptions, region: str) -> Iterator[Clients]:
    """Clients for the real account, or for the sandbox (saying so on stderr)."""
    from ecrcache.aws import Clients

    if opts.sandbox:
        from ecrcache.render import note
        from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID, default_state_path, open_sandbox

        state = default_state_path()
        note(
            f"sandbox: simulated AWS account {SANDBOX_ACCOUNT_ID} in {region}; nothing leaves "
            f"this machine (state: {state}; reset with `ecrcache sandbox reset`)"
        )
        with open_sandbox(region=region, state_path=state) as session:
            yield Clients(session, region, sandbox=True)
        return
    from ecrcache.aws import make_session

    yield Clients(make_session(opts.profile, region), region, endpoint_url=opts.endpoint_url)


def emit_json(command: str, data: Mapping[str, Any], *, warnings: Sequence[str] = ()) -> None:
    from ecrcache.result import envelope, write_json

    write_json(envelope(command, data, warnings=warnings), sys.stdout)
